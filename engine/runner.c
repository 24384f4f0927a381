#include "runner.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "checkpoint.h"
#include "clock.h"
#include "delta.h"
#include "event.h"
#include "files.h"
#include "functions.h"
#include "keys.h"
#include "linereader.h"
#include "log.h"
#include "map.h"
#include "fence.h"
#include "pipeline.h"
#include "picture.h"
#include "policy.h"
#include "partkeys.h"
#include "replay.h"
#include "shared_feed.h"
#include "state.h"

#define HEARTBEAT_MS 5000

typedef struct runner {
    const ow_config *cfg;
    const ow_policy *policy;
    ow_clock_mode clock;
    redisContext *c;
    ow_state *model;
    ow_event ev;
    int64_t seq;
    bool dirty;
    int64_t last_publish_ms; /* last full snapshot broadcast */
    int64_t last_delta_ms;   /* last publish of any kind */
    int64_t last_checkpoint_ms;
    int64_t ckpt_bytes; /* the size of the last checkpoint written (or loaded), 0 = unknown */
    char last_id[OW_CHECKPOINT_CURSOR_MAX]; /* the last stream entry the model contains */
    char ack_id[OW_CHECKPOINT_CURSOR_MAX];  /* the last acknowledgement applied */
    char req_id[OW_CHECKPOINT_CURSOR_MAX];  /* the last order-detail request answered */
    int64_t bad_entries;
    cJSON *last_tree; /* the last published snapshot, the base of the next delta */
    ow_map written;   /* start-up only: alert ids already in the stream after the checkpoint */
    const ow_redis_env *env;
    ow_pipeline pl;       /* every command goes through it: writes pipelined, one read in flight */
    pid_t ckpt_pid;       /* background checkpoint writer, 0 = none */
    char maxlen_text[24]; /* streams.events_maxlen as text, for the alert streams' MAXLEN ~ */
    char alerts_id[OW_CHECKPOINT_CURSOR_MAX]; /* start-up: where the checkpoint's alerts end */
    ow_replay replay;                         /* OW_CLOCK_SPEED: the descriptor, once read */
    bool have_replay;
    ow_picture_cache cache;     /* the slow snapshot members (engine.analytics_interval) */
    int64_t last_slow_ms;       /* when they were last rebuilt (monotonic) */
    bool slow_dirty;            /* the model changed since */
    int64_t replay_read_ms;     /* when it was last looked for (monotonic) */
    ow_partkeys k;              /* the keys of the partition served (0 on a single node) */
    const ow_runner_part *part; /* a partition of a partitioned deployment, else NULL */
    bool read_waits;            /* the read in flight starts with a blocking XREAD (fenced) */
} runner;

/* Are this runner's commands fenced by its partition's lease (io/fence.h)? */
static bool fenced(const runner *r)
{
    return r->part && r->part->lease_token;
}

static redisContext *connect_redis(const runner *r, ow_err *err)
{
    return r->part ? r->part->connect(r->part->ud, err) : ow_redis_connect(r->env, err);
}

/* A partitioned deployment raises a flag about a region or a technician in one partition only
 * (every partition replicates the technicians; docs/scaling.md §4): the region's partition, the
 * technician's home (FNV-1a of its id). The model no longer raises the others (ow_policy
 * home_table); this keeps a checkpoint written before that from writing them. Flag ids are
 * "flag:<name>:<subject>:<n>". */
static bool flag_elsewhere(const runner *r, const char *id)
{
    if (!r->part || r->part->table->n <= 1 || strncmp(id, "flag:", 5) != 0) return false;
    const char *name = id + 5, *c1 = strchr(name, ':'), *last = strrchr(id, ':');
    if (!c1 || last <= c1) return false;
    char subject[OW_ALERT_ID_BUF];
    snprintf(subject, sizeof subject, "%.*s", (int)(last - c1 - 1), c1 + 1);
    size_t nl = (size_t)(c1 - name);
#define IS(s) (nl == sizeof s - 1 && memcmp(name, s, nl) == 0)
    int home;
    if (IS("stale_technician") || IS("overload"))
        home = (int)(ow_partition_hash(subject, strlen(subject)) % (uint32_t)r->part->table->n);
    else if (IS("surge") || IS("understaffed") || IS("backlog"))
        home = ow_partition_of(r->part->table, subject);
    else
        return false;
#undef IS
    return home != r->part->partition;
}

/* Decode one stream entry (fields ts, type, d) and apply it. */
static int apply_entry(runner *r, const redisReply *entry)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) return OW_EINVAL;
    /* a copy, not snprintf: this runs for every entry (a stream id is at most 41 bytes) */
    size_t idn =
        entry->element[0]->len < sizeof r->last_id ? entry->element[0]->len : sizeof r->last_id - 1;
    memcpy(r->last_id, entry->element[0]->str, idn);
    r->last_id[idn] = '\0';
    const redisReply *fields = entry->element[1];
    const redisReply *d = NULL;
    for (size_t i = 0; fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements; i += 2)
        if (strcmp(fields->element[i]->str, "d") == 0) d = fields->element[i + 1];
    ow_err err;
    if (r->part) { /* what one node had applied before this entry: technicians, the watermark */
        bool tick = false, changed = false;
        int rc = ow_shared_feed_before(r->part->shared, r->model, fields, &tick, &changed, &err);
        if (changed) r->dirty = true;
        if (rc) {
            ow_error("%s", err.msg);
            return rc;
        }
        if (tick) return OW_OK;
    }
    if (!d || d->type != REDIS_REPLY_STRING || ow_event_parse(d->str, d->len, &r->ev, &err)) {
        /* ingest validated it; a bad entry means someone wrote to the stream by hand */
        r->bad_entries++;
        ow_warn("stream entry %s skipped: %s", entry->element[0]->str, d ? err.msg : "no field d");
        return OW_OK;
    }
    int changed = ow_state_apply(r->model, &r->ev);
    if (changed < 0) return changed;
    if (changed) r->dirty = true;
    if (r->part && ow_shared_feed_after(r->part->shared, r->model, r->ev.ts_ms, &err))
        return OW_ENOMEM;
    return OW_OK;
}

/* The engine's now: the wall clock live, the latest event time in event-time mode, the replay
 * clock in an N× replay (the latest event time until its descriptor is known). */
static int64_t engine_now(const runner *r)
{
    if (r->clock == OW_CLOCK_WALL) return ow_clock_wall_ms();
    if (r->clock == OW_CLOCK_SPEED && r->have_replay)
        return ow_replay_now(&r->replay, ow_clock_wall_ms());
    return ow_state_totals_get(r->model)->last_event_ms;
}

/* N× replay: (re)read the descriptor the feeder wrote. A plain round trip: called only with no
 * read in flight, after the pipelined writes are settled. */
static int read_replay(runner *r, ow_err *err)
{
    if (r->clock != OW_CLOCK_SPEED) return OW_OK;
    int rc = ow_pipeline_settle(&r->pl, err);
    if (rc) return rc;
    r->replay_read_ms = ow_clock_mono_ms();
    redisReply *rep = redisCommand(r->c, "GET %s", r->k.replay);
    ow_replay rp;
    ow_err perr;
    if (rep && rep->type == REDIS_REPLY_STRING) {
        if (ow_replay_parse(rep->str, rep->len, &rp, &perr) == OW_OK) {
            if (!r->have_replay || memcmp(&rp, &r->replay, sizeof rp) != 0) r->dirty = true;
            r->replay = rp, r->have_replay = true;
        } else {
            ow_warn("%s: %s", r->k.replay, perr.msg);
        }
    }
    if (rep) freeReplyObject(rep);
    return OW_OK;
}

/* Skip the replies of the writes sent so far (alerts, publishes), reporting the first
 * error; no read may be in flight. */
static int settle(runner *r, ow_err *err)
{
    return ow_pipeline_settle(&r->pl, err);
}

/* Write the outbox, pipelined: each raise to ops:{p0}:alerts, resolves and acks to
 * ops:{p0}:alert_changes. (Which alerts are open is asked of the engine: answer_request.)
 * Exactly once without a Redis key per alert: after a restart the engine re-derives only what
 * came after its checkpoint, and the raises of that span already written by the run that died
 * are in r->written (read back from the stream at start-up), so they are skipped. */
static int flush_alerts(runner *r, ow_err *err)
{
    size_t n;
    const ow_alert *a = ow_state_outbox(r->model, &n);
    if (!n) return OW_OK;
    int rc = OW_OK;
    ow_jsonw w; /* one buffer for every alert of the batch: the pipeline copies each command */
    ow_jsonw_init(&w);
    bool wrote[2] = {false, false}; /* raises, changes */
    const char *stream_key[2] = {r->k.alerts, r->k.alert_changes};
    size_t stream_len[2] = {strlen(stream_key[0]), strlen(stream_key[1])};
    for (size_t i = 0; i < n; i++) {
        char id[OW_ALERT_ID_BUF];
        ow_alert_id(&a[i], id);
        if (a[i].op == OW_ALERT_RAISE && r->written.len && ow_map_get(&r->written, id)) continue;
        if (a[i].kind == OW_ALERT_FLAG && flag_elsewhere(r, id)) continue;
        const ow_ack *ack =
            a[i].op == OW_ALERT_ACK ? ow_acks_get(ow_state_acks(r->model), id) : NULL;
        ow_jsonw_reset(&w);
        ow_alert_write(&w, &a[i], ack, id);
        if (w.out.oom) {
            ow_jsonw_fini(&w);
            return ow_err_set(err, OW_ENOMEM, "out of memory");
        }
        /* argv form: no format string to parse, lengths known (this loop runs per alert). No
         * MAXLEN here: Redis would check the trim and rewrite two arguments for its AOF on every
         * alert (a quarter of an XADD's cost); the streams are trimmed once per batch below */
        int k = a[i].op == OW_ALERT_RAISE ? 0 : 1;
        wrote[k] = true;
        const char *xadd[] = {"XADD", stream_key[k], "*", "id", id, "d", w.out.p};
        size_t xlen[] = {4, stream_len[k], 1, 2, strlen(id), 1, w.out.n};
        ow_pipeline_write(&r->pl, 7, xadd, xlen);
    }
    for (int k = 0; k < 2; k++)
        if (wrote[k]) {
            const char *xtrim[] = {"XTRIM", stream_key[k], "MAXLEN", "~", r->maxlen_text};
            ow_pipeline_write(&r->pl, 5, xtrim, NULL);
        }
    ow_jsonw_fini(&w);
    ow_state_outbox_clear(r->model);
    r->dirty = true;
    (void)err;
    return rc;
}

/* The alerts written after the checkpoint (by a run that may have died): raising them again
 * must be skipped. Reads ops:{p0}:alerts after `after` ("-" = all of it). */
static int load_written(runner *r, const char *after, ow_err *err)
{
    char from[80] = "-";
    if (strcmp(after, "-") != 0) snprintf(from, sizeof from, "(%s", after);
    for (;;) {
        redisReply *rep = ow_redis_cmd(r->c, err, "XRANGE alerts", "XRANGE %s %s + COUNT 10000",
                                       r->k.alerts, from);
        if (!rep) return OW_EREDIS;
        size_t n = rep->type == REDIS_REPLY_ARRAY ? rep->elements : 0;
        for (size_t i = 0; i < n; i++) {
            const redisReply *e = rep->element[i], *f = e->element[1];
            if (f->type == REDIS_REPLY_ARRAY && f->elements >= 2 && f->element[1]->str &&
                ow_map_put(&r->written, f->element[1]->str, (void *)1)) {
                freeReplyObject(rep);
                return ow_err_set(err, OW_ENOMEM, "out of memory");
            }
        }
        if (n) snprintf(from, sizeof from, "(%s", rep->element[n - 1]->element[0]->str);
        freeReplyObject(rep);
        if (n < 10000) break;
    }
    if (r->written.len)
        ow_info("%zu alerts were written after the checkpoint: they will not be raised again",
                r->written.len);
    return OW_OK;
}

/* The id of the last entry of ops:{p0}:alerts, or "0-0". */
static void alerts_tail(runner *r, char *out, size_t n)
{
    snprintf(out, n, "0-0");
    redisReply *rep = redisCommand(r->c, "XREVRANGE %s + - COUNT 1", r->k.alerts);
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 1)
        snprintf(out, n, "%s", rep->element[0]->element[0]->str);
    if (rep) freeReplyObject(rep);
}

/* Publish: the full snapshot in ops:{p0}:snapshot and on ops:{p0}:live, and the delta from the
 * previous one on ops:{p0}:deltas (readers holding the previous snapshot apply it). */
static int publish(runner *r, int64_t now_ms, bool full, ow_err *err)
{
    int64_t mono = ow_clock_mono_ms();
    if (r->dirty) r->slow_dirty = true;
    ow_picture_opts o = {.stream_last = r->last_id,
                         .replay = r->clock == OW_CLOCK_SPEED && r->have_replay ? &r->replay : NULL,
                         .cache = &r->cache,
                         .refresh =
                             r->slow_dirty && mono - r->last_slow_ms >= r->cfg->engine.analytics_ms,
                         /* partitioned: the `part` member the feeds merge with */
                         .partition = r->part ? r->part->partition : 0,
                         .partitions = (int)r->cfg->cluster.partitions};
    /* the picture stays a tree until printed: the delta compares it with the previous tree, so
     * nothing is parsed back (its large members are raw text, compared as text) */
    cJSON *tree =
        ow_picture_build_tree(r->model, r->seq + 1, now_ms,
                              r->clock == OW_CLOCK_WALL ? OW_MODE_LIVE : OW_MODE_REPLAY, &o);
    char *snap = tree ? cJSON_PrintUnformatted(tree) : NULL;
    if (!snap) {
        cJSON_Delete(tree);
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    }
    if (o.refresh) r->last_slow_ms = mono, r->slow_dirty = false;
    char *delta = r->last_tree ? ow_delta_make_tree(r->last_tree, tree, NULL) : NULL;
    /* the stored snapshot is always the newest, so a reader that sees a gap in the deltas can
     * resync from it; the full snapshot is broadcast at most every publish_interval. Sent as
     * pipelined writes: an error surfaces at the next settle or receive. */
    const char *set[] = {"SET", r->k.snapshot, snap};
    ow_pipeline_write(&r->pl, 3, set, NULL);
    if (full || !delta) {
        const char *pub[] = {"PUBLISH", r->k.live, snap};
        ow_pipeline_write(&r->pl, 3, pub, NULL);
    }
    if (delta) {
        const char *pub[] = {"PUBLISH", r->k.deltas, delta};
        ow_pipeline_write(&r->pl, 3, pub, NULL);
    }
    free(delta);
    cJSON_free(snap);
    cJSON_Delete(r->last_tree);
    r->last_tree = tree;
    r->seq++;
    r->dirty = false;
    r->last_delta_ms = ow_clock_mono_ms();
    if (full || !delta) r->last_publish_ms = r->last_delta_ms;
    (void)err;
    return OW_OK;
}

/* Continue the sequence numbers of the previous run, so readers never see seq go backwards. */
static void restore_seq(runner *r)
{
    redisReply *rep = redisCommand(r->c, "GET %s", r->k.snapshot);
    ow_snapshot_view view;
    if (rep && rep->type == REDIS_REPLY_STRING &&
        ow_snapshot_parse(rep->str, rep->len, &view, NULL) == OW_OK)
        r->seq = view.seq;
    if (rep) freeReplyObject(rep);
}

/* The group's last-delivered id, creating the group (and the stream) when missing. */
static int group_position(runner *r, char *last_id, size_t n, ow_err *err)
{
    redisReply *rep =
        redisCommand(r->c, "XGROUP CREATE %s %s 0 MKSTREAM", r->k.events, r->cfg->engine.group);
    if (!rep) return ow_err_set(err, OW_EREDIS, "XGROUP CREATE: %s", r->c->errstr);
    if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "BUSYGROUP", 9) != 0) {
        ow_err_set(err, OW_EREDIS, "XGROUP CREATE: %s", rep->str);
        freeReplyObject(rep);
        return OW_EREDIS;
    }
    freeReplyObject(rep);
    rep = ow_redis_cmd(r->c, err, "XINFO GROUPS", "XINFO GROUPS %s", r->k.events);
    if (!rep) return OW_EREDIS;
    snprintf(last_id, n, "0-0");
    for (size_t g = 0; rep->type == REDIS_REPLY_ARRAY && g < rep->elements; g++) {
        const redisReply *info = rep->element[g];
        const char *name = NULL, *last = NULL;
        for (size_t i = 0; info->type == REDIS_REPLY_ARRAY && i + 1 < info->elements; i += 2) {
            const char *k = info->element[i]->str;
            if (!k) continue;
            if (strcmp(k, "name") == 0) name = info->element[i + 1]->str;
            if (strcmp(k, "last-delivered-id") == 0) last = info->element[i + 1]->str;
        }
        if (name && last && strcmp(name, r->cfg->engine.group) == 0)
            snprintf(last_id, n, "%s", last);
    }
    freeReplyObject(rep);
    return OW_OK;
}

/* Re-apply the stream from the start up to `upto` (inclusive). */
static int rebuild(runner *r, const char *after, const char *upto, ow_err *err)
{
    char from[80] = "-";
    if (strcmp(after, "-") != 0) snprintf(from, sizeof from, "(%s", after);
    int64_t count = 0;
    for (;;) {
        int src = settle(r, err);
        if (src) return src;
        redisReply *rep = ow_redis_cmd(r->c, err, "XRANGE", "XRANGE %s %s %s COUNT %lld",
                                       r->k.events, from, upto, (long long)r->cfg->engine.batch);
        if (!rep) return OW_EREDIS;
        size_t n = rep->type == REDIS_REPLY_ARRAY ? rep->elements : 0;
        int rc = OW_OK;
        for (size_t i = 0; i < n && !rc; i++) {
            rc = apply_entry(r, rep->element[i]);
            if (!rc && r->clock == OW_CLOCK_EVENT && ow_state_advance(r->model, engine_now(r)) < 0)
                rc = OW_ENOMEM;
        }
        if (n) snprintf(from, sizeof from, "(%s", rep->element[n - 1]->element[0]->str);
        freeReplyObject(rep);
        if (rc) return ow_err_set(err, rc, "rebuilding the model: out of memory");
        /* the run that died may have written some of these: flush skips those (r->written) */
        if ((rc = flush_alerts(r, err))) return rc;
        count += (int64_t)n;
        if (n < (size_t)r->cfg->engine.batch) break;
    }
    ow_info("model brought up to date with %lld stream entries after %s (up to %s)",
            (long long)count, after, upto);
    return OW_OK;
}

/* Replace the model with the saved one, if there is one; *cursor = its last entry, or "-". */
static int load_checkpoint(runner *r, char *cursor, ow_err *err)
{
    snprintf(cursor, OW_CHECKPOINT_CURSOR_MAX, "-");
    redisReply *rep = ow_redis_cmd(r->c, err, "GET checkpoint", "GET %s", r->k.checkpoint);
    if (!rep) return OW_EREDIS;
    if (rep->type == REDIS_REPLY_STRING) {
        ow_state *loaded = NULL;
        ow_err lerr;
        if (ow_checkpoint_load(r->policy, rep->str, rep->len, &loaded, cursor, &lerr) == OW_OK) {
            ow_state_free(r->model);
            r->model = loaded;
            ow_info("resumed from the checkpoint at %s (%zu bytes)", cursor, (size_t)rep->len);
            r->ckpt_bytes = (int64_t)rep->len;
        } else {
            /* not fatal: the stream is the source of truth; rebuild from its start */
            ow_warn("%s; rebuilding from the event stream instead", lerr.msg);
            snprintf(cursor, OW_CHECKPOINT_CURSOR_MAX, "-");
        }
    }
    freeReplyObject(rep);
    /* the cursor is "<last event entry> <last acknowledgement entry> <last alert entry>" */
    char *space = strchr(cursor, ' '), *space2 = space ? strchr(space + 1, ' ') : NULL;
    char *space3 = space2 ? strchr(space2 + 1, ' ') : NULL;
    if (r->part) /* the shared replica resumes where the checkpoint's model has it */
        ow_shared_feed_reset(r->part->shared, space3 ? space3 + 1 : NULL);
    if (space3) *space3 = '\0';
    snprintf(r->alerts_id, sizeof r->alerts_id, "%s", space2 ? space2 + 1 : "-");
    if (space2) *space2 = '\0';
    snprintf(r->ack_id, sizeof r->ack_id, "%s", space ? space + 1 : "0-0");
    if (space) *space = '\0';
    snprintf(r->last_id, sizeof r->last_id, "%s", strcmp(cursor, "-") ? cursor : "0-0");
    return OW_OK;
}

/* Serialise the model and SET it, on connection c. */
static int write_checkpoint(runner *r, redisContext *c, const char *cursor, ow_err *err)
{
    char *bytes;
    size_t len;
    int rc = ow_checkpoint_save(r->model, cursor, &bytes, &len, err);
    if (rc) return rc;
    redisReply *rep =
        fenced(r)
            ? ow_redis_cmd(c, err, "SET checkpoint", "FCALL %s 1 %s %s SET %s %b",
                           OW_FENCE_FUNCTION, r->part->lease_key, r->part->lease_token,
                           r->k.checkpoint, bytes, len)
            : ow_redis_cmd(c, err, "SET checkpoint", "SET %s %b", r->k.checkpoint, bytes, len);
    free(bytes);
    if (!rep) return OW_EREDIS;
    freeReplyObject(rep);
    return OW_OK;
}

/* Has the background checkpoint finished? Reaps it; logs a failure (the next one retries). A
 * success updates ckpt_bytes (one STRLEN: called with the pipeline settled). */
static bool checkpoint_idle(runner *r)
{
    if (r->ckpt_pid <= 0) return true;
    int status;
    pid_t w = waitpid(r->ckpt_pid, &status, WNOHANG);
    if (w == 0) return false;
    if (w == r->ckpt_pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        ow_warn("background checkpoint failed (status %d); the next one retries", status);
    } else {
        redisReply *rep = redisCommand(r->c, "STRLEN %s", r->k.checkpoint);
        if (rep && rep->type == REDIS_REPLY_INTEGER) r->ckpt_bytes = rep->integer;
        if (rep) freeReplyObject(rep);
    }
    r->ckpt_pid = 0;
    return true;
}

/* When the next checkpoint is due after the last (engine.checkpoint_interval, stretched when the
 * checkpoint is larger than engine.checkpoint_bytes: engine/checkpoint.h). */
static int64_t checkpoint_wait(const runner *r)
{
    return ow_checkpoint_wait_ms(r->cfg->engine.checkpoint_ms, r->cfg->engine.checkpoint_bytes,
                                 r->ckpt_bytes);
}

/* Save the model. In the background (fork: the child writes a copy-on-write image of the model,
 * as Redis's BGSAVE does) so serialising a large model never stalls consumption; or in the
 * foreground when stopping. The cursor is taken now, so the image and the cursor agree. */
static int save_checkpoint(runner *r, bool background, ow_err *err)
{
    int src = settle(r, err);
    if (src) return src;
    char cursor[OW_CHECKPOINT_CURSOR_MAX], alerts[64];
    if (background && !checkpoint_idle(r)) return OW_OK; /* the previous one is still writing */
    /* the previous one, now finished, may have turned out larger: not due yet */
    if (background && ow_clock_mono_ms() - r->last_checkpoint_ms < checkpoint_wait(r)) return OW_OK;
    alerts_tail(r, alerts, sizeof alerts);
    snprintf(cursor, sizeof cursor, "%.40s %.40s %.40s", r->last_id, r->ack_id, alerts);
    if (r->part) { /* the shared replica's position, a fourth field (stream ids are ~15 bytes) */
        char sc[OW_SHARED_CURSOR_MAX];
        ow_shared_feed_cursor(r->part->shared, sc, sizeof sc);
        size_t used = strlen(cursor);
        if (used + 1 + strlen(sc) >= sizeof cursor)
            return ow_err_set(err, OW_ETOOBIG,
                              "checkpoint cursor too long for the shared position");
        snprintf(cursor + used, sizeof cursor - used, " %s", sc);
    }
    r->last_checkpoint_ms = ow_clock_mono_ms();
    if (!background) {
        while (!checkpoint_idle(r))
            ow_sleep_ms(10);
        return write_checkpoint(r, r->c, cursor, err);
    }
    pid_t pid = fork();
    if (pid < 0) return write_checkpoint(r, r->c, cursor, err);
    if (pid == 0) {
        ow_err cerr;
        redisContext *c = connect_redis(r, &cerr);
        int rc = c ? write_checkpoint(r, c, cursor, &cerr) : OW_EREDIS;
        if (rc) fprintf(stderr, "engine checkpoint: %s\n", cerr.msg);
        _exit(rc ? 1 : 0); /* no atexit handlers, no shared connection teardown */
    }
    r->ckpt_pid = pid;
    return OW_OK;
}

/* Alerts are formatted into the pipeline every this many entries of a batch rather than at its
 * end, so Redis writes them while the rest of the batch is applied (ow_pipeline_write pushes). */
#define FLUSH_EVERY 64

/* Apply a batch of event entries and fire the crossings they bring, queueing their alerts as
 * they come. New entries were read with NOACK: nothing to acknowledge (why that is safe: the
 * comment of send_read). only_ack: entries left pending in the group by an engine that read
 * without NOACK (an older version); they are in the rebuilt model, so they are only XACKed. */
static int apply_batch(runner *r, const redisReply *entries, bool only_ack, ow_err *err)
{
    size_t n = entries ? entries->elements : 0;
    int rc = OW_OK;
    for (size_t i = 0; i < n && !only_ack; i++) {
        rc = apply_entry(r, entries->element[i]);
        /* each event is applied first, then every crossing up to now fires (DESIGN §4) */
        if (!rc && r->clock == OW_CLOCK_EVENT && ow_state_advance(r->model, engine_now(r)) < 0)
            rc = OW_ENOMEM;
        if (rc) return ow_err_set(err, rc, "applying events: out of memory");
        if (i % FLUSH_EVERY == FLUSH_EVERY - 1 && (rc = flush_alerts(r, err))) return rc;
    }
    if (!only_ack && r->clock != OW_CLOCK_EVENT && ow_state_advance(r->model, engine_now(r)) < 0)
        return ow_err_set(err, OW_ENOMEM, "applying events: out of memory");
    if ((rc = flush_alerts(r, err))) return rc;
    if (!n || !only_ack) return OW_OK;
    const char **argv = malloc((n + 3) * sizeof *argv);
    if (!argv) return ow_err_set(err, OW_ENOMEM, "out of memory");
    argv[0] = "XACK", argv[1] = r->k.events, argv[2] = r->cfg->engine.group;
    for (size_t i = 0; i < n; i++)
        argv[3 + i] = entries->element[i]->element[0]->str;
    ow_pipeline_write(&r->pl, (int)(n + 3), argv, NULL);
    free(argv);
    return OW_OK;
}

/* Value of field `name` in a stream entry's field list, or NULL. */
static const redisReply *entry_field(const redisReply *entry, const char *name)
{
    const redisReply *f = entry->element[1];
    for (size_t i = 0; f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2)
        if (f->element[i]->type == REDIS_REPLY_STRING && strcmp(f->element[i]->str, name) == 0 &&
            f->element[i + 1]->type == REDIS_REPLY_STRING)
            return f->element[i + 1];
    return NULL;
}

/* An acknowledgement written by the feed: id, by, note, at (ms). Unknown or already closed
 * alerts are logged and skipped: the feed checked them, so this is a race with resolution. */
static void apply_ack(runner *r, const redisReply *entry)
{
    const redisReply *id = entry_field(entry, "id"), *by = entry_field(entry, "by");
    const redisReply *note = entry_field(entry, "note"), *at = entry_field(entry, "at");
    ow_ack ack = {.at = at ? strtoll(at->str, NULL, 10) : ow_clock_wall_ms()};
    snprintf(ack.by, sizeof ack.by, "%s", by ? by->str : "?");
    snprintf(ack.note, sizeof ack.note, "%s", note ? note->str : "");
    ow_err err;
    if (!id || ow_state_ack(r->model, id->str, &ack, &err))
        ow_info("acknowledgement %s skipped: %s", entry->element[0]->str, id ? err.msg : "no id");
    else
        r->dirty = true;
}

static bool add_open_alert(const ow_alert *a, const ow_ack *ack, void *arg)
{
    char *json = ow_alert_format(a, ack);
    cJSON *item = json ? cJSON_Parse(json) : NULL;
    free(json);
    return item && cJSON_AddItemToArray(arg, item);
}

/* Answer a request from the requests stream:
 *   order_id=<id>        the order's detail JSON under ops:{p0}:order:<id> for a minute;
 *   query=open_alerts    every open alert, (at, id) order, under ops:{p0}:alerts:open for a minute.
 * Then a PUBLISH on ops:{p0}:order_ready (the order id, or "open_alerts") so the asker reads it. */
static int answer_request(runner *r, const redisReply *entry, ow_err *err)
{
    const redisReply *id = entry_field(entry, "order_id"), *query = entry_field(entry, "query");
    char *text = NULL;
    const char *key_tail, *ready;
    if (query && strcmp(query->str, "open_alerts") == 0) {
        cJSON *list = cJSON_CreateArray();
        if (list) ow_state_each_open_alert(r->model, add_open_alert, list);
        char *printed = list ? cJSON_PrintUnformatted(list) : NULL;
        text = printed ? strdup(printed) : NULL;
        cJSON_free(printed);
        cJSON_Delete(list);
        if (!text) return ow_err_set(err, OW_ENOMEM, "out of memory");
        key_tail = NULL, ready = "open_alerts";
    } else if (id) {
        text = ow_picture_order(r->model, id->str, engine_now(r));
        if (!text) text = strdup("{\"error\":\"no such order\"}");
        if (!text) return ow_err_set(err, OW_ENOMEM, "out of memory");
        key_tail = id->str, ready = id->str;
    } else {
        return OW_OK; /* nothing asked: ignored */
    }
    char key[OW_CHECKPOINT_CURSOR_MAX + 600];
    if (key_tail)
        snprintf(key, sizeof key, "%s%s", r->k.order_prefix, key_tail);
    else
        snprintf(key, sizeof key, "%s", r->k.alerts_open);
    /* pipelined: the PUBLISH is executed after the SET, so the asker finds the answer */
    const char *set[] = {"SET", key, text, "PX", "60000"};
    const char *pub[] = {"PUBLISH", r->k.order_ready, ready};
    ow_pipeline_write(&r->pl, 5, set, NULL);
    ow_pipeline_write(&r->pl, 3, pub, NULL);
    free(text);
    return OW_OK;
}

/* Acknowledgements and order requests: small side streams read with every batch of events
 * (so their latency is at most engine.block when idle). `rep` is the XREAD reply. */
static int apply_side(runner *r, const redisReply *rep, ow_err *err)
{
    int rc = OW_OK;
    for (size_t s = 0; rep->type == REDIS_REPLY_ARRAY && s < rep->elements && !rc; s++) {
        const redisReply *stream = rep->element[s];
        bool acks = strcmp(stream->element[0]->str, r->k.acks) == 0;
        const redisReply *entries = stream->element[1];
        for (size_t i = 0; i < entries->elements && !rc; i++) {
            const redisReply *e = entries->element[i];
            if (acks) {
                apply_ack(r, e);
                snprintf(r->ack_id, sizeof r->ack_id, "%s", e->element[0]->str);
            } else {
                rc = answer_request(r, e, err);
                snprintf(r->req_id, sizeof r->req_id, "%s", e->element[0]->str);
            }
        }
    }
    if (rep->type == REDIS_REPLY_ERROR)
        return ow_err_set(err, OW_EREDIS, "XREAD side streams: %s", rep->str);
    return rc ? rc : flush_alerts(r, err);
}

/* Queue the next read: the side streams and a batch of events ("0" = our pending entries,
 * ">" = new ones), answered together. block_ms < 0: do not block (more events are waiting).
 *
 * New entries are read with NOACK: the group keeps no pending-entries list for them. Recovery
 * never needed it: a restart re-applies the stream from the checkpoint's cursor up to the
 * group's last-delivered id (rebuild), and every entry ever delivered is at or before that id,
 * acknowledged or not; the alerts the dead run wrote after its checkpoint are read back and not
 * raised again (load_written). So an entry delivered but never applied (a kill between the read
 * and the apply) is re-applied by the rebuild exactly as a pending one was. What NOACK saves in
 * an alert storm: Redis's pending-list insert per entry, an XCLAIM per entry propagated to the
 * AOF (and replicas) and rewritten by every AOF rewrite, and the XACK: about a quarter of
 * Redis's CPU per event (docs/internals.md §2). */
static void send_read(runner *r, const char *id, int64_t block_ms)
{
    char count[24], block[24];
    snprintf(count, sizeof count, "%lld", (long long)r->cfg->engine.batch);
    snprintf(block, sizeof block, "%lld", (long long)(block_ms < 0 ? 0 : block_ms));
    /* fenced, the group read runs in a Function, which cannot block: wait with a plain XREAD
     * for an entry after the last one the model has (it changes nothing), then read */
    r->read_waits = fenced(r) && block_ms >= 0;
    if (r->read_waits) {
        const char *wait[] = {"XREAD", "BLOCK",   block,       "COUNT",
                              "1",     "STREAMS", r->k.events, r->last_id};
        ow_pipeline_read_raw(&r->pl, 8, wait, NULL);
        block_ms = -1;
    }
    const char *side[] = {"XREAD",   "COUNT",       "100",     "STREAMS",
                          r->k.acks, r->k.requests, r->ack_id, r->req_id};
    ow_pipeline_read_cmd(&r->pl, 8, side, NULL);
    const char *xrg[] = {"XREADGROUP",
                         "GROUP",
                         r->cfg->engine.group,
                         r->cfg->engine.consumer,
                         "COUNT",
                         count,
                         "STREAMS",
                         r->k.events,
                         id,
                         "BLOCK",
                         block,
                         "NOACK"};
    /* BLOCK and NOACK go before STREAMS on the wire; keep the array readable and reorder here */
    const char *argv[12] = {xrg[0], xrg[1], xrg[2], xrg[3], xrg[4], xrg[5]};
    int argc = 6;
    if (block_ms >= 0) argv[argc++] = xrg[9], argv[argc++] = xrg[10];
    if (strcmp(id, ">") == 0) argv[argc++] = xrg[11];
    argv[argc++] = xrg[6], argv[argc++] = xrg[7], argv[argc++] = xrg[8];
    ow_pipeline_read_cmd(&r->pl, argc, argv, NULL);
    ow_pipeline_read_end(&r->pl);
}

/* Receive the read in flight: side streams applied; *entries = the XREADGROUP reply's entries
 * (NULL when none), held by the pipeline until the next receive. */
static int receive_read(runner *r, const redisReply **entries, ow_err *err)
{
    /* a fenced read starts with the plain XREAD BLOCK that waited for it: its reply is skipped */
    redisReply *all[3] = {NULL, NULL, NULL}, **rep = all + r->read_waits;
    *entries = NULL;
    int rc = ow_pipeline_receive(&r->pl, all, 2 + r->read_waits, err);
    if (!rc) rc = apply_side(r, rep[0], err);
    if (!rc && rep[1]->type == REDIS_REPLY_ERROR)
        rc = ow_err_set(err, OW_EREDIS, "XREADGROUP: %s", rep[1]->str);
    if (rc) return rc;
    if (rep[1]->type == REDIS_REPLY_ARRAY && rep[1]->elements == 1)
        *entries = rep[1]->element[0]->element[1];
    return OW_OK;
}

/* Where the request stream ends now: requests older than this engine are not answered. */
static void requests_from_now(runner *r)
{
    snprintf(r->req_id, sizeof r->req_id, "0-0");
    redisReply *rep = redisCommand(r->c, "XREVRANGE %s + - COUNT 1", r->k.requests);
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 1)
        snprintf(r->req_id, sizeof r->req_id, "%s", rep->element[0]->element[0]->str);
    if (rep) freeReplyObject(rep);
}

static int session(runner *r, volatile sig_atomic_t *stop, ow_err *err)
{
    char last_id[64], cursor[OW_CHECKPOINT_CURSOR_MAX];
    int rc = group_position(r, last_id, sizeof last_id, err);
    if (rc) return rc;
    restore_seq(r);
    if ((rc = ow_functions_load(r->c, err))) return rc;
    if (fenced(r) && (rc = ow_fence_load(r->c, err))) return rc;
    if ((rc = load_checkpoint(r, cursor, err))) return rc;
    if ((rc = load_written(r, r->alerts_id, err))) return rc;
    if ((rc = rebuild(r, cursor, last_id, err))) return rc;
    if ((rc = settle(r, err))) return rc;
    requests_from_now(r);
    const redisReply *entries;
    size_t got;
    do { /* entries delivered to us before a restart are already in the rebuilt model; the side
          * streams bring the acknowledgements since the checkpoint */
        send_read(r, "0", -1);
        if ((rc = receive_read(r, &entries, err))) return rc;
        got = entries ? entries->elements : 0;
        rc = apply_batch(r, entries, true, err);
        if (!rc) rc = settle(r, err);
        if (rc) return rc;
    } while (got && !*stop);
    if ((rc = read_replay(r, err))) return rc;
    if (r->clock != OW_CLOCK_EVENT && ow_state_advance(r->model, engine_now(r)) < 0)
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    if ((rc = flush_alerts(r, err)) || (rc = settle(r, err))) return rc;
    /* from here on every raise is new: the run that died cannot have written it */
    ow_map_fini(&r->written);
    ow_map_init(&r->written);
    if ((rc = publish(r, engine_now(r), true, err))) return rc;
    ow_info("consuming %s as %s/%s", r->k.events, r->cfg->engine.group, r->cfg->engine.consumer);
    r->last_checkpoint_ms = ow_clock_mono_ms();
    while (!*stop) {
        if (!ow_pipeline_read_outstanding(&r->pl)) {
            int64_t block = r->cfg->engine.block_ms;
            if (r->clock != OW_CLOCK_EVENT) { /* wake for the next crossing even with no events */
                int64_t due = ow_state_next_due(r->model), now = ow_clock_wall_ms();
                if (due != OW_NEVER && r->clock == OW_CLOCK_SPEED)
                    due = r->have_replay ? ow_replay_wall_at(&r->replay, due) : OW_NEVER;
                if (due != OW_NEVER && due - now < block) block = due > now ? due - now : 1;
            }
            send_read(r, ">", block);
        }
        if ((rc = receive_read(r, &entries, err))) return rc;
        got = entries ? entries->elements : 0;
        /* with no read in flight: the N× replay descriptor (at most once a second) and the
         * checkpoint, which bounds how much a restart re-reads (engine.checkpoint_interval's
         * worth); both before this batch is applied, so the cursor is the model's last entry */
        if (r->clock == OW_CLOCK_SPEED && ow_clock_mono_ms() - r->replay_read_ms >= 1000)
            rc = read_replay(r, err);
        if (!rc && ow_clock_mono_ms() - r->last_checkpoint_ms >= checkpoint_wait(r))
            rc = save_checkpoint(r, true, err);
        if (rc) return rc;
        /* the replayed clock moves without events: the board shows it (and its progress) */
        if (r->clock == OW_CLOCK_SPEED && r->have_replay &&
            ow_clock_mono_ms() - r->last_delta_ms >= r->cfg->engine.publish_interval_ms)
            r->dirty = true;
        /* a full batch means more are waiting: ask for the next now, so Redis reads it (and
         * writes the previous alerts) while this batch is applied */
        if (got == (size_t)r->cfg->engine.batch) {
            send_read(r, ">", -1);
            rc = ow_pipeline_push(&r->pl, err);
        }
        if (!rc) rc = apply_batch(r, entries, false, err);
        if (rc) return rc;
        /* deltas as often as engine.delta_interval; the full snapshot at most every
         * engine.publish_interval; both only when something changed (and a heartbeat). While
         * catching up (the read came back full: more is waiting) deltas too go out only every
         * publish_interval: each picture would be outdated by the next batch, and in an alert
         * storm building, diffing and storing it every few batches cost a tenth of the engine
         * and of Redis (a 100 KB SET into the AOF each time) */
        int64_t mono = ow_clock_mono_ms(), since_full = mono - r->last_publish_ms;
        bool full = since_full >= r->cfg->engine.publish_interval_ms;
        int64_t every = r->cfg->engine.delta_interval_ms;
        if (got == (size_t)r->cfg->engine.batch && every < r->cfg->engine.publish_interval_ms)
            every = r->cfg->engine.publish_interval_ms;
        /* a change sent only as a delta is broadcast in full within publish_interval too, so
         * readers of ops:{p0}:live never hold a stale picture while the engine is quiet */
        if ((r->dirty && mono - r->last_delta_ms >= every) ||
            (r->last_delta_ms > r->last_publish_ms && full) || since_full >= HEARTBEAT_MS ||
            (r->slow_dirty && mono - r->last_slow_ms >= r->cfg->engine.analytics_ms))
            if ((rc = publish(r, engine_now(r), full, err))) return rc;
        /* what the socket takes now; the rest goes with the next read (ow_pipeline_receive) */
        if ((rc = ow_pipeline_push(&r->pl, err))) return rc;
    }
    /* a batch asked for ahead is delivered but not applied: the next run's rebuild re-reads it
     * (it is after the checkpoint's cursor and up to the group's last-delivered entry) */
    if (ow_pipeline_read_outstanding(&r->pl) && (rc = receive_read(r, &entries, err))) return rc;
    return save_checkpoint(r, false, err); /* a clean stop resumes with nothing to re-read */
}

int ow_runner_run(const ow_config *cfg, const ow_redis_env *env, ow_clock_mode clock,
                  volatile sig_atomic_t *stop)
{
    return ow_runner_run_part(cfg, env, clock, stop, NULL);
}

int ow_runner_run_part(const ow_config *cfg, const ow_redis_env *env, ow_clock_mode clock,
                       volatile sig_atomic_t *stop, const ow_runner_part *part)
{
    ow_policy policy;
    ow_policy_from_config(&policy, cfg);
    ow_regions *city = NULL;
    ow_err cerr;
    ow_tz *zone = NULL;
    if (ow_city_load(cfg, &city, &cerr) || ow_zone_load(cfg, &zone, &cerr)) {
        ow_error("%s", cerr.msg);
        ow_regions_free(city);
        return 1;
    }
    policy.city = city;
    policy.tz = zone;
    if (part && part->table->n > 1) {
        policy.home_table = part->table;
        policy.home_partition = part->partition;
    }
    runner r = {.cfg = cfg, .policy = &policy, .clock = clock, .env = env, .part = part};
    ow_partkeys_init(&r.k, part ? part->partition : 0);
    snprintf(r.maxlen_text, sizeof r.maxlen_text, "%lld", (long long)cfg->streams.events_maxlen);
    ow_map_init(&r.written);
    int64_t backoff = 100;
    while (!*stop) {
        ow_err err;
        r.c = connect_redis(&r, &err);
        if (r.c) {
            ow_pipeline_init(&r.pl, r.c);
            if (part && part->lease_token)
                ow_pipeline_fence(&r.pl, part->lease_key, part->lease_token);
            r.model = ow_state_new(&policy);
            if (!r.model) {
                redisFree(r.c);
                ow_regions_free(city);
                ow_tz_free(zone);
                ow_error("out of memory");
                return 1;
            }
            r.dirty = false;
            int rc = session(&r, stop, &err);
            ow_state_free(r.model);
            r.model = NULL;
            cJSON_Delete(r.last_tree);
            r.last_tree = NULL;
            ow_picture_cache_fini(&r.cache);
            r.slow_dirty = false;
            ow_map_fini(&r.written);
            ow_pipeline_fini(&r.pl);
            redisFree(r.c);
            r.c = NULL;
            if (rc == OW_ENOMEM) {
                ow_regions_free(city);
                ow_tz_free(zone);
                ow_error("%s", err.msg);
                return 1;
            }
            if (rc && part && ow_fence_refused(err.msg)) { /* another engine holds it: stop now */
                ow_regions_free(city);
                ow_warn("partition %d: %s; stopping", part->partition, err.msg);
                return OW_RUNNER_FENCED;
            }
            if (!rc) break;
            backoff = 100;
        }
        if (*stop) break;
        ow_warn("%s; retrying in %lld ms", err.msg, (long long)backoff);
        for (int64_t waited = 0; waited < backoff && !*stop; waited += 50)
            ow_sleep_ms(50);
        backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
    }
    ow_regions_free(city);
    ow_tz_free(zone);
    return 0;
}

int ow_runner_replay_file(const ow_config *cfg, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        ow_error("%s: cannot open", path);
        return 1;
    }
    ow_policy policy;
    ow_policy_from_config(&policy, cfg);
    ow_regions *city = NULL;
    ow_err cerr;
    ow_tz *zone = NULL;
    if (ow_city_load(cfg, &city, &cerr) || ow_zone_load(cfg, &zone, &cerr)) {
        ow_error("%s", cerr.msg);
        ow_regions_free(city);
        if (f != stdin) fclose(f);
        return 1;
    }
    policy.city = city;
    policy.tz = zone;
    ow_linereader lr;
    ow_state *m = ow_state_new(&policy);
    ow_event *ev = malloc(sizeof *ev);
    int status = 1;
    bool lr_ok = false;
    if (!m || !ev || ow_linereader_init(&lr, f, OW_EVENT_MAX_BYTES)) {
        ow_error("out of memory");
        goto out;
    }
    lr_ok = true;
    size_t len, total, nalerts = 0;
    int64_t bad = 0;
    printf("{\"alerts\":[");
    while (ow_linereader_next(&lr, &len, &total)) {
        if (total == 0) continue;
        ow_err err;
        if (total > len || ow_event_parse(lr.buf, len, ev, &err)) {
            bad++;
            ow_warn("%s: line %lld: %s", path, (long long)lr.lineno,
                    total > len ? "event larger than 64 KiB" : err.msg);
            continue;
        }
        /* replay: now is the latest event time; apply, then fire every crossing up to now */
        if (ow_state_apply(m, ev) < 0 ||
            ow_state_advance(m, ow_state_totals_get(m)->last_event_ms) < 0) {
            ow_error("out of memory");
            goto out;
        }
        size_t n;
        const ow_alert *a = ow_state_outbox(m, &n);
        for (size_t i = 0; i < n; i++) {
            if (a[i].op != OW_ALERT_RAISE) continue;
            char *json = ow_alert_format(&a[i], NULL);
            if (!json) goto out;
            printf("%s\n%s", nalerts++ ? "," : "", json);
            free(json);
        }
        ow_state_outbox_clear(m);
    }
    const ow_state_totals *st = ow_state_totals_get(m);
    char *snap = ow_picture_snapshot(m, 1, st->last_event_ms, OW_MODE_REPLAY);
    if (snap) {
        printf("],\n\"snapshot\":%s}\n", snap);
        free(snap);
        status = 0;
    }
    if (bad) ow_warn("%lld lines skipped", (long long)bad);
out:
    if (lr_ok) ow_linereader_fini(&lr);
    free(ev);
    ow_state_free(m);
    ow_regions_free(city);
    ow_tz_free(zone);
    if (f != stdin) fclose(f);
    return status;
}

#include "source.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "delta.h"
#include "files.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "cluster.h"
#include "partials.h"

#define SNAPSHOT_MAX_BYTES (16 * 1024 * 1024)
#define REFRESH_MS         1000 /* GET the key at least this often (a quiet delta channel, heartbeats) */

/* What one read found. */
typedef enum {
    READ_NEW,       /* a new valid snapshot in `view` */
    READ_SAME,      /* the same text as last time */
    READ_NONE,      /* reachable, but no snapshot there yet */
    READ_BAD,       /* reachable, but the snapshot did not parse: keep the last one */
    READ_LINK_DOWN, /* Redis unreachable / file unreadable */
} read_result;

struct ow_source {
    bool is_file;
    char path[PATH_MAX];
    ow_redis_env env;
    int64_t poll_ms;

    /* worker-owned (or caller-owned in ow_source_fetch mode) */
    redisContext *redis; /* commands: GET the snapshot key */
    redisContext *sub;   /* SUBSCRIBE OW_CHAN_DELTAS */
    cJSON *tree;         /* the snapshot held, with the deltas applied */
    int64_t tree_seq;
    bool resync;         /* a gap in the deltas: GET the key */
    bool delta_warned;   /* a malformed delta was logged (once per link) */
    int64_t last_get_ms; /* monotonic */
    uint64_t deltas, resyncs;
    int wake_pipe[2]; /* ow_source_free writes: the worker's wait returns */
    char *last_text;
    struct stat file_stat;
    bool file_seen;

    pthread_mutex_t lock; /* guards state, pending, stop */
    bool stop, started;
    pthread_t thread;
    ow_source_state state;
    ow_scene *pending; /* the newest scene, until ow_source_take_scene */
    ow_source_notify_fn notify;
    void *user;
    ow_partials *parts;  /* partitioned: every partition's snapshot, merged (partials.h) */
    ow_config *cfg;      /* partitioned: a copy, for the cluster client (its retries shortened) */
    ow_cluster *cluster; /* partitioned: worker-owned; NULL = not connected */
};

const char *ow_link_name(ow_link link)
{
    switch (link) {
    case OW_LINK_FILE: return "file";
    case OW_LINK_CONNECTING: return "connecting";
    case OW_LINK_CONNECTED: return "connected";
    case OW_LINK_RECONNECTING: return "reconnecting";
    }
    return "?";
}

static int source_alloc(ow_source **out, ow_err *err)
{
    ow_source *s = calloc(1, sizeof *s);
    if (!s) return ow_err_set(err, OW_ENOMEM, "out of memory");
    if (pipe(s->wake_pipe) != 0) {
        free(s);
        return ow_err_set(err, OW_EIO, "cannot create the source's wake pipe: %s", strerror(errno));
    }
    fcntl(s->wake_pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(s->wake_pipe[1], F_SETFL, O_NONBLOCK);
    pthread_mutex_init(&s->lock, NULL);
    s->last_get_ms = INT64_MIN / 2;
    *out = s;
    return OW_OK;
}

int ow_source_new_redis(const ow_redis_env *env, int64_t poll_ms, ow_source **out, ow_err *err)
{
    int rc = source_alloc(out, err);
    if (rc) return rc;
    (*out)->env = *env;
    (*out)->env.server_pid = 0; /* the caller owns the private server, not the source */
    (*out)->poll_ms = poll_ms;
    (*out)->state.link = OW_LINK_CONNECTING;
    return OW_OK;
}

/* How long the worker's cluster client keeps retrying a failover before the read reports the
 * link down (and the worker's own backoff takes over): short, so a stop is not held up. */
#define CLUSTER_RETRY_MS 3000

int ow_source_partitions(ow_source *s, const ow_config *cfg, const ow_partition_table *owners,
                         ow_err *err)
{
    int n = (int)cfg->cluster.partitions;
    if (n < 2) return OW_OK;
    if (!(s->parts = ow_partials_new(n, owners, cfg->cluster.stale_after_ms)) ||
        !(s->cfg = malloc(sizeof *s->cfg)))
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    *s->cfg = *cfg;
    if (s->cfg->cluster.retry_for_ms > CLUSTER_RETRY_MS)
        s->cfg->cluster.retry_for_ms = CLUSTER_RETRY_MS;
    return OW_OK;
}

int ow_source_new_file(const char *path, int64_t poll_ms, ow_source **out, ow_err *err)
{
    int rc = source_alloc(out, err);
    if (rc) return rc;
    (*out)->is_file = true;
    snprintf((*out)->path, sizeof(*out)->path, "%s", path);
    (*out)->poll_ms = poll_ms;
    (*out)->state.link = OW_LINK_FILE;
    return OW_OK;
}

/* ---- one read (no lock held: touches only worker-owned fields) ------------------------------ */

/* Parse `text` unless it is what we parsed last time. Takes ownership of text. */
static read_result consider(ow_source *s, char *text, size_t len, ow_scene **scene, ow_err *err)
{
    if (s->last_text && strcmp(s->last_text, text) == 0) {
        free(text);
        return READ_SAME;
    }
    free(s->last_text);
    s->last_text = text; /* remembered even when bad, so a bad text is reported once */
    if (!(*scene = ow_scene_parse(text, len, err))) return READ_BAD;
    if ((*scene)->bad[0])
        ow_warn("snapshot #%" PRId64 ": members refused as malformed (shown as no data): %s",
                (*scene)->core.seq, (*scene)->bad);
    return READ_NEW;
}

static read_result read_file(ow_source *s, ow_scene **view, ow_err *err)
{
    struct stat st;
    if (stat(s->path, &st) != 0) {
        ow_err_set(err, OW_EIO, "%s: %s", s->path, strerror(errno));
        s->file_seen = false;
        return READ_LINK_DOWN;
    }
    if (s->file_seen && st.st_size == s->file_stat.st_size &&
        st.st_mtim.tv_sec == s->file_stat.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == s->file_stat.st_mtim.tv_nsec)
        return READ_SAME;
    char *text;
    size_t len;
    if (ow_file_read(s->path, SNAPSHOT_MAX_BYTES, &text, &len, err) != OW_OK) return READ_LINK_DOWN;
    s->file_stat = st;
    s->file_seen = true;
    read_result r = consider(s, text, len, view, err);
    if (r == READ_BAD) ow_err_prefix(err, "%s", s->path);
    return r;
}

static void redis_drop(ow_source *s)
{
    if (s->redis) redisFree(s->redis);
    if (s->sub) redisFree(s->sub);
    ow_cluster_free(s->cluster);
    s->cluster = NULL;
    s->redis = s->sub = NULL;
    s->delta_warned = false;
}

/* The subscription to the deltas. Deltas published before it may be missed: resync after it. */
static bool sub_connect(ow_source *s, ow_err *err)
{
    if (!(s->sub = ow_redis_connect(&s->env, err))) return false;
    redisReply *r = NULL;
    if (redisAppendCommand(s->sub, "SUBSCRIBE %s", OW_CHAN_DELTAS) != REDIS_OK ||
        redisGetReply(s->sub, (void **)&r) != REDIS_OK || !r || r->type != REDIS_REPLY_ARRAY) {
        ow_err_set(err, OW_EREDIS, "SUBSCRIBE %s at %s: %s", OW_CHAN_DELTAS, s->env.desc,
                   s->sub->err ? s->sub->errstr : "unexpected reply");
        if (r) freeReplyObject(r);
        return false;
    }
    freeReplyObject(r);
    s->resync = true;
    return true;
}

/* One published message on the delta channel: apply it to the held tree. */
static void on_delta(ow_source *s, const char *text, size_t len)
{
    if (!s->tree || s->resync) return; /* the GET that follows brings the newest picture */
    ow_err e;
    cJSON *d = ow_json_parse(text, len, OW_JSON_MAX_DEPTH + 1, &e);
    int64_t seq;
    if (d && ow_json_int(ow_json_get(d, "seq"), 0, INT64_C(1) << 53, &seq) && seq <= s->tree_seq) {
        cJSON_Delete(d); /* already in the snapshot we hold */
        return;
    }
    int rc = d ? ow_delta_apply_tree(s->tree, &s->tree_seq, d, &e) : OW_EINVAL;
    cJSON_Delete(d);
    if (rc == OW_OK) {
        s->deltas++;
    } else if (rc == OW_EAGAIN) {
        s->resync = true;
        s->resyncs++;
        ow_debug("%s", e.msg);
    } else {
        if (!s->delta_warned) ow_warn("%s: %s (ignored; resyncing)", OW_CHAN_DELTAS, e.msg);
        s->delta_warned = true;
        s->resync = true;
    }
}

/* Read what the subscription has without blocking. False when the link broke. */
static bool drain_deltas(ow_source *s, bool *applied)
{
    uint64_t before = s->deltas;
    for (int n = 0; n < 100000; n++) {
        redisReply *r = NULL;
        if (redisGetReplyFromReader(s->sub, (void **)&r) != REDIS_OK) return false;
        if (!r) {
            struct pollfd p = {.fd = s->sub->fd, .events = POLLIN};
            if (poll(&p, 1, 0) <= 0) break;
            if (redisBufferRead(s->sub) != REDIS_OK) return false;
            continue;
        }
        /* ["message", channel, payload] */
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
            r->element[2]->type == REDIS_REPLY_STRING)
            on_delta(s, r->element[2]->str, r->element[2]->len);
        freeReplyObject(r);
    }
    *applied = s->deltas != before;
    return true;
}

/* GET the snapshot key; when it is newer than what we hold (or we must resync), hold it. */
static read_result get_snapshot(ow_source *s, bool *replaced, ow_err *err)
{
    s->last_get_ms = ow_clock_mono_ms();
    redisReply *r = ow_redis_cmd(s->redis, err, "GET " OW_KEY_SNAPSHOT, "GET %s", OW_KEY_SNAPSHOT);
    if (!r) return s->redis->err ? READ_LINK_DOWN : READ_BAD; /* an error reply, e.g. WRONGTYPE */
    read_result res = READ_SAME;
    if (r->type == REDIS_REPLY_NIL) {
        ow_err_set(err, OW_ENOTFOUND,
                   "no snapshot at %s yet (is opswall-engine running against %s?)", OW_KEY_SNAPSHOT,
                   s->env.desc);
        res = s->tree ? READ_SAME : READ_NONE;
    } else if (r->type != REDIS_REPLY_STRING) {
        ow_err_set(err, OW_EINVAL, "%s: expected a string, got reply type %d", OW_KEY_SNAPSHOT,
                   r->type);
        res = READ_BAD;
    } else if (!s->resync && s->last_text && strlen(s->last_text) == r->len &&
               memcmp(s->last_text, r->str, r->len) == 0) {
        res = READ_SAME;
    } else {
        char *text = malloc(r->len + 1);
        cJSON *tree = NULL;
        ow_snapshot_view v;
        if (!text) {
            res = READ_BAD;
            ow_err_set(err, OW_ENOMEM, "out of memory");
        } else {
            memcpy(text, r->str, r->len);
            text[r->len] = '\0';
            ow_err jerr;
            tree = ow_json_parse(text, r->len, OW_JSON_MAX_DEPTH, &jerr);
            if (!tree) ow_err_set(err, OW_EINVAL, "%s: snapshot: %s", OW_KEY_SNAPSHOT, jerr.msg);
            if (tree && ow_snapshot_decode(tree, &v, err) != OW_OK) {
                ow_err_prefix(err, "%s", OW_KEY_SNAPSHOT);
                cJSON_Delete(tree);
                tree = NULL;
            }
            free(s->last_text);
            s->last_text = text; /* remembered even when bad, so a bad text is reported once */
            res = tree ? READ_NEW : READ_BAD;
        }
        /* a restarted engine starts its seq again: the key wins on a resync or a lower seq too */
        if (tree && (s->resync || !s->tree || v.seq >= s->tree_seq || v.seq + 1000 < s->tree_seq)) {
            cJSON_Delete(s->tree);
            s->tree = tree;
            s->tree_seq = v.seq;
            s->resync = false;
            *replaced = true;
        } else {
            cJSON_Delete(tree);
        }
    }
    freeReplyObject(r);
    return res;
}

/* Partitioned: every partition's snapshot key, merged when one changed. */
static read_result read_parts(ow_source *s, ow_scene **scene, ow_err *err)
{
    cJSON *merged;
    if (!s->cluster && ow_cluster_open_env(&s->env, s->cfg, &s->cluster, err))
        return READ_LINK_DOWN;
    int rc = ow_partials_read(s->parts, s->cluster, ow_clock_mono_ms(), &merged, err);
    if (rc == OW_EREDIS) {
        redis_drop(s);
        return READ_LINK_DOWN;
    }
    if (rc == 0) return READ_SAME;
    if (rc != 1) return s->tree ? READ_SAME : rc == OW_ENOTFOUND ? READ_NONE : READ_BAD;
    cJSON_Delete(s->tree);
    s->tree = merged;
    if (!(*scene = ow_scene_decode(s->tree, err))) return READ_BAD;
    if ((*scene)->bad[0])
        ow_warn("merged snapshot #%" PRId64 ": members refused as malformed: %s",
                (*scene)->core.seq, (*scene)->bad);
    return READ_NEW;
}

/* Redis: deltas as they come (core/delta.h), the key at start, on a gap and every REFRESH_MS. */
static read_result read_redis(ow_source *s, ow_scene **scene, ow_err *err)
{
    if (s->parts) return read_parts(s, scene, err);
    if (!s->redis && !(s->redis = ow_redis_connect(&s->env, err))) return READ_LINK_DOWN;
    if (!s->sub && !sub_connect(s, err)) {
        redis_drop(s);
        return READ_LINK_DOWN;
    }
    bool changed = false;
    if (!drain_deltas(s, &changed)) {
        ow_err_set(err, OW_EREDIS, "%s at %s: %s", OW_CHAN_DELTAS, s->env.desc,
                   s->sub->errstr[0] ? s->sub->errstr : "connection lost");
        redis_drop(s);
        return READ_LINK_DOWN;
    }
    read_result res = READ_SAME;
    if (!s->tree || s->resync || ow_clock_mono_ms() - s->last_get_ms >= REFRESH_MS) {
        bool replaced = false;
        res = get_snapshot(s, &replaced, err);
        if (res == READ_LINK_DOWN) {
            redis_drop(s);
            return res;
        }
        changed |= replaced;
        if (res == READ_BAD || res == READ_NONE) return res;
    }
    if (!changed) return READ_SAME;
    if (!(*scene = ow_scene_decode(s->tree, err))) return READ_BAD;
    if ((*scene)->bad[0])
        ow_warn("snapshot #%" PRId64 ": members refused as malformed (shown as no data): %s",
                (*scene)->core.seq, (*scene)->bad);
    return READ_NEW;
}

/* ---- applying a read to the shared state (lock held) ---------------------------------------- */

static bool apply(ow_source *s, read_result r, ow_scene *scene, const ow_err *err)
{
    ow_source_state *st = &s->state;
    const ow_link before = st->link;
    const bool was_failing = st->failures > 0;
    bool changed = false;
    if (r == READ_LINK_DOWN) {
        st->failures++;
        if (!s->is_file) st->link = OW_LINK_RECONNECTING;
    } else {
        if (!s->is_file) st->link = OW_LINK_CONNECTED;
        if (before == OW_LINK_RECONNECTING)
            ow_info("Redis at %s is back after %d failed attempt%s", s->env.desc, st->failures,
                    st->failures == 1 ? "" : "s");
        st->failures = 0;
    }
    if (r == READ_NEW) {
        st->view = scene->core;
        st->have = true;
        ow_scene_free(s->pending); /* never taken: the reader only wants the newest */
        s->pending = scene;
        changed = true;
    }
    const char *msg = r == READ_NEW || r == READ_SAME ? "" : err->msg;
    if (strcmp(msg, st->problem) != 0) {
        if (msg[0] && r == READ_LINK_DOWN && before != OW_LINK_RECONNECTING && !s->is_file)
            ow_warn("%s; %s, retrying with backoff (up to %d ms)", msg,
                    st->have ? "keeping the last snapshot (shown as stale)" : "no data yet",
                    OW_SOURCE_BACKOFF_MAX_MS);
        else if (msg[0] && st->failures <= 1)
            ow_warn("%s", msg);
        snprintf(st->problem, sizeof st->problem, "%s", msg);
    }
    if (st->link != before || (st->failures > 0) != was_failing) changed = true;
    if (changed) st->changes++;
    return changed;
}

static bool step(ow_source *s)
{
    ow_scene *scene = NULL;
    ow_err err;
    ow_err_clear(&err);
    read_result r = s->is_file ? read_file(s, &scene, &err) : read_redis(s, &scene, &err);
    pthread_mutex_lock(&s->lock);
    bool changed = apply(s, r, scene, &err);
    pthread_mutex_unlock(&s->lock);
    return changed;
}

int ow_source_fetch(ow_source *s, ow_err *err)
{
    step(s);
    ow_source_state st;
    ow_source_get(s, &st);
    if (st.have) return OW_OK;
    return ow_err_set(err, OW_ENOTFOUND, "%s", st.problem[0] ? st.problem : "no snapshot");
}

/* ---- the worker ----------------------------------------------------------------------------- */

static int64_t next_delay_ms(const ow_source *s)
{
    /* poll, then 2×, 4×, … up to the cap (never below poll) while attempts keep failing */
    int64_t d = s->poll_ms;
    for (int i = 0; i < s->state.failures && d < OW_SOURCE_BACKOFF_MAX_MS; i++)
        d *= 2;
    if (d > OW_SOURCE_BACKOFF_MAX_MS)
        d = s->poll_ms > OW_SOURCE_BACKOFF_MAX_MS ? s->poll_ms : OW_SOURCE_BACKOFF_MAX_MS;
    return d;
}

/* Sleep up to ms, or until the subscription has data (sub >= 0), or until ow_source_free. */
static void wait_for(ow_source *s, int sub_fd, int64_t ms)
{
    if (ms <= 0) return;
    struct pollfd p[2] = {{.fd = s->wake_pipe[0], .events = POLLIN},
                          {.fd = sub_fd, .events = POLLIN}};
    if (poll(p, sub_fd >= 0 ? 2 : 1, ms > INT32_MAX ? INT32_MAX : (int)ms) > 0 && p[0].revents) {
        char buf[16];
        while (read(s->wake_pipe[0], buf, sizeof buf) > 0) {
        }
    }
}

static bool stopping(ow_source *s)
{
    pthread_mutex_lock(&s->lock);
    bool stop = s->stop;
    pthread_mutex_unlock(&s->lock);
    return stop;
}

static void *worker(void *arg)
{
    ow_source *s = arg;
    while (!stopping(s)) {
        int64_t start = ow_clock_mono_ms();
        if (step(s) && s->notify) s->notify(s->user);
        /* at most one step per poll interval: deltas arriving meanwhile are applied together, so
         * a fast delta stream costs one decode and one redraw per interval, not one per delta */
        wait_for(s, -1, start + s->poll_ms - ow_clock_mono_ms());
        if (stopping(s)) break;
        pthread_mutex_lock(&s->lock);
        int failures = s->state.failures;
        pthread_mutex_unlock(&s->lock);
        if (s->sub && failures == 0)
            wait_for(s, s->sub->fd,
                     start + REFRESH_MS - ow_clock_mono_ms()); /* a delta, or the refresh */
        else
            wait_for(s, -1, start + next_delay_ms(s) - ow_clock_mono_ms()); /* file, or backoff */
    }
    return NULL;
}

int ow_source_start(ow_source *s, ow_source_notify_fn notify, void *user, ow_err *err)
{
    s->notify = notify;
    s->user = user;
    /* The worker blocks every signal so SIGINT/SIGTERM always reach the main thread's loop. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&s->thread, NULL, worker, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) return ow_err_set(err, OW_EIO, "cannot start the source thread: %s", strerror(rc));
    s->started = true;
    return OW_OK;
}

void ow_source_get(ow_source *s, ow_source_state *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->state;
    pthread_mutex_unlock(&s->lock);
}

ow_scene *ow_source_take_scene(ow_source *s)
{
    pthread_mutex_lock(&s->lock);
    ow_scene *scene = s->pending;
    s->pending = NULL;
    pthread_mutex_unlock(&s->lock);
    return scene;
}

void ow_source_free(ow_source *s)
{
    if (!s) return;
    if (s->started) {
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        pthread_mutex_unlock(&s->lock);
        if (write(s->wake_pipe[1], "x", 1) < 0) {
            /* the pipe is full: the worker is awake anyway */
        }
        pthread_join(s->thread, NULL);
    }
    if (s->deltas || s->resyncs)
        ow_info("deltas applied: %" PRIu64 ", resyncs: %" PRIu64, s->deltas, s->resyncs);
    redis_drop(s);
    cJSON_Delete(s->tree);
    free(s->last_text);
    ow_scene_free(s->pending);
    ow_partials_free(s->parts);
    free(s->cfg);
    close(s->wake_pipe[0]);
    close(s->wake_pipe[1]);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

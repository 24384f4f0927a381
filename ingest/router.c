#include "router.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "keys.h"
#include "log.h"
#include "map.h"
#include "route.h"
#include "route_library.h"

#define REJECT_KEEP   (64 * 1024)
#define DIR_TTL_S     (90 * 86400) /* directory entries outlive any order's life */
#define CACHE_MAX     (1 << 20)    /* cached directory entries; past it the cache starts over */
#define SHARED        (-1)         /* item.part of the shared stream */
#define REJECT        (-2)         /* item.part of a reject */
#define RECORD        (-3)         /* item.part of a directory record (raw = the key, id = p) */
#define FUNCTION_GONE "Function not found"
#define TICK_MS       1000 /* ticks to every partition at least this often while input flows */

typedef struct item {
    int part;           /* partition, SHARED, REJECT or RECORD */
    char id[OW_ID_BUF]; /* event id; "" for a tick */
    char *raw;          /* owned copy; a reject: "reason\0source\0pos\0raw" via the fields below */
    size_t len;
    int64_t wm;            /* the watermark before this event */
    int64_t shared_before; /* SHARED items queued before this one in the flush */
    char reason[OW_ERR_MSG_MAX + 96], source[128];
    int64_t pos;
    int64_t n; /* SHARED: the number the stream gave it (0 = duplicate) */
} item;

typedef struct parked {
    char key[OW_ID_BUF + 16]; /* "order:<id>" or "complaint:<id>" */
    ow_event ev;
    char *raw;
    size_t len;
} parked;

struct ow_router {
    ow_cluster *c;
    const ow_config *cfg;
    const ow_partition_table *t;
    ow_cluster_batch *b;
    item *q;
    size_t nq, cap;
    size_t batch_cap;
    ow_map dir; /* "order:<id>" → (void *)(partition + 1) */
    parked *park;
    size_t npark, park_cap;
    int64_t wm;           /* largest event time queued so far; INT64_MIN before any */
    int64_t last_n;       /* the shared stream's count as of the last flush */
    int64_t last_tick_ms; /* monotonic: when ticks last went to every partition */
    char maxlen[24], rej_maxlen[24], dedup_ms[24];
    ow_router_stats st;
};

static int load(ow_router *r, ow_err *err)
{
    int rc = ow_route_library_load(r->c, err);
    if (rc) return rc;
    /* a restarted ingest continues the shared stream's numbering */
    redisReply *rep =
        ow_cluster_cmd(r->c, err, "GET shared count", OW_KEY_SHARED_N, "GET %s", OW_KEY_SHARED_N);
    if (!rep) return OW_EREDIS;
    r->last_n = rep->type == REDIS_REPLY_STRING ? strtoll(rep->str, NULL, 10) : 0;
    freeReplyObject(rep);
    return OW_OK;
}

ow_router *ow_router_new(ow_cluster *c, const ow_config *cfg, const ow_partition_table *t,
                         ow_err *err)
{
    ow_router *r = calloc(1, sizeof *r);
    if (r) r->b = ow_cluster_batch_new();
    if (!r || !r->b) {
        free(r);
        ow_err_set(err, OW_ENOMEM, "out of memory");
        return NULL;
    }
    r->c = c, r->cfg = cfg, r->t = t;
    r->batch_cap = (size_t)cfg->ingest.batch * (size_t)(t->n > 1 ? t->n : 1);
    r->wm = INT64_MIN;
    ow_map_init(&r->dir);
    snprintf(r->maxlen, sizeof r->maxlen, "%lld", (long long)cfg->streams.events_maxlen);
    snprintf(r->rej_maxlen, sizeof r->rej_maxlen, "%lld", (long long)cfg->streams.rejects_maxlen);
    snprintf(r->dedup_ms, sizeof r->dedup_ms, "%lld", (long long)cfg->ingest.dedup_window_ms);
    ow_cluster_batch_idempotent(r->b, true);
    ow_cluster_batch_wait(r->b, (int)cfg->ingest.wait_replicas, cfg->ingest.wait_timeout_ms);
    if (load(r, err)) {
        ow_router_free(r);
        return NULL;
    }
    return r;
}

static void drop_items(ow_router *r)
{
    for (size_t i = 0; i < r->nq; i++)
        free(r->q[i].raw);
    r->nq = 0;
}

void ow_router_free(ow_router *r)
{
    if (!r) return;
    drop_items(r);
    free(r->q);
    for (size_t i = 0; i < r->npark; i++)
        free(r->park[i].raw);
    free(r->park);
    ow_map_fini(&r->dir);
    ow_cluster_batch_free(r->b);
    free(r);
}

static item *push(ow_router *r, int part, const char *raw, size_t len)
{
    if (r->nq == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        item *q = realloc(r->q, cap * sizeof *q);
        if (!q) return NULL;
        r->q = q, r->cap = cap;
    }
    item *it = &r->q[r->nq];
    memset(it, 0, offsetof(item, reason));
    it->reason[0] = it->source[0] = '\0';
    it->raw = malloc(len + 1);
    if (!it->raw) return NULL;
    if (len) memcpy(it->raw, raw, len);
    it->raw[len] = '\0';
    it->len = len;
    it->part = part;
    it->wm = r->wm == INT64_MIN ? 0 : r->wm;
    size_t shared = 0;
    for (size_t i = 0; i < r->nq; i++) /* cheap: batches are a few hundred items */
        shared += r->q[i].part == SHARED;
    it->shared_before = (int64_t)shared;
    r->nq++;
    return it;
}

static void dir_key(char *k, size_t n, const char *kind, const char *id)
{
    snprintf(k, n, "%s:%s", kind, id);
}

static int dir_put(ow_router *r, const char *kind, const char *id, int p)
{
    char k[OW_ID_BUF + 16];
    dir_key(k, sizeof k, kind, id);
    if (r->dir.len >= CACHE_MAX) { /* a crude bound: the directory in Redis stays the truth */
        ow_map_fini(&r->dir);
        ow_map_init(&r->dir);
    }
    return ow_map_put(&r->dir, k, (void *)(intptr_t)(p + 1));
}

/* The directory: cache, then Redis. -1 = unknown. */
static int dir_get(ow_router *r, const char *kind, const char *id, ow_err *err, int *rc)
{
    char k[OW_ID_BUF + 16];
    dir_key(k, sizeof k, kind, id);
    intptr_t v = (intptr_t)ow_map_get(&r->dir, k);
    if (v) return (int)v - 1;
    char rk[OW_PARTITION_KEY_MAX];
    if (ow_route_directory_key(rk, sizeof rk, kind, id) < 0) return -1;
    redisReply *rep = ow_cluster_cmd(r->c, err, "directory lookup", rk, "GET %s", rk);
    if (!rep) {
        *rc = OW_EREDIS;
        return -1;
    }
    int p = -1;
    if (rep->type == REDIS_REPLY_STRING) {
        long x = strtol(rep->str, NULL, 10);
        if (x >= 0 && x < r->t->n) p = (int)x;
    }
    freeReplyObject(rep);
    if (p >= 0 && dir_put(r, kind, id, p)) *rc = OW_ENOMEM;
    return p;
}

static int route_one(ow_router *r, const ow_event *ev, const char *raw, size_t len, ow_err *err);

/* An order or complaint was recorded: its parked events follow it. */
static int unpark(ow_router *r, const char *kind, const char *id, ow_err *err)
{
    char k[OW_ID_BUF + 16];
    dir_key(k, sizeof k, kind, id);
    for (size_t i = 0; i < r->npark;) {
        if (strcmp(r->park[i].key, k) != 0) {
            i++;
            continue;
        }
        parked p = r->park[i];
        r->park[i] = r->park[--r->npark];
        r->st.parked_now--;
        int rc = route_one(r, &p.ev, p.raw, p.len, err);
        free(p.raw);
        if (rc) return rc;
        i = 0; /* the array changed under us */
    }
    return OW_OK;
}

static int park(ow_router *r, const ow_event *ev, const char *kind, const char *id, const char *raw,
                size_t len)
{
    if (r->npark == r->park_cap) {
        size_t cap = r->park_cap ? r->park_cap * 2 : 16;
        parked *p = realloc(r->park, cap * sizeof *p);
        if (!p) return OW_ENOMEM;
        r->park = p, r->park_cap = cap;
    }
    parked *p = &r->park[r->npark];
    dir_key(p->key, sizeof p->key, kind, id);
    p->ev = *ev;
    p->raw = malloc(len + 1);
    if (!p->raw) return OW_ENOMEM;
    memcpy(p->raw, raw, len);
    p->len = len;
    r->npark++;
    r->st.parked_now++;
    r->st.parked_total++;
    return OW_OK;
}

static int queue_reject(ow_router *r, const char *reason, const char *source, int64_t pos,
                        const char *raw, size_t len)
{
    item *it = push(r, REJECT, raw, len < REJECT_KEEP ? len : REJECT_KEEP);
    if (!it) return OW_ENOMEM;
    snprintf(it->reason, sizeof it->reason, "%s", reason);
    snprintf(it->source, sizeof it->source, "%s", source);
    it->pos = pos;
    return OW_OK;
}

/* Parked events the watermark left behind by more than the de-dup window: their order was never
 * created (or its order.created is lost); they cannot wait forever. */
static int expire_parked(ow_router *r, bool all)
{
    for (size_t i = 0; i < r->npark;) {
        parked *p = &r->park[i];
        /* no watermark yet: nothing can be old; ts are bounded by the codec, so no overflow */
        if (!all && (r->wm == INT64_MIN || r->wm - p->ev.ts_ms <= r->cfg->ingest.dedup_window_ms)) {
            i++;
            continue;
        }
        char reason[OW_ERR_MSG_MAX];
        snprintf(reason, sizeof reason,
                 "%s: no order.created/complaint.created for %s reached ingest %s; the event was "
                 "held for it and dropped (send the creating event, then this one again)",
                 p->ev.id, p->key, all ? "before the input ended" : "within ingest.dedup_window");
        int rc = queue_reject(r, reason, "router", 0, p->raw, p->len);
        free(p->raw);
        r->park[i] = r->park[--r->npark];
        r->st.parked_now--;
        if (rc) return rc;
    }
    return OW_OK;
}

static int route_one(ow_router *r, const ow_event *ev, const char *raw, size_t len, ow_err *err)
{
    ow_route rt;
    ow_route_event(r->t, ev, &rt);
    int part, rc = OW_OK;
    if (rt.kind == OW_ROUTE_SHARED) {
        part = SHARED;
    } else if (rt.kind == OW_ROUTE_PARTITION) {
        part = rt.partition;
    } else {
        part = dir_get(r, rt.lookup_kind, rt.lookup_id, err, &rc);
        if (rc) return rc;
        if (part < 0) part = rt.fallback;
        if (part < 0) return park(r, ev, rt.lookup_kind, rt.lookup_id, raw, len);
    }
    item *it = push(r, part, raw, len);
    if (!it) return ow_err_set(err, OW_ENOMEM, "out of memory");
    snprintf(it->id, sizeof it->id, "%s", ev->id);
    if (ev->ts_ms > r->wm) r->wm = ev->ts_ms;
    if (rt.record_kind && part >= 0) {
        char k[OW_PARTITION_KEY_MAX], v[16];
        ow_route_directory_key(k, sizeof k, rt.record_kind, rt.record_id);
        snprintf(v, sizeof v, "%d", part);
        item *rec = push(r, RECORD, k, strlen(k));
        if (!rec) return ow_err_set(err, OW_ENOMEM, "out of memory");
        snprintf(rec->id, sizeof rec->id, "%s", v);
        if (dir_put(r, rt.record_kind, rt.record_id, part))
            return ow_err_set(err, OW_ENOMEM, "out of memory");
        if (r->npark && (rc = unpark(r, rt.record_kind, rt.record_id, err))) return rc;
    }
    return OW_OK;
}

int ow_router_add(ow_router *r, const ow_event *ev, const char *raw, size_t len, ow_err *err)
{
    int rc = route_one(r, ev, raw, len, err);
    if (rc) return rc;
    if (r->npark && (rc = expire_parked(r, false))) return ow_err_set(err, rc, "out of memory");
    return r->nq >= r->batch_cap ? ow_router_flush(r, err) : OW_OK;
}

int ow_router_reject(ow_router *r, const char *reason, const char *source, int64_t pos,
                     const char *raw, size_t len, ow_err *err)
{
    if (queue_reject(r, reason, source, pos, raw, len))
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    return r->nq >= r->batch_cap ? ow_router_flush(r, err) : OW_OK;
}

/* ---- flushing -------------------------------------------------------------------------------- */

typedef struct argv_buf {
    const char **v;
    size_t *l;
    char (*num)[24]; /* numbers formatted for the call */
    int n, cap;
} argv_buf;

static int argv_add(argv_buf *a, const char *s, size_t len)
{
    if (a->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 64;
        const char **v = realloc(a->v, (size_t)cap * sizeof *v);
        if (v) a->v = v;
        size_t *l = realloc(a->l, (size_t)cap * sizeof *l);
        if (l) a->l = l;
        char(*num)[24] = realloc(a->num, (size_t)cap * sizeof *num);
        if (num) a->num = num;
        if (!v || !l || !num) return OW_ENOMEM;
        a->cap = cap;
    }
    a->v[a->n] = s;
    a->l[a->n] = len;
    a->n++;
    return OW_OK;
}

/* A number, kept in the buffer's own storage until the call is added (the batch copies it). */
static int argv_num(argv_buf *a, int64_t x)
{
    if (argv_add(a, "", 0)) return OW_ENOMEM;
    int k = a->n - 1;
    snprintf(a->num[k], sizeof a->num[k], "%lld", (long long)x);
    a->v[k] = NULL; /* resolved to num[k] in argv_fix: num may move while growing */
    a->l[k] = strlen(a->num[k]);
    return OW_OK;
}

static void argv_fix(argv_buf *a)
{
    for (int i = 0; i < a->n; i++)
        if (!a->v[i]) a->v[i] = a->num[i];
}

static void argv_free(argv_buf *a)
{
    free(a->v);
    free(a->l);
    free(a->num);
}

/* The FCALL of one stream's items (part == SHARED or a partition); -1 when it has none. */
static int add_call(ow_router *r, argv_buf *a, int part, const int64_t *sseq_of)
{
    char stream[OW_PARTITION_KEY_MAX], seen[OW_PARTITION_KEY_MAX];
    if (part == SHARED) {
        snprintf(stream, sizeof stream, "%s", OW_KEY_SHARED);
        snprintf(seen, sizeof seen, "%s", OW_KEY_SHARED_SEEN);
    } else {
        ow_partition_rekey(stream, sizeof stream, part, OW_KEY_EVENTS);
        ow_partition_rekey(seen, sizeof seen, part, OW_KEY_SEEN_PREFIX);
    }
    a->n = 0;
    int nkeys = part == SHARED ? 3 : 2;
    char nk[4];
    snprintf(nk, sizeof nk, "%d", nkeys);
    int rc = argv_add(a, "FCALL", 5) | argv_add(a, OW_FUNCTION_APPEND, strlen(OW_FUNCTION_APPEND)) |
             argv_add(a, nk, strlen(nk)) | argv_add(a, stream, strlen(stream)) |
             argv_add(a, seen, strlen(seen));
    if (part == SHARED) rc |= argv_add(a, OW_KEY_SHARED_N, strlen(OW_KEY_SHARED_N));
    rc |= argv_add(a, r->dedup_ms, strlen(r->dedup_ms)) | argv_add(a, r->maxlen, strlen(r->maxlen));
    int items = 0;
    for (size_t i = 0; i < r->nq && !rc; i++) {
        item *it = &r->q[i];
        if (it->part != part) continue;
        items++;
        rc |= argv_add(a, it->id, strlen(it->id)) | argv_add(a, it->raw, it->len) |
              argv_num(a, it->wm) | argv_num(a, sseq_of ? sseq_of[it->shared_before] : 0);
    }
    if (rc) return OW_ENOMEM;
    if (!items) return -1;
    argv_fix(a);
    return ow_cluster_batch_add(r->b, stream, strlen(stream), a->n, a->v, a->l);
}

/* Exec the batch once. OW_EAGAIN: send it again (some command lacks its replicas' WAIT
 * acknowledgement, or a master had lost the function, now loaded again); an error once
 * cluster.retry_for has passed without the acknowledgements. */
static int exec_acked(ow_router *r, int64_t deadline, ow_err *err)
{
    int rc = ow_cluster_batch_exec(r->c, r->b, err);
    if (rc) return rc;
    int n = ow_cluster_batch_count(r->b), short_acks = 0;
    for (int i = 0; i < n; i++) {
        const redisReply *rep = ow_cluster_batch_reply(r->b, i);
        if (rep && rep->type == REDIS_REPLY_ERROR) {
            if (strstr(rep->str, FUNCTION_GONE) && ow_clock_mono_ms() < deadline) {
                if ((rc = ow_route_library_load(r->c, err))) return rc;
                return OW_EAGAIN;
            }
            return ow_err_set(err, OW_EREDIS, "routed append: %s", rep->str);
        }
        int acked = ow_cluster_batch_acked(r->b, i);
        if (acked >= 0 && acked < r->cfg->ingest.wait_replicas) short_acks++;
    }
    if (short_acks == 0) return OW_OK;
    if (ow_clock_mono_ms() >= deadline)
        return ow_err_set(err, OW_ETIMEOUT,
                          "%d writes not acknowledged by %lld replicas (ingest.wait_replicas) "
                          "within cluster.retry_for: not confirmed to the source",
                          short_acks, (long long)r->cfg->ingest.wait_replicas);
    /* every command again: de-dup makes it harmless, and the first answer's replies (kept by
     * the caller) decide the outcomes */
    r->st.resends++;
    ow_sleep_ms(50);
    return OW_EAGAIN;
}

/* A tick to every partition: the watermark so far and the shared entries before it. */
static int queue_ticks(ow_router *r)
{
    for (int p = 0; p < r->t->n; p++) /* id "" = a tick */
        if (!push(r, p, "", 0)) return OW_ENOMEM;
    /* the tick carries the watermark itself: every event queued is before it */
    for (size_t i = r->nq - (size_t)r->t->n; i < r->nq; i++)
        r->q[i].wm = r->wm == INT64_MIN ? 0 : r->wm;
    r->last_tick_ms = ow_clock_mono_ms();
    return OW_OK;
}

int ow_router_flush(ow_router *r, ow_err *err)
{
    if (!r->nq) return OW_OK;
    /* live input: a partition with no events of its own still follows the shared stream and
     * the watermark (its technicians, its crossings) within a second */
    if (r->wm != INT64_MIN && ow_clock_mono_ms() - r->last_tick_ms >= TICK_MS && queue_ticks(r))
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    argv_buf a = {0};
    int rc = OW_OK;
    size_t nshared = 0;
    for (size_t i = 0; i < r->nq; i++)
        nshared += r->q[i].part == SHARED;
    int64_t *sseq = calloc(nshared + 1, sizeof *sseq);
    int *outcome = calloc(r->nq, sizeof *outcome); /* 1 accepted, 0 duplicate */
    if (!sseq || !outcome) {
        rc = ow_err_set(err, OW_ENOMEM, "out of memory");
        goto out;
    }
    int64_t deadline = ow_clock_mono_ms() + r->cfg->cluster.retry_for_ms;
    /* round 1: the shared stream, directory records, rejects */
    for (bool first = true;; first = false) {
        ow_cluster_batch_reset(r->b);
        int shared_cmd = add_call(r, &a, SHARED, NULL);
        if (shared_cmd == OW_ENOMEM) {
            rc = ow_err_set(err, OW_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < r->nq; i++) {
            item *it = &r->q[i];
            if (it->part == RECORD)
                ow_cluster_batch_addf(r->b, it->raw, "SET %s %s NX EX %d", it->raw, it->id,
                                      DIR_TTL_S);
            else if (it->part == REJECT)
                ow_cluster_batch_addf(r->b, OW_KEY_REJECTS,
                                      "XADD %s MAXLEN ~ %s * reason %s source %s pos %lld raw %b",
                                      OW_KEY_REJECTS, r->rej_maxlen, it->reason, it->source,
                                      (long long)it->pos, it->raw, it->len);
        }
        if (ow_cluster_batch_count(r->b) == 0) break;
        rc = exec_acked(r, deadline, err);
        if (first && (rc == OW_OK || rc == OW_EAGAIN) && shared_cmd >= 0) {
            const redisReply *rep = ow_cluster_batch_reply(r->b, shared_cmd);
            size_t k = 0;
            for (size_t i = 0; i < r->nq; i++) {
                if (r->q[i].part != SHARED) continue;
                int64_t n = rep && rep->type == REDIS_REPLY_ARRAY && k < rep->elements &&
                                    rep->element[k]->type == REDIS_REPLY_INTEGER
                                ? rep->element[k]->integer
                                : 0;
                r->q[i].n = n;
                outcome[i] = n > 0;
                k++;
            }
        }
        if (rc != OW_EAGAIN) break;
    }
    if (rc) goto out;
    /* the shared count before each SHARED item of the flush */
    {
        int64_t cur = r->last_n;
        size_t k = 0;
        sseq[0] = cur;
        for (size_t i = 0; i < r->nq; i++) {
            if (r->q[i].part != SHARED) continue;
            if (r->q[i].n > cur) cur = r->q[i].n;
            sseq[++k] = cur;
        }
        r->last_n = cur;
    }
    /* round 2: one call per partition */
    for (bool first = true;; first = false) {
        ow_cluster_batch_reset(r->b);
        int cmd_of[OW_PARTITIONS_MAX];
        for (int p = 0; p < r->t->n; p++) {
            cmd_of[p] = add_call(r, &a, p, sseq);
            if (cmd_of[p] == OW_ENOMEM) {
                rc = ow_err_set(err, OW_ENOMEM, "out of memory");
                goto out;
            }
        }
        if (ow_cluster_batch_count(r->b) == 0) break;
        rc = exec_acked(r, deadline, err);
        if (first && (rc == OW_OK || rc == OW_EAGAIN)) {
            for (int p = 0; p < r->t->n; p++) {
                if (cmd_of[p] < 0) continue;
                const redisReply *rep = ow_cluster_batch_reply(r->b, cmd_of[p]);
                size_t k = 0;
                for (size_t i = 0; i < r->nq; i++) {
                    if (r->q[i].part != p) continue;
                    outcome[i] = rep && rep->type == REDIS_REPLY_ARRAY && k < rep->elements &&
                                 rep->element[k]->type == REDIS_REPLY_STRING;
                    k++;
                }
            }
        }
        if (rc != OW_EAGAIN) break;
    }
    if (rc) goto out;
    for (size_t i = 0; i < r->nq; i++) {
        item *it = &r->q[i];
        if (it->part == RECORD) continue;
        if (it->part == REJECT) {
            r->st.rejected++;
        } else if (!it->id[0]) {
            /* a tick */
        } else if (outcome[i]) {
            r->st.accepted++;
            if (it->part == SHARED)
                r->st.shared++;
            else if (it->part < 64)
                r->st.per_partition[it->part]++;
        } else {
            r->st.duplicates++;
        }
    }
    r->st.flushes++;
    drop_items(r);
out:
    argv_free(&a);
    free(sseq);
    free(outcome);
    return rc;
}

int ow_router_finish(ow_router *r, ow_err *err)
{
    if (expire_parked(r, true) || queue_ticks(r))
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    return ow_router_flush(r, err);
}

int64_t ow_router_queued(const ow_router *r)
{
    return (int64_t)r->nq;
}

const ow_router_stats *ow_router_stats_get(const ow_router *r)
{
    return &r->st;
}

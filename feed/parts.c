#include "parts.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "delta.h"
#include "json.h"
#include "keys.h"
#include "log.h"

#define MERGE_MS 20   /* merges coalesced into one per this many ms */
#define TICK_MS  1000 /* staleness checked this often */

enum { CH_LIVE, CH_DELTAS, CH_READY };

static void schedule_merge(ow_parts *ps);

/* ---- one partition's messages ---- */

static void drop_partial(ow_part *pt)
{
    cJSON_Delete(pt->snap);
    pt->snap = NULL;
    pt->seq = 0;
}

static void on_part_message(void *ud, int channel, const char *text, size_t len)
{
    ow_part *pt = ud;
    ow_parts *ps = pt->owner;
    if (channel == CH_READY) {
        if (ps->on_ready) ps->on_ready(ps->ud, pt->index, text, len);
        return;
    }
    ow_err err;
    cJSON *msg = ow_json_parse(text, len, OW_JSON_MAX_DEPTH, &err);
    const cJSON *type = ow_json_get(msg, "type");
    int64_t seq;
    if (!cJSON_IsObject(msg) || !cJSON_IsString(type) ||
        !ow_json_int(ow_json_get(msg, "seq"), 0, INT64_C(1) << 53, &seq)) {
        ow_warn("partition %d: dropped a message from %s: not a snapshot or delta (%s)", pt->index,
                channel == CH_DELTAS ? pt->chan_deltas : pt->chan_live,
                msg ? "no type or seq" : err.msg);
        cJSON_Delete(msg);
        return;
    }
    pt->heard_ms = ow_clock_mono_ms();
    if (strcmp(type->valuestring, "snapshot") == 0) {
        cJSON_Delete(pt->snap);
        pt->snap = msg;
        pt->seq = seq;
        schedule_merge(ps);
        return;
    }
    if (strcmp(type->valuestring, "delta") != 0 || !pt->snap) {
        if (!pt->snap) ow_redis_sub_refresh(&pt->sub);
        cJSON_Delete(msg);
        return;
    }
    int rc = ow_delta_apply_tree(pt->snap, &pt->seq, msg, &err);
    cJSON_Delete(msg);
    if (rc == OW_EAGAIN && seq > pt->seq) {
        ow_debug("partition %d: %s; fetching its snapshot again", pt->index, err.msg);
        ow_redis_sub_refresh(&pt->sub);
    } else if (rc == OW_OK) {
        schedule_merge(ps);
    } else if (rc != OW_EAGAIN) {
        ow_warn("partition %d: dropped a delta: %s", pt->index, err.msg);
    }
}

/* ---- merging ---- */

/* True when a and b differ in any member but seq. */
static bool changed(const cJSON *a, const cJSON *b)
{
    for (const cJSON *m = b->child; m; m = m->next) {
        if (strcmp(m->string, "seq") == 0) continue;
        if (!cJSON_Compare(cJSON_GetObjectItemCaseSensitive(a, m->string), m, true)) return true;
    }
    for (const cJSON *m = a->child; m; m = m->next)
        if (!cJSON_GetObjectItemCaseSensitive(b, m->string)) return true;
    return false;
}

static void hand_on(ow_parts *ps, const char *text)
{
    ps->publish(ps->ud, text, strlen(text));
}

static void merge_now(ow_parts *ps)
{
    int64_t now = ow_clock_mono_ms();
    ow_merge_part *in = calloc((size_t)ps->n, sizeof *in);
    if (!in) return;
    for (int p = 0; p < ps->n; p++) {
        ow_part *pt = &ps->v[p];
        int64_t age = pt->heard_ms ? now - pt->heard_ms : 0;
        pt->stale = !pt->snap || (pt->heard_ms && age > ps->stale_ms);
        in[p] = (ow_merge_part){.snap = pt->snap, .age_ms = age, .stale = pt->stale};
    }
    ow_err err;
    cJSON *m = NULL;
    for (int tries = 0; tries <= ps->n && !m; tries++) {
        m = ow_merge_build(in, ps->n, ps->owners, ps->seq + 1, &err);
        int bad;
        if (m || err.code != OW_EINVAL ||
            sscanf(err.msg, "partial snapshot of partition %d", &bad) != 1 || bad < 0 ||
            bad >= ps->n)
            break;
        /* outside input the merge cannot use: leave it out, fetch it again */
        ow_warn("%s; partition %d left out until it publishes again", err.msg, bad);
        ps->refused++;
        drop_partial(&ps->v[bad]);
        ow_redis_sub_refresh(&ps->v[bad].sub);
        in[bad].snap = NULL;
        in[bad].stale = ps->v[bad].stale = true;
    }
    free(in);
    if (!m) {
        if (err.code != OW_ENOTFOUND) ow_warn("merging the partitions: %s", err.msg);
        return;
    }
    if (ps->merged && !changed(ps->merged, m)) {
        cJSON_Delete(m);
        return;
    }
    char *snap = cJSON_PrintUnformatted(m);
    char *delta = ps->merged && snap ? ow_delta_make_tree(ps->merged, m, NULL) : NULL;
    if (!snap) {
        cJSON_Delete(m);
        free(delta);
        ow_error("merging the partitions: out of memory");
        return;
    }
    ps->seq++;
    ps->merges++;
    hand_on(ps, snap);
    if (delta) hand_on(ps, delta);
    cJSON_free(snap);
    free(delta);
    cJSON_Delete(ps->merged);
    ps->merged = m;
}

static void on_merge_timer(uv_timer_t *t)
{
    ow_parts *ps = t->data;
    ps->merge_pending = false;
    if (!ps->closing) merge_now(ps);
}

static void schedule_merge(ow_parts *ps)
{
    if (ps->merge_pending || ps->closing) return;
    ps->merge_pending = true;
    uv_timer_start(&ps->merge_timer, on_merge_timer, MERGE_MS, 0);
}

/* Every second: a partition that went stale (or any still stale, whose age counts up) re-merges. */
static void on_tick(uv_timer_t *t)
{
    ow_parts *ps = t->data;
    int64_t now = ow_clock_mono_ms();
    for (int p = 0; p < ps->n; p++) {
        const ow_part *pt = &ps->v[p];
        bool stale = !pt->snap || (pt->heard_ms && now - pt->heard_ms > ps->stale_ms);
        if (stale != pt->stale || (stale && ps->merged)) {
            schedule_merge(ps);
            return;
        }
    }
}

/* ---- lifecycle ---- */

int ow_parts_init(ow_parts *ps, uv_loop_t *loop, int n, const ow_partition_table *owners,
                  const ow_redis_target *target, const char *desc, int64_t timeout_ms,
                  int64_t stale_ms, ow_parts_publish_fn *publish, void *ud)
{
    memset(ps, 0, sizeof *ps);
    ps->loop = loop;
    ps->owners = owners;
    ps->stale_ms = stale_ms;
    ps->publish = publish;
    ps->ud = ud;
    ps->v = calloc((size_t)n, sizeof *ps->v);
    if (!ps->v) return -1;
    ps->n = n;
    if (uv_timer_init(loop, &ps->merge_timer)) return -1;
    if (uv_timer_init(loop, &ps->tick)) {
        uv_close((uv_handle_t *)&ps->merge_timer, NULL);
        return -1;
    }
    ps->merge_timer.data = ps->tick.data = ps;
    ps->timers_ok = true;
    for (int p = 0; p < n; p++) {
        ow_part *pt = &ps->v[p];
        pt->owner = ps;
        pt->index = p;
        pt->stale = true;
        if (ow_partition_rekey(pt->chan_live, sizeof pt->chan_live, p, OW_CHAN_LIVE) < 0 ||
            ow_partition_rekey(pt->chan_deltas, sizeof pt->chan_deltas, p, OW_CHAN_DELTAS) < 0 ||
            ow_partition_rekey(pt->chan_ready, sizeof pt->chan_ready, p, OW_CHAN_ORDER_READY) < 0 ||
            ow_partition_rekey(pt->snapshot_key, sizeof pt->snapshot_key, p, OW_KEY_SNAPSHOT) < 0)
            return -1;
        pt->channels[CH_LIVE] = pt->chan_live;
        pt->channels[CH_DELTAS] = pt->chan_deltas;
        pt->channels[CH_READY] = pt->chan_ready;
        if (ow_redis_sub_init(&pt->sub, loop, target, desc, timeout_ms, pt->channels, 3,
                              pt->snapshot_key, on_part_message, pt))
            return -1;
        pt->sub_ok = true;
    }
    return 0;
}

void ow_parts_use_cluster(ow_parts *ps, ow_cluster_async *c)
{
    for (int p = 0; p < ps->n; p++)
        ow_redis_sub_use_cluster(&ps->v[p].sub, c);
}

void ow_parts_on_ready(ow_parts *ps, ow_parts_ready_fn *on_ready)
{
    ps->on_ready = on_ready;
}

void ow_parts_start(ow_parts *ps)
{
    for (int p = 0; p < ps->n; p++)
        ow_redis_sub_start(&ps->v[p].sub);
    uv_timer_start(&ps->tick, on_tick, TICK_MS, TICK_MS);
}

void ow_parts_close(ow_parts *ps)
{
    if (ps->closing) return;
    ps->closing = true;
    for (int p = 0; p < ps->n; p++)
        if (ps->v[p].sub_ok) ow_redis_sub_close(&ps->v[p].sub);
    if (ps->timers_ok) {
        uv_close((uv_handle_t *)&ps->merge_timer, NULL);
        uv_close((uv_handle_t *)&ps->tick, NULL);
    }
}

void ow_parts_fini(ow_parts *ps)
{
    for (int p = 0; p < ps->n; p++)
        drop_partial(&ps->v[p]);
    free(ps->v);
    cJSON_Delete(ps->merged);
    memset(ps, 0, sizeof *ps);
}

int ow_parts_alert_partition(const ow_parts *ps, const char *id)
{
    for (int p = 0; p < ps->n; p++) {
        ow_merge_part one = {.snap = ps->v[p].snap};
        if (ow_merge_alert_partition(&one, 1, id) == 0) return p;
    }
    return -1;
}

bool ow_parts_connected(const ow_parts *ps)
{
    for (int p = 0; p < ps->n; p++)
        if (!ow_redis_sub_connected(&ps->v[p].sub)) return false;
    return ps->n > 0;
}

static void line(ow_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(ow_buf *b, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n > 0) ow_buf_put(b, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

void ow_parts_metrics(const ow_parts *ps, ow_buf *b)
{
    int64_t now = ow_clock_mono_ms();
    line(b, "# HELP opswall_feed_partition_age_seconds Since the feed last heard from the "
            "partition's engine (-1: never).\n# TYPE opswall_feed_partition_age_seconds gauge\n");
    for (int p = 0; p < ps->n; p++)
        line(b, "opswall_feed_partition_age_seconds{partition=\"%d\"} %.3f\n", p,
             ps->v[p].heard_ms ? (double)(now - ps->v[p].heard_ms) / 1000.0 : -1.0);
    line(b, "# HELP opswall_feed_partition_stale 1 when the partition is shown stale.\n"
            "# TYPE opswall_feed_partition_stale gauge\n");
    for (int p = 0; p < ps->n; p++)
        line(b, "opswall_feed_partition_stale{partition=\"%d\"} %d\n", p, ps->v[p].stale ? 1 : 0);
    line(b,
         "# HELP opswall_feed_partition_refused_total Partial snapshots the merge refused.\n"
         "# TYPE opswall_feed_partition_refused_total counter\n"
         "opswall_feed_partition_refused_total %llu\n",
         (unsigned long long)ps->refused);
    line(b,
         "# HELP opswall_feed_merges_total Merged pictures handed to the viewers.\n"
         "# TYPE opswall_feed_merges_total counter\nopswall_feed_merges_total %llu\n",
         (unsigned long long)ps->merges);
}

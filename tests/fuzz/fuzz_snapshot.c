/*
 * fuzz_snapshot — ow_snapshot_parse on arbitrary bytes, and a model-based check of the model
 * and the snapshot format driven by the same bytes.
 *
 * 1. The input as a snapshot message: rejected with a message, or decoded into sane values.
 * 2. The input as a script of order events (4 bytes each: type, order, time, priority) applied
 *    to ow_model; a plain recomputation from the applied list must agree on the open counts
 *    after every step, and the published snapshot must parse back to the same numbers.
 */
#include <string.h>

#include "config.h"
#include "fuzz_common.h"
#include "model.h"
#include "snapshot.h"

#define ORDERS    8
#define MAX_STEPS 256

static const ow_event_type script_types[] = {
    OW_EV_ORDER_CREATED,  OW_EV_ORDER_RESOLVED,   OW_EV_ORDER_CLOSED,   OW_EV_ORDER_CANCELLED,
    OW_EV_ORDER_REOPENED, OW_EV_ORDER_DISPATCHED, OW_EV_ORDER_CALLBACK, OW_EV_TECH_STATUS,
};

typedef struct {
    ow_event_type type;
    int order;
    int64_t ts;
    ow_priority prio;
} step;

/* Open orders per priority from the steps so far, by the rule in model.h, done the slow way. */
static void recount(const step *steps, int n, int64_t open[OW_PRIO__COUNT])
{
    memset(open, 0, sizeof(int64_t) * OW_PRIO__COUNT);
    for (int o = 0; o < ORDERS; o++) {
        bool created = false;
        int64_t created_ts = 0, end = INT64_MIN, reopen = INT64_MIN;
        ow_priority prio = OW_PRIO_EMERGENCY;
        for (int i = 0; i < n; i++) {
            const step *s = &steps[i];
            if (s->order != o) continue;
            if (s->type == OW_EV_ORDER_CREATED && (!created || s->ts < created_ts))
                created = true, created_ts = s->ts, prio = s->prio; /* ties: the first applied */
            if ((s->type == OW_EV_ORDER_RESOLVED || s->type == OW_EV_ORDER_CLOSED ||
                 s->type == OW_EV_ORDER_CANCELLED) &&
                s->ts > end)
                end = s->ts;
            if (s->type == OW_EV_ORDER_REOPENED && s->ts > reopen) reopen = s->ts;
        }
        if (created && (end == INT64_MIN || reopen > end)) open[prio]++;
    }
}

static void model_script(const uint8_t *data, size_t size)
{
    static step steps[MAX_STEPS];
    ow_config cfg;
    ow_config_defaults(&cfg);
    ow_model *m = ow_model_new(&cfg);
    if (!m) return;
    int n = 0;
    int64_t last = 0;
    for (size_t i = 0; i + 4 <= size && n < MAX_STEPS; i += 4, n++) {
        step *s = &steps[n];
        s->type = script_types[data[i] % (sizeof script_types / sizeof script_types[0])];
        s->order = data[i + 1] % ORDERS;
        s->ts = INT64_C(1795310102120) + (int64_t)(data[i + 2] % 32) * 1000;
        s->prio = (ow_priority)(data[i + 3] % OW_PRIO__COUNT);
        ow_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = s->type;
        ev.ts_ms = s->ts;
        snprintf(ev.id, sizeof ev.id, "e%d", n);
        if (ow_event_is_order(s->type))
            snprintf(ev.order_id, sizeof ev.order_id, "o%d", s->order);
        else
            s->order = -1; /* not an order event: no order to count */
        ev.priority = s->prio;
        fuzz_require(ow_model_apply(m, &ev, s->ts) >= 0, "apply");
        if (s->ts > last) last = s->ts;

        int64_t want[OW_PRIO__COUNT];
        recount(steps, n + 1, want);
        const ow_model_stats *st = ow_model_stats_get(m);
        int64_t total = 0;
        for (int p = 0; p < OW_PRIO__COUNT; p++) {
            fuzz_require(st->open[p] == want[p], "open count matches the recount");
            total += want[p];
        }
        fuzz_require(st->open_total == total, "open_total is the sum");
        fuzz_require(st->events_applied == n + 1, "events_applied");
        fuzz_require(st->last_event_ms == last, "last_event_ms is the latest ts");
    }
    char *text =
        ow_snapshot_format(m, n, INT64_C(1795310102120), n % 2 ? OW_MODE_REPLAY : OW_MODE_LIVE);
    fuzz_require(text != NULL, "format");
    ow_snapshot_view v;
    ow_err err;
    fuzz_require(ow_snapshot_parse(text, strlen(text), &v, &err) == OW_OK, "own snapshot parses");
    const ow_model_stats *st = ow_model_stats_get(m);
    fuzz_require(v.seq == n && v.now_ms == INT64_C(1795310102120), "seq and now");
    fuzz_require(v.mode == (n % 2 ? OW_MODE_REPLAY : OW_MODE_LIVE), "mode");
    fuzz_require(memcmp(v.open, st->open, sizeof v.open) == 0 && v.open_total == st->open_total,
                 "open counts round trip");
    fuzz_require(v.orders_known == st->orders_known && v.events_applied == st->events_applied,
                 "totals round trip");
    free(text);
    ow_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ow_snapshot_view v;
    ow_err err;
    int rc = ow_snapshot_parse((const char *)data, size, &v, &err);
    if (rc == OW_OK) {
        fuzz_require(v.seq >= 0 && v.now_ms >= 0 && v.open_total >= 0 && v.orders_known >= 0 &&
                         v.events_applied >= 0,
                     "non-negative");
        for (int p = 0; p < OW_PRIO__COUNT; p++)
            fuzz_require(v.open[p] >= 0, "open >= 0");
        fuzz_require(v.mode == OW_MODE_LIVE || v.mode == OW_MODE_REPLAY, "mode");
    } else {
        fuzz_require(rc == OW_EINVAL && err.code == rc, "EINVAL");
        fuzz_require(strncmp(err.msg, "snapshot: ", 10) == 0, "message says snapshot");
    }
    model_script(data, size);
    return 0;
}

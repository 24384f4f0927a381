/*
 * fuzz_snapshot — ow_snapshot_parse on arbitrary bytes, and a model-based check of the engine's
 * live state (engine/state.h) and its published snapshot driven by the same bytes.
 *
 * 1. The input as a snapshot message: rejected with a message, or decoded into sane values.
 * 2. The input as a script of 4-byte steps (op, order, time, priority). Ops are order events
 *    applied to ow_state, and "advance the clock" (ow_state_advance). A plain recomputation from
 *    the applied list must agree with the state on the open counts after every step: an order is
 *    open when created and its latest reopen is after its latest resolve/close/cancel; it counts
 *    under the priority of its earliest order.created (segment "standard": no override), the
 *    first applied on a tie (a second identical instant is a no-op). After an advance no crossing
 *    at or before now is left pending. The published snapshot (ow_picture_snapshot) must parse
 *    back with ow_snapshot_parse to the same numbers.
 */
#include <string.h>

#include "config.h"
#include "fuzz_common.h"
#include "picture.h"
#include "policy.h"
#include "snapshot.h"
#include "state.h"

#define ORDERS    8
#define MAX_STEPS 256
#define BASE_MS   INT64_C(1795310102120) /* 2026-11-22T01:15:02.120Z */
#define OP_ADVANCE                                                                                 \
    (int)(sizeof script_types / sizeof script_types[0]) /* op value for "advance the clock" */

static const ow_event_type script_types[] = {
    OW_EV_ORDER_CREATED,  OW_EV_ORDER_RESOLVED,   OW_EV_ORDER_CLOSED,   OW_EV_ORDER_CANCELLED,
    OW_EV_ORDER_REOPENED, OW_EV_ORDER_DISPATCHED, OW_EV_ORDER_CALLBACK, OW_EV_TECH_STATUS,
};

typedef struct {
    ow_event_type type;
    int order; /* -1: not an order event */
    int64_t ts;
    ow_priority prio;
} step;

/* Open orders per priority from the events so far, by the rule above, done the slow way. */
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

static int orders_touched(const step *steps, int n)
{
    bool seen[ORDERS] = {false};
    int count = 0;
    for (int i = 0; i < n; i++)
        if (steps[i].order >= 0 && !seen[steps[i].order]) seen[steps[i].order] = true, count++;
    return count;
}

static void check_totals(const ow_state *s, const step *steps, int n, int64_t last)
{
    int64_t want[OW_PRIO__COUNT], total = 0;
    recount(steps, n, want);
    const ow_state_totals *t = ow_state_totals_get(s);
    for (int p = 0; p < OW_PRIO__COUNT; p++) {
        fuzz_require(t->open[p] == want[p], "open count matches the recount");
        total += want[p];
    }
    fuzz_require(t->open_total == total, "open_total is the sum");
    fuzz_require(t->events_applied == n, "events_applied");
    fuzz_require(t->orders_known == orders_touched(steps, n), "orders_known");
    fuzz_require(t->last_event_ms == last, "last_event_ms is the latest ts");
    for (int l = 0; l < 4; l++)
        fuzz_require(t->alerts_open_by_level[l] >= 0, "open alerts >= 0");
}

/* Fire everything due by now; then nothing due at or before now is left, and every raise in the
 * outbox happened at or before now: SLA crossings fire only when now reaches them; a root-cause
 * flag an event raises is raised at that event's time, which may be ahead of a live clock. */
static void advance(ow_state *s, int64_t now, int64_t last)
{
    fuzz_require(ow_state_advance(s, now) >= 0, "advance");
    fuzz_require(ow_state_next_due(s) > now, "nothing due at or before now after advance");
    size_t n;
    const ow_alert *a = ow_state_outbox(s, &n);
    for (size_t i = 0; i < n; i++)
        fuzz_require(a[i].op != OW_ALERT_RAISE ||
                         a[i].at <= (a[i].kind == OW_ALERT_FLAG && last > now ? last : now),
                     "raised no later than now");
    ow_state_outbox_clear(s);
}

static void model_script(const uint8_t *data, size_t size)
{
    static step steps[MAX_STEPS];
    ow_config cfg;
    ow_policy pol;
    ow_config_defaults(&cfg);
    ow_policy_from_config(&pol, &cfg);
    ow_state *s = ow_state_new(&pol);
    if (!s) return;
    int n = 0, ops = 0;
    int64_t last = 0, now = BASE_MS;
    for (size_t i = 0; i + 4 <= size && ops < MAX_STEPS; i += 4, ops++) {
        int op = data[i] % (OP_ADVANCE + 1);
        if (op == OP_ADVANCE) {
            /* up to ~21 h ahead, in 5-minute steps: crosses every default target but callback */
            int64_t to = BASE_MS + (int64_t)data[i + 2] * 5 * 60 * 1000;
            if (to > now) now = to;
            advance(s, now, last);
            check_totals(s, steps, n, last);
            continue;
        }
        step *st = &steps[n];
        st->type = script_types[op];
        st->order = data[i + 1] % ORDERS;
        st->ts = BASE_MS + (int64_t)(data[i + 2] % 32) * 1000;
        st->prio = (ow_priority)(data[i + 3] % OW_PRIO__COUNT);
        ow_event ev;
        memset(&ev, 0, sizeof ev); /* segment "standard", no region or category */
        ev.type = st->type;
        ev.ts_ms = st->ts;
        snprintf(ev.id, sizeof ev.id, "e%d", n);
        if (ow_event_is_order(st->type)) {
            snprintf(ev.order_id, sizeof ev.order_id, "o%d", st->order);
            if (st->type != OW_EV_ORDER_CREATED)
                snprintf(ev.tech_id, sizeof ev.tech_id, "t%d", data[i + 3] % 2);
        } else {
            st->order = -1; /* not an order event: no order to count */
            snprintf(ev.tech_id, sizeof ev.tech_id, "t%d", data[i + 1] % 2);
        }
        ev.priority = st->prio;
        fuzz_require(ow_state_apply(s, &ev) >= 0, "apply");
        if (st->ts > last) last = st->ts;
        n++;
        check_totals(s, steps, n, last);
    }
    advance(s, now, last);

    ow_mode mode = ops % 2 ? OW_MODE_REPLAY : OW_MODE_LIVE;
    char *text = ow_picture_snapshot(s, ops, now, mode);
    fuzz_require(text != NULL, "format");
    ow_snapshot_view v;
    ow_err err;
    fuzz_require(ow_snapshot_parse(text, strlen(text), &v, &err) == OW_OK, "own snapshot parses");
    const ow_state_totals *t = ow_state_totals_get(s);
    fuzz_require(v.seq == ops && v.now_ms == now, "seq and now");
    fuzz_require(v.mode == mode, "mode");
    fuzz_require(memcmp(v.open, t->open, sizeof v.open) == 0 && v.open_total == t->open_total,
                 "open counts round trip");
    fuzz_require(v.orders_known == t->orders_known && v.events_applied == t->events_applied,
                 "totals round trip");
    free(text);
    ow_state_free(s);
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

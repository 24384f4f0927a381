#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "map.h"

typedef struct order {
    bool created;
    ow_priority priority;
    int64_t created_ts;
    int64_t end_ts;    /* latest resolved/closed/cancelled, INT64_MIN when none */
    int64_t reopen_ts; /* latest reopened, INT64_MIN when none */
} order;

struct ow_model {
    const ow_config *cfg;
    ow_map orders; /* order_id → order* */
    ow_model_stats stats;
};

ow_model *ow_model_new(const ow_config *cfg)
{
    ow_model *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cfg = cfg;
    ow_map_init(&m->orders);
    return m;
}

void ow_model_free(ow_model *m)
{
    if (!m) return;
    size_t pos = 0;
    void *v;
    while (ow_map_next(&m->orders, &pos, NULL, &v))
        free(v);
    ow_map_fini(&m->orders);
    free(m);
}

static bool is_open(const order *o)
{
    return o->created && (o->end_ts == INT64_MIN || o->reopen_ts > o->end_ts);
}

static order *order_get(ow_model *m, const char *id)
{
    order *o = ow_map_get(&m->orders, id);
    if (o) return o;
    o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->end_ts = o->reopen_ts = INT64_MIN;
    if (ow_map_put(&m->orders, id, o)) {
        free(o);
        return NULL;
    }
    m->stats.orders_known++;
    return o;
}

int ow_model_apply(ow_model *m, const ow_event *ev, int64_t now_ms)
{
    (void)now_ms;
    m->stats.events_applied++;
    m->stats.events_by_type[ev->type]++;
    if (ev->ts_ms > m->stats.last_event_ms) m->stats.last_event_ms = ev->ts_ms;
    if (!ow_event_is_order(ev->type)) return 0;

    order *o = order_get(m, ev->order_id);
    if (!o) return OW_ENOMEM;
    bool was = is_open(o);
    ow_priority was_prio = o->priority;
    switch (ev->type) {
    case OW_EV_ORDER_CREATED:
        if (!o->created || ev->ts_ms < o->created_ts) {
            o->created = true;
            o->created_ts = ev->ts_ms;
            o->priority = ev->priority;
        }
        break;
    case OW_EV_ORDER_RESOLVED:
    case OW_EV_ORDER_CLOSED:
    case OW_EV_ORDER_CANCELLED:
        if (ev->ts_ms > o->end_ts) o->end_ts = ev->ts_ms;
        break;
    case OW_EV_ORDER_REOPENED:
        if (ev->ts_ms > o->reopen_ts) o->reopen_ts = ev->ts_ms;
        break;
    default: break;
    }
    bool now_open = is_open(o);
    if (was) m->stats.open[was_prio]--, m->stats.open_total--;
    if (now_open) m->stats.open[o->priority]++, m->stats.open_total++;
    return was != now_open || (was && was_prio != o->priority);
}

const ow_model_stats *ow_model_stats_get(const ow_model *m)
{
    return &m->stats;
}

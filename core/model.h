/*
 * model — the engine's live model of orders (walking-skeleton scope: which orders are open, by
 * priority). Pure: events and "now" come in as arguments.
 *
 * Applying is order-independent and idempotent: an order's openness is derived from the latest
 * event time of each lifecycle boundary (created, resolved/closed/cancelled, reopened), so events
 * that arrive late or twice give the same answer as the same events in time order, once.
 *
 * Lifecycle: ow_model_new → ow_model_apply* → ow_model_free.
 */
#ifndef OW_MODEL_H
#define OW_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "event.h"

typedef struct ow_model ow_model;

typedef struct ow_model_stats {
    int64_t open[OW_PRIO__COUNT]; /* open orders per priority */
    int64_t open_total;
    int64_t orders_known; /* orders with at least one event */
    int64_t events_applied;
    int64_t events_by_type[OW_EV__COUNT];
    int64_t last_event_ms; /* greatest event time seen, 0 before any */
} ow_model_stats;

/* cfg is borrowed and must outlive the model. NULL on out of memory. */
ow_model *ow_model_new(const ow_config *cfg);
void ow_model_free(ow_model *m);

/* Apply one validated event. Returns 1 when the published picture changed, 0 when not, or
 * OW_ENOMEM. now_ms is the engine's clock (unused by the skeleton; SLA timers need it). */
int ow_model_apply(ow_model *m, const ow_event *ev, int64_t now_ms);

/* Current totals (borrowed; valid until the next apply). */
const ow_model_stats *ow_model_stats_get(const ow_model *m);

#endif

/*
 * state — the engine's live model: every order's lifecycle and SLA clocks, complaints,
 * technicians, and the alerts their clocks raise (DESIGN §2, §4, §7). Pure: events and "now" come
 * in as arguments; alerts go out through an outbox the caller drains.
 *
 * Events may arrive late and twice. Each order keeps its lifecycle instants sorted by event time
 * and its clocks are recomputed from them, so the same events in any arrival order give the same
 * clocks; an identical instant (same time, type, technician) is a no-op.
 * Crossings are decided when "now" reaches them (ow_state_advance), with what is known then: a
 * stage that stopped at or before the instant has not crossed; a stop that arrives later resolves
 * the alert but never withdraws it.
 *
 * Lifecycle: ow_state_new → (ow_state_apply | ow_state_advance | ow_state_ack)* → ow_state_free.
 */
#ifndef OW_STATE_H
#define OW_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "alerts.h"
#include "event.h"
#include "heatmap.h"
#include "kpi.h"
#include "flags.h"
#include "names.h"
#include "policy.h"

typedef struct ow_state ow_state;

typedef struct ow_state_totals {
    int64_t open[OW_PRIO__COUNT]; /* open orders by effective priority */
    int64_t open_total;
    int64_t orders_known;
    int64_t complaints_open;
    int64_t techs_by_status[OW_TECH__COUNT];
    int64_t events_applied;
    int64_t events_by_type[OW_EV__COUNT];
    int64_t duplicates;           /* identical instants ignored */
    int64_t orders_forgotten;     /* dropped engine.closed_retention after their latest event */
    int64_t complaints_forgotten; /* responded complaints dropped likewise */
    int64_t late_for_forgotten;   /* events of unknown orders and complaints older than the
                                     retention: ignored */
    int64_t last_event_ms;
    int64_t alerts_raised;
    int64_t alerts_open_by_level[4];
} ow_state_totals;

/* policy is borrowed and must outlive the state. NULL on out of memory. */
ow_state *ow_state_new(const ow_policy *policy);
void ow_state_free(ow_state *s);

/* Apply one validated event. Returns 1 when the picture changed, 0 for a no-op, OW_ENOMEM.
 * Event time also forgets: before an event that moves the latest event time T forward, every order
 * that is not open (resolved, closed, cancelled, or never created) and whose latest instant is at
 * or before T - policy->closed_retention_ms is dropped, with its clocks, index entries and flag
 * state (O(forgotten), through a queue ordered by that instant). An order event of an order the
 * model does not know, at or before T - the retention, is counted in late_for_forgotten and
 * ignored (docs/internals.md "Forgetting closed orders"). */
int ow_state_apply(ow_state *s, const ow_event *ev);

/* Fire every crossing with at <= now_ms, in (at, clock) order. Returns how many fired, or
 * OW_ENOMEM. now_ms never needs to increase; a smaller value fires nothing. */
int ow_state_advance(ow_state *s, int64_t now_ms);

/* The earliest pending crossing instant, or OW_NEVER. */
int64_t ow_state_next_due(const ow_state *s);

/* Acknowledge an open alert by id. OW_ENOTFOUND when no such open alert. */
int ow_state_ack(ow_state *s, const char *alert_id, const ow_ack *ack, ow_err *err);

/* Alert records (raise / resolve / ack) produced since the last clear, in order. Borrowed. */
const ow_alert *ow_state_outbox(const ow_state *s, size_t *n);
void ow_state_outbox_clear(ow_state *s);

const ow_state_totals *ow_state_totals_get(const ow_state *s);
const ow_names *ow_state_regions(const ow_state *s);
const ow_acks *ow_state_acks(const ow_state *s);
const ow_names *ow_state_categories(const ow_state *s);
const ow_policy *ow_state_policy(const ow_state *s);
/* The analytics kept in step with the model (issue 5). Borrowed. */
const ow_kpi *ow_state_kpi(const ow_state *s);
const ow_heat *ow_state_heat(const ow_state *s);
/* The root-cause flags (flags.h views), borrowed. */
const ow_flags *ow_state_flags(const ow_state *s);

/* ---- read access for the snapshot and the order detail ---- */

typedef enum { OW_CLOCK_IDLE, OW_CLOCK_RUNNING, OW_CLOCK_STOPPED } ow_clock_state;

typedef struct ow_clock_view {
    int stage; /* ow_stage or OW_STAGE_COMPLAINT */
    ow_clock_state state;
    int instance;
    int64_t start, stop; /* OW_NEVER when not started / still running */
    int64_t target_ms;
    int64_t breach_at; /* the 100 % instant (pauses known so far), OW_NEVER if none */
    int64_t next_at;   /* next threshold not yet raised, OW_NEVER if none */
    int next_pct;
    uint8_t fired, open; /* bit k = ow_sla_pct[k] */
} ow_clock_view;

typedef struct ow_order_view {
    const char *id;
    bool created, open, paused;
    ow_priority priority, given_priority;
    ow_segment segment;
    const char *region, *category;
    int64_t created_at;
    int nclocks;
    ow_clock_view clocks[OW_STAGE__ORDER_COUNT];
} ow_order_view;

/* Fill v for an order; false when unknown. Strings are borrowed from the state. */
bool ow_state_order(const ow_state *s, const char *order_id, ow_order_view *v);

/* The open alerts that can be among the first k by (level, highest first; then at, oldest
 * first), for boards that show only those: every such alert is passed to fn once, in no order
 * (fn keeps its best k), and most others are skipped without computing their instant. Cost:
 * two passes of cheap bit tests over the open orders, exact SLA arithmetic only near the top. */
void ow_state_each_top_alert(const ow_state *s, size_t k,
                             bool (*fn)(const ow_alert *a, const ow_ack *ack, void *arg),
                             void *arg);

/* Every open alert (SLA: raised, its stage not stopped; flag: raised, not cleared) as a raise
 * record with its crossing instant, in (at, id) order; ack is its acknowledgement or NULL. Costs
 * O(open orders + alerts). Stop early by returning false. The records are valid during the call
 * only. */
void ow_state_each_open_alert(const ow_state *s,
                              bool (*fn)(const ow_alert *a, const ow_ack *ack, void *arg),
                              void *arg);

/* Visit the k most urgent open orders (earliest breach of a running clock first), in that order.
 * Costs O(k log k), not O(open orders). */
void ow_state_each_urgent(const ow_state *s, size_t k, bool (*fn)(const ow_order_view *, void *),
                          void *arg);

typedef struct ow_tech_view {
    const char *id, *region; /* borrowed; region "" when unknown */
    bool has_pos, has_status;
    double lon, lat;
    ow_tech_status status;
} ow_tech_view;

/* Visit every technician as known at `as_of` (a later change shows its previous values), in
 * unspecified order (sort for output). Stop early by returning false. */
void ow_state_each_tech(const ow_state *s, int64_t as_of,
                        bool (*fn)(const ow_tech_view *t, void *arg), void *arg);

/* Visit every open order (unspecified order; sort for output). Stop early by returning false. */
void ow_state_each_open_order(const ow_state *s, bool (*fn)(const ow_order_view *, void *),
                              void *arg);

#endif

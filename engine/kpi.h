/*
 * kpi — the service KPIs of DESIGN §6 over rolling event-time windows (1 h, the hour before,
 * today, 7 days), for the whole city and per region (issue 5).
 *
 * The model (state.c) reports *facts* as they become known, each with its event time and region
 * slot (region index + 1; 0 = no known region, counted in the city total only):
 *   an order created, a resolution (with first_visit_fix), a reopen, a callback (score, NPS),
 *   a complaint, a completed stage instance (start, stop, within target or not), an alert
 *   raised, a technician's status change (for utilisation), and "now" moving on.
 * Each fact can be taken out again with sign -1, which the model does when a late event changes
 * an order's history, so the KPIs depend on the events, not on their arrival order.
 *
 * Definitions (per window; "in the window" means by the fact's event time):
 *   created, resolved               counts (resolved: order.resolved instants)
 *   response_mean_s / _p90_s        created → first accepted, of the orders accepted in the window
 *   dispatch_mean_s / _p90_s        created → first dispatched
 *   first_visit_fix_pct             resolutions with first_visit_fix=true / those that say
 *   repeat_visit_pct                reopens / resolutions
 *   complaint_rate_pct              complaints created / orders created
 *   csat                            mean callback score × 20 (0–100)
 *   nps                             % promoters (9–10) − % detractors (0–6) of callbacks with nps
 *   sla_compliance_pct.<stage>      stage instances that ended within target / all that ended
 *                                   (the current instance of each stage of an order; stages cut
 *                                   short by a cancel or close are not counted)
 *   backlog                         open orders at the window's end
 *   utilisation_pct                 technician time enroute or onsite / time idle, enroute or
 *                                   onsite (integrated over event time)
 *   orders_per_tech                 resolutions / the mean number of technicians on shift
 * Percentiles come from ow_qsketch (≤ 0.5 % relative error). null = not enough data.
 *
 * Pure. Lifecycle: ow_kpi_new → facts / ow_kpi_advance → ow_kpi_free.
 */
#ifndef OW_KPI_H
#define OW_KPI_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "jsonw.h"
#include "names.h"
#include "quantile.h"
#include "tz.h"
#include "window.h"

#define OW_KPI_STAGES    (OW_STAGE__ORDER_COUNT + 1) /* order stages, then complaint */
#define OW_KPI_STAGE_CPL OW_STAGE__ORDER_COUNT
#define OW_KPI_SPARK     48 /* sparkline buckets (4 h of 5 min) */

typedef struct ow_kpi ow_kpi;

/* One KPI block (the snapshot's BLOCK). Doubles are NaN when there is not enough data. */
typedef struct ow_kpi_block {
    int64_t created, resolved, complaints, callbacks, backlog;
    double response_mean_s, response_p90_s, dispatch_mean_s, dispatch_p90_s;
    double first_visit_fix_pct, repeat_visit_pct, complaint_rate_pct, csat, nps;
    double sla_pct[OW_KPI_STAGES];
    int64_t sla_n[OW_KPI_STAGES];
    double utilisation_pct, orders_per_tech;
} ow_kpi_block;

/* tz (borrowed, outlives the KPIs; NULL = the fixed utc_offset_min) places local midnight
 * ("today") and the hours of day. NULL on out of memory. */
ow_kpi *ow_kpi_new(const ow_tz *tz, int32_t utc_offset_min);
void ow_kpi_free(ow_kpi *k);

/* ---- facts (0 or OW_ENOMEM); sign is +1 to add, -1 to take out ---- */
int ow_kpi_created(ow_kpi *k, int slot, int64_t ts, int sign);
int ow_kpi_complaint(ow_kpi *k, int slot, int64_t ts, int sign);
/* fvf: -1 not said, 0 no, 1 yes */
int ow_kpi_resolved(ow_kpi *k, int slot, int64_t ts, int fvf, int sign);
int ow_kpi_reopened(ow_kpi *k, int slot, int64_t ts, int sign);
/* score 1..5; nps 0..10 or -1 */
int ow_kpi_callback(ow_kpi *k, int slot, int64_t ts, int score, int nps, int sign);
/* A stage instance that ended at stop (stage: ow_stage or OW_KPI_STAGE_CPL). */
int ow_kpi_stage(ow_kpi *k, int slot, int stage, int64_t start, int64_t stop, bool met, int sign);
/* An alert raised at `at` (breach: its 100 % threshold). Alerts are never taken out. */
int ow_kpi_alert(ow_kpi *k, int slot, int64_t at, bool breach);
/* A technician moved from (old_slot, old_status) to (new_slot, new_status) at ts; status -1 =
 * none. */
int ow_kpi_tech(ow_kpi *k, int64_t ts, int old_slot, int old_status, int new_slot, int new_status);
/* Now moves on (never back); open[slot] is the number of open orders per slot (n slots), sampled
 * at bucket ends for the backlog history. */
int ow_kpi_advance(ow_kpi *k, int64_t now_ms, const int64_t *open, int n);

/* ---- reading ---- */

/* The analytics clock: the latest now given to ow_kpi_advance (INT64_MIN before). */
int64_t ow_kpi_now(const ow_kpi *k);
const ow_win *ow_kpi_window(const ow_kpi *k);
/* A window's block for a slot; open_now = the slot's open orders now. */
void ow_kpi_block_get(const ow_kpi *k, ow_win_kind win, int slot, int64_t open_now,
                      ow_kpi_block *b);
/* The block of an arbitrary past period [from, to) (≤ 7 days, still in the ring). */
int ow_kpi_block_range(const ow_kpi *k, int64_t from_ms, int64_t to_ms, int slot, ow_kpi_block *b);

/* Counts over an arbitrary past period [from, to) for a slot, from the buckets (the ring holds
 * 7 days): orders created, resolutions, complaints. */
typedef enum { OW_KPI_COUNT_CREATED, OW_KPI_COUNT_RESOLVED, OW_KPI_COUNT_COMPLAINTS } ow_kpi_count;
int64_t ow_kpi_count_range(const ow_kpi *k, int64_t from_ms, int64_t to_ms, int slot,
                           ow_kpi_count what);

/* ---- partial snapshots (a partitioned engine: docs/scaling.md §4, docs/snapshot.md `part`) ----
 * The sums behind the city-wide block of one window, which add up across partitions: counters,
 * the window's length and backlog, and the sketches the p90s are read from. Technician time is
 * the exception: every partition keeps the whole technician replica, so it is taken from one. */
#define OW_KPI_RAW 36 /* counters per raw block */
typedef struct ow_kpi_raw {
    int64_t c[OW_KPI_RAW];
    int64_t len_ms;                /* the window's length so far, ms */
    int64_t backlog;               /* open orders at the window's end */
    ow_qsketch response, dispatch; /* durations, ms */
} ow_kpi_raw;

/* The city-wide (slot 0) raw block of a window; open_total = open orders now. */
void ow_kpi_raw_get(const ow_kpi *k, ow_win_kind win, int64_t open_total, ow_kpi_raw *r);
/* Counter i is technician time (the same in every partition: taken from one, never summed). */
bool ow_kpi_raw_is_tech(int i);
/* into += from: every counter but technician time, the backlog and the sketches; with `first`
 * (the partition technician time and the window length are taken from) those too. */
void ow_kpi_raw_add(ow_kpi_raw *into, const ow_kpi_raw *from, bool first);
/* The block one engine would compute from these sums. */
void ow_kpi_block_from_raw(const ow_kpi_raw *r, ow_kpi_block *b);
/* The `kpi` part of a partial snapshot's `part` member: {"1h":{"c":[36 ints],"len_ms":…,
 * "backlog":…,"response":[idx,count,…],"dispatch":[…]},"prev_1h":…,"today":…,"7d":…}
 * (sketches as sparse bucket index/count pairs). */
void ow_kpi_write_part(const ow_kpi *k, ow_jsonw *w, int64_t open_total);
/* The window names, in ow_win_kind order ("1h", "prev_1h", "today", "7d"). */
const char *ow_kpi_window_name(int win);

/* ---- snapshot members (JSON values; docs/snapshot.md) ---- */

/* "kpi": regions are named by `regions` (slot r + 1 = name r); open[slot] as in advance. */
void ow_kpi_write(const ow_kpi *k, ow_jsonw *w, const ow_names *regions, const int64_t *open,
                  int nopen);
/* one BLOCK */
void ow_kpi_write_block(ow_jsonw *w, const ow_kpi_block *b);
/* "kpi_targets" from the configuration */
void ow_kpi_write_targets(ow_jsonw *w, const ow_analytics_config *a);
/* "spark": the last 48 buckets; open_total = open orders now */
void ow_kpi_write_spark(const ow_kpi *k, ow_jsonw *w, int64_t open_total);
/* "heat_hour": 7-day orders and complaints by local hour, per region */
void ow_kpi_write_hours(const ow_kpi *k, ow_jsonw *w, const ow_names *regions);
/* "bottleneck": 7-day p50/p90/n of every stage per region */
void ow_kpi_write_bottleneck(const ow_kpi *k, ow_jsonw *w, const ow_names *regions);

const char *ow_kpi_stage_name(int stage);

/* ---- checkpoint ---- */
void ow_kpi_save(const ow_kpi *k, ow_buf *b);
bool ow_kpi_load(ow_kpi *k, ow_rbuf *r);

#endif

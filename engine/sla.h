/*
 * sla — the arithmetic of SLA clocks (DESIGN §4, §7): when does a stage that started at `start`
 * reach p % of its target, given the time that does not count (pauses; outside business hours)?
 *
 * An alert's instant is  at = start + p% × target + the time that did not count before it,
 * computed to the millisecond (p% × target is rounded down to a whole millisecond), so an
 * independent calculation from the same events gives the same instants. Pure: no clock reads.
 */
#ifndef OW_SLA_H
#define OW_SLA_H

#include <stddef.h>
#include <stdint.h>

#include "config.h" /* ow_calendar */

#define OW_NEVER INT64_MAX /* an instant that never comes */

/* Thresholds of every clock, as percent of the target, and the alert level each raises:
 * 50 % info (0), 80 % dispatcher desk (1), 100 % supervisor 督办 (2), 150 % manager (3). */
#define OW_SLA_THRESHOLDS 4
extern const int ow_sla_pct[OW_SLA_THRESHOLDS];
extern const int ow_sla_level[OW_SLA_THRESHOLDS];

/* A half-open interval [from, to) of epoch ms; to = OW_NEVER while still open. */
typedef struct ow_interval {
    int64_t from, to;
} ow_interval;

/*
 * The instant at which `need_ms` of counting time has passed since `start`. Time inside any of the
 * `n` pauses (sorted by from, non-overlapping, the last one possibly open) does not count; with a
 * calendar, only time inside its windows counts. Returns OW_NEVER when that never happens (an open
 * pause, or a calendar with no open days).
 */
int64_t ow_sla_due(int64_t start, int64_t need_ms, const ow_interval *pauses, size_t n,
                   const ow_calendar *cal);

/* Counting time between start and t (0 when t <= start), with the same rules. */
int64_t ow_sla_counted(int64_t start, int64_t t, const ow_interval *pauses, size_t n,
                       const ow_calendar *cal);

/* p % of a target, rounded down to the millisecond. */
static inline int64_t ow_sla_part(int64_t target_ms, int pct)
{
    return target_ms / 100 * pct + target_ms % 100 * pct / 100;
}

#endif

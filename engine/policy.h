/*
 * policy — which SLA clocks run for an order and with which targets (DESIGN §4).
 *
 * Built once from the configuration; the model asks it for an order's effective priority and
 * the target of each stage. Rules, in order:
 *   1. targets come from sla.<priority>.<stage>;
 *   2. overrides (sla.overrides, first match wins per field) may set or raise the priority
 *      (public, elderly), scale targets (vip), or set one stage's target, matched by segment,
 *      category and region; an override with "stages" lists the only stages that run for the
 *      orders it matches (the others never start: target 0), e.g. requests that are never
 *      dispatched have no dispatch, accept, response or arrival clock;
 *   3. pause reasons stop the stages in sla.pause.<reason> (default: arrival and resolution);
 *   4. stages listed in sla.business_hours.stages count only inside the region's calendar.
 */
#ifndef OW_POLICY_H
#define OW_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "partition.h"
#include "regions.h"
#include "sla.h"
#include "tz.h"

typedef struct ow_policy {
    int64_t target_ms[OW_PRIO__COUNT][OW_STAGE__ORDER_COUNT];
    int64_t complaint_ms[OW_SEV__COUNT];
    uint32_t pause_stops[OW_PAUSE__COUNT]; /* bit per ow_stage stopped by each pause reason */
    ow_sla_override overrides[OW_SLA_OVERRIDES_MAX];
    int noverrides;
    uint32_t calendar_stages; /* bit per ow_stage that counts business hours only */
    struct {
        char region[OW_NAME_BUF]; /* "default" = for regions without their own */
        ow_calendar cal;
    } calendars[OW_CALENDARS_MAX];
    int ncalendars;
    ow_analytics_config analytics; /* heat grid cell, the city's zone, KPI targets */
    const char *city_name;         /* borrowed from the configuration */
    const ow_regions *city;        /* the city's regions, borrowed; set by the program after loading
                                    * them (NULL = no city: no grid, regions as events name them) */
    ow_flags_config flags;         /* root-cause flag thresholds (flags.c) */
    int64_t closed_retention_ms;   /* an order no longer open is forgotten this long (event time)
                                    * after its latest event; 0 = never (engine.closed_retention) */
    const ow_tz *tz; /* the city's time zone, borrowed; set by the program after loading it
                      * (io/files.h ow_zone_load). NULL = the fixed analytics.utc_offset_min */
    /* A partitioned deployment (docs/scaling.md §4): the model is partition home_partition of
     * home_table (borrowed). Every partition replicates the technicians, so a flag about a
     * region (surge, understaffed, backlog) or a technician (stale_technician) is raised only by
     * its home partition — the region's, the technician's FNV-1a hash — and each raise is counted
     * once across the partitions. NULL (the default) = one node: every flag is its own. */
    const ow_partition_table *home_table;
    int home_partition;
} ow_policy;

/* Policy from the configuration (targets, overrides, pause rules, calendars, analytics). cfg
 * must outlive the policy (city_name points into it); city and tz are left NULL. */
void ow_policy_from_config(ow_policy *p, const ow_config *cfg);

/* The priority an order is handled with after overrides. */
ow_priority ow_policy_priority(const ow_policy *p, ow_priority given, ow_segment seg,
                               const char *category, const char *region);

/* Target of a stage for an order (ms); 0 means the stage has no clock for this order. */
int64_t ow_policy_target(const ow_policy *p, ow_priority prio, ow_segment seg, const char *category,
                         const char *region, ow_stage stage);

/* Business-hours calendar for a stage in a region, or NULL when the stage counts all the time. */
const ow_calendar *ow_policy_calendar(const ow_policy *p, ow_stage stage, const char *region);

#endif

/*
 * merge — one snapshot from the partial snapshots of a partitioned deployment (docs/scaling.md §4
 * and §7, docs/snapshot.md "Partitions").
 *
 * Each partition's engine publishes the picture of its own orders and complaints, with the
 * technician replica every engine keeps, plus a `part` member carrying the sums and sketches the
 * city-wide KPIs are made of. The readers (feed, wallboard) merge the latest partial of every
 * partition into a snapshot of the same contract as one engine's:
 *
 *   sums (exact)          open, orders_known, complaints_open, alerts, regions[].open/breached/
 *                         alerts_open/backlog, heat_grid open/breached, heat_hour, heat_category,
 *                         spark series, analytics_events, events_applied (this one counts each
 *                         technician and stock event once per partition: not one node's figure)
 *   KPI blocks (exact)    kpi.overall from the `part` sums; p90s from the merged sketches (the same
 *                         sketch one engine would hold, so the same value, ≤ 0.5 % from the truth)
 *   by owner (exact)      kpi.regions.R and bottleneck.regions.R from R's partition (the table);
 *                         without a table, or when R's orders are split over partitions, the
 *                         entry with the most samples (approximate then)
 *   replica (exact)       techs, techs_pos, heat_grid avail_techs, regions[].techs, city,
 *                         kpi_targets, replay: from the reference partition (the freshest)
 *   top-k (exact)         urgent (20), escalations (30), flags (50): the union of the partitions'
 *                         lists, de-duplicated by id, sorted as the engine sorts, cut to k
 *   order differences     heat_category.categories lists the reference partition's categories
 *                         first (one engine lists them in order of first appearance), counts equal
 *   added                 `partitions`: per partition its seq, now, age_s and stale
 *   left out              stream_last (per partition), part
 *
 * Pure: no I/O, no clock (ages come in), no globals. Partial snapshots come from Redis (outside
 * input): every member read is type-checked; a malformed one fails the merge with a message that
 * names the partition and the member.
 */
#ifndef OW_MERGE_H
#define OW_MERGE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "partition.h"

#define OW_MERGE_URGENT      20
#define OW_MERGE_FLAGS       50
#define OW_MERGE_ESCALATIONS 30

typedef struct ow_merge_part {
    const cJSON *snap; /* the partition's latest partial snapshot (borrowed), NULL = none yet */
    int64_t age_ms;    /* since the reader last heard from the partition, ms */
    bool stale;        /* the reader considers it gone (shown, and not used as the reference) */
} ow_merge_part;

/* Merge parts[0..n-1] (index = partition number) into a new snapshot with sequence number seq.
 * owners (may be NULL) tells which partition owns a region. Returns a cJSON tree the caller
 * deletes; NULL with err (OW_EINVAL naming partition and member, OW_ENOMEM) on failure, and
 * OW_ENOTFOUND when no partition has a snapshot yet. */
cJSON *ow_merge_build(const ow_merge_part *parts, int n, const ow_partition_table *owners,
                      int64_t seq, ow_err *err);

/* The partition whose partial lists alert `id` in its escalations, or -1. */
int ow_merge_alert_partition(const ow_merge_part *parts, int n, const char *id);

#endif

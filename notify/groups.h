/*
 * groups — which alerts go out together, and when (DESIGN §7: group rather than drop).
 *
 * Each alert is routed (nconfig route tree) to one or more routes; in each, it joins the group of
 * its route and group_by label values (the group key, e.g. "0.1|region=north|level=2"). A group
 * sends its first message group_wait after its first alert, listing every alert that arrived
 * meanwhile; later changes (new alerts) go out at most every group_interval; an unchanged group
 * with unacknowledged open alerts is re-sent every repeat_interval; once every alert of a group
 * that was announced is resolved, the group sends one "resolved" message and ends. Alerts resolved
 * before any message are never announced (a flap within group_wait costs nobody a look).
 *
 * At send time, silenced alerts (silence.h) and inhibited alerts (an inhibit rule's source alert
 * is open with the same `equal` labels, e.g. an L3 of a region hides the L1s of that region) are
 * left out; a group with nothing left to say sends nothing and looks again after group_interval.
 *
 * Persistence: every change marks the alert and group records it touched dirty; the edge writes
 * ow_groups_take_dirty's records to Redis (alert id → state, group key → state) and loads them
 * back with ow_groups_load_* after a restart, so grouping resumes where it stopped.
 *
 * Pure: now is an argument. Lifecycle: ow_groups_new → add/change/flush... → ow_groups_free.
 */
#ifndef OW_GROUPS_H
#define OW_GROUPS_H

#include <stdbool.h>
#include <stdint.h>

#include "map.h"
#include "nalert.h"
#include "nconfig.h"
#include "silence.h"

#define OW_NOTICE_ID_BUF  96
#define OW_NOTICE_IDS_MAX 8192 /* JSON-escaped bytes of alert_ids: a record stays bounded */

/* One message to deliver, rendered. */
typedef struct ow_notice {
    char id[OW_NOTICE_ID_BUF]; /* unique and stable: "<key hash>-<group start ms>-<seq>" */
    int receiver;
    bool resolved;
    char *group_key;  /* owned */
    char **alert_ids; /* owned; the alerts the message lists, the first (most urgent) ones, as many
                         as fit in OW_NOTICE_IDS_MAX */
    int nalerts;
    int count;         /* every alert of the message: listed, or counted in its "more" */
    char *text, *body; /* owned (render.h) */
    int64_t at_ms;
} ow_notice;

void ow_notice_fini(ow_notice *n);

typedef struct ow_groups ow_groups;

/* cfg is borrowed and must outlive g. */
ow_groups *ow_groups_new(const ow_nconfig *cfg);
void ow_groups_free(ow_groups *g);

/* Take a new alert (owned by g from now on, also on error). A known id is ignored (returns 0):
 * the stream may deliver an entry twice across a restart. */
int ow_groups_add(ow_groups *g, ow_nalert *a, int64_t now_ms);
/* A resolve or an acknowledgement. Unknown ids are ignored (an alert raised before delivery was
 * set up, or already forgotten). */
int ow_groups_change(ow_groups *g, const ow_nchange *ch, int64_t now_ms);

/* Earliest instant at which ow_groups_flush has something to decide (INT64_MAX when none). */
int64_t ow_groups_next_ms(const ow_groups *g);

/* Decide every due group. Appends notices to *out (realloc'd array of *n, owned by the caller:
 * ow_notice_fini each, then free). silences may be NULL. Returns 0 or OW_ENOMEM. */
int ow_groups_flush(ow_groups *g, int64_t now_ms, ow_silence *const *silences, int nsilences,
                    ow_notice **out, int *n);

/* Dirty records since the last call: fn(kind, key, json or NULL for "delete", arg) for each,
 * kind 'a' (alert id → state) or 'g' (group key → state). The json is valid during the call. */
typedef void ow_groups_record_fn(char kind, const char *key, const char *json, void *arg);
int ow_groups_take_dirty(ow_groups *g, ow_groups_record_fn *fn, void *arg);

/* Restore: alerts first, then groups (a group naming an unknown alert or route drops it). */
int ow_groups_load_alert(ow_groups *g, const char *id, const char *json, size_t len, ow_err *err);
int ow_groups_load_group(ow_groups *g, const char *key, const char *json, size_t len, ow_err *err);

typedef struct ow_groups_stats {
    int alerts, groups;
    uint64_t added, duplicates, changes, unknown_changes, notices;
} ow_groups_stats;
ow_groups_stats ow_groups_stats_get(const ow_groups *g);

#endif

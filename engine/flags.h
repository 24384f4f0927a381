/*
 * flags — the root-cause flags of DESIGN §5, in the model's event time.
 *
 * Twelve conditions over orders, technicians, regions, complaint categories and parts. Each is
 * raised as an alert of kind `flag` when it becomes true and resolved when it ends, with a stable
 * id "flag:<name>:<subject>:<n>" (subject = the order, technician, region or category the
 * condition is about; n counts that subject's raises of that flag from 1), so a replay of the same
 * events gives the same ids at the same instants. The evidence (order, technician and region ids,
 * plus the numbers the rule compared) is captured when the flag is raised.
 *
 * The module is part of the model (state.c calls one hook per event kind and advances its timers
 * with the SLA clocks); it reads orders through state_impl.h and writes alert records into the
 * model's outbox. Rolling windows are bucketed counters (30 buckets per window, O(1) per event);
 * geography goes through spatial.h; time-based conditions (parts_wait, stale_technician, window
 * decay, the end of the repeat-visit memory) use one timer heap.
 *
 * Exact rules, subjects and clearing: docs/internals.md "Root-cause flags".
 */
#ifndef OW_FLAGS_H
#define OW_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

#include "alerts.h"
#include "buf.h"
#include "config.h"
#include "err.h"
#include "event.h"

#define OW_FLAGS_X(X)                                                                              \
    X(DUPLICATE_DISPATCH, "duplicate_dispatch")                                                    \
    X(REPEAT_VISIT, "repeat_visit")                                                                \
    X(NEGLECTED_REGION, "neglected_region")                                                        \
    X(SURGE, "surge")                                                                              \
    X(UNDERSTAFFED, "understaffed")                                                                \
    X(OVERLOAD, "overload")                                                                        \
    X(SKILL_MISMATCH, "skill_mismatch")                                                            \
    X(FAR_DISPATCH, "far_dispatch")                                                                \
    X(PARTS_WAIT, "parts_wait")                                                                    \
    X(STALE_TECHNICIAN, "stale_technician")                                                        \
    X(COMPLAINT_CLUSTER, "complaint_cluster")                                                      \
    X(BACKLOG, "backlog")

typedef enum {
#define OW_FLAG_ENUM(e, name) OW_FLAG_##e,
    OW_FLAGS_X(OW_FLAG_ENUM)
#undef OW_FLAG_ENUM
        OW_FLAG__COUNT
} ow_flag;

const char *ow_flag_name(ow_flag f);

#define OW_FLAG_EVIDENCE_MAX 20 /* ids per evidence list */

/* What the flags keep inside each order (state_impl.h embeds it): 20 bytes. */
typedef struct ow_flag_order {
    int32_t tech;    /* technician of the last dispatch (flags' technician index), -1 = none */
    int32_t holder;  /* technician whose acceptance holds the order, -1 = none */
    int32_t rec;     /* 1 + index of the order's record (geo, address, skill, parts), 0 = none */
    int32_t act_pos; /* position in its technician's active list, -1 = not active */
    int32_t region;  /* region the order is counted open in, -1 = not counted */
    uint16_t open;   /* bit per order-subject flag variant now raised */
    uint8_t bits;    /* dispatched, waiting for neglect, held (flags.c) */
    uint8_t pad;
} ow_flag_order;

#define OW_FLAG_ORDER_NONE ((ow_flag_order){-1, -1, 0, -1, -1, 0, 0, 0})

typedef struct ow_flags ow_flags;

/* A raised flag, for the snapshot. Strings are borrowed from the flags. */
typedef struct ow_flag_view {
    const char *id, *flag, *region, *summary;
    const char *evidence; /* a JSON object */
    int64_t at;
    int level;
} ow_flag_view;

/* The k newest raised flags, newest first (then by id), stopping when fn returns false.
 * O(raised · log k). */
void ow_flags_each_open(const ow_flags *fl, size_t k, bool (*fn)(const ow_flag_view *v, void *arg),
                        void *arg);
/* The raised flags whose subject is this order (duplicate, repeat visit, neglect, skill, far,
 * parts), in variant order, for the order's detail. */
struct ow_state;
void ow_flags_each_of_order(const struct ow_state *s, const char *order_id,
                            bool (*fn)(const ow_flag_view *v, void *arg), void *arg);

/* How many flags are raised now. */
size_t ow_flags_open_count(const ow_flags *fl);

/* ---- the model's side (state.c, checkpoint.c); everything else uses the views above ---- */

struct ow_state;
struct order;
struct ow_rbuf; /* core/buf.h; engine/ckio.h calls it ow_ckr */

/* cfg is copied. NULL on out of memory. */
ow_flags *ow_flags_new(const ow_flags_config *cfg);
void ow_flags_free(ow_flags *fl);

/* After an order event changed the order (duplicates are not reported). 0 or OW_ENOMEM. */
int ow_flags_order(struct ow_state *s, struct order *o, const ow_event *ev);
/* tech.status, tech.location, complaint.created, parts.stock. 0 or OW_ENOMEM. */
int ow_flags_event(struct ow_state *s, const ow_event *ev);
/* The order's dispatch clock crossed 100 % at `at` (neglected_region). */
int ow_flags_dispatch_breach(struct ow_state *s, struct order *o, int64_t at);
/* The model forgets an order (engine.closed_retention): whatever the flags hold of it goes,
 * before it is freed. The order is not open. O(1) but for the rare order still in the lazy
 * neglect list. */
void ow_flags_order_forget(struct ow_state *s, struct order *o);
/* Count a created complaint of `category` in its cluster window and evaluate the cluster: what
 * complaint.created does (id borrowed until ow_flags_complaint_forget; the model's copy, or the
 * cross-partition replica's for another partition's complaint, engine/crossfacts.h). 0 or
 * OW_ENOMEM. */
int ow_flags_complaint_count(struct ow_state *s, const char *category, const char *id,
                             int64_t ts_ms);
struct ow_holding; /* core/holding.h */
/* Whether holding record h (the shared stream, docs/scaling.md §4) is of another partition's
 * order: only on a partitioned model (ow_policy.home_table); its own orders' events come through
 * its own stream. */
bool ow_flags_holding_remote(const struct ow_state *s, const struct ow_holding *h);
/* Apply a record of another partition's order (engine/holdings.h) where one node applied its
 * event (wm: its shared entry's watermark): the technicians' counts of active and held orders,
 * and their overload and stale_technician re-decided at its instant. 1 applied, 0 not another
 * partition's, OW_ENOMEM. */
int ow_flags_holding(struct ow_state *s, const struct ow_holding *h, int64_t wm);
/* The same for a complaint (id: the model's copy, which the cluster rings borrow). O(categories).
 */
void ow_flags_complaint_forget(struct ow_state *s, const char *id);
/* Fire the flags' timers with at <= now. Returns how many fired, or OW_ENOMEM. */
int ow_flags_advance(struct ow_state *s, int64_t now_ms);
/* The earliest pending timer, or OW_NEVER. */
int64_t ow_flags_next_due(const ow_flags *fl);
/* Acknowledge a raised flag by id ("flag:..."). OW_ENOTFOUND when not raised. */
int ow_flags_ack(struct ow_state *s, const char *alert_id, const ow_ack *ack, ow_err *err);
/* The outbox was drained: strings of earlier instances that its records borrowed can go. */
void ow_flags_outbox_cleared(ow_flags *fl);
/* The raise record of a raised flag that the model's escalation index holds (inst is what
 * flags.c gave ow_state_impl_esc_flag), and its id; both borrowed while the flag stays raised. */
void ow_flags_inst_alert(const void *inst, ow_alert *a, const char **id);
/* The raise record of every raised flag (unsorted), with its id. */
void ow_flags_each_open_alert(const ow_flags *fl,
                              bool (*fn)(const ow_alert *a, const char *id, void *arg), void *arg);

/* Checkpoint: append the flags' state / read it back into a state whose orders, complaints and
 * names are already loaded (version: the checkpoint's, engine/checkpoint.c). Load returns false
 * with r->bad set. */
void ow_flags_save(const struct ow_state *s, ow_buf *b);
bool ow_flags_load(struct ow_state *s, struct ow_rbuf *r, uint32_t version);

#endif

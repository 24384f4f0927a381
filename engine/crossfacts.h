/*
 * crossfacts — a partition engine's replica of the other partitions' orders and complaints, as
 * far as three flags need them (docs/scaling.md §4): `duplicate_dispatch` and `repeat_visit`
 * (pairs of orders at the same address or within the radius, in any partition) and
 * `complaint_cluster` (complaints of a category city-wide).
 *
 * Fed by the cross-partition records of the shared stream (core/xrecord.h), applied between the
 * partition's own events in one node's order (engine/shared_feed.c). Orders: every partition
 * keeps the others' orders that have a place or an address, with what the pair checks read of
 * them on one node (category, region, place, created, open, dispatched and to whom, resolved at,
 * whether still in the repeat-visit memory); the order's own partition asks for candidates when
 * its order is dispatched or created (engine/flags.c), and merges them with its own. Complaints:
 * only the category's home partition keeps them, and counts each one in its category's window as
 * one node counts it (ow_flags_complaint_count), so its raises equal one node's.
 *
 * Memory: an order of another partition is kept while it is open and for repeat_visit.window
 * (7 days) after its last record once it is not; a complaint of another partition for
 * engine.closed_retention (8 days; at least the cluster window + its trailing span) after its
 * creation, to count it once like one node. Exact as long as engine.closed_retention is at least
 * repeat_visit.window (the defaults: 8 d and 7 d), so one node never forgets an order the pair
 * checks would still see.
 *
 * Part of the model (ow_state.xf): created by ow_state_new when the policy is a partition of a
 * table of more than one (ow_policy.home_table), saved in the checkpoint. Single-threaded.
 */
#ifndef OW_CROSSFACTS_H
#define OW_CROSSFACTS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "ckio.h"
#include "xrecord.h"

struct ow_state;
typedef struct ow_crossfacts ow_crossfacts;

/* repeat_ms: repeat_visit.window; keep_ms: how long a complaint's id is remembered; cell_m: the
 * place index's cell (the larger pair radius). NULL on out of memory. */
ow_crossfacts *ow_crossfacts_new(int64_t repeat_ms, int64_t keep_ms, double cell_m);
void ow_crossfacts_free(ow_crossfacts *x);

/* Apply a record to s's replica, as one node applied its event (wm: the largest event time before
 * it, the record's watermark). A record of the model's own partition is skipped (its model has
 * the event). Returns 1 when the model changed (a complaint counted: a flag may be raised), 0, or
 * OW_ENOMEM. */
int ow_crossfacts_apply(struct ow_state *s, const ow_xrec *x, int64_t wm);

/* The model advanced to now_ms: what one node's flags forgot by then goes (ow_state_advance). */
void ow_crossfacts_advance(struct ow_state *s, int64_t now_ms);

/* A pair candidate from another partition: what the flags' evidence names of it. Borrowed. */
typedef struct ow_xcand {
    const char *id, *tech, *region; /* "" = none */
    bool has_geo;
    double lon, lat;
    int64_t key; /* the instant the check compares: created (duplicate) or resolved (repeat) */
} ow_xcand;

typedef struct ow_xquery {
    bool repeat;          /* resolved orders (repeat visit) rather than open dispatched ones */
    const char *category; /* the same category only */
    int64_t from, to;     /* key in [from, to] */
    bool has_geo, has_addr;
    double lon, lat, radius_m;
    uint64_t addr;
} ow_xquery;

/* Visit the other partitions' orders at the query's address or within radius_m of its place that
 * pass the query, each once. */
void ow_crossfacts_near(const ow_crossfacts *x, const ow_xquery *q,
                        void (*fn)(const ow_xcand *c, void *arg), void *arg);

/* The replica's own copy of a complaint id (the cluster rings borrow it), or NULL. */
const char *ow_crossfacts_complaint_key(const ow_crossfacts *x, const char *id);

/* Orders and complaints held (tests, the memory bound). */
void ow_crossfacts_counts(const ow_crossfacts *x, int64_t *orders, int64_t *complaints);

/* Checkpoint section (x may be NULL: an empty section). Load needs the model's flags made. */
void ow_crossfacts_save(const ow_crossfacts *x, ow_buf *b);
bool ow_crossfacts_load(struct ow_state *s, ow_ckr *r);

#endif

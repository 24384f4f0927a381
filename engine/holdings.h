/*
 * holdings — a partition engine's replica of which technician holds which order of the *other*
 * partitions (docs/scaling.md §4), built from the shared stream's holding records
 * (core/holding.h) in one node's order. The flags module (flags.c) adds it to what its own orders
 * give each technician, so the technician's home partition decides `overload` (active orders)
 * and `stale_technician` (accepted open orders) on every partition's orders, as one node does.
 *
 * Per order it keeps what one node's model (state.c, flags.c) derives these from, and nothing
 * else: whether it was created, its latest end (resolved / closed / cancelled) and reopen, the
 * technician of its latest dispatch, the holder of its latest acceptance (cleared by a dispatch
 * to someone else), the instants of its dispatches and acceptances (an identical one is a
 * duplicate and changes nothing, as in state.c), and its latest instant. Open = created and not
 * ended since its latest reopen. An order that is not open is forgotten once the watermark is
 * engine.closed_retention past its latest instant, and a record of an order not known that old is
 * skipped — one node's rules (state.c order_forget, late_for_forgotten), so an order reopened or
 * re-created after the retention is decided the same way.
 *
 * Technicians are the caller's indices (flags.c's interned ids). Pure: no I/O, no clock.
 * Lifecycle: ow_holdings_new → (apply | load)* → save* → free. Not thread-safe.
 */
#ifndef OW_HOLDINGS_H
#define OW_HOLDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "holding.h"

typedef struct ow_holdings ow_holdings;

/* keep_ms: engine.closed_retention (<= 0: never forget). NULL on out of memory. */
ow_holdings *ow_holdings_new(int64_t keep_ms);
void ow_holdings_free(ow_holdings *hs);

/* What changed for a technician: its active orders, or the orders its acceptance holds. */
typedef enum { OW_HOLD_ACTIVE, OW_HOLD_HELD } ow_hold_what;
typedef struct ow_hold_change {
    int32_t tech;
    ow_hold_what what;
} ow_hold_change;
#define OW_HOLD_CHANGES_MAX 4

/* Apply record h of another partition's order. tech: the caller's index of h->tech_id (-1 when
 * the record names none). wm: the shared entry's watermark (the latest event time before it).
 * Fills out[] with the changes, in the order one node evaluates them; returns their number
 * (0..OW_HOLD_CHANGES_MAX) or OW_ENOMEM. */
int ow_holdings_apply(ow_holdings *hs, const ow_holding *h, int32_t tech, int64_t wm,
                      ow_hold_change out[OW_HOLD_CHANGES_MAX]);

/* A technician's active orders in the other partitions (ids borrowed until the next apply or
 * load), and the open orders its acceptance holds there. */
int32_t ow_holdings_active(const ow_holdings *hs, int32_t tech);
const char *ow_holdings_active_id(const ow_holdings *hs, int32_t tech, int32_t i);
int32_t ow_holdings_held(const ow_holdings *hs, int32_t tech);

/* Orders known (memory, tests). */
size_t ow_holdings_orders(const ow_holdings *hs);

/* The checkpoint's part (engine/ckio.h format). load: into an empty replica; technician indices
 * must be below ntechs. false with r->bad set on malformed input. */
void ow_holdings_save(const ow_holdings *hs, ow_buf *b);
bool ow_holdings_load(ow_holdings *hs, ow_rbuf *r, uint32_t ntechs);

#endif

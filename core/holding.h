/*
 * holding — the shared stream's compact record of an order event (docs/scaling.md §4): on a
 * partitioned deployment routed ingest appends one to ops:{g}:shared, just before the order event
 * goes to its partition, so that every engine's technician replica learns which technician holds
 * which order in every partition, in one node's order (engine/holdings.h applies them).
 *
 * One record per order event routed to a partition: the dispatches and acceptances say who holds
 * the order, created / resolved / closed / cancelled / reopened whether it is open, and every
 * instant moves the order's "latest instant" that decides when one node forgets it
 * (engine.closed_retention) — which a reopen after the retention must see to be decided like one
 * node. The text (the shared entry's field d, where an event has a JSON object) is
 *
 *   H<TAB><partition><TAB><order event type><TAB><ts, epoch ms><TAB><order id><TAB><tech id>
 *
 * tech id empty for types other than order.dispatched and order.accepted. Ids carry no control
 * characters (core/event.c), so a tab cannot occur inside a field. About 60 bytes, against
 * 150-300 for the event's JSON. Pure; no allocation.
 */
#ifndef OW_HOLDING_H
#define OW_HOLDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "event.h"

#define OW_HOLDING_MAX (2 + 5 + 1 + 24 + 1 + 21 + 1 + 2 * OW_ID_BUF) /* longest text, with NUL */

typedef struct ow_holding {
    int partition;      /* the order's partition, 0..OW_PARTITIONS_MAX-1 */
    ow_event_type type; /* an order.* type */
    int64_t ts_ms;      /* the event's time */
    char order_id[OW_ID_BUF];
    char tech_id[OW_ID_BUF]; /* "" unless dispatched / accepted */
} ow_holding;

/* Whether text[0..len) is a holding record (its first bytes) rather than an event's JSON. */
bool ow_holding_is(const char *text, size_t len);

/* The record of order event ev routed to `partition`. OW_EINVAL when ev is not an order event. */
int ow_holding_from_event(const ow_event *ev, int partition, ow_holding *h);

/* Write h's text into out[n] (NUL-terminated). Returns its length, or -1 if n is too small. */
int ow_holding_format(const ow_holding *h, char *out, size_t n);

/* Decode text[0..len) strictly: the five fields, nothing after, each in range. err names the
 * field ("holding record: field 3 (type): ..."). */
int ow_holding_parse(const char *text, size_t len, ow_holding *h, ow_err *err);

/* The de-dup id of the record of event `event_id` (the shared stream's marks are per id): the
 * event id with "\thold" appended, which no event id can be (no control characters). Returns -1
 * if n is too small. */
int ow_holding_mark(const char *event_id, char *out, size_t n);

#endif

/*
 * xrecord — the cross-partition facts records of the shared stream (docs/scaling.md §4).
 *
 * On a partitioned deployment ingest appends, beside the technician events, one compact record
 * for each event that the pair flags and the complaint clusters of other partitions need:
 *
 *   order.created (with a place or an address), order.dispatched, order.resolved,
 *   order.reopened, order.closed, order.cancelled   → an order record (kind "o")
 *   complaint.created                               → a complaint record (kind "c")
 *
 * Every engine applies them in the shared stream's order (one node's order) to a replica
 * (engine/crossfacts.h), so `duplicate_dispatch`, `repeat_visit` and `complaint_cluster` are
 * decided as one node decides them. The record is a JSON array (so ids are escaped as events'
 * are), never an object: the shared feed tells it from an event by its first byte.
 *
 *   ["o", <partition>, "<order event type>", <ts ms>, "<order id>"]               resolved, ...
 *   ["o", <partition>, "order.dispatched", <ts ms>, "<order id>", "<tech id>"]
 *   ["o", <partition>, "order.created", <ts ms>, "<order id>", "<category>", "<region>",
 *    <lon>|null, <lat>|null, "<address key, 16 hex digits>"|null]
 *   ["c", <partition>, "complaint.created", <ts ms>, "<complaint id>", "<category>"]
 *
 * Pure: no I/O. The decoder reads outside input (a Redis stream) and checks every member.
 */
#ifndef OW_XRECORD_H
#define OW_XRECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "event.h"

#define OW_XREC_PARTITIONS_MAX 4096        /* a partition number beyond this is refused */
#define OW_XREC_MAX_BYTES      (16 * 1024) /* the longest record: ids and names escaped */

typedef enum { OW_XREC_ORDER = 1, OW_XREC_COMPLAINT } ow_xrec_kind;

typedef struct ow_xrec {
    ow_xrec_kind kind;
    int partition;      /* the partition the event itself went to */
    ow_event_type type; /* the event's type */
    int64_t ts_ms;
    char id[OW_ID_BUF];         /* order or complaint id */
    char tech[OW_ID_BUF];       /* order.dispatched */
    char category[OW_NAME_BUF]; /* order.created, complaint.created */
    char region[OW_NAME_BUF];   /* order.created */
    bool has_geo, has_address;  /* order.created */
    double lon, lat;
    uint64_t address_key;
} ow_xrec;

/* Whether an event carries a record (the list above). */
bool ow_xrec_wanted(const ow_event *e);

/* Append the record of e (ow_xrec_wanted) routed to `partition` to out. OW_OK or OW_ENOMEM. */
int ow_xrec_encode(const ow_event *e, int partition, ow_buf *out);

/* True when text looks like a record rather than an event (its first byte is '['). */
bool ow_xrec_is(const char *text, size_t len);

/* Decode one record. OW_OK, or OW_EINVAL (OW_ETOOBIG past OW_XREC_MAX_BYTES) with a message
 * naming the member; err may be NULL. */
int ow_xrec_decode(const char *text, size_t len, ow_xrec *out, ow_err *err);

#endif

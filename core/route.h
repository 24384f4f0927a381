/*
 * route — where ingest sends an event on a partitioned deployment (docs/scaling.md §3).
 *
 *   order.created                 the partition of its region; the order is recorded in the
 *                                 directory (order id → partition)
 *   other order.*                 the order's partition, looked up in the directory; not found:
 *                                 parked until its order.created arrives
 *   complaint.created             its region's partition; without a region, its order's partition
 *                                 (looked up; not found: FNV-1a of the complaint id); without
 *                                 either, FNV-1a of the complaint id; recorded in the directory
 *   complaint.responded           the complaint's partition (looked up; not found: parked)
 *   tech.status, tech.location,   the shared stream every engine reads (technicians move
 *   parts.stock                   between regions; depots serve all of them)
 *
 * Pure: the directory itself is Redis (keys from ow_route_directory_key) and the caller's cache;
 * this module only says what to do. With one partition everything but the shared events goes to
 * partition 0, and nothing is looked up or recorded.
 */
#ifndef OW_ROUTE_H
#define OW_ROUTE_H

#include <stddef.h>

#include "event.h"
#include "partition.h"

typedef enum {
    OW_ROUTE_PARTITION, /* send to `partition` */
    OW_ROUTE_SHARED,    /* send to the shared stream (ops:{g}:shared) */
    OW_ROUTE_LOOKUP,    /* look `lookup_kind`/`lookup_id` up; found: its partition, else
                           `fallback` (a partition, or -1: park the event) */
} ow_route_kind;

typedef struct ow_route {
    ow_route_kind kind;
    int partition;           /* OW_ROUTE_PARTITION */
    const char *lookup_kind; /* OW_ROUTE_LOOKUP: "order" or "complaint" */
    const char *lookup_id;   /* OW_ROUTE_LOOKUP: borrowed from the event */
    int fallback;            /* OW_ROUTE_LOOKUP: partition when not found, or -1 = park */
    const char *record_kind; /* once routed, record record_id → partition ("order" or
                                "complaint"), or NULL when nothing is recorded */
    const char *record_id;   /* borrowed from the event */
} ow_route;

/* Decide the route of a valid event. Pointers in *out borrow from e. */
void ow_route_event(const ow_partition_table *t, const ow_event *e, ow_route *out);

/* The directory key of an order or complaint: "ops:dir:{order:<id>}". Each entry has its own hash
 * tag, so the directory spreads over the cluster. Returns the length or OW_ETOOBIG. */
int ow_route_directory_key(char *out, size_t n, const char *kind, const char *id);

#endif

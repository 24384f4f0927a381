/*
 * keys — every Redis key and channel opswall uses, in one place (STYLE.md practice 11).
 *
 * All keys of one partition share a hash tag so they live in one Redis Cluster slot (DESIGN §10);
 * single-node Redis is the same layout with one partition, "{p0}", so moving to a cluster needs no
 * renaming. OW_KEY(name) gives the key of partition 0, spelled at compile time; the key of any
 * partition p is built at run time from that same macro (core/partition.h), so each key's name
 * is written once, below:
 *     ow_partition_rekey(buf, sizeof buf, 3, OW_KEY_EVENTS)   → "ops:{p3}:events"
 */
#ifndef OW_KEYS_H
#define OW_KEYS_H

#define OW_PART0     "{p0}"
#define OW_KEY(name) "ops:" OW_PART0 ":" name

#define OW_KEY_EVENTS  OW_KEY("events")  /* stream: the durable event log (field d = raw JSON) */
#define OW_KEY_REJECTS OW_KEY("rejects") /* stream: rejected input with reason, source, raw */
/* set of event-id keys (16-byte SHA-256 prefixes, io/batch.h) per time bucket (io/functions.h);
 * "dedup:" held the ids' text before (docs/ingest.md, "Upgrading") */
#define OW_KEY_DEDUP_PREFIX  OW_KEY("idkeys:")
#define OW_KEY_ALERTS        OW_KEY("alerts") /* stream: every alert raised, once (field d = JSON) */
#define OW_KEY_ALERT_CHANGES OW_KEY("alert_changes") /* stream: resolve and ack records */
#define OW_KEY_ALERTS_OPEN   OW_KEY("alerts:open") /* string: open alerts JSON, on request (60 s) */
#define OW_KEY_ACKS                                                                                \
    OW_KEY("acks") /* stream: acknowledgements for the engine (id, by, note, at)                   \
                    */
#define OW_KEY_REQUESTS     OW_KEY("requests") /* stream: order-detail requests (field order_id) */
#define OW_KEY_ORDER_PREFIX OW_KEY("order:")   /* string per requested order: detail JSON, 60 s */
#define OW_CHAN_ORDER_READY OW_KEY("order_ready") /* pub/sub: an order id whose detail is ready */
#define OW_KEY_CHECKPOINT                                                                          \
    OW_KEY("checkpoint") /* string: the engine's saved model (engine/checkpoint.c) */
#define OW_KEY_SNAPSHOT OW_KEY("snapshot") /* string: latest full snapshot JSON */
#define OW_CHAN_DELTAS                                                                             \
    OW_KEY("deltas") /* pub/sub: compact changes between snapshots (core/delta.h) */
#define OW_CHAN_LIVE        OW_KEY("live")   /* pub/sub: every published snapshot/delta message */
#define OW_KEY_REPLAY       OW_KEY("replay") /* string: N× replay descriptor (core/replay.h) */
#define OW_FUNCTION_LIBRARY "opswall"        /* Redis Function library loaded by ingest */
#define OW_FUNCTION_INGEST  "ow_ingest"      /* FCALL: batched dedup + XADD + rejects */
/* delivery (opswall-notify, notify/): its state, send log and outputs */
#define OW_KEY_NOTIFY_ALERTS   OW_KEY("notify:alerts")   /* hash: alert id → delivery state */
#define OW_KEY_NOTIFY_GROUPS   OW_KEY("notify:groups")   /* hash: group key → group state */
#define OW_KEY_NOTIFY_LOG      OW_KEY("notify:log")      /* hash: notification id → record */
#define OW_KEY_NOTIFY_LOG_TIME OW_KEY("notify:log_time") /* zset: notification id by created ms */
#define OW_KEY_NOTIFY_DEAD     OW_KEY("notify:dead")     /* stream: dead letters (id, d = record) */
#define OW_KEY_NOTIFY_SILENCES OW_KEY("notify:silences") /* hash: silence id → silence JSON */
#define OW_KEY_NOTIFICATIONS   OW_KEY("notifications")   /* stream: messages for downstream */

/* scale-out (docs/scaling.md): one owner per partition */
#define OW_KEY_LEASE OW_KEY("lease") /* string: token of the partition's owner (io/lease.h) */
#define OW_KEY_SEEN_PREFIX                                                                         \
    OW_KEY("seen:") /* string per event id: routed ingest's de-dup mark (io/route_library.h) */
/* cluster-wide keys: the tag {g} is no partition's; every engine reads them */
#define OW_KEY_SHARED      "ops:{g}:shared"   /* stream: tech.*, parts.stock for every engine */
#define OW_KEY_SHARED_N    "ops:{g}:shared_n" /* counter: entries appended to the shared stream */
#define OW_KEY_SHARED_SEEN "ops:{g}:seen:"    /* string per event id: the shared stream's de-dup */
#define OW_KEY_DIR_PREFIX  "ops:dir:"         /* order/complaint → partition (core/route.h) */
#define OW_ROUTE_LIBRARY   "opswall_route"    /* Redis Function library of routed ingest */
#define OW_FUNCTION_APPEND "ow_append"        /* FCALL: de-dup + XADD with wm and sseq */
#define OW_KEY_UNROUTED    "ops:{g}:unrouted" /* stream: events waiting for their order's route */
#define OW_KEY_PARKED_SEEN "ops:{g}:parked:"  /* string per event id: ow_park's de-dup */
#define OW_FUNCTION_PARK   "ow_park"          /* FCALL: de-dup + XADD to ops:{g}:unrouted */

#endif

/*
 * event — the event contract v1 (DESIGN.md §3): one JSON object per line in, one ow_event out.
 *
 * The codec is shared by ingest (validate before appending) and engine (decode what it consumes),
 * so both apply exactly the same rules. Every rule lives in the tables in event.c: a new event type
 * is one row. Unknown fields are kept in the raw text and ignored here.
 *
 * Limits (beyond DESIGN §3, stated so producers can rely on them): ids 1–128 characters; names
 * (category, region, skill, sku, depot, tech name) 1–64 characters; reasons ≤ 256 characters;
 * at most 16 skills / 64 parts; nesting ≤ 4.
 */
#ifndef OW_EVENT_H
#define OW_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define OW_EVENT_MAX_BYTES  (64 * 1024)
#define OW_ID_MAX_CHARS     128
#define OW_NAME_MAX_CHARS   64
#define OW_REASON_MAX_CHARS 256
#define OW_SKILLS_MAX       16
#define OW_PARTS_MAX        64
/* Buffers hold the longest UTF-8 text of that many characters. */
#define OW_ID_BUF     (OW_ID_MAX_CHARS * 4 + 1)
#define OW_NAME_BUF   (OW_NAME_MAX_CHARS * 4 + 1)
#define OW_REASON_BUF (OW_REASON_MAX_CHARS * 4 + 1)

/* Event types, in the order of DESIGN §3. X(enum suffix, wire name). */
#define OW_EVENT_TYPES(X)                                                                          \
    X(ORDER_CREATED, "order.created")                                                              \
    X(ORDER_DISPATCHED, "order.dispatched")                                                        \
    X(ORDER_ACCEPTED, "order.accepted")                                                            \
    X(ORDER_DEPARTED, "order.departed")                                                            \
    X(ORDER_ARRIVED, "order.arrived")                                                              \
    X(ORDER_PAUSED, "order.paused")                                                                \
    X(ORDER_RESUMED, "order.resumed")                                                              \
    X(ORDER_RESOLVED, "order.resolved")                                                            \
    X(ORDER_CALLBACK, "order.callback")                                                            \
    X(ORDER_CLOSED, "order.closed")                                                                \
    X(ORDER_CANCELLED, "order.cancelled")                                                          \
    X(ORDER_REOPENED, "order.reopened")                                                            \
    X(COMPLAINT_CREATED, "complaint.created")                                                      \
    X(COMPLAINT_RESPONDED, "complaint.responded")                                                  \
    X(TECH_STATUS, "tech.status")                                                                  \
    X(TECH_LOCATION, "tech.location")                                                              \
    X(PARTS_STOCK, "parts.stock")

typedef enum ow_event_type {
#define OW_EV_ENUM(e, name) OW_EV_##e,
    OW_EVENT_TYPES(OW_EV_ENUM)
#undef OW_EV_ENUM
        OW_EV__COUNT
} ow_event_type;

typedef enum { OW_PRIO_EMERGENCY, OW_PRIO_IMPORTANT, OW_PRIO_GENERAL, OW_PRIO__COUNT } ow_priority;
typedef enum {
    OW_CH_NONE,
    OW_CH_PHONE,
    OW_CH_APP,
    OW_CH_WECHAT,
    OW_CH_WEB,
    OW_CH_WALKIN,
    OW_CH_OTHER,
    OW_CH__COUNT
} ow_channel;
typedef enum {
    OW_SEG_STANDARD,
    OW_SEG_VIP,
    OW_SEG_ELDERLY,
    OW_SEG_ENTERPRISE,
    OW_SEG_PUBLIC,
    OW_SEG__COUNT
} ow_segment;
typedef enum {
    OW_PAUSE_AWAITING_PARTS,
    OW_PAUSE_CUSTOMER_UNAVAILABLE,
    OW_PAUSE_OTHER,
    OW_PAUSE__COUNT
} ow_pause_reason;
typedef enum { OW_SEV_URGENT, OW_SEV_NORMAL, OW_SEV__COUNT } ow_severity;
typedef enum {
    OW_TECH_OFFLINE,
    OW_TECH_IDLE,
    OW_TECH_ENROUTE,
    OW_TECH_ONSITE,
    OW_TECH_BREAK,
    OW_TECH__COUNT
} ow_tech_status;

/*
 * One decoded event. Plain value type: no heap pointers, copy with `=`. Fields a type does not
 * carry are zero / empty; the has_* flags say whether an optional field was present. The bytes
 * after a string's terminator are not cleared by ow_event_parse: compare fields, not the bytes.
 */
typedef struct ow_event {
    ow_event_type type;
    int64_t ts_ms; /* event time, epoch ms UTC */
    char id[OW_ID_BUF];
    char order_id[OW_ID_BUF];
    char tech_id[OW_ID_BUF];
    char complaint_id[OW_ID_BUF];
    char category[OW_NAME_BUF];
    char region[OW_NAME_BUF];
    char skill[OW_NAME_BUF];
    char customer_id[OW_ID_BUF];
    char name[OW_NAME_BUF];
    char depot[OW_NAME_BUF];
    char sku[OW_NAME_BUF];
    char reason[OW_REASON_BUF]; /* free-text reason (cancel, reopen, callback); pause uses
                                   pause_reason */
    ow_priority priority;
    ow_channel channel; /* OW_CH_NONE when absent */
    ow_segment segment; /* OW_SEG_STANDARD when absent */
    ow_pause_reason pause_reason;
    ow_severity severity;
    ow_tech_status status;
    bool has_geo;
    double lat, lon; /* degrees WGS84, valid when has_geo */
    bool has_address;
    uint64_t address_key; /* hash of the normalised address (case, spaces, punctuation folded) */
    int score;            /* callback 1..5 */
    int nps;              /* 0..10, -1 when absent */
    bool has_complaint, complaint;
    bool has_first_visit_fix, first_visit_fix;
    int64_t eta_s; /* -1 when absent */
    int64_t qty;
    int nskills;
    char skills[OW_SKILLS_MAX][OW_NAME_BUF];
    int nparts;
} ow_event;

/*
 * Decode and validate one event from text[0..len). On success fills *ev and returns OW_OK.
 * On failure returns OW_EINVAL (or OW_ETOOBIG for > OW_EVENT_MAX_BYTES) and err->msg reads like
 *   order.created: field "priority": expected one of emergency|important|general, got "urgentt"
 * (callers prefix the position: "line 12: "). *ev is unspecified after a failure.
 */
int ow_event_parse(const char *text, size_t len, ow_event *ev, ow_err *err);

/* Wire names. Never NULL for valid values; "?" otherwise. */
const char *ow_event_type_name(ow_event_type t);
const char *ow_priority_name(ow_priority p);
const char *ow_channel_name(ow_channel c);
const char *ow_segment_name(ow_segment s);
const char *ow_tech_status_name(ow_tech_status s);

/* Look up a wire name; returns the value or -1. */
int ow_event_type_lookup(const char *name);
int ow_priority_lookup(const char *name);

/* Hash of a normalised address: ASCII folded to lower case, whitespace and ASCII punctuation
 * dropped, other bytes kept, so "12 Main St." and "12 main st" agree. */
uint64_t ow_address_key(const char *s, size_t len);

/* True for events that concern one order (order.*). */
bool ow_event_is_order(ow_event_type t);

#endif

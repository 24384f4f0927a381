/*
 * outbox — every notification from the moment it is decided until its outcome: the send log.
 *
 * A send is QUEUED when the groups decide it, SENDING while an attempt runs, RETRY after a failed
 * attempt (next try after an exponential backoff with jitter: backoff × 2^(attempt−1), capped at
 * backoff_max, then a uniform draw in [½, 1] of that, so receivers that failed together are not
 * hit together again), and ends DELIVERED, DEAD (the last attempt failed, or the receiver refused
 * the message: a 4xx other than 408/429) or UNKNOWN (see below). Each receiver has at most one
 * attempt in flight and is paced to rate_per_min (one start every 60 s / rate), so a receiver that
 * hangs or fails delays only its own queue, and a chat robot is never pushed past its limit: the
 * queue waits, the groups keep gathering alerts into fewer, longer messages.
 *
 * Every state change is a record (ow_send_format) the edge writes to Redis before acting on it —
 * SENDING is stored before the request leaves — so after a crash ow_send_load knows for each
 * send whether it never left (QUEUED, RETRY: sent now, no duplicate possible), ended, or was in
 * flight (SENDING): the receiver may or may not have it. Such a send is retried only when the
 * receiver is `idempotent` (it drops repeats of the X-Opswall-Notification-Id header); otherwise
 * it ends UNKNOWN with a dead-letter record. Hence: no message is ever sent twice to a receiver
 * that is not idempotent; a crash during an attempt can cost that one message, and says so.
 *
 * Pure: now and the random source are arguments. Lifecycle: ow_outbox_new → ... → ow_outbox_free.
 */
#ifndef OW_OUTBOX_H
#define OW_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "groups.h"
#include "nconfig.h"

/* The size of a record this program writes (ow_send_format), whatever the group's size: the text
 * (at most 35,000 escaped bytes, Slack's), the group key (< 2 KiB, escaped at most 6x), the listed
 * ids (OW_NOTICE_IDS_MAX), the last error and the fixed members stay under 64 KiB; a send not
 * finished also holds its body (OW_RENDER_BODY_MAX, at most doubled by escaping). docs/delivery.md
 * works the sum out; test_outbox checks it with a storm's group and with hostile text. */
#define OW_SEND_RECORD_DONE_MAX (64 << 10)
#define OW_SEND_RECORD_MAX      (192 << 10)

typedef enum {
    OW_SEND_QUEUED,
    OW_SEND_SENDING,
    OW_SEND_RETRY,
    OW_SEND_DELIVERED,
    OW_SEND_DEAD,
    OW_SEND_UNKNOWN
} ow_send_state;

const char *ow_send_state_name(ow_send_state s);

typedef struct ow_send {
    ow_notice n;       /* id, receiver, alerts, text, body (owned; NULL once finished, see below) */
    size_t body_bytes; /* the body's length, kept when the body is let go */
    char body_sha256[65]; /* its SHA-256 (hex): what was sent, checkable against a copy */
    ow_send_state state;
    int attempts;
    int64_t created_ms, updated_ms, next_ms;
    int last_status;      /* HTTP status or exit status of the last attempt; 0 = none */
    char last_error[256]; /* why the last attempt failed, "" when it did not */
    uint64_t order;       /* creation order, for the API's time order */
} ow_send;

typedef struct ow_outbox ow_outbox;

ow_outbox *ow_outbox_new(const ow_nconfig *cfg, uint64_t seed, int keep);
void ow_outbox_free(ow_outbox *o);

/* Take a decided notice (its fields move into the send; *n is zeroed). */
ow_send *ow_outbox_add(ow_outbox *o, ow_notice *n, int64_t now_ms);

/* A send that may start now (marked SENDING, attempts + 1, its receiver busy), or NULL. */
ow_send *ow_outbox_start(ow_outbox *o, int64_t now_ms);

/* The outcome of the running attempt. retryable = false ends it DEAD at once. */
void ow_outbox_done(ow_outbox *o, ow_send *s, bool ok, bool retryable, int status,
                    const char *error, int64_t now_ms);

/* When ow_outbox_start may next return something (INT64_MAX = nothing waiting). */
int64_t ow_outbox_next_ms(const ow_outbox *o, int64_t now_ms);

/* Finished sends beyond `keep` are dropped from memory (oldest first); their ids go to fn so the
 * edge can drop their stored records too. */
void ow_outbox_trim(ow_outbox *o, void (*fn)(const char *id, void *arg), void *arg);

/* The stored/API record: {"id","receiver","state","resolved","group_key","alerts":[ids],"count",
 * "attempts","created_at","created_ms","updated_at","next_at","next_ms","last_status",
 * "last_error","text","body","body_bytes","body_sha256"}. "alerts" are the ids the message lists
 * (bounded, groups.h), "count" every alert it covers. A finished send (DELIVERED, DEAD, UNKNOWN)
 * holds no body any more — it is never sent again — so "body" is "" and only its length and digest
 * stay: the send log's records have a bounded size whatever the groups' (docs/delivery.md). */
char *ow_send_format(const ow_outbox *o, const ow_send *s);

/* Restore a stored record after a restart (see the top of this file for SENDING).
 * The send is added to o; *out (optional) points at it. */
int ow_outbox_load(ow_outbox *o, const char *json, size_t len, ow_send **out, ow_err *err);

/* Every send created at or after since_ms, in creation order: fn returns false to stop. */
void ow_outbox_each(const ow_outbox *o, int64_t since_ms, bool (*fn)(const ow_send *s, void *arg),
                    void *arg);

typedef struct ow_outbox_stats {
    int waiting, in_flight;
    uint64_t delivered, dead, unknown, retries;
} ow_outbox_stats;
ow_outbox_stats ow_outbox_stats_get(const ow_outbox *o);

#endif

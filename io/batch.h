/*
 * batch — one call of the ow_ingest Redis Function (io/functions.h), built as items are added.
 *
 * The command is written straight into one buffer in the Redis protocol (RESP), so an event costs
 * one copy of its text and no allocation of its own; the count of arguments, known only at the
 * end, goes into space reserved in front. The buffer is kept across ow_batch_start calls, so a
 * reused batch allocates nothing once warm. Used by ingest's appender (asynchronous, several
 * batches in flight) and by opswall-rejects (blocking).
 *
 * Lifecycle: ow_batch_init → (ow_batch_start → ow_batch_add_* → ow_batch_command)* → ow_batch_fini.
 */
#ifndef OW_BATCH_H
#define OW_BATCH_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "err.h"

/* Bytes of an event id's de-dup key: the first 16 bytes of SHA-256(id). Two different ids share a
 * key with probability 2^-128 per pair, ~n^2 / 2^129 for n ids in a window (1e-20 for 1e9 ids):
 * never, in practice; making two ids collide on purpose takes ~2^64 SHA-256 evaluations and only
 * hides the second of the crafter's own two events. */
#define OW_ID_DIGEST_BYTES 16

typedef struct ow_batch {
    ow_buf buf;                /* owned: reserved header space, then the arguments */
    size_t items;              /* events + rejects added since ow_batch_start */
    size_t events;             /* of which events */
    size_t args;               /* arguments written after the reserved space */
    struct evp_md_st *sha256;  /* owned, fetched at the first event (NULL: one-shot SHA256) */
    struct evp_md_ctx_st *sha; /* owned, reused for every id */
} ow_batch;

void ow_batch_init(ow_batch *b);
void ow_batch_fini(ow_batch *b);

/* Begin a new call (forgets the previous items, keeps the memory). Window, bucket count and stream
 * caps come from the configuration (ingest.dedup_window, ingest.dedup_buckets, streams.*). */
void ow_batch_start(ow_batch *b, const ow_config *cfg);

/* An event: its id (sent as its de-dup key, OW_ID_DIGEST_BYTES of binary: a fixed, short key
 * Redis and its Lua hash quickly whatever the id's length or shape) and raw text (copied); the
 * stream entry holds the raw text as field d. */
void ow_batch_add_event(ow_batch *b, const char *id, const char *raw, size_t len);

/* A reject: why, from where (source name and line/row number) and the raw text (all copied). */
void ow_batch_add_reject(ow_batch *b, const char *reason, const char *source, int64_t pos,
                         const char *raw, size_t len);

/* The finished command: *len bytes at the returned pointer (into the batch; valid until the next
 * start). NULL when memory ran out while adding. */
const char *ow_batch_command(ow_batch *b, size_t *len);

/* The de-dup key of an event id (NUL-terminated) into out, using b's reusable digest state. */
void ow_batch_id_key(ow_batch *b, const char *id, unsigned char out[OW_ID_DIGEST_BYTES]);

/* Bytes the batch holds (for buffer accounting). */
static inline size_t ow_batch_bytes(const ow_batch *b)
{
    return b->buf.n;
}

/* Check that a reply answers a call of n items: OW_OK, or OW_EREDIS with err (a Redis error
 * reply, or the wrong shape). */
int ow_batch_reply_check(const redisReply *r, size_t n, ow_err *err);

/* Item i of a checked reply: true and *id (borrowed from r) for an appended event or kept reject,
 * false for a duplicate. */
bool ow_batch_reply_item(const redisReply *r, size_t i, const char **id);

#endif

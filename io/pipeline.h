/*
 * pipeline — many commands per round trip on one blocking hiredis connection, without waiting
 * for or allocating the replies nobody reads.
 *
 * A consumer such as the engine writes far more than it reads: per batch of events, thousands of
 * XADDs whose replies (new entry ids) only matter if they are errors. This module
 *   - formats commands straight into one buffer (RESP, argv form: no format strings, no
 *     per-command allocation) and hands the batch to hiredis in one piece;
 *   - counts the replies of those writes and later skips them with a reader that allocates
 *     nothing, keeping only the first error;
 *   - lets one read (a few commands whose replies the caller wants) be in flight while the caller
 *     works, so Redis executes it and the previous writes while the caller computes: the caller
 *     sends the next read, works on the current data, and receives the read afterwards.
 * Redis executes one connection's commands in order, so a write sent before another is executed
 * before it (a snapshot after the alerts of the events it includes).
 */
#ifndef OW_PIPELINE_H
#define OW_PIPELINE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

#define OW_PIPELINE_READ_MAX   4           /* commands in one read */
#define OW_PIPELINE_PUSH_BYTES (64 * 1024) /* unsent bytes that make a write push */

/* One block of the reply arena (below). */
typedef struct ow_pipeline_block {
    char *p;
    size_t used, cap;
} ow_pipeline_block;

typedef struct ow_pipeline {
    redisContext *c; /* borrowed */
    ow_buf cmd;      /* formatted commands; cmd.p[0..sent) are already on the socket */
    size_t sent;
    size_t read_end; /* cmd offset where the outstanding read's commands end (0: all sent) */
    size_t push_at;  /* ow_pipeline_write pushes when this many bytes wait unsent */
    int ahead;       /* write replies due before the outstanding read's (all, when none) */
    int behind;      /* write replies of writes sent after the outstanding read */
    int reading;     /* replies the outstanding read will have; 0 = no read outstanding */
    int building;    /* commands of the read being built (ow_pipeline_read_cmd) */
    redisReplyObjectFunctions *default_fn;
    char error[256]; /* first error reply of a write since the last check */
    bool failed;
    const char *fence_key, *fence_token; /* borrowed; NULL: commands go as they are */
    /* The read's replies are built in these blocks rather than one malloc per element: a batch
     * of a thousand stream entries is five thousand objects. Reused from one receive to the
     * next; nblocks in use, ncap allocated. */
    ow_pipeline_block *blocks;
    size_t nblocks, ncap;
    bool oom;
} ow_pipeline;

void ow_pipeline_init(ow_pipeline *p, redisContext *c);
void ow_pipeline_fini(ow_pipeline *p);

/* Queue a write: its reply is skipped, an error reply is reported by the next receive/settle.
 * lens may be NULL for NUL-terminated arguments. */
/* From now on send every command (writes and reads, not ow_pipeline_read_raw) as
 * FCALL ow_fenced 1 <lease_key> <token> <command...> (io/fence.h): Redis refuses it with a
 * "FENCED" error once lease_key no longer holds token. Both strings must outlive p. */
void ow_pipeline_fence(ow_pipeline *p, const char *lease_key, const char *token);

void ow_pipeline_write(ow_pipeline *p, int argc, const char *const *argv, const size_t *lens);

/* Queue one command of the next read (at most OW_PIPELINE_READ_MAX; no read may be
 * outstanding); ow_pipeline_read_end closes the read: from then on it is outstanding. */
void ow_pipeline_read_cmd(ow_pipeline *p, int argc, const char *const *argv, const size_t *lens);
/* ow_pipeline_read_cmd without the fence: a command that changes nothing (a blocking XREAD
 * that only waits for entries; a Function cannot block). */
void ow_pipeline_read_raw(ow_pipeline *p, int argc, const char *const *argv, const size_t *lens);
void ow_pipeline_read_end(ow_pipeline *p);
bool ow_pipeline_read_outstanding(const ow_pipeline *p);

/* Hand every queued command to the socket (blocks until written). */
int ow_pipeline_flush(ow_pipeline *p, ow_err *err);

/* Hand the socket what it takes now without blocking; the rest stays queued for the next push,
 * flush or receive. Writes push by themselves every OW_PIPELINE_PUSH_BYTES, so Redis executes a
 * large batch of writes while the caller is still producing it instead of after (a blocking
 * write of a megabyte would wait until Redis had executed most of it: the socket holds far less).
 */
int ow_pipeline_push(ow_pipeline *p, ow_err *err);

/* Send the outstanding read (and what was queued before it; writes queued after it may stay
 * unsent: ow_pipeline_push), skip the write replies ahead of it, then store the read's replies in
 * out[0..n) (n = its command count). The replies belong to the pipeline: they stay valid until
 * the next ow_pipeline_receive or ow_pipeline_fini and must not be given to freeReplyObject.
 * After a read error out is all NULL. A write error seen on the way is returned after the
 * replies are stored (out is then still filled). */
int ow_pipeline_receive(ow_pipeline *p, redisReply **out, int n, ow_err *err);

/* Flush and skip every write reply due (no read may be outstanding); reports the first error. */
int ow_pipeline_settle(ow_pipeline *p, ow_err *err);

/* Replies still due to writes (for assertions and shutdown). */
int ow_pipeline_pending(const ow_pipeline *p);

#endif

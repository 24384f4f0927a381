/*
 * fence — writes of a partition's engine that Redis refuses once the engine no longer holds the
 * partition's lease (docs/scaling.md §4, "Fencing").
 *
 * A lease (io/lease.h) says who should write; it cannot stop a holder that was paused (SIGSTOP, a
 * long stall, a VM migration) past its TTL from writing when it wakes, alongside the engine that
 * took the partition meanwhile. So every command the engine sends to its partition — alerts,
 * XACK, the consumer group read that advances the group, the checkpoint, the snapshot and its
 * PUBLISHes — goes through the Redis Function ow_fenced, which runs it only if
 * ops:{p<N>}:lease still holds the engine's token, in the same atomic step:
 *
 *   FCALL ow_fenced 1 ops:{p3}:lease <token> XADD ops:{p3}:alerts ...
 *
 * A refused command's error starts with "FENCED" (ow_fence_refused). The lease key carries the
 * partition's hash tag, so the call and the keys it writes are one slot: atomic on a cluster too.
 * The same library holds the lease's own compare-and-act steps (io/lease.c), so a least-privileged
 * ACL user needs FCALL, not EVAL. Only the commands the engine needs are allowed (ACL still applies
 * to each of them: a Function runs its calls as the calling user).
 */
#ifndef OW_FENCE_H
#define OW_FENCE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>

#include "cluster.h"
#include "err.h"

#define OW_FENCE_LIBRARY  "opswall_fence"
#define OW_FENCE_FUNCTION "ow_fenced"
/* KEYS: the lease; ARGV: token, ttl ms → 1 extended, 0 not ours (io/lease.c) */
#define OW_FENCE_LEASE_RENEW "ow_lease_renew"
/* KEYS: the lease; ARGV: token → 1 deleted, 0 not ours */
#define OW_FENCE_LEASE_RELEASE "ow_lease_release"

/* The Lua text of the library (static). */
const char *ow_fence_library(void);

/* FUNCTION LOAD REPLACE the library on c (the partition's master; replicas get it by
 * replication). */
int ow_fence_load(redisContext *c, ow_err *err);

/* ow_fence_load on every master of c. */
int ow_fence_load_all(ow_cluster *c, ow_err *err);

/* Is this error message (a reply, or an ow_err built from one) a refusal by the fence? */
bool ow_fence_refused(const char *msg);

#endif

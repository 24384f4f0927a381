/*
 * lease — one owner per partition at a time (docs/scaling.md §4).
 *
 * The lease is the key ops:{p<N>}:lease (in the partition's slot, so it fails over with the
 * partition's data) holding the owner's token, set with NX and a time to live. The owner renews it
 * well within the TTL (every TTL/3); renewal and release are compare-and-act Functions, so an owner
 * whose lease expired and was taken cannot extend or delete the new owner's. When the holder dies
 * its lease runs out and another process acquires it.
 *
 * The token is "<owner>/<pid>/<monotonic µs>": a restarted process with the same name is a
 * different holder. Writes that must not happen after the lease is lost check the token in the
 * same Function that writes (fencing, io/fence.h): the token and key are in ow_lease.
 */
#ifndef OW_LEASE_H
#define OW_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster.h"
#include "err.h"
#include "partition.h"

typedef struct ow_lease {
    char key[OW_PARTITION_KEY_MAX];
    char token[192];
    int partition;
    int64_t ttl_ms;
    bool held; /* as of the last acquire/renew */
} ow_lease;

/* Prepare a lease for a partition (no Redis call). owner: a readable name ("engine-1"). */
void ow_lease_init(ow_lease *l, int partition, const char *owner, int64_t ttl_ms);

/* Try to take the lease: l->held says whether it was free (and is now ours). */
int ow_lease_acquire(ow_cluster *c, ow_lease *l, ow_err *err);

/* Extend our lease by its TTL; l->held becomes false when it is no longer ours (expired and
 * taken, or deleted). */
int ow_lease_renew(ow_cluster *c, ow_lease *l, ow_err *err);

/* Give the lease up if it is still ours (a clean stop hands over at once). */
int ow_lease_release(ow_cluster *c, ow_lease *l, ow_err *err);

/* The current holder's token into out[n] ("" when free). */
int ow_lease_holder(ow_cluster *c, int partition, char *out, size_t n, ow_err *err);

#endif

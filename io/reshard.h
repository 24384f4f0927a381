/*
 * reshard — moving hash slots between the masters of a Redis Cluster, keys included, and placing
 * opswall's partitions so that each lands on its own master.
 *
 * A move is the documented three steps, exposed one by one so tests can stand in the middle:
 * begin (the target IMPORTING, the source MIGRATING), keys (CLUSTER GETKEYSINSLOT + MIGRATE ...
 * KEYS, in rounds of up to `max` keys), finish (SETSLOT NODE on the target, the source, then every
 * other master; replicas learn it by gossip). While a slot is half moved, clients are sent to the
 * target by ASK for the keys already there (io/cluster.c follows it).
 *
 * Placement: with the default `redis-cli --cluster create` layout, partitions 0 and 1 ({p0} slot
 * 15882, {p1} slot 11819) share the third master. ow_reshard_place balances partitions 0..N-1
 * over the masters with as few moves as it can (no master holds two more than another), and
 * leaves a balanced layout alone — also after a failover has put replicas in their masters' place.
 *
 * Uses the node connections of an ow_cluster; refreshes its map after each finished move.
 */
#ifndef OW_RESHARD_H
#define OW_RESHARD_H

#include "cluster.h"
#include "err.h"

int ow_reshard_begin(ow_cluster *c, int slot, int to, ow_err *err);

/* Move up to `max` keys of the slot from its master to `to`; *moved gets how many (0 = none left).
 */
int ow_reshard_keys(ow_cluster *c, int slot, int to, int max, int *moved, ow_err *err);

int ow_reshard_finish(ow_cluster *c, int slot, int to, ow_err *err);

/* All three steps: every key of the slot ends on node `to` (an index of the current map, a
 * master). A slot already there is left alone. */
int ow_reshard_slot(ow_cluster *c, int slot, int to, ow_err *err);

/* Masters of the map that serve slots, in host:port order, into out[max]; returns the count. */
int ow_reshard_masters(const ow_cluster *c, int *out, int max);

/* Balance partitions 0..n-1 over the masters. *moves gets the number of slots moved. */
int ow_reshard_place(ow_cluster *c, int partitions, int *moves, ow_err *err);

#endif

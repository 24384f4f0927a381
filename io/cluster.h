/*
 * cluster — a synchronous Redis Cluster client over hiredis 0.14 (which has none).
 *
 * Open it with one node's address (the redis.url setting); it asks that node for the slot map
 * (CLUSTER SHARDS, or CLUSTER SLOTS on servers without it) and keeps one connection per master,
 * made when first needed. A command goes to the master of its key's slot (core/crc16.h). A
 * redirection is followed: MOVED updates the map (and a full refresh follows before the next
 * round), ASK sends ASKING and the command to the named node once, TRYAGAIN (a multi-key
 * command during a slot migration) and CLUSTERDOWN are retried after a pause. A lost connection
 * or a slot without a master (a failover in progress) makes it refresh the map and retry, with
 * pauses of 50 ms doubling to 500 ms, for up to `retry_for` (cluster.retry_for), then fail with
 * a message that names the slot, the key and the node.
 *
 * A server with cluster support disabled is served the same way with one node owning every slot,
 * so single-node Redis (a unix socket too) is the same code path: ow_cluster_enabled says which.
 *
 * Batches are pipelined: the commands of one batch are grouped by node, written to every node
 * first and then read, so the nodes work in parallel; each node gets one round trip per round.
 * Commands of the same slot keep their order, also when they are redirected (they are resent in
 * batch order). A command whose connection broke after it was written may or may not have run:
 * by default it fails (its reply stays NULL); a batch marked idempotent (every command safe to
 * run twice, like ingest's FCALL with its dedup keys) resends it instead.
 *
 * Durability: a batch may ask for WAIT after its commands on each node (ow_cluster_batch_wait);
 * each command then reports how many replicas acknowledged it (docs/scaling.md, "WAIT").
 *
 * Not thread-safe; one ow_cluster per thread. Lifecycle: ow_cluster_open → ... → ow_cluster_free.
 */
#ifndef OW_CLUSTER_H
#define OW_CLUSTER_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "config.h"
#include "redis.h"
#include "redis_url.h"
#include "slotmap.h"

typedef struct ow_cluster ow_cluster;
typedef struct ow_cluster_batch ow_cluster_batch;

typedef struct ow_cluster_opts {
    int64_t timeout_ms;   /* connect and reply timeout per node (redis.timeout) */
    int64_t retry_for_ms; /* keep retrying a slot without a reachable master (cluster.retry_for) */
} ow_cluster_opts;

#define OW_CLUSTER_SEEDS_MAX 16

/* Connect to the first seed that answers (its user, password and, on a single node, db are used
 * for every node; a cluster needs db 0) and load the slot map. The other seeds stay candidates
 * for later map refreshes. *out is owned by the caller (ow_cluster_free). */
int ow_cluster_open(const ow_redis_target *seeds, int nseeds, const ow_cluster_opts *opts,
                    ow_cluster **out, ow_err *err);

/* The same for a program that found its Redis with io/redis.h ow_redis_env_open (a configured
 * node, or the private server on its unix socket): timeouts from redis.timeout and
 * cluster.retry_for. The way a program moves from ow_redis_connect to the cluster client. */
int ow_cluster_open_env(const ow_redis_env *env, const ow_config *cfg, ow_cluster **out,
                        ow_err *err);

/* Parse redis.url: one URL (core/redis_url.h) or several separated by commas, into
 * seeds[OW_CLUSTER_SEEDS_MAX]. Returns how many, or a negative code with err. */
int ow_cluster_parse_urls(const char *urls, ow_redis_target *seeds, ow_err *err);

/* The seed that answered first (its login is used for every node). Borrowed. */
const ow_redis_target *ow_cluster_seed(const ow_cluster *c);

/* The same from redis.url: one URL (core/redis_url.h), or several separated by commas
 * ("redis://10.0.0.5:7000,redis://10.0.0.6:7000") so a dead seed does not stop a start. */
int ow_cluster_open_url(const char *urls, const ow_cluster_opts *opts, ow_cluster **out,
                        ow_err *err);

void ow_cluster_free(ow_cluster *c);

/* True on a Redis Cluster, false on a single node with cluster support disabled. */
bool ow_cluster_enabled(const ow_cluster *c);

/* Reload the slot map from the first node that answers (known masters, then every other known
 * node, then the seed). */
int ow_cluster_refresh(ow_cluster *c, ow_err *err);

/* The current map (borrowed; valid until the next call on c). */
const ow_slotmap *ow_cluster_map(const ow_cluster *c);

/* Times the map was reloaded since open (tests and logs). */
int64_t ow_cluster_refreshes(const ow_cluster *c);

/* One command routed by `key` (hiredis format string). Like io/redis.h ow_redis_cmd: returns the
 * reply (caller frees with freeReplyObject), or NULL with err naming `what` — also for an error
 * reply. Not idempotent: a command whose connection broke mid-way is not resent. */
redisReply *ow_cluster_cmd(ow_cluster *c, ow_err *err, const char *what, const char *key,
                           const char *fmt, ...);

/* The connection to a node of the map (connecting if needed), for commands that address one
 * node rather than a key (CLUSTER ..., INFO, WAIT). Borrowed; NULL with err when unreachable. */
redisContext *ow_cluster_node_context(ow_cluster *c, int node, ow_err *err);

/* ow_redis_function_load on every master of the map (a Function lives on each node's own). */
int ow_cluster_function_load(ow_cluster *c, const char *library, const char *what, ow_err *err);

/* ---- batches ---- */

ow_cluster_batch *ow_cluster_batch_new(void);
void ow_cluster_batch_free(ow_cluster_batch *b);

/* Drop the commands and replies, keep the memory and the settings. */
void ow_cluster_batch_reset(ow_cluster_batch *b);

/* Every command of this batch may safely run twice: resend those whose outcome a broken
 * connection made unknown. Default false. Kept by reset. */
void ow_cluster_batch_idempotent(ow_cluster_batch *b, bool yes);

/* After the commands of each round on each node, send WAIT replicas timeout_ms; 0 replicas turns
 * it off (the default). Kept by reset. */
void ow_cluster_batch_wait(ow_cluster_batch *b, int replicas, int64_t timeout_ms);

/* Add a command routed by key[0..keylen) (the key or any string with the same slot). The
 * arguments are copied. Returns the command's index, or OW_ENOMEM. */
int ow_cluster_batch_add(ow_cluster_batch *b, const char *key, size_t keylen, int argc,
                         const char **argv, const size_t *argvlen);

/* The same with a hiredis format string. */
int ow_cluster_batch_addf(ow_cluster_batch *b, const char *key, const char *fmt, ...);

int ow_cluster_batch_count(const ow_cluster_batch *b);

/* Send every command not yet answered and read the replies, following redirections. Returns
 * OW_OK when every command has a reply (error replies like WRONGTYPE included), else the code
 * of the first failure with err naming its slot, key and node; the others keep their replies. */
int ow_cluster_batch_exec(ow_cluster *c, ow_cluster_batch *b, ow_err *err);

/* Reply of command i (borrowed, freed by reset/free), NULL when it has none. */
const redisReply *ow_cluster_batch_reply(const ow_cluster_batch *b, int i);

/* Replicas that acknowledged command i (the WAIT after it), or -1 when no WAIT was asked. */
int ow_cluster_batch_acked(const ow_cluster_batch *b, int i);

#endif

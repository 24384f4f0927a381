/*
 * redis_sub — the feed's two Redis connections on the program's libuv loop (hiredis async +
 * ow_cluster_async_attach, which unlike hiredis' adapters/libuv.h notices a connection reset;
 * STYLE.md practice 7).
 *
 *   sub: AUTH/SELECT as configured, then SUBSCRIBE to every channel given (the snapshots, the
 *        deltas, order_ready); every message goes to on_message with its channel's index. Redis
 *        delivers the channels of one connection in publish order, so a snapshot and the delta of
 *        the same publish arrive in the engine's order.
 *   cmd: AUTH/SELECT, PING, then GET OW_KEY_SNAPSHOT once both connections are ready — at start and
 *        after every reconnect — so a feed that missed messages while away catches up. A GET reply
 *        that a newer published message overtook is dropped. ow_redis_sub_command sends other
 *        commands (order requests, acks, XRANGE) on it.
 *
 * On a Redis Cluster (ow_redis_sub_use_cluster) the cmd connection is not made: the snapshot GET
 * and every command go through the cluster client (io/cluster_async.h), each to the master of its
 * key's slot, following MOVED/ASK and failovers. A cluster PUBLISH reaches the subscribers of
 * every node, so the sub connection may be on any node: redis.url's first, and after a failure
 * the next node of the client's slot map in turn (masters and replicas), so a dead node's
 * subscribers move to a live one and fetch the snapshot again.
 *
 * A lost or refused connection is retried with exponential backoff (250 ms doubling to 10 s) on a
 * uv timer; a connection attempt that does not finish within the configured timeout is abandoned
 * and retried. Meanwhile the feed keeps serving what it has. Callbacks only dispatch: on_message
 * gets borrowed text, valid during the call.
 *
 * Lifecycle: ow_redis_sub_init → ow_redis_sub_start → ... → ow_redis_sub_close (frees the hiredis
 * contexts and closes the timers; the loop must then run until the handles are closed).
 */
#ifndef OW_FEED_REDIS_SUB_H
#define OW_FEED_REDIS_SUB_H

#include <hiredis/async.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cluster_async.h"
#include "redis_url.h"

#define OW_REDIS_SUB_CHANNELS_MAX 4

/* A message on channel number `channel` (index into the list given to init; the snapshot GET
 * reply arrives as channel 0). */
typedef void ow_redis_sub_message_fn(void *ud, int channel, const char *text, size_t len);

/* One connection's state; private to redis_sub.c, here only so the caller can embed the struct. */
typedef struct ow_redis_conn {
    struct ow_redis_sub *owner;
    const char *name; /* "sub" or "cmd", for messages */
    redisAsyncContext *ac;
    bool ready;       /* set up (and, for sub, subscribed) */
    bool failing;     /* the last attempt failed: log only the first failure of a run */
    uv_timer_t timer; /* connect timeout while connecting, backoff while waiting */
    int64_t backoff_ms;
    uint64_t connects; /* successful connections so far */
} ow_redis_conn;

typedef struct ow_redis_sub {
    uv_loop_t *loop;
    ow_redis_target target; /* copied */
    char desc[300];         /* where Redis is, without the password */
    int64_t timeout_ms;
    const char *channels[OW_REDIS_SUB_CHANNELS_MAX];
    int nchannels;
    int subscribed; /* subscribe confirmations on the current connection */
    const char *snapshot_key;
    ow_redis_sub_message_fn *on_message;
    void *ud;
    ow_redis_conn sub, cmd;
    bool closing;
    bool get_pending;
    uint64_t messages;         /* messages received on the channel */
    uint64_t messages_at_get;  /* value of messages when the pending GET was sent */
    int64_t last_message_ms;   /* mono time of the last message or snapshot GET reply, 0 = none */
    ow_cluster_async *cluster; /* borrowed; NULL = commands on the cmd connection */
    int sub_turn;              /* cluster: 0 = the sub connection to target, k = map node k-1 */
    char sub_desc[300];        /* where the sub connection goes now */
} ow_redis_sub;

/* Prepare (no I/O yet). channels (nchannels <= OW_REDIS_SUB_CHANNELS_MAX) and snapshot_key are
 * borrowed and must outlive s; snapshot_key NULL: nothing is fetched (a partitioned feed reads the
 * partitions' snapshots through feed/parts.h and uses this connection for the rest). Returns 0 or a
 * negative libuv code from uv_timer_init. */
int ow_redis_sub_init(ow_redis_sub *s, uv_loop_t *loop, const ow_redis_target *target,
                      const char *desc, int64_t timeout_ms, const char *const *channels,
                      int nchannels, const char *snapshot_key, ow_redis_sub_message_fn *on_message,
                      void *ud);

/* Before start: commands and the snapshot GET through the cluster client c (borrowed; it must
 * outlive s's use), the subscription moving between the nodes of its map on failures. Also on a
 * single node (cluster support off): the same client serves it. */
void ow_redis_sub_use_cluster(ow_redis_sub *s, ow_cluster_async *c);

/* Start connecting both connections. */
void ow_redis_sub_start(ow_redis_sub *s);

/* GET the snapshot again now (when connected and no GET is pending); e.g. after a sequence gap. */
void ow_redis_sub_refresh(ow_redis_sub *s);

/* Send a command on the cmd connection (hiredis argv form; arguments copied). fn is called exactly
 * once: with the reply, or with NULL when the connection is down now or is lost before the reply
 * (then synchronously, before this returns, when it is down). */
void ow_redis_sub_command(ow_redis_sub *s, redisCallbackFn *fn, void *privdata, int argc,
                          const char **argv, const size_t *argvlen);

/* Disconnect and close the timers. Idempotent. The loop must run afterwards to finish closing. */
void ow_redis_sub_close(ow_redis_sub *s);

/* Both connections are up: subscribed, and able to GET (on a cluster: subscribed). */
bool ow_redis_sub_connected(const ow_redis_sub *s);

#endif

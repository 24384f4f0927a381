/*
 * cluster_async — the Redis Cluster client of io/cluster.h for programs built on one libuv loop
 * (the engine, the feed): hiredis 0.14 async contexts on the loop, one per master, the same slot
 * map (io/slotmap.h) and the same rules. The contexts are attached to the loop by this module, not
 * by hiredis' adapters/libuv.h: that adapter ignores the error libuv reports when a peer resets
 * the connection, so a killed master's connection would hang forever (found by the failover
 * test; io/cluster_async.c says more).
 *
 * A command is routed by its key's slot. MOVED updates the map, starts a map reload and resends
 * the command at once; ASK sends ASKING and the command to the named node; TRYAGAIN,
 * CLUSTERDOWN, LOADING, MASTERDOWN, a connection that could not be made and a slot without a
 * master put the command on a wait list that a timer resends (50 ms doubling to 500 ms, after the
 * map is reloaded) until `retry_for` ends. A command whose connection broke after it was sent
 * fails ("may or may not have run"); the caller decides whether to resend. Unlike a batch of the
 * synchronous client, the order of commands to one slot is kept only while none is redirected.
 *
 * Opening loads the first slot map with the synchronous client (blocking, once, at start-up);
 * every later reload is asynchronous, so the loop never waits on the cluster.
 *
 * Lifecycle: ow_cluster_async_open → commands → ow_cluster_async_close, then keep running the
 * loop until it has no more handles: close fails the waiting commands, lets sent ones finish,
 * disconnects and frees itself when the last connection and its timer are closed.
 * Callbacks run on the loop's thread.
 */
#ifndef OW_CLUSTER_ASYNC_H
#define OW_CLUSTER_ASYNC_H

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <uv.h>

#include "cluster.h"
#include "err.h"

typedef struct ow_cluster_async ow_cluster_async;

/* The outcome of one command: reply borrowed for the call (an error reply like WRONGTYPE is a
 * reply), or NULL with err saying why (its slot, key and node). */
typedef void ow_cluster_async_cb(const redisReply *reply, const ow_err *err, void *privdata);

/* Open on `loop` from redis.url (one URL or several, comma-separated). *out is owned by the
 * caller until ow_cluster_async_close. */
int ow_cluster_async_open(uv_loop_t *loop, const char *urls, const ow_cluster_opts *opts,
                          ow_cluster_async **out, ow_err *err);

/* The same for a program that found its Redis with io/redis.h ow_redis_env_open (a configured
 * node or several, or the private server's unix socket): timeouts from redis.timeout and
 * cluster.retry_for, like ow_cluster_open_env. */
int ow_cluster_async_open_env(uv_loop_t *loop, const ow_redis_env *env, const ow_config *cfg,
                              ow_cluster_async **out, ow_err *err);

/* Send a command routed by `key` (hiredis format string). cb may be NULL. Returns OW_OK, or
 * OW_ENOMEM / OW_EINVAL (closing) — then cb is not called. */
int ow_cluster_async_command(ow_cluster_async *c, ow_cluster_async_cb *cb, void *privdata,
                             const char *key, const char *fmt, ...);

/* The same in argv form (hiredis redisCommandArgv; the arguments are copied), routed by
 * key[0..keylen). */
int ow_cluster_async_command_argv(ow_cluster_async *c, ow_cluster_async_cb *cb, void *privdata,
                                  const char *key, size_t keylen, int argc, const char **argv,
                                  const size_t *argvlen);

/* Attach any hiredis async context to loop the way this client attaches its own (instead of
 * hiredis' adapters/libuv.h, whose 0.14 version ignores libuv's error status and leaves a context
 * whose peer reset the connection waiting forever). REDIS_OK or REDIS_ERR. */
int ow_cluster_async_attach(redisAsyncContext *ac, uv_loop_t *loop);

/* Stop: waiting commands fail with "closed", sent ones finish; c frees itself on the loop. */
void ow_cluster_async_close(ow_cluster_async *c);

bool ow_cluster_async_enabled(const ow_cluster_async *c);
const ow_slotmap *ow_cluster_async_map(const ow_cluster_async *c);
int64_t ow_cluster_async_refreshes(const ow_cluster_async *c);

#endif

/*
 * redis_async — one asynchronous Redis connection on a libuv loop that keeps itself up.
 *
 * Connects (hiredis async + adapters/libuv.h), does AUTH and SELECT as configured, PINGs, and
 * then calls on_up: from then on ow_redis_async_ctx gives the context for commands. A lost or
 * refused connection calls on_down (once per connection that was up), and is retried with
 * exponential backoff (250 ms doubling to 10 s); an attempt that does not finish within the
 * timeout is abandoned and retried. Each connection has a generation number, so a reply callback
 * can tell a reply of an old connection from one of the current connection.
 *
 * (The feed's feed/redis_sub.c predates this module and keeps its own two connections.)
 *
 * Lifecycle: ow_redis_async_new → ow_redis_async_start → ... → ow_redis_async_close (frees itself
 * once its timer is closed; the loop must run for that).
 */
#ifndef OW_REDIS_ASYNC_H
#define OW_REDIS_ASYNC_H

#include <hiredis/async.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "redis_url.h"

typedef struct ow_redis_async ow_redis_async;

/* up = true: connected and ready (the context is usable); false: the connection was lost. */
typedef void ow_redis_async_state_fn(void *ud, bool up);

/* target is copied; desc (where Redis is, no password) is copied. NULL on out of memory. */
ow_redis_async *ow_redis_async_new(uv_loop_t *loop, const ow_redis_target *target, const char *desc,
                                   int64_t timeout_ms, ow_redis_async_state_fn *on_state, void *ud);
void ow_redis_async_start(ow_redis_async *ra);

/* The ready context, or NULL while (re)connecting. Borrowed. */
redisAsyncContext *ow_redis_async_ctx(const ow_redis_async *ra);

/* The current connection's generation (grows with every connection attempt). */
uint64_t ow_redis_async_gen(const ow_redis_async *ra);

/* Give up the current connection (e.g. after an error reply that leaves the pipeline in doubt) and
 * reconnect after the backoff. Safe inside a reply callback. `why` is logged. */
void ow_redis_async_reset(ow_redis_async *ra, const char *why);

/* Connections that became ready so far (reconnects = value - 1). */
uint64_t ow_redis_async_connects(const ow_redis_async *ra);

/* Close for good: pending replies are delivered as NULL; no more state callbacks. */
void ow_redis_async_close(ow_redis_async *ra);

#endif

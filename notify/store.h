/*
 * store — opswall-notify's Redis side (synchronous hiredis, each call bounded by redis.timeout):
 * the consumer group on the alert streams, delivery's saved state and send log, silences, and the
 * ops:{p0}:notifications stream. Keys: core/keys.h (OW_KEY_NOTIFY_*).
 *
 * Why synchronous on an event loop: every call is one short round trip to a local Redis (the
 * loop's other work — webhooks and exec receivers — never waits on a receiver, only on Redis),
 * and it keeps the write-ahead rule easy to see: a state is in Redis before the action it allows.
 *
 * Lifecycle: ow_store_open → ... → ow_store_close.
 */
#ifndef OW_NOTIFY_STORE_H
#define OW_NOTIFY_STORE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>

#include "err.h"
#include "groups.h"
#include "outbox.h"
#include "redis.h"

typedef struct ow_store {
    redisContext *c;
    char group[64], consumer[64];
    char maxlen[24]; /* notify.stream_maxlen as text: the notification streams' MAXLEN ~ */
    int pending; /* commands appended to the current batch (ow_store_begin .. ow_store_commit) */
    bool failed;
} ow_store;

/* Connect and make sure both consumer groups exist (created at the start of the streams, so no
 * alert written before delivery's first start is missed). */
int ow_store_open(ow_store *s, const ow_redis_env *env, const char *group, const char *consumer,
                  int64_t maxlen, ow_err *err);
void ow_store_close(ow_store *s);

/* One stream entry handed to a reader. */
typedef void ow_store_entry_fn(const char *entry_id, const char *field_d, size_t len, void *arg);

/* XREADGROUP COUNT n at `from` ("0" = this consumer's pending entries, ">" = new ones).
 * Calls fn per entry; *got = how many. */
int ow_store_read(ow_store *s, const char *stream, const char *from, int count,
                  ow_store_entry_fn *fn, void *arg, int *got, ow_err *err);

/* Restore after a restart: alerts, groups, send log (bounded by what was kept), silences. */
typedef void ow_store_silence_fn(const char *json, size_t len, void *arg);
int ow_store_load(ow_store *s, ow_groups *g, ow_outbox *o, ow_store_silence_fn *sil, void *arg,
                  ow_err *err);

/* A transaction of writes: begin, queue, commit (MULTI ... EXEC in one round trip). */
void ow_store_begin(ow_store *s);
void ow_store_dirty(char kind, const char *key, const char *json, void *store); /* groups fn */
void ow_store_put_send(ow_store *s, const ow_outbox *o, const ow_send *send);
void ow_store_drop_send(const char *id, void *store); /* outbox trim fn */
void ow_store_ack(ow_store *s, const char *stream, const char *entry_id);
int ow_store_commit(ow_store *s, ow_err *err);

/* Single writes, outside a batch. */
int ow_store_save_send(ow_store *s, const ow_outbox *o, const ow_send *send, ow_err *err);
int ow_store_notify_stream(ow_store *s, const ow_send *send, ow_err *err);
int ow_store_silence_put(ow_store *s, const char *id, const char *json, ow_err *err);
int ow_store_silence_del(ow_store *s, const char *id, ow_err *err);

#endif

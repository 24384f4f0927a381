/*
 * redis — reaching Redis: a configured server, or opswall's own private one.
 *
 * With redis.url empty (the default), the first opswall process starts a private redis-server:
 * unix socket <data_dir>/redis.sock, AOF on, no TCP port. Later processes with the same data_dir
 * find it answering and share it; only the process that started it stops it (on exit, on
 * SIGINT/SIGTERM handled by the program, and — through PR_SET_PDEATHSIG — when that process dies).
 *
 * Lifecycle: ow_redis_env_open → ow_redis_connect* → ow_redis_env_close.
 */
#ifndef OW_REDIS_H
#define OW_REDIS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "err.h"
#include "redis_url.h"

#include "reader.h" /* ow_redis_reader_cap: every connection made here has it */

typedef struct ow_redis_env {
    ow_redis_target target;
    pid_t server_pid; /* > 0 when this process started the private server */
    char desc[300];   /* where Redis is, for messages (no password) */
    char data_dir[256];
    int64_t timeout_ms;
} ow_redis_env;

/* Decide where Redis is and make sure it answers (starting the private server when needed). */
int ow_redis_env_open(const ow_config *cfg, ow_redis_env *env, ow_err *err);

/* Stop the private server if this process started it; waits for it to exit. Safe to call twice. */
void ow_redis_env_close(ow_redis_env *env);

/* A blocking connection with AUTH and SELECT done. Caller frees with redisFree.
 * On failure returns NULL and one clear line in err: where it tried and what to do. */
redisContext *ow_redis_connect(const ow_redis_env *env, ow_err *err);

/* Run a command and check the reply is not an error. Returns the reply (caller frees with
 * freeReplyObject) or NULL with err naming `what`. */
redisReply *ow_redis_cmd(redisContext *c, ow_err *err, const char *what, const char *fmt, ...);

/* FUNCTION LOAD REPLACE of a Lua library (the program's own, so a newer build replaces an older
 * one); errors name `what` ("loading the fencing Redis Function: ..."). Needs Redis >= 7. */
int ow_redis_function_load(redisContext *c, const char *library, const char *what, ow_err *err);

/* Start a redis-server for tests and tools: unix socket in dir, given extra args.
 * Returns pid or -1 with err. Waits until it answers PING (timeout_ms). */
pid_t ow_redis_spawn(const char *server_bin, const char *dir, bool aof, int64_t timeout_ms,
                     ow_err *err);

/* SIGTERM, wait up to 5 s, then SIGKILL. */
void ow_redis_stop_pid(pid_t pid);

#endif

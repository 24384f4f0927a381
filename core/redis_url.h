/*
 * redis_url — where Redis is: "redis://[user:pass@]host:port/db" or "unix:///path/to.sock[?db=N]"
 * (user and password may be percent-encoded). Pure parser; io/redis.c connects.
 */
#ifndef OW_REDIS_URL_H
#define OW_REDIS_URL_H

#include <stdbool.h>

#include "err.h"

typedef struct ow_redis_target {
    bool is_unix;
    char host[256]; /* TCP host, or "" */
    int port;       /* TCP port */
    char path[256]; /* unix socket path, or "" */
    char user[128]; /* "" = no user (AUTH with password only, or none) */
    char password[256];
    int db;
} ow_redis_target;

int ow_redis_url_parse(const char *url, ow_redis_target *t, ow_err *err);

/* "unix:///x/redis.sock" or "redis://host:port/db", never including the password. */
void ow_redis_target_describe(const ow_redis_target *t, char *out, size_t n);

#endif

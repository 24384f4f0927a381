/*
 * gate — who may do what on the feed (DESIGN §7): the token of a request (Authorization: Bearer,
 * or the `token` URL parameter for browser websockets), its role, and the browser origin.
 *
 * Tokens are checked by core/access.h (SHA-256 hashes from config, constant-time compare); the
 * token text is never logged or kept. A request from a browser carries Origin: it must be this
 * server itself (Origin's host:port equals Host) or one of feed.allowed_origins; requests without
 * Origin (curl, scripts, the load client) are not browsers and are let through to the token check.
 *
 * With no token configured the gate is open: every request is admin "local". main allows that only
 * on a loopback listen address (the demo on one machine) and says so at start.
 *
 * ow_rate is the per-connection token bucket shared by the HTTP and websocket sides.
 */
#ifndef OW_FEED_GATE_H
#define OW_FEED_GATE_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

#include "access.h"

typedef struct ow_gate {
    const ow_access *access; /* borrowed */
    const char *origins;     /* borrowed: comma-separated extra origins, may be "" */
} ow_gate;

/* The outcome of a check. */
typedef struct ow_pass {
    int status;       /* 0 = allowed; else 401 (no or unknown token) or 403 (role, origin) */
    ow_role role;     /* the token's role (NONE when unknown) */
    const char *name; /* holder's name (borrowed from the access table), "" when unknown */
    const char *why;  /* for the error body when refused */
} ow_pass;

/* Check a request that needs role `need` (OW_ROLE_NONE: only the origin is checked). */
ow_pass ow_gate_check(const ow_gate *g, struct lws *wsi, ow_role need);

/* Is `origin` (an Origin header value) allowed for a request whose Host header is `host`?
 * Pure; exposed for tests and the fuzz target. */
bool ow_gate_origin_ok(const char *origin, const char *host, const char *allowed);

typedef struct ow_rate {
    double tokens;
    int64_t last_ms; /* 0 = never used: starts full */
} ow_rate;

/* Take one token from a bucket refilled at per_s per second, holding at most burst. */
bool ow_rate_take(ow_rate *r, int64_t now_ms, double per_s, double burst);

#endif

/*
 * http — the feed's HTTP side: the viewer's static files and the JSON endpoints (DESIGN §7).
 *
 *   GET /                  viewer page (index.html of the web root)
 *   GET /<file>            static file from the web root, with its content type
 *   GET /api/v1/snapshot   the latest snapshot (application/json), 503 {"error":...} before the
 * first GET /healthz           {"status":"ok"|"degraded", "redis":{...}, "snapshot":{...}, ...} GET
 * /api/v1/live       without an upgrade: 426 (it is the websocket endpoint, see live.h) anything
 * else          404 {"error":"..."}; bad paths 400; other methods 405
 *
 * The routes are one table in http.c. Static paths are checked twice: the URL path may not contain
 * "..", "//", "\", control characters or dot-files, and the resolved real path must lie inside the
 * web root (so a symlink cannot lead out). HEAD is answered like GET without the body.
 * docs/protocol.md documents the bodies.
 *
 * Lifecycle: ow_http_init → ow_http_protocol (first in the vhost's list, so plain HTTP lands here).
 */
#ifndef OW_FEED_HTTP_H
#define OW_FEED_HTTP_H

#include <libwebsockets.h>
#include <limits.h>
#include <stdint.h>

#include "err.h"
#include "live.h"
#include "redis_sub.h"

#define OW_HTTP_PROTOCOL "opswall-http"

typedef struct ow_http {
    char root[PATH_MAX]; /* real path of the web root, no trailing slash */
    size_t root_len;
    ow_live *live;             /* borrowed */
    const ow_redis_sub *redis; /* borrowed; for /healthz */
    int64_t start_mono_ms;     /* for uptime */
} ow_http;

/* Resolve web_root (must be an existing directory) and keep the borrowed pointers.
 * OW_EIO with err naming the path when the web root is missing. */
int ow_http_init(ow_http *h, const char *web_root, ow_live *live, const ow_redis_sub *redis,
                 int64_t start_mono_ms, ow_err *err);

/* The HTTP protocol for lws: name OW_HTTP_PROTOCOL, user = h. */
struct lws_protocols ow_http_protocol(ow_http *h);

#endif

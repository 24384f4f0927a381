/*
 * http_source — POST /api/v1/events (docs/ingest.md, "HTTP"), on libwebsockets over the program's
 * libuv loop.
 *
 * The body is NDJSON (one event per line) or a JSON array of events; the answer (200) lists, per
 * line or element in order, whether the event was accepted, a duplicate or rejected and why
 * (answer.h), and is sent once every event of the request is in Redis. Refusals: 401 (no or an
 * unknown token), 403 (a token whose role may not post events), 404/405 (other paths and methods),
 * 411 (no Content-Length), 413 (body over ingest.http.max_body), 429 with Retry-After (over
 * ingest.http.rate events per second for this token), 503 with Retry-After (ingest's buffer is
 * full: Redis is away or slower than the producers). A request must arrive whole within
 * ingest.http.timeout.
 *
 * Lifecycle: ow_http_source_new (listens) → stop (no new requests; answers still go out) →
 * close (lws stage 1) → run the loop → ow_http_source_free (lws stage 2) → run the loop again.
 */
#ifndef OW_HTTP_SOURCE_H
#define OW_HTTP_SOURCE_H

#include <uv.h>

#include "appender.h"
#include "config.h"
#include "err.h"

#define OW_INGEST_EVENTS_PATH "/api/v1/events"

typedef struct ow_http_source ow_http_source;

ow_http_source *ow_http_source_new(uv_loop_t *loop, ow_appender *app, const ow_config *cfg,
                                   ow_err *err);
void ow_http_source_stop(ow_http_source *h);
void ow_http_source_close(ow_http_source *h);
void ow_http_source_free(ow_http_source *h);

#endif

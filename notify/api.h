/*
 * api — opswall-notify's HTTP API (lws server on the program's loop; port notify.port):
 *
 *   GET    /api/v1/silences                 viewer    the silences, active and future
 *   POST   /api/v1/silences                 supervisor create one (body: silence.h), 201 + JSON
 *   DELETE /api/v1/silences/{id}            supervisor remove one, 200 {"deleted":id} / 404
 *   GET    /api/v1/notifications?since=T    viewer    notification records created at or after T
 *                                                     (RFC 3339 or epoch ms; default: all kept)
 *   GET    /healthz                         anyone    status and counters
 *
 * Tokens: "Authorization: Bearer <token>" (or ?token=), checked with core/access.h against
 * access.tokens; 401 without a known token, 403 with too small a role. With no tokens configured
 * at all the API is open (a development set-up; the program warns at start). Every answer is JSON;
 * errors are {"error": sentence}. Callbacks only dispatch: the work is done by the app's ops.
 *
 * Lifecycle: ow_api_init → ow_api_protocol (in the vhost's protocol list).
 */
#ifndef OW_NOTIFY_API_H
#define OW_NOTIFY_API_H

#include <libwebsockets.h>
#include <stdint.h>

#include "access.h"
#include "err.h"

#define OW_NOTIFY_API_PROTOCOL "opswall-notify-api"
#define OW_API_BODY_MAX        (16 * 1024)

/* What the API asks of the program. Returned texts are malloc'd JSON the API frees. */
typedef struct ow_api_ops {
    char *(*list_silences)(void *app);
    /* 0 with *out = the created silence; OW_EINVAL (err: the field) or another code. */
    int (*create_silence)(void *app, const char *body, size_t len, const char *by, char **out,
                          ow_err *err);
    int (*delete_silence)(void *app, const char *id, const char *by, ow_err *err); /* ENOTFOUND */
    char *(*list_notifications)(void *app, int64_t since_ms);
    char *(*health)(void *app, int *status);
} ow_api_ops;

typedef struct ow_api {
    const ow_access *access; /* borrowed */
    const ow_api_ops *ops;
    void *app;
} ow_api;

void ow_api_init(ow_api *api, const ow_access *access, const ow_api_ops *ops, void *app);
struct lws_protocols ow_api_protocol(ow_api *api);

#endif

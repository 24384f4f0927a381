/*
 * transport — one delivery attempt to one receiver, on the program's libuv loop.
 *
 *   webhook, dingtalk, wecom, slack: HTTP/1.1 POST of the body (application/json) through the
 *     libwebsockets client on the shared foreign loop (OpenSSL for https), with the header
 *     X-Opswall-Notification-Id. The host name is resolved with uv_getaddrinfo first, so a slow
 *     DNS server stalls only this attempt (lws 4.1 as Debian builds it resolves synchronously).
 *     Success: a 2xx answer; for DingTalk/WeCom also "errcode":0 in the answer. Retryable: no
 *     answer, a timeout, 408, 429, 5xx, and the robots' rate-limit errcodes.
 *   exec: the configured argv (never built from alert text; no shell) started with uv_spawn, the
 *     body on its stdin; success = exit status 0. A program that outlives the timeout is killed
 *     (SIGKILL) and the attempt fails.
 *
 * Every attempt has a deadline (the receiver's timeout) on its own uv timer, and `done` is called
 * exactly once, from the loop, never from inside ow_transport_start.
 *
 * Lifecycle: ow_transport_init (after the lws context exists) → start* → ow_transport_close
 * (aborts attempts in flight without calling done; the loop must run to finish closing).
 */
#ifndef OW_NOTIFY_TRANSPORT_H
#define OW_NOTIFY_TRANSPORT_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <uv.h>

#include "nconfig.h"

#define OW_NOTIFY_CLIENT_PROTOCOL "opswall-notify-client"

typedef void ow_transport_done_fn(void *arg, bool ok, bool retryable, int status,
                                  const char *error);

typedef struct ow_attempt ow_attempt;

typedef struct ow_transport {
    uv_loop_t *loop;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    ow_attempt *head; /* attempts in flight (a list, for close) */
    bool closing;
} ow_transport;

void ow_transport_init(ow_transport *t, uv_loop_t *loop);
void ow_transport_attach(ow_transport *t, struct lws_context *ctx, struct lws_vhost *vhost);

/* Start an attempt; body and id are copied. Returns 0, or -1 when it could not even start (then
 * done has been scheduled with the reason, like any failure). */
int ow_transport_start(ow_transport *t, const ow_receiver *rx, const char *id, const char *body,
                       ow_transport_done_fn *done, void *arg);

void ow_transport_close(ow_transport *t);

/* The lws protocol the client connections bind to (user = t). */
struct lws_protocols ow_transport_protocol(ow_transport *t);

#endif

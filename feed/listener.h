/*
 * listener — one feed worker's own listening socket on a port it shares with the other workers
 * (SO_REUSEPORT), feeding accepted connections to lws.
 *
 * Why not lws's own listener: lws 4.1.6 as Debian builds it (LWS_MAX_SMP 1) sets SO_REUSEPORT
 * only with several service threads, so LWS_SERVER_OPTION_ALLOW_LISTEN_SHARE does nothing and a
 * second process cannot bind the port. Here every worker binds its own socket with SO_REUSEPORT;
 * the kernel spreads new connections over the workers' sockets by a hash of the peer's address
 * and port (even over many clients, no thundering herd), and each accepted socket is handed to
 * lws with lws_adopt_descriptor_vhost exactly as lws's listener does (HTTP, TLS when the vhost
 * has a certificate), so everything after the accept is lws's usual server path.
 *
 * Address: a numeric IPv4 or IPv6 address; "" or "0.0.0.0" listens on every address (IPv6
 * dual-stack when the machine has IPv6). Interface names are not accepted in worker mode.
 *
 * Lifecycle: ow_listen_addr → ow_listen_socket (the parent reserves the port with listen=false;
 * each worker opens its own with listen=true) → ow_listener_start on the worker's loop →
 * ow_listener_close (the loop must run afterwards) before the lws context is destroyed.
 */
#ifndef OW_FEED_LISTENER_H
#define OW_FEED_LISTENER_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <uv.h>

#include "err.h"

typedef struct ow_listen_addr {
    struct sockaddr_storage sa;
    socklen_t len;
} ow_listen_addr;

/* Parse listen ("" = every address) and port into addr. OW_EINVAL with err naming feed.listen
 * when it is not a numeric address. */
int ow_listen_addr_parse(const char *listen, int port, ow_listen_addr *addr, ow_err *err);

/* A TCP socket with SO_REUSEADDR and SO_REUSEPORT bound to addr, listening (backlog SOMAXCONN)
 * when listen is true; non-blocking and close-on-exec. *port_out (may be NULL) gets the bound
 * port (the one the kernel picked for port 0). Returns the fd, or -1 with err. */
int ow_listen_socket(const ow_listen_addr *addr, bool listen, int *port_out, ow_err *err);

typedef struct ow_listener {
    uv_poll_t poll;
    struct lws_vhost *vhost; /* borrowed; created with port CONTEXT_PORT_NO_LISTEN_SERVER */
    int fd;                  /* owned; closed by ow_listener_close */
    bool tls;                /* adopt with LWS_ADOPT_ALLOW_SSL */
    bool started, closed;
    unsigned long accepted, failed;
} ow_listener;

/* Watch fd (a listening socket from ow_listen_socket, now owned by l) on loop and adopt every
 * connection into vhost. OW_EIO with err when the loop cannot watch it (fd is closed then). */
int ow_listener_start(ow_listener *l, uv_loop_t *loop, int fd, struct lws_vhost *vhost, bool tls,
                      ow_err *err);

/* Stop accepting and close the socket (the loop must run afterwards). Idempotent; a listener
 * that never started is a no-op. */
void ow_listener_close(ow_listener *l);

#endif

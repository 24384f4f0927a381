#define _GNU_SOURCE /* accept4 */
#include "listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define ACCEPT_PER_TURN 64 /* connections taken per readable event: the rest wait a turn */

int ow_listen_addr_parse(const char *listen, int port, ow_listen_addr *addr, ow_err *err)
{
    memset(addr, 0, sizeof *addr);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&addr->sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&addr->sa;
    if (!listen[0] || strcmp(listen, "0.0.0.0") == 0 || strcmp(listen, "::") == 0) {
        /* every address: IPv6 dual-stack when the machine has IPv6 */
        int probe = socket(AF_INET6, SOCK_STREAM, 0);
        if (probe >= 0 && strcmp(listen, "0.0.0.0") != 0) {
            close(probe);
            v6->sin6_family = AF_INET6;
            v6->sin6_addr = in6addr_any;
            v6->sin6_port = htons((uint16_t)port);
            addr->len = sizeof *v6;
            return OW_OK;
        }
        if (probe >= 0) close(probe);
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_ANY);
        v4->sin_port = htons((uint16_t)port);
        addr->len = sizeof *v4;
        return OW_OK;
    }
    if (inet_pton(AF_INET, listen, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        addr->len = sizeof *v4;
        return OW_OK;
    }
    if (inet_pton(AF_INET6, listen, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        addr->len = sizeof *v6;
        return OW_OK;
    }
    return ow_err_set(err, OW_EINVAL,
                      "feed.listen: \"%.100s\" is not an IP address; with feed.workers > 1 give "
                      "one (127.0.0.1, 0.0.0.0, ::1, ...), not an interface or host name",
                      listen);
}

int ow_listen_socket(const ow_listen_addr *addr, bool listen_now, int *port_out, ow_err *err)
{
    int fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return ow_err_set(err, OW_EIO, "feed: socket: %s", strerror(errno)), -1;
    int one = 1, zero = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) ||
        (addr->sa.ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero))) {
        ow_err_set(err, OW_EIO, "feed: setsockopt SO_REUSEPORT: %s", strerror(errno));
        close(fd);
        return -1;
    }
    if (bind(fd, (const struct sockaddr *)&addr->sa, addr->len) ||
        (listen_now && listen(fd, SOMAXCONN))) {
        int e = errno;
        struct sockaddr_storage ss = addr->sa;
        int port = ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                                           : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        ow_err_set(err, OW_EIO,
                   "cannot listen on port %d: %s; pick another with --port N (0 = any free "
                   "port) or feed.port",
                   port, strerror(e));
        close(fd);
        return -1;
    }
    if (port_out) {
        struct sockaddr_storage got;
        socklen_t len = sizeof got;
        getsockname(fd, (struct sockaddr *)&got, &len);
        *port_out = got.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&got)->sin_port)
                                             : ntohs(((struct sockaddr_in6 *)&got)->sin6_port);
    }
    return fd;
}

/* What lws's listener does after accept (lws_plat_set_socket_options): no Nagle, then adopt. */
static void on_readable(uv_poll_t *h, int status, int events)
{
    ow_listener *l = h->data;
    (void)events;
    if (status < 0 || l->closed) return;
    for (int i = 0; i < ACCEPT_PER_TURN; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK && ++l->failed <= 10)
                ow_warn("accept: %s", strerror(errno)); /* e.g. EMFILE: retried next turn */
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        lws_sock_file_fd_type sfd;
        sfd.sockfd = fd;
        int type = LWS_ADOPT_SOCKET | LWS_ADOPT_HTTP | (l->tls ? LWS_ADOPT_ALLOW_SSL : 0);
        /* on failure lws has closed fd already */
        if (lws_adopt_descriptor_vhost(l->vhost, (lws_adoption_type)type, sfd, NULL, NULL))
            l->accepted++;
        else if (++l->failed <= 10)
            ow_warn("could not hand an accepted connection to lws (out of memory?)");
    }
}

int ow_listener_start(ow_listener *l, uv_loop_t *loop, int fd, struct lws_vhost *vhost, bool tls,
                      ow_err *err)
{
    memset(l, 0, sizeof *l);
    l->fd = fd;
    l->vhost = vhost;
    l->tls = tls;
    int rc = uv_poll_init_socket(loop, &l->poll, fd);
    if (rc) {
        close(fd);
        l->closed = true;
        return ow_err_set(err, OW_EIO, "feed: cannot watch the listening socket: %s",
                          uv_strerror(rc));
    }
    l->poll.data = l;
    l->started = true;
    uv_poll_start(&l->poll, UV_READABLE, on_readable);
    return OW_OK;
}

static void on_closed(uv_handle_t *h)
{
    ow_listener *l = h->data;
    close(l->fd);
    l->fd = -1;
}

void ow_listener_close(ow_listener *l)
{
    if (!l->started || l->closed) return;
    l->closed = true;
    uv_close((uv_handle_t *)&l->poll, on_closed);
}

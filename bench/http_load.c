/*
 * http_load — steady load on ingest's POST /api/v1/events, measuring acknowledgement latency.
 *
 *   http_load HOST PORT EVENTS_PER_S SECONDS [CONNECTIONS] [EVENTS_PER_REQUEST] [TOKEN]
 *
 * Each connection (a thread, keep-alive) sends requests of EVENTS_PER_REQUEST new order.created
 * events on a fixed schedule; a request's latency runs from its scheduled send time (so a stall
 * counts against every request it delays) to the last byte of its answer, which ingest sends only
 * once every event of it is in Redis. Prints one JSON line: p50/p99/max in ms, events answered
 * per second, and how many answers were not 200.
 */
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

typedef struct worker {
    int id;
    const char *host, *port, *token;
    int per_req, reqs;
    int64_t interval_us, start_us;
    int64_t *lat_us;
    int done, bad;
} worker;

static int dial(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, port, &hints, &res)) return -1;
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen)) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Read one HTTP response; returns its status, or -1. */
static int read_response(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    char *end = NULL;
    while (!end) {
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r <= 0) return -1;
        n += (size_t)r;
        buf[n] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (!end && n + 1 >= cap) return -1;
    }
    int status = atoi(buf + 9);
    const char *cl = strstr(buf, "content-length:"); /* lws writes header names in lower case */
    size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0, have = n - (size_t)(end + 4 - buf);
    while (have < body) {
        ssize_t r = read(fd, buf, cap - 1 < body - have ? cap - 1 : body - have);
        if (r <= 0) return -1;
        have += (size_t)r;
    }
    return status;
}

static void *run(void *arg)
{
    worker *w = arg;
    int fd = dial(w->host, w->port);
    if (fd < 0) {
        fprintf(stderr, "http_load: cannot connect to %s:%s\n", w->host, w->port);
        return NULL;
    }
    size_t cap = (size_t)w->per_req * 300 + 1024;
    char *body = malloc(cap), *req = malloc(cap + 512), *resp = malloc(1 << 20);
    long seq = 0;
    for (int k = 0; k < w->reqs; k++) {
        int64_t due = w->start_us + (int64_t)k * w->interval_us;
        int64_t now = ow_clock_mono_us();
        if (due > now) usleep((useconds_t)(due - now));
        size_t bl = 0;
        for (int i = 0; i < w->per_req; i++, seq++)
            bl += (size_t)snprintf(body + bl, cap - bl,
                                   "{\"v\":1,\"id\":\"hl-%d-%ld\",\"ts\":\"2026-11-22T09:00:00Z\","
                                   "\"type\":\"order.created\",\"order_id\":\"hl-%d-%ld\","
                                   "\"priority\":\"general\",\"category\":\"drain\","
                                   "\"region\":\"north\"}\n",
                                   w->id, seq, w->id, seq);
        int hl = snprintf(req, 512,
                          "POST /api/v1/events HTTP/1.1\r\nHost: %s\r\nContent-Type: "
                          "application/x-ndjson\r\nContent-Length: %zu\r\n%s%s%s\r\n",
                          w->host, bl, w->token ? "Authorization: Bearer " : "",
                          w->token ? w->token : "", w->token ? "\r\n" : "");
        memmove(req + hl, body, bl);
        size_t total = (size_t)hl + bl, off = 0;
        while (off < total) {
            ssize_t r = write(fd, req + off, total - off);
            if (r <= 0) goto out;
            off += (size_t)r;
        }
        int status = read_response(fd, resp, 1 << 20);
        if (status < 0) goto out;
        if (status != 200) w->bad++;
        w->lat_us[w->done++] = ow_clock_mono_us() - due;
    }
out:
    close(fd);
    free(body);
    free(req);
    free(resp);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: http_load HOST PORT EVENTS_PER_S SECONDS [CONNECTIONS] "
                        "[EVENTS_PER_REQUEST] [TOKEN]\n");
        return 2;
    }
    int rate = atoi(argv[3]), secs = atoi(argv[4]);
    int conns = argc > 5 ? atoi(argv[5]) : 4, per_req = argc > 6 ? atoi(argv[6]) : 100;
    const char *token = argc > 7 ? argv[7] : NULL;
    double req_per_s_each = (double)rate / per_req / conns;
    int reqs = (int)(req_per_s_each * secs);
    worker *w = calloc((size_t)conns, sizeof *w);
    pthread_t *th = calloc((size_t)conns, sizeof *th);
    int64_t start = ow_clock_mono_us() + 100000;
    for (int i = 0; i < conns; i++) {
        w[i] = (worker){.id = i,
                        .host = argv[1],
                        .port = argv[2],
                        .token = token,
                        .per_req = per_req,
                        .reqs = reqs,
                        .interval_us = (int64_t)(1e6 / req_per_s_each),
                        /* spread the connections over one interval */
                        .start_us = start + (int64_t)(1e6 / req_per_s_each) * i / conns};
        w[i].lat_us = calloc((size_t)reqs + 1, sizeof *w[i].lat_us);
        pthread_create(&th[i], NULL, run, &w[i]);
    }
    size_t n = 0, bad = 0;
    int64_t *all = calloc((size_t)reqs * (size_t)conns + 1, sizeof *all);
    for (int i = 0; i < conns; i++) {
        pthread_join(th[i], NULL);
        memcpy(all + n, w[i].lat_us, (size_t)w[i].done * sizeof *all);
        n += (size_t)w[i].done;
        bad += (size_t)w[i].bad;
        free(w[i].lat_us);
    }
    double elapsed = (double)(ow_clock_mono_us() - start) / 1e6;
    qsort(all, n, sizeof *all, cmp);
    printf(
        "{\"bench\":\"ingest.http_latency\",\"target_events_per_s\":%d,\"events_per_request\":%d,"
        "\"connections\":%d,\"requests\":%zu,\"not_200\":%zu,\"events_per_s\":%.0f,"
        "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}\n",
        rate, per_req, conns, n, bad, (double)n * per_req / elapsed, n ? all[n / 2] / 1e3 : 0.0,
        n ? all[n * 99 / 100] / 1e3 : 0.0, n ? all[n - 1] / 1e3 : 0.0);
    free(all);
    free(w);
    free(th);
    return n == (size_t)reqs * (size_t)conns && bad == 0 ? 0 : 1;
}

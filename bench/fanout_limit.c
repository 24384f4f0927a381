/*
 * fanout_limit — the physical limit of the feed's fan-out (bench/feed_load.sh): the same messages
 * to the same number of receivers in the same process layout, with nothing but the kernel's TCP on
 * loopback — no websocket, no libwebsockets, no Redis. Prints one JSON line.
 *
 *   fanout_limit [--clients N] [--procs K] [--threads T] [--size B | --pad P] [--rate R]
 *                [--seconds S] [--warmup W]
 *
 * K receiver processes (fork) open N/K connections each to a listener on 127.0.0.1 and read them
 * in one level-triggered epoll loop (non-blocking recv into a 64 KB buffer), as one feed_load
 * process does. The sender (this process, after accepting all N) publishes a message of B bytes
 * R times a second: every connection gets one send(MSG_NOSIGNAL | MSG_DONTWAIT), from one thread
 * or from T threads that each own a contiguous slice and start each round together (a barrier).
 * Default B: the websocket frame the feed sends for one of feed_load's deltas with P pad bytes
 * (bench/latency_hist.h; P = 1000 as in feed_load.sh).
 *
 * A message holds its publish time (CLOCK_MONOTONIC µs, one clock for every process on the
 * machine) in bytes 0..7 and its round number in bytes 8..15; the rest is filler. A receiver
 * cuts its connection's byte stream into B-byte messages (TCP keeps no message boundaries) and
 * counts, for each message published in the window, latency = receipt − publish in the
 * histogram of bench/latency_hist.h. What send() does not take (a full socket buffer) is kept per
 * connection and finished when poll() says the socket is writable, so every message arrives;
 * short_writes counts the window's messages whose first send() did not take them whole (those
 * queued behind such a rest included).
 *
 * After a warm-up of W seconds the window is S seconds; expected = rounds published in it × N,
 * delivered = those that arrived whole (the sender waits for it, at most 10 s after the window).
 * CPU is getrusage over the window, the sender's (all its threads) and the receivers' (each
 * samples itself at the window's edges): send_us_per_msg = sender CPU / expected, and the same
 * for the receivers. On loopback, send() carries the segment through the receiver's TCP stack
 * (the softirq work of the receive side, and waking the receiver) in the sender's context, so
 * most of the receive path is charged to the sender's system time (sender_sys_share), not to
 * the receivers'; feed_us_per_msg in feed_load.sh contains the same work.
 */
#define _GNU_SOURCE /* accept4, ppoll, prctl */
#include "latency_hist.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROCS_MAX    64
#define THREADS_MAX  64
#define CLIENTS_MAX  1000000
#define HDR          16          /* publish time µs (bytes 0..7), round (8..15), native order */
#define RECV_BUF     (64 << 10)  /* one recv() takes up to this much */
#define PEND_MAX     (64u << 20) /* a connection's unsent bytes beyond this: its reader is gone */
#define CONNECT_S    60          /* every connection accepted within this */
#define DELIVER_S    10          /* every message of the window delivered within this after it */
#define FD_SPARE     64          /* descriptors besides the connections */
#define RECV_WAIT_MS 10          /* a receiver looks at the clock and the stop flag this often */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_until(int64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

/* CPU time of this process (every thread), user and system, µs */
static void cpu_us(int64_t *user, int64_t *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec;
    *sys = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec;
}

typedef struct opts {
    int clients, procs, threads, rate;
    long size;
    double seconds, warmup;
} opts;

/* ---- shared between the sender and the receivers (MAP_SHARED) ---------------------------------
 */

typedef struct recv_shared { /* one per receiver process; only that process writes it */
    uint64_t hist[HIST_N];   /* latency of the window's messages */
    uint64_t delivered;      /* the window's messages received whole */
    uint64_t gaps;           /* a round that is not the previous + 1 on its connection */
    int64_t cpu[2];          /* user + system µs at the window's start and end; -1 not yet */
    atomic_int ready;        /* every connection open and in the epoll set */
} recv_shared;

typedef struct control {
    _Atomic int64_t ws, we; /* the window, CLOCK_MONOTONIC µs; 0 until the sender sets it */
    atomic_int stop;
} control;

/* ---- receivers ----------------------------------------------------------------------------------
 */

typedef struct rconn {
    int fd;
    uint32_t have; /* bytes of the current message received */
    int64_t last;  /* its previous message's round, -1 none */
    unsigned char head[HDR];
} rconn;

/* Cut `len` received bytes into messages; count the complete ones published in the window. */
static void consume(rconn *c, const unsigned char *p, size_t len, size_t size, int64_t now,
                    int64_t ws, int64_t we, recv_shared *me)
{
    while (len > 0) {
        size_t take = size - c->have < len ? size - c->have : len;
        if (c->have < HDR) {
            size_t h = HDR - c->have < take ? HDR - c->have : take;
            memcpy(c->head + c->have, p, h);
        }
        c->have += (uint32_t)take;
        p += take;
        len -= take;
        if (c->have < size) break;
        c->have = 0;
        int64_t t, round;
        memcpy(&t, c->head, 8);
        memcpy(&round, c->head + 8, 8);
        if (c->last >= 0 && round != c->last + 1) me->gaps++;
        c->last = round;
        if (ws && t >= ws && t < we) {
            hist_add(me->hist, now - t);
            me->delivered++;
        }
    }
}

static void sample_cpu(recv_shared *me, const control *ctl, int64_t now)
{
    int64_t ws = atomic_load(&ctl->ws), we = atomic_load(&ctl->we), u, s;
    for (int i = 0; i < 2; i++)
        if (ws && me->cpu[i] < 0 && now >= (i ? we : ws)) {
            cpu_us(&u, &s);
            me->cpu[i] = u + s;
        }
}

/* One receiver process: open n connections to port, then read them until told to stop.
 * Returns the exit status (0, or 1 after a message on stderr). */
static int receiver_main(int port, int n, size_t size, recv_shared *me, control *ctl)
{
    rconn *c = calloc((size_t)n, sizeof *c);
    unsigned char *buf = malloc(RECV_BUF);
    struct epoll_event ev[256];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!c || !buf || ep < 0) {
        fprintf(stderr, "fanout_limit: receiver: out of memory or descriptors\n");
        return 1;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < n; i++) {
        c[i].last = -1;
        c[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c[i].fd < 0 || connect(c[i].fd, (struct sockaddr *)&a, sizeof a) < 0) {
            fprintf(stderr, "fanout_limit: receiver: connection %d of %d to 127.0.0.1:%d: %s\n",
                    i + 1, n, port, strerror(errno));
            return 1;
        }
        int fl = fcntl(c[i].fd, F_GETFL);
        struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (fl < 0 || fcntl(c[i].fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
            epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &e) < 0) {
            fprintf(stderr, "fanout_limit: receiver: epoll: %s\n", strerror(errno));
            return 1;
        }
    }
    atomic_store(&me->ready, 1);
    while (!atomic_load(&ctl->stop)) {
        int k = epoll_wait(ep, ev, (int)(sizeof ev / sizeof ev[0]), RECV_WAIT_MS);
        if (k < 0 && errno != EINTR) {
            fprintf(stderr, "fanout_limit: receiver: epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        int64_t ws = atomic_load(&ctl->ws), we = atomic_load(&ctl->we);
        for (int i = 0; i < k; i++) {
            rconn *r = &c[ev[i].data.u32];
            ssize_t got = recv(r->fd, buf, RECV_BUF, 0);
            if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
            if (got <= 0) {
                if (atomic_load(&ctl->stop)) return 0; /* the sender closes at the end */
                fprintf(stderr, "fanout_limit: receiver: %s\n",
                        got == 0 ? "the sender closed a connection" : strerror(errno));
                return 1;
            }
            consume(r, buf, (size_t)got, size, mono_us(), ws, we, me);
        }
        sample_cpu(me, ctl, mono_us());
    }
    /* the process exits now: its sockets and memory go with it */
    return 0;
}

/* ---- sender -------------------------------------------------------------------------------------
 */

typedef struct sconn {
    int fd;
    unsigned char *pend; /* bytes send() did not take, in order: [off, len) still to send */
    size_t off, len, cap;
} sconn;

typedef struct rounds { /* the schedule every sender thread follows */
    pthread_barrier_t bar;
    int64_t start, period, ws, we, drain_by; /* CLOCK_MONOTONIC µs */
    int64_t t[2];    /* round k's publish time in t[k % 2]: thread 0 writes it before the barrier */
    atomic_int fail; /* a thread failed: every thread stops after the next barrier */
    size_t size;
} rounds;

typedef struct sender {
    pthread_t th;
    int id, n;
    sconn *c; /* its slice of the connections */
    rounds *r;
    unsigned char *msg;
    struct pollfd *pf; /* n entries: the connections with a rest, for drain */
    int *idx;          /* ... and their index in c */
    uint64_t short_writes, rounds_in_window;
    int64_t pass_us_max; /* the longest send pass of a window round, publish → last send() */
    char err[200];
} sender;

static int fail(sender *s, const char *what, int e)
{
    if (!s->err[0])
        snprintf(s->err, sizeof s->err, "sender thread %d: %s: %s", s->id, what, strerror(e));
    atomic_store(&s->r->fail, 1);
    return -1;
}

static int queue(sender *s, sconn *c, const unsigned char *p, size_t n)
{
    if (c->off > 0) { /* keep the rest at the front */
        memmove(c->pend, c->pend + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n)
            cap *= 2;
        if (cap > PEND_MAX) return fail(s, "a receiver stopped reading", ENOBUFS);
        unsigned char *q = realloc(c->pend, cap);
        if (!q) return fail(s, "pending bytes", ENOMEM);
        c->pend = q;
        c->cap = cap;
    }
    memcpy(c->pend + c->len, p, n);
    c->len += n;
    return 0;
}

static bool soft(int e)
{
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* This round's message to one connection; what send() leaves is queued. */
static int send_one(sender *s, sconn *c, bool in_window)
{
    size_t size = s->r->size;
    ssize_t w = 0;
    if (c->len == c->off) { /* nothing queued before it */
        w = send(c->fd, s->msg, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w == (ssize_t)size) return 0;
        if (w < 0 && !soft(errno)) return fail(s, "send", errno);
        if (w < 0) w = 0;
    }
    if (in_window) s->short_writes++;
    return queue(s, c, s->msg + w, size - (size_t)w);
}

/* Finish queued bytes as the sockets become writable, until `until` (µs); with `final`, return
 * as soon as nothing is queued. Nothing is queued meanwhile (only a round's pass queues), so the
 * set of connections with a rest only shrinks: it is collected once and compacted.
 * Returns how many connections still have bytes queued, or -1 on failure. */
static int drain(sender *s, int64_t until, bool final)
{
    int np = 0;
    for (int i = 0; i < s->n; i++)
        if (s->c[i].len > s->c[i].off) {
            s->pf[np] = (struct pollfd){.fd = s->c[i].fd, .events = POLLOUT};
            s->idx[np++] = i;
        }
    for (;;) {
        if (atomic_load(&s->r->fail)) return -1;
        int64_t now = mono_us();
        if (now >= until || (np == 0 && final)) return np;
        if (np == 0) {
            sleep_until(until);
            return 0;
        }
        int64_t left = until - now;
        struct timespec ts = {(time_t)(left / 1000000), (long)(left % 1000000) * 1000};
        if (ppoll(s->pf, (nfds_t)np, &ts, NULL) < 0 && errno != EINTR)
            return fail(s, "poll", errno);
        int keep = 0;
        for (int j = 0; j < np; j++) {
            sconn *c = &s->c[s->idx[j]];
            if (s->pf[j].revents) {
                ssize_t w =
                    send(c->fd, c->pend + c->off, c->len - c->off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w < 0 && !soft(errno)) return fail(s, "send", errno);
                if (w > 0) c->off += (size_t)w;
                if (c->off == c->len) {
                    c->off = c->len = 0;
                    continue;
                }
            }
            s->pf[keep] = s->pf[j];
            s->idx[keep++] = s->idx[j];
        }
        np = keep;
    }
}

static void *sender_run(void *arg)
{
    sender *s = arg;
    rounds *r = s->r;
    for (int64_t k = 0;; k++) {
        int64_t due = r->start + k * r->period;
        if (due >= r->we) break; /* the same for every thread: they meet at the same barriers */
        drain(s, due, false);
        if (s->id == 0) r->t[k % 2] = mono_us();
        pthread_barrier_wait(&r->bar);
        if (atomic_load(&r->fail)) break; /* written before the barrier by whoever failed */
        int64_t t = r->t[k % 2];
        bool in = t >= r->ws && t < r->we;
        s->rounds_in_window += in;
        memcpy(s->msg, &t, 8);
        memcpy(s->msg + 8, &k, 8);
        for (int i = 0; i < s->n; i++)
            if (send_one(s, &s->c[i], in) < 0) break; /* the others stop after the barrier */
        int64_t pass = mono_us() - t;
        if (in && pass > s->pass_us_max) s->pass_us_max = pass;
    }
    if (!atomic_load(&r->fail) && drain(s, r->drain_by, true) > 0)
        fail(s, "rounds not sent whole before the deadline", ETIMEDOUT);
    return NULL;
}

/* ---- the run ------------------------------------------------------------------------------------
 */

static pid_t pids[PROCS_MAX];
static int npids;

/* Kill every receiver still running and reap them all. */
static void reap(bool kill_them)
{
    for (int p = 0; p < npids; p++)
        if (pids[p] > 0 && kill_them) kill(pids[p], SIGKILL);
    for (int p = 0; p < npids; p++)
        if (pids[p] > 0) waitpid(pids[p], NULL, 0);
    npids = 0;
}

/* Has a receiver exited (it only does so on failure before the stop flag)? */
static bool receiver_gone(void)
{
    for (int p = 0; p < npids; p++) {
        int st;
        if (pids[p] > 0 && waitpid(pids[p], &st, WNOHANG) == pids[p]) {
            pids[p] = -1;
            if (WIFSIGNALED(st))
                fprintf(stderr, "fanout_limit: receiver process %d killed by signal %d\n", p,
                        WTERMSIG(st));
            return true; /* one that exited said why */
        }
    }
    return false;
}

static int run(const opts *o)
{
    int rc = 1, lfd = -1, *fds = NULL;
    void *map = MAP_FAILED;
    size_t maplen = 0;
    sender *snd = NULL;
    sconn *conns = NULL;
    int nfds = 0, started = 0;
    rounds r;
    memset(&r, 0, sizeof r);
    bool barrier = false;

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rlim_t need = (rlim_t)o->clients + FD_SPARE;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
        fprintf(stderr,
                "fanout_limit: --clients %d needs %lu file descriptors, the hard limit is %lu "
                "(raise it: ulimit -Hn as root, or fewer --clients)\n",
                o->clients, (unsigned long)need, (unsigned long)rl.rlim_max);
        return 1;
    }
    rl.rlim_cur = rl.rlim_max; /* what `ulimit -n $(ulimit -Hn)` does; children inherit it */
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 ||
        (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
         rl.rlim_cur < need)) {
        fprintf(stderr, "fanout_limit: cannot raise the open-file limit to %lu: %s\n",
                (unsigned long)need, strerror(errno));
        return 1;
    }

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, o->clients) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) < 0) {
        fprintf(stderr, "fanout_limit: listener on 127.0.0.1: %s\n", strerror(errno));
        goto out;
    }
    int port = ntohs(a.sin_port);

    maplen = sizeof(recv_shared) * (size_t)o->procs + sizeof(control);
    map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        fprintf(stderr, "fanout_limit: shared memory of %zu bytes: %s\n", maplen, strerror(errno));
        goto out;
    }
    recv_shared *sh = map;
    control *ctl = (control *)(sh + o->procs);
    for (int p = 0; p < o->procs; p++)
        sh[p].cpu[0] = sh[p].cpu[1] = -1;

    pid_t parent = getpid();
    fflush(NULL);
    for (int p = 0; p < o->procs; p++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "fanout_limit: fork: %s\n", strerror(errno));
            goto out;
        }
        if (pid == 0) {
            /* a receiver never outlives the sender, however the sender ends */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(1);
            close(lfd);
            int n = o->clients / o->procs + (p < o->clients % o->procs);
            _exit(receiver_main(port, n, (size_t)o->size, &sh[p], ctl));
        }
        pids[npids++] = pid;
    }

    /* accept every connection */
    fds = malloc(sizeof *fds * (size_t)o->clients);
    if (!fds) goto out;
    int64_t by = mono_us() + CONNECT_S * 1000000LL;
    while (nfds < o->clients) {
        if (receiver_gone()) goto out; /* it said why */
        if (mono_us() > by) {
            fprintf(stderr, "fanout_limit: only %d of %d connections within %d s\n", nfds,
                    o->clients, CONNECT_S);
            goto out;
        }
        struct pollfd pf = {.fd = lfd, .events = POLLIN};
        if (poll(&pf, 1, 100) <= 0) continue;
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (soft(errno) || errno == ECONNABORTED) continue;
            fprintf(stderr, "fanout_limit: accept: %s\n", strerror(errno));
            goto out;
        }
        /* no Nagle delay on a rest sent after a short write, as libwebsockets sets its sockets */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fds[nfds++] = fd;
    }
    close(lfd);
    lfd = -1;
    for (int p = 0; p < o->procs; p++)
        while (!atomic_load(&sh[p].ready)) {
            if (receiver_gone()) goto out;
            usleep(1000);
        }

    /* the schedule, then the threads, each with its slice */
    conns = calloc((size_t)o->clients, sizeof *conns);
    snd = calloc((size_t)o->threads, sizeof *snd);
    if (!conns || !snd) goto out;
    for (int i = 0; i < o->clients; i++)
        conns[i].fd = fds[i];
    r.size = (size_t)o->size;
    r.period = (int64_t)(1e6 / o->rate);
    r.start = mono_us() + 100000;
    r.ws = r.start + (int64_t)(o->warmup * 1e6);
    r.we = r.ws + (int64_t)(o->seconds * 1e6);
    r.drain_by = r.we + DELIVER_S * 1000000LL;
    atomic_store(&ctl->we, r.we);
    atomic_store(&ctl->ws, r.ws);
    if (pthread_barrier_init(&r.bar, NULL, (unsigned)o->threads) != 0) goto out;
    barrier = true;
    for (int t = 0, from = 0; t < o->threads; t++) {
        sender *s = &snd[t];
        s->id = t;
        s->r = &r;
        s->n = o->clients / o->threads + (t < o->clients % o->threads);
        s->c = conns + from;
        from += s->n;
        s->msg = malloc(r.size);
        s->pf = malloc(sizeof *s->pf * (size_t)s->n);
        s->idx = malloc(sizeof *s->idx * (size_t)s->n);
        if (!s->msg || !s->pf || !s->idx) goto out;
        memset(s->msg, 'x', r.size);
    }
    for (; started < o->threads; started++)
        if (pthread_create(&snd[started].th, NULL, sender_run, &snd[started]) != 0) {
            fprintf(stderr, "fanout_limit: thread: %s\n", strerror(errno));
            /* the started threads wait at a barrier that will never fill */
            goto out;
        }

    /* sample our CPU at the window's edges; watch the receivers meanwhile */
    int64_t cpu[2][2] = {{0, 0}, {0, 0}};
    for (int i = 0; i < 2 && !atomic_load(&r.fail); i++) {
        int64_t at = i ? r.we : r.ws;
        while (mono_us() < at && !atomic_load(&r.fail)) {
            if (receiver_gone()) atomic_store(&r.fail, 1); /* the threads stop at the next round */
            int64_t next = mono_us() + 100000;
            sleep_until(next < at ? next : at);
        }
        cpu_us(&cpu[i][0], &cpu[i][1]);
    }
    for (int t = 0; t < started; t++)
        pthread_join(snd[t].th, NULL);
    started = 0;
    uint64_t short_writes = 0, rounds_in = snd[0].rounds_in_window;
    int64_t pass_max = 0;
    for (int t = 0; t < o->threads; t++) {
        if (snd[t].err[0]) fprintf(stderr, "fanout_limit: %s\n", snd[t].err);
        short_writes += snd[t].short_writes;
        if (snd[t].pass_us_max > pass_max) pass_max = snd[t].pass_us_max;
    }
    if (atomic_load(&r.fail)) goto out;

    /* every message is sent: wait until the receivers have it all */
    uint64_t expected = rounds_in * (uint64_t)o->clients, delivered = 0;
    int64_t until = mono_us() + DELIVER_S * 1000000LL;
    for (;;) {
        delivered = 0;
        bool sampled = true;
        for (int p = 0; p < o->procs; p++) {
            delivered += sh[p].delivered;
            sampled = sampled && sh[p].cpu[1] >= 0;
        }
        if ((delivered >= expected && sampled) || mono_us() > until) break;
        if (receiver_gone()) goto out;
        usleep(10000);
    }
    /* stop the receivers (they exit within RECV_WAIT_MS), then reap them */
    atomic_store(&ctl->stop, 1);
    bool recv_failed = false;
    for (int64_t t = mono_us() + 2000000; npids && mono_us() < t;) {
        bool all = true;
        for (int p = 0; p < npids; p++) {
            int st;
            if (pids[p] <= 0) continue;
            if (waitpid(pids[p], &st, WNOHANG) != pids[p]) {
                all = false;
                continue;
            }
            pids[p] = -1;
            recv_failed = recv_failed || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
        }
        if (all)
            npids = 0;
        else
            usleep(5000);
    }
    if (npids) fprintf(stderr, "fanout_limit: a receiver did not stop within 2 s: killed\n");
    recv_failed = recv_failed || npids;
    reap(true);

    static uint64_t hist[HIST_N];
    uint64_t gaps = 0;
    double recv_cpu = 0;
    bool recv_sampled = true;
    for (int p = 0; p < o->procs; p++) {
        for (int i = 0; i < HIST_N; i++)
            hist[i] += sh[p].hist[i];
        gaps += sh[p].gaps;
        if (sh[p].cpu[0] < 0 || sh[p].cpu[1] < 0)
            recv_sampled = false;
        else
            recv_cpu += (double)(sh[p].cpu[1] - sh[p].cpu[0]);
    }
    double win_s = (double)(r.we - r.ws) / 1e6;
    double send_cpu = (double)(cpu[1][0] + cpu[1][1] - cpu[0][0] - cpu[0][1]);
    double send_sys = (double)(cpu[1][1] - cpu[0][1]);
    double msgs = expected ? (double)expected : 1;
    printf("{\"bench\":\"fanout_limit\",\"clients\":%d,\"procs\":%d,\"threads\":%d,\"size\":%ld,"
           "\"rate\":%d,\"window_s\":%g,\"rounds\":%" PRIu64 ",\"expected\":%" PRIu64
           ",\"delivered\":%" PRIu64 ",\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,"
           "\"max_ms\":%.1f,\"send_pass_ms_max\":%.1f,\"send_us_per_msg\":%.2f,"
           "\"recv_us_per_msg\":%.2f,\"sender_cpu_cores\":%.3f,\"sender_sys_share\":%.2f,"
           "\"recv_cpu_cores\":%.3f,\"short_writes\":%" PRIu64 ",\"gaps\":%" PRIu64 "}\n",
           o->clients, o->procs, o->threads, o->size, o->rate, win_s, rounds_in, expected,
           delivered, hist_pct(hist, delivered, 0.5), hist_pct(hist, delivered, 0.9),
           hist_pct(hist, delivered, 0.99), hist_max_ms(hist), (double)pass_max / 1000.0,
           send_cpu / msgs, recv_sampled ? recv_cpu / msgs : -1.0, send_cpu / 1e6 / win_s,
           send_cpu > 0 ? send_sys / send_cpu : 0.0, recv_sampled ? recv_cpu / 1e6 / win_s : -1.0,
           short_writes, gaps);
    rc = delivered == expected && gaps == 0 && !recv_failed ? 0 : 1;
    if (rc)
        fprintf(stderr, "fanout_limit: %" PRIu64 " of %" PRIu64 " delivered, %" PRIu64 " gaps%s\n",
                delivered, expected, gaps, recv_failed ? ", a receiver failed" : "");
out:
    if (started) { /* threads exist only on the failure paths here: end the process with them */
        reap(true);
        _exit(1);
    }
    reap(true);
    if (barrier) pthread_barrier_destroy(&r.bar);
    for (int t = 0; snd && t < o->threads; t++) {
        free(snd[t].msg);
        free(snd[t].pf);
        free(snd[t].idx);
    }
    for (int i = 0; conns && i < o->clients; i++)
        free(conns[i].pend);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    if (lfd >= 0) close(lfd);
    if (map != MAP_FAILED) munmap(map, maplen);
    free(snd);
    free(conns);
    free(fds);
    return rc;
}

/* ---- options ------------------------------------------------------------------------------------
 */

static const char usage[] =
    "usage: fanout_limit [--clients N] [--procs K] [--threads T] [--size BYTES | --pad P] "
    "[--rate R] [--seconds S] [--warmup W]\n";

/* One option: an integer (lo..hi) or, with `num`, a number; its value lands in `out`. */
typedef struct opt_def {
    const char *name;
    bool num;
    double lo, hi;
    double *out;
} opt_def;

static bool set_opt(const opt_def *d, const char *v)
{
    char *end;
    errno = 0;
    double x = d->num ? strtod(v, &end) : (double)strtol(v, &end, 10);
    if (errno || end == v || *end || !(x >= d->lo && x <= d->hi)) {
        fprintf(stderr, "fanout_limit: %s: expected %s %.10g..%.10g, got \"%s\"\n", d->name,
                d->num ? "a number" : "an integer", d->lo, d->hi, v);
        return false;
    }
    *d->out = x;
    return true;
}

/* 0: run; 1: --help answered; 2: a bad option (said on stderr) */
static int parse(int argc, char **argv, opts *o)
{
    double clients = 1000, procs = 2, threads = 1, rate = 4, size = -1, pad = -1;
    o->seconds = 10;
    o->warmup = 2;
    const opt_def defs[] = {
        {"--clients", false, 1, CLIENTS_MAX, &clients}, {"--procs", false, 1, PROCS_MAX, &procs},
        {"--threads", false, 1, THREADS_MAX, &threads}, {"--rate", false, 1, 1000, &rate},
        {"--size", false, HDR, 1 << 20, &size},         {"--pad", false, 0, 1 << 20, &pad},
        {"--seconds", true, 0.1, 86400, &o->seconds},   {"--warmup", true, 0, 3600, &o->warmup},
    };
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        if (strcmp(k, "--help") == 0 || strcmp(k, "-h") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        const opt_def *d = NULL;
        for (size_t j = 0; j < sizeof defs / sizeof defs[0]; j++)
            if (strcmp(k, defs[j].name) == 0) d = &defs[j];
        if (!d) {
            fprintf(stderr, "fanout_limit: %s: unknown option\n", k);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "fanout_limit: %s: missing its value\n", k);
            return 2;
        }
        if (!set_opt(d, argv[++i])) return 2;
    }
    if (size >= 0 && pad >= 0) {
        fprintf(stderr, "fanout_limit: give --size or --pad, not both\n");
        return 2;
    }
    if (procs > clients || threads > clients) {
        fprintf(stderr, "fanout_limit: --procs %g and --threads %g must not exceed --clients %g\n",
                procs, threads, clients);
        return 2;
    }
    if (size < 0) {
        /* the frame of a delta as feed_load publishes it: a wall clock µs of today, a seq of a
         * 20 s run; one digit more or less moves it by a byte */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        size = (double)fanout_delta_frame_size(pad < 0 ? 1000 : (size_t)pad, 50,
                                               (int64_t)now.tv_sec * 1000000);
    }
    o->clients = (int)clients;
    o->procs = (int)procs;
    o->threads = (int)threads;
    o->rate = (int)rate;
    o->size = (long)size;
    return 0;
}

int main(int argc, char **argv)
{
    opts o;
    int p = parse(argc, argv, &o);
    if (p == 1) return 0;
    if (p) {
        fputs(usage, stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    return run(&o);
}

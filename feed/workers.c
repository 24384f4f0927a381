#define _GNU_SOURCE /* pipe2 */
#include "workers.h"

#include <stdbool.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define QUICK_EXIT_MS  10000 /* a worker that dies sooner is restarted after a growing pause */
#define PAUSE_MAX_MS   30000
#define STOP_GRACE_MS  10000 /* after SIGTERM, then SIGKILL */
#define START_LIMIT_MS 60000 /* every worker must listen by then */

typedef struct slot {
    /* written by the worker, under seq (odd while it writes) */
    uint64_t seq;
    ow_worker_stats st;
    /* written by the parent */
    int64_t pid;
    uint64_t starts;
} slot;

struct ow_worker_board {
    int n;
    slot *slots; /* MAP_SHARED: the parent's and every worker's view of the same pages */
    size_t size;
};

ow_worker_board *ow_worker_board_new(int n)
{
    if (n < 1 || n > OW_WORKERS_MAX) return NULL;
    ow_worker_board *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->n = n;
    b->size = sizeof(slot) * (size_t)n;
    b->slots = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (b->slots == MAP_FAILED) {
        free(b);
        return NULL;
    }
    return b; /* anonymous mappings start zeroed */
}

void ow_worker_board_free(ow_worker_board *b)
{
    if (!b) return;
    munmap(b->slots, b->size);
    free(b);
}

int ow_worker_board_n(const ow_worker_board *b)
{
    return b->n;
}

void ow_worker_publish(ow_worker_board *b, int k, const ow_worker_stats *st)
{
    slot *s = &b->slots[k];
    __atomic_add_fetch(&s->seq, 1, __ATOMIC_ACQ_REL); /* odd: being written */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(&s->st, st, sizeof *st);
    __atomic_add_fetch(&s->seq, 1, __ATOMIC_RELEASE); /* even: whole */
}

/* A consistent copy of slot k's stats (retries while its worker is writing). */
static void read_slot(const ow_worker_board *b, int k, ow_worker_stats *out)
{
    const slot *s = &b->slots[k];
    for (int tries = 0; tries < 1000; tries++) {
        uint64_t before = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
        if (before & 1) continue;
        memcpy(out, &s->st, sizeof *out);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&s->seq, __ATOMIC_ACQUIRE) == before) return;
    }
    memset(out, 0, sizeof *out); /* a writer died mid-write: count it as nothing */
}

void ow_worker_totals(const ow_worker_board *b, ow_worker_stats *sum)
{
    memset(sum, 0, sizeof *sum);
    sum->live.events_applied = -1;
    sum->redis_connected = 1;
    for (int k = 0; k < b->n; k++) {
        ow_worker_stats w;
        read_slot(b, k, &w);
        ow_live_stats *a = &sum->live;
        const ow_live_stats *x = &w.live;
        a->clients += x->clients;
        a->accepted += x->accepted;
        a->refused += x->refused;
        a->published += x->published;
        a->snapshots_in += x->snapshots_in;
        a->deltas_in += x->deltas_in;
        a->unchanged += x->unchanged;
        a->stale += x->stale;
        a->rejected += x->rejected;
        a->gaps += x->gaps;
        a->queue_drops += x->queue_drops;
        a->resyncs += x->resyncs;
        a->sent_msgs += x->sent_msgs;
        a->sent_bytes += x->sent_bytes;
        a->batches += x->batches;
        a->threaded += x->threaded;
        a->wire_bytes += x->wire_bytes;
        a->compressed += x->compressed;
        a->chained += x->chained;
        a->short_sends += x->short_sends;
        a->send_threads += x->send_threads;
        a->client_errors += x->client_errors;
        a->pings += x->pings;
        a->silent_closes += x->silent_closes;
        a->materialised += x->materialised;
        if (x->last_recv_ms > a->last_recv_ms) {
            a->last_recv_ms = x->last_recv_ms;
            a->last_now_ms = x->last_now_ms;
        }
        if (x->events_applied > a->events_applied) a->events_applied = x->events_applied;
        ow_http_counts *h = &sum->http;
        h->requests += w.http.requests;
        for (int c = 0; c < 6; c++)
            h->by_class[c] += w.http.by_class[c];
        h->unauthorized += w.http.unauthorized;
        h->forbidden += w.http.forbidden;
        h->rate_limited += w.http.rate_limited;
        h->too_large += w.http.too_large;
        h->timeouts += w.http.timeouts;
        for (int i = 0; i < OW_LIVE_BACKLOG_N; i++)
            sum->backlog[i] += w.backlog[i];
        if (!w.redis_connected) sum->redis_connected = 0;
    }
}

enum worker_metric { WM_CLIENTS, WM_SENT, WM_STARTS };

static double worker_value(const ow_worker_board *b, int k, enum worker_metric m)
{
    if (m == WM_STARTS) return (double)__atomic_load_n(&b->slots[k].starts, __ATOMIC_RELAXED);
    ow_worker_stats w;
    read_slot(b, k, &w);
    return m == WM_CLIENTS ? (double)w.live.clients : (double)w.live.sent_msgs;
}

void ow_worker_metrics(const ow_worker_board *b, ow_buf *out)
{
    static const struct {
        const char *name, *type, *help;
        enum worker_metric m;
    } per_worker[] = {
        {"opswall_feed_worker_clients", "gauge", "Websocket clients of each worker.", WM_CLIENTS},
        {"opswall_feed_worker_messages_sent_total", "counter",
         "Websocket messages each worker wrote.", WM_SENT},
        {"opswall_feed_worker_starts_total", "counter",
         "Times the parent started each worker (1 + restarts).", WM_STARTS},
    };
    ow_http_metric(out, "opswall_feed_workers", "gauge",
                   "Feed worker processes sharing the port (feed.workers).", NULL, b->n);
    /* Prometheus wants a metric's samples together: one metric at a time, every worker */
    for (size_t i = 0; i < sizeof per_worker / sizeof per_worker[0]; i++)
        for (int k = 0; k < b->n; k++) {
            char lab[32];
            snprintf(lab, sizeof lab, "{worker=\"%d\"}", k);
            ow_http_metric(out, per_worker[i].name, k == 0 ? per_worker[i].type : NULL,
                           per_worker[i].help, lab, worker_value(b, k, per_worker[i].m));
        }
}

/* ---- the parent ----------------------------------------------------------------------------- */

typedef struct worker {
    pid_t pid;        /* 0 = not running */
    int64_t start_ms; /* mono */
    int64_t due_ms;   /* restart at (0 = none due) */
    int quick_exits;  /* exits in a row within QUICK_EXIT_MS */
} worker;

typedef struct super {
    ow_worker_board *b;
    ow_worker_main_fn *fn;
    void *ud;
    int sigfd, ready[2];
    sigset_t old_mask;
    worker w[OW_WORKERS_MAX];
} super;

static pid_t start_worker(super *s, int k)
{
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        ow_error("cannot start feed worker %d: fork: %s", k, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* dies with the parent; the parent's signal plumbing is not the worker's */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);
        close(s->sigfd);
        close(s->ready[0]);
        sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
        int rc = s->fn(s->ud, k, s->ready[1]);
        close(s->ready[1]);
        exit(rc);
    }
    s->w[k].pid = pid;
    s->w[k].start_ms = ow_clock_mono_ms();
    s->w[k].due_ms = 0;
    __atomic_store_n(&s->b->slots[k].pid, (int64_t)pid, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s->b->slots[k].starts, 1, __ATOMIC_RELAXED);
    return pid;
}

static void signal_all(super *s, int sig)
{
    for (int k = 0; k < s->b->n; k++)
        if (s->w[k].pid > 0) kill(s->w[k].pid, sig);
}

static int running(const super *s)
{
    int n = 0;
    for (int k = 0; k < s->b->n; k++)
        n += s->w[k].pid > 0;
    return n;
}

static void describe(int status, char *out, size_t size)
{
    if (WIFEXITED(status))
        snprintf(out, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, size, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(out, size, "stopped (status %d)", status);
}

int ow_workers_run(ow_worker_board *b, ow_worker_main_fn *fn, void (*on_ready)(void *ud), void *ud)
{
    super s;
    memset(&s, 0, sizeof s);
    s.b = b;
    s.fn = fn;
    s.ud = ud;
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &mask, &s.old_mask)) return -1;
    s.sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s.sigfd < 0 || pipe2(s.ready, O_CLOEXEC | O_NONBLOCK)) {
        ow_error("cannot start the feed workers: %s", strerror(errno));
        if (s.sigfd >= 0) close(s.sigfd);
        sigprocmask(SIG_SETMASK, &s.old_mask, NULL);
        return -1;
    }
    int rc = 0, ready = 0;
    bool announced = false, stopping = false;
    int64_t start_by = ow_clock_mono_ms() + START_LIMIT_MS, kill_at = 0;
    for (int k = 0; k < b->n && !stopping; k++)
        if (start_worker(&s, k) < 0) stopping = true, rc = -1;
    if (stopping) signal_all(&s, SIGTERM), kill_at = ow_clock_mono_ms() + STOP_GRACE_MS;
    for (;;) {
        int64_t now = ow_clock_mono_ms(), next = now + 1000;
        for (int k = 0; k < b->n; k++)
            if (!stopping && s.w[k].due_ms && s.w[k].due_ms < next) next = s.w[k].due_ms;
        if (!announced && !stopping && start_by < next) next = start_by;
        if (kill_at && kill_at < next) next = kill_at;
        struct pollfd fds[2] = {{s.sigfd, POLLIN, 0}, {s.ready[0], POLLIN, 0}};
        int wait_ms = next > now ? (int)(next - now) : 0;
        if (poll(fds, 2, wait_ms) < 0 && errno != EINTR) {
            ow_error("feed workers: poll: %s", strerror(errno));
            break;
        }
        struct signalfd_siginfo si;
        while (read(s.sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
            if ((si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) && !stopping) {
                ow_info("stopping the workers (%s)", si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
                stopping = true;
                signal_all(&s, SIGTERM);
                kill_at = ow_clock_mono_ms() + STOP_GRACE_MS;
            }
        }
        char buf[64];
        ssize_t got;
        while ((got = read(s.ready[0], buf, sizeof buf)) > 0)
            ready += (int)got;
        if (!announced && !stopping && ready >= b->n) {
            announced = true;
            ow_info("%d workers listening", b->n);
            on_ready(ud);
        }
        now = ow_clock_mono_ms();
        for (int k = 0; k < b->n; k++) {
            int status;
            if (s.w[k].pid <= 0 || waitpid(s.w[k].pid, &status, WNOHANG) != s.w[k].pid) continue;
            char why[96];
            describe(status, why, sizeof why);
            s.w[k].pid = 0;
            if (stopping) continue;
            if (!announced) {
                ow_error("feed worker %d %s before it listened; stopping", k, why);
                rc = -1;
                stopping = true;
                signal_all(&s, SIGTERM);
                kill_at = now + STOP_GRACE_MS;
                continue;
            }
            bool quick = now - s.w[k].start_ms < QUICK_EXIT_MS;
            s.w[k].quick_exits = quick ? s.w[k].quick_exits + 1 : 0;
            int64_t pause = 0;
            if (quick) {
                pause = 1000;
                for (int i = 1; i < s.w[k].quick_exits && pause < PAUSE_MAX_MS; i++)
                    pause *= 2;
                if (pause > PAUSE_MAX_MS) pause = PAUSE_MAX_MS;
            }
            ow_warn("feed worker %d %s; restarting it%s", k, why, pause ? " after a pause" : "");
            s.w[k].due_ms = now + pause;
        }
        for (int k = 0; k < b->n && !stopping; k++)
            if (s.w[k].pid == 0 && s.w[k].due_ms && s.w[k].due_ms <= now && start_worker(&s, k) < 0)
                s.w[k].due_ms = now + 1000;
        if (!announced && !stopping && now >= start_by) {
            ow_error("the feed workers did not all listen within %d s; stopping",
                     START_LIMIT_MS / 1000);
            rc = -1;
            stopping = true;
            signal_all(&s, SIGTERM);
            kill_at = now + STOP_GRACE_MS;
        }
        if (kill_at && now >= kill_at && running(&s) > 0) {
            ow_warn("feed workers still running %d s after SIGTERM: killing them",
                    STOP_GRACE_MS / 1000);
            signal_all(&s, SIGKILL);
            kill_at = 0;
        }
        if (stopping && running(&s) == 0) break;
    }
    close(s.sigfd);
    close(s.ready[0]);
    close(s.ready[1]);
    sigprocmask(SIG_SETMASK, &s.old_mask, NULL);
    return rc;
}

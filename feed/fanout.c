#include "fanout.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define THREADS_MAX 16
/* Jobs a thread takes at a time. Shares are taken, not assigned: a thread the scheduler pauses
 * (a shared machine, a noisy neighbour) leaves its work to the others instead of holding up the
 * whole batch; each job is still taken by one thread only. */
#define CHUNK 32
/* Looks at a chunk not posted yet before napping NAP_NS: the caller posts a job in a fraction of
 * a µs, but may itself be descheduled, or be writing to clients that go through lws (TLS). */
#define SPINS  1000
#define NAP_NS 20000

typedef struct worker_arg {
    struct ow_fanout *f;
    int index; /* 1..threads-1; the caller is 0 */
} worker_arg;

struct ow_fanout {
    int threads; /* the caller's included */
    pthread_t tid[THREADS_MAX];
    worker_arg arg[THREADS_MAX];
    int started; /* extra threads running */
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    /* the batch in flight: gen, jobs, active, pending and stop guarded by mu */
    unsigned long gen; /* bumped per batch: a thread works once per value */
    ow_fanout_job *jobs;
    atomic_size_t next;  /* the first job nobody has taken */
    atomic_size_t ready; /* jobs posted: [0, ready) may be sent */
    atomic_bool closed;  /* ready is the batch's size: nothing more comes */
    int active;          /* threads taking part in this batch, the caller's included */
    int pending;         /* extra threads not finished with this batch */
    bool stop;
};

static void send_one(ow_fanout_job *j)
{
    j->sent = 0;
    j->err = 0;
    while (j->sent < j->len) {
        ssize_t k = send(j->fd, j->data + j->sent, j->len - j->sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k > 0) {
            j->sent += (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) j->err = errno;
        return; /* a full socket buffer: the caller hands lws the rest */
    }
}

/* Take CHUNK jobs at a time until the batch is closed and none is left. A chunk taken before it
 * was posted is waited for. */
static void send_share(ow_fanout *f, ow_fanout_job *jobs)
{
    for (;;) {
        size_t from = atomic_fetch_add(&f->next, CHUNK);
        size_t to = from + CHUNK;
        for (unsigned spins = 0;; spins++) {
            /* closed before ready: seen closed, the ready that follows is the final size */
            bool closed = atomic_load_explicit(&f->closed, memory_order_acquire);
            size_t ready = atomic_load_explicit(&f->ready, memory_order_acquire);
            if (ready >= to) break;
            if (closed) {
                if (from >= ready) return;
                to = ready;
                break;
            }
            if (spins >= SPINS) nanosleep(&(struct timespec){0, NAP_NS}, NULL);
        }
        for (size_t i = from; i < to; i++)
            send_one(&jobs[i]);
    }
}

static void *worker_main(void *p)
{
    worker_arg *a = p;
    ow_fanout *f = a->f;
    unsigned long seen = 0;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (!f->stop && f->gen == seen)
            pthread_cond_wait(&f->go, &f->mu);
        if (f->stop) break;
        seen = f->gen;
        if (a->index >= f->active) continue; /* a small batch: not needed */
        ow_fanout_job *jobs = f->jobs;
        pthread_mutex_unlock(&f->mu);
        send_share(f, jobs);
        pthread_mutex_lock(&f->mu);
        if (--f->pending == 0) pthread_cond_signal(&f->done);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

ow_fanout *ow_fanout_new(int threads)
{
    if (threads <= 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 0 ? (int)cpus : 1;
    }
    if (threads > THREADS_MAX) threads = THREADS_MAX;
    ow_fanout *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->threads = threads;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->go, NULL);
    pthread_cond_init(&f->done, NULL);
    for (int i = 1; i < threads; i++) {
        f->arg[i] = (worker_arg){f, i};
        int rc = pthread_create(&f->tid[i], NULL, worker_main, &f->arg[i]);
        if (rc != 0) {
            ow_fanout_free(f);
            errno = rc;
            return NULL;
        }
        f->started++;
    }
    return f;
}

void ow_fanout_free(ow_fanout *f)
{
    if (!f) return;
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_cond_broadcast(&f->go);
    pthread_mutex_unlock(&f->mu);
    for (int i = 1; i <= f->started; i++)
        pthread_join(f->tid[i], NULL);
    pthread_cond_destroy(&f->done);
    pthread_cond_destroy(&f->go);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

int ow_fanout_threads(const ow_fanout *f)
{
    return f->threads;
}

void ow_fanout_open(ow_fanout *f, ow_fanout_job *jobs, size_t most)
{
    int active = (int)(most / OW_FANOUT_MIN_SHARE);
    if (active > f->threads) active = f->threads;
    if (active < 1) active = 1;
    /* (no thread is inside send_share now: close waited for them) */
    atomic_store(&f->next, 0);
    atomic_store(&f->ready, 0);
    atomic_store(&f->closed, false);
    /* under mu even when no thread is woken: one left out of the last batch may still be reading
     * active to learn that */
    pthread_mutex_lock(&f->mu);
    f->jobs = jobs;
    f->active = active;
    if (active > 1) { /* else the caller sends everything at close */
        f->pending = active - 1;
        f->gen++;
        pthread_cond_broadcast(&f->go);
    }
    pthread_mutex_unlock(&f->mu);
}

void ow_fanout_post(ow_fanout *f, size_t n)
{
    atomic_store_explicit(&f->ready, n, memory_order_release);
}

int ow_fanout_close(ow_fanout *f, size_t n)
{
    atomic_store_explicit(&f->ready, n, memory_order_release);
    atomic_store_explicit(&f->closed, true, memory_order_release);
    send_share(f, f->jobs);
    if (f->active == 1) return 1;
    pthread_mutex_lock(&f->mu);
    while (f->pending > 0)
        pthread_cond_wait(&f->done, &f->mu);
    pthread_mutex_unlock(&f->mu);
    return f->active;
}

int ow_fanout_send(ow_fanout *f, ow_fanout_job *jobs, size_t n)
{
    ow_fanout_open(f, jobs, n);
    return ow_fanout_close(f, n);
}

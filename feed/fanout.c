#include "fanout.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#define THREADS_MAX 16

#define CHUNK 32 /* jobs claimed at a time: small, so a preempted thread holds up little */

typedef struct helper {
    struct ow_fanout *f;
    pthread_t thread;
} helper;

struct ow_fanout {
    unsigned threads;
    helper helpers[THREADS_MAX];
    unsigned started;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    uint64_t round; /* bumped per ow_fanout_run that splits */
    bool stop;
    ow_fanout_job *jobs; /* the current round's jobs; next = first not yet claimed */
    size_t next, n;
    unsigned active; /* helpers sending a claimed chunk */
};

static void send_all(ow_fanout_job *jobs, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        ow_fanout_job *j = &jobs[i];
        ssize_t n;
        do
            n = send(j->fd, j->buf, j->len, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        j->sent = n < 0 ? 0 : (size_t)n;
        j->err = n < 0 ? errno : 0;
    }
}

/* Take the next chunk of the current round (called with mu held); false when none is left. */
static bool claim(ow_fanout *f, ow_fanout_job **jobs, size_t *from, size_t *to)
{
    if (!f->jobs || f->next >= f->n) return false;
    *jobs = f->jobs;
    *from = f->next;
    *to = f->n - f->next < CHUNK ? f->n : f->next + CHUNK;
    f->next = *to;
    return true;
}

/* A helper takes chunks until the round has none left. The split is claimed, not fixed: when the
 * machine is busy and a helper is not scheduled in time, the caller's thread sends everything
 * itself instead of waiting for it. */
static void *helper_main(void *arg)
{
    helper *h = arg;
    ow_fanout *f = h->f;
    uint64_t seen = 0;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (!f->stop && f->round == seen)
            pthread_cond_wait(&f->go, &f->mu);
        if (f->stop) break;
        seen = f->round;
        ow_fanout_job *jobs;
        size_t from, to;
        while (claim(f, &jobs, &from, &to)) {
            f->active++;
            pthread_mutex_unlock(&f->mu);
            send_all(jobs, from, to);
            pthread_mutex_lock(&f->mu);
            if (--f->active == 0) pthread_cond_signal(&f->done);
        }
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

ow_fanout *ow_fanout_new(unsigned threads)
{
    if (threads < 1) threads = 1;
    if (threads > THREADS_MAX) threads = THREADS_MAX;
    ow_fanout *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->threads = threads;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->go, NULL);
    pthread_cond_init(&f->done, NULL);
    for (unsigned k = 1; k < threads; k++) {
        helper *h = &f->helpers[k];
        h->f = f;
        if (pthread_create(&h->thread, NULL, helper_main, h) != 0) {
            ow_fanout_free(f);
            return NULL;
        }
        f->started = k;
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
    for (unsigned k = 1; k <= f->started; k++)
        pthread_join(f->helpers[k].thread, NULL);
    pthread_cond_destroy(&f->done);
    pthread_cond_destroy(&f->go);
    pthread_mutex_destroy(&f->mu);
    free(f);
}

void ow_fanout_run(ow_fanout *f, ow_fanout_job *jobs, size_t n)
{
    if (!f || f->threads == 1 || n < OW_FANOUT_SPLIT_MIN) {
        send_all(jobs, 0, n);
        return;
    }
    pthread_mutex_lock(&f->mu);
    f->jobs = jobs;
    f->next = 0;
    f->n = n;
    f->round++;
    pthread_cond_broadcast(&f->go);
    ow_fanout_job *j;
    size_t from, to;
    while (claim(f, &j, &from, &to)) {
        pthread_mutex_unlock(&f->mu);
        send_all(j, from, to);
        pthread_mutex_lock(&f->mu);
    }
    while (f->active > 0) /* chunks a helper is still sending */
        pthread_cond_wait(&f->done, &f->mu);
    f->jobs = NULL;
    f->n = f->next = 0;
    pthread_mutex_unlock(&f->mu);
}

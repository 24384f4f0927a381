/*
 * test_fanout — feed/fanout.c on real sockets (socketpairs): every job is sent once and whole by
 * one thread or several, a full socket buffer is reported as a short send (not an error, nothing
 * lost or doubled), a closed peer as an error, how many threads a batch of a given size uses, and
 * a streamed batch (open / post / close) sends what was posted while it was still growing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fanout.h"

typedef struct pairs {
    int n;
    int (*fd)[2]; /* [i][0] is the sender's end, [i][1] the receiver's */
} pairs;

static pairs pairs_open(int n)
{
    pairs p = {n, calloc(n > 0 ? (size_t)n : 1, sizeof *p.fd)};
    assert_non_null(p.fd);
    for (int i = 0; i < n; i++) {
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p.fd[i]), 0);
        fcntl(p.fd[i][1], F_SETFL, O_NONBLOCK);
    }
    return p;
}

static void pairs_close(pairs *p)
{
    for (int i = 0; i < p->n; i++) {
        close(p->fd[i][0]);
        if (p->fd[i][1] >= 0) close(p->fd[i][1]);
    }
    free(p->fd);
}

/* Everything waiting on the receiver's end of pair i. */
static size_t drain(pairs *p, int i, unsigned char *out, size_t cap)
{
    size_t got = 0;
    for (;;) {
        ssize_t k = recv(p->fd[i][1], out + got, cap - got, 0);
        if (k <= 0) return got;
        got += (size_t)k;
    }
}

/* n jobs, each pair gets its own message ("msg <i>" padded to len bytes). */
static ow_fanout_job *jobs_for(pairs *p, unsigned char (*msg)[64])
{
    ow_fanout_job *jobs = calloc(p->n > 0 ? (size_t)p->n : 1, sizeof *jobs);
    assert_non_null(jobs);
    for (int i = 0; i < p->n; i++) {
        memset(msg[i], '.', 64);
        snprintf((char *)msg[i], 64, "msg %d", i);
        jobs[i] = (ow_fanout_job){
            .fd = p->fd[i][0], .data = msg[i], .len = 64, .sent = 99, .err = 99, .ud = &p->fd[i]};
    }
    return jobs;
}

/* Every socket gets exactly its message, once, whatever the number of threads. */
static void test_every_job_once(void **st)
{
    (void)st;
    int counts[] = {1, 5, OW_FANOUT_MIN_SHARE * 2 - 1, 1000};
    int threads[] = {1, 2, 4, 0};
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
        ow_fanout *f = ow_fanout_new(threads[t]);
        assert_non_null(f);
        assert_true(ow_fanout_threads(f) >= 1);
        if (threads[t] > 0) assert_int_equal(ow_fanout_threads(f), threads[t]);
        for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
            pairs p = pairs_open(counts[c]);
            unsigned char(*msg)[64] = calloc(p.n > 0 ? (size_t)p.n : 1, sizeof *msg);
            ow_fanout_job *jobs = jobs_for(&p, msg);
            for (int round = 0; round < 3; round++) { /* the threads are reused */
                ow_fanout_send(f, jobs, (size_t)p.n);
                for (int i = 0; i < p.n; i++) {
                    assert_int_equal(jobs[i].sent, 64);
                    assert_int_equal(jobs[i].err, 0);
                    assert_ptr_equal(jobs[i].ud, &p.fd[i]);
                    unsigned char got[256];
                    assert_int_equal(drain(&p, i, got, sizeof got), 64);
                    assert_memory_equal(got, msg[i], 64);
                }
            }
            free(jobs);
            free(msg);
            pairs_close(&p);
        }
        ow_fanout_free(f);
    }
    ow_fanout_free(NULL);
}

/* A peer that does not read: the send stops where its buffer is full and says how far it got;
 * the bytes that went are exactly the message's first `sent` bytes. */
static void test_full_socket_is_short_send(void **st)
{
    (void)st;
    pairs p = pairs_open(200);
    int sndbuf = 4096;
    for (int i = 0; i < p.n; i++)
        setsockopt(p.fd[i][0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    size_t big = 1 << 20;
    unsigned char *data = malloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (unsigned char)(i * 7);
    ow_fanout_job *jobs = calloc(p.n > 0 ? (size_t)p.n : 1, sizeof *jobs);
    for (int i = 0; i < p.n; i++)
        jobs[i] = (ow_fanout_job){.fd = p.fd[i][0], .data = data, .len = big};
    ow_fanout *f = ow_fanout_new(2);
    assert_non_null(f);
    ow_fanout_send(f, jobs, (size_t)p.n);
    unsigned char *got = malloc(big);
    for (int i = 0; i < p.n; i++) {
        assert_int_equal(jobs[i].err, 0);
        assert_true(jobs[i].sent > 0 && jobs[i].sent < big);
        assert_int_equal(drain(&p, i, got, big), jobs[i].sent);
        assert_memory_equal(got, data, jobs[i].sent);
    }
    ow_fanout_free(f);
    free(got);
    free(jobs);
    free(data);
    pairs_close(&p);
}

/* A closed peer is an error with its errno, and does not stop the others. */
static void test_closed_peer_is_error(void **st)
{
    (void)st;
    pairs p = pairs_open(300);
    for (int i = 0; i < p.n; i += 3) {
        close(p.fd[i][1]);
        p.fd[i][1] = -1;
    }
    unsigned char(*msg)[64] = calloc(p.n > 0 ? (size_t)p.n : 1, sizeof *msg);
    ow_fanout_job *jobs = jobs_for(&p, msg);
    ow_fanout *f = ow_fanout_new(3);
    assert_non_null(f);
    ow_fanout_send(f, jobs, (size_t)p.n);
    for (int i = 0; i < p.n; i++) {
        if (i % 3 == 0) {
            assert_int_equal(jobs[i].err, EPIPE);
            assert_int_equal(jobs[i].sent, 0);
            continue;
        }
        unsigned char got[128];
        assert_int_equal(jobs[i].err, 0);
        assert_int_equal(drain(&p, i, got, sizeof got), 64);
    }
    ow_fanout_free(f);
    free(jobs);
    free(msg);
    pairs_close(&p);
}

/* Fewer jobs than two threads' worth stay on the caller's thread; larger batches use as many
 * threads as have OW_FANOUT_MIN_SHARE jobs each, up to all. */
static void test_threads_by_batch_size(void **st)
{
    (void)st;
    int n[] = {1, OW_FANOUT_MIN_SHARE * 2 - 1, OW_FANOUT_MIN_SHARE * 2, OW_FANOUT_MIN_SHARE * 3,
               OW_FANOUT_MIN_SHARE * 40};
    int want[] = {1, 1, 2, 3, 4};
    ow_fanout *f = ow_fanout_new(4);
    assert_non_null(f);
    for (size_t k = 0; k < sizeof n / sizeof *n; k++) {
        pairs p = pairs_open(n[k]);
        unsigned char(*msg)[64] = calloc(p.n > 0 ? (size_t)p.n : 1, sizeof *msg);
        ow_fanout_job *jobs = jobs_for(&p, msg);
        assert_int_equal(ow_fanout_send(f, jobs, (size_t)p.n), want[k]);
        for (int i = 0; i < p.n; i++)
            assert_int_equal(jobs[i].sent, 64);
        free(jobs);
        free(msg);
        pairs_close(&p);
    }
    ow_fanout_free(f);
}

/* A streamed batch: the jobs are posted one by one, slower than the threads could take them, and
 * the batch closes with fewer jobs than it had room for; every posted job is sent once, those
 * never posted are not touched. The threads are woken by `most`, not by what finally came. */
static void test_streamed_batch(void **st)
{
    (void)st;
    ow_fanout *f = ow_fanout_new(3);
    assert_non_null(f);
    int most = OW_FANOUT_MIN_SHARE * 10, posted[] = {0, 1, OW_FANOUT_MIN_SHARE * 7 + 5, most};
    for (size_t k = 0; k < sizeof posted / sizeof *posted; k++) {
        pairs p = pairs_open(most);
        unsigned char(*msg)[64] = calloc((size_t)most, sizeof *msg);
        ow_fanout_job *jobs = jobs_for(&p, msg);
        ow_fanout_job *filled = calloc((size_t)most, sizeof *filled);
        memcpy(filled, jobs, (size_t)most * sizeof *jobs);
        memset(jobs, 0, (size_t)most * sizeof *jobs); /* not filled in until posted */
        ow_fanout_open(f, jobs, (size_t)most);
        for (int i = 0; i < posted[k]; i++) {
            jobs[i] = filled[i];
            ow_fanout_post(f, (size_t)i + 1);
            if (i % 50 == 0) usleep(200); /* the threads catch up and wait for more */
        }
        assert_int_equal(ow_fanout_close(f, (size_t)posted[k]), 3);
        for (int i = 0; i < most; i++) {
            unsigned char got[256];
            if (i >= posted[k]) {
                assert_int_equal(jobs[i].fd, 0);
                assert_int_equal(jobs[i].sent, 0);
                assert_int_equal(drain(&p, i, got, sizeof got), 0);
                continue;
            }
            assert_int_equal(jobs[i].sent, 64);
            assert_int_equal(jobs[i].err, 0);
            assert_int_equal(drain(&p, i, got, sizeof got), 64);
            assert_memory_equal(got, msg[i], 64);
        }
        free(filled);
        free(jobs);
        free(msg);
        pairs_close(&p);
    }
    ow_fanout_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_job_once),
        cmocka_unit_test(test_full_socket_is_short_send),
        cmocka_unit_test(test_closed_peer_is_error),
        cmocka_unit_test(test_threads_by_batch_size),
        cmocka_unit_test(test_streamed_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

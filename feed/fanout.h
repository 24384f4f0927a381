/*
 * fanout — send prebuilt bytes to many sockets at once, on several threads.
 *
 * Why: a delta to 10,000 viewers is 10,000 send() calls, and each is ~10 µs of kernel time (issue
 * 6, README "Load"); on one thread the last viewer waits for all the others. The sends touch
 * different sockets, so the kernel runs them side by side; this module spreads one batch over
 * `threads` threads (the caller's included) and returns when every send was tried.
 *
 * It only calls send(MSG_DONTWAIT | MSG_NOSIGNAL) on the descriptors it is given: it knows nothing
 * of websockets or lws. The caller (feed/live.c) frames the message once, hands over the plain
 * (non-TLS) connections that are up to date with nothing half-sent, and afterwards gives lws what a
 * socket did not take — while ow_fanout_send runs the caller does nothing else, so lws never sees
 * two threads.
 *
 * Lifecycle: ow_fanout_new → ow_fanout_send (any number of times, one caller thread) →
 * ow_fanout_free (joins the threads).
 */
#ifndef OW_FEED_FANOUT_H
#define OW_FEED_FANOUT_H

#include <stddef.h>
#include <sys/types.h>

/* One send: filled by the caller (fd, data, len), answered by ow_fanout_send (sent, err). */
typedef struct ow_fanout_job {
    int fd;
    const unsigned char *data; /* borrowed; lives until ow_fanout_send returns */
    size_t len;
    size_t sent; /* bytes the socket took: len, fewer (full socket buffer), or 0 */
    int err;     /* errno of a failed send (not EAGAIN, which is sent < len with err 0), else 0 */
    void *ud;    /* the caller's, untouched */
} ow_fanout_job;

typedef struct ow_fanout ow_fanout;

/* threads: how many threads send, the caller's included (1 = no extra thread; 0 = one per online
 * CPU, at most 16). NULL with errno set when a thread cannot be started. */
ow_fanout *ow_fanout_new(int threads);

/* Stops and joins the threads. NULL is a no-op. */
void ow_fanout_free(ow_fanout *f);

/* How many threads send (the caller's included). */
int ow_fanout_threads(const ow_fanout *f);

/* Send every job once (each taken by one thread, in chunks: one socket is never written by two
 * threads); returns when all are done. Batches smaller than a thread's worth
 * of work (OW_FANOUT_MIN_SHARE sends) run on the caller's thread only: waking a thread costs more
 * than a few sends. Returns how many threads took part (1 = the caller's only). */
#define OW_FANOUT_MIN_SHARE 64
int ow_fanout_send(ow_fanout *f, ow_fanout_job *jobs, size_t n);

/* The same batch, streamed: the other threads start on the first jobs while the caller is still
 * finding the rest. Why: finding them is a walk over every client (1.9 ms at 10,000 viewers,
 * README "Load"), and the first viewers need not wait for it.
 *   ow_fanout_open(f, jobs, most)  jobs: room for `most` jobs, not moved until close; wakes as
 *                                  many threads as `most` jobs warrant (as ow_fanout_send)
 *   ow_fanout_post(f, n)           jobs[0..n) are filled in and may be sent (n only grows)
 *   ow_fanout_close(f, n)          n jobs in all (≤ most); the caller sends too, returns when
 *                                  every job was tried, with how many threads took part
 * A job must not change once posted. One batch at a time, from one caller thread. */
void ow_fanout_open(ow_fanout *f, ow_fanout_job *jobs, size_t most);
void ow_fanout_post(ow_fanout *f, size_t n);
int ow_fanout_close(ow_fanout *f, size_t n);

#endif

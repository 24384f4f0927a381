/*
 * fanout — one send() per socket for many sockets, split over threads so a delta reaches 10,000
 * viewers on more than one core.
 *
 * On loopback or a LAN, a send() also runs the kernel's TCP work for the segment (and, on
 * loopback, the receiver's); that work, not the feed's own code, is most of a delta's fan-out
 * (bench/feed_load.sh: ~9 µs per viewer). It is independent per socket, so the caller's thread
 * takes one share of the jobs and threads - 1 helper threads take the others; ow_fanout_run
 * returns when all are done. Nothing but send() runs on the helpers: the caller (the lws service
 * thread) is blocked in ow_fanout_run meanwhile, so lws never touches those sockets concurrently,
 * and it handles every result (partial writes, errors) itself afterwards.
 *
 * Lifecycle: ow_fanout_new → ow_fanout_run ... → ow_fanout_free (joins the helpers).
 */
#ifndef OW_FEED_FANOUT_H
#define OW_FEED_FANOUT_H

#include <stddef.h>
#include <sys/types.h>

/* One socket's write. The caller fills fd, buf and len; run fills sent (bytes taken by the
 * kernel, 0..len) and err (0, or the errno of a failed send: EAGAIN means "nothing taken"). */
typedef struct ow_fanout_job {
    int fd;
    const unsigned char *buf; /* borrowed; must stay unchanged until ow_fanout_run returns */
    size_t len;
    size_t sent;
    int err;
} ow_fanout_job;

typedef struct ow_fanout ow_fanout;

/* A fan-out over `threads` threads in all (the caller's included; 1 = no helper threads, at most
 * 16). NULL on failure to allocate or to start a thread. */
ow_fanout *ow_fanout_new(unsigned threads);

/* Stop and join the helpers; NULL is a no-op. */
void ow_fanout_free(ow_fanout *f);

/* Send every job once (non-blocking, no SIGPIPE); splits them when there are at least
 * OW_FANOUT_SPLIT_MIN. f may be NULL: everything on the caller's thread. */
void ow_fanout_run(ow_fanout *f, ow_fanout_job *jobs, size_t n);

#define OW_FANOUT_SPLIT_MIN 64 /* below this a thread hand-off costs more than it saves */

#endif

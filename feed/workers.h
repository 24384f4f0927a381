/*
 * workers — feed.workers > 1: several feed processes serving one port, so the fan-out of a delta
 * to thousands of websockets runs on every core instead of one (issue 6's load; the feed's time
 * per message is mostly the kernel's send(), which does not get cheaper, so more cores is the
 * lever).
 *
 * The parent loads the configuration, starts the private Redis if it is the one to, reserves the
 * port (feed/listener.h) and forks the workers. Each worker is a whole feed: its own lws context
 * and listening socket on the shared port (SO_REUSEPORT: the kernel spreads the connections), its
 * own Redis subscription, ring and held snapshot — the same picture from the same channels, as two
 * feeds behind a load balancer would serve (DESIGN §7, docs/scaling.md). A client talks to one
 * worker for the life of its connection; HTTP requests, acknowledgements, rate limits (per
 * connection) and TLS work in every worker as in a single feed.
 *
 * The parent prints the viewer URL once every worker listens, restarts a worker that dies (at
 * once if it ran 10 s or more, else after 1, 2, 4 ... 30 s), forwards SIGINT/SIGTERM and exits
 * when all have stopped (SIGKILL after 10 s). A worker dies with its parent (PR_SET_PDEATHSIG).
 *
 * /metrics: every worker writes its counters to a board in shared memory once a second and when it
 * answers /metrics; the answer sums every worker's (so the usual metric names stay whole-feed
 * totals, each worker's part at most a second old) and adds per-worker lines. The board is a
 * MAP_SHARED mapping made before the fork; each slot is written by one worker under a sequence
 * counter, so a reader never sums a half-written slot.
 *
 * Known defect (why it is experimental, README "Load"): when thousands of viewers connect in a
 * burst (5,000+ per worker), some connections adopted by feed/listener.c finish the websocket
 * upgrade but never get a writable callback, so never their first snapshot; their sockets are no
 * longer in the worker's epoll set, and asking lws for a writable callback again does not bring
 * one. Replacing lws's own listening socket with the shared one (instead of adopting) stuck the
 * same way, so the listener is not the cause; one feed process has not shown it.
 *
 * Lifecycle (parent): ow_worker_board_new → ow_workers_run (returns when all workers stopped) →
 * ow_worker_board_free. Workers: ow_worker_publish, ow_worker_totals, ow_worker_metrics.
 */
#ifndef OW_FEED_WORKERS_H
#define OW_FEED_WORKERS_H

#include <stdint.h>

#include "buf.h"
#include "http.h"
#include "live.h"

#define OW_WORKERS_MAX 64

/* What one worker reports. */
typedef struct ow_worker_stats {
    ow_live_stats live;
    ow_http_counts http;
    uint64_t backlog[OW_LIVE_BACKLOG_N]; /* cumulative, by OW_LIVE_BACKLOG_BOUNDS */
    uint64_t redis_connected;            /* 1 when its Redis connections are up */
} ow_worker_stats;

typedef struct ow_worker_board ow_worker_board;

/* A board for n workers (1..OW_WORKERS_MAX) in shared memory. NULL on failure. */
ow_worker_board *ow_worker_board_new(int n);
void ow_worker_board_free(ow_worker_board *b);
int ow_worker_board_n(const ow_worker_board *b);

/* Worker k writes its stats (copied). */
void ow_worker_publish(ow_worker_board *b, int k, const ow_worker_stats *st);

/* The sum over every worker: counters and gauges add up, except redis_connected (1 only when
 * every worker's connections are up) and the live fields that are not counts (last_now_ms,
 * last_recv_ms, events_applied: the newest). A worker that has not written yet counts as zero. */
void ow_worker_totals(const ow_worker_board *b, ow_worker_stats *sum);

/* Per-worker lines for /metrics: workers, and clients, messages sent and starts per worker. */
void ow_worker_metrics(const ow_worker_board *b, ow_buf *out);

/* A worker's body: serve until told to stop; write one byte to ready_fd once it listens.
 * Returns the process's exit status. */
typedef int ow_worker_main_fn(void *ud, int index, int ready_fd);

/* Fork the board's n workers running fn, call on_ready(ud) once all listen, keep them running
 * until SIGINT or SIGTERM, then stop them. Returns 0 after a clean stop, -1 when they did not all
 * start (a worker exited before it listened; its own log says why) or on a system error. */
int ow_workers_run(ow_worker_board *b, ow_worker_main_fn *fn, void (*on_ready)(void *ud), void *ud);

#endif

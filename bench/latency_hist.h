/*
 * latency_hist.h — what the two fan-out benchmarks share: the delta feed_load's publisher sends
 * through opswall-feed (its size sets the size of fanout_limit's bare-TCP messages) and the latency
 * histogram both fill. Header-only: each benchmark is one executable.
 *
 * Histogram: HIST_N buckets of HIST_US µs each, counts only; the last bucket holds anything later.
 * The caller owns the array (often a MAP_SHARED mapping several processes add to).
 */
#ifndef OW_BENCH_LATENCY_HIST_H
#define OW_BENCH_LATENCY_HIST_H

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HIST_US 100                  /* histogram bucket width, µs */
#define HIST_N  (10 * 1000 * 10 + 1) /* 0..10 s, the last bucket holds anything later */

/* feed_load's delta: seq, base, t_us (wall clock µs at publish), now_ms, then PAD bytes of pad */
#define FANOUT_DELTA_FMT                                                                           \
    "{\"v\":1,\"type\":\"delta\",\"seq\":%" PRId64 ",\"base\":%" PRId64                            \
    ",\"set\":{\"bench\":{\"t_us\":%" PRId64 "},\"now_ms\":%" PRId64                               \
    ",\"pad\":\"%s\"},\"del\":[]}"

/* Bytes of the websocket frame the feed sends for a delta of `len` bytes (a server's frames are
 * not masked: RFC 6455 §5.2; feed/msg.c ow_msg_header). */
static inline size_t fanout_ws_frame_size(size_t len)
{
    return len + (len < 126 ? 2 : len < 65536 ? 4 : 10);
}

/* The frame size of one of feed_load's deltas with `pad` pad bytes at seq `seq`, published at
 * t_us: the payload's length depends on the digits of those numbers, so pass typical ones (a
 * current wall clock, a seq of a 20 s run). */
static inline size_t fanout_delta_frame_size(size_t pad, int64_t seq, int64_t t_us)
{
    /* the format with an empty pad string, plus the pad's bytes */
    int n = snprintf(NULL, 0, FANOUT_DELTA_FMT, seq, seq - 1, t_us, t_us / 1000, "");
    return fanout_ws_frame_size((size_t)n + pad);
}

static inline void hist_add(uint64_t *hist, int64_t lat_us)
{
    int64_t b = lat_us < 0 ? 0 : lat_us / HIST_US;
    hist[b >= HIST_N ? HIST_N - 1 : b]++;
}

/* The p-quantile (0..1) of `total` counts in ms, at the middle of its bucket; 0 when empty. */
static inline double hist_pct(const uint64_t *hist, uint64_t total, double p)
{
    if (!total) return 0;
    uint64_t want = (uint64_t)((double)total * p), seen = 0;
    for (int i = 0; i < HIST_N; i++) {
        seen += hist[i];
        if (seen > want) return (double)(i * HIST_US + HIST_US / 2) / 1000.0;
    }
    return (double)HIST_N * HIST_US / 1000.0;
}

/* The upper edge of the highest non-empty bucket, ms; 0 when empty. */
static inline double hist_max_ms(const uint64_t *hist)
{
    for (int i = HIST_N - 1; i >= 0; i--)
        if (hist[i]) return (double)(i + 1) * HIST_US / 1000.0;
    return 0;
}

#endif

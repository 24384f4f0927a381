/*
 * window — rolling event-time windows of counters and duration sketches (issue 5).
 *
 * Time is cut into buckets (5 minutes) kept in a ring that covers a little more than 7 days.
 * Each bucket holds, per slot (slot 0 = the whole city, slot r + 1 = region r), `nc` int64
 * counters and the duration samples that ended in it, each stored as one packed 32-bit word
 * (slot, stage, sketch bucket). Four windows are kept as running totals that move with "now":
 *
 *   OW_WIN_1H       the current bucket and the 11 before it (the last hour)
 *   OW_WIN_PREV_1H  the 12 buckets before those (the hour before, for trend arrows)
 *   OW_WIN_TODAY    from local midnight (the city's zone, DST included) to now
 *   OW_WIN_7D       the last 2016 buckets (7 days)
 *
 * A window's totals change by whole buckets: when now enters a new bucket, buckets that left a
 * window are subtracted and the one just closed is added, so nothing is ever re-scanned. The
 * newest three buckets, still filling, are added when a window is read (most writes go to them, so
 * a write usually touches one bucket and nothing else). A value added to an older bucket inside a
 * window goes into the window at once. Counters and samples can be removed again (sign -1): a late
 * event that changes an order's history takes its old contribution out and puts the new one in, so
 * the result does not depend on the order in which events arrived. Values older than the ring, or
 * more than OW_WIN_AHEAD buckets ahead of now, are dropped (and so are their later removals).
 *
 * The first `nh` counters are also broken down by local hour of day (the region × hour heatmap);
 * counters from `nsum` on are gauges: set per bucket, never summed into windows.
 *
 * Pure: now comes in as an argument; no clock, no I/O. Lifecycle: ow_win_new → (ow_win_count |
 * ow_win_sample | ow_win_set | ow_win_advance)* → ow_win_free.
 */
#ifndef OW_WINDOW_H
#define OW_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "quantile.h"
#include "tz.h"

#define OW_WIN_BUCKET_MS (5 * 60 * 1000)
#define OW_WIN_RING      2048 /* buckets: 7 days (2016) + the hour before + room ahead */
#define OW_WIN_AHEAD     24   /* buckets a value may lie ahead of now (clock skew), 2 h */
#define OW_WIN_STAGES    8    /* sketches per slot */

typedef enum { OW_WIN_1H, OW_WIN_PREV_1H, OW_WIN_TODAY, OW_WIN_7D, OW_WIN__COUNT } ow_win_kind;

typedef struct ow_win ow_win;

/* nc counters per slot (≤ 64), the first nh with an hour-of-day breakdown, counters < nsum summed
 * into windows. The zone places local midnight and hours: tz (borrowed, must outlive the window)
 * with its daylight saving, or when NULL the fixed utc_offset_min. A bucket's hour is the local
 * hour at its start (zones change offset on whole quarter hours: a 5-minute bucket never straddles
 * two local hours). Sketches are kept in the 7-day window for every stage, in the others only for
 * the stages in short_stages (bit per stage). NULL on out of memory. */
ow_win *ow_win_new(int nc, int nh, int nsum, const ow_tz *tz, int32_t utc_offset_min,
                   uint32_t short_stages);
void ow_win_free(ow_win *w);

/* Add delta to counter k of `slot` (and of slot 0 when slot > 0) in the bucket of ts. */
int ow_win_count(ow_win *w, int slot, int64_t ts, int k, int64_t delta);

/* Several counters of one slot and instant at once (cheaper than one call each). */
typedef struct ow_win_delta {
    int k;
    int64_t v;
} ow_win_delta;
int ow_win_counts(ow_win *w, int slot, int64_t ts, const ow_win_delta *d, int n);
/* Counters and one duration sample of the same slot and instant (one bucket lookup). */
int ow_win_counts_sample(ow_win *w, int slot, int64_t ts, const ow_win_delta *d, int n, int stage,
                         int64_t value_ms, int sign);

/* Add (sign 1) or remove (sign -1) a duration sample of `stage` ending at ts. */
int ow_win_sample(ow_win *w, int slot, int64_t ts, int stage, int64_t value_ms, int sign);

/* Set gauge counter k of `slot` in the bucket of ts (no window sums). */
int ow_win_set(ow_win *w, int slot, int64_t ts, int k, int64_t value);

/* Move the windows so that now lies in their newest bucket. Never moves back. */
int ow_win_advance(ow_win *w, int64_t now_ms);

/* ---- reading ---- */

/* Newest bucket's start (ms), or INT64_MIN before the first advance. */
int64_t ow_win_now_bucket(const ow_win *w);
/* Start of a window (ms, inclusive) given the newest bucket. */
int64_t ow_win_start(const ow_win *w, ow_win_kind k);
/* End of a window (ms, exclusive). */
int64_t ow_win_end(const ow_win *w, ow_win_kind k);

/* A window's total of counter k for a slot (0 when the slot has nothing). */
int64_t ow_win_total(const ow_win *w, ow_win_kind kind, int slot, int k);
/* Counter k (nh) by local hour for a slot: out[24]. */
void ow_win_hours(const ow_win *w, ow_win_kind kind, int slot, int k, int64_t out[24]);
/* Quantiles read many at a time (a snapshot): the open buckets' samples are gathered once into
 * an ow_win_open, then each quantile combines a window's sketch with the open parts it covers
 * without copying. Build after the last change; free with ow_win_open_free. NULL on OOM. */
typedef struct ow_win_open ow_win_open;
ow_win_open *ow_win_open_build(const ow_win *w);
void ow_win_open_free(ow_win_open *o);
/* The q-quantile (ms) of a window's samples of a stage for a slot, and their number in *n; -1
 * when there is none (or the window keeps no sketch of that stage). o may be NULL only when the
 * window has no open bucket (prev_1h). */
double ow_win_quantile(const ow_win *w, const ow_win_open *o, ow_win_kind kind, int slot, int stage,
                       double q, int64_t *n);
/* Add a window's samples of a stage for a slot to `into` (the sketch ow_win_quantile reads, for
 * merging with other engines' sketches: docs/scaling.md §4). Returns the samples added. */
int64_t ow_win_sketch(const ow_win *w, const ow_win_open *o, ow_win_kind kind, int slot, int stage,
                      ow_qsketch *into);
/* Counter k of one bucket (by its start ms) for a slot; 0 when the bucket is not held. */
int64_t ow_win_bucket(const ow_win *w, int64_t bucket_start_ms, int slot, int k);
/* Sum over the buckets held in [from_ms, to_ms) for a slot, computed on demand (for reports of a
 * past period, not for the live board): counters < nsum into c[nsum], samples into qs[stage]
 * (each initialised by the caller). Returns how many buckets were held. */
int ow_win_range(const ow_win *w, int64_t from_ms, int64_t to_ms, int slot, int64_t *c,
                 ow_qsketch *const qs[OW_WIN_STAGES]);
/* Slots allocated so far (1 + the highest region slot that received anything). */
int ow_win_slots(const ow_win *w);

/* ---- checkpoint ---- */

/* Append the ring (what cannot be derived) to b. */
void ow_win_save(const ow_win *w, ow_buf *b);
/* Read what ow_win_save wrote into a new window set (same nc/nh/nsum/offset); the running totals
 * are rebuilt from the buckets. False with r->bad set on malformed bytes. */
bool ow_win_load(ow_win *w, ow_rbuf *r);

#endif

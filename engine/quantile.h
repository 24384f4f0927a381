/*
 * quantile — a streaming quantile sketch of durations with a bounded relative error.
 *
 * Values (milliseconds, >= 0) fall into logarithmically spaced buckets: bucket i >= 1 holds
 * (γ^(i-1), γ^i] with γ = (1 + α) / (1 - α), α = OW_QS_ALPHA; bucket 0 holds values below 1 ms.
 * A bucket is reported as 2γ^i / (γ + 1), which is within α of every value in it, so any
 * quantile read from the sketch is within α (0.5 %) of a value whose rank is the requested one:
 * accurate to 1 % with room to spare. Counts can be added and removed (a late event that
 * corrects a duration takes the old sample out) and two sketches merge by adding counts, so a
 * city-wide percentile can be assembled from per-region (or per-engine, DESIGN §10) sketches.
 *
 * The sketch is a fixed array of OW_QS_BUCKETS counters (about 10 KB): callers keep one per
 * running aggregate and store single samples elsewhere as bucket indices (ow_qs_index).
 * Pure; no allocation.
 */
#ifndef OW_QUANTILE_H
#define OW_QUANTILE_H

#include <stdint.h>

#define OW_QS_ALPHA   0.005
#define OW_QS_BUCKETS 2560 /* covers 1 ms … 400 days at α = 0.5 % */

typedef struct ow_qsketch {
    int64_t n; /* samples held */
    uint32_t count[OW_QS_BUCKETS];
} ow_qsketch;

void ow_qs_init(ow_qsketch *q);

/* Bucket index of a value in ms (negative values count as 0; huge ones go to the last bucket). */
int ow_qs_index(int64_t ms);

/* The value reported for a bucket, ms. */
double ow_qs_value(int idx);

/* Add delta (may be negative) samples to a bucket. A removal never takes a count below zero. */
void ow_qs_add(ow_qsketch *q, int idx, int delta);

/* into += from (counts add up). */
void ow_qs_merge(ow_qsketch *into, const ow_qsketch *from);

/* The q-quantile (0 ≤ q ≤ 1): the value of the sample of rank ceil(q·n) (1-based; rank 1 for
 * q = 0), in ms. -1 when the sketch is empty. */
double ow_qs_quantile(const ow_qsketch *q, double quant);

#endif

/*
 * timerq — the deadlines of every running clock, in one binary min-heap ordered by (at, tie).
 *
 * Each owner (a clock) keeps an int32 position that the queue updates as entries move, so a clock
 * can be rescheduled or removed in O(log n); firing takes O(due · log n), independent of how many
 * clocks are running. Ties at the same instant are broken by `tie` (the model gives each clock a
 * stable number), so firing order never depends on memory layout (STYLE.md practice 10).
 */
#ifndef OW_TIMERQ_H
#define OW_TIMERQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ow_timer {
    int64_t at;   /* epoch ms */
    uint64_t tie; /* deterministic order among equal `at` */
    void *owner;  /* borrowed */
    int32_t *pos; /* owner's slot: index in the heap, -1 when not queued */
} ow_timer;

typedef struct ow_timerq {
    ow_timer *heap;
    size_t n, cap;
} ow_timerq;

void ow_timerq_init(ow_timerq *q);
void ow_timerq_fini(ow_timerq *q);

/* Insert, or move if *pos >= 0. Returns 0 or OW_ENOMEM. */
int ow_timerq_set(ow_timerq *q, int64_t at, uint64_t tie, void *owner, int32_t *pos);
/* Remove if queued (no-op when *pos < 0). */
void ow_timerq_remove(ow_timerq *q, int32_t *pos);
/* The earliest entry, or NULL when empty. */
const ow_timer *ow_timerq_peek(const ow_timerq *q);

#endif

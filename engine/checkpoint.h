/*
 * checkpoint — the live state as bytes, so a restarted engine resumes where it was instead of
 * replaying the whole event log (issue 4, recovery).
 *
 * What is saved is what cannot be derived: each order's lifecycle instants and names, which
 * thresholds were raised and are still open, complaints, technicians, acknowledgements, counters,
 * and an opaque cursor (the last stream entry the state contains). Clocks, targets and the timer
 * queue are derived again on load. The format is versioned and little-endian; loading checks
 * every length, count and index and refuses anything inconsistent with a message (the bytes come
 * from Redis, so they are outside input).
 */
#ifndef OW_CHECKPOINT_H
#define OW_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "policy.h"
#include "state.h"

#define OW_CHECKPOINT_CURSOR_MAX 128

/* Serialise. *out is malloc'd (caller frees). cursor is stored as given. */
int ow_checkpoint_save(const ow_state *s, const char *cursor, char **out, size_t *len, ow_err *err);

/* Rebuild a state from bytes. On success *state is new (ow_state_free) and cursor holds the saved
 * cursor (OW_CHECKPOINT_CURSOR_MAX bytes). */
int ow_checkpoint_load(const ow_policy *policy, const char *buf, size_t len, ow_state **state,
                       char *cursor, ow_err *err);

/* How long after a checkpoint the next one is due (ms): interval_ms (engine.checkpoint_interval)
 * while the last checkpoint was at most limit_bytes (engine.checkpoint_bytes) long, stretched in
 * proportion beyond: its cost (fork, copy-on-write, serialising, the SET and Redis's AOF) grows
 * with its size, so the bytes written per second stay at most limit_bytes / interval_ms. A
 * restart then re-reads up to that much longer a span of the stream, which is correct at any
 * length. last_bytes 0 = not known yet. */
int64_t ow_checkpoint_wait_ms(int64_t interval_ms, int64_t limit_bytes, int64_t last_bytes);

#endif

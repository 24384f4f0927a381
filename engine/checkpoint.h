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

#endif

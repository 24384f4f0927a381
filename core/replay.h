/*
 * replay — N× replay of history (DESIGN §2): the clock and its descriptor.
 *
 * A replay plays the events between `start` and `end` (event time) at `speed` times real time,
 * beginning at the wall instant `wall_start`. Its "now" is
 *     now = start + (wall - wall_start) × speed,   held at start before and at end after,
 * so old data plays with true SLA arithmetic. The feeder (opswall-ingest --csv ... --speed N)
 * writes the descriptor to Redis (OW_KEY_REPLAY) before its first event; the engine
 * (--clock speed) reads it and publishes `now` and the `replay` member of the snapshot.
 *
 * Descriptor text: {"speed":300,"start_ms":...,"end_ms":...,"wall_start_ms":...} (epoch ms UTC).
 * Pure: the wall time is an argument.
 */
#ifndef OW_REPLAY_H
#define OW_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define OW_REPLAY_SPEED_MAX 1000000.0
#define OW_REPLAY_TEXT_MAX  160

typedef struct ow_replay {
    double speed;          /* > 0, at most OW_REPLAY_SPEED_MAX */
    int64_t start_ms;      /* event time where the replay begins */
    int64_t end_ms;        /* event time where it ends (>= start_ms) */
    int64_t wall_start_ms; /* wall clock instant at which start_ms plays */
} ow_replay;

/* Replayed time at a wall instant. */
int64_t ow_replay_now(const ow_replay *r, int64_t wall_ms);

/* Wall instant at which an event time plays (for the feeder's pacing). */
int64_t ow_replay_wall_at(const ow_replay *r, int64_t event_ms);

/* Share of the window played at replayed time `now`, 0-100. */
double ow_replay_progress_pct(const ow_replay *r, int64_t now_ms);

/* Format the descriptor into out[OW_REPLAY_TEXT_MAX]. */
void ow_replay_format(const ow_replay *r, char *out);

/* Parse a descriptor; OW_EINVAL with err naming the member on anything else. */
int ow_replay_parse(const char *text, size_t len, ow_replay *out, ow_err *err);

#endif

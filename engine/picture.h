/*
 * picture — the engine's published picture: the full snapshot JSON (docs/protocol.md) built from
 * the live state. Pure. The snapshot keeps the skeleton fields readers already decode with
 * core/snapshot.h (seq, now, mode, open{...}, orders_known, events_applied) and adds the SLA
 * board: the most urgent running clocks, open alerts by level, complaints and technicians.
 */
#ifndef OW_PICTURE_H
#define OW_PICTURE_H

#include <stdint.h>

#include "replay.h"
#include "snapshot.h"
#include "state.h"

#define OW_PICTURE_URGENT 20 /* running clocks listed, most urgent first */

/* Snapshot JSON; caller frees with free(). NULL on out of memory. */
char *ow_picture_snapshot(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode);

/* The same, adding "stream_last": the last ops:{p0}:events entry the picture contains, which only
 * the edge knows (NULL = leave it out); readers use it to tell which appended events it reflects.
 */
char *ow_picture_snapshot_at(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode,
                             const char *stream_last);

/* The same in an N× replay: mode "replay_speed" and the `replay` member (speed, start, end,
 * progress_pct; docs/snapshot.md); now_ms is the replayed time. */
char *ow_picture_snapshot_replay(const ow_state *s, int64_t seq, int64_t now_ms,
                                 const char *stream_last, const ow_replay *replay);

/* One order's detail (stages, clocks, alerts) as JSON, or NULL when unknown / out of memory. */
char *ow_picture_order(const ow_state *s, const char *order_id, int64_t now_ms);

#endif

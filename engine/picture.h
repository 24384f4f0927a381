/*
 * picture — the engine's published picture: the full snapshot JSON (docs/protocol.md) built from
 * the live state. Pure. The snapshot keeps the skeleton fields readers already decode with
 * core/snapshot.h (seq, now, mode, open{...}, orders_known, events_applied) and adds the SLA
 * board: the most urgent running clocks, open alerts by level, complaints and technicians, the
 * raised root-cause flags (`flags`) and the open alerts to chase (`escalations`, docs/snapshot.md).
 */
#ifndef OW_PICTURE_H
#define OW_PICTURE_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "replay.h"
#include "snapshot.h"
#include "state.h"

#define OW_PICTURE_URGENT      20 /* running clocks listed, most urgent first */
#define OW_PICTURE_FLAGS       50 /* raised root-cause flags listed, newest first */
#define OW_PICTURE_ESCALATIONS 30 /* open alerts listed, highest level first, then oldest */

/* The slow members of the picture (the analytics tables, flags, escalations: docs/snapshot.md)
 * as last built. They cost more than everything else together, so a live engine rebuilds them
 * about once a second and reuses the text in between (`analytics_events` in the snapshot says how
 * many events they include); deltas then carry them only when they were rebuilt. */
#define OW_PICTURE_SLOW_MEMBERS 12
typedef struct ow_picture_cache {
    char *text[OW_PICTURE_SLOW_MEMBERS]; /* owned JSON texts */
    char *part;                          /* the `part` member as built with them, or NULL */
    int64_t events;                      /* events_applied when built */
    bool built;
} ow_picture_cache;

void ow_picture_cache_fini(ow_picture_cache *c);

/* Slow member m (0 ≤ m < OW_PICTURE_SLOW_MEMBERS) alone: its JSON text as a snapshot built at
 * now_ms holds it (caller frees; NULL on out of memory or a bad m), and its name in the snapshot
 * (static). The snapshot builds its slow members with these; bench/analytics_bench.c times each. */
char *ow_picture_member(const ow_state *s, int m, int64_t now_ms);
const char *ow_picture_member_name(int m);

typedef struct ow_picture_opts {
    const char *stream_last; /* last ops:{p0}:events entry the picture contains, or NULL */
    const ow_replay *replay; /* N× replay: mode "replay_speed" and the `replay` member */
    ow_picture_cache *cache; /* NULL: every member built now */
    bool refresh;            /* with a cache: rebuild the slow members now */
    /* A partitioned engine (more than one partition configured) serves partition `partition` of
     * `partitions` and adds the `part` member the readers merge with (docs/snapshot.md): the sums
     * and sketches behind the city-wide KPIs. 0 or 1 partitions: no such member. */
    int partition, partitions;
} ow_picture_opts;

/* The snapshot JSON with options (o may be NULL); caller frees. NULL on out of memory. */
char *ow_picture_build(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode,
                       const ow_picture_opts *o);

/* The same as a cJSON tree the caller owns (cJSON_Delete); slow members are raw JSON nodes. */
cJSON *ow_picture_build_tree(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode,
                             const ow_picture_opts *o);

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

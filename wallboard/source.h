/*
 * source — where the wallboard gets the latest snapshot: Redis or a file.
 *
 * Redis: two blocking hiredis connections (io/redis.h) on a worker thread, so a slow or dead Redis
 * never freezes the screen. One SUBSCRIBEs to the deltas (OW_CHAN_DELTAS); the worker holds the
 * snapshot as a parsed tree and applies each delta to it (ow_delta_apply_tree). The other GETs the
 * snapshot key at start, after a gap in the deltas (resync), and every second (heartbeats, a quiet
 * channel, an engine restart). The worker takes at most one step per wallboard.poll: deltas that
 * arrive meanwhile are applied together and decoded into one scene. When Redis goes away the last
 * snapshot is kept (the board shows it as stale) and the worker reconnects by itself with
 * exponential backoff (from wallboard.poll up to OW_SOURCE_BACKOFF_MAX_MS).
 * File: the snapshot JSON in a file (tests, demos); re-read when its size or mtime changes.
 *
 * The worker calls a notify function whenever what the board shows could change (a new snapshot,
 * a new link state); the wallboard turns that into an SDL event. Readers take a consistent copy
 * with ow_source_get. ow_source_fetch does one step synchronously (screenshots need no thread).
 *
 * Lifecycle: ow_source_new_redis / ow_source_new_file → [ow_source_start] → ow_source_get… →
 * ow_source_free (stops and joins the worker, closes the connection).
 */
#ifndef OW_SOURCE_H
#define OW_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "partition.h"
#include "redis.h"
#include "scene.h"
#include "snapshot.h"

#define OW_SOURCE_BACKOFF_MAX_MS 5000

/* The link to the data, as the header shows it. */
typedef enum {
    OW_LINK_FILE,         /* reading a snapshot file */
    OW_LINK_CONNECTING,   /* Redis: no answer yet since start */
    OW_LINK_CONNECTED,    /* Redis: the last GET worked */
    OW_LINK_RECONNECTING, /* Redis: lost; retrying with backoff, showing the last snapshot */
} ow_link;

typedef struct ow_source_state {
    ow_link link;
    bool have;             /* a snapshot has been read (view is valid) */
    ow_snapshot_view view; /* the latest valid snapshot */
    uint64_t changes;      /* +1 each time view, link or failing (failures > 0) changes */
    int failures;          /* consecutive failed attempts (0 when healthy) */
    char problem[256];     /* the last error, "" when healthy */
} ow_source_state;

typedef struct ow_source ow_source;

/* Called from the worker thread (never with the source's lock held). */
typedef void (*ow_source_notify_fn)(void *user);

/* Poll Redis. `env` is copied; nothing connects until ow_source_fetch or ow_source_start. */
int ow_source_new_redis(const ow_redis_env *env, int64_t poll_ms, ow_source **out, ow_err *err);

/* Partitioned (cfg->cluster.partitions > 1, before start): read every partition's snapshot key
 * and merge them (wallboard/partials.h) instead of ops:{p0}:snapshot and its deltas, through the
 * cluster client (io/cluster.h: each GET to its partition's master, one pipelined round per
 * poll; a single Redis holding every partition is served the same way). owners is borrowed; a
 * partition whose key did not change for cluster.stale_after is shown stale. cfg is copied. One
 * partition: no change. */
int ow_source_partitions(ow_source *s, const ow_config *cfg, const ow_partition_table *owners,
                         ow_err *err);

/* Read snapshots from the file at `path` (copied). */
int ow_source_new_file(const char *path, int64_t poll_ms, ow_source **out, ow_err *err);

/* One step now, on the caller's thread: connect if needed, then read. Returns OW_OK when the
 * source holds a snapshot afterwards (from this read or an earlier one), else an error with err.
 * Not to be mixed with a running worker. */
int ow_source_fetch(ow_source *s, ow_err *err);

/* Start the worker thread, which fetches every poll interval (or backoff) and calls notify(user)
 * after each change. */
int ow_source_start(ow_source *s, ow_source_notify_fn notify, void *user, ow_err *err);

/* A copy of the current state (thread-safe). */
void ow_source_get(ow_source *s, ow_source_state *out);

/* The newest decoded snapshot not yet taken, or NULL. The caller owns it (ow_scene_free); a scene
 * that was never taken is freed when a newer one arrives, so memory does not grow with a slow
 * reader. Thread-safe. */
ow_scene *ow_source_take_scene(ow_source *s);

/* Stop the worker (waits at most one Redis timeout), disconnect, free. NULL is a no-op. */
void ow_source_free(ow_source *s);

/* "已连接 connected"-style names are the board's business; this is for logs: "connected". */
const char *ow_link_name(ow_link link);

#endif

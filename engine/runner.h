/*
 * runner — the engine's edge: ops:events → model → snapshot, through Redis.
 *
 * Start-up rebuilds the model from the stream up to the consumer group's last delivered entry (the
 * stream is the source of truth), acknowledges entries an older engine left pending (already in
 * the rebuilt model), then consumes new entries with XREADGROUP NOACK (nothing to acknowledge:
 * the rebuild is what recovers them, engine/runner.c send_read), applies them, and
 * publishes the snapshot (SET + PUBLISH) at most every engine.publish_interval when something
 * changed, and every few seconds anyway as a heartbeat. A lost Redis connection is retried with
 * backoff; the model is then rebuilt from the stream.
 */
#ifndef OW_RUNNER_H
#define OW_RUNNER_H

#include <signal.h>

#include "config.h"
#include "partition.h"
#include "redis.h"

/* The engine's "now": the wall clock (live), the latest event time (replay through Redis), or the
 * N× replay clock of the descriptor in OW_KEY_REPLAY (core/replay.h; until it appears, the
 * latest event time). */
typedef enum { OW_CLOCK_WALL, OW_CLOCK_EVENT, OW_CLOCK_SPEED } ow_clock_mode;

/* Runs until *stop becomes non-zero. Returns 0 on a requested stop, non-zero on a fatal error. */
int ow_runner_run(const ow_config *cfg, const ow_redis_env *env, ow_clock_mode clock,
                  volatile sig_atomic_t *stop);

/* One partition of a partitioned deployment (docs/scaling.md §4, engine/partition_engine.h): its
 * keys, where they live, and what spans partitions. */
typedef struct ow_runner_part {
    int partition;
    const ow_partition_table *table; /* which partition raises a region's or technician's flags */
    /* A new connection to the master of the partition's slot (also from the background
     * checkpoint's child process); NULL with err when none answers. */
    redisContext *(*connect)(void *ud, ow_err *err);
    void *ud;
    struct ow_shared_feed *shared; /* technicians and stock from ops:{g}:shared; the watermark */
    /* The partition's lease key and the holder's token: every write goes through the fence
     * (io/fence.h) and a refusal stops the runner (ow_runner_run_part returns OW_RUNNER_FENCED).
     * NULL: unfenced. */
    const char *lease_key, *lease_token;
} ow_runner_part;

/* ow_runner_run_part's status when Redis refused a write: the lease is lost */
#define OW_RUNNER_FENCED 3

/* ow_runner_run for one partition: its keys, through part->connect, with the shared feed.
 * Returns OW_RUNNER_FENCED at once when the fence refused a command (another engine holds the
 * partition now). */
int ow_runner_run_part(const ow_config *cfg, const ow_redis_env *env, ow_clock_mode clock,
                       volatile sig_atomic_t *stop, const ow_runner_part *part);

/* Batch mode: apply an NDJSON event file with no Redis, in event time, and print one JSON
 * document on stdout: {"alerts":[every alert raised, in order], "snapshot":{the final snapshot}}.
 * Lines that fail validation are reported on stderr with their line number and skipped. */
int ow_runner_replay_file(const ow_config *cfg, const char *path);

#endif

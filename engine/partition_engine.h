/*
 * partition_engine — opswall-engine on a partitioned deployment (docs/scaling.md §4): one process
 * serves a set of partitions (engine.partitions, "" = all), each owned by exactly one engine at a
 * time through its lease ops:{p<N>}:lease (io/lease.h, engine.lease).
 *
 * The process supervises: every lease/3 it renews the leases it holds and tries to take the free
 * ones of its set. For each partition it holds it runs one child process, the ordinary runner
 * (engine/runner.h) on that partition's keys, connected to the master of the partition's slot,
 * with the shared technician stream (engine/shared_feed.h). A partition whose holder died is free
 * after at most one lease; the engine that takes it starts as a restart does: checkpoint, the
 * stream up to the consumer group's last-delivered entry (the group's consumer is named after the
 * partition, "p3", so every holder is the same consumer), the alerts already written.
 *
 * A child dies with its supervisor (PR_SET_PDEATHSIG); a lease that could not be renewed (expired
 * and taken, or unreachable past the lease) kills its child at once. The writes of a child are not
 * fenced by the lease in Redis yet: a supervisor paused (not killed) for longer than the lease
 * could let its child write alongside the new holder's until it wakes up and kills it.
 */
#ifndef OW_PARTITION_ENGINE_H
#define OW_PARTITION_ENGINE_H

#include <signal.h>
#include <stdbool.h>

#include "config.h"
#include "err.h"
#include "partition.h"
#include "redis.h"
#include "runner.h"

/* When the deployment is partitioned (cluster.partitions > 1, or redis.url is a Redis Cluster):
 * run until *stop and return the exit status, with *handled = true. Otherwise *handled = false. */
int ow_partition_engine_run(const ow_config *cfg, const ow_redis_env *env, ow_clock_mode clock,
                            volatile sig_atomic_t *stop, bool *handled);

#endif

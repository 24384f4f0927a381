/*
 * opswall-engine — consumes ops:events, keeps the live model, publishes the snapshot.
 *
 *   opswall-engine [--config PATH] [--clock wall|event|speed]   live: Redis in, snapshot and
 *                                                                 alerts out
 *   opswall-engine [--config PATH] --replay FILE          batch: no Redis; alerts + snapshot on
 * stdout
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "files.h"
#include "log.h"
#include "redis.h"
#include "signals.h"
#include "partition_engine.h"
#include "runner.h"

int main(int argc, char **argv)
{
    ow_log_init("engine", OW_LOG_INFO);
    const char *replay = NULL;
    ow_clock_mode clock = OW_CLOCK_WALL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--replay") == 0 && i + 1 < argc) {
            replay = argv[++i];
        } else if (strcmp(argv[i], "--clock") == 0 && i + 1 < argc) {
            const char *c = argv[++i];
            if (strcmp(c, "wall") && strcmp(c, "event") && strcmp(c, "speed")) {
                fprintf(stderr, "opswall-engine: --clock: expected wall, event or speed, got %s\n",
                        c);
                return 2;
            }
            /* speed: the N× replay clock whose descriptor the feeder writes (core/replay.h) */
            clock = strcmp(c, "event") == 0   ? OW_CLOCK_EVENT
                    : strcmp(c, "speed") == 0 ? OW_CLOCK_SPEED
                                              : OW_CLOCK_WALL;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            i++;
        } else {
            fprintf(stderr, "usage: opswall-engine [--config PATH] [--clock wall|event|speed] "
                            "[--replay FILE]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    ow_config cfg;
    ow_err err;
    if (ow_config_load(&cfg, ow_args_config(argc, argv), &err)) {
        ow_error("%s", err.msg);
        return 2;
    }
    if (replay) return ow_runner_replay_file(&cfg, replay);

    ow_signals_install();
    ow_redis_env env;
    if (ow_redis_env_open(&cfg, &env, &err)) {
        ow_error("%s", err.msg);
        return 1;
    }
    bool partitioned; /* cluster.partitions > 1 or a Redis Cluster: leases, one runner each */
    int rc = ow_partition_engine_run(&cfg, &env, clock, &ow_stop_requested, &partitioned);
    if (!partitioned) rc = ow_runner_run(&cfg, &env, clock, &ow_stop_requested);
    ow_redis_env_close(&env);
    return rc;
}

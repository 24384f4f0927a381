/*
 * partkeys — the Redis keys one engine uses, for the partition it serves (core/keys.h names them
 * for partition 0; core/partition.h retags them). A single node is partition 0: the same names as
 * core/keys.h spells them.
 */
#ifndef OW_PARTKEYS_H
#define OW_PARTKEYS_H

#include "partition.h"

#define OW_PARTKEY_MAX 64 /* every key below is short: "ops:{p1023}:alert_changes" */

typedef struct ow_partkeys {
    int partition;
    char events[OW_PARTKEY_MAX], alerts[OW_PARTKEY_MAX], alert_changes[OW_PARTKEY_MAX],
        alerts_open[OW_PARTKEY_MAX], acks[OW_PARTKEY_MAX], requests[OW_PARTKEY_MAX],
        order_prefix[OW_PARTKEY_MAX], order_ready[OW_PARTKEY_MAX], checkpoint[OW_PARTKEY_MAX],
        snapshot[OW_PARTKEY_MAX], deltas[OW_PARTKEY_MAX], live[OW_PARTKEY_MAX],
        replay[OW_PARTKEY_MAX];
} ow_partkeys;

/* Fill k for partition p (0..OW_PARTITIONS_MAX-1). */
void ow_partkeys_init(ow_partkeys *k, int p);

#endif

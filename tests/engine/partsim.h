/*
 * partsim — test helper: a model's events through one engine and through NP partitions the way
 * the pipeline routes them (core/route.h: orders and complaints to their region's partition,
 * technician and stock events to every partition, as the shared stream does, with the holding
 * record of each order event before it), each partition advanced to the event-time watermark
 * before and after each event (docs/scaling.md §4-5), and each order/complaint event's
 * cross-partition record (core/xrecord.h) applied by the other partitions right after it, as the
 * shared stream carries it. Used by
 * test_merge (merged vs one node) and ow_partials (partial snapshots for the feeds' test).
 */
#ifndef OW_TEST_PARTSIM_H
#define OW_TEST_PARTSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "map.h"
#include "partition.h"
#include "policy.h"
#include "regions.h"
#include "state.h"

#define NP 3

typedef struct run {
    ow_config cfg; /* the policy points into it */
    ow_policy pol;
    ow_policy ppol[NP]; /* pol, as partition p's engine has it (home_table, home_partition) */
    ow_regions *city;
    ow_partition_table table;
    ow_state *one, *part[NP];
    ow_map dir; /* order / complaint id → partition + 1 */
    int64_t now;
    int64_t shared;   /* events every partition applied */
    int64_t holdings; /* holding records (core/holding.h) of the order events */
    int64_t events;
    ow_map raised_one, raised_parts; /* alert id → its instant + 1 (raised ones) */
    ow_map said_one, said_parts;     /* flag alert id → "<evidence>\n<summary>" (owned) */
    int64_t raised_sum;              /* alerts raised, summed over the partitions */
    int64_t sla_one;                 /* SLA alerts raised by one node */
    int64_t records;                 /* cross-partition records (core/xrecord.h) applied */
    bool no_records; /* leave the cross-partition records out (the code before them: tests) */
    bool no_one;     /* partitions only (bench/crossfacts_bench.c) */
} run;

/* config: the configuration file (the city and the SLA policy come from it). The sample city's
 * regions go to partitions by a fixed table (neighbours together). Returns false with a message
 * on stderr. */
bool run_init(run *r, const char *config);
void run_fini(run *r);
/* One event line (unreadable lines are skipped, as the engine skips them). */
void feed_line(run *r, const char *text, size_t len);
/* The end of the input: every partition advanced to the final watermark (the tick of §5). */
void finish(run *r);

#endif

/*
 * crossfacts_bench — what the cross-partition replica costs the partition engines' models
 * (engine/crossfacts.h, docs/scaling.md §4): simulator days routed to 3 partitions as ingest
 * routes them (tests/engine/partsim.c: watermark, shared events to every partition), each
 * partition's model applying its events, with the cross-partition records ("records") or without
 * them (the models as before the records, "none"). Run it under callgrind for instruction counts:
 *
 *   valgrind --tool=callgrind build/bin/crossfacts_bench 7 records
 *   valgrind --tool=callgrind build/bin/crossfacts_bench 7 none
 *
 * Prints one JSON line: days, events, records applied, the replicas' sizes at the end, and the
 * alerts the partitions raised.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crossfacts.h"
#include "partsim.h"
#include "sim.h"
#include "state_impl.h"

int main(int argc, char **argv)
{
    int days = argc > 1 ? atoi(argv[1]) : 7;
    bool records = argc <= 2 || strcmp(argv[2], "none") != 0;
    if (days < 1 || days > 60) {
        fprintf(stderr, "usage: crossfacts_bench [DAYS 1-60] [records|none]\n");
        return 2;
    }
    run *r = malloc(sizeof *r);
    if (!r || !run_init(r, OW_SOURCE_DIR "/config/opswall.json")) return 1;
    r->no_records = !records;
    r->no_one = true;
    ow_sim_config c;
    ow_sim_config_init(&c);
    c.seed = 5;
    c.duration_ms = (int64_t)days * 24 * 3600 * 1000;
    c.late_fraction = 0; /* parked by ingest in the real pipeline, which partsim does not do */
    c.dup_fraction = 0;
    ow_err err;
    ow_sim *s = ow_sim_new(&c, &err);
    if (!s) {
        fprintf(stderr, "crossfacts_bench: %s\n", err.msg);
        return 1;
    }
    ow_sim_line l;
    while (ow_sim_next(s, &l) > 0)
        feed_line(r, l.text, l.len);
    ow_sim_free(s);
    finish(r);
    int64_t no[NP], nc[NP];
    for (int p = 0; p < NP; p++)
        ow_crossfacts_counts(r->part[p]->xf, &no[p], &nc[p]);
    printf("{\"bench\":\"crossfacts.models\",\"days\":%d,\"mode\":\"%s\",\"events\":%lld,"
           "\"records\":%lld,\"replica_orders\":[%lld,%lld,%lld],"
           "\"replica_complaints\":[%lld,%lld,%lld],\"alerts_raised\":%lld}\n",
           days, records ? "records" : "none", (long long)r->events, (long long)r->records,
           (long long)no[0], (long long)no[1], (long long)no[2], (long long)nc[0], (long long)nc[1],
           (long long)nc[2], (long long)r->raised_sum);
    run_fini(r);
    free(r);
    return 0;
}

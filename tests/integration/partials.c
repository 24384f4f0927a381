/*
 * ow_partials — test tool: the partial snapshots a 3-partition deployment's engines would publish
 * for an events file (tests/engine/partsim.h splits and runs it), for tests that need partitions'
 * pictures in Redis before engines serve partitions (tests/integration/feeds_test.sh).
 *
 *   ow_partials CONFIG EVENTS OUTDIR     writes OUTDIR/partial_p0.json … partial_p2.json, and
 *                                        OUTDIR/merged.json: their merge (engine/merge.h) as a
 *                                        reader makes it on first reading them (seq 1, ages 0)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "partsim.h"
#include "merge.h"
#include "picture.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: ow_partials CONFIG EVENTS OUTDIR\n");
        return 2;
    }
    run *r = calloc(1, sizeof *r);
    FILE *f = fopen(argv[2], "r");
    if (!r || !f || !run_init(r, argv[1])) {
        fprintf(stderr, "ow_partials: cannot read %s or %s\n", argv[1], argv[2]);
        return 1;
    }
    char line[65536];
    while (fgets(line, sizeof line, f))
        if (line[0] == '{') feed_line(r, line, strcspn(line, "\n"));
    fclose(f);
    finish(r);
    int rc = 0;
    cJSON *parts[NP] = {0};
    ow_merge_part in[NP];
    for (int p = 0; p <= NP && !rc; p++) {
        ow_picture_opts o = {.partition = p, .partitions = NP};
        char *snap = NULL;
        ow_err err;
        if (p < NP) {
            snap = ow_picture_build(r->part[p], 1, r->now, OW_MODE_REPLAY, &o);
            parts[p] = snap ? cJSON_Parse(snap) : NULL;
            in[p] = (ow_merge_part){.snap = parts[p]};
        } else {
            cJSON *m = ow_merge_build(in, NP, &r->table, 1, &err);
            snap = m ? cJSON_PrintUnformatted(m) : NULL;
            cJSON_Delete(m);
            if (!m) fprintf(stderr, "ow_partials: merge: %s\n", err.msg);
        }
        char path[4096];
        snprintf(path, sizeof path, p < NP ? "%s/partial_p%d.json" : "%s/merged.json", argv[3], p);
        FILE *out = snap ? fopen(path, "w") : NULL;
        rc = !out || fputs(snap, out) < 0;
        if (out && fclose(out)) rc = 1;
        free(snap);
    }
    for (int p = 0; p < NP; p++)
        cJSON_Delete(parts[p]);
    run_fini(r);
    free(r);
    return rc;
}

/*
 * ow_partials — test tool: the partial snapshots a 3-partition deployment's engines would publish
 * for an events file (tests/engine/partsim.h splits and runs it), for tests that need partitions'
 * pictures in Redis before engines serve partitions (tests/integration/feeds_test.sh).
 *
 *   ow_partials CONFIG EVENTS OUTDIR     writes OUTDIR/partial_p0.json … partial_p2.json, and
 *                                        OUTDIR/merged.json: their merge (engine/merge.h) as a
 *                                        reader makes it on first reading them (seq 1, ages 0)
 *   ow_partials --merge CONFIG OUT P0 P1 P2   merges three partial snapshot files (as read from
 *                                        Redis) into OUT the way a reader does (seq 1, ages 0),
 *                                        with the region table of CONFIG (cluster.regions)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "json.h"
#include "merge.h"
#include "partsim.h"
#include "picture.h"

/* --merge CONFIG OUT P0 P1 P2 */
static int merge_files(char **argv)
{
    ow_config cfg;
    ow_partition_table table;
    ow_err err;
    if (ow_config_load(&cfg, argv[2], &err) || ow_partition_load(&cfg, &table, &err)) {
        fprintf(stderr, "ow_partials: %s\n", err.msg);
        return 1;
    }
    cJSON *parts[NP] = {0};
    ow_merge_part in[NP];
    int rc = 0;
    for (int p = 0; p < NP && !rc; p++) {
        char *text = NULL;
        size_t len = 0;
        rc = ow_file_read(argv[4 + p], 64u << 20, &text, &len, &err) ||
             !(parts[p] = ow_json_parse(text, len, OW_JSON_MAX_DEPTH, &err));
        if (rc) fprintf(stderr, "ow_partials: %s: %s\n", argv[4 + p], err.msg);
        free(text);
        in[p] = (ow_merge_part){.snap = parts[p]};
    }
    cJSON *m = rc ? NULL : ow_merge_build(in, NP, &table, 1, &err);
    char *out = m ? cJSON_PrintUnformatted(m) : NULL;
    FILE *f = out ? fopen(argv[3], "w") : NULL;
    if (!rc && !m) fprintf(stderr, "ow_partials: merge: %s\n", err.msg);
    rc = rc || !f || fputs(out, f) < 0;
    if (f && fclose(f)) rc = 1;
    cJSON_free(out);
    cJSON_Delete(m);
    for (int p = 0; p < NP; p++)
        cJSON_Delete(parts[p]);
    ow_partition_table_fini(&table);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 7 && strcmp(argv[1], "--merge") == 0) return merge_files(argv);
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

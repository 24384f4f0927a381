/*
 * merge_bench — the cost of merging partial snapshots (engine/merge.h), which a feed or a
 * wallboard pays each time a partition publishes.
 *
 *   merge_bench [--runs N] PARTIAL.json...      (e.g. ow_partials' partial_p0..2.json)
 *
 * Prints one JSON line: the partials' and the merged picture's sizes, the merge's time (p50,
 * p99, µs) and, as the floor it is compared with, the time to copy the partials' trees once
 * (cJSON_Duplicate: any merge builds an output of about that much) and to print the merged
 * picture (what a feed does next).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "files.h"
#include "merge.h"

#define MAXP 64

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double pct(int64_t *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof *v, cmp);
    return (double)v[(int)(q * (n - 1))] / 1000.0;
}

int main(int argc, char **argv)
{
    int runs = 200, first = 1;
    if (argc > 2 && strcmp(argv[1], "--runs") == 0) runs = atoi(argv[2]), first = 3;
    int n = argc - first;
    if (n < 1 || n > MAXP || runs < 1) {
        fprintf(stderr, "usage: merge_bench [--runs N] PARTIAL.json...\n");
        return 2;
    }
    cJSON *snaps[MAXP];
    ow_merge_part in[MAXP];
    size_t bytes = 0;
    for (int p = 0; p < n; p++) {
        char *text;
        size_t len;
        ow_err err;
        if (ow_file_read(argv[first + p], 64u << 20, &text, &len, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        bytes += len;
        snaps[p] = cJSON_Parse(text);
        free(text);
        if (!snaps[p]) return 1;
        in[p] = (ow_merge_part){.snap = snaps[p]};
    }
    ow_partition_table t;
    ow_partition_table_init(&t, n);
    int64_t *merge = malloc((size_t)runs * sizeof *merge),
            *copy = malloc((size_t)runs * sizeof *copy),
            *print = malloc((size_t)runs * sizeof *print);
    size_t merged_bytes = 0;
    for (int r = 0; r < runs; r++) {
        ow_err err;
        int64_t t0 = now_ns();
        cJSON *m = ow_merge_build(in, n, &t, r + 1, &err);
        int64_t t1 = now_ns();
        if (!m) {
            fprintf(stderr, "merge: %s\n", err.msg);
            return 1;
        }
        char *text = cJSON_PrintUnformatted(m);
        int64_t t2 = now_ns();
        merged_bytes = strlen(text);
        cJSON_free(text);
        cJSON_Delete(m);
        int64_t t3 = now_ns();
        for (int p = 0; p < n; p++)
            cJSON_Delete(cJSON_Duplicate(snaps[p], 1));
        copy[r] = now_ns() - t3;
        merge[r] = t1 - t0;
        print[r] = t2 - t1;
    }
    printf("{\"bench\":\"merge\",\"partitions\":%d,\"runs\":%d,\"partial_bytes\":%zu,"
           "\"merged_bytes\":%zu,\"merge_us_p50\":%.1f,\"merge_us_p99\":%.1f,"
           "\"copy_partials_us_p50\":%.1f,\"print_merged_us_p50\":%.1f}\n",
           n, runs, bytes, merged_bytes, pct(merge, runs, 0.5), pct(merge, runs, 0.99),
           pct(copy, runs, 0.5), pct(print, runs, 0.5));
    free(merge), free(copy), free(print);
    for (int p = 0; p < n; p++)
        cJSON_Delete(snaps[p]);
    ow_partition_table_fini(&t);
    return 0;
}

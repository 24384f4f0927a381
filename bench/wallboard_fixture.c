/*
 * wallboard_fixture — write a realistic snapshot (bench/wb_fixture.h) to stdout or a file, for the
 * wallboard's tests, benchmarks, screenshots and the README picture.
 *
 *   wallboard_fixture [--regions FILE.geojson] [--name-property P] [--preset rainstorm|small|core]
 *                     [--now EPOCH_MS] [--seq N] [--seed N] [--replay SPEED:PCT] [--out FILE]
 *
 * rainstorm: 200,000 open orders, 5,000 technicians, 50 flags, 30 escalations, 500 m heat cells;
 * small: 180 open orders, 60 technicians, 6 flags, 5 escalations; core: only the engine-core
 * members (what an engine without analytics publishes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "regions.h"
#include "wb_fixture.h"

static int usage(void)
{
    fprintf(stderr, "usage: wallboard_fixture [--regions FILE] [--name-property P] "
                    "[--preset rainstorm|small|core] [--now MS] [--seq N] [--seed N] "
                    "[--replay SPEED:PCT] [--out FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *regions = "assets/cities/sample/regions.geojson", *prop = "id",
               *preset = "rainstorm";
    const char *out = NULL;
    long long now = 1795310105120LL, seq = -1, seed = -1;
    double speed = 0, pct = 0;
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return usage();
        if (strcmp(a, "--regions") == 0)
            regions = v;
        else if (strcmp(a, "--name-property") == 0)
            prop = v;
        else if (strcmp(a, "--preset") == 0)
            preset = v;
        else if (strcmp(a, "--now") == 0)
            now = atoll(v);
        else if (strcmp(a, "--seq") == 0)
            seq = atoll(v);
        else if (strcmp(a, "--seed") == 0)
            seed = atoll(v);
        else if (strcmp(a, "--out") == 0)
            out = v;
        else if (strcmp(a, "--replay") == 0) {
            if (sscanf(v, "%lf:%lf", &speed, &pct) != 2) return usage();
        } else
            return usage();
    }
    ow_err err;
    char *text;
    size_t len;
    ow_regions *city = NULL;
    if (ow_file_read(regions, 64u << 20, &text, &len, &err) ||
        ow_regions_parse(text, len, regions, prop, &city, &err)) {
        fprintf(stderr, "wallboard_fixture: %s\n", err.msg);
        return 1;
    }
    free(text);
    ow_wb_fixture_params p = ow_wb_fixture_rainstorm(now);
    if (strcmp(preset, "small") == 0 || strcmp(preset, "core") == 0) {
        p.open_total = 180;
        p.techs = 60;
        p.flags = 6;
        p.escalations = 5;
        p.minimal = strcmp(preset, "core") == 0;
    } else if (strcmp(preset, "rainstorm") != 0) {
        return usage();
    }
    if (seq >= 0) p.seq = seq;
    if (seed >= 0) p.seed = (uint64_t)seed;
    p.replay_speed = speed;
    p.replay_progress_pct = pct;
    /* the city's name is its folder: assets/cities/<name>/regions.geojson */
    char name[64] = "city";
    const char *slash = strrchr(regions, '/');
    if (slash) {
        const char *start = slash;
        while (start > regions && start[-1] != '/')
            start--;
        snprintf(name, sizeof name, "%.*s", (int)(slash - start), start);
    }
    char *snap = ow_wb_fixture_make(city, name, &p);
    ow_regions_free(city);
    if (!snap) {
        fprintf(stderr, "wallboard_fixture: out of memory\n");
        return 1;
    }
    FILE *f = out ? fopen(out, "w") : stdout;
    if (!f || fputs(snap, f) < 0 || fputc('\n', f) < 0 || (out && fclose(f) != 0)) {
        fprintf(stderr, "wallboard_fixture: cannot write %s\n", out ? out : "stdout");
        free(snap);
        return 1;
    }
    free(snap);
    return 0;
}

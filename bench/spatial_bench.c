/*
 * spatial_bench — "nearest idle technician with the skill" with 5,000 technicians (issue 5):
 * the grid of engine/spatial.c against the brute-force scan of every technician, on the same
 * queries in the same run. Prints one JSON line.
 *
 *   spatial_bench [technicians] [queries]     (default 5000 and 200000)
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "regions.h"
#include "spatial.h"

typedef struct tech {
    double lon, lat;
    bool idle;
    uint8_t skills; /* bit per skill */
} tech;

typedef struct want {
    const tech *t;
    uint8_t skill;
} want;

static bool accept(int32_t id, void *arg)
{
    const want *w = arg;
    return w->t[id].idle && (w->t[id].skills & w->skill);
}

static uint64_t rng = 88172645463325252u;
static double uniform(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5000, q = argc > 2 ? atoi(argv[2]) : 200000;
    tech *t = calloc((size_t)n, sizeof *t);
    double *qlon = malloc((size_t)q * sizeof *qlon), *qlat = malloc((size_t)q * sizeof *qlat);
    uint8_t *qskill = malloc((size_t)q);
    if (!t || !qlon || !qlat || !qskill) return 1;
    ow_spatial g;
    ow_spatial_init(&g, 1000);
    /* the sample city's extent, about 38 × 33 km; a third idle; each has 1-2 of 4 skills */
    for (int i = 0; i < n; i++) {
        t[i].lon = 121.30 + 0.48 * uniform();
        t[i].lat = 31.10 + 0.30 * uniform();
        t[i].idle = uniform() < 0.33;
        t[i].skills = (uint8_t)(1u << (int)(uniform() * 4) | 1u << (int)(uniform() * 4));
        ow_spatial_put(&g, i, t[i].lon, t[i].lat);
    }
    for (int k = 0; k < q; k++) {
        qlon[k] = 121.30 + 0.48 * uniform();
        qlat[k] = 31.10 + 0.30 * uniform();
        qskill[k] = (uint8_t)(1u << (int)(uniform() * 4));
    }
    long agree = 0;
    int64_t t0 = ow_clock_mono_us();
    int32_t *grid_ans = malloc((size_t)q * sizeof *grid_ans);
    for (int k = 0; k < q; k++) {
        want w = {t, qskill[k]};
        double d;
        grid_ans[k] = ow_spatial_nearest(&g, qlon[k], qlat[k], 100000, accept, &w, &d);
    }
    double grid_s = (double)(ow_clock_mono_us() - t0) / 1e6;
    t0 = ow_clock_mono_us();
    for (int k = 0; k < q; k++) {
        int32_t best = -1;
        double bd = INFINITY;
        for (int i = 0; i < n; i++) {
            if (!t[i].idle || !(t[i].skills & qskill[k])) continue;
            double d = ow_distance_m(qlon[k], qlat[k], t[i].lon, t[i].lat);
            if (d < bd) bd = d, best = i;
        }
        agree += best == grid_ans[k];
    }
    double scan_s = (double)(ow_clock_mono_us() - t0) / 1e6;
    printf("{\"bench\":\"spatial.nearest_idle_with_skill\",\"technicians\":%d,\"queries\":%d,"
           "\"grid_ns_per_query\":%.0f,\"scan_ns_per_query\":%.0f,\"speedup\":%.1f,"
           "\"same_answer\":%ld}\n",
           n, q, grid_s * 1e9 / q, scan_s * 1e9 / q, scan_s / grid_s, agree);
    ow_spatial_fini(&g);
    free(t), free(qlon), free(qlat), free(qskill), free(grid_ans);
    return agree == q ? 0 : 1;
}

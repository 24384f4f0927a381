/*
 * wb_fixture — realistic snapshots for the wallboard's tests, benchmarks and screenshots, written
 * to the contract of docs/snapshot.md: every member the board draws (kpi, kpi_targets, regions,
 * techs_pos, heat_grid, flags, escalations, spark, urgent, replay), at any scale. The "rainstorm"
 * preset is the load: 200,000 open orders, 5,000 technicians, a dense heat grid, 30
 * escalations, 50 flags and KPIs for every region.
 *
 * Deterministic: the same parameters give the same text. Pure: the regions come in parsed
 * (core/regions.h), nothing is read or written here.
 */
#ifndef OW_WB_FIXTURE_H
#define OW_WB_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "regions.h"

typedef struct ow_wb_fixture_params {
    uint64_t seed;
    int64_t seq;
    int64_t now_ms;      /* the snapshot's now */
    int64_t open_total;  /* open orders, spread over regions, priorities and heat cells */
    int techs;           /* technicians in techs_pos */
    int flags;           /* root-cause flags (docs: at most 50) */
    int escalations;     /* open escalations (docs: at most 30) */
    double cell_m;       /* heat grid cell size in metres */
    double replay_speed; /* > 0: add a `replay` member at this speed, mode "replay_speed" */
    double replay_progress_pct;
    bool minimal; /* only the engine-core members (no analytics yet) */
} ow_wb_fixture_params;

/* The rainstorm preset at `now_ms`. */
ow_wb_fixture_params ow_wb_fixture_rainstorm(int64_t now_ms);

/* A snapshot text (caller frees with free()), NULL on out of memory. */
char *ow_wb_fixture_make(const ow_regions *city, const char *city_name,
                         const ow_wb_fixture_params *p);

#endif

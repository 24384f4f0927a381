/*
 * sim — the simulator's generator: a believable day (or year) of field-service events for the
 * synthetic sample city (assets/cities/sample), as event-contract-v1 NDJSON lines.
 *
 * Pure, like core/: no I/O, no clock reads, no globals. The seed and the start instant come in
 * through ow_sim_config, so the same config always yields byte-identical lines. The program
 * (sim_main.c) validates every line with ow_event_parse, paces and writes them.
 *
 * Model (docs/simulator.md has the whole story): technicians with skills and daily shifts; orders
 * arriving on a time-of-day profile and walking the lifecycle created → dispatched → accepted →
 * departed → arrived → [paused awaiting_parts → resumed] → resolved → callback → closed, with
 * cancellations, reopens, complaints, depot stock; realistic mistakes at low rates. Future steps
 * wait in a priority queue ordered by (instant, insertion sequence), so ties are deterministic.
 * Finished orders are freed: memory stays bounded however long the run.
 *
 * Lifecycle: ow_sim_config_init → (adjust) → ow_sim_new → ow_sim_next* → ow_sim_free.
 */
#ifndef OW_SIM_H
#define OW_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "event.h"

/* Scenarios; X(enum suffix, name on the command line). */
#define OW_SIM_SCENARIOS(X)                                                                        \
    X(NORMAL, "normal")                                                                            \
    X(RAINSTORM, "rainstorm")                                                                      \
    X(SHORTAGE, "shortage")                                                                        \
    X(WEEKEND, "weekend")

typedef enum ow_sim_scenario {
#define OW_SIM_SC_ENUM(e, name) OW_SIM_##e,
    OW_SIM_SCENARIOS(OW_SIM_SC_ENUM)
#undef OW_SIM_SC_ENUM
        OW_SIM__COUNT
} ow_sim_scenario;

typedef struct ow_sim_config {
    uint64_t seed;
    int64_t start_ms;    /* first simulated instant, epoch ms UTC */
    int64_t duration_ms; /* simulated span; 0 = unbounded (stop from the caller, e.g. a count) */
    int utc_offset_min;  /* zone written in every ts (city time); +480 = +08:00 */
    ow_sim_scenario scenario;
    double orders_per_hour; /* daily mean; <= 0 picks the scenario's default */
    int techs;              /* technicians; <= 0 picks the scenario's default */
    double late_fraction;   /* share of technician-app events delivered late (out of order) */
    double dup_fraction;    /* share of lines delivered twice (same id: at-least-once retries) */
    double mistake_rate;    /* multiplier on every mistake rate; 0 turns mistakes off */
} ow_sim_config;

/* One generated line. text is borrowed: valid until the next ow_sim_next or ow_sim_free. */
typedef struct ow_sim_line {
    const char *text; /* one JSON object, no newline */
    size_t len;
    ow_event_type type;
    int64_t ts_ms;      /* the event's ts */
    int64_t deliver_ms; /* simulated instant of delivery: ts_ms, or later for a late line */
} ow_sim_line;

typedef struct ow_sim_stats {
    int64_t lines;                 /* lines returned so far (duplicates included) */
    int64_t by_type[OW_EV__COUNT]; /* lines per type */
    int64_t late_lines, dup_lines; /* delivered late; delivered a second time */
    int64_t orders_created, orders_live, orders_live_peak;
    int64_t queue_len, queue_len_peak; /* future steps waiting */
    int64_t pending_len;               /* orders waiting for a technician now */
    int64_t sim_now_ms;                /* simulated clock */
} ow_sim_stats;

/* Defaults: seed 1, start 2026-11-22T08:00:00+08:00, 24 h, +08:00, normal, scenario defaults for
 * orders per hour and technicians, late 2 %, duplicates 0.2 %, mistakes 1.0. */
void ow_sim_config_init(ow_sim_config *cfg);

/* Name ↔ scenario; lookup returns -1 for an unknown name. */
const char *ow_sim_scenario_name(ow_sim_scenario sc);
int ow_sim_scenario_lookup(const char *name);

/* Validates cfg (copied) and builds the city, customers and technicians. NULL with err set
 * (OW_EINVAL naming the setting, or OW_ENOMEM). Free with ow_sim_free. */
typedef struct ow_sim ow_sim;
ow_sim *ow_sim_new(const ow_sim_config *cfg, ow_err *err);
/* NULL is a no-op. */
void ow_sim_free(ow_sim *s);

/* Next line in delivery order. Returns 1 with *line filled, 0 when the span is over (late lines
 * still due are delivered first), or OW_ENOMEM. */
int ow_sim_next(ow_sim *s, ow_sim_line *line);

/* Counters so far (for --stats and the memory-bound test). */
void ow_sim_stats_get(const ow_sim *s, ow_sim_stats *out);

#endif

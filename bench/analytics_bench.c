/*
 * analytics_bench — the engine with its analytics under a storm (issue 5's speed target):
 * the simulator's rainstorm with 5,000 technicians and orders arriving far faster than they can
 * be served, replayed through the same core as opswall-engine --replay (apply, then advance to
 * the latest event time) until 200,000 orders are open; then the snapshot the engine publishes
 * every 250 ms is built repeatedly. The events are generated first and the codec's own time over
 * them is measured and subtracted, so the figures are the engine's; times are the thread's CPU
 * time, not wall time (the machine is shared). Prints one JSON line:
 *   ns_per_event          apply + advance per event (SLA clocks, alerts and analytics)
 *   alerts_per_event      alerts raised per event (a storm raises many: they cost most)
 *   snapshot_ms           mean / max time to build the full snapshot JSON (target ≤ 20 ms)
 *   snapshot_bytes        its size; empty_snapshot_ms the same picture of an empty model
 *
 *   analytics_bench [open_orders] [techs] [snapshots]     (defaults 200000 5000 20)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "files.h"
#include "picture.h"
#include "policy.h"
#include "sim.h"
#include "state.h"

/* CPU time of this thread (µs): the machine is shared, and wall time would count the time other
 * processes had the core. */
static int64_t cpu_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
    long want_open = argc > 1 ? atol(argv[1]) : 200000;
    int techs = argc > 2 ? atoi(argv[2]) : 5000;
    int snaps = argc > 3 ? atoi(argv[3]) : 20;
    ow_config cfg;
    ow_err err;
    if (ow_config_load(&cfg, NULL, &err)) {
        fprintf(stderr, "analytics_bench: %s\n", err.msg);
        return 1;
    }
    ow_regions *city = NULL;
    if (ow_city_load(&cfg, &city, &err)) {
        fprintf(stderr, "analytics_bench: %s\n", err.msg);
        return 1;
    }
    ow_policy pol;
    ow_policy_from_config(&pol, &cfg);
    pol.city = city;

    ow_sim_config sc;
    ow_sim_config_init(&sc);
    sc.scenario = OW_SIM_RAINSTORM;
    sc.techs = techs;
    sc.orders_per_hour = 40000; /* the storm's backlog grows by tens of thousands an hour */
    sc.duration_ms = 0;
    ow_sim *sim = ow_sim_new(&sc, &err);
    ow_state *s = ow_state_new(&pol);
    ow_event *ev = malloc(sizeof *ev);
    if (!sim || !s || !ev) {
        fprintf(stderr, "analytics_bench: %s\n", sim ? "out of memory" : err.msg);
        return 1;
    }
    /* the storm, generated first (the generator is slower than the engine): lines until the
     * orders created minus a margin for the ones served reach the wanted backlog */
    ow_buf lines = {0};
    size_t *ends = NULL, nlines = 0, cap = 0;
    ow_sim_line line;
    ow_sim_stats st;
    do {
        if (ow_sim_next(sim, &line) != 1) break;
        if (nlines == cap) {
            cap = cap ? cap * 2 : 65536;
            size_t *e = realloc(ends, cap * sizeof *e);
            if (!e) return 1;
            ends = e;
        }
        ow_buf_put(&lines, line.text, line.len);
        ends[nlines++] = lines.n;
        ow_sim_stats_get(sim, &st);
    } while (st.orders_live < want_open + want_open / 20 && !lines.oom);
    if (lines.oom) return 1;

    /* the codec alone over the same lines: subtracted below */
    int64_t t0 = cpu_us();
    for (size_t i = 0; i < nlines; i++) {
        size_t from = i ? ends[i - 1] : 0;
        (void)ow_event_parse(lines.p + from, ends[i] - from, ev, &err);
    }
    int64_t parse_us = cpu_us() - t0;

    /* replay, as opswall-engine --replay does: apply, then fire every crossing up to now */
    long events = 0;
    int64_t now = INT64_MIN;
    t0 = cpu_us();
    for (size_t i = 0; i < nlines && ow_state_totals_get(s)->open_total < want_open; i++) {
        size_t from = i ? ends[i - 1] : 0;
        if (ow_event_parse(lines.p + from, ends[i] - from, ev, &err)) continue;
        ow_state_apply(s, ev);
        if (ev->ts_ms > now) now = ev->ts_ms;
        ow_state_advance(s, now);
        ow_state_outbox_clear(s);
        events++;
    }
    int64_t spent_us = cpu_us() - t0 - parse_us * events / (int64_t)nlines;
    ow_buf_fini(&lines);
    free(ends);
    const ow_state_totals *t = ow_state_totals_get(s);
    long techs_known = 0;
    for (int i = 0; i < OW_TECH__COUNT; i++)
        techs_known += (long)t->techs_by_status[i];

    double total_ms = 0, max_ms = 0;
    size_t bytes = 0;
    for (int i = 0; i < snaps; i++) {
        int64_t s0 = cpu_us();
        char *snap = ow_picture_snapshot(s, i + 1, now, OW_MODE_REPLAY);
        double ms = (double)(cpu_us() - s0) / 1000.0;
        if (!snap) return 1;
        bytes = strlen(snap);
        free(snap);
        total_ms += ms;
        if (ms > max_ms) max_ms = ms;
    }
    /* the same picture of an empty model: what the analytics add is the rest */
    ow_state *empty = ow_state_new(&pol);
    t0 = cpu_us();
    for (int i = 0; i < snaps; i++)
        free(ow_picture_snapshot(empty, i + 1, now, OW_MODE_REPLAY));
    double empty_ms = (double)(cpu_us() - t0) / 1000.0 / snaps;
    printf("{\"bench\":\"engine.analytics_storm\",\"scenario\":\"rainstorm\",\"events\":%ld,"
           "\"open_orders\":%lld,\"orders_known\":%lld,\"techs\":%ld,\"ns_per_event\":%.0f,"
           "\"events_per_s\":%.0f,\"alerts_per_event\":%.2f,\"snapshot_ms\":%.2f,\"snapshot_max_"
           "ms\":%.2f,"
           "\"snapshot_bytes\":%zu,\"empty_snapshot_ms\":%.3f,\"target_snapshot_ms\":20}\n",
           events, (long long)t->open_total, (long long)t->orders_known, techs_known,
           events ? (double)spent_us * 1000.0 / (double)events : 0.0,
           spent_us ? (double)events * 1e6 / (double)spent_us : 0.0,
           events ? (double)t->alerts_raised / (double)events : 0.0, total_ms / snaps, max_ms,
           bytes, empty_ms);
    ow_state_free(empty);
    ow_state_free(s);
    ow_sim_free(sim);
    ow_regions_free(city);
    free(ev);
    return 0;
}

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
 *   snapshot_ms           mean / p99 / max time to build the full snapshot JSON (target ≤ 20 ms)
 *   snapshot_bytes        its size; empty_snapshot_ms the same picture of an empty model
 *   parts_ms              mean time of each part: "base" (the snapshot with its slow members
 *                         taken from a cache: counters, the urgent list, the JSON text) and
 *                         each slow member built alone (picture.h ow_picture_member)
 *   escalations_match     the escalations' top 30 (through the escalation index) equal the
 *                         first 30 of every open alert fully sorted, in this storm
 *
 *   analytics_bench [open_orders] [techs] [snapshots]     (defaults 200000 5000 20)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alerts.h"
#include "buf.h"
#include "config.h"
#include "files.h"
#include "picture.h"
#include "policy.h"
#include "sim.h"
#include "state.h"

/* Every open alert, or the escalation board's candidates, with their ids. */
typedef struct esc_list {
    ow_alert *a;
    char (*id)[OW_ALERT_ID_BUF];
    size_t n, cap;
    bool oom;
} esc_list;

static bool esc_keep(const ow_alert *a, const ow_ack *ack, void *arg)
{
    (void)ack;
    esc_list *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        ow_alert *na = realloc(l->a, cap * sizeof *na);
        char(*ni)[OW_ALERT_ID_BUF] = na ? realloc(l->id, cap * sizeof *ni) : NULL;
        if (na) l->a = na;
        if (!ni) return !(l->oom = true);
        l->id = ni, l->cap = cap;
    }
    l->a[l->n] = *a;
    ow_alert_id(a, l->id[l->n]);
    l->n++;
    return true;
}

/* The board's order: level (highest first), instant (oldest first), id; the first k to the front
 * by selection (a full qsort would need the ids beside the records). */
static bool esc_before(const esc_list *l, size_t i, size_t j)
{
    if (l->a[i].level != l->a[j].level) return l->a[i].level > l->a[j].level;
    if (l->a[i].at != l->a[j].at) return l->a[i].at < l->a[j].at;
    return strcmp(l->id[i], l->id[j]) < 0;
}

static void esc_first(esc_list *l, size_t k)
{
    for (size_t i = 0; i < k && i < l->n; i++) {
        size_t best = i;
        for (size_t j = i + 1; j < l->n; j++)
            if (esc_before(l, j, best)) best = j;
        ow_alert ta = l->a[i];
        l->a[i] = l->a[best], l->a[best] = ta;
        char tid[OW_ALERT_ID_BUF];
        memcpy(tid, l->id[i], sizeof tid);
        memcpy(l->id[i], l->id[best], sizeof tid);
        memcpy(l->id[best], tid, sizeof tid);
    }
}

/* The escalations through the index against every open alert fully sorted. */
static bool escalations_match(const ow_state *s, size_t k, size_t *offered)
{
    esc_list all = {0}, top = {0};
    ow_state_each_open_alert(s, esc_keep, &all);
    ow_state_each_top_alert(s, k, esc_keep, &top);
    bool ok = !all.oom && !top.oom;
    *offered = top.n;
    esc_first(&all, k), esc_first(&top, k);
    size_t n = all.n < k ? all.n : k;
    ok = ok && (top.n < k ? top.n : k) == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = strcmp(all.id[i], top.id[i]) == 0 && all.a[i].at == top.a[i].at;
    free(all.a), free(all.id), free(top.a), free(top.id);
    return ok;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

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
    ow_tz *zone = NULL;
    if (ow_city_load(&cfg, &city, &err) || ow_zone_load(&cfg, &zone, &err)) {
        fprintf(stderr, "analytics_bench: %s\n", err.msg);
        return 1;
    }
    ow_policy pol;
    ow_policy_from_config(&pol, &cfg);
    pol.city = city;
    pol.tz = zone;

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

    if (snaps < 1) snaps = 1;
    double total_ms = 0, *each_ms = calloc((size_t)snaps, sizeof *each_ms);
    size_t bytes = 0;
    if (!each_ms) return 1;
    for (int i = 0; i < snaps; i++) {
        int64_t s0 = cpu_us();
        char *snap = ow_picture_snapshot(s, i + 1, now, OW_MODE_REPLAY);
        double ms = (double)(cpu_us() - s0) / 1000.0;
        if (!snap) return 1;
        bytes = strlen(snap);
        free(snap);
        total_ms += ms;
        each_ms[i] = ms;
    }
    qsort(each_ms, (size_t)snaps, sizeof *each_ms, cmp_double);
    double p99_ms =
        each_ms[(size_t)snaps * 99 / 100 < (size_t)snaps ? (size_t)snaps * 99 / 100 : 0];
    double max_ms = each_ms[snaps - 1];
    free(each_ms);

    /* each part alone, as often as the whole */
    double part_ms[1 + OW_PICTURE_SLOW_MEMBERS] = {0};
    ow_picture_cache cache = {0};
    ow_picture_opts po = {.cache = &cache, .refresh = true};
    free(ow_picture_build(s, 0, now, OW_MODE_REPLAY, &po)); /* fills the cache */
    po.refresh = false;
    for (int i = 0; i < snaps; i++) {
        int64_t s0 = cpu_us();
        char *snap = ow_picture_build(s, i + 1, now, OW_MODE_REPLAY, &po);
        part_ms[0] += (double)(cpu_us() - s0) / 1000.0;
        free(snap);
        for (int m = 0; m < OW_PICTURE_SLOW_MEMBERS; m++) {
            s0 = cpu_us();
            char *text = ow_picture_member(s, m, now);
            part_ms[1 + m] += (double)(cpu_us() - s0) / 1000.0;
            if (!text) return 1;
            free(text);
        }
    }
    ow_picture_cache_fini(&cache);
    char parts[1024];
    size_t used = (size_t)snprintf(parts, sizeof parts, "{\"base\":%.2f", part_ms[0] / snaps);
    for (int m = 0; m < OW_PICTURE_SLOW_MEMBERS && used < sizeof parts; m++)
        used += (size_t)snprintf(parts + used, sizeof parts - used, ",\"%s\":%.2f",
                                 ow_picture_member_name(m), part_ms[1 + m] / snaps);
    if (used < sizeof parts) snprintf(parts + used, sizeof parts - used, "}");
    size_t offered = 0;
    bool esc_ok = escalations_match(s, OW_PICTURE_ESCALATIONS, &offered);

    /* the same picture of an empty model: what the analytics add is the rest */
    ow_state *empty = ow_state_new(&pol);
    t0 = cpu_us();
    for (int i = 0; i < snaps; i++)
        free(ow_picture_snapshot(empty, i + 1, now, OW_MODE_REPLAY));
    double empty_ms = (double)(cpu_us() - t0) / 1000.0 / snaps;
    printf("{\"bench\":\"engine.analytics_storm\",\"scenario\":\"rainstorm\",\"events\":%ld,"
           "\"open_orders\":%lld,\"orders_known\":%lld,\"techs\":%ld,\"ns_per_event\":%.0f,"
           "\"events_per_s\":%.0f,\"alerts_per_event\":%.2f,\"alerts_open\":%lld,\"snapshots\":%d,"
           "\"snapshot_ms\":%.2f,\"snapshot_p99_ms\":%.2f,\"snapshot_max_ms\":%.2f,"
           "\"snapshot_bytes\":%zu,\"empty_snapshot_ms\":%.3f,\"target_snapshot_ms\":20,"
           "\"parts_ms\":%s,\"flags_open\":%zu,\"escalation_candidates\":%zu,\"escalations_"
           "match\":%s}\n",
           events, (long long)t->open_total, (long long)t->orders_known, techs_known,
           events ? (double)spent_us * 1000.0 / (double)events : 0.0,
           spent_us ? (double)events * 1e6 / (double)spent_us : 0.0,
           events ? (double)t->alerts_raised / (double)events : 0.0,
           (long long)(t->alerts_open_by_level[0] + t->alerts_open_by_level[1] +
                       t->alerts_open_by_level[2] + t->alerts_open_by_level[3]),
           snaps, total_ms / snaps, p99_ms, max_ms, bytes, empty_ms, parts,
           ow_flags_open_count(ow_state_flags(s)), offered, esc_ok ? "true" : "false");
    ow_state_free(empty);
    ow_state_free(s);
    ow_sim_free(sim);
    ow_regions_free(city);
    ow_tz_free(zone);
    free(ev);
    return 0;
}

/*
 * engine_bench — the engine's pure core, no I/O, one core (issue 4's targets):
 *   apply     events/s applied to the live state with SLA timers (full order lifecycles)
 *   memory    bytes of RSS per open order with all their stage timers (1,000,000 orders)
 *   fire      cost of firing due crossings: O(due), measured at two queue sizes
 * Prints one JSON object per line. The baseline line ("map") is the cost of the hash lookups
 * alone on the same ids: the floor any model keyed by order id pays.
 *
 *   engine_bench [orders] [apply]   (default 200000 for apply; memory always uses 1,000,000;
 *                                    "apply" stops after the apply measurement, for profiling)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "map.h"
#include "policy.h"
#include "state.h"

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}

static const int lifecycle[] = {OW_EV_ORDER_CREATED,  OW_EV_ORDER_DISPATCHED, OW_EV_ORDER_ACCEPTED,
                                OW_EV_ORDER_DEPARTED, OW_EV_ORDER_ARRIVED,    OW_EV_ORDER_RESOLVED,
                                OW_EV_ORDER_CALLBACK, OW_EV_ORDER_CLOSED};
#define STEPS (int)(sizeof lifecycle / sizeof lifecycle[0])

/* "<prefix><n>" without snprintf, so the benchmark measures the engine, not libc formatting */
static void fmt_id(char *out, char prefix, long n)
{
    char tmp[24];
    int k = 0;
    do
        tmp[k++] = (char)('0' + n % 10), n /= 10;
    while (n);
    *out++ = prefix;
    while (k)
        *out++ = tmp[--k];
    *out = '\0';
}

static void make_event(ow_event *ev, int type, long order, int64_t ts)
{
    ev->type = (ow_event_type)type;
    ev->ts_ms = ts;
    fmt_id(ev->order_id, 'o', order);
    if (type != OW_EV_ORDER_CREATED) {
        fmt_id(ev->tech_id, 't', order % 5000);
    } else {
        ev->tech_id[0] = '\0';
        ev->priority = (ow_priority)(order % 3);
        snprintf(ev->region, 16, "r%ld", order % 16);
        snprintf(ev->category, 16, "c%ld", order % 12);
    }
}

int main(int argc, char **argv)
{
    long orders = argc > 1 ? atol(argv[1]) : 200000;
    ow_config cfg;
    ow_config_defaults(&cfg);
    ow_policy pol;
    ow_policy_from_config(&pol, &cfg);
    ow_event *ev = calloc(1, sizeof *ev);
    int64_t t0 = 1795309200000; /* 2026-11-22T01:00Z */

    /* apply: orders interleaved 64 at a time, each through its whole lifecycle, a minute a step;
     * now advances with event time, so crossings fire as they would in replay */
    ow_state *s = ow_state_new(&pol);
    long events = 0;
    int64_t start = ow_clock_mono_us();
    for (long base = 0; base < orders; base += 64) {
        for (int step = 0; step < STEPS; step++) {
            for (long o = base; o < base + 64 && o < orders; o++) {
                int64_t ts = t0 + base * 1000 + step * 60000 + (o - base);
                make_event(ev, lifecycle[step], o, ts);
                ow_state_apply(s, ev);
                events++;
            }
            ow_state_advance(s, t0 + base * 1000 + step * 60000 + 63);
            ow_state_outbox_clear(s);
        }
    }
    double secs = (double)(ow_clock_mono_us() - start) / 1e6;
    printf("{\"bench\":\"engine.apply\",\"events\":%ld,\"seconds\":%.3f,\"events_per_s\":%.0f,"
           "\"alerts_raised\":%lld,\"target_events_per_s\":2000000}\n",
           events, secs, events / secs, (long long)ow_state_totals_get(s)->alerts_raised);
    ow_state_free(s);

    /* baseline: the same number of hash lookups on the same ids */
    ow_map m;
    ow_map_init(&m);
    start = ow_clock_mono_us();
    char id[32];
    long hits = 0;
    for (long base = 0; base < orders; base += 64)
        for (int step = 0; step < STEPS; step++)
            for (long o = base; o < base + 64 && o < orders; o++) {
                snprintf(id, sizeof id, "o%ld", o);
                if (ow_map_get(&m, id))
                    hits++;
                else
                    ow_map_put(&m, id, (void *)1);
            }
    secs = (double)(ow_clock_mono_us() - start) / 1e6;
    printf("{\"bench\":\"engine.map_baseline\",\"lookups\":%ld,\"seconds\":%.3f,\"per_s\":%.0f}\n",
           events, secs, events / secs);
    ow_map_fini(&m);
    if (argc > 2 && strcmp(argv[2], "apply") == 0) return 0; /* profiling the apply path only */

    /* memory: 1,000,000 open orders (created + dispatched + accepted: 6 clocks, 4 running) */
    const long open = 1000000;
    long before = rss_kb();
    s = ow_state_new(&pol);
    for (long o = 0; o < open; o++) {
        for (int step = 0; step < 3; step++) {
            make_event(ev, lifecycle[step], o, t0 + o + step * 1000);
            ow_state_apply(s, ev);
        }
    }
    long after = rss_kb();
    printf("{\"bench\":\"engine.memory\",\"open_orders\":%ld,\"rss_before_kb\":%ld,"
           "\"rss_after_kb\":%ld,\"bytes_per_open_order\":%.0f,\"target_bytes\":512}\n",
           open, before, after, (double)(after - before) * 1024.0 / (double)open);

    /* fire: advance in steps over the 1M orders; cost per crossing fired */
    int64_t now = t0 + open;
    long fired = 0;
    start = ow_clock_mono_us();
    for (int k = 0; k < 20; k++) {
        now += 30 * 60000;
        int n = ow_state_advance(s, now);
        if (n > 0) fired += n;
        ow_state_outbox_clear(s);
    }
    secs = (double)(ow_clock_mono_us() - start) / 1e6;
    printf("{\"bench\":\"engine.fire\",\"open_orders\":%ld,\"fired\":%ld,\"seconds\":%.3f,"
           "\"ns_per_crossing\":%.0f}\n",
           open, fired, secs, fired ? secs * 1e9 / (double)fired : 0.0);
    /* the same advance with nothing due must cost nothing, however many clocks run */
    start = ow_clock_mono_us();
    for (int k = 0; k < 1000000; k++)
        ow_state_advance(s, now);
    secs = (double)(ow_clock_mono_us() - start) / 1e6;
    printf("{\"bench\":\"engine.idle_advance\",\"open_orders\":%ld,\"ns_per_call\":%.1f}\n", open,
           secs * 1e3);
    ow_state_free(s);
    free(ev);
    return 0;
}

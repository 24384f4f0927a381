#include "partsim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "crossfacts.h"
#include "files.h"
#include "flags.h"
#include "holding.h"
#include "route.h"
#include "xrecord.h"

static bool fail(const char *msg)
{
    fprintf(stderr, "partsim: %s\n", msg);
    return false;
}

/* out of memory in a test helper: stop here */
static void need(bool ok)
{
    if (!ok) {
        fprintf(stderr, "partsim: out of memory\n");
        abort();
    }
}

bool run_init(run *r, const char *config)
{
    memset(r, 0, sizeof *r);
    ow_err err;
    if (ow_config_load(&r->cfg, config, &err)) return fail(err.msg);
    ow_policy_from_config(&r->pol, &r->cfg);
    if (ow_city_load(&r->cfg, &r->city, &err)) return fail(err.msg);
    r->pol.city = r->city;
    /* the sample city's 7 regions over 3 partitions, neighbours together (cluster.regions) */
    ow_partition_table_init(&r->table, NP);
    static const char table[] = "{\"central\":0,\"north\":0,\"east\":1,\"harbor\":1,\"south\":2,"
                                "\"west\":2,\"oldtown\":2}";
    if (ow_partition_table_parse(&r->table, NP, table, sizeof table - 1, "test", &err))
        return fail(err.msg);
    r->one = ow_state_new(&r->pol);
    for (int p = 0; p < NP; p++) {
        r->ppol[p] = r->pol;
        r->ppol[p].home_table = &r->table;
        r->ppol[p].home_partition = p;
        r->part[p] = ow_state_new(&r->ppol[p]);
    }
    ow_map_init(&r->dir);
    ow_map_init(&r->raised_one);
    ow_map_init(&r->raised_parts);
    ow_map_init(&r->said_one);
    ow_map_init(&r->said_parts);
    r->now = INT64_MIN;
    return r->one != NULL;
}

void run_fini(run *r)
{
    ow_state_free(r->one);
    for (int p = 0; p < NP; p++)
        ow_state_free(r->part[p]);
    ow_map_fini(&r->dir);
    ow_map_fini(&r->raised_one);
    ow_map_fini(&r->raised_parts);
    ow_map_fini_free(&r->said_one);
    ow_map_fini_free(&r->said_parts);
    ow_partition_table_fini(&r->table);
    ow_regions_free(r->city);
}

static int dir_get(const run *r, const char *kind, const char *id)
{
    char key[300];
    snprintf(key, sizeof key, "%s:%s", kind, id);
    return (int)(intptr_t)ow_map_get(&r->dir, key) - 1;
}

static void dir_put(run *r, const char *kind, const char *id, int p)
{
    char key[300];
    snprintf(key, sizeof key, "%s:%s", kind, id);
    if (dir_get(r, kind, id) < 0) need(ow_map_put(&r->dir, key, (void *)(intptr_t)(p + 1)) == 0);
}

/* The alerts a model raised since the last call, recorded by id with their instants. */
static void take_alerts(run *r, ow_state *s)
{
    size_t n;
    const ow_alert *a = ow_state_outbox(s, &n);
    bool one = s == r->one;
    for (size_t i = 0; i < n; i++) {
        if (a[i].op != OW_ALERT_RAISE) continue;
        char id[OW_ALERT_ID_BUF];
        ow_alert_id(&a[i], id);
        ow_map *m = one ? &r->raised_one : &r->raised_parts;
        if (one && a[i].kind == OW_ALERT_SLA) r->sla_one++;
        if (!one) r->raised_sum++;
        if (!one && ow_map_get(m, id))
            fprintf(stderr, "partsim: %s raised by two partitions\n", id);
        if (!ow_map_get(m, id)) need(ow_map_put(m, id, (void *)(intptr_t)(a[i].at + 1)) == 0);
        ow_map *said = one ? &r->said_one : &r->said_parts;
        if (a[i].kind == OW_ALERT_FLAG && a[i].evidence && !ow_map_get(said, id)) {
            size_t ne = strlen(a[i].evidence), ns = a[i].summary ? strlen(a[i].summary) : 0;
            char *t = malloc(ne + ns + 2);
            need(t != NULL);
            memcpy(t, a[i].evidence, ne);
            t[ne] = '\n';
            memcpy(t + ne + 1, a[i].summary ? a[i].summary : "", ns + 1);
            need(ow_map_put(said, id, t) == 0);
        }
    }
    ow_state_outbox_clear(s);
}

static void apply_to(run *r, ow_state *s, const ow_event *ev, int64_t wm, int64_t now)
{
    if (wm != INT64_MIN) need(ow_state_advance(s, wm) >= 0);
    need(ow_state_apply(s, ev) >= 0);
    need(ow_state_advance(s, now) >= 0);
    take_alerts(r, s);
}

/* An order event routed to partition p: its holding record, as ingest writes it to the shared
 * stream just before the event (text, then decoded as the engines decode it), applied by every
 * other partition where one node applied the event (engine/shared_feed.c apply_holding). */
static void holding_to_all(run *r, const ow_event *ev, int p, int64_t wm)
{
    ow_holding h;
    char text[OW_HOLDING_MAX];
    ow_err err;
    need(ow_holding_from_event(ev, p, &h) == 0);
    int len = ow_holding_format(&h, text, sizeof text);
    need(len > 0 && ow_holding_parse(text, (size_t)len, &h, &err) == 0);
    r->holdings++;
    for (int q = 0; q < NP; q++) {
        ow_state *s = r->part[q];
        if (!ow_flags_holding_remote(s, &h)) continue;
        if (wm != INT64_MIN) need(ow_state_advance(s, wm) >= 0);
        need(ow_flags_holding(s, &h, wm == INT64_MIN ? h.ts_ms : wm) >= 0);
        need(ow_state_advance(s, r->now) >= 0);
        take_alerts(r, s);
    }
}

/* One event: to the one-node model, and to its partition(s) at the same event-time watermark. */
void feed_line(run *r, const char *text, size_t len)
{
    ow_event ev;
    ow_err err;
    if (ow_event_parse(text, len, &ev, &err)) return; /* the engine skips what it cannot read */
    int64_t wm = r->now;
    if (ev.ts_ms > r->now) r->now = ev.ts_ms;
    r->events++;
    if (!r->no_one) apply_to(r, r->one, &ev, wm, r->now);
    ow_route rt;
    ow_route_event(&r->table, &ev, &rt);
    int p = -1;
    if (rt.kind == OW_ROUTE_SHARED) {
        r->shared++;
        for (int q = 0; q < NP; q++)
            apply_to(r, r->part[q], &ev, wm, r->now);
        return;
    }
    if (rt.kind == OW_ROUTE_PARTITION) p = rt.partition;
    if (rt.kind == OW_ROUTE_LOOKUP) {
        p = dir_get(r, rt.lookup_kind, rt.lookup_id);
        if (p < 0) p = rt.fallback;
        /* parked in the real pipeline until its order.created; the files here never need it
         * (no late lines), except for mistakes that name no known order: partition 0 */
        if (p < 0) p = 0;
    }
    if (rt.record_kind) dir_put(r, rt.record_kind, rt.record_id, p);
    if (ow_event_is_order(ev.type)) holding_to_all(r, &ev, p, wm);
    apply_to(r, r->part[p], &ev, wm, r->now);
    if (!ow_xrec_wanted(&ev) || r->no_records) return;
    /* its cross-partition record, through the codec as the shared stream carries it */
    ow_buf b;
    ow_buf_init(&b);
    need(ow_xrec_encode(&ev, p, &b) == OW_OK);
    ow_xrec x;
    need(ow_xrec_decode(b.p, b.n, &x, &err) == OW_OK);
    ow_buf_fini(&b);
    r->records++;
    for (int q = 0; q < NP; q++) {
        if (wm != INT64_MIN) need(ow_state_advance(r->part[q], wm) >= 0);
        need(ow_crossfacts_apply(r->part[q], &x, wm) >= 0);
        need(ow_state_advance(r->part[q], r->now) >= 0);
        take_alerts(r, r->part[q]);
    }
}

void finish(run *r)
{
    for (int p = 0; p < NP; p++) {
        need(ow_state_advance(r->part[p], r->now) >= 0);
        take_alerts(r, r->part[p]);
    }
}

#include "picture.h"

#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "sla.h"
#include "timefmt.h"
#include <cjson/cJSON.h>

#define TECHS_POS_MS 2000 /* techs_pos changes at most this often (docs/snapshot.md) */

typedef struct urgent {
    int64_t breach_at;
    const char *order_id, *region;
    ow_priority prio;
    int stage;
    int level; /* highest level raised so far, -1 none */
    int next_pct;
    int64_t next_at;
} urgent;

typedef struct collect {
    urgent top[OW_PICTURE_URGENT];
    int n;
} collect;

static bool more_urgent(const urgent *a, const urgent *b)
{
    if (a->breach_at != b->breach_at) return a->breach_at < b->breach_at;
    return strcmp(a->order_id, b->order_id) < 0 ||
           (strcmp(a->order_id, b->order_id) == 0 && a->stage < b->stage);
}

static int highest_level(uint8_t fired)
{
    int lvl = -1;
    for (int k = 0; k < OW_SLA_THRESHOLDS; k++)
        if (fired & (1u << k)) lvl = ow_sla_level[k];
    return lvl;
}

static bool visit(const ow_order_view *v, void *arg)
{
    collect *c = arg;
    for (int st = 0; st < v->nclocks; st++) {
        const ow_clock_view *cv = &v->clocks[st];
        if (cv->state != OW_CLOCK_RUNNING || cv->breach_at == OW_NEVER) continue;
        urgent u = {cv->breach_at, v->id,      v->region, v->priority, st, highest_level(cv->fired),
                    cv->next_pct,  cv->next_at};
        if (c->n == OW_PICTURE_URGENT && !more_urgent(&u, &c->top[c->n - 1])) continue;
        int i = c->n < OW_PICTURE_URGENT ? c->n++ : c->n - 1;
        while (i > 0 && more_urgent(&u, &c->top[i - 1])) {
            c->top[i] = c->top[i - 1];
            i--;
        }
        c->top[i] = u;
    }
    return true;
}

static bool add_time(cJSON *o, const char *key, int64_t ms)
{
    if (ms == OW_NEVER) return cJSON_AddNullToObject(o, key) != NULL;
    char t[OW_TIME_TEXT_MAX];
    ow_time_format(ms, t);
    return cJSON_AddStringToObject(o, key, t) != NULL;
}

static char *finish(cJSON *root, bool ok)
{
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) return NULL;
    char *copy = strdup(text);
    cJSON_free(text);
    return copy;
}

/* ---- analytics members (issue 5): written with the JSON writer and added as raw text, since
 * they are large (cJSON nodes for thousands of numbers would dominate the snapshot's cost) ---- */

typedef struct tech_row {
    const char *id, *region;
    double lon, lat;
    ow_tech_status status;
} tech_row;

typedef struct tech_rows {
    tech_row *v;
    size_t n, cap;
    bool oom;
} tech_rows;

static bool take_tech(const ow_tech_view *t, void *arg)
{
    tech_rows *r = arg;
    if (!t->has_pos) return true;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        tech_row *v = realloc(r->v, cap * sizeof *v);
        if (!v) return !(r->oom = true);
        r->v = v, r->cap = cap;
    }
    r->v[r->n++] =
        (tech_row){t->id, t->region, t->lon, t->lat, t->has_status ? t->status : OW_TECH_OFFLINE};
    return true;
}

static int cmp_tech_row(const void *a, const void *b)
{
    return strcmp(((const tech_row *)a)->id, ((const tech_row *)b)->id);
}

static void write_techs_pos(ow_jsonw *w, const ow_state *s, int64_t now_ms)
{
    /* the picture as of the last 2-second boundary: rows change at most every 2 s */
    int64_t at = now_ms - ((now_ms % TECHS_POS_MS) + TECHS_POS_MS) % TECHS_POS_MS;
    tech_rows rows = {0};
    ow_state_each_tech(s, at, take_tech, &rows);
    if (rows.n) qsort(rows.v, rows.n, sizeof *rows.v, cmp_tech_row);
    char t[OW_TIME_TEXT_MAX];
    ow_time_format(at, t);
    ow_jsonw_open(w);
    ow_jsonw_key(w, "at"), ow_jsonw_str(w, t);
    ow_jsonw_key(w, "list");
    ow_jsonw_raw(w, "[");
    for (size_t i = 0; i < rows.n; i++) {
        const tech_row *r = &rows.v[i];
        ow_jsonw_raw(w, i ? ",[" : "[");
        ow_jsonw_str(w, r->id);
        ow_jsonw_raw(w, ",");
        ow_jsonw_num(w, r->lon, 6);
        ow_jsonw_raw(w, ",");
        ow_jsonw_num(w, r->lat, 6);
        ow_jsonw_raw(w, ",");
        ow_jsonw_str(w, ow_tech_status_name(r->status));
        ow_jsonw_raw(w, ",");
        ow_jsonw_str(w, r->region);
        ow_jsonw_raw(w, "]");
    }
    ow_jsonw_raw(w, "]");
    ow_jsonw_close(w);
    if (rows.oom) w->out.oom = true;
    free(rows.v);
}

enum {
    M_CITY,
    M_REGIONS,
    M_TECHS_POS,
    M_KPI,
    M_KPI_TARGETS,
    M_GRID,
    M_HOUR,
    M_CATEGORY,
    M_BOTTLENECK,
    M_SPARK,
    M__COUNT
};
static const char *const member_names[M__COUNT] = {
    "city",      "regions",   "techs_pos",     "kpi",        "kpi_targets",
    "heat_grid", "heat_hour", "heat_category", "bottleneck", "spark"};

static void write_member(ow_jsonw *w, int m, const ow_state *s, int64_t now_ms)
{
    const ow_kpi *k = ow_state_kpi(s);
    const ow_heat *h = ow_state_heat(s);
    const ow_names *regions = ow_state_regions(s);
    const ow_policy *p = ow_state_policy(s);
    int nopen;
    const int64_t *open = ow_heat_open(h, &nopen);
    switch (m) {
    case M_CITY: ow_heat_write_city(h, w, p->city_name ? p->city_name : ""); break;
    case M_REGIONS: ow_heat_write_regions(h, w, regions); break;
    case M_TECHS_POS: write_techs_pos(w, s, now_ms); break;
    case M_KPI: ow_kpi_write(k, w, regions, open, nopen); break;
    case M_KPI_TARGETS: ow_kpi_write_targets(w, &p->analytics); break;
    case M_GRID: ow_heat_write_grid(h, w); break;
    case M_HOUR: ow_kpi_write_hours(k, w, regions); break;
    case M_CATEGORY: ow_heat_write_category(h, w, regions, ow_state_categories(s)); break;
    case M_BOTTLENECK: ow_kpi_write_bottleneck(k, w, regions); break;
    default: ow_kpi_write_spark(k, w, nopen > 0 ? open[0] : 0); break;
    }
}

static bool add_analytics(cJSON *root, const ow_state *s, int64_t now_ms)
{
    ow_jsonw w;
    ow_jsonw_init(&w);
    bool ok = true;
    for (int m = 0; ok && m < M__COUNT; m++) {
        ow_jsonw_reset(&w);
        write_member(&w, m, s, now_ms);
        ok = !w.out.oom && cJSON_AddRawToObject(root, member_names[m], w.out.p) != NULL;
    }
    ow_jsonw_fini(&w);
    return ok;
}

char *ow_picture_snapshot(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode)
{
    return ow_picture_snapshot_at(s, seq, now_ms, mode, NULL);
}

static char *snapshot(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode,
                      const char *stream_last, const ow_replay *replay);

char *ow_picture_snapshot_at(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode,
                             const char *stream_last)
{
    return snapshot(s, seq, now_ms, mode, stream_last, NULL);
}

char *ow_picture_snapshot_replay(const ow_state *s, int64_t seq, int64_t now_ms,
                                 const char *stream_last, const ow_replay *replay)
{
    return snapshot(s, seq, now_ms, OW_MODE_REPLAY, stream_last, replay);
}

static char *snapshot(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode,
                      const char *stream_last, const ow_replay *replay)
{
    const ow_state_totals *t = ow_state_totals_get(s);
    cJSON *root = cJSON_CreateObject(), *open, *x;
    if (!root) return NULL;
    bool ok = cJSON_AddNumberToObject(root, "v", 1) &&
              cJSON_AddStringToObject(root, "type", "snapshot") &&
              cJSON_AddNumberToObject(root, "seq", (double)seq) && add_time(root, "now", now_ms) &&
              cJSON_AddNumberToObject(root, "now_ms", (double)now_ms) &&
              cJSON_AddStringToObject(root, "mode",
                                      replay                   ? "replay_speed"
                                      : mode == OW_MODE_REPLAY ? "replay"
                                                               : "live") &&
              (open = cJSON_AddObjectToObject(root, "open")) != NULL;
    for (int p = 0; ok && p < OW_PRIO__COUNT; p++)
        ok = cJSON_AddNumberToObject(open, ow_priority_name((ow_priority)p), (double)t->open[p]) !=
             NULL;
    ok = ok && cJSON_AddNumberToObject(open, "total", (double)t->open_total) &&
         cJSON_AddNumberToObject(root, "orders_known", (double)t->orders_known) &&
         cJSON_AddNumberToObject(root, "events_applied", (double)t->events_applied) &&
         add_time(root, "last_event", t->last_event_ms) &&
         cJSON_AddNumberToObject(root, "complaints_open", (double)t->complaints_open);
    ok = ok && (x = cJSON_AddObjectToObject(root, "techs")) != NULL;
    for (int st = 0; ok && st < OW_TECH__COUNT; st++)
        ok = cJSON_AddNumberToObject(x, ow_tech_status_name((ow_tech_status)st),
                                     (double)t->techs_by_status[st]) != NULL;
    cJSON *alerts, *levels;
    ok = ok && (alerts = cJSON_AddObjectToObject(root, "alerts")) != NULL &&
         cJSON_AddNumberToObject(alerts, "raised", (double)t->alerts_raised) &&
         (levels = cJSON_AddArrayToObject(alerts, "open_by_level")) != NULL;
    for (int l = 0; ok && l < 4; l++)
        ok = cJSON_AddItemToArray(levels, cJSON_CreateNumber((double)t->alerts_open_by_level[l]));

    /* the orders with the earliest breaches hold the most urgent clocks; their other running
     * clocks compete too, so a few more orders than rows are read */
    collect c = {.n = 0};
    ow_state_each_urgent(s, OW_PICTURE_URGENT, visit, &c);
    cJSON *list;
    ok = ok && (list = cJSON_AddArrayToObject(root, "urgent")) != NULL;
    for (int i = 0; ok && i < c.n; i++) {
        const urgent *u = &c.top[i];
        cJSON *e = cJSON_CreateObject();
        ok = e && cJSON_AddItemToArray(list, e) &&
             cJSON_AddStringToObject(e, "order_id", u->order_id) &&
             cJSON_AddStringToObject(e, "region", u->region) &&
             cJSON_AddStringToObject(e, "priority", ow_priority_name(u->prio)) &&
             cJSON_AddStringToObject(e, "stage", ow_alert_stage_name(u->stage)) &&
             add_time(e, "breach_at", u->breach_at) &&
             cJSON_AddNumberToObject(e, "level", u->level) && add_time(e, "next_at", u->next_at) &&
             cJSON_AddNumberToObject(e, "next_pct", u->next_pct);
    }
    if (ok && stream_last) ok = cJSON_AddStringToObject(root, "stream_last", stream_last) != NULL;
    cJSON *rp;
    if (ok && replay)
        ok = (rp = cJSON_AddObjectToObject(root, "replay")) != NULL &&
             cJSON_AddNumberToObject(rp, "speed", replay->speed) &&
             add_time(rp, "start", replay->start_ms) && add_time(rp, "end", replay->end_ms) &&
             cJSON_AddNumberToObject(rp, "start_ms", (double)replay->start_ms) &&
             cJSON_AddNumberToObject(rp, "end_ms", (double)replay->end_ms) &&
             cJSON_AddNumberToObject(
                 rp, "progress_pct",
                 (double)(int64_t)(ow_replay_progress_pct(replay, now_ms) * 10) / 10.0);
    ok = ok && add_analytics(root, s, now_ms);
    return finish(root, ok);
}

char *ow_picture_order(const ow_state *s, const char *order_id, int64_t now_ms)
{
    ow_order_view v;
    if (!ow_state_order(s, order_id, &v)) return NULL;
    cJSON *root = cJSON_CreateObject(), *clocks;
    if (!root) return NULL;
    bool ok = cJSON_AddStringToObject(root, "order_id", v.id) &&
              cJSON_AddStringToObject(root, "region", v.region) &&
              cJSON_AddStringToObject(root, "category", v.category) &&
              cJSON_AddStringToObject(root, "priority", ow_priority_name(v.priority)) &&
              cJSON_AddStringToObject(root, "given_priority", ow_priority_name(v.given_priority)) &&
              cJSON_AddStringToObject(root, "segment", ow_segment_name(v.segment)) &&
              cJSON_AddBoolToObject(root, "open", v.open) &&
              cJSON_AddBoolToObject(root, "paused", v.paused) && add_time(root, "now", now_ms) &&
              (clocks = cJSON_AddArrayToObject(root, "clocks")) != NULL;
    static const char *const states[] = {"idle", "running", "stopped"};
    for (int st = 0; ok && st < v.nclocks; st++) {
        const ow_clock_view *cv = &v.clocks[st];
        cJSON *e = cJSON_CreateObject(), *alerts;
        ok = e && cJSON_AddItemToArray(clocks, e) &&
             cJSON_AddStringToObject(e, "stage", ow_alert_stage_name(st)) &&
             cJSON_AddStringToObject(e, "state", states[cv->state]) &&
             cJSON_AddNumberToObject(e, "instance", cv->instance) &&
             add_time(e, "start", cv->start) && add_time(e, "stop", cv->stop) &&
             cJSON_AddNumberToObject(e, "target_s", (double)(cv->target_ms / 1000)) &&
             add_time(e, "breach_at", cv->breach_at) && add_time(e, "next_at", cv->next_at) &&
             (alerts = cJSON_AddArrayToObject(e, "alerts")) != NULL;
        for (int k = 0; ok && k < OW_SLA_THRESHOLDS; k++) {
            if (!(cv->fired & (1u << k))) continue;
            char id[OW_ALERT_ID_BUF];
            ow_alert_sla_id(id, false, v.id, st, cv->instance, ow_sla_pct[k]);
            const ow_ack *ack = ow_acks_get(ow_state_acks(s), id);
            cJSON *a = cJSON_CreateObject();
            ok = a && cJSON_AddItemToArray(alerts, a) && cJSON_AddStringToObject(a, "id", id) &&
                 cJSON_AddNumberToObject(a, "pct", ow_sla_pct[k]) &&
                 cJSON_AddNumberToObject(a, "level", ow_sla_level[k]) &&
                 cJSON_AddBoolToObject(a, "open", (cv->open & (1u << k)) != 0) &&
                 cJSON_AddBoolToObject(a, "acked", ack != NULL);
        }
    }
    return finish(root, ok);
}

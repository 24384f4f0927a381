#include "picture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
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

/* The slow members: the analytics tables, then the flags and escalations, each as JSON text in
 * cache->text[m] (replaced). */
enum { SLOW_FLAGS = M__COUNT, SLOW_ESCALATIONS, SLOW__COUNT };
_Static_assert(SLOW__COUNT == OW_PICTURE_SLOW_MEMBERS, "picture.h counts the slow members");

static bool add_flags(cJSON *root, const ow_state *s);
static bool add_escalations(cJSON *root, const ow_state *s);

const char *ow_picture_member_name(int m)
{
    static const char *const extra[] = {"flags", "escalations"};
    if (m < 0 || m >= SLOW__COUNT) return NULL;
    return m < M__COUNT ? member_names[m] : extra[m - M__COUNT];
}

char *ow_picture_member(const ow_state *s, int m, int64_t now_ms)
{
    if (m < 0 || m >= SLOW__COUNT) return NULL;
    if (m < M__COUNT) {
        ow_jsonw w;
        ow_jsonw_init(&w);
        write_member(&w, m, s, now_ms);
        char *text = w.out.oom ? NULL : strdup(w.out.p);
        ow_jsonw_fini(&w);
        return text;
    }
    /* flags and escalations are built as cJSON trees and kept as their text */
    cJSON *tmp = cJSON_CreateObject();
    bool ok = tmp && (m == SLOW_FLAGS ? add_flags(tmp, s) : add_escalations(tmp, s));
    char *text = ok ? cJSON_PrintUnformatted(ow_json_get(tmp, ow_picture_member_name(m))) : NULL;
    char *copy = text ? strdup(text) : NULL;
    cJSON_free(text);
    cJSON_Delete(tmp);
    return copy;
}

static bool build_slow(ow_picture_cache *c, const ow_state *s, int64_t now_ms)
{
    bool ok = true;
    for (int m = 0; ok && m < SLOW__COUNT; m++) {
        free(c->text[m]);
        ok = (c->text[m] = ow_picture_member(s, m, now_ms)) != NULL;
    }
    c->events = ow_state_totals_get(s)->events_applied;
    c->built = ok;
    return ok;
}

static bool add_slow(cJSON *root, const ow_picture_cache *c)
{
    bool ok = cJSON_AddNumberToObject(root, "analytics_events", (double)c->events) != NULL;
    for (int m = 0; ok && m < SLOW__COUNT; m++)
        ok = cJSON_AddRawToObject(root, ow_picture_member_name(m), c->text[m]) != NULL;
    return ok;
}

/* `part`: what the readers of a partitioned deployment need beyond the members to merge this
 * partition's picture with the others exactly (docs/snapshot.md), built with the slow members. */
static bool add_part(cJSON *root, const ow_state *s, const ow_picture_opts *o, ow_picture_cache *c,
                     bool fresh)
{
    if (fresh || !c->part) {
        int nopen;
        const int64_t *open = ow_heat_open(ow_state_heat(s), &nopen);
        ow_jsonw w;
        ow_jsonw_init(&w);
        ow_jsonw_open(&w);
        ow_jsonw_key(&w, "p"), ow_jsonw_int(&w, o->partition);
        ow_jsonw_key(&w, "of"), ow_jsonw_int(&w, o->partitions);
        ow_jsonw_key(&w, "kpi");
        ow_kpi_write_part(ow_state_kpi(s), &w, nopen > 0 ? open[0] : 0);
        ow_jsonw_close(&w);
        free(c->part);
        c->part = w.out.oom ? NULL : strdup(w.out.p);
        ow_jsonw_fini(&w);
    }
    return c->part && cJSON_AddRawToObject(root, "part", c->part) != NULL;
}

void ow_picture_cache_fini(ow_picture_cache *c)
{
    free(c->part);
    c->part = NULL;
    for (int m = 0; m < OW_PICTURE_SLOW_MEMBERS; m++) {
        free(c->text[m]);
        c->text[m] = NULL;
    }
    c->built = false;
}

/* ---- flags: the raised root-cause flags, newest first ---- */

typedef struct flag_list {
    cJSON *arr;
    int n;
    bool ok;
} flag_list;

static bool add_flag(const ow_flag_view *v, void *arg)
{
    flag_list *l = arg;
    cJSON *e = cJSON_CreateObject();
    l->ok = e && cJSON_AddItemToArray(l->arr, e) && cJSON_AddStringToObject(e, "id", v->id) &&
            cJSON_AddStringToObject(e, "flag", v->flag) &&
            cJSON_AddStringToObject(e, "region", v->region) && add_time(e, "at", v->at) &&
            cJSON_AddNumberToObject(e, "level", v->level) &&
            cJSON_AddStringToObject(e, "summary", v->summary) &&
            cJSON_AddRawToObject(e, "evidence", v->evidence); /* JSON the flags wrote */
    return l->ok && ++l->n < OW_PICTURE_FLAGS;
}

/* ---- escalations: open alerts (SLA and flag), highest level first, then oldest ---- */

typedef struct esc {
    ow_alert a;
    char id[OW_ALERT_ID_BUF];
    bool acked;
    char by[OW_NAME_BUF];
} esc;

typedef struct esc_top {
    esc v[OW_PICTURE_ESCALATIONS];
    int n;
} esc_top;

static bool esc_before(const ow_alert *a, const char *aid, const esc *b)
{
    if (a->level != b->a.level) return a->level > b->a.level;
    if (a->at != b->a.at) return a->at < b->a.at;
    return strcmp(aid, b->id) < 0;
}

static bool take_esc(const ow_alert *a, const ow_ack *ack, void *arg)
{
    esc_top *t = arg;
    char id[OW_ALERT_ID_BUF];
    ow_alert_id(a, id);
    if (t->n == OW_PICTURE_ESCALATIONS && !esc_before(a, id, &t->v[t->n - 1])) return true;
    int i = t->n < OW_PICTURE_ESCALATIONS ? t->n++ : t->n - 1;
    while (i > 0 && esc_before(a, id, &t->v[i - 1])) {
        t->v[i] = t->v[i - 1];
        i--;
    }
    esc *e = &t->v[i];
    e->a = *a;
    memcpy(e->id, id, sizeof id);
    e->acked = ack != NULL;
    snprintf(e->by, sizeof e->by, "%s", ack ? ack->by : "");
    return true;
}

static const char *owner_role(int level)
{
    return level >= 3 ? "manager" : level == 2 ? "supervisor" : "dispatcher";
}

static bool add_escalations(cJSON *root, const ow_state *s)
{
    esc_top *t = malloc(sizeof *t);
    cJSON *arr = cJSON_AddArrayToObject(root, "escalations");
    bool ok = t && arr;
    if (ok) t->n = 0, ow_state_each_top_alert(s, OW_PICTURE_ESCALATIONS, take_esc, t);
    for (int i = 0; ok && i < t->n; i++) {
        const esc *e = &t->v[i];
        cJSON *o = cJSON_CreateObject();
        bool sla = e->a.kind == OW_ALERT_SLA;
        ok = o && cJSON_AddItemToArray(arr, o) && cJSON_AddStringToObject(o, "id", e->id) &&
             cJSON_AddStringToObject(o, "kind", sla ? "sla" : "flag") &&
             cJSON_AddNumberToObject(o, "level", e->a.level) && add_time(o, "at", e->a.at) &&
             cJSON_AddStringToObject(o, "region", e->a.region ? e->a.region : "");
        if (ok && sla)
            ok = cJSON_AddStringToObject(o, "stage", ow_alert_stage_name(e->a.stage)) &&
                 cJSON_AddStringToObject(o, e->a.complaint ? "complaint_id" : "order_id",
                                         e->a.subject);
        else if (ok)
            ok = cJSON_AddStringToObject(o, "flag", e->a.flag ? e->a.flag : "") != NULL;
        ok = ok && cJSON_AddStringToObject(o, "owner", owner_role(e->a.level)) &&
             cJSON_AddBoolToObject(o, "acked", e->acked) &&
             (!e->acked || cJSON_AddStringToObject(o, "ack_by", e->by));
    }
    free(t);
    return ok;
}

char *ow_picture_snapshot(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode)
{
    return ow_picture_build(s, seq, now_ms, mode, NULL);
}

char *ow_picture_snapshot_at(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode,
                             const char *stream_last)
{
    ow_picture_opts o = {.stream_last = stream_last};
    return ow_picture_build(s, seq, now_ms, mode, &o);
}

char *ow_picture_snapshot_replay(const ow_state *s, int64_t seq, int64_t now_ms,
                                 const char *stream_last, const ow_replay *replay)
{
    ow_picture_opts o = {.stream_last = stream_last, .replay = replay};
    return ow_picture_build(s, seq, now_ms, OW_MODE_REPLAY, &o);
}

char *ow_picture_build(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode,
                       const ow_picture_opts *o)
{
    cJSON *root = ow_picture_build_tree(s, seq, now_ms, mode, o);
    return root ? finish(root, true) : NULL;
}

cJSON *ow_picture_build_tree(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode,
                             const ow_picture_opts *o)
{
    const char *stream_last = o ? o->stream_last : NULL;
    const ow_replay *replay = o ? o->replay : NULL;
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
    if (ok) {
        /* the slow members: rebuilt when asked (or without a cache), else the cached ones */
        ow_picture_cache own = {0}, *pc = o && o->cache ? o->cache : &own;
        bool fresh = !pc->built || pc == &own || o->refresh;
        if (fresh) ok = build_slow(pc, s, now_ms);
        ok = ok && add_slow(root, pc);
        if (ok && o && o->partitions > 1) ok = add_part(root, s, o, pc, fresh);
        if (pc == &own) ow_picture_cache_fini(&own);
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static bool add_flags(cJSON *root, const ow_state *s)
{
    flag_list fls = {.arr = cJSON_AddArrayToObject(root, "flags"), .ok = true};
    if (!fls.arr) return false;
    ow_flags_each_open(ow_state_flags(s), OW_PICTURE_FLAGS, add_flag, &fls);
    return fls.ok;
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
    flag_list fls = {.arr = ok ? cJSON_AddArrayToObject(root, "flags") : NULL, .ok = true};
    ok = ok && fls.arr;
    if (ok) ow_flags_each_of_order(s, order_id, add_flag, &fls);
    ok = ok && fls.ok;
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

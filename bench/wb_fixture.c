#include "wb_fixture.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "timefmt.h"

#define M_PER_DEG_LAT 111195.0

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t next(rng *r)
{
    /* splitmix64: tiny, seedable, good enough for test pictures */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uni(rng *r)
{
    return (double)(next(r) >> 11) / (double)(1ull << 53);
}

static int pick(rng *r, int n)
{
    return n > 0 ? (int)(next(r) % (uint64_t)n) : 0;
}

ow_wb_fixture_params ow_wb_fixture_rainstorm(int64_t now_ms)
{
    return (ow_wb_fixture_params){.seed = 7,
                                  .seq = 4242,
                                  .now_ms = now_ms,
                                  .open_total = 200000,
                                  .techs = 5000,
                                  .flags = 50,
                                  .escalations = 30,
                                  .cell_m = 500};
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
    char t[OW_TIME_TEXT_MAX];
    ow_time_format(ms, t);
    cJSON_AddStringToObject(o, key, t);
}

static cJSON *bbox_json(const double b[4])
{
    return cJSON_CreateDoubleArray(b, 4);
}

/* A point inside region `ri` (rejection sampling in its bbox; its center after 64 misses). */
static void point_in(const ow_regions *city, int ri, rng *r, double *lon, double *lat)
{
    const ow_region *g = &city->v[ri];
    for (int i = 0; i < 64; i++) {
        double x = g->bbox[0] + uni(r) * (g->bbox[2] - g->bbox[0]);
        double y = g->bbox[1] + uni(r) * (g->bbox[3] - g->bbox[1]);
        if (ow_regions_locate(city, x, y) == ri) {
            *lon = x;
            *lat = y;
            return;
        }
    }
    *lon = g->center.lon;
    *lat = g->center.lat;
}

/* A KPI block whose values depend on the region's load (0 calm .. 1 flooded). */
static cJSON *kpi_block(rng *r, double load, double scale, int64_t backlog)
{
    cJSON *b = cJSON_CreateObject();
    double resp = 900 + 2600 * load + 300 * uni(r);
    cJSON_AddNumberToObject(b, "created", round(scale * (60 + 140 * load + 20 * uni(r))));
    cJSON_AddNumberToObject(b, "resolved", round(scale * (55 + 60 * (1 - load) + 20 * uni(r))));
    cJSON_AddNumberToObject(b, "response_mean_s", round(resp * 0.6));
    cJSON_AddNumberToObject(b, "response_p90_s", round(resp));
    cJSON_AddNumberToObject(b, "dispatch_mean_s", round(200 + 500 * load));
    cJSON_AddNumberToObject(b, "dispatch_p90_s", round(500 + 1100 * load + 100 * uni(r)));
    cJSON_AddNumberToObject(b, "first_visit_fix_pct",
                            round(10 * (88 - 12 * load + 2 * uni(r))) / 10);
    cJSON_AddNumberToObject(b, "repeat_visit_pct", round(10 * (3 + 5 * load * uni(r))) / 10);
    cJSON_AddNumberToObject(b, "complaint_rate_pct", round(10 * (1.5 + 3 * load)) / 10);
    cJSON_AddNumberToObject(b, "csat", round(10 * (92 - 14 * load + 2 * uni(r))) / 10);
    cJSON_AddNumberToObject(b, "nps", round(45 - 30 * load + 5 * uni(r)));
    cJSON *sla = cJSON_AddObjectToObject(b, "sla_compliance_pct");
    static const char *const stages[] = {"dispatch",   "accept",   "response", "arrival",
                                         "resolution", "callback", "complaint"};
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++)
        cJSON_AddNumberToObject(sla, stages[i],
                                round(10 * (99 - (20 + 6 * i) * load * uni(r))) / 10);
    cJSON_AddNumberToObject(b, "backlog", (double)backlog);
    cJSON_AddNumberToObject(b, "utilisation_pct", round(10 * (60 + 38 * load)) / 10);
    cJSON_AddNumberToObject(b, "orders_per_tech", round(10 * (2 + 30 * load)) / 10);
    return b;
}

static void add_targets(cJSON *root)
{
    static const struct {
        const char *key;
        double target;
        const char *better;
    } t[] = {
        {"response_p90_s", 3600, "lower"},
        {"response_mean_s", 1800, "lower"},
        {"dispatch_p90_s", 900, "lower"},
        {"dispatch_mean_s", 300, "lower"},
        {"first_visit_fix_pct", 85, "higher"},
        {"repeat_visit_pct", 5, "lower"},
        {"complaint_rate_pct", 3, "lower"},
        {"csat", 85, "higher"},
        {"nps", 30, "higher"},
        {"sla_compliance_pct.response", 95, "higher"},
        {"sla_compliance_pct.arrival", 90, "higher"},
        {"sla_compliance_pct.resolution", 90, "higher"},
        {"utilisation_pct", 85, "lower"},
        {"backlog", 5000, "lower"},
    };
    cJSON *o = cJSON_AddObjectToObject(root, "kpi_targets");
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        cJSON *e = cJSON_AddObjectToObject(o, t[i].key);
        cJSON_AddNumberToObject(e, "target", t[i].target);
        cJSON_AddStringToObject(e, "better", t[i].better);
    }
}

static const char *const flag_kinds[] = {
    "surge",
    "understaffed",
    "backlog",
    "duplicate_dispatch",
    "neglected_region",
    "overload",
    "far_dispatch",
    "stale_technician",
    "parts_wait",
    "repeat_visit",
    "skill_mismatch",
    "complaint_cluster",
};

static void flag_summary(char *out, size_t n, const char *kind, const char *region, rng *r)
{
    int a = 10 + pick(r, 40), b = 2 + pick(r, 9);
    if (strcmp(kind, "surge") == 0)
        snprintf(out, n, "%s: %d orders in 30 min, %.1f× the 6 h rate", region, a, 3.0 + b / 2.0);
    else if (strcmp(kind, "understaffed") == 0)
        snprintf(out, n, "%s: %d open orders, %.1f per available technician", region, a * 20,
                 5.0 + b);
    else if (strcmp(kind, "backlog") == 0)
        snprintf(out, n, "%s: %d open orders (threshold 50)", region, a * 100);
    else if (strcmp(kind, "duplicate_dispatch") == 0)
        snprintf(out, n, "o%06d and o%06d: same address, both dispatched", pick(r, 999999),
                 pick(r, 999999));
    else if (strcmp(kind, "neglected_region") == 0)
        snprintf(out, n, "o%06d waits %d min undispatched; %d idle technicians elsewhere",
                 pick(r, 999999), a, b);
    else if (strcmp(kind, "overload") == 0)
        snprintf(out, n, "t%04d holds %d active orders", pick(r, 5000), 4 + b);
    else if (strcmp(kind, "far_dispatch") == 0)
        snprintf(out, n, "o%06d: t%04d is %.1f km away, t%04d idle at %.1f km", pick(r, 999999),
                 pick(r, 5000), 4.0 + b, pick(r, 5000), 0.5 + b / 10.0);
    else if (strcmp(kind, "stale_technician") == 0)
        snprintf(out, n, "t%04d en route, no location for %d min", pick(r, 5000), a);
    else if (strcmp(kind, "parts_wait") == 0)
        snprintf(out, n, "o%06d paused for sku P-%03d for %d h", pick(r, 999999), pick(r, 400), b);
    else if (strcmp(kind, "repeat_visit") == 0)
        snprintf(out, n, "o%06d: same address and category as o%06d, resolved %d d ago",
                 pick(r, 999999), pick(r, 999999), b);
    else if (strcmp(kind, "skill_mismatch") == 0)
        snprintf(out, n, "o%06d needs drain_camera; t%04d lacks it", pick(r, 999999),
                 pick(r, 5000));
    else
        snprintf(out, n, "drain: %d complaints in 24 h, %.1f× the 7-day mean", a, 1.2 + b / 5.0);
}

static void add_flags(cJSON *root, const ow_regions *city, const ow_wb_fixture_params *p, rng *r)
{
    cJSON *arr = cJSON_AddArrayToObject(root, "flags");
    for (int i = 0; i < p->flags; i++) {
        const char *kind = flag_kinds[pick(r, (int)(sizeof flag_kinds / sizeof flag_kinds[0]))];
        const char *region = city->v[pick(r, city->n)].id;
        int64_t at = p->now_ms - (int64_t)i * 47000 - pick(r, 30000);
        char id[160], summary[200], t[OW_TIME_TEXT_MAX];
        ow_time_format(at, t);
        snprintf(id, sizeof id, "flag:%s:%s:%s", kind, region, t);
        flag_summary(summary, sizeof summary, kind, region, r);
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "id", id);
        cJSON_AddStringToObject(f, "flag", kind);
        cJSON_AddStringToObject(f, "region", region);
        add_time(f, "at", at);
        cJSON_AddNumberToObject(f, "level", i % 5 == 0 ? 3 : i % 2 ? 2 : 1);
        cJSON_AddStringToObject(f, "summary", summary);
        cJSON *ev = cJSON_AddObjectToObject(f, "evidence");
        cJSON_AddArrayToObject(ev, "orders");
        cJSON_AddArrayToObject(ev, "techs");
        cJSON_AddItemToObject(ev, "regions", cJSON_CreateStringArray(&region, 1));
        cJSON_AddItemToArray(arr, f);
    }
}

static void add_escalations(cJSON *root, const ow_regions *city, const ow_wb_fixture_params *p,
                            rng *r)
{
    static const char *const owners[4] = {"dispatcher", "dispatcher", "supervisor", "manager"};
    static const char *const stages[] = {"dispatch", "response", "arrival", "resolution", "accept"};
    static const char *const people[] = {"li.wei", "wang.fang", "zhang.min", "chen.jie"};
    cJSON *arr = cJSON_AddArrayToObject(root, "escalations");
    /* highest level first, then oldest */
    for (int i = 0; i < p->escalations; i++) {
        int level = i < p->escalations / 5 ? 3 : i < p->escalations * 3 / 5 ? 2 : 1;
        int64_t at = p->now_ms - (int64_t)(p->escalations - i) * 61000 - pick(r, 20000);
        cJSON *e = cJSON_CreateObject();
        char id[96];
        bool is_flag = i % 7 == 3;
        snprintf(id, sizeof id, "%s:o%06d:%d", is_flag ? "flag" : "sla", pick(r, 999999), i);
        cJSON_AddStringToObject(e, "id", id);
        cJSON_AddStringToObject(e, "kind", is_flag ? "flag" : "sla");
        cJSON_AddNumberToObject(e, "level", level);
        add_time(e, "at", at);
        cJSON_AddStringToObject(e, "region", city->v[pick(r, city->n)].id);
        if (is_flag) {
            cJSON_AddStringToObject(e, "flag", flag_kinds[i % 3]);
        } else {
            char order[32];
            snprintf(order, sizeof order, "o%06d", pick(r, 999999));
            cJSON_AddStringToObject(e, "stage", stages[pick(r, 5)]);
            cJSON_AddStringToObject(e, "order_id", order);
        }
        cJSON_AddStringToObject(e, "owner", owners[level]);
        bool acked = i % 3 == 1;
        cJSON_AddBoolToObject(e, "acked", acked);
        if (acked) cJSON_AddStringToObject(e, "ack_by", people[pick(r, 4)]);
        cJSON_AddItemToArray(arr, e);
    }
}

static void add_urgent(cJSON *root, const ow_regions *city, const ow_wb_fixture_params *p, rng *r)
{
    static const char *const stages[] = {"dispatch", "response", "arrival", "accept", "resolution"};
    cJSON *arr = cJSON_AddArrayToObject(root, "urgent");
    int64_t at = p->now_ms - 9 * 60000; /* the first few are already breached */
    for (int i = 0; i < 20; i++) {
        at += 20000 + pick(r, 120000);
        cJSON *e = cJSON_CreateObject();
        char order[32];
        snprintf(order, sizeof order, "o%06d", pick(r, 999999));
        cJSON_AddStringToObject(e, "order_id", order);
        cJSON_AddStringToObject(e, "region", city->v[pick(r, city->n)].id);
        cJSON_AddStringToObject(e, "priority", ow_priority_name((ow_priority)(i % 4 ? 0 : 1)));
        cJSON_AddStringToObject(e, "stage", stages[pick(r, 5)]);
        add_time(e, "breach_at", at);
        int level = at <= p->now_ms ? 2 : at - p->now_ms < 180000 ? 1 : 0;
        cJSON_AddNumberToObject(e, "level", level);
        add_time(e, "next_at", at <= p->now_ms ? at + 300000 : at);
        cJSON_AddNumberToObject(e, "next_pct", at <= p->now_ms ? 150 : 100);
        cJSON_AddItemToArray(arr, e);
    }
}

static void add_spark(cJSON *root, const ow_wb_fixture_params *p, rng *r)
{
    cJSON *s = cJSON_AddObjectToObject(root, "spark");
    cJSON_AddNumberToObject(s, "bucket_s", 300);
    add_time(s, "end", p->now_ms);
    cJSON *series = cJSON_AddObjectToObject(s, "series");
    double v[5][48];
    double open = (double)p->open_total * 0.55;
    for (int i = 0; i < 48; i++) {
        double storm = i < 12 ? 0.2 : 1.0 + 0.6 * sin(i / 7.0);
        double created = (double)p->open_total / 48 * 0.2 * storm * (0.8 + 0.4 * uni(r));
        double resolved = created * (0.5 + 0.2 * uni(r));
        open += created - resolved;
        v[0][i] = round(created);
        v[1][i] = round(resolved);
        v[2][i] = round(open);
        v[3][i] = round(created * 0.05 * storm);
        v[4][i] = round(created * 0.09 * storm + 3 * uni(r));
    }
    static const char *const names[5] = {"created", "resolved", "open", "breaches", "alerts"};
    for (int k = 0; k < 5; k++)
        cJSON_AddItemToObject(series, names[k], cJSON_CreateDoubleArray(v[k], 48));
}

char *ow_wb_fixture_make(const ow_regions *city, const char *city_name,
                         const ow_wb_fixture_params *p)
{
    rng r = {p->seed * 0x2545F4914F6CDD1Dull + 1};
    const int nr = city->n;
    cJSON *root = cJSON_CreateObject();
    if (!root || nr <= 0) {
        cJSON_Delete(root);
        return NULL;
    }
    cJSON_AddNumberToObject(root, "v", 1);
    cJSON_AddStringToObject(root, "type", "snapshot");
    cJSON_AddNumberToObject(root, "seq", (double)p->seq);
    add_time(root, "now", p->now_ms);
    cJSON_AddNumberToObject(root, "now_ms", (double)p->now_ms);
    cJSON_AddStringToObject(root, "mode", p->replay_speed > 0 ? "replay_speed" : "live");

    /* load per region: the low-lying half of the city floods */
    double *load = calloc((size_t)nr, sizeof *load);
    int64_t *open = calloc((size_t)nr, sizeof *open);
    int64_t(*techs)[OW_TECH__COUNT] = calloc((size_t)nr, sizeof *techs);
    if (!load || !open || !techs) goto oom;
    double load_sum = 0;
    for (int i = 0; i < nr; i++) {
        load[i] = i % 2 ? 0.85 + 0.15 * uni(&r) : 0.25 + 0.3 * uni(&r);
        load_sum += load[i];
    }
    int64_t given = 0;
    for (int i = 0; i < nr; i++) {
        open[i] = i == nr - 1 ? p->open_total - given
                              : (int64_t)((double)p->open_total * load[i] / load_sum);
        given += open[i];
    }
    cJSON *o = cJSON_AddObjectToObject(root, "open");
    int64_t em = p->open_total / 9, im = p->open_total * 3 / 10;
    cJSON_AddNumberToObject(o, "emergency", (double)em);
    cJSON_AddNumberToObject(o, "important", (double)im);
    cJSON_AddNumberToObject(o, "general", (double)(p->open_total - em - im));
    cJSON_AddNumberToObject(o, "total", (double)p->open_total);
    cJSON_AddNumberToObject(root, "orders_known", (double)(p->open_total * 3 + 12345));
    cJSON_AddNumberToObject(root, "events_applied", (double)(p->open_total * 11 + p->seq * 17));
    add_time(root, "last_event", p->now_ms - 180);
    cJSON_AddNumberToObject(root, "complaints_open", (double)(p->open_total / 400));

    /* technicians: positions inside their regions, statuses skewed by load */
    cJSON *tp = NULL, *list = NULL;
    ow_wb_fixture_params q = *p;
    if (q.minimal) q.techs = 0;
    if (!q.minimal) {
        tp = cJSON_AddObjectToObject(root, "techs_pos");
        add_time(tp, "at", p->now_ms - 1500);
        list = cJSON_AddArrayToObject(tp, "list");
    }
    int64_t tech_total[OW_TECH__COUNT] = {0};
    double *tlon = malloc(sizeof(double) * (size_t)(q.techs + 1));
    double *tlat = malloc(sizeof(double) * (size_t)(q.techs + 1));
    int *tstat = malloc(sizeof(int) * (size_t)(q.techs + 1));
    if (!tlon || !tlat || !tstat) goto oom_t;
    double area_sum = 0;
    for (int i = 0; i < nr; i++)
        area_sum += city->v[i].area_m2;
    for (int i = 0; i < q.techs; i++) {
        /* technicians spread by area, as a city's are */
        int ri = pick(&r, nr);
        if (area_sum > 0) {
            double a = uni(&r) * area_sum;
            for (ri = 0; ri < nr - 1 && a >= city->v[ri].area_m2; ri++)
                a -= city->v[ri].area_m2;
        }
        double u = uni(&r), l = load[ri];
        int st = u < 0.06                   ? OW_TECH_OFFLINE
                 : u < 0.06 + 0.3 * (1 - l) ? OW_TECH_IDLE
                 : u < 0.5 + 0.1 * (1 - l)  ? OW_TECH_ENROUTE
                 : u < 0.93                 ? OW_TECH_ONSITE
                                            : OW_TECH_BREAK;
        point_in(city, ri, &r, &tlon[i], &tlat[i]);
        tstat[i] = st;
        techs[ri][st]++;
        tech_total[st]++;
        char id[16];
        snprintf(id, sizeof id, "t%04d", i);
        cJSON *row = cJSON_CreateArray();
        cJSON_AddItemToArray(row, cJSON_CreateString(id));
        cJSON_AddItemToArray(row, cJSON_CreateNumber(round(tlon[i] * 1e5) / 1e5));
        cJSON_AddItemToArray(row, cJSON_CreateNumber(round(tlat[i] * 1e5) / 1e5));
        cJSON_AddItemToArray(row, cJSON_CreateString(ow_tech_status_name((ow_tech_status)st)));
        cJSON_AddItemToArray(row, cJSON_CreateString(city->v[ri].id));
        cJSON_AddItemToArray(list, row);
    }
    cJSON *t = cJSON_AddObjectToObject(root, "techs");
    for (int s = 0; s < OW_TECH__COUNT; s++)
        cJSON_AddNumberToObject(t, ow_tech_status_name((ow_tech_status)s), (double)tech_total[s]);
    cJSON *al = cJSON_AddObjectToObject(root, "alerts");
    cJSON_AddNumberToObject(al, "raised", (double)(p->open_total / 3));
    double lv[4] = {(double)p->open_total / 20, (double)p->open_total / 50,
                    (double)p->open_total / 80, (double)p->open_total / 300};
    cJSON_AddItemToObject(al, "open_by_level", cJSON_CreateDoubleArray(lv, 4));
    add_urgent(root, city, p, &r);

    cJSON *c = cJSON_AddObjectToObject(root, "city");
    cJSON_AddStringToObject(c, "name", city_name);
    cJSON_AddItemToObject(c, "bbox", bbox_json(city->bbox));

    cJSON *regs = cJSON_AddArrayToObject(root, "regions");
    for (int i = 0; i < nr; i++) {
        const ow_region *g = &city->v[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "id", g->id);
        cJSON_AddStringToObject(e, "name_en", g->name_en);
        cJSON_AddStringToObject(e, "name_zh", g->name_zh);
        double center[2] = {g->center.lon, g->center.lat};
        cJSON_AddItemToObject(e, "center", cJSON_CreateDoubleArray(center, 2));
        cJSON_AddNumberToObject(e, "open", (double)open[i]);
        cJSON_AddNumberToObject(e, "breached", (double)(open[i] * (int64_t)(load[i] * 30) / 100));
        cJSON_AddNumberToObject(e, "alerts_open", (double)(open[i] / 12));
        cJSON_AddNumberToObject(e, "backlog", (double)open[i]);
        cJSON *te = cJSON_AddObjectToObject(e, "techs");
        for (int s = 0; s < OW_TECH__COUNT; s++)
            cJSON_AddNumberToObject(te, ow_tech_status_name((ow_tech_status)s),
                                    (double)techs[i][s]);
        cJSON_AddItemToArray(regs, e);
    }
    if (q.minimal) goto done;

    /* KPIs, overall and per region */
    cJSON *kpi = cJSON_AddObjectToObject(root, "kpi");
    cJSON *ov = cJSON_AddObjectToObject(kpi, "overall");
    static const char *const windows[4] = {"1h", "today", "7d", "prev_1h"};
    static const double wload[4] = {0.75, 0.55, 0.25, 0.6}, wscale[4] = {1, 9, 60, 1};
    for (int w = 0; w < 4; w++)
        cJSON_AddItemToObject(ov, windows[w],
                              kpi_block(&r, wload[w], wscale[w] * nr, p->open_total));
    cJSON *kr = cJSON_AddObjectToObject(kpi, "regions");
    for (int i = 0; i < nr; i++) {
        cJSON *e = cJSON_AddObjectToObject(kr, city->v[i].id);
        for (int w = 0; w < 4; w++)
            cJSON_AddItemToObject(e, windows[w],
                                  kpi_block(&r, load[i] * wload[w] / 0.75, wscale[w], open[i]));
    }
    add_targets(root);

    /* heat grid over the city's bbox: open orders near the technicians' hot spots */
    {
        const double *b = city->bbox;
        double midlat = (b[1] + b[3]) / 2 * M_PI / 180;
        int cols = (int)ceil((b[2] - b[0]) * M_PER_DEG_LAT * cos(midlat) / p->cell_m);
        int rows = (int)ceil((b[3] - b[1]) * M_PER_DEG_LAT / p->cell_m);
        if (cols < 1) cols = 1;
        if (rows < 1) rows = 1;
        int32_t *avail = calloc((size_t)cols * (size_t)rows, sizeof *avail);
        if (!avail) goto oom_t;
        for (int i = 0; i < q.techs; i++) {
            int cx = (int)((tlon[i] - b[0]) / (b[2] - b[0]) * cols);
            int cy = (int)((tlat[i] - b[1]) / (b[3] - b[1]) * rows);
            if (cx >= 0 && cx < cols && cy >= 0 && cy < rows && tstat[i] == OW_TECH_IDLE)
                avail[cy * cols + cx]++;
        }
        cJSON *hg = cJSON_AddObjectToObject(root, "heat_grid");
        cJSON_AddNumberToObject(hg, "cell_m", p->cell_m);
        cJSON_AddItemToObject(hg, "bbox", bbox_json(b));
        cJSON_AddNumberToObject(hg, "cols", cols);
        cJSON_AddNumberToObject(hg, "rows", rows);
        cJSON *cells = cJSON_AddArrayToObject(hg, "cells");
        /* three storm centres */
        double cxs[3], cys[3];
        for (int k = 0; k < 3; k++) {
            cxs[k] = cols * (0.25 + 0.5 * uni(&r));
            cys[k] = rows * (0.2 + 0.6 * uni(&r));
        }
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < cols; x++) {
                double lon = b[0] + (x + 0.5) / cols * (b[2] - b[0]);
                double lat = b[1] + (y + 0.5) / rows * (b[3] - b[1]);
                int ri = ow_regions_locate(city, lon, lat);
                if (ri < 0) continue;
                double heat = 0.15 * load[ri];
                for (int k = 0; k < 3; k++) {
                    double d2 = ((x - cxs[k]) * (x - cxs[k]) + (y - cys[k]) * (y - cys[k])) /
                                (0.02 * cols * rows);
                    heat += exp(-d2);
                }
                int n = (int)round(heat * (double)p->open_total / (cols * rows) * 2.2 *
                                   (0.7 + 0.6 * uni(&r)));
                if (n <= 0 && avail[y * cols + x] == 0) continue;
                double cell[5] = {x, y, n, round(n * 0.3 * heat), avail[y * cols + x]};
                cJSON_AddItemToArray(cells, cJSON_CreateDoubleArray(cell, 5));
            }
        free(avail);
    }
    add_flags(root, city, p, &r);
    add_escalations(root, city, p, &r);
    add_spark(root, p, &r);
    if (p->replay_speed > 0) {
        cJSON *rp = cJSON_AddObjectToObject(root, "replay");
        cJSON_AddNumberToObject(rp, "speed", p->replay_speed);
        add_time(rp, "start", p->now_ms - 36 * 3600 * 1000);
        add_time(rp, "end", p->now_ms + 84 * 3600 * 1000);
        cJSON_AddNumberToObject(rp, "progress_pct", p->replay_progress_pct);
    }
done:
    cJSON_AddStringToObject(root, "stream_last", "1795310105120-0");
    free(tlon);
    free(tlat);
    free(tstat);
    free(load);
    free(open);
    free(techs);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) return NULL;
    char *copy = strdup(text);
    cJSON_free(text);
    return copy;
oom_t:
    free(tlon);
    free(tlat);
    free(tstat);
oom:
    free(load);
    free(open);
    free(techs);
    cJSON_Delete(root);
    return NULL;
}

/*
 * opswall-report — the daily or weekly service report from the event log (issue 5).
 *
 *   opswall-report [--config PATH] (--events FILE | --redis) [--day YYYY-MM-DD | --week YYYY-MM-DD]
 *                  [--out DIR]
 *
 * Events come from an NDJSON file (as opswall-ingest takes them) or from the Redis event log
 * (ops:{p0}:events, read with XRANGE, nothing written). They go through the engine's core in
 * replay time; --day reports that local day (the city's zone: analytics.time_zone, else the city
 * mapping's, else analytics.utc_offset_min), --week the 7 days from that date, each against the
 * period before (a day of 23 or 25 hours when the clocks change); without either, the last whole
 * local day (the day before the latest event's). Writes DIR/report.html (self-contained: charts
 * embedded as PNG), DIR/report.json and the charts as DIR/chart-*.png. Exit 0 written, 1 an input
 * or output error, 2 bad options.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "chart.h"
#include "files.h"
#include "keys.h"
#include "linereader.h"
#include "log.h"
#include "redis.h"
#include "report.h"
#include "timefmt.h"

#define DAY_MS (86400 * INT64_C(1000))

typedef struct source {
    const char *file; /* or NULL for Redis */
    const ow_config *cfg;
    int64_t bad, max_ts;
} source;

/* Every event of the source, in log order, to fn (stops at the first error it returns). */
static int each_event(source *src, int (*fn)(const ow_event *ev, void *arg), void *arg)
{
    ow_event *ev = malloc(sizeof *ev);
    ow_err err;
    int rc = OW_OK;
    if (!ev) return OW_ENOMEM;
    if (src->file) {
        FILE *f = fopen(src->file, "rb");
        if (!f) {
            ow_error("%s: cannot open", src->file);
            free(ev);
            return OW_EIO;
        }
        ow_linereader lr;
        if (ow_linereader_init(&lr, f, OW_EVENT_MAX_BYTES)) {
            fclose(f);
            free(ev);
            return OW_ENOMEM;
        }
        size_t len, total;
        while (!rc && ow_linereader_next(&lr, &len, &total)) {
            if (!total) continue;
            if (total > len || ow_event_parse(lr.buf, len, ev, &err)) {
                src->bad++;
                continue;
            }
            rc = fn(ev, arg);
        }
        ow_linereader_fini(&lr);
        fclose(f);
        free(ev);
        return rc;
    }
    ow_redis_env env;
    if (ow_redis_env_open(src->cfg, &env, &err)) {
        ow_error("%s", err.msg);
        free(ev);
        return OW_EREDIS;
    }
    redisContext *c = ow_redis_connect(&env, &err);
    char from[80] = "-";
    while (c && !rc) {
        redisReply *rep =
            ow_redis_cmd(c, &err, "XRANGE", "XRANGE %s %s + COUNT 5000", OW_KEY_EVENTS, from);
        if (!rep) break;
        size_t n = rep->type == REDIS_REPLY_ARRAY ? rep->elements : 0;
        for (size_t i = 0; i < n && !rc; i++) {
            const redisReply *e = rep->element[i], *fl = e->element[1];
            const redisReply *d = NULL;
            for (size_t j = 0; fl->type == REDIS_REPLY_ARRAY && j + 1 < fl->elements; j += 2)
                if (fl->element[j]->str && strcmp(fl->element[j]->str, "d") == 0)
                    d = fl->element[j + 1];
            if (!d || d->type != REDIS_REPLY_STRING || ow_event_parse(d->str, d->len, ev, &err))
                src->bad++;
            else
                rc = fn(ev, arg);
        }
        if (n) snprintf(from, sizeof from, "(%s", rep->element[n - 1]->element[0]->str);
        freeReplyObject(rep);
        if (n < 5000) break;
    }
    if (!c) {
        ow_error("%s", err.msg);
        rc = OW_EREDIS;
    } else {
        redisFree(c);
    }
    ow_redis_env_close(&env);
    free(ev);
    return rc;
}

static int latest(const ow_event *ev, void *arg)
{
    source *src = arg;
    if (ev->ts_ms > src->max_ts) src->max_ts = ev->ts_ms;
    return OW_OK;
}

static int feed(const ow_event *ev, void *arg)
{
    return ow_report_feed(arg, ev);
}

/* The UTC instant of local midnight of a YYYY-MM-DD date in the city's zone, or -1. */
static int64_t local_midnight(const char *date, const ow_tz *zone, int64_t fixed_ms)
{
    char text[64];
    snprintf(text, sizeof text, "%.10sT00:00:00Z", date); /* the date's midnight as local ms */
    int64_t ms;
    if (strlen(date) != 10 || ow_time_parse(text, strlen(text), &ms, NULL)) return -1;
    return ow_tz_midnight(zone, fixed_ms, ms);
}

/* Draw a chart to DIR/file and read it back as base64 for the page. */
typedef struct chart_out {
    ow_report_chart c[8];
    char *b64[8];
    int n;
} chart_out;

static int embed(chart_out *o, const char *dir, const char *file, const char *title)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *bytes;
    size_t len;
    ow_err err;
    if (ow_file_read(path, 64u << 20, &bytes, &len, &err)) {
        ow_error("%s", err.msg);
        return OW_EIO;
    }
    char *b64 = ow_base64((const unsigned char *)bytes, len);
    free(bytes);
    if (!b64) return OW_ENOMEM;
    o->b64[o->n] = b64;
    o->c[o->n] = (ow_report_chart){title, file, b64};
    o->n++;
    return OW_OK;
}

static int draw_charts(const ow_report *r, const ow_config *cfg, const char *dir, chart_out *o)
{
    ow_report_view v;
    ow_report_view_get(r, &v);
    char regular[1024], bold[1024];
    ow_config_path(cfg, "assets/fonts/DejaVuSans.ttf", regular, sizeof regular);
    ow_config_path(cfg, "assets/fonts/DejaVuSans-Bold.ttf", bold, sizeof bold);
    ow_err err;
    ow_chart_fonts *f = ow_chart_fonts_open(regular, bold, &err);
    if (!f) {
        ow_error("%s", err.msg);
        return OW_EIO;
    }
    char path[1024];
    int rc = OW_OK;
#define OUT(name) (snprintf(path, sizeof path, "%s/%s", dir, name), path)
    /* 1. created and resolved over the period */
    ow_bar_chart flow = {.title = v.kind == OW_REPORT_WEEK ? "Orders created and resolved per day"
                                                           : "Orders created and resolved per hour",
                         .y_label = "orders",
                         .ncats = v.nsteps,
                         .cats = v.step_labels,
                         .nseries = 2,
                         .series = {"created", "resolved"},
                         .values = {v.step_created, v.step_resolved},
                         .decimals = v.kind == OW_REPORT_WEEK ? 0 : -1};
    if (!rc && !(rc = ow_chart_bars(f, &flow, 960, 380, OUT("chart-flow.png"), &err)))
        rc = embed(o, dir, "chart-flow.png", flow.title);
    /* 2. SLA compliance per stage, this period and the previous one, against the target */
    const char *stages[OW_KPI_STAGES];
    double sc[OW_KPI_STAGES], sp[OW_KPI_STAGES];
    for (int st = 0; st < OW_KPI_STAGES; st++)
        stages[st] = ow_kpi_stage_name(st), sc[st] = v.cur[0].sla_pct[st],
        sp[st] = v.prev[0].sla_pct[st];
    ow_bar_chart sla = {.title = "SLA compliance per stage (whole city)",
                        .y_label = "% within target",
                        .ncats = OW_KPI_STAGES,
                        .cats = stages,
                        .nseries = 2,
                        .series = {"this period", "previous"},
                        .values = {sc, sp},
                        .target = (double)cfg->analytics.targets.sla_compliance_pct,
                        .has_target = true,
                        .y_max = 100,
                        .decimals = 0};
    if (!rc && !(rc = ow_chart_bars(f, &sla, 960, 380, OUT("chart-sla.png"), &err)))
        rc = embed(o, dir, "chart-sla.png", sla.title);
    /* 3. response time p90 per region */
    double *rc90 = calloc((size_t)v.nregions + 1, sizeof *rc90);
    double *rp90 = calloc((size_t)v.nregions + 1, sizeof *rp90);
    if (!rc90 || !rp90) rc = OW_ENOMEM;
    for (int i = 0; !rc && i < v.nregions; i++)
        rc90[i] = v.cur[i + 1].response_p90_s / 60, rp90[i] = v.prev[i + 1].response_p90_s / 60;
    ow_bar_chart resp = {.title = "Response time p90 per region (created → accepted)",
                         .y_label = "minutes",
                         .ncats = v.nregions,
                         .cats = v.region_ids,
                         .nseries = 2,
                         .series = {"this period", "previous"},
                         .values = {rc90, rp90},
                         .target = (double)cfg->analytics.targets.response_p90_s / 60,
                         .has_target = true,
                         .decimals = 0};
    if (!rc && !(rc = ow_chart_bars(f, &resp, 960, 380, OUT("chart-response.png"), &err)))
        rc = embed(o, dir, "chart-response.png", resp.title);
    free(rc90), free(rp90);
    /* 4. orders by region × local hour */
    const char *hours[24];
    char hour_text[24][4];
    for (int i = 0; i < 24; i++)
        snprintf(hour_text[i], sizeof hour_text[i], "%02d", i), hours[i] = hour_text[i];
    ow_heat_chart heat = {.title = "Orders created by region and local hour",
                          .rows = v.nregions,
                          .cols = 24,
                          .row_labels = v.region_ids,
                          .col_labels = hours,
                          .cells = v.region_hour,
                          .legend = "orders"};
    if (!rc && !(rc = ow_chart_heat(f, &heat, 960, 60 + 34 * (v.nregions ? v.nregions : 4) + 60,
                                    OUT("chart-region-hour.png"), &err)))
        rc = embed(o, dir, "chart-region-hour.png", heat.title);
    /* 5. complaint categories */
    int nc = v.ncats > 12 ? 12 : v.ncats;
    ow_bar_chart cats = {.title = "Complaints by category",
                         .y_label = "complaints",
                         .ncats = nc,
                         .cats = v.cat_names,
                         .nseries = 2,
                         .series = {"this period", "previous"},
                         .values = {v.cat_cur, v.cat_prev},
                         .decimals = 0};
    if (!rc && !(rc = ow_chart_bars(f, &cats, 960, 340, OUT("chart-complaints.png"), &err)))
        rc = embed(o, dir, "chart-complaints.png", cats.title);
#undef OUT
    if (rc && rc != OW_ENOMEM && err.msg[0]) ow_error("%s", err.msg);
    ow_chart_fonts_close(f);
    return rc;
}

static int write_text(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
        ow_error("%s: cannot write", path);
        return OW_EIO;
    }
    return OW_OK;
}

static int usage(int code)
{
    fprintf(code ? stderr : stdout,
            "usage: opswall-report [--config PATH] (--events FILE | --redis)\n"
            "                      [--day YYYY-MM-DD | --week YYYY-MM-DD] [--out DIR]\n");
    return code;
}

int main(int argc, char **argv)
{
    ow_log_init("report", OW_LOG_INFO);
    const char *events = NULL, *day = NULL, *week = NULL, *out = ".";
    bool redis = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool val = i + 1 < argc;
        if (strcmp(a, "--events") == 0 && val)
            events = argv[++i];
        else if (strcmp(a, "--redis") == 0)
            redis = true;
        else if (strcmp(a, "--day") == 0 && val)
            day = argv[++i];
        else if (strcmp(a, "--week") == 0 && val)
            week = argv[++i];
        else if (strcmp(a, "--out") == 0 && val)
            out = argv[++i];
        else if (strcmp(a, "--config") == 0 && val)
            i++;
        else
            return usage(strcmp(a, "--help") == 0 ? 0 : 2);
    }
    if (!events == !redis || (day && week)) return usage(2);
    ow_config cfg;
    ow_err err;
    if (ow_config_load(&cfg, ow_args_config(argc, argv), &err)) {
        ow_error("%s", err.msg);
        return 2;
    }
    ow_regions *city = NULL;
    ow_tz *zone = NULL;
    if (ow_city_load(&cfg, &city, &err) || ow_zone_load(&cfg, &zone, &err)) {
        ow_error("%s", err.msg);
        ow_regions_free(city);
        return 1;
    }
    int64_t off = cfg.analytics.utc_offset_min * 60000; /* when no zone is known */
    int64_t start = -1;
    if (day || week) {
        start = local_midnight(day ? day : week, zone, off);
        if (start < 0) {
            fprintf(stderr, "opswall-report: --%s: expected a date like 2026-11-22, got %s\n",
                    day ? "day" : "week", day ? day : week);
            ow_regions_free(city);
            ow_tz_free(zone);
            return 2;
        }
    }
    ow_policy pol;
    ow_policy_from_config(&pol, &cfg);
    pol.city = city;
    pol.tz = zone; /* the KPI windows' "today" and hours of day, as in the engine */
    source src = {.file = events, .cfg = &cfg, .max_ts = INT64_MIN};
    int status = 1;
    ow_report *r = NULL;
    chart_out charts = {0};
    char *json = NULL, *html = NULL;
    if (start < 0) { /* the day before the latest event's local day: the last whole day */
        if (each_event(&src, latest, &src)) goto done;
        if (src.max_ts == INT64_MIN) {
            ow_error("%s: no valid event", events ? events : OW_KEY_EVENTS);
            goto done;
        }
        start = ow_tz_midnight(zone, off, ow_tz_local_day(zone, off, src.max_ts) - DAY_MS);
        src.bad = 0;
    }
    r = ow_report_new(&pol, week ? OW_REPORT_WEEK : OW_REPORT_DAY, start);
    if (!r) goto done;
    int rc = each_event(&src, feed, r);
    if (!rc) rc = ow_report_finish(r);
    if (rc) {
        if (rc == OW_ENOMEM) ow_error("out of memory");
        goto done;
    }
    if (src.bad) ow_warn("%lld lines or entries skipped (not valid events)", (long long)src.bad);
    mkdir(out, 0777); /* an existing directory is fine; a real failure shows on writing */
    if (draw_charts(r, &cfg, out, &charts)) goto done;
    json = ow_report_json(r, cfg.city.name);
    html = ow_report_html(r, cfg.city.name, charts.c, charts.n);
    if (!json || !html) {
        ow_error("out of memory");
        goto done;
    }
    if (write_text(out, "report.json", json) || write_text(out, "report.html", html)) goto done;
    ow_info("wrote %s/report.html and %s/report.json", out, out);
    status = 0;
done:
    free(json);
    free(html);
    for (int i = 0; i < charts.n; i++)
        free(charts.b64[i]);
    ow_report_free(r);
    ow_regions_free(city);
    ow_tz_free(zone);
    return status;
}

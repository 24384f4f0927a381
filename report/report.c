/*
 * report.c — the period report's figures (from the engine core) and its two texts, JSON and
 * HTML. Long because the page is long: the sections follow the page from top to bottom.
 */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "map.h"
#include "names.h"
#include "state.h"
#include "timefmt.h"

#define HOUR_MS (3600 * INT64_C(1000))
#define DAY_MS  (24 * HOUR_MS)

struct ow_report {
    const ow_policy *pol;
    ow_state *s;
    ow_report_kind kind;
    int64_t start, end, prev_start, prev_end, now;
    bool prev_taken, finished;
    int nslots;               /* 1 + regions, at finish */
    ow_kpi_block *cur, *prev; /* [nslots] */
    int prev_n;               /* slots taken for prev */
    const char **region_ids;
    int nsteps;
    char step_text[OW_REPORT_STEPS_MAX][16];
    const char *step_labels[OW_REPORT_STEPS_MAX];
    double step_created[OW_REPORT_STEPS_MAX], step_resolved[OW_REPORT_STEPS_MAX];
    double *region_hour;
    /* complaint categories, counted once per complaint id */
    ow_map complaints_seen;
    ow_names cats;
    double cat_cur[OW_REPORT_CATS_MAX], cat_prev[OW_REPORT_CATS_MAX];
    int cat_order[OW_REPORT_CATS_MAX];
    const char *cat_names[OW_REPORT_CATS_MAX];
    double cat_cur_sorted[OW_REPORT_CATS_MAX], cat_prev_sorted[OW_REPORT_CATS_MAX];
    int ncats;
    /* root-cause flags raised: each of the period (copied: the engine's strings are borrowed),
     * and counts per flag name for both periods */
    ow_report_flag *flags;
    size_t nflags, capflags;
    ow_names flag_names;
    int64_t flag_cur[OW_REPORT_CATS_MAX], flag_prev[OW_REPORT_CATS_MAX];
};

/* The fixed offset (ms) standing for the zone when no zone file is loaded. */
static int64_t fixed_off(const ow_policy *pol)
{
    return pol->analytics.utc_offset_min * 60000;
}

/* Local wall-clock ms of a UTC instant, in the city's zone. */
static int64_t local_of(const ow_policy *pol, int64_t utc_ms)
{
    return utc_ms + ow_tz_offset_ms(pol->tz, fixed_off(pol), utc_ms);
}

ow_report *ow_report_new(const ow_policy *pol, ow_report_kind kind, int64_t start_ms)
{
    ow_report *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->pol = pol;
    r->kind = kind;
    /* whole local days of the city's zone: 23 or 25 hours when the clocks change in one */
    int64_t len = kind == OW_REPORT_WEEK ? 7 * DAY_MS : DAY_MS;
    int64_t day = ow_tz_local_day(pol->tz, fixed_off(pol), start_ms);
    r->start = start_ms, r->end = ow_tz_midnight(pol->tz, fixed_off(pol), day + len);
    r->prev_start = ow_tz_midnight(pol->tz, fixed_off(pol), day - len), r->prev_end = start_ms;
    r->now = INT64_MIN;
    ow_map_init(&r->complaints_seen);
    ow_names_init(&r->cats);
    ow_names_init(&r->flag_names);
    r->s = ow_state_new(pol);
    if (!r->s) {
        ow_report_free(r);
        return NULL;
    }
    return r;
}

void ow_report_free(ow_report *r)
{
    if (!r) return;
    ow_state_free(r->s);
    free(r->cur);
    free(r->prev);
    free(r->region_ids);
    free(r->region_hour);
    ow_map_fini(&r->complaints_seen);
    ow_names_fini(&r->cats);
    ow_names_fini(&r->flag_names);
    for (size_t i = 0; i < r->nflags; i++) {
        ow_report_flag *f = &r->flags[i];
        free(f->id), free(f->flag), free(f->region), free(f->summary), free(f->evidence);
    }
    free(r->flags);
    free(r);
}

/* Take the flag raises out of the engine's outbox, then clear it. */
static int collect(ow_report *r)
{
    size_t n;
    const ow_alert *a = ow_state_outbox(r->s, &n);
    int rc = OW_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        if (a[i].op != OW_ALERT_RAISE || a[i].kind != OW_ALERT_FLAG || !a[i].flag) continue;
        bool in_cur = a[i].at >= r->start && a[i].at < r->end;
        bool in_prev = a[i].at >= r->prev_start && a[i].at < r->prev_end;
        if (!in_cur && !in_prev) continue;
        int k = ow_names_intern(&r->flag_names, a[i].flag);
        if (k < 0 || k >= OW_REPORT_CATS_MAX) continue;
        if (in_prev) {
            r->flag_prev[k]++;
            continue;
        }
        r->flag_cur[k]++;
        if (r->nflags == r->capflags) {
            size_t cap = r->capflags ? r->capflags * 2 : 64;
            ow_report_flag *v = realloc(r->flags, cap * sizeof *v);
            if (!v) return OW_ENOMEM;
            r->flags = v, r->capflags = cap;
        }
        char id[OW_ALERT_ID_BUF];
        ow_alert_id(&a[i], id);
        ow_report_flag *f = &r->flags[r->nflags];
        *f = (ow_report_flag){.id = strdup(id),
                              .flag = strdup(a[i].flag),
                              .region = strdup(a[i].region ? a[i].region : ""),
                              .summary = strdup(a[i].summary ? a[i].summary : ""),
                              .evidence = strdup(a[i].evidence ? a[i].evidence : "{}"),
                              .level = a[i].level,
                              .at = a[i].at};
        if (!f->id || !f->flag || !f->region || !f->summary || !f->evidence) rc = OW_ENOMEM;
        r->nflags++;
    }
    ow_state_outbox_clear(r->s);
    return rc;
}

static int slots_now(const ow_report *r)
{
    return 1 + (int)ow_state_regions(r->s)->n;
}

/* The previous period's blocks, taken when the log reaches the period's start (before its first
 * event): a week ago is still in the windows' ring then. */
static int take_prev(ow_report *r)
{
    /* now reaches the period's start: crossings up to it fire, and every bucket before it has
     * its end-of-bucket backlog */
    if (r->now < r->start && ow_state_advance(r->s, r->start) < 0) return OW_ENOMEM;
    if (r->now < r->start) r->now = r->start;
    if (collect(r)) return OW_ENOMEM;
    r->prev_n = slots_now(r);
    r->prev = calloc((size_t)r->prev_n, sizeof *r->prev);
    if (!r->prev) return OW_ENOMEM;
    for (int s = 0; s < r->prev_n; s++)
        if (ow_kpi_block_range(ow_state_kpi(r->s), r->prev_start, r->prev_end, s, &r->prev[s]))
            return OW_ENOMEM;
    r->prev_taken = true;
    return OW_OK;
}

static void count_complaint(ow_report *r, const ow_event *ev)
{
    bool in_cur = ev->ts_ms >= r->start && ev->ts_ms < r->end;
    bool in_prev = ev->ts_ms >= r->prev_start && ev->ts_ms < r->prev_end;
    if (!in_cur && !in_prev) return;
    if (ow_map_get(&r->complaints_seen, ev->complaint_id)) return; /* once per complaint */
    int c = ow_names_intern(&r->cats, ev->category);
    if (c < 0 || c >= OW_REPORT_CATS_MAX) return; /* past 64 categories: the rest are not shown */
    if (ow_map_put(&r->complaints_seen, ev->complaint_id, (void *)1)) return;
    if (in_cur)
        r->cat_cur[c]++;
    else
        r->cat_prev[c]++;
}

int ow_report_feed(ow_report *r, const ow_event *ev)
{
    if (ev->ts_ms >= r->end) return OW_OK;
    if (!r->prev_taken && ev->ts_ms >= r->start) {
        int rc = take_prev(r);
        if (rc) return rc;
    }
    if (ev->type == OW_EV_COMPLAINT_CREATED) count_complaint(r, ev);
    if (ow_state_apply(r->s, ev) < 0) return OW_ENOMEM;
    if (ev->ts_ms > r->now) r->now = ev->ts_ms;
    /* replay: now is the latest event time; every crossing up to it fires */
    if (ow_state_advance(r->s, r->now) < 0) return OW_ENOMEM;
    return collect(r);
}

static int cmp_cat(const void *a, const void *b, void *arg);

static int cmp_flag(const void *a, const void *b)
{
    const ow_report_flag *x = a, *y = b;
    if (x->level != y->level) return x->level > y->level ? -1 : 1;
    if (x->at != y->at) return x->at < y->at ? -1 : 1;
    return strcmp(x->id, y->id);
}

int ow_report_finish(ow_report *r)
{
    /* the clock runs to the period's end: clocks still running cross their thresholds, and the
     * last bucket gets its backlog */
    if (r->now < r->end && ow_state_advance(r->s, r->end) < 0) return OW_ENOMEM;
    if (collect(r)) return OW_ENOMEM;
    if (!r->prev_taken && take_prev(r)) return OW_ENOMEM;
    const ow_kpi *k = ow_state_kpi(r->s);
    const ow_names *regions = ow_state_regions(r->s);
    r->nslots = slots_now(r);
    r->cur = calloc((size_t)r->nslots, sizeof *r->cur);
    ow_kpi_block *prev = calloc((size_t)r->nslots, sizeof *prev);
    r->region_ids = calloc((size_t)r->nslots, sizeof *r->region_ids);
    r->region_hour = calloc((size_t)r->nslots * 24, sizeof *r->region_hour);
    if (!r->cur || !prev || !r->region_ids || !r->region_hour) {
        free(prev);
        return OW_ENOMEM;
    }
    for (int s = 0; s < r->nslots; s++) {
        if (ow_kpi_block_range(k, r->start, r->end, s, &r->cur[s])) {
            free(prev);
            return OW_ENOMEM;
        }
        if (s < r->prev_n) {
            prev[s] = r->prev[s];
        } else { /* a region first named during the period: nothing before */
            ow_kpi_block none;
            memset(&none, 0, sizeof none);
            double *d[] = {&none.response_mean_s,
                           &none.response_p90_s,
                           &none.dispatch_mean_s,
                           &none.dispatch_p90_s,
                           &none.first_visit_fix_pct,
                           &none.repeat_visit_pct,
                           &none.complaint_rate_pct,
                           &none.csat,
                           &none.nps,
                           &none.utilisation_pct,
                           &none.orders_per_tech};
            for (size_t i = 0; i < sizeof d / sizeof d[0]; i++)
                *d[i] = NAN;
            for (int st = 0; st < OW_KPI_STAGES; st++)
                none.sla_pct[st] = NAN;
            prev[s] = none;
        }
        r->region_ids[s] = s ? ow_names_get(regions, s - 1) : "city";
    }
    free(r->prev);
    r->prev = prev;
    /* created and resolved per local hour (day: 23 to 25 of them) or per local day (week) */
    const ow_policy *pol = r->pol;
    int64_t day0 = ow_tz_local_day(pol->tz, fixed_off(pol), r->start);
    r->nsteps = 0;
    for (int64_t from = r->start; from < r->end && r->nsteps < OW_REPORT_STEPS_MAX;) {
        int i = r->nsteps++;
        int64_t to = r->kind == OW_REPORT_WEEK
                         ? ow_tz_midnight(pol->tz, fixed_off(pol), day0 + (i + 1) * DAY_MS)
                         : from + HOUR_MS;
        if (to > r->end) to = r->end;
        r->step_created[i] = (double)ow_kpi_count_range(k, from, to, 0, OW_KPI_COUNT_CREATED);
        r->step_resolved[i] = (double)ow_kpi_count_range(k, from, to, 0, OW_KPI_COUNT_RESOLVED);
        char t[OW_TIME_TEXT_MAX];
        ow_time_format(local_of(pol, from), t);
        if (r->kind == OW_REPORT_WEEK) /* local date */
            snprintf(r->step_text[i], sizeof r->step_text[i], "%.5s", t + 5);
        else /* local hour: 01 twice when the clocks fall back, no 02 when they spring forward */
            snprintf(r->step_text[i], sizeof r->step_text[i], "%.2s", t + 11);
        r->step_labels[i] = r->step_text[i];
        from = to;
    }
    /* orders created by region × local hour over the period */
    for (int64_t from = r->start; from < r->end; from += HOUR_MS) {
        int hour = (int)((local_of(pol, from) / HOUR_MS) % 24 + 24) % 24;
        for (int s = 1; s < r->nslots; s++)
            r->region_hour[(s - 1) * 24 + hour] +=
                (double)ow_kpi_count_range(k, from, from + HOUR_MS, s, OW_KPI_COUNT_CREATED);
    }
    /* complaint categories, most frequent first (ties by name) */
    r->ncats = (int)r->cats.n < OW_REPORT_CATS_MAX ? (int)r->cats.n : OW_REPORT_CATS_MAX;
    for (int i = 0; i < r->ncats; i++)
        r->cat_order[i] = i;
    for (int i = 1; i < r->ncats; i++) /* insertion sort: a few dozen categories */
        for (int j = i; j > 0 && cmp_cat(&r->cat_order[j - 1], &r->cat_order[j], r) > 0; j--) {
            int t = r->cat_order[j];
            r->cat_order[j] = r->cat_order[j - 1], r->cat_order[j - 1] = t;
        }
    for (int i = 0; i < r->ncats; i++) {
        int c = r->cat_order[i];
        r->cat_names[i] = ow_names_get(&r->cats, c);
        r->cat_cur_sorted[i] = r->cat_cur[c];
        r->cat_prev_sorted[i] = r->cat_prev[c];
    }
    /* the flags of the period, most severe first, then oldest, then by id */
    qsort(r->flags, r->nflags, sizeof *r->flags, cmp_flag);
    /* one of each kind of flag leads the list (a storm of one kind would hide the others), then
     * the rest in the same order: a stable partition */
    ow_report_flag *v = malloc((r->nflags ? r->nflags : 1) * sizeof *v);
    bool *lead = calloc(r->nflags ? r->nflags : 1, sizeof *lead);
    if (!v || !lead) {
        free(v), free(lead);
        return OW_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < r->nflags; i++) {
        bool first = true;
        for (size_t j = 0; j < n && first; j++)
            first = strcmp(v[j].flag, r->flags[i].flag) != 0;
        if (first) v[n++] = r->flags[i], lead[i] = true;
    }
    for (size_t i = 0; i < r->nflags; i++)
        if (!lead[i]) v[n++] = r->flags[i];
    memcpy(r->flags, v, r->nflags * sizeof *v);
    free(v), free(lead);
    r->finished = true;
    return OW_OK;
}

static int cmp_cat(const void *a, const void *b, void *arg)
{
    const ow_report *r = arg;
    int x = *(const int *)a, y = *(const int *)b;
    double dx = r->cat_cur[x] + r->cat_prev[x] * 1e-6, dy = r->cat_cur[y] + r->cat_prev[y] * 1e-6;
    if (dx != dy) return dx < dy ? 1 : -1;
    return strcmp(ow_names_get(&r->cats, x), ow_names_get(&r->cats, y));
}

void ow_report_view_get(const ow_report *r, ow_report_view *v)
{
    memset(v, 0, sizeof *v);
    v->kind = r->kind;
    v->start = r->start, v->end = r->end, v->prev_start = r->prev_start, v->prev_end = r->prev_end;
    v->events = ow_state_totals_get(r->s)->events_applied;
    v->nregions = r->nslots - 1;
    v->region_ids = r->region_ids + 1;
    v->cur = r->cur, v->prev = r->prev;
    v->nsteps = r->nsteps;
    v->step_labels = r->step_labels;
    v->step_created = r->step_created, v->step_resolved = r->step_resolved;
    v->region_hour = r->region_hour;
    v->ncats = r->ncats;
    v->cat_names = r->cat_names;
    v->cat_cur = r->cat_cur_sorted, v->cat_prev = r->cat_prev_sorted;
    v->flags_available = true;
    v->pol = r->pol;
    v->utc_offset_min = ow_tz_offset_ms(r->pol->tz, fixed_off(r->pol), r->start) / 60000;
    v->flags = r->flags;
    v->nflags = r->nflags;
    v->nflag_names =
        (int)r->flag_names.n < OW_REPORT_CATS_MAX ? (int)r->flag_names.n : OW_REPORT_CATS_MAX;
    for (int i = 0; i < v->nflag_names; i++)
        v->flag_names[i] = ow_names_get(&r->flag_names, i);
    v->flag_cur = r->flag_cur, v->flag_prev = r->flag_prev;
}

/* ---- JSON ---- */

static void time_str(ow_jsonw *w, int64_t ms)
{
    char t[OW_TIME_TEXT_MAX];
    ow_time_format(ms, t);
    ow_jsonw_str(w, t);
}

static void num_list(ow_jsonw *w, const double *v, int n)
{
    ow_jsonw_raw(w, "[");
    for (int i = 0; i < n; i++) {
        if (i) ow_jsonw_raw(w, ",");
        ow_jsonw_num(w, v[i], 1);
    }
    ow_jsonw_raw(w, "]");
}

static void str_list(ow_jsonw *w, const char *const *v, int n)
{
    ow_jsonw_raw(w, "[");
    for (int i = 0; i < n; i++) {
        if (i) ow_jsonw_raw(w, ",");
        ow_jsonw_str(w, v[i]);
    }
    ow_jsonw_raw(w, "]");
}

char *ow_report_json(const ow_report *r, const char *city_name)
{
    if (!r->finished) return NULL;
    ow_report_view v;
    ow_report_view_get(r, &v);
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "report"), ow_jsonw_str(&w, v.kind == OW_REPORT_WEEK ? "weekly" : "daily");
    ow_jsonw_key(&w, "city"), ow_jsonw_str(&w, city_name);
    ow_jsonw_key(&w, "utc_offset_min"), ow_jsonw_int(&w, v.utc_offset_min);
    ow_jsonw_key(&w, "period");
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "start"), time_str(&w, v.start);
    ow_jsonw_key(&w, "end"), time_str(&w, v.end);
    ow_jsonw_close(&w);
    ow_jsonw_key(&w, "previous");
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "start"), time_str(&w, v.prev_start);
    ow_jsonw_key(&w, "end"), time_str(&w, v.prev_end);
    ow_jsonw_close(&w);
    ow_jsonw_key(&w, "events_applied"), ow_jsonw_int(&w, v.events);
    ow_jsonw_key(&w, "kpi");
    ow_jsonw_open(&w);
    for (int s = 0; s <= v.nregions; s++) {
        if (s == 1) {
            ow_jsonw_key(&w, "regions");
            ow_jsonw_open(&w);
        }
        ow_jsonw_key(&w, s ? v.region_ids[s - 1] : "overall");
        ow_jsonw_open(&w);
        ow_jsonw_key(&w, "current"), ow_kpi_write_block(&w, &v.cur[s]);
        ow_jsonw_key(&w, "previous"), ow_kpi_write_block(&w, &v.prev[s]);
        ow_jsonw_close(&w);
    }
    if (v.nregions) ow_jsonw_close(&w);
    ow_jsonw_close(&w);
    ow_jsonw_key(&w, "series");
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "step"), ow_jsonw_str(&w, v.kind == OW_REPORT_WEEK ? "day" : "hour");
    ow_jsonw_key(&w, "labels"), str_list(&w, v.step_labels, v.nsteps);
    ow_jsonw_key(&w, "created"), num_list(&w, v.step_created, v.nsteps);
    ow_jsonw_key(&w, "resolved"), num_list(&w, v.step_resolved, v.nsteps);
    ow_jsonw_close(&w);
    ow_jsonw_key(&w, "orders_by_region_hour");
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "regions"), str_list(&w, v.region_ids, v.nregions);
    ow_jsonw_key(&w, "counts");
    ow_jsonw_raw(&w, "[");
    for (int i = 0; i < v.nregions; i++) {
        if (i) ow_jsonw_raw(&w, ",");
        num_list(&w, v.region_hour + i * 24, 24);
    }
    ow_jsonw_raw(&w, "]");
    ow_jsonw_close(&w);
    ow_jsonw_key(&w, "complaint_categories");
    ow_jsonw_raw(&w, "[");
    for (int i = 0; i < v.ncats; i++) {
        ow_jsonw_raw(&w, i ? "," : "");
        ow_jsonw_open(&w);
        ow_jsonw_key(&w, "category"), ow_jsonw_str(&w, v.cat_names[i]);
        ow_jsonw_key(&w, "current"), ow_jsonw_num(&w, v.cat_cur[i], 0);
        ow_jsonw_key(&w, "previous"), ow_jsonw_num(&w, v.cat_prev[i], 0);
        ow_jsonw_close(&w);
    }
    ow_jsonw_raw(&w, "]");
    ow_jsonw_key(&w, "flags");
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "raised");
    ow_jsonw_open(&w);
    for (int i = 0; i < v.nflag_names; i++) {
        ow_jsonw_key(&w, v.flag_names[i]);
        ow_jsonw_open(&w);
        ow_jsonw_key(&w, "current"), ow_jsonw_int(&w, v.flag_cur[i]);
        ow_jsonw_key(&w, "previous"), ow_jsonw_int(&w, v.flag_prev[i]);
        ow_jsonw_close(&w);
    }
    ow_jsonw_close(&w);
    ow_jsonw_key(&w, "top");
    ow_jsonw_raw(&w, "[");
    for (size_t i = 0; i < v.nflags && i < OW_REPORT_TOP_FLAGS; i++) {
        const ow_report_flag *f = &v.flags[i];
        ow_jsonw_raw(&w, i ? "," : "");
        ow_jsonw_open(&w);
        ow_jsonw_key(&w, "id"), ow_jsonw_str(&w, f->id);
        ow_jsonw_key(&w, "flag"), ow_jsonw_str(&w, f->flag);
        ow_jsonw_key(&w, "level"), ow_jsonw_int(&w, f->level);
        ow_jsonw_key(&w, "at"), time_str(&w, f->at);
        ow_jsonw_key(&w, "region"), ow_jsonw_str(&w, f->region);
        ow_jsonw_key(&w, "summary"), ow_jsonw_str(&w, f->summary);
        ow_jsonw_key(&w, "evidence"), ow_jsonw_raw(&w, f->evidence);
        ow_jsonw_close(&w);
    }
    ow_jsonw_raw(&w, "]");
    ow_jsonw_close(&w);
    ow_jsonw_key(&w, "kpi_targets"), ow_kpi_write_targets(&w, &r->pol->analytics);
    ow_jsonw_close(&w);
    ow_jsonw_raw(&w, "\n");
    return ow_jsonw_take(&w);
}

/* ---- HTML ---- */

static void h(ow_buf *b, const char *s)
{
    ow_buf_put(b, s, strlen(s));
}

/* Text escaped for HTML. */
static void esc(ow_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': h(b, "&lt;"); break;
        case '>': h(b, "&gt;"); break;
        case '&': h(b, "&amp;"); break;
        case '"': h(b, "&quot;"); break;
        default: ow_buf_put(b, s, 1);
        }
    }
}

static void hnum(ow_buf *b, double v, int decimals)
{
    char t[64];
    snprintf(t, sizeof t, "%.*f", decimals, v);
    h(b, t);
}

typedef struct metric {
    const char *label;
    size_t off; /* double in ow_kpi_block, or int64 when is_count */
    bool is_count;
    double scale; /* shown = value × scale (seconds → minutes) */
    const char *unit;
    int decimals;
    bool higher;           /* better when higher */
    const int64_t *target; /* in the block's unit (seconds, %), NULL = none */
} metric;

static double metric_value(const metric *m, const ow_kpi_block *b)
{
    const char *p = (const char *)b + m->off;
    if (m->is_count) {
        int64_t x;
        memcpy(&x, p, sizeof x);
        return (double)x;
    }
    double d;
    memcpy(&d, p, sizeof d);
    return d;
}

static void cell_num(ow_buf *b, double v, int decimals, const char *unit)
{
    h(b, "<td class=n>");
    if (!isfinite(v)) {
        h(b, "<span class=na>–</span>");
    } else {
        hnum(b, v, decimals);
        if (unit && *unit) {
            h(b, "<small> ");
            h(b, unit);
            h(b, "</small>");
        }
    }
    h(b, "</td>");
}

static void kpi_table(ow_buf *b, const ow_report *r, const ow_report_view *v)
{
    const ow_analytics_config *a = &r->pol->analytics;
#define OFF(f) offsetof(ow_kpi_block, f)
    const metric ms[] = {
        {"Orders created", OFF(created), true, 1, "", 0, true, NULL},
        {"Orders resolved", OFF(resolved), true, 1, "", 0, true, NULL},
        {"Response time, mean (created → accepted)", OFF(response_mean_s), false, 1 / 60.0, "min",
         1, false, &a->targets.response_mean_s},
        {"Response time, p90", OFF(response_p90_s), false, 1 / 60.0, "min", 1, false,
         &a->targets.response_p90_s},
        {"Dispatch time, mean (created → dispatched)", OFF(dispatch_mean_s), false, 1 / 60.0, "min",
         1, false, &a->targets.dispatch_mean_s},
        {"Dispatch time, p90", OFF(dispatch_p90_s), false, 1 / 60.0, "min", 1, false,
         &a->targets.dispatch_p90_s},
        {"First-visit fix rate", OFF(first_visit_fix_pct), false, 1, "%", 1, true,
         &a->targets.first_visit_fix_pct},
        {"Repeat-visit rate (reopens / resolutions)", OFF(repeat_visit_pct), false, 1, "%", 1,
         false, &a->targets.repeat_visit_pct},
        {"Complaint rate (complaints / orders)", OFF(complaint_rate_pct), false, 1, "%", 1, false,
         &a->targets.complaint_rate_pct},
        {"CSAT (mean callback score × 20)", OFF(csat), false, 1, "", 1, true, &a->targets.csat},
        {"NPS", OFF(nps), false, 1, "", 1, true, &a->targets.nps},
        {"Backlog at the end (open orders)", OFF(backlog), true, 1, "", 0, false, NULL},
        {"Technician utilisation", OFF(utilisation_pct), false, 1, "%", 1, true,
         &a->targets.utilisation_pct},
        {"Orders per technician on shift", OFF(orders_per_tech), false, 1, "", 2, true, NULL},
    };
#undef OFF
    h(b, "<table><tr><th>KPI</th><th>this period</th><th>previous</th><th>change</th>"
         "<th>target</th><th></th></tr>\n");
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        const metric *m = &ms[i];
        double c = metric_value(m, &v->cur[0]) * m->scale;
        double p = metric_value(m, &v->prev[0]) * m->scale;
        h(b, "<tr><td>");
        esc(b, m->label);
        h(b, "</td>");
        cell_num(b, c, m->decimals, m->unit);
        cell_num(b, p, m->decimals, m->unit);
        h(b, "<td class=n>");
        if (isfinite(c) && isfinite(p) && c != p) {
            bool up = c > p, good = up == m->higher;
            h(b, good ? "<span class=good>" : "<span class=bad>");
            h(b, up ? "▲ " : "▼ ");
            hnum(b, fabs(c - p), m->decimals);
            h(b, "</span>");
        } else {
            h(b, "<span class=na>–</span>");
        }
        h(b, "</td>");
        if (m->target) {
            double t = (double)*m->target * m->scale;
            cell_num(b, t, m->decimals, m->unit);
            bool met = isfinite(c) && (m->higher ? c >= t : c <= t);
            h(b, !isfinite(c) ? "<td></td>"
                 : met        ? "<td class=good>✓ met</td>"
                              : "<td class=bad>✗ missed</td>");
        } else {
            h(b, "<td></td><td></td>");
        }
        h(b, "</tr>\n");
    }
    h(b, "</table>\n");
}

static void sla_table(ow_buf *b, const ow_report *r, const ow_report_view *v)
{
    double target = (double)r->pol->analytics.targets.sla_compliance_pct;
    h(b, "<table><tr><th>region</th>");
    for (int st = 0; st < OW_KPI_STAGES; st++) {
        h(b, "<th>");
        h(b, ow_kpi_stage_name(st));
        h(b, "</th>");
    }
    h(b, "</tr>\n");
    for (int s = 0; s <= v->nregions; s++) {
        h(b, s ? "<tr><td>" : "<tr class=total><td>");
        esc(b, s ? v->region_ids[s - 1] : "whole city");
        h(b, "</td>");
        for (int st = 0; st < OW_KPI_STAGES; st++) {
            double pct = v->cur[s].sla_pct[st];
            if (!isfinite(pct)) {
                h(b, "<td class=n><span class=na>–</span></td>");
                continue;
            }
            h(b, pct >= target ? "<td class=\"n good\">" : "<td class=\"n bad\">");
            hnum(b, pct, 1);
            h(b, " %");
            char n[48];
            snprintf(n, sizeof n, " <small>(%lld)</small></td>", (long long)v->cur[s].sla_n[st]);
            h(b, n);
        }
        h(b, "</tr>\n");
    }
    h(b, "</table>\n");
}

static void region_table(ow_buf *b, const ow_report_view *v)
{
    h(b, "<table><tr><th>region</th><th>created</th><th>resolved</th><th>response p90</th>"
         "<th>first-visit fix</th><th>CSAT</th><th>complaint rate</th><th>backlog</th></tr>\n");
    for (int s = 1; s <= v->nregions; s++) {
        const ow_kpi_block *c = &v->cur[s];
        h(b, "<tr><td>");
        esc(b, v->region_ids[s - 1]);
        h(b, "</td>");
        cell_num(b, (double)c->created, 0, "");
        cell_num(b, (double)c->resolved, 0, "");
        cell_num(b, c->response_p90_s / 60, 1, "min");
        cell_num(b, c->first_visit_fix_pct, 1, "%");
        cell_num(b, c->csat, 1, "");
        cell_num(b, c->complaint_rate_pct, 1, "%");
        cell_num(b, (double)c->backlog, 0, "");
        h(b, "</tr>\n");
    }
    h(b, "</table>\n");
}

static void flags_section(ow_buf *b, const ow_report_view *v)
{
    h(b, "<h2>Top root-cause flags</h2>\n");
    if (!v->nflag_names) {
        h(b, "<p class=note>No root-cause flag was raised in either period.</p>\n");
        return;
    }
    h(b, "<table><tr><th>flag</th><th>raised this period</th><th>previous</th></tr>\n");
    for (int i = 0; i < v->nflag_names; i++) {
        h(b, "<tr><td>");
        esc(b, v->flag_names[i]);
        h(b, "</td>");
        cell_num(b, (double)v->flag_cur[i], 0, "");
        cell_num(b, (double)v->flag_prev[i], 0, "");
        h(b, "</tr>\n");
    }
    h(b, "</table>\n<p class=note>The most severe of the period (highest level first, then the "
         "earliest), with the evidence the engine recorded:</p>\n<table><tr><th>when</th>"
         "<th>level</th><th>flag</th><th>what</th><th>evidence</th></tr>\n");
    for (size_t i = 0; i < v->nflags && i < OW_REPORT_TOP_FLAGS; i++) {
        const ow_report_flag *f = &v->flags[i];
        char t[OW_TIME_TEXT_MAX], when[32];
        ow_time_format(local_of(v->pol, f->at), t); /* local time, like the period */
        snprintf(when, sizeof when, "%.5s %.5s", t + 5, t + 11);
        h(b, "<tr><td>");
        esc(b, when);
        h(b, "</td><td class=n>L");
        hnum(b, f->level, 0);
        h(b, "</td><td>");
        esc(b, f->flag);
        h(b, "</td><td>");
        esc(b, f->summary);
        h(b, "</td><td><small>");
        esc(b, f->evidence);
        h(b, "</small></td></tr>\n");
    }
    h(b, "</table>\n");
}

static const char *const style =
    "body{font-family:DejaVu Sans,Arial,sans-serif;color:#1e293b;margin:24px auto;max-width:1000px}"
    "h1{font-size:24px;margin:0}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid "
    "#e2e8f0}"
    ".sub{color:#64748b;margin:4px 0 16px}table{border-collapse:collapse;width:100%;font-size:14px}"
    "th,td{padding:5px 8px;border-bottom:1px solid #e2e8f0;text-align:left}"
    "td.n{text-align:right;white-space:nowrap}th{background:#f1f5f9}tr.total td{font-weight:bold}"
    ".good{color:#15803d}.bad{color:#b91c1c}.na{color:#94a3b8}small{color:#64748b}"
    "img{max-width:100%;border:1px solid #e2e8f0;margin:8px 0}.note{color:#64748b}";

char *ow_report_html(const ow_report *r, const char *city_name, const ow_report_chart *charts,
                     int ncharts)
{
    if (!r->finished) return NULL;
    ow_report_view v;
    ow_report_view_get(r, &v);
    ow_buf b = {0};
    char s0[OW_TIME_TEXT_MAX], s1[OW_TIME_TEXT_MAX], p0[OW_TIME_TEXT_MAX], p1[OW_TIME_TEXT_MAX];
    ow_time_format(local_of(r->pol, v.start), s0), ow_time_format(local_of(r->pol, v.end - 1), s1);
    ow_time_format(local_of(r->pol, v.prev_start), p0);
    ow_time_format(local_of(r->pol, v.prev_end - 1), p1);
    const char *kind = v.kind == OW_REPORT_WEEK ? "Weekly" : "Daily";
    h(&b, "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>");
    h(&b, kind);
    h(&b, " service report — ");
    esc(&b, city_name);
    h(&b, "</title><style>");
    h(&b, style);
    h(&b, "</style></head><body>\n<h1>");
    h(&b, kind);
    h(&b, " service report — ");
    esc(&b, city_name);
    h(&b, "</h1>\n<p class=sub>");
    char line[256];
    int oh = (int)(v.utc_offset_min / 60), om = (int)(v.utc_offset_min % 60);
    snprintf(line, sizeof line,
             "%.10s%s%.10s (local time, UTC%+03d:%02d) compared with %.10s%s%.10s · %lld events "
             "through the engine core",
             s0, v.kind == OW_REPORT_WEEK ? " – " : "", v.kind == OW_REPORT_WEEK ? s1 : "", oh,
             om < 0 ? -om : om, p0, v.kind == OW_REPORT_WEEK ? " – " : "",
             v.kind == OW_REPORT_WEEK ? p1 : "", (long long)v.events);
    esc(&b, line);
    h(&b, "</p>\n<h2>KPIs, whole city</h2>\n");
    kpi_table(&b, r, &v);
    h(&b, "<h2>SLA compliance per stage and region</h2>\n<p class=note>Share of stage instances "
          "that ended within their target in this period (instances counted in brackets).</p>\n");
    sla_table(&b, r, &v);
    h(&b, "<h2>Regions</h2>\n");
    region_table(&b, &v);
    flags_section(&b, &v);
    h(&b, "<h2>Complaint categories</h2>\n");
    if (!v.ncats) {
        h(&b, "<p class=note>No complaints in either period.</p>\n");
    } else {
        h(&b, "<table><tr><th>category</th><th>this period</th><th>previous</th></tr>\n");
        for (int i = 0; i < v.ncats; i++) {
            h(&b, "<tr><td>");
            esc(&b, v.cat_names[i]);
            h(&b, "</td>");
            cell_num(&b, v.cat_cur[i], 0, "");
            cell_num(&b, v.cat_prev[i], 0, "");
            h(&b, "</tr>\n");
        }
        h(&b, "</table>\n");
    }
    h(&b, "<h2>Charts</h2>\n");
    for (int i = 0; i < ncharts; i++) {
        h(&b, "<figure><img alt=\"");
        esc(&b, charts[i].title);
        h(&b, "\" src=\"data:image/png;base64,");
        h(&b, charts[i].base64);
        h(&b, "\"></figure>\n");
    }
    h(&b, "<p class=note>Generated by opswall-report. The same figures are in report.json.</p>\n"
          "</body></html>\n");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

char *ow_base64(const unsigned char *p, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
    if (!out) return NULL;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = tab[v >> 18], *o++ = tab[(v >> 12) & 63], *o++ = tab[(v >> 6) & 63],
        *o++ = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *o++ = tab[v >> 18], *o++ = tab[(v >> 12) & 63];
        *o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

#include "kpi.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "timefmt.h"

/* Counters per bucket and slot. The first two also count by local hour (heat_hour); BACKLOG is a
 * gauge sampled at the end of each bucket. */
enum {
    C_CREATED,
    C_COMPLAINTS,
    C_RESOLVED,
    C_REOPENED,
    C_FVF_YES,
    C_FVF_N,
    C_CALLBACKS,
    C_SCORE_SUM,
    C_NPS_N,
    C_PROMOTERS,
    C_DETRACTORS,
    C_ALERTS,
    C_BREACHES,
    C_BUSY_MS,
    C_AVAIL_MS,
    C_DUR_SUM,                           /* + stage: sum of durations, ms */
    C_DUR_N = C_DUR_SUM + OW_KPI_STAGES, /* + stage: instances ended */
    C_MET = C_DUR_N + OW_KPI_STAGES,     /* + stage: of those, within target */
    C_NSUM = C_MET + OW_KPI_STAGES,
    C_BACKLOG = C_NSUM,
    C_COUNT
};

/* Instants the analytics follow: ±2^50 ms (years −33700 … 37600, like the checkpoint's limit).
 * Now beyond them ("advance to the end of time") stops there, so bucket arithmetic never
 * overflows. */
#define TIME_LIMIT (INT64_C(1) << 50)

typedef struct tech_count {
    int64_t busy, avail; /* technicians enroute/onsite; idle/enroute/onsite */
} tech_count;

struct ow_kpi {
    ow_win *win;
    int64_t now;       /* analytics clock: latest advance, INT64_MIN before */
    int64_t integ_t;   /* technician time is integrated up to here */
    tech_count *techs; /* per slot (slot 0 = technicians with no region) */
    int ntechs;
};

static const char *const stage_names[OW_KPI_STAGES] = {
    "dispatch", "accept", "response", "arrival", "resolution", "callback", "complaint"};

const char *ow_kpi_stage_name(int stage)
{
    return stage >= 0 && stage < OW_KPI_STAGES ? stage_names[stage] : "?";
}

ow_kpi *ow_kpi_new(const ow_tz *tz, int32_t utc_offset_min)
{
    ow_kpi *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    k->win = ow_win_new(C_COUNT, 2, C_NSUM, tz, utc_offset_min,
                        (1u << OW_STAGE_RESPONSE) | (1u << OW_STAGE_DISPATCH));
    if (!k->win) {
        free(k);
        return NULL;
    }
    k->now = k->integ_t = INT64_MIN;
    return k;
}

void ow_kpi_free(ow_kpi *k)
{
    if (!k) return;
    ow_win_free(k->win);
    free(k->techs);
    free(k);
}

static int add(ow_kpi *k, int slot, int64_t ts, int c, int64_t delta)
{
    return ow_win_count(k->win, slot, ts, c, delta) ? OW_ENOMEM : OW_OK;
}

int ow_kpi_created(ow_kpi *k, int slot, int64_t ts, int sign)
{
    return add(k, slot, ts, C_CREATED, sign);
}

int ow_kpi_complaint(ow_kpi *k, int slot, int64_t ts, int sign)
{
    return add(k, slot, ts, C_COMPLAINTS, sign);
}

int ow_kpi_resolved(ow_kpi *k, int slot, int64_t ts, int fvf, int sign)
{
    ow_win_delta d[] = {{C_RESOLVED, sign}, {C_FVF_N, sign}, {C_FVF_YES, sign * fvf}};
    return ow_win_counts(k->win, slot, ts, d, fvf >= 0 ? 3 : 1) ? OW_ENOMEM : OW_OK;
}

int ow_kpi_reopened(ow_kpi *k, int slot, int64_t ts, int sign)
{
    return add(k, slot, ts, C_REOPENED, sign);
}

int ow_kpi_callback(ow_kpi *k, int slot, int64_t ts, int score, int nps, int sign)
{
    ow_win_delta d[] = {{C_CALLBACKS, sign},
                        {C_SCORE_SUM, sign * score},
                        {C_NPS_N, sign},
                        {C_PROMOTERS, sign * (nps >= 9)},
                        {C_DETRACTORS, sign * (nps >= 0 && nps <= 6)}};
    return ow_win_counts(k->win, slot, ts, d, nps >= 0 ? 5 : 2) ? OW_ENOMEM : OW_OK;
}

int ow_kpi_stage(ow_kpi *k, int slot, int stage, int64_t start, int64_t stop, bool met, int sign)
{
    if (stage < 0 || stage >= OW_KPI_STAGES) return OW_OK;
    int64_t dur = stop - start;
    if (dur < 0) dur = 0;
    ow_win_delta d[] = {
        {C_DUR_SUM + stage, sign * dur}, {C_DUR_N + stage, sign}, {C_MET + stage, sign * (int)met}};
    int rc = ow_win_counts_sample(k->win, slot, stop, d, 3, stage, dur, sign);
    return rc ? OW_ENOMEM : OW_OK;
}

int ow_kpi_alert(ow_kpi *k, int slot, int64_t at, bool breach)
{
    ow_win_delta d[] = {{C_ALERTS, 1}, {C_BREACHES, 1}};
    return ow_win_counts(k->win, slot, at, d, breach ? 2 : 1) ? OW_ENOMEM : OW_OK;
}

/* ---- technician time ---- */

/* Credit each slot's technician counts for [integ_t, to), split at bucket boundaries. */
static int integrate(ow_kpi *k, int64_t to)
{
    if (k->integ_t == INT64_MIN || to <= k->integ_t) {
        if (k->integ_t == INT64_MIN) k->integ_t = to;
        return OW_OK;
    }
    int rc = 0;
    int64_t t = k->integ_t;
    /* a long gap (replay of a file with holes) only needs the part the ring can hold */
    if (to - t > (int64_t)OW_WIN_RING * OW_WIN_BUCKET_MS)
        t = to - (int64_t)OW_WIN_RING * OW_WIN_BUCKET_MS;
    while (t < to) {
        int64_t q = t / OW_WIN_BUCKET_MS - (t % OW_WIN_BUCKET_MS < 0);
        /* the last bucket before the end of time has no next boundary (it would overflow) */
        int64_t end = q < INT64_MAX / OW_WIN_BUCKET_MS - 1 ? (q + 1) * OW_WIN_BUCKET_MS : to;
        if (end > to) end = to;
        int64_t dt = end - t;
        for (int s = 0; s < k->ntechs; s++) {
            if (k->techs[s].avail)
                rc |= ow_win_count(k->win, s, t, C_AVAIL_MS, k->techs[s].avail * dt);
            if (k->techs[s].busy)
                rc |= ow_win_count(k->win, s, t, C_BUSY_MS, k->techs[s].busy * dt);
        }
        t = end;
    }
    k->integ_t = to;
    return rc ? OW_ENOMEM : OW_OK;
}

static tech_count *tech_slot(ow_kpi *k, int slot)
{
    if (slot >= k->ntechs) {
        int n = k->ntechs ? k->ntechs : 8;
        while (n <= slot)
            n *= 2;
        tech_count *t = realloc(k->techs, (size_t)n * sizeof *t);
        if (!t) return NULL;
        memset(t + k->ntechs, 0, (size_t)(n - k->ntechs) * sizeof *t);
        k->techs = t;
        k->ntechs = n;
    }
    return &k->techs[slot];
}

static bool is_busy(int st)
{
    return st == OW_TECH_ENROUTE || st == OW_TECH_ONSITE;
}

static bool is_avail(int st)
{
    return st == OW_TECH_IDLE || is_busy(st);
}

int ow_kpi_tech(ow_kpi *k, int64_t ts, int old_slot, int old_status, int new_slot, int new_status)
{
    /* the old status counted until the change (or until now, for a change that arrives late:
     * time already credited is not rewritten) */
    int64_t until = ts > k->now ? ts : k->now;
    if (until > TIME_LIMIT) until = TIME_LIMIT;
    if (k->now != INT64_MIN && integrate(k, until)) return OW_ENOMEM;
    tech_count *o = old_status >= 0 ? tech_slot(k, old_slot) : NULL;
    tech_count *n = new_status >= 0 ? tech_slot(k, new_slot) : NULL;
    if ((old_status >= 0 && !o) || (new_status >= 0 && !n)) return OW_ENOMEM;
    if (o) o->busy -= is_busy(old_status), o->avail -= is_avail(old_status);
    if (n) n->busy += is_busy(new_status), n->avail += is_avail(new_status);
    return OW_OK;
}

int ow_kpi_advance(ow_kpi *k, int64_t now_ms, const int64_t *open, int n)
{
    if (now_ms > TIME_LIMIT) now_ms = TIME_LIMIT;
    if (now_ms < -TIME_LIMIT) return OW_OK;
    if (k->now != INT64_MIN && now_ms <= k->now) return OW_OK;
    int64_t prev = ow_win_now_bucket(k->win);
    k->now = now_ms;
    if (prev != INT64_MIN && now_ms < prev + OW_WIN_BUCKET_MS) return OW_OK; /* same bucket */
    /* a new bucket: the one left behind keeps the backlog it ended with, technician time is
     * credited up to now, and the windows move */
    int rc = 0;
    /* every bucket passed (with no event in it, the backlog did not change) */
    int64_t from = prev, last = now_ms - OW_WIN_BUCKET_MS;
    if (from != INT64_MIN && last - from > (int64_t)OW_WIN_RING * OW_WIN_BUCKET_MS)
        from = last - (int64_t)OW_WIN_RING * OW_WIN_BUCKET_MS;
    for (int64_t b = from; b != INT64_MIN && b <= last; b += OW_WIN_BUCKET_MS)
        for (int s = 0; s < n; s++)
            if (open[s]) rc |= ow_win_set(k->win, s, b, C_BACKLOG, open[s]);
    rc |= integrate(k, now_ms);
    rc |= ow_win_advance(k->win, now_ms);
    return rc ? OW_ENOMEM : OW_OK;
}

int64_t ow_kpi_now(const ow_kpi *k)
{
    return k->now;
}

const ow_win *ow_kpi_window(const ow_kpi *k)
{
    return k->win;
}

/* ---- blocks ---- */

static double ratio(int64_t num, int64_t den, double scale)
{
    return den > 0 ? (double)num * scale / (double)den : NAN;
}

static double quant_s(const ow_qsketch *q, double p)
{
    return q && q->n ? ow_qs_quantile(q, p) / 1000.0 : NAN;
}

/* A window's quantile in seconds, NaN when it has no sample. */
static double win_quant_s(const ow_kpi *k, const ow_win_open *o, ow_win_kind win, int slot,
                          int stage, double p, int64_t *n)
{
    double ms = ow_win_quantile(k->win, o, win, slot, stage, p, n);
    return ms < 0 ? NAN : ms / 1000.0;
}

/* A block from summed counters c, the p90s (s), the window's length and technician time. */
static void block_from(const int64_t *c, double resp_p90_s, double disp_p90_s, int64_t len_ms,
                       int64_t backlog, ow_kpi_block *b)
{
    memset(b, 0, sizeof *b);
    b->created = c[C_CREATED];
    b->resolved = c[C_RESOLVED];
    b->complaints = c[C_COMPLAINTS];
    b->callbacks = c[C_CALLBACKS];
    b->backlog = backlog;
    b->response_mean_s =
        ratio(c[C_DUR_SUM + OW_STAGE_RESPONSE], c[C_DUR_N + OW_STAGE_RESPONSE], 0.001);
    b->dispatch_mean_s =
        ratio(c[C_DUR_SUM + OW_STAGE_DISPATCH], c[C_DUR_N + OW_STAGE_DISPATCH], 0.001);
    b->response_p90_s = resp_p90_s;
    b->dispatch_p90_s = disp_p90_s;
    b->first_visit_fix_pct = ratio(c[C_FVF_YES], c[C_FVF_N], 100);
    b->repeat_visit_pct = ratio(c[C_REOPENED], c[C_RESOLVED], 100);
    b->complaint_rate_pct = ratio(c[C_COMPLAINTS], c[C_CREATED], 100);
    b->csat = ratio(c[C_SCORE_SUM], c[C_CALLBACKS], 20);
    b->nps = c[C_NPS_N] > 0 ? (double)(c[C_PROMOTERS] - c[C_DETRACTORS]) * 100 / (double)c[C_NPS_N]
                            : NAN;
    for (int st = 0; st < OW_KPI_STAGES; st++) {
        b->sla_n[st] = c[C_DUR_N + st];
        b->sla_pct[st] = ratio(c[C_MET + st], c[C_DUR_N + st], 100);
    }
    b->utilisation_pct = ratio(c[C_BUSY_MS], c[C_AVAIL_MS], 100);
    /* the mean number of technicians on shift over the window = available time / length */
    double on_shift = len_ms > 0 ? (double)c[C_AVAIL_MS] / (double)len_ms : 0;
    b->orders_per_tech = on_shift > 0 ? (double)c[C_RESOLVED] / on_shift : NAN;
}

/* Technician time not yet credited to buckets (since integ_t) for a slot's windows. */
static void pending_tech(const ow_kpi *k, int slot, int64_t *busy, int64_t *avail)
{
    *busy = *avail = 0;
    if (k->integ_t == INT64_MIN || k->now <= k->integ_t) return;
    int64_t dt;
    /* instants far outside any real time come only from a damaged checkpoint: credit nothing */
    if (__builtin_sub_overflow(k->now, k->integ_t, &dt) || dt > (INT64_C(1) << 50)) return;
    for (int s = 0; s < k->ntechs; s++) {
        if (slot && s != slot) continue;
        *busy += k->techs[s].busy * dt;
        *avail += k->techs[s].avail * dt;
    }
}

/* A window's summed counters for a slot, with technician time up to now; its length and backlog.
 */
static void raw_counts(const ow_kpi *k, ow_win_kind win, int slot, int64_t open_now, int64_t *c,
                       int64_t *len_ms, int64_t *backlog)
{
    for (int i = 0; i < C_NSUM; i++)
        c[i] = ow_win_total(k->win, win, slot, i);
    int64_t start = ow_win_start(k->win, win), end = ow_win_end(k->win, win);
    *backlog = open_now;
    if (win == OW_WIN_PREV_1H) {
        *backlog = ow_win_bucket(k->win, end - OW_WIN_BUCKET_MS, slot, C_BACKLOG);
    } else if (k->now != INT64_MIN) {
        int64_t busy, avail;
        pending_tech(k, slot, &busy, &avail);
        c[C_BUSY_MS] += busy, c[C_AVAIL_MS] += avail;
        end = k->now; /* the newest bucket is still filling */
    }
    *len_ms = end - start;
}

static void block_get(const ow_kpi *k, const ow_win_open *o, ow_win_kind win, int slot,
                      int64_t open_now, ow_kpi_block *b)
{
    int64_t c[C_NSUM], len, backlog;
    raw_counts(k, win, slot, open_now, c, &len, &backlog);
    int64_t n;
    block_from(c, win_quant_s(k, o, win, slot, OW_STAGE_RESPONSE, 0.9, &n),
               win_quant_s(k, o, win, slot, OW_STAGE_DISPATCH, 0.9, &n), len, backlog, b);
}

void ow_kpi_block_get(const ow_kpi *k, ow_win_kind win, int slot, int64_t open_now, ow_kpi_block *b)
{
    ow_win_open *o = ow_win_open_build(k->win);
    block_get(k, o, win, slot, open_now, b);
    ow_win_open_free(o);
}

int ow_kpi_block_range(const ow_kpi *k, int64_t from_ms, int64_t to_ms, int slot, ow_kpi_block *b)
{
    int64_t c[C_NSUM] = {0};
    ow_qsketch *qs[OW_WIN_STAGES] = {0};
    qs[OW_STAGE_RESPONSE] = malloc(sizeof(ow_qsketch));
    qs[OW_STAGE_DISPATCH] = malloc(sizeof(ow_qsketch));
    if (!qs[OW_STAGE_RESPONSE] || !qs[OW_STAGE_DISPATCH]) {
        free(qs[OW_STAGE_RESPONSE]), free(qs[OW_STAGE_DISPATCH]);
        return OW_ENOMEM;
    }
    ow_qs_init(qs[OW_STAGE_RESPONSE]);
    ow_qs_init(qs[OW_STAGE_DISPATCH]);
    ow_win_range(k->win, from_ms, to_ms, slot, c, qs);
    int64_t backlog = ow_win_bucket(k->win, to_ms - OW_WIN_BUCKET_MS, slot, C_BACKLOG);
    block_from(c, quant_s(qs[OW_STAGE_RESPONSE], 0.9), quant_s(qs[OW_STAGE_DISPATCH], 0.9),
               to_ms - from_ms, backlog, b);
    free(qs[OW_STAGE_RESPONSE]);
    free(qs[OW_STAGE_DISPATCH]);
    return OW_OK;
}

int64_t ow_kpi_count_range(const ow_kpi *k, int64_t from_ms, int64_t to_ms, int slot,
                           ow_kpi_count what)
{
    int c = what == OW_KPI_COUNT_CREATED    ? C_CREATED
            : what == OW_KPI_COUNT_RESOLVED ? C_RESOLVED
                                            : C_COMPLAINTS;
    int64_t n = 0;
    for (int64_t b = from_ms - ((from_ms % OW_WIN_BUCKET_MS) + OW_WIN_BUCKET_MS) % OW_WIN_BUCKET_MS;
         b < to_ms; b += OW_WIN_BUCKET_MS)
        n += ow_win_bucket(k->win, b, slot, c);
    return n;
}

/* ---- partial snapshots: raw blocks ---- */

static void int_list(ow_jsonw *w, const int64_t *v, int n);

_Static_assert(OW_KPI_RAW == C_NSUM, "kpi.h counts the raw counters");

static void raw_fill(const ow_kpi *k, const ow_win_open *o, ow_win_kind win, int64_t open_total,
                     ow_kpi_raw *r)
{
    raw_counts(k, win, 0, open_total, r->c, &r->len_ms, &r->backlog);
    ow_qs_init(&r->response);
    ow_qs_init(&r->dispatch);
    ow_win_sketch(k->win, o, win, 0, OW_STAGE_RESPONSE, &r->response);
    ow_win_sketch(k->win, o, win, 0, OW_STAGE_DISPATCH, &r->dispatch);
}

void ow_kpi_raw_get(const ow_kpi *k, ow_win_kind win, int64_t open_total, ow_kpi_raw *r)
{
    ow_win_open *o = ow_win_open_build(k->win);
    raw_fill(k, o, win, open_total, r);
    ow_win_open_free(o);
}

bool ow_kpi_raw_is_tech(int i)
{
    return i == C_BUSY_MS || i == C_AVAIL_MS;
}

void ow_kpi_raw_add(ow_kpi_raw *into, const ow_kpi_raw *from, bool first)
{
    for (int i = 0; i < C_NSUM; i++)
        if (first || !ow_kpi_raw_is_tech(i)) into->c[i] += from->c[i];
    if (first) into->len_ms = from->len_ms;
    into->backlog += from->backlog;
    ow_qs_merge(&into->response, &from->response);
    ow_qs_merge(&into->dispatch, &from->dispatch);
}

void ow_kpi_block_from_raw(const ow_kpi_raw *r, ow_kpi_block *b)
{
    block_from(r->c, quant_s(&r->response, 0.9), quant_s(&r->dispatch, 0.9), r->len_ms, r->backlog,
               b);
}

static void sketch_pairs(ow_jsonw *w, const ow_qsketch *q)
{
    ow_jsonw_raw(w, "[");
    bool first = true;
    for (int i = 0; q->n && i < OW_QS_BUCKETS; i++) {
        if (!q->count[i]) continue;
        if (!first) ow_jsonw_raw(w, ",");
        first = false;
        ow_jsonw_int(w, i);
        ow_jsonw_raw(w, ",");
        ow_jsonw_int(w, q->count[i]);
    }
    ow_jsonw_raw(w, "]");
}

static const char *const win_names[OW_WIN__COUNT] = {"1h", "prev_1h", "today", "7d"};

const char *ow_kpi_window_name(int win)
{
    return win >= 0 && win < OW_WIN__COUNT ? win_names[win] : "?";
}

void ow_kpi_write_part(const ow_kpi *k, ow_jsonw *w, int64_t open_total)
{
    ow_win_open *o = ow_win_open_build(k->win);
    ow_kpi_raw *r = malloc(sizeof *r);
    if (!o || !r) {
        w->out.oom = true;
        ow_win_open_free(o);
        free(r);
        return;
    }
    ow_jsonw_open(w);
    for (int win = 0; win < OW_WIN__COUNT; win++) {
        raw_fill(k, o, (ow_win_kind)win, open_total, r);
        ow_jsonw_key(w, win_names[win]);
        ow_jsonw_open(w);
        ow_jsonw_key(w, "c");
        int_list(w, r->c, C_NSUM);
        ow_jsonw_key(w, "len_ms"), ow_jsonw_int(w, r->len_ms);
        ow_jsonw_key(w, "backlog"), ow_jsonw_int(w, r->backlog);
        ow_jsonw_key(w, "response");
        sketch_pairs(w, &r->response);
        ow_jsonw_key(w, "dispatch");
        sketch_pairs(w, &r->dispatch);
        ow_jsonw_close(w);
    }
    ow_jsonw_close(w);
    free(r);
    ow_win_open_free(o);
}

/* ---- JSON ---- */

void ow_kpi_write_block(ow_jsonw *w, const ow_kpi_block *b)
{
    ow_jsonw_open(w);
    ow_jsonw_key(w, "created"), ow_jsonw_int(w, b->created);
    ow_jsonw_key(w, "resolved"), ow_jsonw_int(w, b->resolved);
    ow_jsonw_key(w, "response_mean_s"), ow_jsonw_num(w, b->response_mean_s, 0);
    ow_jsonw_key(w, "response_p90_s"), ow_jsonw_num(w, b->response_p90_s, 0);
    ow_jsonw_key(w, "dispatch_mean_s"), ow_jsonw_num(w, b->dispatch_mean_s, 0);
    ow_jsonw_key(w, "dispatch_p90_s"), ow_jsonw_num(w, b->dispatch_p90_s, 0);
    ow_jsonw_key(w, "first_visit_fix_pct"), ow_jsonw_num(w, b->first_visit_fix_pct, 1);
    ow_jsonw_key(w, "repeat_visit_pct"), ow_jsonw_num(w, b->repeat_visit_pct, 1);
    ow_jsonw_key(w, "complaint_rate_pct"), ow_jsonw_num(w, b->complaint_rate_pct, 1);
    ow_jsonw_key(w, "csat"), ow_jsonw_num(w, b->csat, 1);
    ow_jsonw_key(w, "nps"), ow_jsonw_num(w, b->nps, 1);
    ow_jsonw_key(w, "sla_compliance_pct");
    ow_jsonw_open(w);
    for (int st = 0; st < OW_KPI_STAGES; st++)
        ow_jsonw_key(w, stage_names[st]), ow_jsonw_num(w, b->sla_pct[st], 1);
    ow_jsonw_close(w);
    ow_jsonw_key(w, "backlog"), ow_jsonw_int(w, b->backlog);
    ow_jsonw_key(w, "utilisation_pct"), ow_jsonw_num(w, b->utilisation_pct, 1);
    ow_jsonw_key(w, "orders_per_tech"), ow_jsonw_num(w, b->orders_per_tech, 2);
    ow_jsonw_close(w);
}

static void write_windows(const ow_kpi *k, const ow_win_open *o, ow_jsonw *w, int slot,
                          int64_t open_now)
{
    ow_jsonw_open(w);
    for (int i = 0; i < OW_WIN__COUNT; i++) {
        ow_kpi_block b;
        block_get(k, o, (ow_win_kind)i, slot, open_now, &b);
        ow_jsonw_key(w, win_names[i]);
        ow_kpi_write_block(w, &b);
    }
    ow_jsonw_close(w);
}

void ow_kpi_write(const ow_kpi *k, ow_jsonw *w, const ow_names *regions, const int64_t *open,
                  int nopen)
{
    ow_win_open *o = ow_win_open_build(k->win);
    if (!o) w->out.oom = true;
    ow_jsonw_open(w);
    ow_jsonw_key(w, "overall");
    write_windows(k, o, w, 0, nopen > 0 ? open[0] : 0);
    ow_jsonw_key(w, "regions");
    ow_jsonw_open(w);
    for (uint32_t r = 0; r < regions->n; r++) {
        int slot = (int)r + 1;
        ow_jsonw_key(w, ow_names_get(regions, (int)r));
        write_windows(k, o, w, slot, slot < nopen ? open[slot] : 0);
    }
    ow_jsonw_close(w);
    ow_jsonw_close(w);
    ow_win_open_free(o);
}

void ow_kpi_write_targets(ow_jsonw *w, const ow_analytics_config *a)
{
    const struct {
        const char *name;
        int64_t v;
        bool higher;
    } rows[] = {
        {"response_mean_s", a->targets.response_mean_s, false},
        {"response_p90_s", a->targets.response_p90_s, false},
        {"dispatch_mean_s", a->targets.dispatch_mean_s, false},
        {"dispatch_p90_s", a->targets.dispatch_p90_s, false},
        {"first_visit_fix_pct", a->targets.first_visit_fix_pct, true},
        {"repeat_visit_pct", a->targets.repeat_visit_pct, false},
        {"complaint_rate_pct", a->targets.complaint_rate_pct, false},
        {"csat", a->targets.csat, true},
        {"nps", a->targets.nps, true},
        {"sla_compliance_pct", a->targets.sla_compliance_pct, true},
        {"utilisation_pct", a->targets.utilisation_pct, true},
    };
    ow_jsonw_open(w);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ow_jsonw_key(w, rows[i].name);
        ow_jsonw_open(w);
        ow_jsonw_key(w, "target"), ow_jsonw_int(w, rows[i].v);
        ow_jsonw_key(w, "better"), ow_jsonw_str(w, rows[i].higher ? "higher" : "lower");
        ow_jsonw_close(w);
    }
    ow_jsonw_close(w);
}

static void int_list(ow_jsonw *w, const int64_t *v, int n)
{
    ow_jsonw_raw(w, "[");
    for (int i = 0; i < n; i++) {
        if (i) ow_jsonw_raw(w, ",");
        ow_jsonw_int(w, v[i]);
    }
    ow_jsonw_raw(w, "]");
}

void ow_kpi_write_spark(const ow_kpi *k, ow_jsonw *w, int64_t open_total)
{
    static const struct {
        const char *name;
        int c;
    } series[] = {{"created", C_CREATED},
                  {"resolved", C_RESOLVED},
                  {"open", C_BACKLOG},
                  {"breaches", C_BREACHES},
                  {"alerts", C_ALERTS}};
    int64_t cur = ow_win_now_bucket(k->win);
    ow_jsonw_open(w);
    ow_jsonw_key(w, "bucket_s"), ow_jsonw_int(w, OW_WIN_BUCKET_MS / 1000);
    ow_jsonw_key(w, "end");
    if (cur == INT64_MIN) {
        ow_jsonw_raw(w, "null");
    } else {
        char t[OW_TIME_TEXT_MAX];
        ow_time_format(cur + OW_WIN_BUCKET_MS, t);
        ow_jsonw_str(w, t);
    }
    ow_jsonw_key(w, "series");
    ow_jsonw_open(w);
    for (size_t i = 0; i < sizeof series / sizeof series[0]; i++) {
        int64_t v[OW_KPI_SPARK] = {0};
        for (int j = 0; cur != INT64_MIN && j < OW_KPI_SPARK; j++) {
            int64_t b = cur - (int64_t)(OW_KPI_SPARK - 1 - j) * OW_WIN_BUCKET_MS;
            v[j] = series[i].c == C_BACKLOG && j == OW_KPI_SPARK - 1
                       ? open_total
                       : ow_win_bucket(k->win, b, 0, series[i].c);
        }
        ow_jsonw_key(w, series[i].name);
        int_list(w, v, OW_KPI_SPARK);
    }
    ow_jsonw_close(w);
    ow_jsonw_close(w);
}

static void region_list(ow_jsonw *w, const ow_names *regions)
{
    ow_jsonw_raw(w, "[");
    for (uint32_t r = 0; r < regions->n; r++) {
        if (r) ow_jsonw_raw(w, ",");
        ow_jsonw_str(w, ow_names_get(regions, (int)r));
    }
    ow_jsonw_raw(w, "]");
}

void ow_kpi_write_hours(const ow_kpi *k, ow_jsonw *w, const ow_names *regions)
{
    ow_jsonw_open(w);
    ow_jsonw_key(w, "window"), ow_jsonw_str(w, "7d");
    ow_jsonw_key(w, "regions");
    region_list(w, regions);
    const char *names[2] = {"orders", "complaints"};
    const int counters[2] = {C_CREATED, C_COMPLAINTS};
    for (int i = 0; i < 2; i++) {
        ow_jsonw_key(w, names[i]);
        ow_jsonw_raw(w, "[");
        for (uint32_t r = 0; r < regions->n; r++) {
            int64_t h[24];
            ow_win_hours(k->win, OW_WIN_7D, (int)r + 1, counters[i], h);
            if (r) ow_jsonw_raw(w, ",");
            int_list(w, h, 24);
        }
        ow_jsonw_raw(w, "]");
    }
    ow_jsonw_close(w);
}

void ow_kpi_write_bottleneck(const ow_kpi *k, ow_jsonw *w, const ow_names *regions)
{
    ow_jsonw_open(w);
    ow_jsonw_key(w, "stages");
    ow_jsonw_raw(w, "[");
    for (int st = 0; st < OW_KPI_STAGES; st++) {
        if (st) ow_jsonw_raw(w, ",");
        ow_jsonw_str(w, stage_names[st]);
    }
    ow_jsonw_raw(w, "]");
    ow_jsonw_key(w, "regions");
    ow_jsonw_open(w);
    ow_win_open *o = ow_win_open_build(k->win);
    for (uint32_t r = 0; o && r < regions->n; r++) {
        ow_jsonw_key(w, ow_names_get(regions, (int)r));
        ow_jsonw_open(w);
        for (int st = 0; st < OW_KPI_STAGES; st++) {
            int64_t n;
            double p50 = win_quant_s(k, o, OW_WIN_7D, (int)r + 1, st, 0.5, &n);
            if (!n) continue;
            ow_jsonw_key(w, stage_names[st]);
            ow_jsonw_open(w);
            ow_jsonw_key(w, "p50_s"), ow_jsonw_num(w, p50, 0);
            ow_jsonw_key(w, "p90_s"),
                ow_jsonw_num(w, win_quant_s(k, o, OW_WIN_7D, (int)r + 1, st, 0.9, &n), 0);
            ow_jsonw_key(w, "n"), ow_jsonw_int(w, n);
            ow_jsonw_close(w);
        }
        ow_jsonw_close(w);
    }
    if (!o) w->out.oom = true;
    ow_win_open_free(o);
    ow_jsonw_close(w);
    ow_jsonw_close(w);
}

/* ---- checkpoint ---- */

void ow_kpi_save(const ow_kpi *k, ow_buf *b)
{
    int32_t n = k->ntechs;
    ow_buf_put(b, &k->now, sizeof k->now);
    ow_buf_put(b, &k->integ_t, sizeof k->integ_t);
    ow_buf_put(b, &n, sizeof n);
    if (n) ow_buf_put(b, k->techs, (size_t)n * sizeof *k->techs);
    ow_win_save(k->win, b);
}

bool ow_kpi_load(ow_kpi *k, ow_rbuf *r)
{
    int32_t n;
    if (!ow_rbuf_get(r, &k->now, sizeof k->now) ||
        !ow_rbuf_get(r, &k->integ_t, sizeof k->integ_t) || !ow_rbuf_get(r, &n, sizeof n))
        return false;
    const int64_t lim = INT64_C(1) << 50; /* ±35,000 years: anything further is damage */
    if ((k->now != INT64_MIN && (k->now < -lim || k->now > lim)) ||
        (k->integ_t != INT64_MIN && (k->integ_t < -lim || k->integ_t > lim)))
        return ow_rbuf_fail(r, "kpi: instant out of range");
    if (n < 0 || n > (1 << 17) || (size_t)n * sizeof *k->techs > r->n - r->off)
        return ow_rbuf_fail(r, "kpi: bad technician table");
    if (n && !tech_slot(k, n - 1)) return ow_rbuf_fail(r, "out of memory");
    if (!ow_rbuf_get(r, k->techs, (size_t)n * sizeof *k->techs)) return false;
    for (int i = 0; i < n; i++)
        if (k->techs[i].busy < 0 || k->techs[i].avail < k->techs[i].busy)
            return ow_rbuf_fail(r, "kpi: bad technician counts");
    return ow_win_load(k->win, r);
}

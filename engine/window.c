#include "window.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_MS   (3600 * INT64_C(1000))
#define DAY_MS    (24 * HOUR_MS)
#define EMPTY     INT64_MIN
#define BEHIND    (OW_WIN_RING - OW_WIN_AHEAD - 1) /* oldest bucket accepted: cur - BEHIND */
#define COUNT_MAX (INT64_C(1) << 50)               /* a loaded bucket counter's bound */
/* The newest OPEN buckets are not in the windows' totals but added when read: nearly every write
 * goes to them (events arrive close to now), so a write touches one bucket and nothing else. */
#define OPEN          3
#define MAX_SLOTS     (1 << 17)
#define KEY(s, st, i) ((uint32_t)(s) << 15 | (uint32_t)(st) << 12 | (uint32_t)(i))
#define KEY_SLOT(k)   ((int)((k) >> 15))
#define KEY_STAGE(k)  ((int)(((k) >> 12) & 7))
#define KEY_IDX(k)    ((int)((k)&0xfff))

typedef struct wbucket {
    int64_t id; /* bucket number (start / OW_WIN_BUCKET_MS), EMPTY when unused */
    int nslots; /* c holds nslots × nc counters */
    int64_t *c;
    uint32_t *smp; /* packed samples */
    uint32_t ns, cap;
} wbucket;

typedef struct wslot { /* one window's running totals for one slot; allocated on first use */
    int64_t *c;        /* nsum counters */
    int64_t *hours;    /* nh × 24 */
    ow_qsketch *qs[OW_WIN_STAGES];
} wslot;

/* A window's totals hold its closed buckets [lo, hi] (hi < the newest bucket): the newest bucket
 * is still filling and is added when read, so the common write — to the newest bucket — touches
 * the bucket alone. `end` is the window's newest bucket (inclusive), the newest bucket or older. */
typedef struct wwin {
    int64_t lo, hi, end; /* lo > hi = no closed bucket held */
    int nslots;
    wslot *s;
} wwin;

struct ow_win {
    int nc, nh, nsum;
    uint32_t short_stages; /* stages with sketches in every window; the others in 7d only */
    const ow_tz *tz;       /* the city's zone, or NULL: the fixed off_ms */
    int64_t off_ms;
    int64_t cur; /* newest bucket, EMPTY before the first advance */
    int maxslot;
    wwin win[OW_WIN__COUNT];
    wbucket *ring; /* OW_WIN_RING buckets, allocated on the first write (most states loaded and
                    * dropped again — a refused checkpoint — never need it) */
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

ow_win *ow_win_new(int nc, int nh, int nsum, const ow_tz *tz, int32_t utc_offset_min,
                   uint32_t short_stages)
{
    if (nc <= 0 || nc > 64 || nh < 0 || nh > nc || nsum < nh || nsum > nc) return NULL;
    ow_win *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->nc = nc, w->nh = nh, w->nsum = nsum;
    w->short_stages = short_stages;
    w->tz = tz;
    w->off_ms = (int64_t)utc_offset_min * 60000;
    w->cur = EMPTY;
    for (int k = 0; k < OW_WIN__COUNT; k++)
        w->win[k].lo = 1, w->win[k].hi = 0, w->win[k].end = 0;
    return w;
}

static void slot_free(wslot *s)
{
    free(s->c);
    free(s->hours);
    for (int i = 0; i < OW_WIN_STAGES; i++)
        free(s->qs[i]);
}

static void bucket_clear(wbucket *b)
{
    free(b->c);
    free(b->smp);
    memset(b, 0, sizeof *b);
    b->id = EMPTY;
}

void ow_win_free(ow_win *w)
{
    if (!w) return;
    for (int i = 0; w->ring && i < OW_WIN_RING; i++)
        bucket_clear(&w->ring[i]);
    free(w->ring);
    for (int k = 0; k < OW_WIN__COUNT; k++) {
        for (int s = 0; s < w->win[k].nslots; s++)
            slot_free(&w->win[k].s[s]);
        free(w->win[k].s);
    }
    free(w);
}

/* ---- window totals ---- */

static wslot *win_slot_grow(ow_win *w, wwin *v, int slot);

static inline wslot *win_slot(ow_win *w, wwin *v, int slot)
{
    if (slot < v->nslots && v->s[slot].c) return &v->s[slot];
    return win_slot_grow(w, v, slot);
}

static wslot *win_slot_grow(ow_win *w, wwin *v, int slot)
{
    if (slot >= v->nslots) {
        int n = v->nslots ? v->nslots : 8;
        while (n <= slot)
            n *= 2;
        wslot *s = realloc(v->s, (size_t)n * sizeof *s);
        if (!s) return NULL;
        memset(s + v->nslots, 0, (size_t)(n - v->nslots) * sizeof *s);
        v->s = s;
        v->nslots = n;
    }
    wslot *s = &v->s[slot];
    if (!s->c) {
        s->c = calloc((size_t)w->nsum, sizeof *s->c);
        s->hours = calloc((size_t)(w->nh ? w->nh : 1) * 24, sizeof *s->hours);
        if (!s->c || !s->hours) {
            free(s->c), free(s->hours);
            s->c = s->hours = NULL;
            return NULL;
        }
    }
    return s;
}

static int64_t offset_at(const ow_win *w, int64_t utc_ms)
{
    return ow_tz_offset_ms(w->tz, w->off_ms, utc_ms);
}

static int local_hour(const ow_win *w, int64_t b)
{
    int64_t t = b * OW_WIN_BUCKET_MS;
    int64_t h = floor_div(t + offset_at(w, t), HOUR_MS);
    return (int)(h - floor_div(h, 24) * 24);
}

static int64_t local_midnight(const ow_win *w, int64_t t)
{
    return ow_tz_day_start(w->tz, w->off_ms, t);
}

static bool keeps(const ow_win *w, const wwin *v, int stage)
{
    return v == &w->win[OW_WIN_7D] || (w->short_stages & (1u << stage));
}

static inline int win_sample(ow_win *w, wwin *v, int slot, int stage, int idx, int delta)
{
    if (!keeps(w, v, stage)) return 0;
    wslot *s = win_slot(w, v, slot);
    if (!s) return -1;
    ow_qsketch *q = s->qs[stage];
    if (!q) {
        if (delta < 0) return 0;
        q = s->qs[stage] = malloc(sizeof *q);
        if (!q) return -1;
        ow_qs_init(q);
    }
    if (delta < 0 && q->count[idx] < (uint32_t)-delta) return 0; /* never added: nothing to undo */
    q->count[idx] += (uint32_t)delta; /* unsigned wrap-around subtracts */
    q->n += delta;
    return 0;
}

/* Add (sign 1) or subtract (-1) a whole bucket to a window. This runs once per bucket and window
 * as now moves on, over every sample of the bucket: kept tight. */
static int win_bucket(ow_win *w, wwin *v, const wbucket *b, int sign)
{
    int rc = 0, hour = local_hour(w, b->id);
    for (int s = 0; s < b->nslots; s++) {
        const int64_t *c = b->c + (size_t)s * (size_t)w->nc;
        wslot *x = NULL;
        for (int k = 0; k < w->nsum; k++) {
            if (!c[k]) continue;
            if (!x && !(x = win_slot(w, v, s))) {
                rc = -1;
                break;
            }
            x->c[k] += sign * c[k];
            if (k < w->nh) x->hours[k * 24 + hour] += sign * c[k];
        }
    }
    uint32_t keep = v == &w->win[OW_WIN_7D] ? ~0u : w->short_stages;
    for (uint32_t i = 0; i < b->ns; i++) {
        uint32_t key = b->smp[i];
        int st = KEY_STAGE(key), slot = KEY_SLOT(key);
        if (!(keep & (1u << st))) continue;
        rc |= win_sample(w, v, 0, st, KEY_IDX(key), sign);
        if (slot) rc |= win_sample(w, v, slot, st, KEY_IDX(key), sign);
    }
    return rc;
}

static void win_clear(ow_win *w, wwin *v)
{
    for (int s = 0; s < v->nslots; s++) {
        wslot *x = &v->s[s];
        if (x->c) memset(x->c, 0, (size_t)w->nsum * sizeof *x->c);
        if (x->hours) memset(x->hours, 0, (size_t)(w->nh ? w->nh : 1) * 24 * sizeof *x->hours);
        for (int i = 0; i < OW_WIN_STAGES; i++)
            if (x->qs[i]) ow_qs_init(x->qs[i]);
    }
}

static void win_range(const ow_win *w, ow_win_kind k, int64_t cur, int64_t *lo, int64_t *hi)
{
    int64_t per_hour = HOUR_MS / OW_WIN_BUCKET_MS;
    *hi = cur;
    switch (k) {
    case OW_WIN_1H: *lo = cur - per_hour + 1; break;
    case OW_WIN_PREV_1H: *lo = cur - 2 * per_hour + 1, *hi = cur - per_hour; break;
    case OW_WIN_TODAY: {
        int64_t lim = (INT64_MAX - 2 * DAY_MS) / OW_WIN_BUCKET_MS;
        if (cur > lim || cur < -lim) { /* near the end of time no midnight is representable */
            *lo = cur;
            break;
        }
        *lo = floor_div(local_midnight(w, cur * OW_WIN_BUCKET_MS), OW_WIN_BUCKET_MS);
        break;
    }
    default: *lo = cur - 7 * 24 * per_hour + 1; break;
    }
}

static bool ring_ready(ow_win *w)
{
    if (w->ring) return true;
    w->ring = malloc(OW_WIN_RING * sizeof *w->ring);
    if (!w->ring) return false;
    memset(w->ring, 0, OW_WIN_RING * sizeof *w->ring);
    for (int i = 0; i < OW_WIN_RING; i++)
        w->ring[i].id = EMPTY;
    return true;
}

static const wbucket *held(const ow_win *w, int64_t b)
{
    if (!w->ring) return NULL;
    const wbucket *x = &w->ring[(uint64_t)b % OW_WIN_RING];
    return x->id == b ? x : NULL;
}

int ow_win_advance(ow_win *w, int64_t now_ms)
{
    int64_t nb = floor_div(now_ms, OW_WIN_BUCKET_MS);
    if (w->cur != EMPTY && nb <= w->cur) return 0;
    int rc = 0;
    for (int k = 0; k < OW_WIN__COUNT; k++) {
        wwin *v = &w->win[k];
        int64_t lo, end;
        win_range(w, (ow_win_kind)k, nb, &lo, &end);
        int64_t hi = end < nb - OPEN + 1 ? end : nb - OPEN, from;
        if (v->lo > v->hi || lo > v->hi || hi - v->hi >= OW_WIN_RING) {
            win_clear(w, v);
            from = lo;
        } else {
            for (int64_t b = v->lo; b < lo; b++) {
                const wbucket *x = held(w, b);
                if (x) rc |= win_bucket(w, v, x, -1);
            }
            from = v->hi + 1 > lo ? v->hi + 1 : lo;
        }
        if (hi - from >= OW_WIN_RING) from = hi - OW_WIN_RING + 1;
        for (int64_t b = from; b <= hi; b++) {
            const wbucket *x = held(w, b);
            if (x) rc |= win_bucket(w, v, x, +1);
        }
        v->lo = lo, v->hi = hi, v->end = end;
    }
    w->cur = nb;
    return rc ? -1 : 0;
}

/* ---- buckets ---- */

/* The bucket of ts, made ready for writing with at least slot + 1 slots; NULL when ts is outside
 * what the ring holds (the value is dropped) or on out of memory (*oom). */
static wbucket *writable(ow_win *w, int64_t ts, int slot, bool *oom)
{
    int64_t b = floor_div(ts, OW_WIN_BUCKET_MS);
    if (w->cur != EMPTY && (b < w->cur - BEHIND || b > w->cur + OW_WIN_AHEAD)) return NULL;
    if (!ring_ready(w)) {
        *oom = true;
        return NULL;
    }
    wbucket *x = &w->ring[(uint64_t)b % OW_WIN_RING];
    if (x->id != b) {
        /* what the slot holds is older than anything a window covers: reuse it */
        bucket_clear(x);
        x->id = b;
    }
    if (slot >= x->nslots) {
        int n = x->nslots ? x->nslots : 1;
        while (n <= slot)
            n *= 2;
        int64_t *c = realloc(x->c, (size_t)n * (size_t)w->nc * sizeof *c);
        if (!c) {
            *oom = true;
            return NULL;
        }
        memset(c + (size_t)x->nslots * (size_t)w->nc, 0,
               (size_t)(n - x->nslots) * (size_t)w->nc * sizeof *c);
        x->c = c;
        x->nslots = n;
    }
    if (slot + 1 > w->maxslot) w->maxslot = slot + 1;
    return x;
}

static int bucket_counts(ow_win *w, wbucket *x, int slot, const ow_win_delta *d, int n);
static int bucket_sample(ow_win *w, wbucket *x, int slot, int stage, int64_t value_ms, int sign);

int ow_win_counts(ow_win *w, int slot, int64_t ts, const ow_win_delta *d, int n)
{
    if (slot < 0 || slot >= MAX_SLOTS) return 0;
    bool oom = false;
    wbucket *x = writable(w, ts, slot, &oom);
    if (!x) return oom ? -1 : 0;
    return bucket_counts(w, x, slot, d, n);
}

int ow_win_counts_sample(ow_win *w, int slot, int64_t ts, const ow_win_delta *d, int n, int stage,
                         int64_t value_ms, int sign)
{
    if (slot < 0 || slot >= MAX_SLOTS || stage < 0 || stage >= OW_WIN_STAGES) return 0;
    bool oom = false;
    wbucket *x = writable(w, ts, slot, &oom); /* one lookup for both */
    if (!x) return oom ? -1 : 0;
    return bucket_counts(w, x, slot, d, n) | bucket_sample(w, x, slot, stage, value_ms, sign);
}

static int bucket_counts(ow_win *w, wbucket *x, int slot, const ow_win_delta *d, int n)
{
    int64_t *cs = x->c + (size_t)slot * (size_t)w->nc;
    for (int i = 0; i < n; i++) {
        if (d[i].k < 0 || d[i].k >= w->nc) continue;
        cs[d[i].k] += d[i].v;
        if (slot) x->c[d[i].k] += d[i].v;
    }
    int rc = 0, hour = -1;
    for (int i = 0; i < OW_WIN__COUNT; i++) {
        wwin *v = &w->win[i];
        if (x->id < v->lo || x->id > v->hi) continue; /* not in the window, or the open bucket */
        if (hour < 0) hour = local_hour(w, x->id);
        for (int pass = 0; pass < (slot ? 2 : 1); pass++) {
            wslot *s = win_slot(w, v, pass ? 0 : slot);
            if (!s) {
                rc = -1;
                continue;
            }
            for (int j = 0; j < n; j++) {
                int k = d[j].k;
                if (k < 0 || k >= w->nsum) continue;
                s->c[k] += d[j].v;
                if (k < w->nh) s->hours[k * 24 + hour] += d[j].v;
            }
        }
    }
    return rc;
}

int ow_win_count(ow_win *w, int slot, int64_t ts, int k, int64_t delta)
{
    ow_win_delta d = {k, delta};
    return delta ? ow_win_counts(w, slot, ts, &d, 1) : 0;
}

int ow_win_set(ow_win *w, int slot, int64_t ts, int k, int64_t value)
{
    if (slot < 0 || slot >= MAX_SLOTS || k < w->nsum || k >= w->nc) return 0;
    bool oom = false;
    wbucket *x = writable(w, ts, slot, &oom);
    if (!x) return oom ? -1 : 0;
    x->c[(size_t)slot * (size_t)w->nc + (size_t)k] = value;
    return 0;
}

/* A sample of a bucket already made writable. */
static int bucket_sample(ow_win *w, wbucket *x, int slot, int stage, int64_t value_ms, int sign)
{
    int idx = ow_qs_index(value_ms);
    uint32_t key = KEY(slot, stage, idx);
    if (sign > 0) {
        if (x->ns == x->cap) {
            uint32_t cap = x->cap ? x->cap * 2 : 16;
            uint32_t *p = realloc(x->smp, cap * sizeof *p);
            if (!p) return -1;
            x->smp = p, x->cap = cap;
        }
        x->smp[x->ns++] = key;
    } else {
        /* removals are rare (late corrections): a linear search of one bucket is fine */
        uint32_t i = 0;
        while (i < x->ns && x->smp[i] != key)
            i++;
        if (i == x->ns) return 0; /* never added (dropped): nothing to take out */
        x->smp[i] = x->smp[--x->ns];
    }
    int rc = 0;
    for (int i = 0; i < OW_WIN__COUNT; i++) {
        wwin *v = &w->win[i];
        if (x->id < v->lo || x->id > v->hi) continue;
        rc |= win_sample(w, v, slot, stage, idx, sign);
        if (slot) rc |= win_sample(w, v, 0, stage, idx, sign);
    }
    return rc;
}

int ow_win_sample(ow_win *w, int slot, int64_t ts, int stage, int64_t value_ms, int sign)
{
    if (slot < 0 || slot >= MAX_SLOTS || stage < 0 || stage >= OW_WIN_STAGES) return 0;
    bool oom = false;
    wbucket *x = writable(w, ts, slot, &oom);
    if (!x) return oom ? -1 : 0;
    return bucket_sample(w, x, slot, stage, value_ms, sign);
}

/* ---- reading ---- */

int64_t ow_win_now_bucket(const ow_win *w)
{
    return w->cur == EMPTY ? EMPTY : w->cur * OW_WIN_BUCKET_MS;
}

int64_t ow_win_start(const ow_win *w, ow_win_kind k)
{
    return w->win[k].lo * OW_WIN_BUCKET_MS;
}

int64_t ow_win_end(const ow_win *w, ow_win_kind k)
{
    return (w->win[k].end + 1) * OW_WIN_BUCKET_MS;
}

/* The i-th open bucket (0 ≤ i < OPEN) when the window includes it (open buckets are added on
 * reading), else NULL. */
static const wbucket *open_bucket(const ow_win *w, ow_win_kind kind, int i)
{
    const wwin *v = &w->win[kind];
    if (w->cur == EMPTY) return NULL; /* before the subtraction: EMPTY - i overflows */
    int64_t b = w->cur - i;
    if (b < v->lo || b > v->end || b <= v->hi) return NULL;
    return held(w, b);
}

static const wslot *read_slot(const ow_win *w, ow_win_kind kind, int slot)
{
    const wwin *v = &w->win[kind];
    if (slot < 0 || slot >= v->nslots || !v->s[slot].c) return NULL;
    return &v->s[slot];
}

static int64_t bucket_value(const ow_win *w, const wbucket *x, int slot, int k)
{
    return x && slot < x->nslots ? x->c[(size_t)slot * (size_t)w->nc + (size_t)k] : 0;
}

int64_t ow_win_total(const ow_win *w, ow_win_kind kind, int slot, int k)
{
    if (slot < 0 || k < 0 || k >= w->nsum) return 0;
    const wslot *s = read_slot(w, kind, slot);
    int64_t t = s ? s->c[k] : 0;
    for (int i = 0; i < OPEN; i++)
        t += bucket_value(w, open_bucket(w, kind, i), slot, k);
    return t;
}

void ow_win_hours(const ow_win *w, ow_win_kind kind, int slot, int k, int64_t out[24])
{
    const wslot *s = read_slot(w, kind, slot);
    for (int h = 0; h < 24; h++)
        out[h] = s && k >= 0 && k < w->nh ? s->hours[k * 24 + h] : 0;
    for (int i = 0; i < OPEN; i++) {
        const wbucket *x = open_bucket(w, kind, i);
        if (x && slot >= 0 && k >= 0 && k < w->nh)
            out[local_hour(w, x->id)] += bucket_value(w, x, slot, k);
    }
}

/* The open buckets' samples as sketches, built once per reading (a snapshot reads ~100
 * quantiles; each would otherwise scan the open buckets again). */
struct ow_win_open {
    int nslots;
    int64_t id[OPEN];     /* bucket of each part, EMPTY when not held */
    ow_qsketch **q[OPEN]; /* [slot * OW_WIN_STAGES + stage], NULL when no sample */
};

void ow_win_open_free(ow_win_open *o)
{
    if (!o) return;
    for (int i = 0; i < OPEN; i++) {
        for (int j = 0; o->q[i] && j < o->nslots * OW_WIN_STAGES; j++)
            free(o->q[i][j]);
        free(o->q[i]);
    }
    free(o);
}

static bool open_add(ow_win_open *o, int part, int slot, int stage, int idx)
{
    ow_qsketch **p = &o->q[part][slot * OW_WIN_STAGES + stage];
    if (!*p) {
        *p = malloc(sizeof **p);
        if (!*p) return false;
        ow_qs_init(*p);
    }
    (*p)->count[idx]++;
    (*p)->n++;
    return true;
}

ow_win_open *ow_win_open_build(const ow_win *w)
{
    ow_win_open *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->nslots = w->maxslot > 0 ? w->maxslot : 1;
    for (int i = 0; i < OPEN; i++) {
        o->id[i] = EMPTY;
        const wbucket *x = w->cur == EMPTY ? NULL : held(w, w->cur - i);
        if (!x) continue;
        o->id[i] = x->id;
        o->q[i] = calloc((size_t)o->nslots * OW_WIN_STAGES, sizeof *o->q[i]);
        if (!o->q[i]) goto oom;
        for (uint32_t j = 0; j < x->ns; j++) {
            uint32_t key = x->smp[j];
            int slot = KEY_SLOT(key), st = KEY_STAGE(key), idx = KEY_IDX(key);
            if (slot >= o->nslots) continue;
            if (!open_add(o, i, 0, st, idx) || (slot && !open_add(o, i, slot, st, idx))) goto oom;
        }
    }
    return o;
oom:
    ow_win_open_free(o);
    return NULL;
}

/* The sketches that hold a window's samples of a stage for a slot: its running one and the open
 * buckets it covers. Returns how many were put in parts (at most 1 + OPEN); 0 when the window
 * keeps no sketch of that stage. */
static int window_parts(const ow_win *w, const ow_win_open *o, ow_win_kind kind, int slot,
                        int stage, const ow_qsketch *parts[1 + OPEN])
{
    int np = 0;
    if (slot < 0 || stage < 0 || stage >= OW_WIN_STAGES || !keeps(w, &w->win[kind], stage))
        return 0;
    const wslot *s = read_slot(w, kind, slot);
    if (s && s->qs[stage] && s->qs[stage]->n) parts[np++] = s->qs[stage];
    const wwin *v = &w->win[kind];
    for (int i = 0; o && i < OPEN; i++) {
        int64_t b = o->id[i];
        if (b == EMPTY || b < v->lo || b > v->end || b <= v->hi || slot >= o->nslots) continue;
        const ow_qsketch *p = o->q[i][slot * OW_WIN_STAGES + stage];
        if (p && p->n) parts[np++] = p;
    }
    return np;
}

double ow_win_quantile(const ow_win *w, const ow_win_open *o, ow_win_kind kind, int slot, int stage,
                       double q, int64_t *n)
{
    const ow_qsketch *parts[1 + OPEN];
    int np = window_parts(w, o, kind, slot, stage, parts);
    int64_t total = 0;
    for (int i = 0; i < np; i++)
        total += parts[i]->n;
    *n = total;
    if (!total) return -1;
    if (q < 0) q = 0;
    if (q > 1) q = 1;
    int64_t rank = (int64_t)ceil(q * (double)total), seen = 0;
    if (rank < 1) rank = 1;
    for (int idx = 0; idx < OW_QS_BUCKETS; idx++) {
        for (int i = 0; i < np; i++)
            seen += parts[i]->count[idx];
        if (seen >= rank) return ow_qs_value(idx);
    }
    return ow_qs_value(OW_QS_BUCKETS - 1);
}

int64_t ow_win_sketch(const ow_win *w, const ow_win_open *o, ow_win_kind kind, int slot, int stage,
                      ow_qsketch *into)
{
    const ow_qsketch *parts[1 + OPEN];
    int np = window_parts(w, o, kind, slot, stage, parts);
    int64_t n = 0;
    for (int i = 0; i < np; i++) {
        ow_qs_merge(into, parts[i]);
        n += parts[i]->n;
    }
    return n;
}

int64_t ow_win_bucket(const ow_win *w, int64_t bucket_start_ms, int slot, int k)
{
    const wbucket *x = held(w, floor_div(bucket_start_ms, OW_WIN_BUCKET_MS));
    if (!x || slot < 0 || slot >= x->nslots || k < 0 || k >= w->nc) return 0;
    return x->c[(size_t)slot * (size_t)w->nc + (size_t)k];
}

int ow_win_range(const ow_win *w, int64_t from_ms, int64_t to_ms, int slot, int64_t *c,
                 ow_qsketch *const qs[OW_WIN_STAGES])
{
    int held_n = 0;
    int64_t lo = floor_div(from_ms, OW_WIN_BUCKET_MS), hi = floor_div(to_ms - 1, OW_WIN_BUCKET_MS);
    if (hi - lo >= OW_WIN_RING) lo = hi - OW_WIN_RING + 1;
    for (int64_t b = lo; b <= hi; b++) {
        const wbucket *x = held(w, b);
        if (!x) continue;
        held_n++;
        if (slot < x->nslots)
            for (int k = 0; k < w->nsum; k++)
                c[k] += x->c[(size_t)slot * (size_t)w->nc + (size_t)k];
        for (uint32_t i = 0; i < x->ns; i++) {
            uint32_t key = x->smp[i];
            if ((slot == 0 || KEY_SLOT(key) == slot) && qs[KEY_STAGE(key)])
                ow_qs_add(qs[KEY_STAGE(key)], KEY_IDX(key), 1);
        }
    }
    return held_n;
}

int ow_win_slots(const ow_win *w)
{
    return w->maxslot;
}

/* ---- checkpoint ---- */

/* A bucket worth saving: used, and not so old that it is only waiting to be reused. */
static bool live(const ow_win *w, const wbucket *x)
{
    return x->id != EMPTY &&
           (w->cur == EMPTY || (x->id >= w->cur - BEHIND && x->id <= w->cur + OW_WIN_AHEAD));
}

void ow_win_save(const ow_win *w, ow_buf *b)
{
    ow_buf_put(b, &w->cur, sizeof w->cur);
    uint32_t n = 0;
    for (int i = 0; w->ring && i < OW_WIN_RING; i++)
        n += live(w, &w->ring[i]);
    ow_buf_put(b, &n, sizeof n);
    for (int i = 0; n && i < OW_WIN_RING; i++) {
        const wbucket *x = &w->ring[i];
        if (!live(w, x)) continue;
        uint32_t slots = (uint32_t)x->nslots;
        ow_buf_put(b, &x->id, sizeof x->id);
        ow_buf_put(b, &slots, sizeof slots);
        /* counters sparsely: most (slot, counter) pairs of a bucket are zero */
        uint32_t total = slots * (uint32_t)w->nc, nz = 0;
        for (uint32_t j = 0; j < total; j++)
            nz += x->c[j] != 0;
        ow_buf_put(b, &nz, sizeof nz);
        for (uint32_t j = 0; j < total; j++) {
            if (!x->c[j]) continue;
            ow_buf_put(b, &j, sizeof j);
            ow_buf_put(b, &x->c[j], sizeof x->c[j]);
        }
        ow_buf_put(b, &x->ns, sizeof x->ns);
        if (x->ns) ow_buf_put(b, x->smp, (size_t)x->ns * sizeof *x->smp);
    }
}

bool ow_win_load(ow_win *w, ow_rbuf *r)
{
    int64_t cur;
    uint32_t n;
    if (!ow_rbuf_get(r, &cur, sizeof cur) || !ow_rbuf_get(r, &n, sizeof n)) return false;
    /* a bucket whose start in ms (and its neighbours' ids) fits int64 with room to spare: a
     * corrupt checkpoint must not overflow cur * OW_WIN_BUCKET_MS or cur ± BEHIND below */
    const int64_t cur_max = INT64_MAX / OW_WIN_BUCKET_MS / 2;
    if (cur != EMPTY && (cur > cur_max || cur < -cur_max))
        return ow_rbuf_fail(r, "window: current bucket out of range");
    if (n > OW_WIN_RING) return ow_rbuf_fail(r, "window: too many buckets");
    for (uint32_t i = 0; i < n; i++) {
        int64_t id;
        uint32_t slots, ns;
        if (!ow_rbuf_get(r, &id, sizeof id) || !ow_rbuf_get(r, &slots, sizeof slots)) return false;
        if (id == EMPTY || slots > MAX_SLOTS ||
            (cur != EMPTY && (id < cur - BEHIND || id > cur + OW_WIN_AHEAD)))
            return ow_rbuf_fail(r, "window: bucket out of range");
        if (!ring_ready(w)) return ow_rbuf_fail(r, "out of memory");
        wbucket *x = &w->ring[(uint64_t)id % OW_WIN_RING];
        if (x->id != EMPTY) return ow_rbuf_fail(r, "window: bucket listed twice");
        size_t nc = (size_t)slots * (size_t)w->nc;
        uint32_t nz;
        if (!ow_rbuf_get(r, &nz, sizeof nz)) return false;
        if (nz > nc || (size_t)nz * 12 > r->n - r->off) return ow_rbuf_fail(r, "truncated");
        x->c = calloc(nc ? nc : 1, sizeof *x->c);
        if (!x->c) return ow_rbuf_fail(r, "out of memory");
        x->id = id;
        x->nslots = (int)slots;
        for (uint32_t j = 0; j < nz; j++) {
            uint32_t pos;
            int64_t v;
            if (!ow_rbuf_get(r, &pos, sizeof pos) || !ow_rbuf_get(r, &v, sizeof v)) return false;
            if (pos >= nc) return ow_rbuf_fail(r, "window: counter out of range");
            /* a window adds up to OW_WIN_RING (2^11) buckets: 2^50 each keeps every sum, and
             * its removal, inside int64 (2^50 ms of summed durations is 35,000 years) */
            if (v > COUNT_MAX || v < -COUNT_MAX)
                return ow_rbuf_fail(r, "window: counter too large");
            x->c[pos] = v;
        }
        if (!ow_rbuf_get(r, &ns, sizeof ns)) return false;
        if (ns > r->n - r->off || (size_t)ns * sizeof *x->smp > r->n - r->off)
            return ow_rbuf_fail(r, "truncated");
        if (ns) {
            x->smp = malloc((size_t)ns * sizeof *x->smp);
            if (!x->smp) return ow_rbuf_fail(r, "out of memory");
            x->ns = x->cap = ns;
            if (!ow_rbuf_get(r, x->smp, (size_t)ns * sizeof *x->smp)) return false;
            for (uint32_t j = 0; j < ns; j++)
                if (KEY_SLOT(x->smp[j]) >= (int)slots || KEY_IDX(x->smp[j]) >= OW_QS_BUCKETS)
                    return ow_rbuf_fail(r, "window: bad sample");
        }
        if ((int)slots > w->maxslot) w->maxslot = (int)slots;
    }
    if (cur != EMPTY && ow_win_advance(w, cur * OW_WIN_BUCKET_MS))
        return ow_rbuf_fail(r, "out of memory");
    return true;
}

#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "json.h"
#include "jsonw.h"
#include "kpi.h"
#include "timefmt.h"

/* The merge's working state: the parts, the reference partition and the first error. */
typedef struct mctx {
    const ow_merge_part *parts;
    int n;
    int ref; /* the partition replicated members come from */
    const ow_partition_table *owners;
    ow_err *err;
    bool failed;
} mctx;

static bool fail(mctx *m, int p, const char *member, const char *what, const cJSON *v)
{
    if (!m->failed)
        ow_err_set(m->err, OW_EINVAL, "partial snapshot of partition %d: %s: expected %s, got %s",
                   p, member, what, v ? ow_json_type_name(v) : "nothing");
    m->failed = true;
    return false;
}

static bool oom(mctx *m)
{
    if (!m->failed) ow_err_set(m->err, OW_ENOMEM, "merging partial snapshots: out of memory");
    m->failed = true;
    return false;
}

static const cJSON *snap(const mctx *m, int p)
{
    return m->parts[p].snap;
}

/* Member `key` of partition p's snapshot when it has the wanted type; NULL when absent (no data);
 * a wrong type fails the merge. */
static const cJSON *member(mctx *m, int p, const cJSON *obj, const char *key, int type,
                           const char *path)
{
    const cJSON *v = ow_json_get(obj, key);
    if (!v || cJSON_IsNull(v)) return NULL;
    if ((v->type & 0xff) != type) {
        static const struct {
            int t;
            const char *name;
        } names[] = {{cJSON_Object, "an object"},
                     {cJSON_Array, "an array"},
                     {cJSON_Number, "a number"},
                     {cJSON_String, "a string"}};
        const char *want = "a value";
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (names[i].t == type) want = names[i].name;
        fail(m, p, path, want, v);
        return NULL;
    }
    return v;
}

/* A number that is an integer of sane size; 0 when absent. */
static int64_t int_of(mctx *m, int p, const cJSON *v, const char *path)
{
    int64_t x = 0;
    if (!v || cJSON_IsNull(v)) return 0;
    if (!ow_json_int(v, -(INT64_C(1) << 53), INT64_C(1) << 53, &x))
        fail(m, p, path, "an integer", v);
    return x;
}

static cJSON *dup(mctx *m, const cJSON *v);

/* A copy of v, or null when v is absent. */
static cJSON *dup_or_null(mctx *m, const cJSON *v)
{
    return v ? dup(m, v) : cJSON_CreateNull();
}

static cJSON *dup(mctx *m, const cJSON *v)
{
    cJSON *c = cJSON_Duplicate(v, true);
    if (!c) oom(m);
    return c;
}

static void add(mctx *m, cJSON *o, const char *key, cJSON *v)
{
    if (!v || !cJSON_AddItemToObject(o, key, v)) {
        cJSON_Delete(v);
        oom(m);
    }
}

static void add_int(mctx *m, cJSON *o, const char *key, int64_t v)
{
    add(m, o, key, cJSON_CreateNumber((double)v));
}

/* ---- sums ---- */

/* Partition order with the reference first (replicated values come from it). */
static int nth(const mctx *m, int k)
{
    return k == 0 ? m->ref : (k <= m->ref ? k - 1 : k);
}

/* The sum over partitions of top-level integer `key`. */
static int64_t sum_top(mctx *m, const char *key)
{
    int64_t s = 0;
    for (int p = 0; p < m->n; p++)
        if (snap(m, p)) s += int_of(m, p, ow_json_get(snap(m, p), key), key);
    return s;
}

/* An object of integers summed key by key (keys of the reference first, then new ones). */
static cJSON *sum_object(mctx *m, const char *key)
{
    cJSON *out = cJSON_CreateObject();
    if (!out) return oom(m), NULL;
    for (int k = 0; k < m->n; k++) {
        int p = nth(m, k);
        const cJSON *o = snap(m, p) ? member(m, p, snap(m, p), key, cJSON_Object, key) : NULL;
        for (const cJSON *e = o ? o->child : NULL; e; e = e->next) {
            int64_t v = int_of(m, p, e, key);
            cJSON *have = cJSON_GetObjectItemCaseSensitive(out, e->string);
            if (have)
                cJSON_SetNumberValue(have, have->valuedouble + (double)v);
            else
                add_int(m, out, e->string, v);
        }
    }
    return out;
}

/* ---- top-k lists ---- */

typedef struct trow {
    const cJSON *v;
    const char *id, *t; /* id, and the time it sorts by */
    int64_t a, b;       /* other sort keys */
} trow;

typedef struct trows {
    trow *v;
    size_t n, cap;
} trows;

static bool rows_push(mctx *m, trows *r, trow x)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        trow *v = realloc(r->v, cap * sizeof *v);
        if (!v) return oom(m);
        r->v = v, r->cap = cap;
    }
    r->v[r->n++] = x;
    return true;
}

static const char *str_of(mctx *m, int p, const cJSON *obj, const char *key, const char *path)
{
    const cJSON *v = member(m, p, obj, key, cJSON_String, path);
    return v ? v->valuestring : "";
}

static int stage_index(const char *name)
{
    for (int i = 0; i <= OW_STAGE_COMPLAINT; i++)
        if (strcmp(ow_alert_stage_name(i), name) == 0) return i;
    return OW_STAGE_COMPLAINT + 1;
}

/* urgent: breach_at, then order, then stage (picture.c more_urgent) */
static int cmp_urgent(const void *x, const void *y)
{
    const trow *a = x, *b = y;
    int c = strcmp(a->t, b->t);
    if (c) return c;
    c = strcmp(a->id, b->id);
    if (c) return c;
    return (a->a > b->a) - (a->a < b->a);
}

/* flags: newest first, then id (flags.c cmp_newest) */
static int cmp_flags(const void *x, const void *y)
{
    const trow *a = x, *b = y;
    int c = strcmp(b->t, a->t);
    return c ? c : strcmp(a->id, b->id);
}

/* escalations: highest level, then oldest, then id (picture.c esc_before) */
static int cmp_esc(const void *x, const void *y)
{
    const trow *a = x, *b = y;
    if (a->a != b->a) return a->a > b->a ? -1 : 1;
    int c = strcmp(a->t, b->t);
    return c ? c : strcmp(a->id, b->id);
}

enum { L_URGENT, L_FLAGS, L_ESC };

static cJSON *merge_list(mctx *m, const char *key, int kind, size_t k)
{
    trows r = {0};
    for (int p = 0; p < m->n && !m->failed; p++) {
        const cJSON *arr = snap(m, p) ? member(m, p, snap(m, p), key, cJSON_Array, key) : NULL;
        for (const cJSON *e = arr ? arr->child : NULL; e && !m->failed; e = e->next) {
            if (!cJSON_IsObject(e)) {
                fail(m, p, key, "an array of objects", e);
                break;
            }
            trow x = {.v = e};
            if (kind == L_URGENT) {
                x.id = str_of(m, p, e, "order_id", "urgent[].order_id");
                x.t = str_of(m, p, e, "breach_at", "urgent[].breach_at");
                x.a = stage_index(str_of(m, p, e, "stage", "urgent[].stage"));
            } else {
                x.id = str_of(m, p, e, "id", kind == L_FLAGS ? "flags[].id" : "escalations[].id");
                x.t = str_of(m, p, e, "at", kind == L_FLAGS ? "flags[].at" : "escalations[].at");
                if (kind == L_ESC)
                    x.a = int_of(m, p, ow_json_get(e, "level"), "escalations[].level");
            }
            rows_push(m, &r, x);
        }
    }
    cJSON *out = m->failed ? NULL : cJSON_CreateArray();
    if (!out) {
        free(r.v);
        if (!m->failed) oom(m);
        return NULL;
    }
    if (r.n)
        qsort(r.v, r.n, sizeof *r.v,
              kind == L_URGENT  ? cmp_urgent
              : kind == L_FLAGS ? cmp_flags
                                : cmp_esc);
    size_t kept = 0;
    for (size_t i = 0; i < r.n && kept < k; i++) {
        /* the same alert or flag raised by two partitions (a shared condition) once; urgent rows
         * are one order's clock each, which lives in one partition */
        if (kind != L_URGENT) {
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = strcmp(r.v[j].id, r.v[i].id) == 0;
            if (seen) continue;
        }
        cJSON *c = dup(m, r.v[i].v);
        if (!c || !cJSON_AddItemToArray(out, c)) {
            cJSON_Delete(c);
            oom(m);
            break;
        }
        kept++;
    }
    free(r.v);
    return out;
}

/* ---- regions ---- */

static const cJSON *find_by_id(const cJSON *arr, const char *id)
{
    for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next) {
        const cJSON *v = ow_json_get(e, "id");
        if (cJSON_IsString(v) && strcmp(v->valuestring, id) == 0) return e;
    }
    return NULL;
}

static cJSON *merge_regions(mctx *m)
{
    static const char *const sums[] = {"open", "breached", "alerts_open", "backlog"};
    cJSON *out = cJSON_CreateArray();
    if (!out) return oom(m), NULL;
    for (int k = 0; k < m->n && !m->failed; k++) {
        int p = nth(m, k);
        const cJSON *arr =
            snap(m, p) ? member(m, p, snap(m, p), "regions", cJSON_Array, "regions") : NULL;
        for (const cJSON *e = arr ? arr->child : NULL; e && !m->failed; e = e->next) {
            const char *id = cJSON_IsObject(e) ? str_of(m, p, e, "id", "regions[].id") : NULL;
            if (!id || !id[0]) {
                fail(m, p, "regions[]", "objects with an id", e);
                break;
            }
            cJSON *have = (cJSON *)find_by_id(out, id);
            if (!have) {
                have = dup(m, e);
                if (!have || !cJSON_AddItemToArray(out, have)) {
                    cJSON_Delete(have);
                    oom(m);
                    break;
                }
                for (size_t i = 0; i < sizeof sums / sizeof sums[0]; i++)
                    int_of(m, p, ow_json_get(e, sums[i]), "regions[].counts");
                continue;
            }
            for (size_t i = 0; i < sizeof sums / sizeof sums[0]; i++) {
                cJSON *h = cJSON_GetObjectItemCaseSensitive(have, sums[i]);
                int64_t v = int_of(m, p, ow_json_get(e, sums[i]), "regions[].counts");
                if (cJSON_IsNumber(h)) cJSON_SetNumberValue(h, h->valuedouble + (double)v);
            }
        }
    }
    return out;
}

/* ---- kpi ---- */

static bool parse_pairs(mctx *m, int p, const cJSON *arr, ow_qsketch *q, const char *path)
{
    if (!arr) return true;
    if (!cJSON_IsArray(arr)) return fail(m, p, path, "an array of index, count pairs", arr);
    for (const cJSON *e = arr->child; e; e = e->next ? e->next->next : NULL) {
        int64_t idx, cnt;
        if (!e->next || !ow_json_int(e, 0, OW_QS_BUCKETS - 1, &idx) ||
            !ow_json_int(e->next, 0, UINT32_MAX, &cnt))
            return fail(m, p, path, "index (0-2559), count pairs", e);
        /* counts beyond 32 bits across partitions would wrap: refuse such a sum */
        if ((uint64_t)q->count[idx] + (uint64_t)cnt > UINT32_MAX)
            return fail(m, p, path, "counts that fit 32 bits", e->next);
        q->count[idx] += (uint32_t)cnt;
        q->n += cnt;
    }
    return true;
}

/* One window's raw block of partition p into r (initialised by the caller). */
static bool parse_raw(mctx *m, int p, const cJSON *win, ow_kpi_raw *r, const char *path)
{
    if (!cJSON_IsObject(win)) return fail(m, p, path, "an object", win);
    const cJSON *c = ow_json_get(win, "c");
    if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) != OW_KPI_RAW)
        return fail(m, p, path, "\"c\": an array of 36 integers", c);
    int i = 0;
    for (const cJSON *e = c->child; e; e = e->next, i++) {
        r->c[i] = int_of(m, p, e, path);
        /* sums of many partitions must not overflow: ±2^53 each, at most OW_PARTITIONS_MAX */
    }
    r->len_ms = int_of(m, p, ow_json_get(win, "len_ms"), path);
    r->backlog = int_of(m, p, ow_json_get(win, "backlog"), path);
    return !m->failed && parse_pairs(m, p, ow_json_get(win, "response"), &r->response, path) &&
           parse_pairs(m, p, ow_json_get(win, "dispatch"), &r->dispatch, path);
}

static cJSON *block_json(mctx *m, const ow_kpi_block *b)
{
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_kpi_write_block(&w, b);
    cJSON *v = w.out.oom ? NULL : cJSON_Parse(w.out.p);
    ow_jsonw_fini(&w);
    if (!v) oom(m);
    return v;
}

static cJSON *merge_overall(mctx *m)
{
    cJSON *out = cJSON_CreateObject();
    ow_kpi_raw *sum = malloc(sizeof *sum), *one = malloc(sizeof *one);
    if (!out || !sum || !one) {
        cJSON_Delete(out);
        free(sum), free(one);
        return oom(m), NULL;
    }
    for (int win = 0; win < OW_WIN__COUNT && !m->failed; win++) {
        const char *wn = ow_kpi_window_name(win);
        memset(sum, 0, sizeof *sum);
        bool any = false;
        for (int k = 0; k < m->n && !m->failed; k++) {
            int p = nth(m, k);
            if (!snap(m, p)) continue;
            const cJSON *part = member(m, p, snap(m, p), "part", cJSON_Object, "part");
            const cJSON *kp = part ? member(m, p, part, "kpi", cJSON_Object, "part.kpi") : NULL;
            if (!kp) {
                if (!m->failed)
                    ow_err_set(m->err, OW_EINVAL,
                               "partial snapshot of partition %d: part.kpi: missing (is its engine "
                               "configured with cluster.partitions > 1?)",
                               p);
                m->failed = true;
                break;
            }
            memset(one, 0, sizeof *one);
            char path[64];
            snprintf(path, sizeof path, "part.kpi.%s", wn);
            if (!parse_raw(m, p, ow_json_get(kp, wn), one, path)) break;
            ow_kpi_raw_add(sum, one, !any);
            any = true;
        }
        if (m->failed) break;
        ow_kpi_block b;
        ow_kpi_block_from_raw(sum, &b);
        add(m, out, wn, block_json(m, &b));
    }
    free(sum), free(one);
    return out;
}

/* The partition to take region R's entry of a by-region object from: R's owner when it has the
 * entry; else the partition whose entry has the largest score (samples). */
typedef int64_t score_fn(mctx *m, int p, const cJSON *entry);

static cJSON *merge_by_region(mctx *m, const char *key, const char *sub, score_fn *score)
{
    cJSON *out = cJSON_CreateObject();
    if (!out) return oom(m), NULL;
    for (int k = 0; k < m->n && !m->failed; k++) {
        int p = nth(m, k);
        const cJSON *top = snap(m, p) ? member(m, p, snap(m, p), key, cJSON_Object, key) : NULL;
        const cJSON *regs = top ? member(m, p, top, sub, cJSON_Object, sub) : NULL;
        for (const cJSON *e = regs ? regs->child : NULL; e && !m->failed; e = e->next) {
            if (!cJSON_IsObject(e)) {
                fail(m, p, key, "an object per region", e);
                break;
            }
            if (cJSON_GetObjectItemCaseSensitive(out, e->string)) continue;
            int best = p;
            int64_t best_score = score(m, p, e);
            int owner = m->owners ? ow_partition_of(m->owners, e->string) : -1;
            for (int q = 0; q < m->n; q++) {
                const cJSON *qt = q != p && snap(m, q) ? ow_json_get(snap(m, q), key) : NULL;
                const cJSON *qe = ow_json_get(ow_json_get(qt, sub), e->string);
                if (!cJSON_IsObject(qe)) continue;
                int64_t s = score(m, q, qe);
                if (q == owner || (best != owner && s > best_score)) best = q, best_score = s;
            }
            const cJSON *qt = ow_json_get(snap(m, best), key);
            add(m, out, e->string, dup(m, ow_json_get(ow_json_get(qt, sub), e->string)));
        }
    }
    return out;
}

/* a region's KPI windows: the orders behind them */
static int64_t kpi_score(mctx *m, int p, const cJSON *entry)
{
    int64_t s = 0;
    for (const cJSON *w = entry->child; w; w = w->next) {
        s += int_of(m, p, ow_json_get(w, "created"), "kpi.regions");
        s += int_of(m, p, ow_json_get(w, "resolved"), "kpi.regions");
        s += int_of(m, p, ow_json_get(w, "backlog"), "kpi.regions");
    }
    return s;
}

/* a region's bottleneck stages: their samples */
static int64_t bottleneck_score(mctx *m, int p, const cJSON *entry)
{
    int64_t s = 0;
    for (const cJSON *st = entry->child; st; st = st->next)
        s += int_of(m, p, ow_json_get(st, "n"), "bottleneck.regions");
    return s;
}

static cJSON *merge_kpi(mctx *m)
{
    cJSON *out = cJSON_CreateObject();
    if (!out) return oom(m), NULL;
    add(m, out, "overall", merge_overall(m));
    if (!m->failed) add(m, out, "regions", merge_by_region(m, "kpi", "regions", kpi_score));
    return out;
}

static cJSON *merge_bottleneck(mctx *m)
{
    const cJSON *ref = ow_json_get(snap(m, m->ref), "bottleneck");
    if (!ref) return NULL;
    cJSON *out = cJSON_CreateObject();
    if (!out) return oom(m), NULL;
    add(m, out, "stages", dup(m, ow_json_get(ref, "stages")));
    add(m, out, "regions", merge_by_region(m, "bottleneck", "regions", bottleneck_score));
    return out;
}

/* ---- heat ---- */

/* Integer array `arr` of partition p added element-wise into acc[n]. */
static void add_ints(mctx *m, int p, const cJSON *arr, int64_t *acc, int n, const char *path)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != n) {
        fail(m, p, path, "an array of the reference partition's length", arr);
        return;
    }
    int i = 0;
    for (const cJSON *e = arr->child; e && !m->failed; e = e->next)
        acc[i++] += int_of(m, p, e, path);
}

static cJSON *int_array(mctx *m, const int64_t *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        cJSON *x = cJSON_CreateNumber((double)v[i]);
        if (!x || !cJSON_AddItemToArray(a, x)) {
            cJSON_Delete(x);
            cJSON_Delete(a);
            a = NULL;
        }
    }
    if (!a) oom(m);
    return a;
}

static cJSON *merge_grid(mctx *m)
{
    const cJSON *ref = member(m, m->ref, snap(m, m->ref), "heat_grid", cJSON_Object, "heat_grid");
    if (!ref) return NULL;
    int64_t cols = int_of(m, m->ref, ow_json_get(ref, "cols"), "heat_grid.cols");
    int64_t nrows = int_of(m, m->ref, ow_json_get(ref, "rows"), "heat_grid.rows");
    if (cols < 0 || nrows < 0 || cols > (1 << 22) || nrows > (1 << 22) ||
        cols * nrows > (1 << 22)) {
        fail(m, m->ref, "heat_grid.cols/rows", "a grid of at most 4 M cells", ref);
        return NULL;
    }
    size_t ncell = (size_t)(cols * nrows);
    int64_t *cell = calloc(ncell ? ncell * 3 : 1, sizeof *cell); /* open, breached, idle */
    if (!cell) return oom(m), NULL;
    for (int p = 0; p < m->n && !m->failed; p++) {
        const cJSON *g =
            snap(m, p) ? member(m, p, snap(m, p), "heat_grid", cJSON_Object, "heat_grid") : NULL;
        if (!g) continue;
        if (int_of(m, p, ow_json_get(g, "cols"), "heat_grid.cols") != cols ||
            int_of(m, p, ow_json_get(g, "rows"), "heat_grid.rows") != nrows) {
            fail(m, p, "heat_grid.cols/rows", "the reference partition's grid", g);
            break;
        }
        const cJSON *cells = member(m, p, g, "cells", cJSON_Array, "heat_grid.cells");
        for (const cJSON *c = cells ? cells->child : NULL; c && !m->failed; c = c->next) {
            int64_t v[5] = {0};
            if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) != 5) {
                fail(m, p, "heat_grid.cells[]", "[col,row,open,breached,avail_techs]", c);
                break;
            }
            int i = 0;
            for (const cJSON *x = c->child; x; x = x->next)
                v[i++] = int_of(m, p, x, "heat_grid.cells[]");
            if (v[0] < 0 || v[0] >= cols || v[1] < 0 || v[1] >= nrows) {
                fail(m, p, "heat_grid.cells[]", "a cell inside the grid", c);
                break;
            }
            int64_t *d = &cell[(size_t)(v[1] * cols + v[0]) * 3];
            d[0] += v[2], d[1] += v[3];
            if (p == m->ref) d[2] = v[4]; /* technicians: the replica of the reference */
        }
    }
    cJSON *out = m->failed ? NULL : cJSON_CreateObject(), *arr = NULL;
    if (out) {
        for (const char *const *k = (const char *const[]){"cell_m", "bbox", "cols", "rows", NULL};
             *k; k++)
            add(m, out, *k, dup_or_null(m, ow_json_get(ref, *k)));
        arr = cJSON_AddArrayToObject(out, "cells");
        if (!arr) oom(m);
    } else if (!m->failed) {
        oom(m);
    }
    for (size_t i = 0; arr && !m->failed && i < ncell; i++) {
        int64_t *d = &cell[i * 3];
        if (!d[0] && !d[1] && !d[2]) continue;
        int64_t row5[5] = {(int64_t)i % cols, (int64_t)i / cols, d[0], d[1], d[2]};
        cJSON *c = int_array(m, row5, 5);
        if (c && !cJSON_AddItemToArray(arr, c)) cJSON_Delete(c), oom(m);
    }
    free(cell);
    return out;
}

/* heat_hour: per region 24 counts of orders and of complaints, summed by region name. */
static cJSON *merge_hours(mctx *m)
{
    const cJSON *ref = member(m, m->ref, snap(m, m->ref), "heat_hour", cJSON_Object, "heat_hour");
    if (!ref) return NULL;
    cJSON *names = cJSON_CreateArray();
    int64_t(*acc)[2][24] = NULL;
    size_t nreg = 0, cap = 0;
    for (int k = 0; k < m->n && !m->failed && names; k++) {
        int p = nth(m, k);
        const cJSON *h =
            snap(m, p) ? member(m, p, snap(m, p), "heat_hour", cJSON_Object, "heat_hour") : NULL;
        if (!h) continue;
        const cJSON *rn = member(m, p, h, "regions", cJSON_Array, "heat_hour.regions");
        const cJSON *lists[2] = {
            member(m, p, h, "orders", cJSON_Array, "heat_hour.orders"),
            member(m, p, h, "complaints", cJSON_Array, "heat_hour.complaints")};
        int nr = rn ? cJSON_GetArraySize(rn) : 0;
        for (int i = 0; i < 2; i++)
            if (!m->failed && (!lists[i] || cJSON_GetArraySize(lists[i]) != nr))
                fail(m, p, "heat_hour", "one list of counts per region", lists[i]);
        for (int r = 0; r < nr && !m->failed; r++) {
            const cJSON *nm = cJSON_GetArrayItem(rn, r);
            if (!cJSON_IsString(nm)) {
                fail(m, p, "heat_hour.regions[]", "a string", nm);
                break;
            }
            size_t at = 0;
            while (at < nreg &&
                   strcmp(cJSON_GetArrayItem(names, (int)at)->valuestring, nm->valuestring) != 0)
                at++;
            if (at == nreg) {
                if (nreg == cap) {
                    cap = cap ? cap * 2 : 16;
                    void *v = realloc(acc, cap * sizeof *acc);
                    if (!v) {
                        oom(m);
                        break;
                    }
                    acc = v;
                }
                memset(acc[nreg], 0, sizeof acc[nreg]);
                cJSON *s = cJSON_CreateString(nm->valuestring);
                if (!s || !cJSON_AddItemToArray(names, s)) {
                    cJSON_Delete(s);
                    oom(m);
                    break;
                }
                nreg++;
            }
            for (int i = 0; i < 2; i++)
                add_ints(m, p, cJSON_GetArrayItem(lists[i], r), acc[at][i], 24, "heat_hour");
        }
    }
    cJSON *out = names && !m->failed ? cJSON_CreateObject() : NULL;
    if (out) {
        add(m, out, "window", dup(m, ow_json_get(ref, "window")));
        add(m, out, "regions", names);
        names = NULL;
        static const char *const keys[2] = {"orders", "complaints"};
        for (int i = 0; i < 2; i++) {
            cJSON *a = cJSON_CreateArray();
            for (size_t r = 0; a && r < nreg; r++) {
                cJSON *l = int_array(m, acc[r][i], 24);
                if (l && !cJSON_AddItemToArray(a, l)) cJSON_Delete(l), oom(m);
            }
            add(m, out, keys[i], a);
        }
    } else if (!m->failed) {
        oom(m);
    }
    cJSON_Delete(names);
    free(acc);
    return out;
}

/* Index of string s in array a (appended when absent); -1 on out of memory. */
static int intern(mctx *m, cJSON *a, const char *s)
{
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++)
        if (strcmp(e->valuestring, s) == 0) return i;
    cJSON *x = cJSON_CreateString(s);
    if (!x || !cJSON_AddItemToArray(a, x)) {
        cJSON_Delete(x);
        oom(m);
        return -1;
    }
    return i;
}

/* heat_category: regions × categories of open orders, summed by (region, category). */
static cJSON *merge_category(mctx *m)
{
    if (!member(m, m->ref, snap(m, m->ref), "heat_category", cJSON_Object, "heat_category"))
        return NULL;
    cJSON *regs = cJSON_CreateArray(), *cats = cJSON_CreateArray();
    int64_t *acc = NULL; /* [region * MAXC + category] */
    enum { MAXC = 256, MAXR = 256 };
    acc = calloc((size_t)MAXR * MAXC, sizeof *acc);
    if (!regs || !cats || !acc) oom(m);
    for (int k = 0; k < m->n && !m->failed; k++) {
        int p = nth(m, k);
        const cJSON *h =
            snap(m, p) ? member(m, p, snap(m, p), "heat_category", cJSON_Object, "heat_category")
                       : NULL;
        if (!h) continue;
        const cJSON *rn = member(m, p, h, "regions", cJSON_Array, "heat_category.regions");
        const cJSON *cn = member(m, p, h, "categories", cJSON_Array, "heat_category.categories");
        const cJSON *counts = member(m, p, h, "counts", cJSON_Array, "heat_category.counts");
        int nr = rn ? cJSON_GetArraySize(rn) : 0, nc = cn ? cJSON_GetArraySize(cn) : 0;
        if (!m->failed && (nr > MAXR || nc > MAXC)) {
            fail(m, p, "heat_category", "at most 256 regions and 256 categories", h);
            break;
        }
        if (!m->failed && (!counts || cJSON_GetArraySize(counts) != nr)) {
            fail(m, p, "heat_category.counts", "one row per region", counts);
            break;
        }
        int cidx[MAXC];
        for (int c = 0; c < nc && !m->failed; c++) {
            const cJSON *s = cJSON_GetArrayItem(cn, c);
            if (!cJSON_IsString(s)) {
                fail(m, p, "heat_category.categories[]", "a string", s);
                break;
            }
            cidx[c] = intern(m, cats, s->valuestring);
        }
        for (int r = 0; r < nr && !m->failed; r++) {
            const cJSON *s = cJSON_GetArrayItem(rn, r);
            if (!cJSON_IsString(s)) {
                fail(m, p, "heat_category.regions[]", "a string", s);
                break;
            }
            int ri = intern(m, regs, s->valuestring);
            if (m->failed) break;
            if (ri >= MAXR || cJSON_GetArraySize(cats) > MAXC) {
                fail(m, p, "heat_category", "at most 256 regions and 256 categories", h);
                break;
            }
            int64_t counts_row[MAXC] = {0};
            add_ints(m, p, cJSON_GetArrayItem(counts, r), counts_row, nc, "heat_category.counts[]");
            for (int c = 0; c < nc && !m->failed; c++)
                acc[(size_t)ri * MAXC + (size_t)cidx[c]] += counts_row[c];
        }
    }
    cJSON *out = m->failed ? NULL : cJSON_CreateObject();
    if (out) {
        int nr = cJSON_GetArraySize(regs), nc = cJSON_GetArraySize(cats);
        cJSON *counts = cJSON_CreateArray();
        for (int r = 0; counts && r < nr; r++) {
            cJSON *l = int_array(m, &acc[(size_t)r * MAXC], nc);
            if (l && !cJSON_AddItemToArray(counts, l)) cJSON_Delete(l), oom(m);
        }
        add(m, out, "regions", regs);
        add(m, out, "categories", cats);
        add(m, out, "counts", counts);
        regs = cats = NULL;
    } else if (!m->failed) {
        oom(m);
    }
    cJSON_Delete(regs);
    cJSON_Delete(cats);
    free(acc);
    return out;
}

/* ---- spark: series aligned on their end bucket, summed ---- */

#define SPARK_N 48

static cJSON *merge_spark(mctx *m)
{
    const cJSON *ref = member(m, m->ref, snap(m, m->ref), "spark", cJSON_Object, "spark");
    if (!ref) return NULL;
    int64_t bucket_s = int_of(m, m->ref, ow_json_get(ref, "bucket_s"), "spark.bucket_s");
    if (bucket_s <= 0) {
        fail(m, m->ref, "spark.bucket_s", "a positive integer", ow_json_get(ref, "bucket_s"));
        return NULL;
    }
    /* the latest end over the partitions */
    int64_t end = INT64_MIN;
    const cJSON *end_v = NULL;
    for (int p = 0; p < m->n && !m->failed; p++) {
        const cJSON *s =
            snap(m, p) ? member(m, p, snap(m, p), "spark", cJSON_Object, "spark") : NULL;
        const cJSON *e = s ? member(m, p, s, "end", cJSON_String, "spark.end") : NULL;
        int64_t t;
        ow_err terr;
        if (e && ow_time_parse(e->valuestring, strlen(e->valuestring), &t, &terr) == OW_OK &&
            t > end)
            end = t, end_v = e;
        else if (e && ow_time_parse(e->valuestring, strlen(e->valuestring), &t, &terr) != OW_OK)
            fail(m, p, "spark.end", "an RFC 3339 time", e);
    }
    static const char *const names[] = {"created", "resolved", "open", "breaches", "alerts"};
    enum { NS = sizeof names / sizeof names[0] };
    int64_t acc[NS][SPARK_N] = {{0}};
    for (int p = 0; p < m->n && !m->failed; p++) {
        const cJSON *s = snap(m, p) ? ow_json_get(snap(m, p), "spark") : NULL;
        const cJSON *e = ow_json_get(s, "end");
        const cJSON *series = s ? member(m, p, s, "series", cJSON_Object, "spark.series") : NULL;
        int64_t t;
        ow_err terr;
        if (!series || !cJSON_IsString(e) ||
            ow_time_parse(e->valuestring, strlen(e->valuestring), &t, &terr) != OW_OK)
            continue;
        int64_t shift = (end - t) / (bucket_s * 1000); /* buckets this partition lags behind */
        for (int i = 0; i < NS && !m->failed; i++) {
            int64_t v[SPARK_N] = {0};
            const cJSON *a = ow_json_get(series, names[i]);
            if (!a) continue;
            add_ints(m, p, a, v, SPARK_N, "spark.series");
            for (int j = 0; j + shift < SPARK_N && j < SPARK_N; j++)
                if (shift >= 0 && shift < SPARK_N) acc[i][j] += v[j + shift];
        }
    }
    cJSON *out = m->failed ? NULL : cJSON_CreateObject();
    if (!out) return m->failed ? NULL : (oom(m), NULL);
    add_int(m, out, "bucket_s", bucket_s);
    add(m, out, "end", end_v ? dup(m, end_v) : cJSON_CreateNull());
    cJSON *series = cJSON_AddObjectToObject(out, "series");
    for (int i = 0; series && i < NS; i++)
        add(m, series, names[i], int_array(m, acc[i], SPARK_N));
    if (!series) oom(m);
    return out;
}

/* ---- the whole ---- */

static int pick_reference(const ow_merge_part *parts, int n)
{
    int ref = -1;
    int64_t best = INT64_MIN;
    for (int pass = 0; pass < 2 && ref < 0; pass++)
        for (int p = 0; p < n; p++) {
            if (!parts[p].snap || !cJSON_IsObject(parts[p].snap) || (pass == 0 && parts[p].stale))
                continue;
            int64_t now = INT64_MIN;
            const cJSON *v = ow_json_get(parts[p].snap, "now_ms");
            if (!ow_json_int(v, INT64_MIN / 2, INT64_MAX / 2, &now)) now = INT64_MIN;
            if (ref < 0 || now > best) ref = p, best = now;
        }
    return ref;
}

static cJSON *merge_partitions(mctx *m)
{
    cJSON *out = cJSON_CreateObject();
    if (!out) return oom(m), NULL;
    for (int p = 0; p < m->n; p++) {
        char key[16];
        snprintf(key, sizeof key, "%d", p);
        cJSON *e = cJSON_CreateObject();
        add(m, out, key, e);
        if (!e) break;
        const cJSON *s = snap(m, p);
        if (s) {
            add_int(m, e, "seq", int_of(m, p, ow_json_get(s, "seq"), "seq"));
            add(m, e, "now", dup_or_null(m, ow_json_get(s, "now")));
        } else {
            add(m, e, "seq", cJSON_CreateNull());
            add(m, e, "now", cJSON_CreateNull());
        }
        add_int(m, e, "age_s", m->parts[p].age_ms / 1000);
        add(m, e, "stale", cJSON_CreateBool(m->parts[p].stale || !s));
    }
    return out;
}

/* Members copied from the reference partition, when it has them. */
static void copy_ref(mctx *m, cJSON *out, const char *key)
{
    const cJSON *v = ow_json_get(snap(m, m->ref), key);
    if (v) add(m, out, key, dup(m, v));
}

cJSON *ow_merge_build(const ow_merge_part *parts, int n, const ow_partition_table *owners,
                      int64_t seq, ow_err *err)
{
    mctx m = {.parts = parts, .n = n, .owners = owners, .err = err};
    err->code = OW_OK, err->msg[0] = '\0';
    for (int p = 0; p < n; p++)
        if (parts[p].snap && !cJSON_IsObject(parts[p].snap))
            return fail(&m, p, "(snapshot)", "an object", parts[p].snap), NULL;
    m.ref = pick_reference(parts, n);
    if (m.ref < 0) {
        ow_err_set(err, OW_ENOTFOUND, "no partition has published a snapshot yet");
        return NULL;
    }
    const cJSON *ref = snap(&m, m.ref);
    cJSON *out = cJSON_CreateObject();
    if (!out) return oom(&m), NULL;
    add_int(&m, out, "v", 1);
    add(&m, out, "type", cJSON_CreateString("snapshot"));
    add_int(&m, out, "seq", seq);
    copy_ref(&m, out, "now");
    add_int(&m, out, "now_ms", int_of(&m, m.ref, ow_json_get(ref, "now_ms"), "now_ms"));
    copy_ref(&m, out, "mode");
    add(&m, out, "open", sum_object(&m, "open"));
    add_int(&m, out, "orders_known", sum_top(&m, "orders_known"));
    add_int(&m, out, "events_applied", sum_top(&m, "events_applied"));
    /* the latest event of any partition (RFC 3339 texts of one format sort as times) */
    const cJSON *last = NULL;
    for (int p = 0; p < n; p++) {
        const cJSON *v = snap(&m, p)
                             ? member(&m, p, snap(&m, p), "last_event", cJSON_String, "last_event")
                             : NULL;
        if (v && (!last || strcmp(v->valuestring, last->valuestring) > 0)) last = v;
    }
    add(&m, out, "last_event", last ? dup(&m, last) : cJSON_CreateNull());
    add_int(&m, out, "complaints_open", sum_top(&m, "complaints_open"));
    copy_ref(&m, out, "techs");
    /* alerts: raised and open by level, summed */
    cJSON *alerts = cJSON_CreateObject();
    int64_t raised = 0, levels[4] = {0};
    for (int p = 0; p < n && alerts && !m.failed; p++) {
        const cJSON *a =
            snap(&m, p) ? member(&m, p, snap(&m, p), "alerts", cJSON_Object, "alerts") : NULL;
        if (!a) continue;
        raised += int_of(&m, p, ow_json_get(a, "raised"), "alerts.raised");
        const cJSON *l = ow_json_get(a, "open_by_level");
        if (l) add_ints(&m, p, l, levels, 4, "alerts.open_by_level");
    }
    add(&m, out, "alerts", alerts);
    if (alerts) {
        add_int(&m, alerts, "raised", raised);
        add(&m, alerts, "open_by_level", int_array(&m, levels, 4));
    }
    add(&m, out, "urgent", merge_list(&m, "urgent", L_URGENT, OW_MERGE_URGENT));
    copy_ref(&m, out, "replay");
    add_int(&m, out, "analytics_events", sum_top(&m, "analytics_events"));
    copy_ref(&m, out, "city");
    add(&m, out, "regions", merge_regions(&m));
    copy_ref(&m, out, "techs_pos");
    if (!m.failed) add(&m, out, "kpi", merge_kpi(&m));
    copy_ref(&m, out, "kpi_targets");
    cJSON *v;
    if (!m.failed && (v = merge_grid(&m)) != NULL) add(&m, out, "heat_grid", v);
    if (!m.failed && (v = merge_hours(&m)) != NULL) add(&m, out, "heat_hour", v);
    if (!m.failed && (v = merge_category(&m)) != NULL) add(&m, out, "heat_category", v);
    if (!m.failed && (v = merge_bottleneck(&m)) != NULL) add(&m, out, "bottleneck", v);
    if (!m.failed && (v = merge_spark(&m)) != NULL) add(&m, out, "spark", v);
    if (!m.failed) add(&m, out, "flags", merge_list(&m, "flags", L_FLAGS, OW_MERGE_FLAGS));
    if (!m.failed)
        add(&m, out, "escalations", merge_list(&m, "escalations", L_ESC, OW_MERGE_ESCALATIONS));
    if (!m.failed) add(&m, out, "partitions", merge_partitions(&m));
    if (m.failed) {
        cJSON_Delete(out);
        return NULL;
    }
    return out;
}

int ow_merge_alert_partition(const ow_merge_part *parts, int n, const char *id)
{
    for (int p = 0; p < n; p++) {
        const cJSON *esc = parts[p].snap ? ow_json_get(parts[p].snap, "escalations") : NULL;
        if (cJSON_IsArray(esc) && find_by_id(esc, id)) return p;
    }
    return -1;
}

/*
 * flags.c — the twelve root-cause flags. Sections: data, flag instances (raise / clear), windows,
 * technicians, regions, orders, timers, the hooks, views, checkpoint.
 *
 * Every condition is evaluated at an event's own time (or a timer's instant), from what the
 * model knows then, and the result depends only on the order events were applied in: the same
 * stream gives the same flags in batch replay, live event-time mode and after a restart.
 */
#include "flags.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckio.h"
#include "crossfacts.h"
#include "holdings.h"
#include "json.h"
#include "jsonw.h"
#include "names.h"
#include "places.h"
#include "regions.h"
#include "spatial.h"
#include "state_impl.h"
#include "timefmt.h"
#include "timerq.h"

#define NB          30     /* buckets per rolling window */
#define GRID_CELL_M 1000.0 /* technicians' grid cell; the largest order cell */
#define EVMAX       OW_FLAG_EVIDENCE_MAX
#define EMPTY_HEAD  INT64_MIN

static const char *const flag_names[] = {
#define OW_FLAG_NAME(e, name) name,
    OW_FLAGS_X(OW_FLAG_NAME)
#undef OW_FLAG_NAME
};

const char *ow_flag_name(ow_flag f)
{
    return f >= 0 && f < OW_FLAG__COUNT ? flag_names[f] : "?";
}

/* ---------------------------------------------------------------- data */

/* Order-subject variants (bits of ow_flag_order.open). */
enum {
    OV_DUP_NEAR,
    OV_DUP_ACCEPT,
    OV_REPEAT_NEW,
    OV_REPEAT_REOPEN,
    OV_NEGLECT,
    OV_SKILL,
    OV_FAR,
    OV_PARTS,
    OV__COUNT
};
static const struct {
    ow_flag flag;
    const char *suffix; /* appended to the order id in the subject */
} order_variants[OV__COUNT] = {
    [OV_DUP_NEAR] = {OW_FLAG_DUPLICATE_DISPATCH, ""},
    [OV_DUP_ACCEPT] = {OW_FLAG_DUPLICATE_DISPATCH, "/accepted"},
    [OV_REPEAT_NEW] = {OW_FLAG_REPEAT_VISIT, ""},
    [OV_REPEAT_REOPEN] = {OW_FLAG_REPEAT_VISIT, "/reopened"},
    [OV_NEGLECT] = {OW_FLAG_NEGLECTED_REGION, ""},
    [OV_SKILL] = {OW_FLAG_SKILL_MISMATCH, ""},
    [OV_FAR] = {OW_FLAG_FAR_DISPATCH, ""},
    [OV_PARTS] = {OW_FLAG_PARTS_WAIT, ""},
};

/* ow_flag_order.bits (FO_CREATED = 16 below). FO_WAITING: in the lazy neglect list (derived: not
 * saved, the list is not either) */
enum { FO_DISPATCHED = 1, FO_NEGLECT_WAIT = 2, FO_HELD = 4, FO_RESOLVED = 8, FO_WAITING = 32 };

/* Region-subject variants. */
enum { RV_SURGE, RV_UNDERSTAFFED, RV_BACKLOG, RV_CSAT };

/* Timer kinds: the top byte of the tie, so equal instants fire in a fixed order. */
enum { TK_PARTS = 1, TK_EXPIRE, TK_STALE, TK_SURGE, TK_CSAT, TK_CLUSTER };
#define TIE(kind, n) (((uint64_t)(kind) << 56) | (uint64_t)(uint32_t)(n))

/* A rolling window: n buckets of `ms` each, a count (and a sum) per bucket. */
/* A cached sum over the buckets [b - lo, b - hi] of a window ending at bucket b. */
typedef struct frange {
    int64_t b; /* EMPTY_HEAD = nothing cached */
    int64_t n;
    double sum;
} frange;

enum { R_WINDOW, R_TRAILING };

typedef struct fwin {
    int64_t head; /* newest bucket index written, EMPTY_HEAD = none */
    uint32_t *cnt;
    double *sum;     /* NULL when the window only counts */
    frange cache[2]; /* the window and its trailing span: kept equal to a recount */
} fwin;

typedef struct wspec {
    int64_t ms;      /* bucket length */
    int32_t w, t, n; /* buckets in the window, in the trailing span, in the ring */
} wspec;

/* Order record: what only some orders carry (place, skill, parts wait). */
typedef struct frec {
    order *o;
    double lon, lat;
    uint64_t addr;
    int64_t resolved_at; /* OW_NEVER unless resolved (and not reopened since) */
    int64_t parts_since; /* paused awaiting parts since, OW_NEVER */
    int32_t skill, sku;  /* -1 = none */
    int32_t idx;
    int32_t parts_pos, expire_pos; /* timer heap positions */
    int32_t paused_pos;            /* position in the parts-waiting list, -1 */
    bool has_geo, has_addr, indexed;
} frec;

typedef struct ftech {
    int32_t idx, region;
    uint8_t status;
    bool has_status, has_loc, skills_known;
    int64_t status_ts, loc_ts, first_ts;
    double lon, lat;
    uint16_t nskills, open;
    int32_t skills[OW_SKILLS_MAX];
    int32_t held; /* open orders this technician's acceptance holds */
    order **act;  /* active orders (dispatched to, not ended) */
    int32_t nact, capact;
    int32_t stale_pos;
    int64_t stale_at; /* pending stale timer, OW_NEVER */
    int32_t idle_pos; /* position in ow_flags.idle, -1 = not idle */
} ftech;

typedef struct freg {
    int32_t idx;
    int32_t open, avail, idle;
    uint16_t opened;
    fwin surge, csat;
    int64_t surge_at, csat_at;
    int32_t surge_pos, csat_pos;
    order *recent[EVMAX]; /* last orders created here (ring), for the surge's evidence */
    int64_t recent_ts[EVMAX];
    uint32_t nrecent;
} freg;

typedef struct fcat {
    int32_t idx;
    bool opened;
    fwin win;
    int64_t at;
    int32_t pos;
    const char *recent[EVMAX]; /* complaint ids (the complaints map's keys) */
    int64_t recent_ts[EVMAX];
    uint32_t nrecent;
} fcat;

typedef struct finst {
    const char *key; /* the instance map's key copy: "<flag>:<subject>" */
    char *id, *evidence, *summary;
    int64_t at;
    uint32_t n;
    int32_t region;
    const char *rname; /* the model's name of region ("" = none): stable while it lives */
    int32_t open_pos;  /* index in fl->openv, -1 = not raised */
    int32_t esc_pos;   /* place in the model's escalation index while raised, -1 = none */
    uint8_t flag, level;
} finst;

struct ow_flags {
    ow_flags_config cfg;
    wspec ws_surge, ws_cluster, ws_csat;
    ow_names tech_ids, skills, skus, depots, ccats;
    ftech **techs;
    uint32_t ntechs;
    freg **regs;
    uint32_t nregs;
    fcat **cats;
    uint32_t ncats;
    frec **recs; /* by index; NULL = the slot of a forgotten order's record, in free_recs */
    int32_t nrecs, caprecs;
    int32_t *free_recs; /* indices free for reuse, so forgetting keeps recs bounded */
    size_t nfree, capfree;
    int32_t *sku_zero, *sku_zero_depot; /* per sku: depots at 0, the last one reported */
    uint32_t nsku;
    ow_map stock; /* "depot\x1fsku" → qty + 1 */
    ow_spatial tgrid;
    ow_places places; /* the indexed records: by address and point */
    ow_timerq tq;
    frec **paused; /* records waiting for parts */
    int32_t npaused, cappaused;
    order **waiting; /* past dispatch target, undispatched, not flagged yet (lazy) */
    size_t nwaiting, capwaiting;
    int32_t idle_total;
    int32_t *idle; /* the idle technicians' indices, any order (neglected_region's evidence) */
    size_t nidle, capidle;
    ow_map inst; /* key → finst* */
    finst **openv;
    size_t nopen, capopen;
    char **retired; /* strings of earlier instances the outbox may still borrow */
    size_t nretired, capretired;
    ow_holdings *hold; /* the other partitions' orders (holdings.h); NULL until a record comes */
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return OW_OK;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q) return OW_ENOMEM;
    *p = q;
    *cap = c;
    return OW_OK;
}

static wspec make_spec(int64_t window, int64_t trailing)
{
    wspec w;
    w.ms = window / NB > 0 ? window / NB : 1;
    w.w = NB;
    w.t = trailing ? (int32_t)(trailing / w.ms > 0 ? trailing / w.ms : 1) : 0;
    w.n = w.w + w.t + w.w; /* a window's worth of slack for late events */
    return w;
}

ow_flags *ow_flags_new(const ow_flags_config *cfg)
{
    ow_flags *fl = calloc(1, sizeof *fl);
    if (!fl) return NULL;
    fl->cfg = *cfg;
    fl->ws_surge = make_spec(cfg->surge.window_ms, cfg->surge.trailing_ms);
    fl->ws_cluster =
        make_spec(cfg->complaint_cluster.window_ms, cfg->complaint_cluster.trailing_ms);
    fl->ws_csat = make_spec(cfg->complaint_cluster.csat_window_ms, 0);
    ow_names_init(&fl->tech_ids);
    ow_names_init(&fl->skills);
    ow_names_init(&fl->skus);
    ow_names_init(&fl->depots);
    ow_names_init(&fl->ccats);
    ow_map_init(&fl->stock);
    ow_map_init(&fl->inst);
    ow_spatial_init(&fl->tgrid, GRID_CELL_M);
    /* orders are only ever asked "who is within radius_m (50 m)": cells about twice the radius
     * keep a query to 9 small cells, where 1 km cells held thousands of orders in a storm */
    double r = (double)(cfg->duplicate_dispatch.radius_m > cfg->repeat_visit.radius_m
                            ? cfg->duplicate_dispatch.radius_m
                            : cfg->repeat_visit.radius_m);
    ow_places_init(&fl->places, r * 2 < 20 ? 20 : r * 2 > GRID_CELL_M ? GRID_CELL_M : r * 2);
    ow_timerq_init(&fl->tq);
    return fl;
}

static void win_free(fwin *w)
{
    free(w->cnt);
    free(w->sum);
}

void ow_flags_free(ow_flags *fl)
{
    if (!fl) return;
    ow_timerq_fini(&fl->tq); /* first: it writes to its owners */
    for (uint32_t i = 0; i < fl->ntechs; i++)
        if (fl->techs[i]) free(fl->techs[i]->act), free(fl->techs[i]);
    for (uint32_t i = 0; i < fl->nregs; i++)
        if (fl->regs[i])
            win_free(&fl->regs[i]->surge), win_free(&fl->regs[i]->csat), free(fl->regs[i]);
    for (uint32_t i = 0; i < fl->ncats; i++)
        if (fl->cats[i]) win_free(&fl->cats[i]->win), free(fl->cats[i]);
    for (int32_t i = 0; i < fl->nrecs; i++)
        free(fl->recs[i]);
    size_t pos = 0;
    void *v;
    while (ow_map_next(&fl->inst, &pos, NULL, &v)) {
        finst *in = v;
        free(in->id), free(in->evidence), free(in->summary), free(in);
    }
    ow_flags_outbox_cleared(fl);
    free(fl->retired);
    free(fl->techs), free(fl->regs), free(fl->cats), free(fl->recs);
    free(fl->sku_zero), free(fl->sku_zero_depot);
    free(fl->paused), free(fl->waiting), free(fl->openv), free(fl->idle), free(fl->free_recs);
    ow_names_fini(&fl->tech_ids), ow_names_fini(&fl->skills), ow_names_fini(&fl->skus);
    ow_names_fini(&fl->depots), ow_names_fini(&fl->ccats);
    ow_map_fini(&fl->stock), ow_map_fini(&fl->inst);
    ow_spatial_fini(&fl->tgrid), ow_places_fini(&fl->places);
    ow_holdings_free(fl->hold);
    free(fl);
}

/* ---------------------------------------------------------------- evidence */

typedef struct evb {
    const char *orders[EVMAX], *techs[EVMAX], *regions[EVMAX];
    int no, nt, nr;
    char nums[512]; /* ,"key":value pairs */
    size_t nn;
} evb;

/* Only the counts: the lists are read up to them (a builder is made on every evaluation). */
static void ev_init(evb *e)
{
    e->no = e->nt = e->nr = 0;
    e->nn = 0;
    e->nums[0] = '\0';
}

static void ev_add(const char **list, int *n, const char *id)
{
    if (!id || !*id || *n >= EVMAX) return;
    for (int i = 0; i < *n; i++)
        if (strcmp(list[i], id) == 0) return;
    list[(*n)++] = id;
}
#define EV_ORDER(e, id)  ev_add((e)->orders, &(e)->no, id)
#define EV_TECH(e, id)   ev_add((e)->techs, &(e)->nt, id)
#define EV_REGION(e, id) ev_add((e)->regions, &(e)->nr, id)

static void ev_num(evb *e, const char *key, double v)
{
    if (v == floor(v) && fabs(v) < 1e15 && !(v == 0 && signbit(v))) {
        /* a whole number (counts, seconds: nearly every one): its digits by hand, as "%.0f"
         * would print them, without printf (an alert storm raises a flag per order) */
        char tmp[24];
        int k = 0;
        int64_t i = (int64_t)v;
        uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
        do
            tmp[k++] = (char)('0' + u % 10), u /= 10;
        while (u);
        if (i < 0) tmp[k++] = '-';
        size_t kl = strlen(key), need = 4 + kl + (size_t)k;
        if (need >= sizeof e->nums - e->nn) return;
        char *o = e->nums + e->nn;
        *o++ = ',', *o++ = '"';
        memcpy(o, key, kl), o += kl;
        *o++ = '"', *o++ = ':';
        while (k)
            *o++ = tmp[--k];
        *o = '\0';
        e->nn += need;
        return;
    }
    int w = snprintf(e->nums + e->nn, sizeof e->nums - e->nn, ",\"%s\":%.2f", key, v);
    if (w > 0 && (size_t)w < sizeof e->nums - e->nn) e->nn += (size_t)w;
}

static void ev_text(evb *e, const char *key, const char *text)
{
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_raw(&w, ",\"");
    ow_jsonw_raw(&w, key);
    ow_jsonw_raw(&w, "\":");
    ow_jsonw_str(&w, text);
    if (!w.out.oom && w.out.n < sizeof e->nums - e->nn) {
        memcpy(e->nums + e->nn, w.out.p, w.out.n + 1);
        e->nn += w.out.n;
    }
    ow_jsonw_fini(&w);
}

static void write_list(ow_jsonw *w, const char *key, const char *const *ids, int n)
{
    ow_jsonw_key(w, key);
    ow_jsonw_raw(w, "[");
    for (int i = 0; i < n; i++) {
        if (i) ow_jsonw_raw(w, ",");
        ow_jsonw_str(w, ids[i]);
    }
    ow_jsonw_raw(w, "]");
}

static char *ev_render(const evb *e)
{
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_open(&w);
    write_list(&w, "orders", e->orders, e->no);
    write_list(&w, "techs", e->techs, e->nt);
    write_list(&w, "regions", e->regions, e->nr);
    ow_jsonw_raw(&w, e->nums);
    ow_jsonw_close(&w);
    return ow_jsonw_take(&w);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ---------------------------------------------------------------- instances: raise / clear */

static const char *region_name(const ow_state *s, int32_t r)
{
    return ow_names_get(&s->regions, r);
}

static void make_key(char *out, size_t n, ow_flag f, const char *subject, const char *suffix)
{
    /* "<flag>:<subject><suffix>", cut to n - 1 bytes as snprintf would, without it (per event) */
    const char *part[4] = {flag_names[f], ":", subject, suffix ? suffix : ""};
    size_t used = 0;
    for (int i = 0; i < 4 && n; i++) {
        size_t l = strlen(part[i]);
        if (l > n - 1 - used) l = n - 1 - used;
        memcpy(out + used, part[i], l);
        used += l;
    }
    if (n) out[used] = '\0';
}

static int retire(ow_flags *fl, char *p)
{
    if (!p) return OW_OK;
    if (grow((void **)&fl->retired, &fl->capretired, fl->nretired + 1, sizeof *fl->retired)) {
        free(p); /* nothing borrows it past this batch in practice; never leak */
        return OW_ENOMEM;
    }
    fl->retired[fl->nretired++] = p;
    return OW_OK;
}

void ow_flags_outbox_cleared(ow_flags *fl)
{
    for (size_t i = 0; i < fl->nretired; i++)
        free(fl->retired[i]);
    fl->nretired = 0;
}

static finst *inst_get(ow_flags *fl, const char *key, bool create)
{
    finst *in = ow_map_get(&fl->inst, key);
    if (in || !create) return in;
    in = calloc(1, sizeof *in);
    if (!in || ow_map_put(&fl->inst, key, in)) {
        free(in);
        return NULL;
    }
    in->key = ow_map_key(&fl->inst, key);
    in->open_pos = in->esc_pos = -1;
    in->region = -1;
    in->rname = "";
    return in;
}

static void fill_alert(const finst *in, ow_alert *a, ow_alert_op op, int64_t at)
{
    memset(a, 0, sizeof *a);
    a->op = op;
    a->kind = OW_ALERT_FLAG;
    a->level = in->level;
    a->at = at;
    a->region = in->rname;
    a->subject = in->id;
    a->flag = flag_names[in->flag];
    if (op == OW_ALERT_RAISE) {
        a->evidence = in->evidence;
        a->summary = in->summary;
    }
}

static int64_t flag_level(const ow_flags *fl, ow_flag f)
{
    const ow_flags_config *c = &fl->cfg;
    const int64_t levels[OW_FLAG__COUNT] = {
        c->duplicate_dispatch.level, c->repeat_visit.level,
        c->neglected_region.level,   c->surge.level,
        c->understaffed.level,       c->overload.level,
        c->skill_mismatch.level,     c->far_dispatch.level,
        c->parts_wait.level,         c->stale_technician.level,
        c->complaint_cluster.level,  c->backlog.level,
    };
    return levels[f];
}

/* Raise flag f for `key` at `at` unless raised already. 1 raised, 0 already, OW_ENOMEM. */
static int raise_key(ow_state *s, ow_flag f, const char *key, int32_t region, int64_t at,
                     const evb *e, const char *summary)
{
    ow_flags *fl = s->flags;
    finst *in = inst_get(fl, key, true);
    if (!in) return OW_ENOMEM;
    if (in->open_pos >= 0) return 0;
    char *ev = ev_render(e), *sum = strdup(summary);
    size_t idlen = strlen(key) + 32;
    char *id = malloc(idlen);
    if (!ev || !sum || !id ||
        grow((void **)&fl->openv, &fl->capopen, fl->nopen + 1, sizeof *fl->openv)) {
        free(ev), free(sum), free(id);
        return OW_ENOMEM;
    }
    snprintf(id, idlen, "flag:%s:%u", key, in->n + 1);
    if (retire(fl, in->id) || retire(fl, in->evidence) || retire(fl, in->summary)) {
        in->id = id, in->evidence = ev, in->summary = sum; /* retire freed what it could not keep */
        return OW_ENOMEM;
    }
    in->id = id, in->evidence = ev, in->summary = sum;
    in->n++;
    in->flag = (uint8_t)f;
    in->level = (uint8_t)flag_level(fl, f);
    in->at = at;
    in->region = region;
    in->rname = region_name(s, region);
    in->open_pos = (int32_t)fl->nopen;
    fl->openv[fl->nopen++] = in;
    ow_alert *a = ow_state_impl_outbox_add(s);
    if (!a || ow_state_impl_esc_flag(s, in, &in->esc_pos, in->level, at)) return OW_ENOMEM;
    fill_alert(in, a, OW_ALERT_RAISE, at);
    s->totals.alerts_raised++;
    s->totals.alerts_open_by_level[in->level]++;
    return 1;
}

/* Resolve flag `key` at `at` if raised. 1 resolved, 0 not raised, OW_ENOMEM. */
static int clear_key(ow_state *s, const char *key, int64_t at)
{
    ow_flags *fl = s->flags;
    finst *in = inst_get(fl, key, false);
    if (!in || in->open_pos < 0) return 0;
    finst *last = fl->openv[--fl->nopen];
    fl->openv[in->open_pos] = last;
    last->open_pos = in->open_pos;
    in->open_pos = -1;
    ow_state_impl_esc_flag(s, in, &in->esc_pos, -1, at);
    ow_alert *a = ow_state_impl_outbox_add(s);
    if (!a) return OW_ENOMEM;
    fill_alert(in, a, OW_ALERT_RESOLVE, at);
    s->totals.alerts_open_by_level[in->level]--;
    ow_acks_remove(&s->acks, in->id);
    return 1;
}

/* A flag that a partitioned deployment raises in another partition (ow_policy.home_table): not
 * raised here, so neither the alert nor its counts exist twice. The subject decides: a region's
 * flags (surge, understaffed, backlog, a region's CSAT) belong to the region's partition; a
 * technician's overload and silence and a complaint category's cluster to the FNV-1a hash of the
 * technician or the category. The home partition knows the technician's orders in every partition
 * from the shared stream's holding records (ow_flags_holding, engine/holdings.h) and counts the
 * other partitions' complaints of the category from their cross-partition records
 * (engine/crossfacts.h). */
static bool raised_elsewhere(const ow_state *s, ow_flag f, const char *subject, const char *suffix)
{
    const ow_partition_table *t = s->policy->home_table;
    if (!t || t->n <= 1) return false;
    const char *by_hash = NULL, *region = NULL;
    if (f == OW_FLAG_STALE_TECHNICIAN || f == OW_FLAG_OVERLOAD)
        by_hash = subject;
    else if (f == OW_FLAG_SURGE || f == OW_FLAG_UNDERSTAFFED || f == OW_FLAG_BACKLOG)
        region = subject;
    else if (f == OW_FLAG_COMPLAINT_CLUSTER && suffix && strcmp(subject, "csat/") == 0)
        region = suffix;
    else if (f == OW_FLAG_COMPLAINT_CLUSTER && suffix)
        by_hash = suffix;
    else
        return false;
    int home = by_hash ? (int)(ow_partition_hash(by_hash, strlen(by_hash)) % (uint32_t)t->n)
                       : ow_partition_of(t, region);
    return home != s->policy->home_partition;
}

/* The same, for a subject whose open bits say whether a lookup is needed at all. */
static int set_flag(ow_state *s, uint16_t *open, int bit, bool on, ow_flag f, const char *subject,
                    const char *suffix, int32_t region, int64_t at, const evb *e,
                    const char *summary)
{
    bool is = (*open >> bit) & 1;
    if (is == on || (on && raised_elsewhere(s, f, subject, suffix))) return OW_OK;
    char key[OW_ALERT_ID_BUF];
    make_key(key, sizeof key, f, subject, suffix);
    int rc = on ? raise_key(s, f, key, region, at, e, summary) : clear_key(s, key, at);
    if (rc < 0) return rc;
    *open = (uint16_t)(on ? *open | (1u << bit) : *open & ~(1u << bit));
    return OW_OK;
}

static int order_flag(ow_state *s, order *o, int v, bool on, int64_t at, const evb *e,
                      const char *summary)
{
    return set_flag(s, &o->fl.open, v, on, order_variants[v].flag, o->id, order_variants[v].suffix,
                    o->region, at, e, summary);
}

/* ---------------------------------------------------------------- windows */

static int win_init(fwin *w, const wspec *sp, bool sums)
{
    w->head = w->cache[0].b = w->cache[1].b = EMPTY_HEAD;
    w->cnt = calloc((size_t)sp->n, sizeof *w->cnt);
    w->sum = sums ? calloc((size_t)sp->n, sizeof *w->sum) : NULL;
    return w->cnt && (!sums || w->sum) ? OW_OK : OW_ENOMEM;
}

static int64_t bucket_of(const wspec *sp, int64_t t)
{
    return t >= 0 ? t / sp->ms : -((-t + sp->ms - 1) / sp->ms);
}

static int32_t slot_of(const wspec *sp, int64_t b)
{
    int64_t m = b % sp->n;
    return (int32_t)(m < 0 ? m + sp->n : m);
}

/* Bucket offsets (from the window's last bucket) of a cached range: [b - lo, b - hi]. */
static void range_offsets(const wspec *sp, int which, int64_t *lo, int64_t *hi)
{
    *lo = which == R_WINDOW ? sp->w - 1 : sp->w + sp->t - 1;
    *hi = which == R_WINDOW ? 0 : sp->w;
}

static void win_add(fwin *w, const wspec *sp, int64_t t, double sum)
{
    int64_t b = bucket_of(sp, t);
    bool advance = w->head != EMPTY_HEAD && b > w->head;
    for (int i = 0; i < 2; i++) { /* zeroing reused slots may reach a cached range: recount it */
        int64_t lo, hi;
        range_offsets(sp, i, &lo, &hi);
        if (advance && w->cache[i].b != EMPTY_HEAD && b - sp->n >= w->cache[i].b - lo)
            w->cache[i].b = EMPTY_HEAD;
    }
    if (w->head == EMPTY_HEAD) {
        w->head = b;
    } else if (advance) {
        int64_t steps = b - w->head;
        for (int64_t k = 1; k <= steps && k <= sp->n; k++) {
            int32_t sl = slot_of(sp, w->head + k);
            w->cnt[sl] = 0;
            if (w->sum) w->sum[sl] = 0;
        }
        w->head = b;
    } else if (b <= w->head - sp->n) {
        return; /* older than the ring holds */
    }
    int32_t sl = slot_of(sp, b);
    w->cnt[sl]++;
    if (w->sum) w->sum[sl] += sum;
    for (int i = 0; i < 2; i++) { /* a cached range holding this bucket counts it too */
        int64_t lo, hi;
        range_offsets(sp, i, &lo, &hi);
        frange *c = &w->cache[i];
        if (c->b != EMPTY_HEAD && b >= c->b - lo && b <= c->b - hi) c->n++, c->sum += sum;
    }
}

/* Count (and sum) of buckets lo..hi inclusive. */
static int64_t win_sum(const fwin *w, const wspec *sp, int64_t lo, int64_t hi, double *sum)
{
    int64_t n = 0;
    double s = 0;
    if (w->head != EMPTY_HEAD) {
        if (lo <= w->head - sp->n) lo = w->head - sp->n + 1;
        if (hi > w->head) hi = w->head;
        int32_t sl = lo <= hi ? slot_of(sp, lo) : 0;
        for (int64_t b = lo; b <= hi; b++) { /* no division per bucket: walk the ring */
            n += w->cnt[sl];
            if (w->sum) s += w->sum[sl];
            if (++sl == sp->n) sl = 0;
        }
    }
    if (sum) *sum = s;
    return n;
}

/* Count (and sum) of a cached range of the window ending at bucket b: recounted only when the
 * window moved far or the ring changed under it, else slid by the buckets that entered and left
 * (most evaluations are in the same bucket as the last one). */
static int64_t win_range(fwin *w, const wspec *sp, int which, int64_t b, double *sum)
{
    int64_t lo, hi;
    range_offsets(sp, which, &lo, &hi);
    frange *c = &w->cache[which];
    int64_t ob = c->b, span = lo - hi + 1;
    double in_s, out_s;
    if (ob == b) {
    } else if (ob != EMPTY_HEAD && b > ob && b - ob <= span) {
        c->n += win_sum(w, sp, ob - hi + 1, b - hi, &in_s) -
                win_sum(w, sp, ob - lo, b - lo - 1, &out_s);
        c->sum += in_s - out_s;
    } else if (ob != EMPTY_HEAD && b < ob && ob - b <= span) {
        c->n += win_sum(w, sp, b - lo, ob - lo - 1, &in_s) -
                win_sum(w, sp, b - hi + 1, ob - hi, &out_s);
        c->sum += in_s - out_s;
    } else {
        c->n = win_sum(w, sp, b - lo, b - hi, &c->sum);
    }
    c->b = b;
    if (sum) *sum = c->sum;
    return c->n;
}

/* ---------------------------------------------------------------- lookups */

static ftech *tech_get(ow_flags *fl, const char *id)
{
    int i = ow_names_intern(&fl->tech_ids, id);
    if (i < 0) return NULL;
    if ((uint32_t)i >= fl->ntechs) {
        size_t cap = fl->ntechs;
        if (grow((void **)&fl->techs, &cap, (size_t)i + 1, sizeof *fl->techs)) return NULL;
        for (size_t k = fl->ntechs; k < cap; k++)
            fl->techs[k] = NULL;
        fl->ntechs = (uint32_t)cap;
        /* room for every technician in the idle set, so adding to it never fails */
        if (grow((void **)&fl->idle, &fl->capidle, cap, sizeof *fl->idle)) return NULL;
    }
    ftech *t = fl->techs[i];
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t) return NULL;
        t->idx = i;
        t->region = -1;
        t->status_ts = t->loc_ts = t->first_ts = OW_NEVER;
        t->stale_pos = -1;
        t->stale_at = OW_NEVER;
        t->idle_pos = -1;
        fl->techs[i] = t;
    }
    return t;
}

static ftech *tech_at(const ow_flags *fl, int32_t i)
{
    return i >= 0 && (uint32_t)i < fl->ntechs ? fl->techs[i] : NULL;
}

static const char *tech_name(const ow_flags *fl, int32_t i)
{
    return ow_names_get(&fl->tech_ids, i);
}

static freg *reg_get(ow_flags *fl, int32_t r)
{
    if (r < 0) return NULL;
    if ((uint32_t)r >= fl->nregs) {
        size_t cap = fl->nregs;
        if (grow((void **)&fl->regs, &cap, (size_t)r + 1, sizeof *fl->regs)) return NULL;
        for (size_t k = fl->nregs; k < cap; k++)
            fl->regs[k] = NULL;
        fl->nregs = (uint32_t)cap;
    }
    freg *g = fl->regs[r];
    if (!g) {
        g = calloc(1, sizeof *g);
        if (!g || win_init(&g->surge, &fl->ws_surge, false) ||
            win_init(&g->csat, &fl->ws_csat, true)) {
            if (g) win_free(&g->surge), win_free(&g->csat);
            free(g);
            return NULL;
        }
        g->idx = r;
        g->surge_at = g->csat_at = OW_NEVER;
        g->surge_pos = g->csat_pos = -1;
        fl->regs[r] = g;
    }
    return g;
}

static fcat *cat_get(ow_flags *fl, const char *name)
{
    int c = ow_names_intern(&fl->ccats, name);
    if (c < 0) return NULL;
    if ((uint32_t)c >= fl->ncats) {
        size_t cap = fl->ncats;
        if (grow((void **)&fl->cats, &cap, (size_t)c + 1, sizeof *fl->cats)) return NULL;
        for (size_t k = fl->ncats; k < cap; k++)
            fl->cats[k] = NULL;
        fl->ncats = (uint32_t)cap;
    }
    fcat *k = fl->cats[c];
    if (!k) {
        k = calloc(1, sizeof *k);
        if (!k || win_init(&k->win, &fl->ws_cluster, false)) {
            if (k) win_free(&k->win);
            free(k);
            return NULL;
        }
        k->idx = c;
        k->at = OW_NEVER;
        k->pos = -1;
        fl->cats[c] = k;
    }
    return k;
}

static frec *rec_of(const ow_flags *fl, const order *o)
{
    return o->fl.rec ? fl->recs[o->fl.rec - 1] : NULL;
}

static frec *rec_get(ow_flags *fl, order *o)
{
    frec *r = rec_of(fl, o);
    if (r) return r;
    size_t cap = (size_t)fl->caprecs;
    if (!fl->nfree && grow((void **)&fl->recs, &cap, (size_t)fl->nrecs + 1, sizeof *fl->recs))
        return NULL;
    fl->caprecs = (int32_t)cap;
    r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->o = o;
    r->resolved_at = r->parts_since = OW_NEVER;
    r->skill = r->sku = -1;
    r->idx = fl->nfree ? fl->free_recs[--fl->nfree] : fl->nrecs++;
    r->parts_pos = r->expire_pos = r->paused_pos = -1;
    fl->recs[r->idx] = r;
    o->fl.rec = r->idx + 1;
    return r;
}

/* ---------------------------------------------------------------- order index (place, address) */

static int index_add(ow_flags *fl, frec *r)
{
    if (r->indexed || (!r->has_geo && !r->has_addr)) return OW_OK;
    if (ow_places_add(&fl->places, r->idx, r->has_geo, r->lon, r->lat, r->has_addr, r->addr))
        return OW_ENOMEM;
    r->indexed = true;
    return OW_OK;
}

static void index_remove(ow_flags *fl, frec *r)
{
    if (!r->indexed) return;
    ow_places_remove(&fl->places, r->idx, r->has_addr, r->addr);
    ow_timerq_remove(&fl->tq, &r->expire_pos);
    r->indexed = false;
}

/* Visit every indexed record at the same address or within radius_m of r (not r itself). */
typedef struct near_q {
    const frec *self;
    bool (*fn)(frec *other, void *arg);
    void *arg;
    ow_flags *fl;
    double radius;
    bool stop;
} near_q;

static bool near_geo(int32_t id, double d, void *arg)
{
    near_q *q = arg;
    (void)d;
    frec *o = q->fl->recs[id];
    if (o == q->self) return true;
    /* an address match is visited by the address walk; do not visit it twice */
    if (q->self->has_addr && o->has_addr && o->addr == q->self->addr) return true;
    if (!q->fn(o, q->arg)) q->stop = true;
    return !q->stop;
}

static void each_near(ow_flags *fl, const frec *r, double radius,
                      bool (*fn)(frec *other, void *arg), void *arg)
{
    near_q q = {r, fn, arg, fl, radius, false};
    if (r->has_addr)
        for (int32_t i = ow_places_first(&fl->places, r->addr); i >= 0 && !q.stop;
             i = ow_places_next(&fl->places, i))
            if (fl->recs[i] != r && !fn(fl->recs[i], arg)) q.stop = true;
    if (r->has_geo && !q.stop)
        ow_spatial_within(&fl->places.grid, r->lon, r->lat, radius, near_geo, &q);
}

/* ---------------------------------------------------------------- technicians */

static bool tech_available(const ftech *t)
{
    return t->has_status && t->status != OW_TECH_OFFLINE && t->status != OW_TECH_BREAK;
}

static bool tech_idle(const ftech *t)
{
    return t->has_status && t->status == OW_TECH_IDLE;
}

static bool tech_has_skill(const ftech *t, int32_t skill)
{
    for (int i = 0; i < t->nskills; i++)
        if (t->skills[i] == skill) return true;
    return false;
}

static int eval_region(ow_state *s, int32_t r, int64_t at);

/* Counts a technician out (-1, before a change) or in (+1, after it). */
static void region_tech_count(ow_flags *fl, ftech *t, int sign)
{
    freg *g =
        fl->regs && t->region >= 0 && (uint32_t)t->region < fl->nregs ? fl->regs[t->region] : NULL;
    if (tech_idle(t)) {
        fl->idle_total += sign;
        if (sign > 0 && t->idle_pos < 0) { /* capidle >= ntechs (tech_get) */
            t->idle_pos = (int32_t)fl->nidle;
            fl->idle[fl->nidle++] = t->idx;
        } else if (sign < 0 && t->idle_pos >= 0) {
            int32_t last = fl->idle[--fl->nidle];
            fl->idle[t->idle_pos] = last;
            fl->techs[last]->idle_pos = t->idle_pos;
            t->idle_pos = -1;
        }
    }
    if (!g) return;
    g->avail += sign * tech_available(t);
    g->idle += sign * tech_idle(t);
}

/* Overload: more than max_active active orders. */
static int eval_overload(ow_state *s, ftech *t, int64_t at)
{
    ow_flags *fl = s->flags;
    int32_t remote = fl->hold ? ow_holdings_active(fl->hold, t->idx) : 0, nact = t->nact + remote;
    bool on = nact > fl->cfg.overload.max_active;
    if (on == ((t->open >> 0) & 1)) return OW_OK;
    evb e;
    ev_init(&e);
    char summary[160];
    summary[0] = '\0';
    if (on) {
        const char *ids[64];
        int n = 0;
        for (int32_t i = 0; i < t->nact && n < 64; i++)
            ids[n++] = t->act[i]->id;
        for (int32_t i = 0; i < remote && n < 64; i++) /* other partitions' (holdings.h) */
            ids[n++] = ow_holdings_active_id(fl->hold, t->idx, i);
        qsort(ids, (size_t)n, sizeof *ids, cmp_str);
        for (int i = 0; i < n; i++)
            EV_ORDER(&e, ids[i]);
        EV_TECH(&e, tech_name(fl, t->idx));
        EV_REGION(&e, region_name(s, t->region));
        ev_num(&e, "active", nact);
        ev_num(&e, "max_active", (double)fl->cfg.overload.max_active);
        snprintf(summary, sizeof summary, "%s holds %d active orders (more than %lld)",
                 tech_name(fl, t->idx), nact, (long long)fl->cfg.overload.max_active);
    }
    return set_flag(s, &t->open, 0, on, OW_FLAG_OVERLOAD, tech_name(fl, t->idx), NULL, t->region,
                    at, &e, summary);
}

/* Only technicians who have sent a location are watched: a feed without locations would
 * otherwise flag everyone. */
static int64_t last_seen(const ftech *t)
{
    return t->has_loc ? t->loc_ts : OW_NEVER;
}

/* Open orders the technician's acceptance holds, here and (holdings.h) in other partitions. */
static int32_t held_total(const ow_flags *fl, const ftech *t)
{
    return t->held + (fl->hold ? ow_holdings_held(fl->hold, t->idx) : 0);
}

static bool tracked(const ow_flags *fl, const ftech *t)
{
    return (t->has_status && (t->status == OW_TECH_ENROUTE || t->status == OW_TECH_ONSITE)) ||
           held_total(fl, t) > 0;
}

static int stale_raise(ow_state *s, ftech *t, int64_t at)
{
    ow_flags *fl = s->flags;
    evb e;
    ev_init(&e);
    char summary[200], seen[OW_TIME_TEXT_MAX];
    EV_TECH(&e, tech_name(fl, t->idx));
    EV_REGION(&e, region_name(s, t->region));
    int64_t ls = last_seen(t);
    ow_time_format(ls, seen);
    ev_text(&e, "last_seen", seen);
    ev_text(&e, "status", t->has_status ? ow_tech_status_name((ow_tech_status)t->status) : "");
    ev_num(&e, "held", held_total(fl, t));
    ev_num(&e, "silent_s", (double)((at - ls) / 1000));
    snprintf(summary, sizeof summary, "%s: no location since %s", tech_name(fl, t->idx), seen);
    return set_flag(s, &t->open, 1, true, OW_FLAG_STALE_TECHNICIAN, tech_name(fl, t->idx), NULL,
                    t->region, at, &e, summary);
}

/* Re-decide the stale flag and its timer after anything that changes tracking or last seen. */
static int eval_stale(ow_state *s, ftech *t, int64_t at)
{
    ow_flags *fl = s->flags;
    int64_t due =
        last_seen(t) == OW_NEVER ? OW_NEVER : last_seen(t) + fl->cfg.stale_technician.after_ms;
    if (!tracked(fl, t) || due == OW_NEVER) {
        ow_timerq_remove(&fl->tq, &t->stale_pos);
        t->stale_at = OW_NEVER;
        return set_flag(s, &t->open, 1, false, OW_FLAG_STALE_TECHNICIAN, tech_name(fl, t->idx),
                        NULL, t->region, at, NULL, NULL);
    }
    if ((t->open >> 1) & 1) {
        if (due > at) { /* a fresh location ended the silence */
            int rc = set_flag(s, &t->open, 1, false, OW_FLAG_STALE_TECHNICIAN,
                              tech_name(fl, t->idx), NULL, t->region, at, NULL, NULL);
            if (rc) return rc;
        } else {
            return OW_OK;
        }
    }
    if (due <= at) {
        ow_timerq_remove(&fl->tq, &t->stale_pos);
        t->stale_at = OW_NEVER;
        return stale_raise(s, t, at);
    }
    t->stale_at = due;
    return ow_timerq_set(&fl->tq, due, TIE(TK_STALE, t->idx), t, &t->stale_pos);
}

static int act_add(ow_flags *fl, ftech *t, order *o)
{
    size_t cap = (size_t)t->capact;
    if (grow((void **)&t->act, &cap, (size_t)t->nact + 1, sizeof *t->act)) return OW_ENOMEM;
    t->capact = (int32_t)cap;
    o->fl.act_pos = t->nact;
    t->act[t->nact++] = o;
    (void)fl;
    return OW_OK;
}

static void act_remove(ftech *t, order *o)
{
    order *last = t->act[--t->nact];
    t->act[o->fl.act_pos] = last;
    last->fl.act_pos = o->fl.act_pos;
    o->fl.act_pos = -1;
}

/* ---------------------------------------------------------------- regions */

static int eval_region(ow_state *s, int32_t r, int64_t at)
{
    ow_flags *fl = s->flags;
    freg *g = r >= 0 && (uint32_t)r < fl->nregs ? fl->regs[r] : NULL;
    if (!g) return OW_OK;
    const char *name = region_name(s, r);
    evb e;
    ev_init(&e);
    char summary[200];
    summary[0] = '\0';
    /* understaffed: enough open orders, too many per available technician */
    const ow_flags_config *c = &fl->cfg;
    bool under = g->open >= c->understaffed.min_open &&
                 (double)g->open > c->understaffed.per_tech * (double)g->avail;
    if (under != ((g->opened >> RV_UNDERSTAFFED) & 1)) {
        if (under) {
            EV_REGION(&e, name);
            ev_num(&e, "open", g->open);
            ev_num(&e, "available", g->avail);
            ev_num(&e, "per_tech", g->avail ? (double)g->open / g->avail : (double)g->open);
            snprintf(summary, sizeof summary, "%s: %d open orders, %d available technicians", name,
                     g->open, g->avail);
        }
        int rc = set_flag(s, &g->opened, RV_UNDERSTAFFED, under, OW_FLAG_UNDERSTAFFED, name, NULL,
                          r, at, &e, summary);
        if (rc) return rc;
    }
    bool backlog = g->open > c->backlog.max_open;
    if (backlog != ((g->opened >> RV_BACKLOG) & 1)) {
        evb b;
        ev_init(&b);
        if (backlog) {
            EV_REGION(&b, name);
            ev_num(&b, "open", g->open);
            ev_num(&b, "max_open", (double)c->backlog.max_open);
            snprintf(summary, sizeof summary, "%s: %d open orders (more than %lld)", name, g->open,
                     (long long)c->backlog.max_open);
        }
        int rc = set_flag(s, &g->opened, RV_BACKLOG, backlog, OW_FLAG_BACKLOG, name, NULL, r, at,
                          &b, summary);
        if (rc) return rc;
    }
    return OW_OK;
}

/* Surge at instant t: 1 true, 0 false; the counts for the evidence. */
static bool surge_now(const ow_flags *fl, freg *g, int64_t t, int64_t *count, double *base)
{
    const wspec *sp = &fl->ws_surge;
    int64_t b = bucket_of(sp, t);
    *count = win_range(&g->surge, sp, R_WINDOW, b, NULL);
    *base = 0;
    if (*count < fl->cfg.surge.min_orders) return false;
    int64_t trail = win_range(&g->surge, sp, R_TRAILING, b, NULL);
    *base = (double)trail * sp->w / sp->t;
    return (double)*count > fl->cfg.surge.ratio * *base;
}

static int eval_surge(ow_state *s, freg *g, int64_t t)
{
    ow_flags *fl = s->flags;
    int64_t count;
    double base;
    bool on = surge_now(fl, g, t, &count, &base);
    const char *name = region_name(s, g->idx);
    evb e;
    ev_init(&e);
    char summary[200];
    summary[0] = '\0';
    if (on && !((g->opened >> RV_SURGE) & 1)) {
        const wspec *sp = &fl->ws_surge;
        int64_t from = (bucket_of(sp, t) - sp->w + 1) * sp->ms;
        uint32_t k = g->nrecent < EVMAX ? g->nrecent : EVMAX;
        for (uint32_t i = 0; i < k; i++) { /* newest first */
            uint32_t slot = (g->nrecent - 1 - i) % EVMAX;
            if (g->recent[slot] && g->recent_ts[slot] >= from && g->recent_ts[slot] <= t)
                EV_ORDER(&e, g->recent[slot]->id);
        }
        EV_REGION(&e, name);
        ev_num(&e, "count", (double)count);
        ev_num(&e, "baseline", base);
        ev_num(&e, "window_s", (double)(sp->ms * sp->w / 1000));
        if (base > 0)
            snprintf(summary, sizeof summary,
                     "%s: %lld orders in %lld min, %.1f× the trailing rate", name, (long long)count,
                     (long long)(sp->ms * sp->w / 60000), count / base);
        else
            snprintf(summary, sizeof summary, "%s: %lld orders in %lld min, none before", name,
                     (long long)count, (long long)(sp->ms * sp->w / 60000));
    }
    int rc =
        set_flag(s, &g->opened, RV_SURGE, on, OW_FLAG_SURGE, name, NULL, g->idx, t, &e, summary);
    if (rc) return rc;
    /* re-check at each bucket boundary while it could hold (or holds) */
    if (on || count >= fl->cfg.surge.min_orders) {
        int64_t next = (bucket_of(&fl->ws_surge, t) + 1) * fl->ws_surge.ms;
        if (g->surge_pos >= 0) return OW_OK; /* armed: the timer re-checks and re-arms */
        g->surge_at = next;
        return ow_timerq_set(&fl->tq, g->surge_at, TIE(TK_SURGE, g->idx), g, &g->surge_pos);
    }
    g->surge_at = OW_NEVER;
    ow_timerq_remove(&fl->tq, &g->surge_pos);
    return OW_OK;
}

static int eval_csat(ow_state *s, freg *g, int64_t t)
{
    ow_flags *fl = s->flags;
    const wspec *sp = &fl->ws_csat;
    const ow_flags_config *c = &fl->cfg;
    int64_t b = bucket_of(sp, t);
    double sum;
    int64_t n = win_range(&g->csat, sp, R_WINDOW, b, &sum);
    double csat = n ? sum / (double)n * 20.0 : 0;
    bool on =
        n >= c->complaint_cluster.csat_min_callbacks && csat < c->complaint_cluster.csat_below;
    const char *name = region_name(s, g->idx);
    evb e;
    ev_init(&e);
    char summary[200];
    summary[0] = '\0';
    if (on && !((g->opened >> RV_CSAT) & 1)) {
        EV_REGION(&e, name);
        ev_num(&e, "csat", csat);
        ev_num(&e, "callbacks", (double)n);
        ev_num(&e, "below", c->complaint_cluster.csat_below);
        snprintf(summary, sizeof summary, "%s: CSAT %.1f over %lld callbacks (below %.0f)", name,
                 csat, (long long)n, c->complaint_cluster.csat_below);
    }
    int rc = set_flag(s, &g->opened, RV_CSAT, on, OW_FLAG_COMPLAINT_CLUSTER, "csat/", name, g->idx,
                      t, &e, summary);
    if (rc) return rc;
    if (n >= c->complaint_cluster.csat_min_callbacks) {
        if (g->csat_pos >= 0) return OW_OK; /* armed: the timer re-checks and re-arms */
        g->csat_at = (b + 1) * sp->ms;
        return ow_timerq_set(&fl->tq, g->csat_at, TIE(TK_CSAT, g->idx), g, &g->csat_pos);
    }
    g->csat_at = OW_NEVER;
    ow_timerq_remove(&fl->tq, &g->csat_pos);
    return OW_OK;
}

static int eval_cluster(ow_state *s, fcat *k, int64_t t)
{
    ow_flags *fl = s->flags;
    const wspec *sp = &fl->ws_cluster;
    const ow_flags_config *c = &fl->cfg;
    int64_t b = bucket_of(sp, t);
    int64_t n = win_range(&k->win, sp, R_WINDOW, b, NULL);
    int64_t trail = win_range(&k->win, sp, R_TRAILING, b, NULL);
    double mean = (double)trail * sp->w / sp->t; /* per window (a day by default) */
    bool on =
        n >= c->complaint_cluster.min_complaints && (double)n > c->complaint_cluster.ratio * mean;
    const char *name = ow_names_get(&fl->ccats, k->idx);
    evb e;
    ev_init(&e);
    char summary[200];
    summary[0] = '\0';
    if (on && !k->opened) {
        int64_t from = (b - sp->w + 1) * sp->ms;
        uint32_t m = k->nrecent < EVMAX ? k->nrecent : EVMAX;
        const char *ids[EVMAX];
        int nids = 0;
        for (uint32_t i = 0; i < m; i++) {
            uint32_t slot = (k->nrecent - 1 - i) % EVMAX;
            if (k->recent[slot] && k->recent_ts[slot] >= from && k->recent_ts[slot] <= t)
                ids[nids++] = k->recent[slot];
        }
        ev_text(&e, "category", name);
        ev_num(&e, "count", (double)n);
        ev_num(&e, "daily_mean", mean);
        snprintf(summary, sizeof summary, "%s: %lld complaints in %lld h, daily mean %.1f", name,
                 (long long)n, (long long)(sp->ms * sp->w / 3600000), mean);
        /* the complaint ids go in as one more list */
        ow_jsonw w;
        ow_jsonw_init(&w);
        w.need_comma = true;
        write_list(&w, "complaints", ids, nids);
        if (!w.out.oom && w.out.n < sizeof e.nums - e.nn) {
            memcpy(e.nums + e.nn, w.out.p, w.out.n + 1);
            e.nn += w.out.n;
        }
        ow_jsonw_fini(&w);
    }
    uint16_t open = k->opened;
    int rc =
        set_flag(s, &open, 0, on, OW_FLAG_COMPLAINT_CLUSTER, "category/", name, -1, t, &e, summary);
    k->opened = open & 1;
    if (rc) return rc;
    if (n >= c->complaint_cluster.min_complaints) {
        if (k->pos >= 0) return OW_OK; /* armed: the timer re-checks and re-arms */
        k->at = (b + 1) * sp->ms;
        return ow_timerq_set(&fl->tq, k->at, TIE(TK_CLUSTER, k->idx), k, &k->pos);
    }
    k->at = OW_NEVER;
    ow_timerq_remove(&fl->tq, &k->pos);
    return OW_OK;
}

/* ---------------------------------------------------------------- orders */

enum { FO_CREATED = 16 };

static int64_t created_at(const order *o)
{
    return o->c[OW_STAGE_DISPATCH].start;
}

/* Keep the counters in step with the model: the order open in its region, active for the
 * technician it was dispatched to, held by the one whose acceptance holds it. */
static int order_sync(ow_state *s, order *o, int64_t at, bool evaluate)
{
    ow_flags *fl = s->flags;
    int32_t want = o->open && o->created ? o->region : -1;
    if (want != o->fl.region) {
        int32_t old = o->fl.region;
        freg *g = reg_get(fl, old), *h = reg_get(fl, want);
        if ((old >= 0 && !g) || (want >= 0 && !h)) return OW_ENOMEM;
        if (g) g->open--;
        if (h) h->open++;
        o->fl.region = want;
        int rc;
        if (evaluate && ((rc = eval_region(s, old, at)) || (rc = eval_region(s, want, at))))
            return rc;
    }
    ftech *t = tech_at(fl, o->fl.tech);
    bool act = o->open && t;
    if (act != (o->fl.act_pos >= 0)) {
        if (act) {
            if (act_add(fl, t, o)) return OW_ENOMEM;
        } else {
            act_remove(t, o);
        }
        int rc;
        if (evaluate && (rc = eval_overload(s, t, at))) return rc;
    }
    ftech *h = tech_at(fl, o->fl.holder);
    bool held = o->open && h;
    if (held != ((o->fl.bits & FO_HELD) != 0)) {
        h->held += held ? 1 : -1;
        o->fl.bits = (uint8_t)(held ? o->fl.bits | FO_HELD : o->fl.bits & ~FO_HELD);
        int rc;
        if (evaluate && (rc = eval_stale(s, h, at))) return rc;
    }
    return OW_OK;
}

/* Candidates near an order, collected then sorted (visiting order depends on the index). On a
 * partitioned deployment the other partitions' orders come from the replica (engine/crossfacts.h)
 * and join the same list, so the pick and the evidence are one node's. */
typedef struct cand {
    const char *id, *tech, *region; /* what the evidence names ("" = none) */
    bool has_geo;
    double lon, lat;
    int64_t key; /* sort key: larger first */
} cand;

typedef struct collect {
    const ow_state *s;
    const order *self;
    int64_t from, to; /* instants the candidate's time must fall in */
    bool repeat;      /* repeat visit (resolved) rather than duplicate (open, dispatched) */
    cand v[EVMAX];
    int n;
} collect;

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1;
    return strcmp(x->id, y->id);
}

static void keep_cand(collect *c, const cand *x)
{
    if (c->n < EVMAX) {
        c->v[c->n++] = *x;
    } else { /* keep the EVMAX best */
        int worst = 0;
        for (int i = 1; i < c->n; i++)
            if (cmp_cand(&c->v[i], &c->v[worst]) > 0) worst = i;
        if (cmp_cand(x, &c->v[worst]) < 0) c->v[worst] = *x;
    }
}

static bool take_cand(frec *r, void *arg)
{
    collect *c = arg;
    const order *o = r->o;
    if (o->category != c->self->category) return true;
    int64_t t;
    if (c->repeat) {
        t = r->resolved_at;
        if (t == OW_NEVER || o->open) return true;
    } else {
        t = created_at(o);
        if (!o->open || !(o->fl.bits & FO_DISPATCHED)) return true;
    }
    if (t < c->from || t > c->to) return true;
    cand x = {o->id,
              tech_name(c->s->flags, o->fl.tech),
              region_name(c->s, o->region),
              r->has_geo,
              r->lon,
              r->lat,
              t};
    keep_cand(c, &x);
    return true;
}

static void take_foreign(const ow_xcand *f, void *arg)
{
    cand x = {f->id, f->tech, f->region, f->has_geo, f->lon, f->lat, f->key};
    keep_cand(arg, &x);
}

/* Candidates near r: the model's own orders, then the other partitions' (none on one node). */
static void collect_near(ow_state *s, const frec *r, double radius, collect *c)
{
    each_near(s->flags, r, radius, take_cand, c);
    if (!s->xf) return;
    ow_xquery q = {.repeat = c->repeat,
                   .category = ow_names_get(&s->categories, c->self->category),
                   .from = c->from,
                   .to = c->to,
                   .has_geo = r->has_geo,
                   .has_addr = r->has_addr,
                   .lon = r->lon,
                   .lat = r->lat,
                   .radius_m = radius,
                   .addr = r->addr};
    ow_crossfacts_near(s->xf, &q, take_foreign, c);
}

static int check_repeat_new(ow_state *s, order *o, frec *r, int64_t at)
{
    ow_flags *fl = s->flags;
    collect c = {
        .s = s, .self = o, .from = at - fl->cfg.repeat_visit.window_ms, .to = at, .repeat = true};
    collect_near(s, r, (double)fl->cfg.repeat_visit.radius_m, &c);
    if (!c.n) return OW_OK;
    qsort(c.v, (size_t)c.n, sizeof *c.v, cmp_cand);
    evb e;
    ev_init(&e);
    EV_ORDER(&e, o->id);
    for (int i = 0; i < c.n; i++)
        EV_ORDER(&e, c.v[i].id);
    for (int i = 0; i < c.n; i++)
        EV_TECH(&e, c.v[i].tech);
    EV_REGION(&e, region_name(s, o->region));
    ev_text(&e, "category", ow_names_get(&s->categories, o->category));
    char when[OW_TIME_TEXT_MAX], summary[400];
    ow_time_format(c.v[0].key, when);
    snprintf(summary, sizeof summary, "%s repeats %s (%s, resolved %s)", o->id, c.v[0].id,
             ow_names_get(&s->categories, o->category), when);
    return order_flag(s, o, OV_REPEAT_NEW, true, at, &e, summary);
}

static int check_duplicate(ow_state *s, order *o, int64_t at)
{
    ow_flags *fl = s->flags;
    frec *r = rec_of(fl, o);
    if (!r || !r->indexed || !o->open || ((o->fl.open >> OV_DUP_NEAR) & 1)) return OW_OK;
    int64_t t = created_at(o), w = fl->cfg.duplicate_dispatch.window_ms;
    collect c = {.s = s, .self = o, .from = t - w, .to = t + w, .repeat = false};
    collect_near(s, r, (double)fl->cfg.duplicate_dispatch.radius_m, &c);
    if (!c.n) return OW_OK;
    qsort(c.v, (size_t)c.n, sizeof *c.v, cmp_cand);
    evb e;
    ev_init(&e);
    EV_ORDER(&e, o->id);
    for (int i = 0; i < c.n; i++)
        EV_ORDER(&e, c.v[i].id);
    EV_TECH(&e, tech_name(fl, o->fl.tech));
    for (int i = 0; i < c.n; i++)
        EV_TECH(&e, c.v[i].tech);
    EV_REGION(&e, region_name(s, o->region));
    for (int i = 0; i < c.n; i++)
        EV_REGION(&e, c.v[i].region);
    ev_text(&e, "category", ow_names_get(&s->categories, o->category));
    if (r->has_geo && c.v[0].has_geo)
        ev_num(&e, "distance_m", round(ow_distance_m(r->lon, r->lat, c.v[0].lon, c.v[0].lat)));
    char summary[400];
    snprintf(summary, sizeof summary, "%s and %s: same %s job, both dispatched", o->id, c.v[0].id,
             ow_names_get(&s->categories, o->category));
    return order_flag(s, o, OV_DUP_NEAR, true, at, &e, summary);
}

typedef struct idle_q {
    const ow_flags *fl;
    int32_t except, skill;
} idle_q;

static bool idle_with_skill(int32_t id, void *arg)
{
    const idle_q *q = arg;
    const ftech *t = tech_at(q->fl, id);
    return t && id != q->except && tech_idle(t) && (q->skill < 0 || tech_has_skill(t, q->skill));
}

static int check_far(ow_state *s, order *o, ftech *t, int64_t at)
{
    ow_flags *fl = s->flags;
    frec *r = rec_of(fl, o);
    if (!r || !r->has_geo || !t->has_loc || !o->open) return OW_OK;
    double d1 = ow_distance_m(r->lon, r->lat, t->lon, t->lat);
    double ratio = fl->cfg.far_dispatch.ratio;
    if (d1 <= (double)fl->cfg.far_dispatch.min_m) return OW_OK;
    idle_q q = {fl, t->idx, r->skill};
    double d2;
    /* only a technician nearer than d1 / ratio can make this dispatch far: search no further */
    int32_t near =
        ow_spatial_nearest(&fl->tgrid, r->lon, r->lat, d1 / ratio, idle_with_skill, &q, &d2);
    if (near < 0 || !(d1 > ratio * d2)) return OW_OK;
    evb e;
    ev_init(&e);
    EV_ORDER(&e, o->id);
    EV_TECH(&e, tech_name(fl, t->idx));
    EV_TECH(&e, tech_name(fl, near));
    EV_REGION(&e, region_name(s, o->region));
    ev_num(&e, "distance_m", round(d1));
    ev_num(&e, "nearest_m", round(d2));
    char summary[400];
    snprintf(summary, sizeof summary, "%s: %s sent from %.1f km, idle %s is %.1f km away", o->id,
             tech_name(fl, t->idx), d1 / 1000, tech_name(fl, near), d2 / 1000);
    return order_flag(s, o, OV_FAR, true, at, &e, summary);
}

static int check_skill(ow_state *s, order *o, ftech *t, int64_t at)
{
    ow_flags *fl = s->flags;
    frec *r = rec_of(fl, o);
    bool on = r && r->skill >= 0 && t->skills_known && !tech_has_skill(t, r->skill) && o->open;
    evb e;
    ev_init(&e);
    char summary[400];
    summary[0] = '\0';
    if (on) {
        const char *skill = ow_names_get(&fl->skills, r->skill);
        EV_ORDER(&e, o->id);
        EV_TECH(&e, tech_name(fl, t->idx));
        EV_REGION(&e, region_name(s, o->region));
        ev_text(&e, "skill", skill);
        snprintf(summary, sizeof summary, "%s needs %s; %s lacks it", o->id, skill,
                 tech_name(fl, t->idx));
    }
    return order_flag(s, o, OV_SKILL, on, at, &e, summary);
}

/* Idle technicians outside `region`, nearest first (when both places are known) then by id. */
typedef struct idle_pick {
    int32_t idx;
    double d;
    const char *name;
} idle_pick;

static int cmp_pick(const void *a, const void *b)
{
    const idle_pick *x = a, *y = b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int neglect_raise(ow_state *s, order *o, int64_t at)
{
    ow_flags *fl = s->flags;
    frec *r = rec_of(fl, o);
    /* the EVMAX nearest idle technicians elsewhere, kept sorted as they are found (an alert
     * storm raises this for most orders: walking only the idle ones, without sorting them all,
     * keeps it O(idle)) */
    idle_pick v[EVMAX];
    size_t n = 0, kept = 0;
    for (size_t i = 0; i < fl->nidle; i++) {
        const ftech *t = fl->techs[fl->idle[i]];
        if (t->region == o->region) continue;
        double d = r && r->has_geo && t->has_loc ? ow_distance_m(r->lon, r->lat, t->lon, t->lat)
                                                 : INFINITY;
        idle_pick x = {t->idx, d, tech_name(fl, t->idx)};
        n++;
        if (kept == EVMAX && cmp_pick(&x, &v[EVMAX - 1]) >= 0) continue;
        size_t k = kept < EVMAX ? kept++ : EVMAX - 1;
        while (k > 0 && cmp_pick(&x, &v[k - 1]) < 0) {
            v[k] = v[k - 1];
            k--;
        }
        v[k] = x;
    }
    evb e;
    ev_init(&e);
    EV_ORDER(&e, o->id);
    EV_REGION(&e, region_name(s, o->region));
    for (size_t i = 0; i < kept; i++) {
        EV_TECH(&e, tech_name(fl, v[i].idx));
        EV_REGION(&e, region_name(s, fl->techs[v[i].idx]->region));
    }
    ev_num(&e, "idle_elsewhere", (double)n);
    ev_num(&e, "waiting_s", (double)((at - created_at(o)) / 1000));
    char summary[400];
    snprintf(summary, sizeof summary, "%s (%s) waits undispatched past target; %zu idle elsewhere",
             o->id, region_name(s, o->region), n);
    o->fl.bits &= (uint8_t)~FO_NEGLECT_WAIT;
    return order_flag(s, o, OV_NEGLECT, true, at, &e, summary);
}

static int32_t idle_elsewhere(ow_flags *fl, int32_t region)
{
    freg *g = region >= 0 && (uint32_t)region < fl->nregs ? fl->regs[region] : NULL;
    return fl->idle_total - (g ? g->idle : 0);
}

static bool neglect_pending(const order *o)
{
    return (o->fl.bits & FO_NEGLECT_WAIT) && o->open && !(o->fl.bits & FO_DISPATCHED) &&
           !((o->fl.open >> OV_NEGLECT) & 1);
}

static int try_neglect(ow_state *s, order *o, int64_t at)
{
    ow_flags *fl = s->flags;
    if (!neglect_pending(o)) return OW_OK;
    if (idle_elsewhere(fl, o->region) >= fl->cfg.neglected_region.min_idle)
        return neglect_raise(s, o, at);
    if (grow((void **)&fl->waiting, &fl->capwaiting, fl->nwaiting + 1, sizeof *fl->waiting))
        return OW_ENOMEM;
    fl->waiting[fl->nwaiting++] = o;
    o->fl.bits |= FO_WAITING;
    return OW_OK;
}

/* A technician turned idle: orders waiting for capacity elsewhere may now be neglected. */
static int neglect_scan(ow_state *s, int64_t at)
{
    ow_flags *fl = s->flags;
    size_t keep = 0;
    for (size_t i = 0; i < fl->nwaiting; i++) {
        order *o = fl->waiting[i];
        o->fl.bits &= (uint8_t)~FO_WAITING;
        if (!neglect_pending(o)) continue;
        if (idle_elsewhere(fl, o->region) >= fl->cfg.neglected_region.min_idle) {
            int rc = neglect_raise(s, o, at);
            if (rc) return rc;
            continue;
        }
        o->fl.bits |= FO_WAITING;
        fl->waiting[keep++] = o;
    }
    fl->nwaiting = keep;
    return OW_OK;
}

static int parts_raise(ow_state *s, order *o, frec *r, int64_t at, int32_t depot)
{
    ow_flags *fl = s->flags;
    evb e;
    ev_init(&e);
    EV_ORDER(&e, o->id);
    EV_TECH(&e, tech_name(fl, o->fl.tech));
    EV_REGION(&e, region_name(s, o->region));
    const char *sku = ow_names_get(&fl->skus, r->sku);
    ev_text(&e, "sku", sku);
    ev_text(&e, "depot", ow_names_get(&fl->depots, depot));
    ev_num(&e, "waited_s", (double)((at - r->parts_since) / 1000));
    char summary[400];
    if (depot >= 0)
        snprintf(summary, sizeof summary, "%s waits for %s; depot %s has none", o->id, sku,
                 ow_names_get(&fl->depots, depot));
    else
        snprintf(summary, sizeof summary, "%s waits for parts%s%s for %lld min", o->id,
                 *sku ? " " : "", sku, (long long)((at - r->parts_since) / 60000));
    return order_flag(s, o, OV_PARTS, true, at, &e, summary);
}

static int parts_end(ow_state *s, order *o, int64_t at)
{
    ow_flags *fl = s->flags;
    frec *r = rec_of(fl, o);
    if (!r || r->parts_since == OW_NEVER) return OW_OK;
    frec *last = fl->paused[--fl->npaused];
    fl->paused[r->paused_pos] = last;
    last->paused_pos = r->paused_pos;
    r->paused_pos = -1;
    ow_timerq_remove(&fl->tq, &r->parts_pos);
    r->parts_since = OW_NEVER;
    r->sku = -1;
    return order_flag(s, o, OV_PARTS, false, at, NULL, NULL);
}

static int parts_start(ow_state *s, order *o, const ow_event *ev)
{
    ow_flags *fl = s->flags;
    frec *r = rec_get(fl, o);
    if (!r) return OW_ENOMEM;
    if (r->parts_since != OW_NEVER || !o->open) return OW_OK;
    size_t cap = (size_t)fl->cappaused;
    if (grow((void **)&fl->paused, &cap, (size_t)fl->npaused + 1, sizeof *fl->paused))
        return OW_ENOMEM;
    fl->cappaused = (int32_t)cap;
    r->sku = ev->sku[0] ? ow_names_intern(&fl->skus, ev->sku) : -1;
    if (ev->sku[0] && r->sku < 0) return OW_ENOMEM;
    r->parts_since = ev->ts_ms;
    r->paused_pos = fl->npaused;
    fl->paused[fl->npaused++] = r;
    int rc = ow_timerq_set(&fl->tq, r->parts_since + fl->cfg.parts_wait.after_ms,
                           TIE(TK_PARTS, o->seq), r, &r->parts_pos);
    if (rc) return rc;
    if (r->sku >= 0 && (uint32_t)r->sku < fl->nsku && fl->sku_zero[r->sku] > 0)
        return parts_raise(s, o, r, ev->ts_ms, fl->sku_zero_depot[r->sku]);
    return OW_OK;
}

/* The order is no longer open: its own flags end, and so do its waits. */
static int order_ended(ow_state *s, order *o, int64_t at)
{
    ow_flags *fl = s->flags;
    int rc = parts_end(s, o, at);
    for (int v = 0; !rc && v < OV__COUNT && o->fl.open; v++)
        if ((o->fl.open >> v) & 1) rc = order_flag(s, o, v, false, at, NULL, NULL);
    o->fl.bits &= (uint8_t)~FO_NEGLECT_WAIT;
    frec *r = rec_of(fl, o);
    if (r && r->indexed && !(o->fl.bits & FO_RESOLVED)) index_remove(fl, r); /* never done */
    return rc;
}

static int on_created(ow_state *s, order *o, const ow_event *ev)
{
    ow_flags *fl = s->flags;
    int64_t at = ev->ts_ms;
    if (o->fl.bits & FO_CREATED) return OW_OK; /* a second creation event changes nothing here */
    o->fl.bits |= FO_CREATED;
    frec *r = NULL;
    if (ev->has_geo || ev->has_address || ev->skill[0]) {
        if (!(r = rec_get(fl, o))) return OW_ENOMEM;
        r->has_geo = ev->has_geo, r->lon = ev->lon, r->lat = ev->lat;
        r->has_addr = ev->has_address, r->addr = ev->address_key;
        if (ev->skill[0] && (r->skill = ow_names_intern(&fl->skills, ev->skill)) < 0)
            return OW_ENOMEM;
        if (index_add(fl, r)) return OW_ENOMEM;
    }
    int rc;
    if (r && r->indexed && (rc = check_repeat_new(s, o, r, at))) return rc;
    freg *g = reg_get(fl, o->region);
    if (!g) return o->region < 0 ? OW_OK : OW_ENOMEM;
    win_add(&g->surge, &fl->ws_surge, at, 0);
    g->recent[g->nrecent % EVMAX] = o;
    g->recent_ts[g->nrecent % EVMAX] = at;
    g->nrecent++;
    return eval_surge(s, g, at);
}

static int on_dispatched(ow_state *s, order *o, const ow_event *ev)
{
    ow_flags *fl = s->flags;
    int64_t at = ev->ts_ms;
    ftech *t = tech_get(fl, ev->tech_id);
    if (!t) return OW_ENOMEM;
    if (t->first_ts == OW_NEVER) t->first_ts = at;
    int rc;
    ftech *old = tech_at(fl, o->fl.tech);
    if (old && old != t && o->fl.act_pos >= 0) {
        act_remove(old, o);
        if ((rc = eval_overload(s, old, at))) return rc;
    }
    ftech *holder = tech_at(fl, o->fl.holder);
    if (holder && holder != t) { /* reassigned: the earlier acceptance no longer holds it */
        if (o->fl.bits & FO_HELD) {
            holder->held--;
            o->fl.bits &= (uint8_t)~FO_HELD;
            if ((rc = eval_stale(s, holder, at))) return rc;
        }
        o->fl.holder = -1;
        if ((rc = order_flag(s, o, OV_DUP_ACCEPT, false, at, NULL, NULL))) return rc;
    }
    o->fl.tech = t->idx;
    o->fl.bits |= FO_DISPATCHED;
    o->fl.bits &= (uint8_t)~FO_NEGLECT_WAIT;
    if ((rc = order_flag(s, o, OV_NEGLECT, false, at, NULL, NULL))) return rc;
    if ((rc = order_sync(s, o, at, true))) return rc;
    if ((rc = check_duplicate(s, o, at)) || (rc = check_skill(s, o, t, at))) return rc;
    if ((rc = order_flag(s, o, OV_FAR, false, at, NULL, NULL))) return rc; /* judged afresh */
    return check_far(s, o, t, at);
}

static int on_accepted(ow_state *s, order *o, const ow_event *ev)
{
    ow_flags *fl = s->flags;
    int64_t at = ev->ts_ms;
    /* usually the technician it was dispatched to: no lookup then */
    ftech *t = o->fl.tech >= 0 && strcmp(tech_name(fl, o->fl.tech), ev->tech_id) == 0
                   ? tech_at(fl, o->fl.tech)
                   : tech_get(fl, ev->tech_id);
    if (!t) return OW_ENOMEM;
    if (t->first_ts == OW_NEVER) t->first_ts = at;
    ftech *holder = tech_at(fl, o->fl.holder);
    if (holder == t) return OW_OK;
    int rc;
    if (holder && o->open) {
        evb e;
        ev_init(&e);
        EV_ORDER(&e, o->id);
        EV_TECH(&e, tech_name(fl, holder->idx));
        EV_TECH(&e, tech_name(fl, t->idx));
        EV_REGION(&e, region_name(s, o->region));
        char summary[400];
        snprintf(summary, sizeof summary, "%s accepted by %s and %s", o->id,
                 tech_name(fl, holder->idx), tech_name(fl, t->idx));
        if ((rc = order_flag(s, o, OV_DUP_ACCEPT, true, at, &e, summary))) return rc;
    }
    if (holder && (o->fl.bits & FO_HELD)) {
        holder->held--;
        o->fl.bits &= (uint8_t)~FO_HELD;
        if ((rc = eval_stale(s, holder, at))) return rc;
    }
    o->fl.holder = t->idx;
    return OW_OK;
}

int ow_flags_order(ow_state *s, order *o, const ow_event *ev)
{
    ow_flags *fl = s->flags;
    int64_t at = ev->ts_ms;
    int rc = OW_OK;
    frec *r;
    switch (ev->type) {
    case OW_EV_ORDER_CREATED: rc = on_created(s, o, ev); break;
    case OW_EV_ORDER_DISPATCHED: rc = on_dispatched(s, o, ev); break;
    case OW_EV_ORDER_ACCEPTED: rc = on_accepted(s, o, ev); break;
    case OW_EV_ORDER_ARRIVED: rc = order_flag(s, o, OV_FAR, false, at, NULL, NULL); break;
    case OW_EV_ORDER_PAUSED:
        if (ev->pause_reason == OW_PAUSE_AWAITING_PARTS) rc = parts_start(s, o, ev);
        break;
    case OW_EV_ORDER_RESUMED: rc = parts_end(s, o, at); break;
    case OW_EV_ORDER_RESOLVED:
        o->fl.bits |= FO_RESOLVED;
        r = rec_of(fl, o);
        if (r && r->indexed && r->resolved_at == OW_NEVER) {
            r->resolved_at = at;
            rc = ow_timerq_set(&fl->tq, at + fl->cfg.repeat_visit.window_ms, TIE(TK_EXPIRE, o->seq),
                               r, &r->expire_pos);
        }
        break;
    case OW_EV_ORDER_REOPENED:
        if (o->open && (o->fl.bits & FO_RESOLVED)) {
            o->fl.bits &= (uint8_t)~FO_RESOLVED;
            if ((r = rec_of(fl, o)) != NULL) {
                r->resolved_at = OW_NEVER;
                ow_timerq_remove(&fl->tq, &r->expire_pos);
            }
            evb e;
            ev_init(&e);
            EV_ORDER(&e, o->id);
            EV_TECH(&e, tech_name(fl, o->fl.tech));
            EV_REGION(&e, region_name(s, o->region));
            ev_text(&e, "reason", ev->reason);
            char summary[400];
            snprintf(summary, sizeof summary, "%s reopened%s%s", o->id, ev->reason[0] ? ": " : "",
                     ev->reason);
            rc = order_flag(s, o, OV_REPEAT_REOPEN, true, at, &e, summary);
        }
        break;
    case OW_EV_ORDER_CALLBACK: {
        freg *g = reg_get(fl, o->region);
        if (g) {
            win_add(&g->csat, &fl->ws_csat, at, ev->score);
            rc = eval_csat(s, g, at);
        }
        break;
    }
    default: break;
    }
    if (!rc) rc = order_sync(s, o, at, true);
    if (!rc && !o->open && (o->fl.open || o->fl.rec)) rc = order_ended(s, o, at);
    return rc;
}

void ow_flags_order_forget(ow_state *s, order *o)
{
    ow_flags *fl = s->flags;
    /* the counts and lists of an open order left it when it ended (order_sync); a raised flag of
     * its own was resolved then (order_ended). Nothing is evaluated: nothing changes but memory */
    order_sync(s, o, OW_NEVER, false);
    if (o->fl.bits & FO_WAITING) { /* the lazy neglect list: rare (no technician turned idle
                                    * since it ended), O(list) then */
        size_t keep = 0;
        for (size_t i = 0; i < fl->nwaiting; i++)
            if (fl->waiting[i] != o) fl->waiting[keep++] = fl->waiting[i];
        fl->nwaiting = keep;
    }
    frec *r = rec_of(fl, o);
    if (r) {
        if (r->paused_pos >= 0) {
            frec *last = fl->paused[--fl->npaused];
            fl->paused[r->paused_pos] = last;
            last->paused_pos = r->paused_pos;
        }
        ow_timerq_remove(&fl->tq, &r->parts_pos);
        index_remove(fl, r); /* its place and address, and its repeat-visit expiry */
        fl->recs[r->idx] = NULL;
        if (!grow((void **)&fl->free_recs, &fl->capfree, fl->nfree + 1, sizeof *fl->free_recs))
            fl->free_recs[fl->nfree++] = r->idx; /* else the slot is not reused: no harm */
        free(r);
        o->fl.rec = 0;
    }
    /* the surge's evidence rings name recent orders of each region */
    for (uint32_t i = 0; i < fl->nregs; i++) {
        freg *g = fl->regs[i];
        for (int k = 0; g && k < EVMAX; k++)
            if (g->recent[k] == o) g->recent[k] = NULL, g->recent_ts[k] = OW_NEVER;
    }
    /* the order's flag instances (they only keep its raise count once resolved) */
    for (int v = 0; v < OV__COUNT; v++) {
        char key[OW_ALERT_ID_BUF];
        make_key(key, sizeof key, order_variants[v].flag, o->id, order_variants[v].suffix);
        finst *in = inst_get(fl, key, false);
        if (!in || in->open_pos >= 0) continue; /* a raised one stays (never, in practice) */
        ow_map_take(&fl->inst, key);
        retire(fl, in->id), retire(fl, in->evidence), retire(fl, in->summary);
        free(in);
    }
}

bool ow_flags_holding_remote(const ow_state *s, const ow_holding *h)
{
    const ow_partition_table *t = s->policy->home_table;
    return t && t->n > 1 && h->partition != s->policy->home_partition;
}

int ow_flags_holding(ow_state *s, const ow_holding *h, int64_t wm)
{
    ow_flags *fl = s->flags;
    if (!ow_flags_holding_remote(s, h)) return 0; /* its event comes through this partition */
    if (!fl->hold && !(fl->hold = ow_holdings_new(s->policy->closed_retention_ms)))
        return OW_ENOMEM;
    ftech *t = NULL;
    if (h->tech_id[0] && !(t = tech_get(fl, h->tech_id))) return OW_ENOMEM;
    ow_hold_change ch[OW_HOLD_CHANGES_MAX];
    int n = ow_holdings_apply(fl->hold, h, t ? t->idx : -1, wm, ch);
    if (n < 0) return n;
    /* as order_sync and on_dispatched / on_accepted re-decide them on one node, at the instant */
    for (int i = 0; i < n; i++) {
        ftech *x = tech_at(fl, ch[i].tech);
        int rc = ch[i].what == OW_HOLD_ACTIVE ? eval_overload(s, x, h->ts_ms)
                                              : eval_stale(s, x, h->ts_ms);
        if (rc) return rc;
    }
    return 1;
}

void ow_flags_complaint_forget(ow_state *s, const char *id)
{
    ow_flags *fl = s->flags;
    for (uint32_t i = 0; i < fl->ncats; i++) { /* the cluster evidence rings borrow its id */
        fcat *k = fl->cats[i];
        for (int j = 0; k && j < EVMAX; j++)
            if (k->recent[j] == id) k->recent[j] = NULL, k->recent_ts[j] = OW_NEVER;
    }
}

int ow_flags_dispatch_breach(ow_state *s, order *o, int64_t at)
{
    if (!o->open || (o->fl.bits & FO_DISPATCHED)) return OW_OK;
    o->fl.bits |= FO_NEGLECT_WAIT;
    return try_neglect(s, o, at);
}

/* ---------------------------------------------------------------- technicians, complaints, parts
 */

static int on_tech(ow_state *s, const ow_event *ev)
{
    ow_flags *fl = s->flags;
    int64_t at = ev->ts_ms;
    ftech *t = tech_get(fl, ev->tech_id);
    if (!t) return OW_ENOMEM;
    if (t->first_ts == OW_NEVER) t->first_ts = at;
    if (ev->type == OW_EV_TECH_LOCATION) {
        if (t->has_loc && at <= t->loc_ts) return OW_OK;
        t->has_loc = true;
        t->loc_ts = at;
        t->lon = ev->lon, t->lat = ev->lat;
        if (ow_spatial_put(&fl->tgrid, t->idx, t->lon, t->lat)) return OW_ENOMEM;
        return eval_stale(s, t, at);
    }
    if (t->has_status && at <= t->status_ts) return OW_OK;
    int32_t old_region = t->region;
    bool was_idle = tech_idle(t);
    region_tech_count(fl, t, -1);
    t->status = (uint8_t)ev->status;
    t->has_status = true;
    t->status_ts = at;
    if (ev->region[0]) t->region = ow_names_find(&s->regions, ev->region);
    if (ev->nskills > 0) {
        t->skills_known = true;
        t->nskills = 0;
        for (int i = 0; i < ev->nskills; i++) {
            int k = ow_names_intern(&fl->skills, ev->skills[i]);
            if (k < 0) return OW_ENOMEM;
            t->skills[t->nskills++] = k;
        }
    }
    if (t->region >= 0 && !reg_get(fl, t->region)) return OW_ENOMEM;
    region_tech_count(fl, t, +1);
    int rc = eval_region(s, old_region, at);
    if (!rc && t->region != old_region) rc = eval_region(s, t->region, at);
    if (!rc && tech_idle(t) && !was_idle && fl->nwaiting) rc = neglect_scan(s, at);
    return rc ? rc : eval_stale(s, t, at);
}

int ow_flags_complaint_count(ow_state *s, const char *category, const char *id, int64_t ts_ms)
{
    ow_flags *fl = s->flags;
    fcat *k = cat_get(fl, category);
    if (!k) return OW_ENOMEM;
    win_add(&k->win, &fl->ws_cluster, ts_ms, 0);
    k->recent[k->nrecent % EVMAX] = id;
    k->recent_ts[k->nrecent % EVMAX] = ts_ms;
    k->nrecent++;
    return eval_cluster(s, k, ts_ms);
}

static int on_complaint(ow_state *s, const ow_event *ev)
{
    const char *id = ow_map_key(&s->complaints, ev->complaint_id);
    if (!id) return OW_ENOMEM;
    return ow_flags_complaint_count(s, ev->category, id, ev->ts_ms);
}

static int on_stock(ow_state *s, const ow_event *ev)
{
    ow_flags *fl = s->flags;
    int sku = ow_names_intern(&fl->skus, ev->sku), depot = ow_names_intern(&fl->depots, ev->depot);
    if (sku < 0 || depot < 0) return OW_ENOMEM;
    if ((uint32_t)sku >= fl->nsku) {
        size_t cap = fl->nsku, cap2 = fl->nsku;
        if (grow((void **)&fl->sku_zero, &cap, (size_t)sku + 1, sizeof *fl->sku_zero) ||
            grow((void **)&fl->sku_zero_depot, &cap2, (size_t)sku + 1, sizeof *fl->sku_zero_depot))
            return OW_ENOMEM;
        for (size_t i = fl->nsku; i < cap; i++)
            fl->sku_zero[i] = 0, fl->sku_zero_depot[i] = -1;
        fl->nsku = (uint32_t)cap;
    }
    char key[2 * OW_NAME_BUF + 2];
    snprintf(key, sizeof key, "%s\x1f%s", ev->depot, ev->sku);
    intptr_t before = (intptr_t)ow_map_get(&fl->stock, key) - 1; /* -1 = never reported */
    if (ow_map_put(&fl->stock, key, (void *)(intptr_t)(ev->qty + 1))) return OW_ENOMEM;
    fl->sku_zero[sku] += (ev->qty == 0) - (before == 0);
    if (ev->qty != 0) return OW_OK;
    fl->sku_zero_depot[sku] = depot;
    for (int32_t i = 0; i < fl->npaused; i++) {
        frec *r = fl->paused[i];
        if (r->sku != sku || ((r->o->fl.open >> OV_PARTS) & 1)) continue;
        int rc = parts_raise(s, r->o, r, ev->ts_ms, depot);
        if (rc) return rc;
    }
    return OW_OK;
}

int ow_flags_event(ow_state *s, const ow_event *ev)
{
    switch (ev->type) {
    case OW_EV_TECH_STATUS:
    case OW_EV_TECH_LOCATION: return on_tech(s, ev);
    case OW_EV_COMPLAINT_CREATED: return on_complaint(s, ev);
    case OW_EV_PARTS_STOCK: return on_stock(s, ev);
    default: return OW_OK;
    }
}

/* ---------------------------------------------------------------- timers */

int ow_flags_advance(ow_state *s, int64_t now_ms)
{
    ow_flags *fl = s->flags;
    int fired = 0;
    const ow_timer *tm;
    while ((tm = ow_timerq_peek(&fl->tq)) != NULL && tm->at <= now_ms) {
        int64_t at = tm->at;
        int kind = (int)(tm->tie >> 56);
        void *owner = tm->owner;
        int rc = OW_OK;
        switch (kind) {
        case TK_PARTS: {
            frec *r = owner;
            ow_timerq_remove(&fl->tq, &r->parts_pos);
            if (r->parts_since != OW_NEVER && !((r->o->fl.open >> OV_PARTS) & 1))
                rc = parts_raise(s, r->o, r, at, -1);
            break;
        }
        case TK_EXPIRE: {
            frec *r = owner;
            ow_timerq_remove(&fl->tq, &r->expire_pos);
            if (!r->o->open) index_remove(fl, r);
            break;
        }
        case TK_STALE: {
            ftech *t = owner;
            ow_timerq_remove(&fl->tq, &t->stale_pos);
            t->stale_at = OW_NEVER;
            if (tracked(fl, t) && !((t->open >> 1) & 1)) rc = stale_raise(s, t, at);
            break;
        }
        case TK_SURGE: {
            freg *g = owner;
            ow_timerq_remove(&fl->tq, &g->surge_pos);
            rc = eval_surge(s, g, at);
            break;
        }
        case TK_CSAT: {
            freg *g = owner;
            ow_timerq_remove(&fl->tq, &g->csat_pos);
            rc = eval_csat(s, g, at);
            break;
        }
        case TK_CLUSTER: {
            fcat *k = owner;
            ow_timerq_remove(&fl->tq, &k->pos);
            rc = eval_cluster(s, k, at);
            break;
        }
        default: ow_timerq_remove(&fl->tq, ((const ow_timer *)tm)->pos); break;
        }
        if (rc) return rc;
        fired++;
    }
    return fired;
}

int64_t ow_flags_next_due(const ow_flags *fl)
{
    const ow_timer *t = ow_timerq_peek(&fl->tq);
    return t ? t->at : OW_NEVER;
}

/* ---------------------------------------------------------------- acknowledgements, views */

int ow_flags_ack(ow_state *s, const char *alert_id, const ow_ack *ack, ow_err *err)
{
    ow_flags *fl = s->flags;
    const char *colon = strrchr(alert_id, ':');
    char key[OW_ALERT_ID_BUF];
    size_t n = colon ? (size_t)(colon - alert_id) : 0;
    finst *in = NULL;
    if (n > 5 && n - 5 < sizeof key) {
        memcpy(key, alert_id + 5, n - 5);
        key[n - 5] = '\0';
        in = inst_get(fl, key, false);
    }
    if (!in || in->open_pos < 0 || strcmp(in->id, alert_id) != 0)
        return ow_err_set(err, OW_ENOTFOUND, "alert %s: no such open alert", alert_id);
    if (ow_acks_put(&s->acks, alert_id, ack)) return ow_err_set(err, OW_ENOMEM, "out of memory");
    ow_alert *a = ow_state_impl_outbox_add(s);
    if (!a) return ow_err_set(err, OW_ENOMEM, "out of memory");
    fill_alert(in, a, OW_ALERT_ACK, ack->at);
    return OW_OK;
}

void ow_flags_each_open_alert(const ow_flags *fl,
                              bool (*fn)(const ow_alert *a, const char *id, void *arg), void *arg)
{
    for (size_t i = 0; fl && i < fl->nopen; i++) {
        ow_alert a;
        fill_alert(fl->openv[i], &a, OW_ALERT_RAISE, fl->openv[i]->at);
        if (!fn(&a, fl->openv[i]->id, arg)) return;
    }
}

void ow_flags_inst_alert(const void *inst, ow_alert *a, const char **id)
{
    const finst *in = inst;
    fill_alert(in, a, OW_ALERT_RAISE, in->at);
    *id = in->id;
}

size_t ow_flags_open_count(const ow_flags *fl)
{
    return fl ? fl->nopen : 0;
}

static int cmp_newest(const void *a, const void *b)
{
    const finst *x = *(finst *const *)a, *y = *(finst *const *)b;
    if (x->at != y->at) return x->at > y->at ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* A min-heap on newness (the oldest of the kept ones at the root), for the k newest of many. */
static void heap_down(finst **h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && cmp_newest(&h[l], &h[m]) > 0) m = l;
        if (l + 1 < n && cmp_newest(&h[l + 1], &h[m]) > 0) m = l + 1;
        if (m == i) return;
        finst *x = h[i];
        h[i] = h[m], h[m] = x;
        i = m;
    }
}

void ow_flags_each_open(const ow_flags *fl, size_t k, bool (*fn)(const ow_flag_view *v, void *arg),
                        void *arg)
{
    if (!fl || !fl->nopen || !k) return;
    size_t n = fl->nopen < k ? fl->nopen : k;
    finst **v = malloc(n * sizeof *v);
    if (!v) return;
    memcpy(v, fl->openv, n * sizeof *v);
    for (size_t i = n / 2; i-- > 0;)
        heap_down(v, n, i);
    for (size_t i = n; i < fl->nopen; i++) /* newer than the oldest kept: replaces it */
        if (cmp_newest(&fl->openv[i], &v[0]) < 0) v[0] = fl->openv[i], heap_down(v, n, 0);
    qsort(v, n, sizeof *v, cmp_newest);
    for (size_t i = 0; i < n; i++) {
        const finst *in = v[i];
        ow_flag_view view = {
            in->id, flag_names[in->flag], in->rname, in->summary, in->evidence, in->at, in->level};
        if (!fn(&view, arg)) break;
    }
    free(v);
}

/* ---------------------------------------------------------------- checkpoint */

#define FLAGS_MAGIC 0x47414c46u /* "FLAG" */

static void save_names(ow_buf *b, const ow_names *t)
{
    ow_ck_u32(b, t->n);
    for (uint32_t i = 0; i < t->n; i++)
        ow_ck_str(b, t->names[i]);
}

/* A window as its non-empty slots only: most buckets of most windows are empty. */
static void save_win(ow_buf *b, const fwin *w, const wspec *sp)
{
    uint32_t used = 0;
    for (int32_t i = 0; i < sp->n; i++)
        used += w->cnt[i] || (w->sum && w->sum[i] != 0);
    ow_ck_i64(b, w->head);
    ow_ck_u32(b, used);
    for (int32_t i = 0; i < sp->n; i++) {
        if (!w->cnt[i] && !(w->sum && w->sum[i] != 0)) continue;
        ow_ck_i32(b, i);
        ow_ck_u32(b, w->cnt[i]);
        if (w->sum) ow_ck_f64(b, w->sum[i]);
    }
}

static void save_spec(ow_buf *b, const wspec *sp)
{
    ow_ck_i64(b, sp->ms);
    ow_ck_i32(b, sp->w);
    ow_ck_i32(b, sp->t);
}

void ow_flags_save(const ow_state *s, ow_buf *b)
{
    const ow_flags *fl = s->flags;
    ow_ck_u32(b, FLAGS_MAGIC);
    save_spec(b, &fl->ws_surge);
    save_spec(b, &fl->ws_cluster);
    save_spec(b, &fl->ws_csat);
    save_names(b, &fl->tech_ids);
    save_names(b, &fl->skills);
    save_names(b, &fl->skus);
    save_names(b, &fl->depots);
    save_names(b, &fl->ccats);
    for (uint32_t i = 0; i < fl->tech_ids.n; i++) { /* every interned technician has a record */
        const ftech *t = fl->techs[i];
        ow_ck_i32(b, t->region);
        ow_ck_u8(b, t->status);
        ow_ck_u8(b, t->has_status);
        ow_ck_u8(b, t->has_loc);
        ow_ck_u8(b, t->skills_known);
        ow_ck_i64(b, t->status_ts);
        ow_ck_i64(b, t->loc_ts);
        ow_ck_i64(b, t->first_ts);
        ow_ck_f64(b, t->lon);
        ow_ck_f64(b, t->lat);
        ow_ck_u16(b, t->open);
        ow_ck_u16(b, t->nskills);
        for (int k = 0; k < t->nskills; k++)
            ow_ck_i32(b, t->skills[k]);
    }
    uint32_t nregs = 0;
    for (uint32_t i = 0; i < fl->nregs; i++)
        nregs += fl->regs[i] != NULL;
    ow_ck_u32(b, nregs);
    for (uint32_t i = 0; i < fl->nregs; i++) {
        const freg *g = fl->regs[i];
        if (!g) continue;
        ow_ck_i32(b, g->idx);
        ow_ck_u16(b, g->opened);
        save_win(b, &g->surge, &fl->ws_surge);
        save_win(b, &g->csat, &fl->ws_csat);
        ow_ck_i64(b, g->surge_pos >= 0 ? g->surge_at : OW_NEVER);
        ow_ck_i64(b, g->csat_pos >= 0 ? g->csat_at : OW_NEVER);
        ow_ck_u32(b, g->nrecent);
        for (uint32_t k = 0; k < EVMAX && k < g->nrecent; k++) {
            ow_ck_str(b, g->recent[k] ? g->recent[k]->id : ""); /* "" = forgotten */
            ow_ck_i64(b, g->recent_ts[k]);
        }
    }
    for (uint32_t i = 0; i < fl->ccats.n; i++) {
        const fcat *k = fl->cats[i];
        ow_ck_u8(b, k->opened);
        save_win(b, &k->win, &fl->ws_cluster);
        ow_ck_i64(b, k->pos >= 0 ? k->at : OW_NEVER);
        ow_ck_u32(b, k->nrecent);
        for (uint32_t j = 0; j < EVMAX && j < k->nrecent; j++) {
            ow_ck_str(b, k->recent[j] ? k->recent[j] : ""); /* "" = forgotten */
            ow_ck_i64(b, k->recent_ts[j]);
        }
    }
    for (uint32_t i = 0; i < fl->skus.n; i++) {
        ow_ck_i32(b, i < fl->nsku ? fl->sku_zero[i] : 0);
        ow_ck_i32(b, i < fl->nsku ? fl->sku_zero_depot[i] : -1);
    }
    size_t pos = 0;
    const char *key;
    void *v;
    ow_ck_u32(b, (uint32_t)fl->stock.len);
    while (ow_map_next(&fl->stock, &pos, &key, &v)) {
        ow_ck_str(b, key);
        ow_ck_i64(b, (int64_t)(intptr_t)v - 1);
    }
    uint32_t norders = 0;
    pos = 0;
    while (ow_map_next(&s->orders, &pos, NULL, &v)) {
        const order *o = v;
        norders += o->fl.tech >= 0 || o->fl.holder >= 0 || o->fl.rec || o->fl.open || o->fl.bits;
    }
    ow_ck_u32(b, norders);
    pos = 0;
    while (ow_map_next(&s->orders, &pos, &key, &v)) {
        const order *o = v;
        if (!(o->fl.tech >= 0 || o->fl.holder >= 0 || o->fl.rec || o->fl.open || o->fl.bits))
            continue;
        ow_ck_str(b, key);
        ow_ck_i32(b, o->fl.tech);
        ow_ck_i32(b, o->fl.holder);
        ow_ck_u16(b, o->fl.open);
        ow_ck_u8(b, (uint8_t)(o->fl.bits & ~(FO_HELD | FO_WAITING))); /* held: counted on load */
        const frec *r = rec_of(fl, o);
        ow_ck_u8(b, r != NULL);
        if (!r) continue;
        ow_ck_f64(b, r->lon);
        ow_ck_f64(b, r->lat);
        uint64_t addr = r->addr;
        OW_CK_PUT(b, addr);
        ow_ck_i64(b, r->resolved_at);
        ow_ck_i64(b, r->parts_since);
        ow_ck_i32(b, r->skill);
        ow_ck_i32(b, r->sku);
        ow_ck_u8(b, (uint8_t)(r->has_geo | r->has_addr << 1 | r->indexed << 2));
    }
    /* a resolved flag needs only its count (the next raise is n + 1): most flags are resolved */
    ow_ck_u32(b, (uint32_t)fl->inst.len);
    pos = 0;
    while (ow_map_next(&fl->inst, &pos, &key, &v)) {
        const finst *in = v;
        ow_ck_str(b, key);
        ow_ck_u32(b, in->n);
        ow_ck_u8(b, in->open_pos >= 0);
        if (in->open_pos < 0) continue;
        ow_ck_str(b, in->id);
        ow_ck_str(b, in->evidence);
        ow_ck_str(b, in->summary);
        ow_ck_i64(b, in->at);
        ow_ck_i32(b, in->region);
        ow_ck_u8(b, in->flag);
        ow_ck_u8(b, in->level);
    }
    /* since version 6: the other partitions' orders, a replica only a partitioned model has */
    ow_ck_u8(b, fl->hold != NULL);
    if (fl->hold) ow_holdings_save(fl->hold, b);
}

static bool load_names(ow_ckr *r, ow_names *t)
{
    uint32_t n;
    char name[OW_ID_BUF];
    if (!OW_CKR_GET(r, n)) return false;
    for (uint32_t i = 0; i < n; i++) {
        if (!ow_ckr_str(r, name, sizeof name)) return false;
        if (ow_names_intern(t, name) != (int)i) return ow_ckr_fail(r, "flags: duplicate name");
    }
    return true;
}

static bool load_spec(ow_ckr *r, const wspec *sp)
{
    int64_t ms;
    int32_t w, t;
    if (!OW_CKR_GET(r, ms) || !OW_CKR_GET(r, w) || !OW_CKR_GET(r, t)) return false;
    if (ms != sp->ms || w != sp->w || t != sp->t)
        return ow_ckr_fail(r, "flag windows differ from this configuration");
    return true;
}

static bool load_win(ow_ckr *r, fwin *w, const wspec *sp)
{
    const int64_t lim = INT64_C(1) << 50; /* bucket arithmetic on a wild head would overflow */
    if (!OW_CKR_GET(r, w->head)) return false;
    if (w->head != EMPTY_HEAD && (w->head < -lim || w->head > lim))
        return ow_ckr_fail(r, "flags: bad window");
    uint32_t used;
    if (!OW_CKR_GET(r, used)) return false;
    if (used > (uint32_t)sp->n) return ow_ckr_fail(r, "flags: bad window");
    for (uint32_t k = 0; k < used; k++) {
        int32_t i;
        if (!OW_CKR_GET(r, i)) return false;
        if (i < 0 || i >= sp->n) return ow_ckr_fail(r, "flags: bad window slot");
        if (!OW_CKR_GET(r, w->cnt[i]) || (w->sum && !OW_CKR_GET(r, w->sum[i]))) return false;
    }
    return true;
}

/* A length-prefixed string as a new allocation (evidence has no small fixed bound). */
static char *load_strdup(ow_ckr *r)
{
    uint32_t n;
    if (!OW_CKR_GET(r, n)) return NULL;
    if (r->n - r->off < n || memchr(r->p + r->off, '\0', n)) {
        ow_ckr_fail(r, "string truncated or with a NUL");
        return NULL;
    }
    char *p = malloc((size_t)n + 1);
    if (!p) {
        ow_ckr_fail(r, "out of memory");
        return NULL;
    }
    memcpy(p, r->p + r->off, n);
    p[n] = '\0';
    r->off += n;
    return p;
}

static bool idx_ok(ow_ckr *r, int32_t i, uint32_t n)
{
    return (i >= -1 && (i < 0 || (uint32_t)i < n)) || ow_ckr_fail(r, "flags: index out of range");
}

static bool instant_ok(ow_ckr *r, int64_t t)
{
    const int64_t lim = INT64_C(1) << 50;
    return t == OW_NEVER || (t >= -lim && t <= lim) || ow_ckr_fail(r, "flags: bad instant");
}

/* WGS84 degrees, finite (a saved place could be anything). */
static bool place_ok(ow_ckr *r, double lon, double lat)
{
    return (lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90) ||
           ow_ckr_fail(r, "flags: bad position");
}

static bool arm(ow_ckr *r, ow_flags *fl, int64_t at, uint64_t tie, void *owner, int32_t *pos)
{
    if (at == OW_NEVER) return true;
    return (instant_ok(r, at) && !ow_timerq_set(&fl->tq, at, tie, owner, pos)) ||
           ow_ckr_fail(r, "out of memory");
}

static bool load_orders_part(ow_ckr *r, ow_state *s)
{
    ow_flags *fl = s->flags;
    uint32_t n;
    if (!OW_CKR_GET(r, n)) return false;
    for (uint32_t i = 0; i < n; i++) {
        char id[OW_ID_BUF];
        int32_t tch, holder;
        uint16_t open;
        uint8_t bits, has;
        if (!ow_ckr_str(r, id, sizeof id) || !OW_CKR_GET(r, tch) || !OW_CKR_GET(r, holder) ||
            !OW_CKR_GET(r, open) || !OW_CKR_GET(r, bits) || !OW_CKR_GET(r, has) ||
            !idx_ok(r, tch, fl->tech_ids.n) || !idx_ok(r, holder, fl->tech_ids.n))
            return false;
        order *o = ow_map_get(&s->orders, id);
        if (!o) return ow_ckr_fail(r, "flags: unknown order");
        o->fl.tech = tch, o->fl.holder = holder, o->fl.open = open;
        o->fl.bits = (uint8_t)(bits & ~(FO_HELD | FO_WAITING)); /* held: counted below */
        if (!has) continue;
        frec *rc = rec_get(fl, o);
        uint8_t geo;
        if (!rc) return ow_ckr_fail(r, "out of memory");
        if (!OW_CKR_GET(r, rc->lon) || !OW_CKR_GET(r, rc->lat) || !OW_CKR_GET(r, rc->addr) ||
            !OW_CKR_GET(r, rc->resolved_at) || !OW_CKR_GET(r, rc->parts_since) ||
            !OW_CKR_GET(r, rc->skill) || !OW_CKR_GET(r, rc->sku) || !OW_CKR_GET(r, geo) ||
            !idx_ok(r, rc->skill, fl->skills.n) || !idx_ok(r, rc->sku, fl->skus.n) ||
            !place_ok(r, rc->lon, rc->lat) || !instant_ok(r, rc->resolved_at) ||
            !instant_ok(r, rc->parts_since))
            return false;
        rc->has_geo = geo & 1, rc->has_addr = (geo >> 1) & 1;
        if (((geo >> 2) & 1) && index_add(fl, rc)) return ow_ckr_fail(r, "out of memory");
        if (rc->indexed && rc->resolved_at != OW_NEVER &&
            !arm(r, fl, rc->resolved_at + fl->cfg.repeat_visit.window_ms, TIE(TK_EXPIRE, o->seq),
                 rc, &rc->expire_pos))
            return false;
        if (rc->parts_since != OW_NEVER) {
            size_t cap = (size_t)fl->cappaused;
            if (grow((void **)&fl->paused, &cap, (size_t)fl->npaused + 1, sizeof *fl->paused))
                return ow_ckr_fail(r, "out of memory");
            fl->cappaused = (int32_t)cap;
            rc->paused_pos = fl->npaused;
            fl->paused[fl->npaused++] = rc;
            if (!((o->fl.open >> OV_PARTS) & 1) &&
                !arm(r, fl, rc->parts_since + fl->cfg.parts_wait.after_ms, TIE(TK_PARTS, o->seq),
                     rc, &rc->parts_pos))
                return false;
        }
    }
    return true;
}

bool ow_flags_load(ow_state *s, ow_ckr *r, uint32_t version)
{
    ow_flags *fl = s->flags;
    uint32_t magic;
    if (!OW_CKR_GET(r, magic)) return false;
    if (magic != FLAGS_MAGIC) return ow_ckr_fail(r, "flags: bad section");
    if (!load_spec(r, &fl->ws_surge) || !load_spec(r, &fl->ws_cluster) ||
        !load_spec(r, &fl->ws_csat) || !load_names(r, &fl->tech_ids) ||
        !load_names(r, &fl->skills) || !load_names(r, &fl->skus) || !load_names(r, &fl->depots) ||
        !load_names(r, &fl->ccats))
        return false;
    for (uint32_t i = 0; i < fl->tech_ids.n; i++) {
        ftech *t = tech_get(fl, ow_names_get(&fl->tech_ids, (int)i));
        uint8_t st, hs, hl, sk;
        if (!t) return ow_ckr_fail(r, "out of memory");
        if (!OW_CKR_GET(r, t->region) || !OW_CKR_GET(r, st) || !OW_CKR_GET(r, hs) ||
            !OW_CKR_GET(r, hl) || !OW_CKR_GET(r, sk) || !OW_CKR_GET(r, t->status_ts) ||
            !OW_CKR_GET(r, t->loc_ts) || !OW_CKR_GET(r, t->first_ts) || !OW_CKR_GET(r, t->lon) ||
            !OW_CKR_GET(r, t->lat) || !OW_CKR_GET(r, t->open) || !OW_CKR_GET(r, t->nskills) ||
            !idx_ok(r, t->region, s->regions.n) || !place_ok(r, t->lon, t->lat))
            return false;
        if (st >= OW_TECH__COUNT || t->nskills > OW_SKILLS_MAX || !instant_ok(r, t->loc_ts) ||
            (hl && t->loc_ts == OW_NEVER))
            return ow_ckr_fail(r, "flags: bad technician");
        t->status = st, t->has_status = hs, t->has_loc = hl, t->skills_known = sk;
        for (int k = 0; k < t->nskills; k++)
            if (!OW_CKR_GET(r, t->skills[k]) || !idx_ok(r, t->skills[k], fl->skills.n))
                return false;
        if (t->region >= 0 && !reg_get(fl, t->region)) return ow_ckr_fail(r, "out of memory");
        region_tech_count(fl, t, +1);
        if (t->has_loc && ow_spatial_put(&fl->tgrid, t->idx, t->lon, t->lat))
            return ow_ckr_fail(r, "out of memory");
    }
    uint32_t nregs;
    if (!OW_CKR_GET(r, nregs)) return false;
    for (uint32_t i = 0; i < nregs; i++) {
        int32_t idx;
        int64_t surge_at, csat_at;
        if (!OW_CKR_GET(r, idx) || !idx_ok(r, idx, s->regions.n) || idx < 0)
            return ow_ckr_fail(r, "flags: bad region");
        freg *g = reg_get(fl, idx);
        if (!g) return ow_ckr_fail(r, "out of memory");
        if (!OW_CKR_GET(r, g->opened) || !load_win(r, &g->surge, &fl->ws_surge) ||
            !load_win(r, &g->csat, &fl->ws_csat) || !OW_CKR_GET(r, surge_at) ||
            !OW_CKR_GET(r, csat_at) || !OW_CKR_GET(r, g->nrecent))
            return false;
        for (uint32_t k = 0; k < EVMAX && k < g->nrecent; k++) {
            char id[OW_ID_BUF];
            if (!ow_ckr_str(r, id, sizeof id) || !OW_CKR_GET(r, g->recent_ts[k])) return false;
            if (!(g->recent[k] = id[0] ? ow_map_get(&s->orders, id) : NULL) && id[0])
                return ow_ckr_fail(r, "flags: unknown order");
        }
        g->surge_at = surge_at, g->csat_at = csat_at;
        if (!arm(r, fl, surge_at, TIE(TK_SURGE, g->idx), g, &g->surge_pos) ||
            !arm(r, fl, csat_at, TIE(TK_CSAT, g->idx), g, &g->csat_pos))
            return false;
    }
    for (uint32_t i = 0; i < fl->ccats.n; i++) {
        fcat *k = cat_get(fl, ow_names_get(&fl->ccats, (int)i));
        int64_t at;
        uint8_t opened;
        if (!k) return ow_ckr_fail(r, "out of memory");
        if (!OW_CKR_GET(r, opened) || !load_win(r, &k->win, &fl->ws_cluster) ||
            !OW_CKR_GET(r, at) || !OW_CKR_GET(r, k->nrecent))
            return false;
        k->opened = opened != 0;
        for (uint32_t j = 0; j < EVMAX && j < k->nrecent; j++) {
            char id[OW_ID_BUF];
            if (!ow_ckr_str(r, id, sizeof id) || !OW_CKR_GET(r, k->recent_ts[j])) return false;
            /* a complaint of another partition: the replica's copy (loaded before) */
            if (id[0] && !(k->recent[j] = ow_map_key(&s->complaints, id)))
                k->recent[j] = ow_crossfacts_complaint_key(s->xf, id);
            if (!id[0]) k->recent[j] = NULL;
            if (!k->recent[j] && id[0]) return ow_ckr_fail(r, "flags: unknown complaint");
        }
        k->at = at;
        if (!arm(r, fl, at, TIE(TK_CLUSTER, k->idx), k, &k->pos)) return false;
    }
    if (fl->skus.n) {
        size_t cap = 0, cap2 = 0;
        if (grow((void **)&fl->sku_zero, &cap, fl->skus.n, sizeof *fl->sku_zero) ||
            grow((void **)&fl->sku_zero_depot, &cap2, fl->skus.n, sizeof *fl->sku_zero_depot))
            return ow_ckr_fail(r, "out of memory");
        for (size_t i = 0; i < cap; i++)
            fl->sku_zero[i] = 0, fl->sku_zero_depot[i] = -1;
        fl->nsku = (uint32_t)cap;
    }
    for (uint32_t i = 0; i < fl->skus.n; i++)
        if (!OW_CKR_GET(r, fl->sku_zero[i]) || !OW_CKR_GET(r, fl->sku_zero_depot[i]) ||
            !idx_ok(r, fl->sku_zero_depot[i], fl->depots.n))
            return false;
    uint32_t nstock;
    if (!OW_CKR_GET(r, nstock)) return false;
    for (uint32_t i = 0; i < nstock; i++) {
        char key[2 * OW_NAME_BUF + 2];
        int64_t qty;
        if (!ow_ckr_str(r, key, sizeof key) || !OW_CKR_GET(r, qty)) return false;
        if (qty < 0 || qty > (INT64_C(1) << 53)) return ow_ckr_fail(r, "flags: bad stock");
        if (ow_map_put(&fl->stock, key, (void *)(intptr_t)(qty + 1)))
            return ow_ckr_fail(r, "out of memory");
    }
    if (!load_orders_part(r, s)) return false;
    size_t pos = 0;
    void *v;
    while (ow_map_next(&s->orders, &pos, NULL, &v)) { /* counts, active lists, holds, waits */
        order *o = v;
        if (order_sync(s, o, 0, false)) return ow_ckr_fail(r, "out of memory");
        if (neglect_pending(o) && try_neglect(s, o, 0)) return ow_ckr_fail(r, "out of memory");
    }
    uint32_t ninst;
    if (!OW_CKR_GET(r, ninst)) return false;
    for (uint32_t i = 0; i < ninst; i++) {
        char key[OW_ALERT_ID_BUF];
        uint8_t open, flag, level;
        uint32_t n;
        finst *in = NULL;
        if (!ow_ckr_str(r, key, sizeof key) || !OW_CKR_GET(r, n) || !OW_CKR_GET(r, open))
            return false;
        if (!(in = inst_get(fl, key, true))) return ow_ckr_fail(r, "out of memory");
        if (in->n || !n) return ow_ckr_fail(r, "flags: flag listed twice or never raised");
        in->n = n;
        if (!open) continue;
        char *id = NULL, *ev = NULL, *sum = NULL;
        bool ok = (id = load_strdup(r)) != NULL && (ev = load_strdup(r)) != NULL &&
                  (sum = load_strdup(r)) != NULL && OW_CKR_GET(r, in->at) &&
                  OW_CKR_GET(r, in->region) && OW_CKR_GET(r, flag) && OW_CKR_GET(r, level) &&
                  idx_ok(r, in->region, s->regions.n) && instant_ok(r, in->at) &&
                  (in->at != OW_NEVER || ow_ckr_fail(r, "flags: bad instant"));
        if (ok && (flag >= OW_FLAG__COUNT || level > 3)) ok = ow_ckr_fail(r, "flags: bad flag");
        if (ok) { /* the evidence goes into snapshots as it is: it must be a JSON object */
            cJSON *j = ow_json_parse(ev, strlen(ev), 4, NULL);
            if (!cJSON_IsObject(j)) ok = ow_ckr_fail(r, "flags: evidence is not a JSON object");
            cJSON_Delete(j);
        }
        if (ok && grow((void **)&fl->openv, &fl->capopen, fl->nopen + 1, sizeof *fl->openv))
            ok = ow_ckr_fail(r, "out of memory");
        if (!ok) {
            free(id), free(ev), free(sum);
            return false;
        }
        in->id = id, in->evidence = ev, in->summary = sum;
        in->flag = flag, in->level = level;
        in->rname = region_name(s, in->region);
        in->open_pos = (int32_t)fl->nopen;
        fl->openv[fl->nopen++] = in;
        s->totals.alerts_open_by_level[level]++;
        if (ow_state_impl_esc_flag(s, in, &in->esc_pos, level, in->at))
            return ow_ckr_fail(r, "out of memory");
    }
    uint8_t replica = 0;
    if (version >= 6 && !OW_CKR_GET(r, replica)) return false;
    if (replica > 1) return ow_ckr_fail(r, "flags: bad holdings marker");
    if (replica && !(fl->hold = ow_holdings_new(s->policy->closed_retention_ms)))
        return ow_ckr_fail(r, "out of memory");
    if (replica && !ow_holdings_load(fl->hold, r, fl->tech_ids.n)) return false;
    /* technicians' stale timers follow from what was loaded (the replica's holds included) */
    for (uint32_t i = 0; i < fl->tech_ids.n; i++) {
        ftech *t = fl->techs[i];
        if (tracked(fl, t) && t->has_loc && !((t->open >> 1) & 1)) {
            t->stale_at = t->loc_ts + fl->cfg.stale_technician.after_ms;
            if (!arm(r, fl, t->stale_at, TIE(TK_STALE, t->idx), t, &t->stale_pos)) return false;
        }
    }
    return true;
}

void ow_flags_each_of_order(const ow_state *s, const char *order_id,
                            bool (*fn)(const ow_flag_view *v, void *arg), void *arg)
{
    const order *o = ow_map_get(&s->orders, order_id);
    for (int v = 0; o && v < OV__COUNT; v++) {
        if (!((o->fl.open >> v) & 1)) continue;
        char key[OW_ALERT_ID_BUF];
        make_key(key, sizeof key, order_variants[v].flag, o->id, order_variants[v].suffix);
        const finst *in = ow_map_get(&s->flags->inst, key);
        if (!in || in->open_pos < 0) continue;
        ow_flag_view view = {
            in->id, flag_names[in->flag], in->rname, in->summary, in->evidence, in->at, in->level};
        if (!fn(&view, arg)) return;
    }
}

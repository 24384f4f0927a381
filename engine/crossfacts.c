#include "crossfacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "names.h"
#include "places.h"
#include "sla.h"
#include "spatial.h"
#include "state_impl.h"
#include "timerq.h"

/* One order of another partition. Mirrors what engine/flags.c keeps of an order of its own: the
 * open test is ow_state's (created, and not ended since its latest reopen), the rest the flags'
 * (dispatched, to whom, resolved at, in the place index). */
typedef struct xord {
    const char *id;            /* the orders map's key */
    int32_t cat, region, tech; /* in the replica's name tables; -1 = none */
    int64_t created, first_ts, last_ts, last_end, last_reopen, resolved_at;
    double lon, lat;
    uint64_t addr;
    int32_t idx; /* slot: the place index's id */
    int32_t pos; /* timer heap position */
    bool has_geo, has_addr, dispatched, resolved, indexed;
} xord;

typedef struct xcpl {
    const char *id; /* the complaints map's key (the cluster rings borrow it) */
    int64_t created;
    int32_t pos;
} xcpl;

struct ow_crossfacts {
    int64_t repeat_ms, keep_ms;
    ow_names cats, regions, techs;
    ow_map orders, complaints;
    xord **slots;
    int32_t nslots, capslots;
    int32_t *free_slots;
    int32_t nfree, capfree;
    ow_places places; /* the indexed orders, by slot: the same index as engine/flags.c's */
    ow_timerq tq; /* orders: when one leaves the place index or goes; complaints: when forgotten */
};

#define TIE_CPL (1ull << 63)

ow_crossfacts *ow_crossfacts_new(int64_t repeat_ms, int64_t keep_ms, double cell_m)
{
    ow_crossfacts *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->repeat_ms = repeat_ms, x->keep_ms = keep_ms;
    ow_names_init(&x->cats), ow_names_init(&x->regions), ow_names_init(&x->techs);
    ow_map_init(&x->orders), ow_map_init(&x->complaints);
    ow_places_init(&x->places, cell_m);
    ow_timerq_init(&x->tq);
    return x;
}

void ow_crossfacts_free(ow_crossfacts *x)
{
    if (!x) return;
    ow_timerq_fini(&x->tq); /* first: it writes its owners' positions */
    ow_names_fini(&x->cats), ow_names_fini(&x->regions), ow_names_fini(&x->techs);
    ow_map_fini_free(&x->orders); /* the xord values */
    ow_map_fini_free(&x->complaints);
    free(x->slots);
    free(x->free_slots);
    ow_places_fini(&x->places);
    free(x);
}

static int grow(void **p, int32_t *cap, int32_t need, size_t size)
{
    if (need <= *cap) return OW_OK;
    int32_t c = *cap ? *cap * 2 : 64;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, (size_t)c * size);
    if (!q) return OW_ENOMEM;
    *p = q, *cap = c;
    return OW_OK;
}

/* ---- the place index (engine/places.h, as the flags' for the partition's own orders) ---- */

static int index_add(ow_crossfacts *x, xord *o)
{
    if (ow_places_add(&x->places, o->idx, o->has_geo, o->lon, o->lat, o->has_addr, o->addr))
        return OW_ENOMEM;
    o->indexed = true;
    return OW_OK;
}

static void index_remove(ow_crossfacts *x, xord *o)
{
    if (!o->indexed) return;
    ow_places_remove(&x->places, o->idx, o->has_addr, o->addr);
    o->indexed = false;
}

static bool is_open(const xord *o)
{
    return o->created != OW_NEVER && (o->last_end == OW_NEVER ||
                                      (o->last_reopen != OW_NEVER && o->last_reopen > o->last_end));
}

static void drop_order(ow_crossfacts *x, xord *o)
{
    index_remove(x, o);
    ow_timerq_remove(&x->tq, &o->pos);
    x->slots[o->idx] = NULL;
    if (!grow((void **)&x->free_slots, &x->capfree, x->nfree + 1, sizeof *x->free_slots))
        x->free_slots[x->nfree++] = o->idx; /* else the slot is not reused: no harm */
    free(ow_map_take_key(&x->orders, o->id));
    free(o);
}

/* When the order next changes by time alone: it leaves the place index repeat_ms after its
 * resolution (flags.c's TK_EXPIRE), and the replica repeat_ms after its last record. Open: never.
 */
static int plan(ow_crossfacts *x, xord *o)
{
    if (is_open(o)) {
        ow_timerq_remove(&x->tq, &o->pos);
        return OW_OK;
    }
    int64_t at = o->indexed && o->resolved_at != OW_NEVER ? o->resolved_at : o->last_ts;
    at = at > OW_NEVER - x->repeat_ms ? OW_NEVER : at + x->repeat_ms;
    return ow_timerq_set(&x->tq, at, (uint64_t)(uint32_t)o->idx, o, &o->pos);
}

static xord *order_new(ow_crossfacts *x, const ow_xrec *r)
{
    int32_t cap = x->capslots;
    if (!x->nfree && grow((void **)&x->slots, &cap, x->nslots + 1, sizeof *x->slots)) return NULL;
    x->capslots = cap;
    xord *o = calloc(1, sizeof *o);
    if (!o || ow_map_put(&x->orders, r->id, o)) {
        free(o);
        return NULL;
    }
    o->id = ow_map_key(&x->orders, r->id);
    o->idx = x->nfree ? x->free_slots[--x->nfree] : x->nslots++;
    x->slots[o->idx] = o;
    o->cat = o->region = o->tech = -1;
    o->created = o->first_ts = o->last_end = o->last_reopen = o->resolved_at = OW_NEVER;
    o->last_ts = r->ts_ms;
    o->pos = -1;
    return o;
}

static int apply_order(ow_crossfacts *x, const ow_xrec *r)
{
    xord *o = ow_map_get(&x->orders, r->id);
    if (!o && r->type != OW_EV_ORDER_CREATED) return 0; /* not a pair's member (no place) */
    int64_t t = r->ts_ms;
    if (!o) {
        /* as flags.c's on_created (the first creation applied): the order enters the index */
        if (!(o = order_new(x, r))) return OW_ENOMEM;
        o->has_geo = r->has_geo, o->lon = r->lon, o->lat = r->lat;
        o->has_addr = r->has_address, o->addr = r->address_key;
        if (index_add(x, o)) return OW_ENOMEM;
    }
    /* ow_state's order: names from its earliest creation, open from its instants */
    if (r->type == OW_EV_ORDER_CREATED && (o->created == OW_NEVER || t <= o->first_ts)) {
        if ((o->cat = ow_names_intern(&x->cats, r->category)) < 0 ||
            (o->region = ow_names_intern(&x->regions, r->region)) < 0)
            return OW_ENOMEM;
    }
    if (o->first_ts == OW_NEVER || t < o->first_ts) o->first_ts = t;
    if (t > o->last_ts) o->last_ts = t;
    switch (r->type) {
    case OW_EV_ORDER_CREATED:
        if (o->created == OW_NEVER || t < o->created) o->created = t;
        break;
    case OW_EV_ORDER_DISPATCHED:
        o->dispatched = true;
        if ((o->tech = ow_names_intern(&x->techs, r->tech)) < 0) return OW_ENOMEM;
        break;
    case OW_EV_ORDER_RESOLVED:
    case OW_EV_ORDER_CLOSED:
    case OW_EV_ORDER_CANCELLED:
        if (o->last_end == OW_NEVER || t > o->last_end) o->last_end = t;
        break;
    case OW_EV_ORDER_REOPENED:
        if (o->last_reopen == OW_NEVER || t > o->last_reopen) o->last_reopen = t;
        break;
    default: break;
    }
    /* then the flags' part, as ow_flags_order does it */
    if (r->type == OW_EV_ORDER_RESOLVED) {
        o->resolved = true;
        if (o->indexed && o->resolved_at == OW_NEVER) o->resolved_at = t;
    } else if (r->type == OW_EV_ORDER_REOPENED && is_open(o) && o->resolved) {
        o->resolved = false;
        o->resolved_at = OW_NEVER;
    }
    if (!is_open(o) && o->indexed && !o->resolved) index_remove(x, o); /* ended, never done */
    return plan(x, o) ? OW_ENOMEM : 0;
}

static int apply_complaint(ow_state *s, ow_crossfacts *x, const ow_xrec *r, int64_t wm)
{
    /* only the category's home partition counts the city's complaints (flags.c raises there) */
    const ow_partition_table *t = s->policy->home_table;
    int home = (int)(ow_partition_hash(r->category, strlen(r->category)) % (uint32_t)t->n);
    if (home != s->policy->home_partition) return 0;
    if (ow_map_get(&x->complaints, r->id)) return 0; /* counted once, as one node counts it */
    /* one node drops the creation of a complaint it does not know that is older than its latest
     * event time (wm) - closed_retention (ow_state's late_for_forgotten) */
    int64_t keep = s->policy->closed_retention_ms;
    if (keep > 0 && wm != INT64_MIN && wm >= INT64_MIN + keep && r->ts_ms <= wm - keep) return 0;
    xcpl *c = calloc(1, sizeof *c);
    if (!c || ow_map_put(&x->complaints, r->id, c)) {
        free(c);
        return OW_ENOMEM;
    }
    c->id = ow_map_key(&x->complaints, r->id);
    c->created = r->ts_ms;
    c->pos = -1;
    int64_t at = r->ts_ms > OW_NEVER - x->keep_ms ? OW_NEVER : r->ts_ms + x->keep_ms;
    if (ow_timerq_set(&x->tq, at, TIE_CPL, c, &c->pos)) return OW_ENOMEM;
    int rc = ow_flags_complaint_count(s, r->category, c->id, r->ts_ms);
    return rc ? rc : 1;
}

int ow_crossfacts_apply(ow_state *s, const ow_xrec *r, int64_t wm)
{
    ow_crossfacts *x = s->xf;
    if (!x || r->partition == s->policy->home_partition) return 0;
    if (r->kind == OW_XREC_COMPLAINT) return apply_complaint(s, x, r, wm);
    /* one node drops an event of an order it does not know that is older than its latest event
     * time - closed_retention (late_for_forgotten) */
    int64_t keep = s->policy->closed_retention_ms;
    if (keep > 0 && wm != INT64_MIN && wm >= INT64_MIN + keep && r->ts_ms <= wm - keep &&
        !ow_map_get(&x->orders, r->id))
        return 0;
    return apply_order(x, r);
}

void ow_crossfacts_advance(ow_state *s, int64_t now_ms)
{
    ow_crossfacts *x = s->xf;
    const ow_timer *t;
    while (x && (t = ow_timerq_peek(&x->tq)) != NULL && t->at <= now_ms) {
        if (t->tie & TIE_CPL) {
            xcpl *c = t->owner;
            ow_timerq_remove(&x->tq, &c->pos);
            ow_flags_complaint_forget(s, c->id); /* the rings no longer borrow it */
            free(ow_map_take_key(&x->complaints, c->id));
            free(c);
            continue;
        }
        xord *o = t->owner;
        ow_timerq_remove(&x->tq, &o->pos);
        if (o->indexed && o->resolved_at != OW_NEVER && o->resolved_at + x->repeat_ms <= now_ms) {
            index_remove(x, o); /* out of the repeat-visit memory, as flags.c's TK_EXPIRE */
            if (o->last_ts + x->repeat_ms > now_ms) {
                if (plan(x, o)) return; /* out of memory: kept, tried again at the next advance */
                continue;
            }
        }
        drop_order(x, o);
    }
}

/* ---- queries ---- */

typedef struct nearq {
    const ow_crossfacts *x;
    const ow_xquery *q;
    void (*fn)(const ow_xcand *c, void *arg);
    void *arg;
} nearq;

static void visit(const nearq *n, const xord *o)
{
    const ow_xquery *q = n->q;
    if (strcmp(ow_names_get(&n->x->cats, o->cat), q->category) != 0) return;
    int64_t key;
    if (q->repeat) {
        if (o->resolved_at == OW_NEVER || is_open(o)) return;
        key = o->resolved_at;
    } else {
        if (!is_open(o) || !o->dispatched) return;
        key = o->created;
    }
    if (key < q->from || key > q->to) return;
    ow_xcand c = {o->id,
                  ow_names_get(&n->x->techs, o->tech),
                  ow_names_get(&n->x->regions, o->region),
                  o->has_geo,
                  o->lon,
                  o->lat,
                  key};
    n->fn(&c, n->arg);
}

static bool near_geo(int32_t id, double d, void *arg)
{
    (void)d;
    const nearq *n = arg;
    const xord *o = n->x->slots[id];
    /* an address match was visited by the address walk */
    if (!(n->q->has_addr && o->has_addr && o->addr == n->q->addr)) visit(n, o);
    return true;
}

void ow_crossfacts_near(const ow_crossfacts *x, const ow_xquery *q,
                        void (*fn)(const ow_xcand *c, void *arg), void *arg)
{
    if (!x) return;
    nearq n = {x, q, fn, arg};
    if (q->has_addr)
        for (int32_t i = ow_places_first(&x->places, q->addr); i >= 0;
             i = ow_places_next(&x->places, i))
            visit(&n, x->slots[i]);
    if (q->has_geo) ow_spatial_within(&x->places.grid, q->lon, q->lat, q->radius_m, near_geo, &n);
}

const char *ow_crossfacts_complaint_key(const ow_crossfacts *x, const char *id)
{
    return x ? ow_map_key(&x->complaints, id) : NULL;
}

void ow_crossfacts_counts(const ow_crossfacts *x, int64_t *orders, int64_t *complaints)
{
    *orders = x ? (int64_t)x->orders.len : 0;
    *complaints = x ? (int64_t)x->complaints.len : 0;
}

/* ---- checkpoint ---- */

enum { XB_GEO = 1, XB_ADDR = 2, XB_DISPATCHED = 4, XB_RESOLVED = 8, XB_INDEXED = 16 };

void ow_crossfacts_save(const ow_crossfacts *x, ow_buf *b)
{
    ow_ck_u32(b, x ? (uint32_t)x->orders.len : 0);
    size_t pos = 0;
    void *v;
    while (x && ow_map_next(&x->orders, &pos, NULL, &v)) {
        const xord *o = v;
        ow_ck_str(b, o->id);
        ow_ck_str(b, o->cat >= 0 ? ow_names_get(&x->cats, o->cat) : "");
        ow_ck_str(b, o->region >= 0 ? ow_names_get(&x->regions, o->region) : "");
        ow_ck_str(b, o->tech >= 0 ? ow_names_get(&x->techs, o->tech) : "");
        ow_ck_u8(b, (uint8_t)((o->has_geo ? XB_GEO : 0) | (o->has_addr ? XB_ADDR : 0) |
                              (o->dispatched ? XB_DISPATCHED : 0) |
                              (o->resolved ? XB_RESOLVED : 0) | (o->indexed ? XB_INDEXED : 0)));
        ow_ck_f64(b, o->lon), ow_ck_f64(b, o->lat);
        ow_ck_i64(b, (int64_t)o->addr);
        ow_ck_i64(b, o->created), ow_ck_i64(b, o->first_ts), ow_ck_i64(b, o->last_ts);
        ow_ck_i64(b, o->last_end), ow_ck_i64(b, o->last_reopen), ow_ck_i64(b, o->resolved_at);
    }
    ow_ck_u32(b, x ? (uint32_t)x->complaints.len : 0);
    pos = 0;
    while (x && ow_map_next(&x->complaints, &pos, NULL, &v)) {
        const xcpl *c = v;
        ow_ck_str(b, c->id);
        ow_ck_i64(b, c->created);
    }
}

static bool instant_ok(int64_t t)
{
    return t == OW_NEVER || (t >= 0 && t <= 253402300799999LL);
}

static bool load_order(ow_ckr *r, ow_crossfacts *x)
{
    char id[OW_ID_BUF], cat[OW_NAME_BUF], region[OW_NAME_BUF], tname[OW_ID_BUF];
    uint8_t bits = 0;
    double lon = 0, lat = 0;
    int64_t addr = 0, created, first, last, end, reopen, resolved;
    if (!ow_ckr_str(r, id, sizeof id) || !ow_ckr_str(r, cat, sizeof cat) ||
        !ow_ckr_str(r, region, sizeof region) || !ow_ckr_str(r, tname, sizeof tname) ||
        !OW_CKR_GET(r, bits) || !OW_CKR_GET(r, lon) || !OW_CKR_GET(r, lat) ||
        !OW_CKR_GET(r, addr) || !OW_CKR_GET(r, created) || !OW_CKR_GET(r, first) ||
        !OW_CKR_GET(r, last) || !OW_CKR_GET(r, end) || !OW_CKR_GET(r, reopen) ||
        !OW_CKR_GET(r, resolved))
        return false;
    if (!id[0] || ow_map_get(&x->orders, id))
        return ow_ckr_fail(r, "cross-partition order: bad or repeated id");
    if (!instant_ok(created) || !instant_ok(first) || !instant_ok(last) || last == OW_NEVER ||
        !instant_ok(end) || !instant_ok(reopen) || !instant_ok(resolved))
        return ow_ckr_fail(r, "cross-partition order: bad instant");
    if ((bits & XB_GEO) && !(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90))
        return ow_ckr_fail(r, "cross-partition order: bad place");
    if (bits & ~31u) return ow_ckr_fail(r, "cross-partition order: bad bits");
    ow_xrec rec = {.ts_ms = last};
    snprintf(rec.id, sizeof rec.id, "%s", id);
    xord *o = order_new(x, &rec);
    if (!o) return ow_ckr_fail(r, "out of memory");
    o->has_geo = bits & XB_GEO, o->has_addr = bits & XB_ADDR;
    o->dispatched = bits & XB_DISPATCHED, o->resolved = bits & XB_RESOLVED;
    o->lon = lon, o->lat = lat, o->addr = (uint64_t)addr;
    o->created = created, o->first_ts = first, o->last_end = end, o->last_reopen = reopen;
    o->resolved_at = resolved;
    if ((cat[0] || created != OW_NEVER) && (o->cat = ow_names_intern(&x->cats, cat)) < 0)
        return ow_ckr_fail(r, "out of memory");
    if ((region[0] || created != OW_NEVER) &&
        (o->region = ow_names_intern(&x->regions, region)) < 0)
        return ow_ckr_fail(r, "out of memory");
    if (tname[0] && (o->tech = ow_names_intern(&x->techs, tname)) < 0)
        return ow_ckr_fail(r, "out of memory");
    if ((bits & XB_INDEXED) && (!(bits & (XB_GEO | XB_ADDR)) || index_add(x, o)))
        return ow_ckr_fail(r, "cross-partition order: indexed without a place, or out of memory");
    return plan(x, o) == OW_OK || ow_ckr_fail(r, "out of memory");
}

bool ow_crossfacts_load(ow_state *s, ow_ckr *r)
{
    ow_crossfacts *x = s->xf;
    uint32_t n = 0;
    if (!OW_CKR_GET(r, n)) return false;
    if (n && !x) return ow_ckr_fail(r, "cross-partition orders in a one-node checkpoint");
    for (uint32_t i = 0; i < n; i++)
        if (!load_order(r, x)) return false;
    if (!OW_CKR_GET(r, n)) return false;
    if (n && !x) return ow_ckr_fail(r, "cross-partition complaints in a one-node checkpoint");
    for (uint32_t i = 0; i < n; i++) {
        char id[OW_ID_BUF];
        int64_t created;
        if (!ow_ckr_str(r, id, sizeof id) || !OW_CKR_GET(r, created)) return false;
        if (!id[0] || ow_map_get(&x->complaints, id) || !instant_ok(created) || created == OW_NEVER)
            return ow_ckr_fail(r, "cross-partition complaint: bad or repeated id, or bad instant");
        xcpl *c = calloc(1, sizeof *c);
        if (!c || ow_map_put(&x->complaints, id, c)) {
            free(c);
            return ow_ckr_fail(r, "out of memory");
        }
        c->id = ow_map_key(&x->complaints, id);
        c->created = created;
        c->pos = -1;
        int64_t at = created > OW_NEVER - x->keep_ms ? OW_NEVER : created + x->keep_ms;
        if (ow_timerq_set(&x->tq, at, TIE_CPL, c, &c->pos)) return ow_ckr_fail(r, "out of memory");
    }
    return true;
}

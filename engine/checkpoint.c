#include "checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ckio.h"
#include "state_impl.h"

#define MAGIC 0x4b43574fu /* "OWCK" */
#define VERSION                                                                                    \
    6u /* 2: order cells, callback details, technicians' previous values, KPIs;                    \
          3: the root-cause flags' section; 4: its windows sparse, resolved flags as counts;       \
          5: forgotten orders' counts (engine.closed_retention); 6: the cross-partition replica's  \
          section before the flags' (engine/crossfacts.h), the flags' replica of other             \
          partitions' holdings at their end (engine/holdings.h) */

/* ---- writing ---- */

static void put_names(ow_buf *b, const ow_names *t)
{
    ow_ck_u32(b, t->n);
    for (uint32_t i = 0; i < t->n; i++)
        ow_ck_str(b, t->names[i]);
}

static void put_clk(ow_buf *b, const clk *c)
{
    ow_ck_u16(b, c->instance);
    ow_ck_u8(b, c->fired);
    ow_ck_u8(b, c->open);
}

int ow_checkpoint_save(const ow_state *s, const char *cursor, char **out, size_t *len, ow_err *err)
{
    ow_buf b = {0};
    ow_ck_u32(&b, MAGIC);
    ow_ck_u32(&b, VERSION);
    ow_ck_str(&b, cursor);
    ow_ck_u32(&b, s->next_seq);
    const ow_state_totals *t = &s->totals;
    ow_ck_i64(&b, t->events_applied);
    ow_ck_i64(&b, t->duplicates);
    ow_ck_i64(&b, t->last_event_ms);
    ow_ck_i64(&b, t->alerts_raised);
    ow_ck_i64(&b, t->orders_known);
    ow_ck_i64(&b, t->orders_forgotten);
    ow_ck_i64(&b, t->complaints_forgotten);
    ow_ck_i64(&b, t->late_for_forgotten);
    for (int i = 0; i < OW_EV__COUNT; i++)
        ow_ck_i64(&b, t->events_by_type[i]);
    put_names(&b, &s->regions);
    put_names(&b, &s->categories);
    put_names(&b, &s->tech_ids);

    size_t pos = 0;
    const char *key;
    void *v;
    ow_ck_u32(&b, (uint32_t)s->orders.len);
    while (ow_map_next(&s->orders, &pos, &key, &v)) {
        const order *o = v;
        ow_ck_str(&b, key);
        ow_ck_u32(&b, o->seq);
        ow_ck_u8(&b, o->given_prio);
        ow_ck_u8(&b, o->segment);
        ow_ck_i32(&b, o->region);
        ow_ck_i32(&b, o->category);
        ow_ck_i32(&b, o->cell);
        ow_ck_u16(&b, o->nev);
        for (uint16_t i = 0; i < o->nev; i++) {
            ow_ck_i64(&b, o->evs[i].ts);
            ow_ck_u32(&b, o->evs[i].tech);
            ow_ck_u8(&b, o->evs[i].type);
            ow_ck_u8(&b, o->evs[i].arg);
            ow_ck_u16(&b, o->evs[i].aux);
        }
        for (int st = 0; st < NSTAGES; st++)
            put_clk(&b, &o->c[st]);
    }
    pos = 0;
    ow_ck_u32(&b, (uint32_t)s->complaints.len);
    while (ow_map_next(&s->complaints, &pos, &key, &v)) {
        const complaint *c = v;
        ow_ck_str(&b, key);
        ow_ck_u32(&b, c->seq);
        ow_ck_i32(&b, c->region);
        ow_ck_u8(&b, c->severity);
        ow_ck_u8(&b, c->created);
        ow_ck_i64(&b, c->created_ts);
        ow_ck_i64(&b, c->responded_ts);
        put_clk(&b, &c->c);
    }
    pos = 0;
    ow_ck_u32(&b, (uint32_t)s->techs.len);
    while (ow_map_next(&s->techs, &pos, &key, &v)) {
        const tech *te = v;
        ow_ck_str(&b, key);
        ow_ck_i32(&b, te->region);
        ow_ck_u8(&b, te->status);
        ow_ck_u8(&b, te->has_status);
        ow_ck_i64(&b, te->status_ts);
        ow_ck_i64(&b, te->loc_ts);
        ow_ck_f64(&b, te->lat);
        ow_ck_f64(&b, te->lon);
        ow_ck_u8(&b, te->prev_status);
        ow_ck_u8(&b, te->prev_has_status);
        ow_ck_i64(&b, te->prev_status_ts);
        ow_ck_i64(&b, te->prev_loc_ts);
        ow_ck_f64(&b, te->prev_lat);
        ow_ck_f64(&b, te->prev_lon);
    }
    pos = 0;
    ow_ck_u32(&b, (uint32_t)s->acks.by_id.len);
    while (ow_map_next(&s->acks.by_id, &pos, &key, &v)) {
        const ow_ack *a = v;
        ow_ck_str(&b, key);
        ow_ck_str(&b, a->by);
        ow_ck_i64(&b, a->at);
        ow_ck_str(&b, a->note);
    }
    ow_kpi_save(s->kpi, &b);
    ow_crossfacts_save(s->xf, &b); /* before the flags: their cluster rings borrow its ids */
    ow_flags_save(s, &b);
    if (b.oom) {
        free(b.p);
        return ow_err_set(err, OW_ENOMEM, "checkpoint: out of memory");
    }
    *out = b.p;
    *len = b.n;
    return OW_OK;
}

/* ---- reading (ckio.h: every read is bounds-checked; the first failure sticks) ---- */

static bool get_names(ow_ckr *r, ow_names *t)
{
    uint32_t n;
    char name[OW_ID_BUF];
    if (!OW_CKR_GET(r, n)) return false;
    for (uint32_t i = 0; i < n; i++) {
        if (!ow_ckr_str(r, name, sizeof name)) return false;
        if (ow_names_intern(t, name) != (int)i) {
            r->bad = "duplicate name or out of memory";
            return false;
        }
    }
    return true;
}

static bool get_clk(ow_ckr *r, clk *c)
{
    return OW_CKR_GET(r, c->instance) && OW_CKR_GET(r, c->fired) && OW_CKR_GET(r, c->open) &&
           ((c->fired | c->open) < 16 && (c->open & ~c->fired) == 0
                ? true
                : (r->bad = "bad alert bits", false));
}

/* Every instant an event can carry (RFC 3339, years 0000-9999, any zone) lies well inside
 * ±2^50 ms. A saved instant outside that is corrupt, and SLA arithmetic on it would overflow. */
#define INSTANT_LIMIT (INT64_C(1) << 50)

static bool instant_ok(int64_t t)
{
    return t >= -INSTANT_LIMIT && t <= INSTANT_LIMIT;
}

/* Counters are published as JSON numbers, exact up to 2^53; a saved one past that (or negative)
 * is corrupt, and counting on from INT64_MAX would overflow. */
static bool count_ok(ow_ckr *r, int64_t n)
{
    if (n < 0 || n > (INT64_C(1) << 53)) {
        r->bad = "counter out of range";
        return false;
    }
    return true;
}

static bool index_ok(ow_ckr *r, int32_t i, uint32_t n)
{
    if (i < -1 || (i >= 0 && (uint32_t)i >= n)) {
        r->bad = "name index out of range";
        return false;
    }
    return true;
}

static bool load_orders(ow_ckr *r, ow_state *s)
{
    uint32_t n;
    if (!OW_CKR_GET(r, n)) return false;
    for (uint32_t i = 0; i < n; i++) {
        char id[OW_ID_BUF];
        order *o = calloc(1, sizeof *o);
        if (!o) return (r->bad = "out of memory", false);
        o->heap_pos = o->urgent_pos = -1;
        o->fl = OW_FLAG_ORDER_NONE;
        for (int st = 0; st < NSTAGES; st++)
            o->c[st].start = o->c[st].stop = OW_NEVER;
        clk saved[NSTAGES];
        bool ok = ow_ckr_str(r, id, sizeof id) && OW_CKR_GET(r, o->seq) &&
                  OW_CKR_GET(r, o->given_prio) && OW_CKR_GET(r, o->segment) &&
                  OW_CKR_GET(r, o->region) && OW_CKR_GET(r, o->category) &&
                  OW_CKR_GET(r, o->cell) && OW_CKR_GET(r, o->nev);
        ok =
            ok && index_ok(r, o->region, s->regions.n) && index_ok(r, o->category, s->categories.n);
        if (ok && (o->given_prio >= OW_PRIO__COUNT || o->segment >= OW_SEG__COUNT))
            ok = false, r->bad = "bad priority or segment";
        if (ok && (o->cell < -1 || o->cell >= OW_HEAT_MAX_CELLS))
            ok = false, r->bad = "bad heat cell";
        if (ok && o->nev) {
            o->cap = o->nev;
            o->evs = calloc(o->nev, sizeof *o->evs);
            if (!o->evs) ok = false, r->bad = "out of memory";
        }
        for (uint16_t e = 0; ok && e < o->nev; e++) {
            lc_ev *ev = &o->evs[e];
            ok = OW_CKR_GET(r, ev->ts) && OW_CKR_GET(r, ev->tech) && OW_CKR_GET(r, ev->type) &&
                 OW_CKR_GET(r, ev->arg) && OW_CKR_GET(r, ev->aux);
            if (ok && (!ow_event_is_order((ow_event_type)ev->type) || ev->arg >= OW_PAUSE__COUNT ||
                       !instant_ok(ev->ts) || (e && ev->ts < o->evs[e - 1].ts)))
                ok = false, r->bad = "bad lifecycle instant";
            if (ok && ev->type == OW_EV_ORDER_PAUSED) o->has_pauses = true;
        }
        for (int st = 0; ok && st < NSTAGES; st++)
            ok = get_clk(r, &saved[st]);
        if (ok && ow_map_get(&s->orders, id)) ok = false, r->bad = "order listed twice";
        if (ok && ow_map_put(&s->orders, id, o)) ok = false, r->bad = "out of memory";
        if (!ok) {
            free(o->evs);
            free(o);
            return false;
        }
        o->id = ow_map_key(&s->orders, id);
        if (ow_state_impl_order_restore(s, o, saved)) return (r->bad = "out of memory", false);
    }
    return true;
}

static bool load_complaints(ow_ckr *r, ow_state *s)
{
    uint32_t n;
    if (!OW_CKR_GET(r, n)) return false;
    for (uint32_t i = 0; i < n; i++) {
        char id[OW_ID_BUF];
        complaint *c = calloc(1, sizeof *c);
        if (!c) return (r->bad = "out of memory", false);
        c->heap_pos = c->forget_pos = -1;
        clk saved;
        uint8_t created;
        bool ok = ow_ckr_str(r, id, sizeof id) && OW_CKR_GET(r, c->seq) &&
                  OW_CKR_GET(r, c->region) && OW_CKR_GET(r, c->severity) &&
                  OW_CKR_GET(r, created) && OW_CKR_GET(r, c->created_ts) &&
                  OW_CKR_GET(r, c->responded_ts) && get_clk(r, &saved) &&
                  index_ok(r, c->region, s->regions.n);
        if (ok && c->severity >= OW_SEV__COUNT) ok = false, r->bad = "bad severity";
        if (ok && ((created && !instant_ok(c->created_ts)) ||
                   (c->responded_ts != OW_NEVER && !instant_ok(c->responded_ts))))
            ok = false, r->bad = "bad complaint instant";
        if (ok && ow_map_get(&s->complaints, id)) ok = false, r->bad = "complaint listed twice";
        if (ok && ow_map_put(&s->complaints, id, c)) ok = false, r->bad = "out of memory";
        if (!ok) {
            free(c);
            return false;
        }
        c->created = created != 0;
        c->id = ow_map_key(&s->complaints, id);
        if (ow_state_impl_complaint_restore(s, c, saved)) return (r->bad = "out of memory", false);
    }
    return true;
}

static bool load_techs(ow_ckr *r, ow_state *s)
{
    uint32_t n;
    if (!OW_CKR_GET(r, n)) return false;
    for (uint32_t i = 0; i < n; i++) {
        char id[OW_ID_BUF];
        tech *t = calloc(1, sizeof *t);
        uint8_t has;
        if (!t) return (r->bad = "out of memory", false);
        uint8_t prev_has;
        bool ok = ow_ckr_str(r, id, sizeof id) && OW_CKR_GET(r, t->region) &&
                  OW_CKR_GET(r, t->status) && OW_CKR_GET(r, has) && OW_CKR_GET(r, t->status_ts) &&
                  OW_CKR_GET(r, t->loc_ts) && OW_CKR_GET(r, t->lat) && OW_CKR_GET(r, t->lon) &&
                  OW_CKR_GET(r, t->prev_status) && OW_CKR_GET(r, prev_has) &&
                  OW_CKR_GET(r, t->prev_status_ts) && OW_CKR_GET(r, t->prev_loc_ts) &&
                  OW_CKR_GET(r, t->prev_lat) && OW_CKR_GET(r, t->prev_lon) &&
                  index_ok(r, t->region, s->regions.n);
        if (ok && (t->status >= OW_TECH__COUNT || t->prev_status >= OW_TECH__COUNT))
            ok = false, r->bad = "bad technician status";
        if (ok && ow_map_get(&s->techs, id)) ok = false, r->bad = "technician listed twice";
        if (ok && ow_map_put(&s->techs, id, t)) ok = false, r->bad = "out of memory";
        if (!ok) {
            free(t);
            return false;
        }
        t->has_status = has != 0;
        t->prev_has_status = prev_has != 0;
        if (ow_state_impl_tech_restore(s, t)) return (r->bad = "out of memory", false);
    }
    return true;
}

static bool load_acks(ow_ckr *r, ow_state *s)
{
    uint32_t n;
    if (!OW_CKR_GET(r, n)) return false;
    for (uint32_t i = 0; i < n; i++) {
        char id[OW_ALERT_ID_BUF];
        ow_ack a;
        if (!ow_ckr_str(r, id, sizeof id) || !ow_ckr_str(r, a.by, sizeof a.by) ||
            !OW_CKR_GET(r, a.at) || !ow_ckr_str(r, a.note, sizeof a.note))
            return false;
        if (ow_acks_put(&s->acks, id, &a)) return (r->bad = "out of memory", false);
    }
    return true;
}

int ow_checkpoint_load(const ow_policy *policy, const char *buf, size_t len, ow_state **state,
                       char *cursor, ow_err *err)
{
    ow_ckr r = {buf, len, 0, NULL};
    uint32_t magic = 0, version = 0;
    if (!OW_CKR_GET(&r, magic) || magic != MAGIC || !OW_CKR_GET(&r, version))
        return ow_err_set(err, OW_EINVAL, "checkpoint: not an opswall checkpoint");
    /* 4 differs only by the counts of forgotten orders (0 then), 5 by the replicas' sections (empty
     * replicas then: a partition's pair, cluster and technician flags miss the other partitions'
     * orders, complaints and holdings of before the upgrade, for their windows, docs/scaling.md
     * §4): an upgraded engine resumes */
    if (version != VERSION && version != 4 && version != 5)
        return ow_err_set(err, OW_EINVAL, "checkpoint: version %u, this engine reads 4 to %u",
                          version, VERSION);
    ow_state *s = ow_state_new(policy);
    if (!s) return ow_err_set(err, OW_ENOMEM, "checkpoint: out of memory");
    ow_state_totals *t = &s->totals;
    bool ok = ow_ckr_str(&r, cursor, OW_CHECKPOINT_CURSOR_MAX) && OW_CKR_GET(&r, s->next_seq) &&
              OW_CKR_GET(&r, t->events_applied) && OW_CKR_GET(&r, t->duplicates) &&
              OW_CKR_GET(&r, t->last_event_ms) && OW_CKR_GET(&r, t->alerts_raised) &&
              OW_CKR_GET(&r, t->orders_known) &&
              (version < 5 ||
               (OW_CKR_GET(&r, t->orders_forgotten) && OW_CKR_GET(&r, t->complaints_forgotten) &&
                OW_CKR_GET(&r, t->late_for_forgotten)));
    for (int i = 0; ok && i < OW_EV__COUNT; i++)
        ok = OW_CKR_GET(&r, t->events_by_type[i]) && count_ok(&r, t->events_by_type[i]);
    ok = ok && count_ok(&r, t->events_applied) && count_ok(&r, t->duplicates) &&
         count_ok(&r, t->alerts_raised) && count_ok(&r, t->orders_known) &&
         count_ok(&r, t->orders_forgotten) && count_ok(&r, t->complaints_forgotten) &&
         count_ok(&r, t->late_for_forgotten) &&
         (instant_ok(t->last_event_ms) || (r.bad = "bad last event instant", false));
    ok = ok && get_names(&r, &s->regions) && get_names(&r, &s->categories) &&
         get_names(&r, &s->tech_ids) && load_orders(&r, s) && load_complaints(&r, s) &&
         load_techs(&r, s) && load_acks(&r, s) && ow_kpi_load(s->kpi, &r) &&
         (version < 6 || ow_crossfacts_load(s, &r)) && ow_flags_load(s, &r, version);
    if (ok && r.off != r.n) ok = false, r.bad = "unexpected bytes at the end";
    if (!ok) {
        ow_state_free(s);
        return ow_err_set(err, OW_EINVAL, "checkpoint: %s at byte %zu of %zu",
                          r.bad ? r.bad : "malformed", r.off, r.n);
    }
    *state = s;
    return OW_OK;
}

int64_t ow_checkpoint_wait_ms(int64_t interval_ms, int64_t limit_bytes, int64_t last_bytes)
{
    if (limit_bytes <= 0 || last_bytes <= limit_bytes) return interval_ms;
    double ms = (double)interval_ms * ((double)last_bytes / (double)limit_bytes);
    return ms >= (double)INT64_MAX / 2 ? INT64_MAX / 2 : (int64_t)ms;
}

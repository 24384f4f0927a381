#include "checkpoint.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "state_impl.h"

#define MAGIC   0x4b43574fu /* "OWCK" */
#define VERSION 2u /* 2: order cells, callback details, technicians' previous values, KPIs */

/* ---- writing ---- */

typedef ow_buf wbuf;

static void put(wbuf *b, const void *src, size_t n)
{
    ow_buf_put(b, src, n);
}

/* x86-64 and aarch64 are little-endian; the format is defined as little-endian. */
#define PUT(b, v) put(b, &(v), sizeof(v))
static void put_u8(wbuf *b, uint8_t v)
{
    PUT(b, v);
}
static void put_u16(wbuf *b, uint16_t v)
{
    PUT(b, v);
}
static void put_u32(wbuf *b, uint32_t v)
{
    PUT(b, v);
}
static void put_i32(wbuf *b, int32_t v)
{
    PUT(b, v);
}
static void put_i64(wbuf *b, int64_t v)
{
    PUT(b, v);
}
static void put_f64(wbuf *b, double v)
{
    PUT(b, v);
}
static void put_str(wbuf *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    put_u32(b, n);
    put(b, s, n);
}

static void put_names(wbuf *b, const ow_names *t)
{
    put_u32(b, t->n);
    for (uint32_t i = 0; i < t->n; i++)
        put_str(b, t->names[i]);
}

static void put_clk(wbuf *b, const clk *c)
{
    put_u16(b, c->instance);
    put_u8(b, c->fired);
    put_u8(b, c->open);
}

int ow_checkpoint_save(const ow_state *s, const char *cursor, char **out, size_t *len, ow_err *err)
{
    wbuf b = {0};
    put_u32(&b, MAGIC);
    put_u32(&b, VERSION);
    put_str(&b, cursor);
    put_u32(&b, s->next_seq);
    const ow_state_totals *t = &s->totals;
    put_i64(&b, t->events_applied);
    put_i64(&b, t->duplicates);
    put_i64(&b, t->last_event_ms);
    put_i64(&b, t->alerts_raised);
    put_i64(&b, t->orders_known);
    for (int i = 0; i < OW_EV__COUNT; i++)
        put_i64(&b, t->events_by_type[i]);
    put_names(&b, &s->regions);
    put_names(&b, &s->categories);
    put_names(&b, &s->tech_ids);

    size_t pos = 0;
    const char *key;
    void *v;
    put_u32(&b, (uint32_t)s->orders.len);
    while (ow_map_next(&s->orders, &pos, &key, &v)) {
        const order *o = v;
        put_str(&b, key);
        put_u32(&b, o->seq);
        put_u8(&b, o->given_prio);
        put_u8(&b, o->segment);
        put_i32(&b, o->region);
        put_i32(&b, o->category);
        put_i32(&b, o->cell);
        put_u16(&b, o->nev);
        for (uint16_t i = 0; i < o->nev; i++) {
            put_i64(&b, o->evs[i].ts);
            put_u32(&b, o->evs[i].tech);
            put_u8(&b, o->evs[i].type);
            put_u8(&b, o->evs[i].arg);
            put_u16(&b, o->evs[i].aux);
        }
        for (int st = 0; st < NSTAGES; st++)
            put_clk(&b, &o->c[st]);
    }
    pos = 0;
    put_u32(&b, (uint32_t)s->complaints.len);
    while (ow_map_next(&s->complaints, &pos, &key, &v)) {
        const complaint *c = v;
        put_str(&b, key);
        put_u32(&b, c->seq);
        put_i32(&b, c->region);
        put_u8(&b, c->severity);
        put_u8(&b, c->created);
        put_i64(&b, c->created_ts);
        put_i64(&b, c->responded_ts);
        put_clk(&b, &c->c);
    }
    pos = 0;
    put_u32(&b, (uint32_t)s->techs.len);
    while (ow_map_next(&s->techs, &pos, &key, &v)) {
        const tech *te = v;
        put_str(&b, key);
        put_i32(&b, te->region);
        put_u8(&b, te->status);
        put_u8(&b, te->has_status);
        put_i64(&b, te->status_ts);
        put_i64(&b, te->loc_ts);
        put_f64(&b, te->lat);
        put_f64(&b, te->lon);
        put_u8(&b, te->prev_status);
        put_u8(&b, te->prev_has_status);
        put_i64(&b, te->prev_status_ts);
        put_i64(&b, te->prev_loc_ts);
        put_f64(&b, te->prev_lat);
        put_f64(&b, te->prev_lon);
    }
    pos = 0;
    put_u32(&b, (uint32_t)s->acks.by_id.len);
    while (ow_map_next(&s->acks.by_id, &pos, &key, &v)) {
        const ow_ack *a = v;
        put_str(&b, key);
        put_str(&b, a->by);
        put_i64(&b, a->at);
        put_str(&b, a->note);
    }
    ow_kpi_save(s->kpi, &b);
    if (b.oom) {
        free(b.p);
        return ow_err_set(err, OW_ENOMEM, "checkpoint: out of memory");
    }
    *out = b.p;
    *len = b.n;
    return OW_OK;
}

/* ---- reading: every read is bounds-checked; the first failure sticks ---- */

typedef ow_rbuf rbuf;

static bool get(rbuf *r, void *dst, size_t n)
{
    return ow_rbuf_get(r, dst, n);
}

#define GET(r, v) get(r, &(v), sizeof(v))

/* A string into out[cap]: no NUL inside, shorter than cap. */
static bool get_str(rbuf *r, char *out, size_t cap)
{
    uint32_t n;
    if (!GET(r, n)) return false;
    if (n >= cap || r->n - r->off < n) {
        r->bad = "string too long or truncated";
        return false;
    }
    if (memchr(r->p + r->off, '\0', n)) {
        r->bad = "NUL inside a string";
        return false;
    }
    memcpy(out, r->p + r->off, n);
    out[n] = '\0';
    r->off += n;
    return true;
}

static bool get_names(rbuf *r, ow_names *t)
{
    uint32_t n;
    char name[OW_ID_BUF];
    if (!GET(r, n)) return false;
    for (uint32_t i = 0; i < n; i++) {
        if (!get_str(r, name, sizeof name)) return false;
        if (ow_names_intern(t, name) != (int)i) {
            r->bad = "duplicate name or out of memory";
            return false;
        }
    }
    return true;
}

static bool get_clk(rbuf *r, clk *c)
{
    return GET(r, c->instance) && GET(r, c->fired) && GET(r, c->open) &&
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
static bool count_ok(rbuf *r, int64_t n)
{
    if (n < 0 || n > (INT64_C(1) << 53)) {
        r->bad = "counter out of range";
        return false;
    }
    return true;
}

static bool index_ok(rbuf *r, int32_t i, uint32_t n)
{
    if (i < -1 || (i >= 0 && (uint32_t)i >= n)) {
        r->bad = "name index out of range";
        return false;
    }
    return true;
}

static bool load_orders(rbuf *r, ow_state *s)
{
    uint32_t n;
    if (!GET(r, n)) return false;
    for (uint32_t i = 0; i < n; i++) {
        char id[OW_ID_BUF];
        order *o = calloc(1, sizeof *o);
        if (!o) return (r->bad = "out of memory", false);
        o->heap_pos = o->urgent_pos = -1;
        for (int st = 0; st < NSTAGES; st++)
            o->c[st].start = o->c[st].stop = OW_NEVER;
        clk saved[NSTAGES];
        bool ok = get_str(r, id, sizeof id) && GET(r, o->seq) && GET(r, o->given_prio) &&
                  GET(r, o->segment) && GET(r, o->region) && GET(r, o->category) &&
                  GET(r, o->cell) && GET(r, o->nev);
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
            ok = GET(r, ev->ts) && GET(r, ev->tech) && GET(r, ev->type) && GET(r, ev->arg) &&
                 GET(r, ev->aux);
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

static bool load_complaints(rbuf *r, ow_state *s)
{
    uint32_t n;
    if (!GET(r, n)) return false;
    for (uint32_t i = 0; i < n; i++) {
        char id[OW_ID_BUF];
        complaint *c = calloc(1, sizeof *c);
        if (!c) return (r->bad = "out of memory", false);
        c->heap_pos = -1;
        clk saved;
        uint8_t created;
        bool ok = get_str(r, id, sizeof id) && GET(r, c->seq) && GET(r, c->region) &&
                  GET(r, c->severity) && GET(r, created) && GET(r, c->created_ts) &&
                  GET(r, c->responded_ts) && get_clk(r, &saved) &&
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

static bool load_techs(rbuf *r, ow_state *s)
{
    uint32_t n;
    if (!GET(r, n)) return false;
    for (uint32_t i = 0; i < n; i++) {
        char id[OW_ID_BUF];
        tech *t = calloc(1, sizeof *t);
        uint8_t has;
        if (!t) return (r->bad = "out of memory", false);
        uint8_t prev_has;
        bool ok = get_str(r, id, sizeof id) && GET(r, t->region) && GET(r, t->status) &&
                  GET(r, has) && GET(r, t->status_ts) && GET(r, t->loc_ts) && GET(r, t->lat) &&
                  GET(r, t->lon) && GET(r, t->prev_status) && GET(r, prev_has) &&
                  GET(r, t->prev_status_ts) && GET(r, t->prev_loc_ts) && GET(r, t->prev_lat) &&
                  GET(r, t->prev_lon) && index_ok(r, t->region, s->regions.n);
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

static bool load_acks(rbuf *r, ow_state *s)
{
    uint32_t n;
    if (!GET(r, n)) return false;
    for (uint32_t i = 0; i < n; i++) {
        char id[OW_ALERT_ID_BUF];
        ow_ack a;
        if (!get_str(r, id, sizeof id) || !get_str(r, a.by, sizeof a.by) || !GET(r, a.at) ||
            !get_str(r, a.note, sizeof a.note))
            return false;
        if (ow_acks_put(&s->acks, id, &a)) return (r->bad = "out of memory", false);
    }
    return true;
}

int ow_checkpoint_load(const ow_policy *policy, const char *buf, size_t len, ow_state **state,
                       char *cursor, ow_err *err)
{
    rbuf r = {buf, len, 0, NULL};
    uint32_t magic = 0, version = 0;
    if (!GET(&r, magic) || magic != MAGIC || !GET(&r, version))
        return ow_err_set(err, OW_EINVAL, "checkpoint: not an opswall checkpoint");
    if (version != VERSION)
        return ow_err_set(err, OW_EINVAL, "checkpoint: version %u, this engine reads %u", version,
                          VERSION);
    ow_state *s = ow_state_new(policy);
    if (!s) return ow_err_set(err, OW_ENOMEM, "checkpoint: out of memory");
    ow_state_totals *t = &s->totals;
    bool ok = get_str(&r, cursor, OW_CHECKPOINT_CURSOR_MAX) && GET(&r, s->next_seq) &&
              GET(&r, t->events_applied) && GET(&r, t->duplicates) && GET(&r, t->last_event_ms) &&
              GET(&r, t->alerts_raised) && GET(&r, t->orders_known);
    for (int i = 0; ok && i < OW_EV__COUNT; i++)
        ok = GET(&r, t->events_by_type[i]) && count_ok(&r, t->events_by_type[i]);
    ok = ok && count_ok(&r, t->events_applied) && count_ok(&r, t->duplicates) &&
         count_ok(&r, t->alerts_raised) && count_ok(&r, t->orders_known) &&
         (instant_ok(t->last_event_ms) || (r.bad = "bad last event instant", false));
    ok = ok && get_names(&r, &s->regions) && get_names(&r, &s->categories) &&
         get_names(&r, &s->tech_ids) && load_orders(&r, s) && load_complaints(&r, s) &&
         load_techs(&r, s) && load_acks(&r, s) && ow_kpi_load(s->kpi, &r);
    if (ok && r.off != r.n) ok = false, r.bad = "unexpected bytes at the end";
    if (!ok) {
        ow_state_free(s);
        return ow_err_set(err, OW_EINVAL, "checkpoint: %s at byte %zu of %zu",
                          r.bad ? r.bad : "malformed", r.off, r.n);
    }
    *state = s;
    return OW_OK;
}

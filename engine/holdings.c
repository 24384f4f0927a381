#include "holdings.h"

#include <stdlib.h>
#include <string.h>

#include "ckio.h"
#include "map.h"
#include "timerq.h"

#define NONE          INT64_MIN
#define HOLD_MAGIC    0x444c4f48u        /* "HOLD" */
#define INSTANT_LIMIT (INT64_C(1) << 50) /* as checkpoint.c */
#define KEYS_MAX      4096               /* dispatches + acceptances of one order, saved */

/* A dispatch or acceptance instant: a second identical one is a duplicate (state.c lc_insert). */
typedef struct hkey {
    int64_t ts;
    int32_t tech;
    uint8_t type;
} hkey;

typedef struct horder {
    const char *id; /* the map's key */
    int32_t tech, holder;
    bool created, active, held;
    int64_t last_end, last_reopen, last_ts; /* NONE = none */
    int32_t act_pos, forget_pos;
    uint32_t seq; /* tie in the forget queue */
    hkey *keys;
    uint32_t nkeys, capkeys;
} horder;

typedef struct htech {
    int32_t held;
    horder **act;
    int32_t nact, cap;
} htech;

struct ow_holdings {
    ow_map orders;
    htech *techs;
    size_t ntechs;
    ow_timerq forget;
    int64_t keep_ms, now;
    uint32_t next_seq;
};

ow_holdings *ow_holdings_new(int64_t keep_ms)
{
    ow_holdings *hs = calloc(1, sizeof *hs);
    if (!hs) return NULL;
    ow_map_init(&hs->orders);
    ow_timerq_init(&hs->forget);
    hs->keep_ms = keep_ms;
    hs->now = NONE;
    return hs;
}

static void order_free(horder *o)
{
    free(o->keys);
    free(o);
}

void ow_holdings_free(ow_holdings *hs)
{
    if (!hs) return;
    ow_timerq_fini(&hs->forget); /* first: it writes to its owners */
    size_t pos = 0;
    void *v;
    while (ow_map_next(&hs->orders, &pos, NULL, &v))
        order_free(v);
    ow_map_fini(&hs->orders);
    for (size_t i = 0; i < hs->ntechs; i++)
        free(hs->techs[i].act);
    free(hs->techs);
    free(hs);
}

static htech *tech_at(ow_holdings *hs, int32_t t)
{
    if (t < 0) return NULL;
    if ((size_t)t >= hs->ntechs) {
        size_t n = (size_t)t + 1 > hs->ntechs * 2 ? (size_t)t + 1 : hs->ntechs * 2;
        htech *v = realloc(hs->techs, n * sizeof *v);
        if (!v) return NULL;
        memset(v + hs->ntechs, 0, (n - hs->ntechs) * sizeof *v);
        hs->techs = v, hs->ntechs = n;
    }
    return &hs->techs[t];
}

static bool is_open(const horder *o)
{
    return o->created && (o->last_end == NONE || o->last_reopen > o->last_end);
}

static int64_t forget_at(const ow_holdings *hs, const horder *o)
{
    return o->last_ts > INT64_MAX - hs->keep_ms ? INT64_MAX : o->last_ts + hs->keep_ms;
}

static void forget(ow_holdings *hs, horder *o)
{
    ow_timerq_remove(&hs->forget, &o->forget_pos);
    order_free(ow_map_take(&hs->orders, o->id));
}

/* One node forgets an order that is not open when an event at or past its due time is applied
 * (state.c ow_state_apply): everything due by the watermark is gone before the record. */
static void forget_due(ow_holdings *hs)
{
    const ow_timer *t;
    while ((t = ow_timerq_peek(&hs->forget)) != NULL && t->at <= hs->now) {
        horder *o = t->owner;
        int64_t due = forget_at(hs, o);
        if (due > hs->now) { /* a later instant came since it was queued */
            if (ow_timerq_set(&hs->forget, due, o->seq, o, &o->forget_pos)) return;
        } else {
            forget(hs, o);
        }
    }
}

static horder *order_new(ow_holdings *hs, const char *id)
{
    horder *o = calloc(1, sizeof *o);
    if (!o || ow_map_put(&hs->orders, id, o)) {
        free(o);
        return NULL;
    }
    o->id = ow_map_key(&hs->orders, id);
    o->tech = o->holder = -1;
    o->last_end = o->last_reopen = o->last_ts = NONE;
    o->act_pos = o->forget_pos = -1;
    o->seq = hs->next_seq++;
    return o;
}

/* Returns true when (ts, type, tech) was seen (a duplicate), else records it. */
static int seen_before(horder *o, int64_t ts, uint8_t type, int32_t tech)
{
    for (uint32_t i = 0; i < o->nkeys; i++)
        if (o->keys[i].ts == ts && o->keys[i].type == type && o->keys[i].tech == tech) return 1;
    if (o->nkeys == o->capkeys) {
        uint32_t cap = o->capkeys ? o->capkeys * 2 : 4;
        hkey *k = realloc(o->keys, cap * sizeof *k);
        if (!k) return OW_ENOMEM;
        o->keys = k, o->capkeys = cap;
    }
    o->keys[o->nkeys++] = (hkey){ts, tech, type};
    return 0;
}

static int act_set(ow_holdings *hs, horder *o, bool on)
{
    htech *t = tech_at(hs, o->tech);
    if (!t) return OW_ENOMEM;
    if (on) {
        if (t->nact == t->cap) {
            int32_t cap = t->cap ? t->cap * 2 : 4;
            horder **v = realloc(t->act, (size_t)cap * sizeof *v);
            if (!v) return OW_ENOMEM;
            t->act = v, t->cap = cap;
        }
        o->act_pos = t->nact;
        t->act[t->nact++] = o;
    } else {
        horder *last = t->act[--t->nact];
        t->act[o->act_pos] = last;
        last->act_pos = o->act_pos;
        o->act_pos = -1;
    }
    o->active = on;
    return OW_OK;
}

static int held_set(ow_holdings *hs, horder *o, bool on)
{
    htech *t = tech_at(hs, o->holder);
    if (!t) return OW_ENOMEM;
    t->held += on ? 1 : -1;
    o->held = on;
    return OW_OK;
}

typedef struct changes {
    ow_hold_change *v;
    int n;
} changes;

static void note(changes *c, int32_t tech, ow_hold_what what)
{
    if (c->n < OW_HOLD_CHANGES_MAX) c->v[c->n++] = (ow_hold_change){tech, what};
}

/* flags.c order_sync: active for its technician while open, held by its holder while open. */
static int sync(ow_holdings *hs, horder *o, changes *c)
{
    bool open = is_open(o);
    int rc;
    if ((open && o->tech >= 0) != o->active) {
        if ((rc = act_set(hs, o, !o->active))) return rc;
        note(c, o->tech, OW_HOLD_ACTIVE);
    }
    if ((open && o->holder >= 0) != o->held) {
        if ((rc = held_set(hs, o, !o->held))) return rc;
        note(c, o->holder, OW_HOLD_HELD);
    }
    if (open) {
        ow_timerq_remove(&hs->forget, &o->forget_pos);
    } else if (hs->keep_ms > 0 && o->forget_pos < 0) {
        if (ow_timerq_set(&hs->forget, forget_at(hs, o), o->seq, o, &o->forget_pos))
            return OW_ENOMEM;
    }
    return OW_OK;
}

/* flags.c on_dispatched / on_accepted, for the technician counts only. */
static int reassign(ow_holdings *hs, horder *o, const ow_holding *h, int32_t tech, changes *c)
{
    int rc;
    if (h->type == OW_EV_ORDER_DISPATCHED) {
        if (o->tech >= 0 && o->tech != tech && o->active) {
            if ((rc = act_set(hs, o, false))) return rc;
            note(c, o->tech, OW_HOLD_ACTIVE);
        }
        if (o->holder >= 0 && o->holder != tech) { /* reassigned: the acceptance lapses */
            if (o->held) {
                if ((rc = held_set(hs, o, false))) return rc;
                note(c, o->holder, OW_HOLD_HELD);
            }
            o->holder = -1;
        }
        o->tech = tech;
    } else if (o->holder != tech) {
        if (o->holder >= 0 && o->held) {
            if ((rc = held_set(hs, o, false))) return rc;
            note(c, o->holder, OW_HOLD_HELD);
        }
        o->holder = tech;
    }
    return OW_OK;
}

int ow_holdings_apply(ow_holdings *hs, const ow_holding *h, int32_t tech, int64_t wm,
                      ow_hold_change out[OW_HOLD_CHANGES_MAX])
{
    changes c = {out, 0};
    /* one node's latest event time once this event is applied (state.c totals.last_event_ms) */
    int64_t now = wm > h->ts_ms ? wm : h->ts_ms;
    if (now > hs->now) hs->now = now;
    if (hs->keep_ms > 0) forget_due(hs);
    horder *o = ow_map_get(&hs->orders, h->order_id);
    if (!o) {
        /* state.c late_for_forgotten: an unknown order's event this old belongs to one forgotten */
        if (hs->keep_ms > 0 && hs->now >= INT64_MIN + hs->keep_ms &&
            h->ts_ms <= hs->now - hs->keep_ms)
            return 0;
        if (!(o = order_new(hs, h->order_id))) return OW_ENOMEM;
    }
    bool who = h->type == OW_EV_ORDER_DISPATCHED || h->type == OW_EV_ORDER_ACCEPTED;
    if (who && tech < 0) return 0; /* the codec requires a technician: not reached */
    if (who) {
        int dup = seen_before(o, h->ts_ms, (uint8_t)h->type, tech);
        if (dup) return dup < 0 ? dup : 0;
    }
    if (h->ts_ms > o->last_ts) o->last_ts = h->ts_ms;
    int rc = OW_OK;
    switch (h->type) {
    case OW_EV_ORDER_CREATED: o->created = true; break;
    case OW_EV_ORDER_RESOLVED:
    case OW_EV_ORDER_CLOSED:
    case OW_EV_ORDER_CANCELLED:
        if (h->ts_ms > o->last_end) o->last_end = h->ts_ms;
        break;
    case OW_EV_ORDER_REOPENED:
        if (h->ts_ms > o->last_reopen) o->last_reopen = h->ts_ms;
        break;
    case OW_EV_ORDER_DISPATCHED:
    case OW_EV_ORDER_ACCEPTED: rc = reassign(hs, o, h, tech, &c); break;
    default: break;
    }
    if (!rc) rc = sync(hs, o, &c);
    return rc ? rc : c.n;
}

int32_t ow_holdings_active(const ow_holdings *hs, int32_t tech)
{
    return tech >= 0 && (size_t)tech < hs->ntechs ? hs->techs[tech].nact : 0;
}

const char *ow_holdings_active_id(const ow_holdings *hs, int32_t tech, int32_t i)
{
    return hs->techs[tech].act[i]->id;
}

int32_t ow_holdings_held(const ow_holdings *hs, int32_t tech)
{
    return tech >= 0 && (size_t)tech < hs->ntechs ? hs->techs[tech].held : 0;
}

size_t ow_holdings_orders(const ow_holdings *hs)
{
    return hs->orders.len;
}

/* ---- checkpoint: the orders' facts; the counts and the queue follow from them on load ---- */

void ow_holdings_save(const ow_holdings *hs, ow_buf *b)
{
    ow_ck_u32(b, HOLD_MAGIC);
    ow_ck_i64(b, hs->now);
    ow_ck_u32(b, (uint32_t)hs->orders.len);
    size_t pos = 0;
    const char *key;
    void *v;
    while (ow_map_next(&hs->orders, &pos, &key, &v)) {
        const horder *o = v;
        ow_ck_str(b, key);
        ow_ck_i32(b, o->tech);
        ow_ck_i32(b, o->holder);
        ow_ck_u8(b, o->created);
        ow_ck_i64(b, o->last_end);
        ow_ck_i64(b, o->last_reopen);
        ow_ck_i64(b, o->last_ts);
        ow_ck_u32(b, o->nkeys);
        for (uint32_t i = 0; i < o->nkeys; i++) {
            ow_ck_i64(b, o->keys[i].ts);
            ow_ck_i32(b, o->keys[i].tech);
            ow_ck_u8(b, o->keys[i].type);
        }
    }
}

static bool instant(int64_t t)
{
    return t == NONE || (t >= -INSTANT_LIMIT && t <= INSTANT_LIMIT);
}

static bool load_order(ow_holdings *hs, ow_rbuf *r, uint32_t ntechs)
{
    char id[OW_ID_BUF];
    int32_t tech, holder;
    uint8_t created;
    int64_t end, reopen, last;
    uint32_t nkeys;
    if (!ow_ckr_str(r, id, sizeof id) || !OW_CKR_GET(r, tech) || !OW_CKR_GET(r, holder) ||
        !OW_CKR_GET(r, created) || !OW_CKR_GET(r, end) || !OW_CKR_GET(r, reopen) ||
        !OW_CKR_GET(r, last) || !OW_CKR_GET(r, nkeys))
        return false;
    if (tech < -1 || holder < -1 || (tech >= 0 && (uint32_t)tech >= ntechs) ||
        (holder >= 0 && (uint32_t)holder >= ntechs))
        return ow_ckr_fail(r, "holdings: technician index out of range");
    if (created > 1 || !instant(end) || !instant(reopen) || !instant(last) || nkeys > KEYS_MAX)
        return ow_ckr_fail(r, "holdings: bad order");
    if (ow_map_get(&hs->orders, id)) return ow_ckr_fail(r, "holdings: order listed twice");
    horder *o = order_new(hs, id);
    if (!o) return ow_ckr_fail(r, "out of memory");
    o->tech = tech, o->holder = holder, o->created = created;
    o->last_end = end, o->last_reopen = reopen, o->last_ts = last;
    if (nkeys) {
        if (!(o->keys = calloc(nkeys, sizeof *o->keys))) return ow_ckr_fail(r, "out of memory");
        o->capkeys = nkeys;
    }
    for (uint32_t i = 0; i < nkeys; i++) {
        hkey *k = &o->keys[i];
        if (!OW_CKR_GET(r, k->ts) || !OW_CKR_GET(r, k->tech) || !OW_CKR_GET(r, k->type))
            return false;
        if (k->ts == NONE || !instant(k->ts) || k->tech < 0 || (uint32_t)k->tech >= ntechs ||
            (k->type != OW_EV_ORDER_DISPATCHED && k->type != OW_EV_ORDER_ACCEPTED))
            return ow_ckr_fail(r, "holdings: bad dispatch or acceptance");
        o->nkeys++;
    }
    changes c = {(ow_hold_change[OW_HOLD_CHANGES_MAX]){{0}}, 0};
    return !sync(hs, o, &c) || ow_ckr_fail(r, "out of memory");
}

bool ow_holdings_load(ow_holdings *hs, ow_rbuf *r, uint32_t ntechs)
{
    uint32_t magic, n;
    int64_t now;
    if (!OW_CKR_GET(r, magic) || !OW_CKR_GET(r, now) || !OW_CKR_GET(r, n)) return false;
    if (magic != HOLD_MAGIC) return ow_ckr_fail(r, "holdings: bad section");
    if (!instant(now)) return ow_ckr_fail(r, "holdings: bad instant");
    hs->now = now;
    for (uint32_t i = 0; i < n; i++)
        if (!load_order(hs, r, ntechs)) return false;
    return true;
}

/*
 * state.c is the engine's model. It is long because orders, complaints and technicians share one
 * timer queue, one outbox and one set of counters; each part is a section below.
 */
#include "state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sla.h"
#include "state_impl.h"
#include "timerq.h"

/* ---------------------------------------------------------------- life cycle */

ow_state *ow_state_new(const ow_policy *policy)
{
    ow_state *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->policy = policy;
    ow_map_init(&s->orders);
    ow_map_init(&s->complaints);
    ow_map_init(&s->techs);
    ow_names_init(&s->regions);
    ow_names_init(&s->categories);
    ow_names_init(&s->tech_ids);
    ow_timerq_init(&s->timers);
    ow_timerq_init(&s->urgent);
    ow_timerq_init(&s->forget);
    for (int l = 0; l < ESC_LEVELS; l++)
        ow_timerq_init(&s->esc[l]), ow_timerq_init(&s->esc_flags[l]);
    ow_acks_init(&s->acks);
    const ow_regions *city = policy->city;
    s->kpi = ow_kpi_new(policy->tz, (int32_t)policy->analytics.utc_offset_min);
    s->heat = ow_heat_new(city, policy->analytics.cell_m);
    s->flags = ow_flags_new(&policy->flags);
    bool ok = s->kpi && s->heat && s->flags;
    if (policy->home_table && policy->home_table->n > 1) { /* a partition: docs/scaling.md §4 */
        const ow_flags_config *f = &policy->flags;
        int64_t keep = f->complaint_cluster.window_ms + f->complaint_cluster.trailing_ms;
        if (policy->closed_retention_ms > keep) keep = policy->closed_retention_ms;
        double cell = (double)(f->duplicate_dispatch.radius_m > f->repeat_visit.radius_m
                                   ? f->duplicate_dispatch.radius_m
                                   : f->repeat_visit.radius_m);
        ok = ok && (s->xf = ow_crossfacts_new(f->repeat_visit.window_ms, keep, cell)) != NULL;
    }
    /* the city's regions first, in file order: region r of the file is slot r + 1 everywhere */
    for (int r = 0; ok && city && r < city->n; r++)
        ok = ow_names_intern(&s->regions, city->v[r].id) == r;
    if (!ok) {
        ow_state_free(s);
        return NULL;
    }
    return s;
}

static void free_values(ow_map *m, bool orders)
{
    size_t pos = 0;
    void *v;
    while (ow_map_next(m, &pos, NULL, &v)) {
        if (orders) free(((order *)v)->evs);
        free(v);
    }
    ow_map_fini(m);
}

void ow_state_free(ow_state *s)
{
    if (!s) return;
    ow_timerq_fini(&s->timers);
    ow_timerq_fini(&s->urgent);
    ow_timerq_fini(&s->forget);
    for (int l = 0; l < ESC_LEVELS; l++) /* before the owners go */
        ow_timerq_fini(&s->esc[l]), ow_timerq_fini(&s->esc_flags[l]);
    free_values(&s->orders, true);
    free_values(&s->complaints, false);
    free_values(&s->techs, false);
    ow_names_fini(&s->regions);
    ow_names_fini(&s->categories);
    ow_names_fini(&s->tech_ids);
    ow_acks_fini(&s->acks);
    ow_kpi_free(s->kpi);
    ow_heat_free(s->heat);
    ow_flags_free(s->flags);
    ow_crossfacts_free(s->xf); /* after the flags: their rings borrowed its ids */
    for (size_t i = 0; i < s->nretired; i++)
        free(s->retired[i]);
    free(s->retired);
    free(s->outbox);
    free(s);
}

/* ---------------------------------------------------------------- outbox */

static ow_alert *outbox_add(ow_state *s)
{
    if (s->nout == s->capout) {
        size_t cap = s->capout ? s->capout * 2 : 64;
        ow_alert *o = realloc(s->outbox, cap * sizeof *o);
        if (!o) return NULL;
        s->outbox = o;
        s->capout = cap;
    }
    ow_alert *a = &s->outbox[s->nout++];
    memset(a, 0, sizeof *a);
    return a;
}

ow_alert *ow_state_impl_outbox_add(ow_state *s)
{
    return outbox_add(s);
}

const ow_alert *ow_state_outbox(const ow_state *s, size_t *n)
{
    *n = s->nout;
    return s->outbox;
}

void ow_state_outbox_clear(ow_state *s)
{
    s->nout = 0;
    if (s->flags) ow_flags_outbox_cleared(s->flags);
    for (size_t i = 0; i < s->nretired; i++)
        free(s->retired[i]);
    s->nretired = 0;
}

/* Record a raise or resolve of threshold k of a clock. */
static int emit(ow_state *s, ow_alert_op op, bool is_complaint, const char *subject, int32_t region,
                int stage, const clk *c, int k, int64_t at)
{
    ow_alert *a = outbox_add(s);
    if (!a) return OW_ENOMEM;
    a->op = op;
    a->kind = OW_ALERT_SLA;
    a->level = ow_sla_level[k];
    a->at = at;
    a->region = ow_names_get(&s->regions, region);
    a->stage = stage;
    a->complaint = is_complaint;
    a->subject = subject;
    a->instance = c->instance;
    a->pct = ow_sla_pct[k];
    a->target_ms = c->target;
    if (op == OW_ALERT_RAISE) {
        s->totals.alerts_raised++;
        s->totals.alerts_open_by_level[a->level]++;
        if (ow_kpi_alert(s->kpi, region + 1, at, ow_sla_pct[k] == 100) ||
            ow_heat_alert(s->heat, region + 1, +1))
            return OW_ENOMEM;
    } else {
        s->totals.alerts_open_by_level[a->level]--;
        if (ow_heat_alert(s->heat, region + 1, -1)) return OW_ENOMEM;
        if (s->acks.by_id.len) {
            char id[OW_ALERT_ID_BUF];
            ow_alert_id(a, id);
            ow_acks_remove(&s->acks, id);
        }
    }
    return OW_OK;
}

/* Resolve every open alert of a clock instance (the stage stopped or the instance ended). */
static int resolve_open(ow_state *s, bool is_complaint, const char *subject, int32_t region,
                        int stage, clk *c, int64_t at)
{
    for (int k = 0; k < OW_SLA_THRESHOLDS; k++) {
        if (!(c->open & (1u << k))) continue;
        int rc = emit(s, OW_ALERT_RESOLVE, is_complaint, subject, region, stage, c, k, at);
        if (rc) return rc;
    }
    c->open = 0;
    return OW_OK;
}

/* ---------------------------------------------------------------- clocks */

/* Pauses of an order that stop `stage`, as sorted intervals. */
static size_t order_pauses(const ow_state *s, const order *o, int stage, ow_interval *out)
{
    size_t n = 0;
    int64_t open_from = OW_NEVER;
    if (!o->has_pauses) return 0;
    for (uint16_t i = 0; i < o->nev; i++) {
        const lc_ev *e = &o->evs[i];
        if (e->type == OW_EV_ORDER_PAUSED && open_from == OW_NEVER &&
            (s->policy->pause_stops[e->arg] & (1u << stage))) {
            open_from = e->ts;
        } else if (e->type == OW_EV_ORDER_RESUMED && open_from != OW_NEVER) {
            if (n < MAX_PAUSES) out[n++] = (ow_interval){open_from, e->ts};
            open_from = OW_NEVER;
        }
    }
    if (open_from != OW_NEVER && n < MAX_PAUSES) out[n++] = (ow_interval){open_from, OW_NEVER};
    return n;
}

/* Instant of threshold k for a clock, given its pauses and calendar. */
static int64_t threshold_at(const clk *c, int k, const ow_interval *p, size_t np,
                            const ow_calendar *cal)
{
    if (c->start == OW_NEVER || !c->target) return OW_NEVER;
    return ow_sla_due(c->start, ow_sla_part(c->target, ow_sla_pct[k]), p, np, cal);
}

/* The first threshold not yet raised that will be crossed before the clock stops. */
static int64_t clock_next(const clk *c, const ow_interval *p, size_t np, const ow_calendar *cal,
                          int *k_out)
{
    for (int k = 0; k < OW_SLA_THRESHOLDS; k++) {
        if (c->fired & (1u << k)) continue;
        int64_t at = threshold_at(c, k, p, np, cal);
        if (at == OW_NEVER || at >= c->stop)
            return OW_NEVER; /* stopped at or before: no crossing */
        *k_out = k;
        return at;
    }
    return OW_NEVER;
}

static const char *region_name(const ow_state *s, int32_t r)
{
    return ow_names_get(&s->regions, r);
}

/* ---------------------------------------------------------------- escalation index */

/* The instant of an order's open alert (stage st, threshold k) as the escalations show it: its
 * crossing with the pauses and business hours known now. */
static int64_t order_alert_at(const ow_state *s, const order *o, int st, int k)
{
    const clk *c = &o->c[st];
    if (!o->has_pauses && !(s->policy->calendar_stages & (1u << st)))
        return threshold_at(c, k, NULL, 0, NULL); /* the common case: start + pct of target */
    ow_interval p[MAX_PAUSES];
    size_t np = order_pauses(s, o, st, p);
    return threshold_at(c, k, p, np,
                        ow_policy_calendar(s->policy, (ow_stage)st, region_name(s, o->region)));
}

/* The highest open threshold of a clock, or -1 (one level per threshold: ow_sla_level[k] = k). */
static int top_open(const clk *c)
{
    int k = -1;
    for (int i = 0; i < OW_SLA_THRESHOLDS; i++)
        if (c->open & (1u << i)) k = i;
    return k;
}

/* Put an owner in one of the escalation index's sets of queues (qs[level]) at (level, at), move
 * it, or (level < 0) take it out. The queue it is in is the one whose entry at *pos is this slot:
 * no level is stored beside the position (an order would grow by its padding). */
static int esc_place(ow_timerq qs[ESC_LEVELS], int32_t *pos, int level, int64_t at, uint64_t tie,
                     void *owner)
{
    for (int l = 0; *pos >= 0 && l < ESC_LEVELS; l++) {
        ow_timerq *q = &qs[l];
        if ((size_t)*pos >= q->n || q->heap[*pos].pos != pos) continue;
        if (l == level && q->heap[*pos].at == at) return OW_OK; /* unchanged: most calls */
        ow_timerq_remove(q, pos);
        break;
    }
    if (level < 0 || level >= ESC_LEVELS) return OW_OK;
    return ow_timerq_set(&qs[level], at, tie, owner, pos);
}

/* An order's place in the escalation index: its highest open level, and the earliest instant of
 * its open alerts of that level. Called whenever its clocks may have changed. */
static int order_esc(ow_state *s, order *o)
{
    int level = -1;
    int64_t at = OW_NEVER;
    for (int st = 0; st < NSTAGES; st++) {
        int k = o->c[st].open ? top_open(&o->c[st]) : -1;
        if (k < 0 || ow_sla_level[k] < level) continue;
        int64_t t = order_alert_at(s, o, st, k);
        if (ow_sla_level[k] > level || t < at) level = ow_sla_level[k], at = t;
    }
    return esc_place(s->esc, &o->esc_pos, level, at, o->seq, o);
}

static int complaint_esc(ow_state *s, complaint *c)
{
    int k = c->c.open ? top_open(&c->c) : -1;
    int64_t at = k < 0 ? OW_NEVER : threshold_at(&c->c, k, NULL, 0, NULL);
    return esc_place(s->esc, &c->esc_pos, k < 0 ? -1 : ow_sla_level[k], at, TIE_COMPLAINT | c->seq,
                     c);
}

int ow_state_impl_esc_flag(ow_state *s, void *inst, int32_t *pos, int level, int64_t at)
{
    /* equal instants are told apart by id when read; the queue's tie only needs to be stable */
    return esc_place(s->esc_flags, pos, level, at, 0, inst);
}

/* ---------------------------------------------------------------- scheduling */

/* Is the owner whose slot is pos in q? (A slot shared by two queues is in the one whose entry at
 * *pos points back at it.) */
static bool in_queue(const ow_timerq *q, const int32_t *pos)
{
    return *pos >= 0 && (size_t)*pos < q->n && q->heap[*pos].pos == pos;
}

/* When an order that is not open is due to be forgotten: closed_retention after its latest
 * instant (instants are sorted: the last one). */
static int64_t order_forget_at(const ow_state *s, const order *o)
{
    int64_t keep = s->policy->closed_retention_ms, last = o->evs[o->nev - 1].ts;
    return last > INT64_MAX - keep ? INT64_MAX : last + keep;
}

/* An order that is not open waits in the forget queue. Its key may be earlier than its due time
 * (a later event came after it was queued): the queue's head is checked against the due time
 * before anything is forgotten, and moved if early, so events on ended orders (callbacks, the
 * close after the resolution) cost no queue work. A reopen takes it out. */
static int forget_plan(ow_state *s, order *o)
{
    if (in_queue(&s->forget, &o->urgent_pos)) return OW_OK;
    ow_timerq_remove(&s->urgent, &o->urgent_pos);
    if (s->policy->closed_retention_ms <= 0 || !o->nev) return OW_OK;
    return ow_timerq_set(&s->forget, order_forget_at(s, o), o->seq, o, &o->urgent_pos);
}

/* Queue the order at its earliest pending crossing (or take it out of the queue), and keep its
 * place in the escalation index. */
static int order_schedule(ow_state *s, order *o)
{
    if (order_esc(s, o)) return OW_ENOMEM;
    bool calendars = s->policy->calendar_stages != 0;
    int64_t best = OW_NEVER, breach = OW_NEVER;
    int best_stage = 0;
    for (int st = 0; st < NSTAGES; st++) {
        clk *c = &o->c[st];
        if (c->start == OW_NEVER || !c->target) continue;
        if (!c->next_valid) { /* most events change one clock: the others keep their answer */
            ow_interval p[MAX_PAUSES];
            size_t np = order_pauses(s, o, st, p);
            int k;
            const ow_calendar *cal =
                calendars ? ow_policy_calendar(s->policy, (ow_stage)st, region_name(s, o->region))
                          : NULL;
            c->next_at = clock_next(c, p, np, cal, &k);
            c->breach_at = c->stop == OW_NEVER ? threshold_at(c, 2, p, np, cal) : OW_NEVER;
            c->next_valid = true;
        }
        if (c->next_at < best) best = c->next_at, best_stage = st;
        if (c->breach_at < breach) breach = c->breach_at;
    }
    /* the urgency heap holds open orders with a running clock, by their earliest breach; the
     * same slot holds an order that is not open in the forget queue */
    if (o->open) {
        /* reopened: out of the forget queue (the urgency heap's entry is read next anyway) */
        if (o->urgent_pos >= 0 && !in_queue(&s->urgent, &o->urgent_pos))
            ow_timerq_remove(&s->forget, &o->urgent_pos);
        if (breach == OW_NEVER)
            ow_timerq_remove(&s->urgent, &o->urgent_pos);
        else if (o->urgent_pos < 0 || s->urgent.heap[o->urgent_pos].at != breach) {
            if (ow_timerq_set(&s->urgent, breach, o->seq, o, &o->urgent_pos)) return OW_ENOMEM;
        }
    } else if (forget_plan(s, o)) {
        return OW_ENOMEM;
    }
    if (best == OW_NEVER) {
        ow_timerq_remove(&s->timers, &o->heap_pos);
        return OW_OK;
    }
    uint64_t tie = ((uint64_t)o->seq << 3) | (uint64_t)best_stage;
    if (o->heap_pos >= 0) {
        const ow_timer *cur = &s->timers.heap[o->heap_pos];
        if (cur->at == best && cur->tie == tie) return OW_OK; /* unchanged: most events */
    }
    return ow_timerq_set(&s->timers, best, tie, o, &o->heap_pos);
}

/* Set a clock to (instance, start, stop, target); an instance change ends the old one at
 * `ended` (the dispatch or reopen that began the new instance). */
static int clock_update(ow_state *s, bool is_complaint, const char *subject, int32_t region,
                        int stage, clk *c, uint16_t instance, int64_t start, int64_t stop,
                        int64_t target, int64_t ended)
{
    int rc;
    if (instance != c->instance || start != c->start || stop != c->stop || target != c->target)
        c->next_valid = false;
    if (instance != c->instance) {
        if ((rc = resolve_open(s, is_complaint, subject, region, stage, c, ended))) return rc;
        c->fired = 0;
        c->instance = instance;
    }
    c->start = start;
    c->stop = stop;
    c->target = target;
    if (stop != OW_NEVER && c->open)
        return resolve_open(s, is_complaint, subject, region, stage, c, stop);
    return OW_OK;
}

/* ---------------------------------------------------------------- orders */

static bool lc_less(const lc_ev *a, const lc_ev *b)
{
    if (a->ts != b->ts) return a->ts < b->ts;
    if (a->type != b->type) return a->type < b->type; /* lifecycle order for equal times */
    if (a->tech != b->tech) return a->tech < b->tech;
    return a->arg < b->arg;
}

/* Insert keeping the order; returns 1 inserted, 0 duplicate, OW_ENOMEM. */
static int lc_insert(order *o, lc_ev e)
{
    uint16_t i = o->nev;
    while (i > 0 && lc_less(&e, &o->evs[i - 1]))
        i--;
    if (i > 0 && !lc_less(&o->evs[i - 1], &e)) return 0; /* identical instant: no-op */
    if (o->nev == o->cap) {
        if (o->cap >= UINT16_MAX / 2) return OW_ENOMEM;
        uint16_t cap = o->cap ? (uint16_t)(o->cap * 2) : 4;
        lc_ev *evs = realloc(o->evs, cap * sizeof *evs);
        if (!evs) return OW_ENOMEM;
        o->evs = evs;
        o->cap = cap;
    }
    memmove(&o->evs[i + 1], &o->evs[i], (size_t)(o->nev - i) * sizeof *o->evs);
    o->evs[i] = e;
    o->nev++;
    return 1;
}

/* An order with a running clock past its target whose breach alert is still open. */
static bool order_breached(const order *o)
{
    for (int st = 0; st < NSTAGES; st++)
        if (o->c[st].open & ~3u) return true; /* thresholds 100 % and 150 % */
    return false;
}

/* Count an open order in (sign +1) or out of (-1) the totals and the heat gauges: called before
 * and after anything that may change it. */
static int account(ow_state *s, const order *o, int sign)
{
    if (!o->open) return OW_OK;
    s->totals.open[o->prio] += sign;
    s->totals.open_total += sign;
    return ow_heat_order(s->heat, o->region + 1, o->category, o->cell, order_breached(o), sign);
}

/* Derive every clock of the order from its sorted lifecycle instants. */
static int order_recompute(ow_state *s, order *o, const ow_event *created_ev)
{
    int64_t created = OW_NEVER, terminal = OW_NEVER, first_dispatch = OW_NEVER;
    int64_t first_accept = OW_NEVER, first_arrive = OW_NEVER;
    int64_t last_dispatch = OW_NEVER, accept_after = OW_NEVER;
    int64_t res_start = OW_NEVER, res_stop = OW_NEVER, cb_stop = OW_NEVER;
    int64_t last_end = OW_NEVER, last_reopen = OW_NEVER;
    uint16_t dispatches = 0, reopens = 0;
    bool paused = false;
    for (uint16_t i = 0; i < o->nev; i++) {
        const lc_ev *e = &o->evs[i];
        int64_t t = e->ts;
        switch (e->type) {
        case OW_EV_ORDER_CREATED:
            if (created == OW_NEVER) created = res_start = t;
            break;
        case OW_EV_ORDER_DISPATCHED:
            if (first_dispatch == OW_NEVER) first_dispatch = t;
            last_dispatch = t, accept_after = OW_NEVER, dispatches++;
            break;
        case OW_EV_ORDER_ACCEPTED:
            if (first_accept == OW_NEVER) first_accept = t;
            if (accept_after == OW_NEVER && last_dispatch != OW_NEVER) accept_after = t;
            break;
        case OW_EV_ORDER_ARRIVED:
            if (first_arrive == OW_NEVER) first_arrive = t;
            break;
        case OW_EV_ORDER_PAUSED: paused = true; break;
        case OW_EV_ORDER_RESUMED: paused = false; break;
        case OW_EV_ORDER_RESOLVED:
            if (res_stop == OW_NEVER) res_stop = t, cb_stop = OW_NEVER;
            if (last_end == OW_NEVER || t > last_end) last_end = t;
            break;
        case OW_EV_ORDER_CALLBACK:
            if (res_stop != OW_NEVER && cb_stop == OW_NEVER) cb_stop = t;
            break;
        case OW_EV_ORDER_CLOSED:
        case OW_EV_ORDER_CANCELLED:
            if (terminal == OW_NEVER) terminal = t;
            if (last_end == OW_NEVER || t > last_end) last_end = t;
            break;
        case OW_EV_ORDER_REOPENED:
            /* a new resolution instance from the reopen time; the callback clock waits for it */
            if (created != OW_NEVER && terminal == OW_NEVER) {
                reopens++;
                res_start = t, res_stop = OW_NEVER, cb_stop = OW_NEVER;
            }
            if (last_reopen == OW_NEVER || t > last_reopen) last_reopen = t;
            break;
        default: break;
        }
    }
    if (created_ev && (!o->created || created_ev->ts_ms <= created)) {
        o->given_prio = (uint8_t)created_ev->priority;
        o->segment = (uint8_t)created_ev->segment;
    }
    o->created = created != OW_NEVER;
    o->paused = paused;
    o->open =
        o->created && (last_end == OW_NEVER || (last_reopen != OW_NEVER && last_reopen > last_end));
    const char *cat = ow_names_get(&s->categories, o->category);
    const char *reg = region_name(s, o->region);
    if (o->created && (!o->targets_known || created_ev)) {
        o->prio = (uint8_t)ow_policy_priority(s->policy, (ow_priority)o->given_prio,
                                              (ow_segment)o->segment, cat, reg);
        for (int st = 0; st < NSTAGES; st++) {
            o->c[st].target = ow_policy_target(s->policy, (ow_priority)o->prio,
                                               (ow_segment)o->segment, cat, reg, (ow_stage)st);
            o->c[st].next_valid = false; /* the target may have changed under the cache */
        }
        o->targets_known = true;
    }

    /* each stage's current instance; `ended` is when a previous instance of it ended */
    struct {
        uint16_t inst;
        int64_t start, stop, ended;
    } want[NSTAGES] = {
        [OW_STAGE_DISPATCH] = {1, created, first_dispatch, OW_NEVER},
        [OW_STAGE_ACCEPT] = {dispatches, last_dispatch, accept_after, last_dispatch},
        [OW_STAGE_RESPONSE] = {1, created, first_accept, OW_NEVER},
        [OW_STAGE_ARRIVAL] = {1, created, first_arrive, OW_NEVER},
        [OW_STAGE_RESOLUTION] = {(uint16_t)(1 + reopens), res_start, res_stop, res_start},
        [OW_STAGE_CALLBACK] = {(uint16_t)(1 + reopens), res_stop, cb_stop, res_start},
    };
    for (int st = 0; st < NSTAGES; st++) {
        int64_t start = o->created ? want[st].start : OW_NEVER;
        uint16_t inst = o->created ? want[st].inst : o->c[st].instance;
        int64_t stop = want[st].stop;
        if (terminal != OW_NEVER && (stop == OW_NEVER || terminal < stop)) stop = terminal;
        int64_t target = o->created ? o->c[st].target : 0;
        int rc = clock_update(s, false, o->id, o->region, st, &o->c[st], inst, start, stop, target,
                              want[st].ended);
        if (rc) return rc;
    }
    return order_schedule(s, o);
}

/* ---------------------------------------------------------------- KPI facts of an order */

/* What an order had given the KPIs before an event: its clocks' spans and their kpi bits. */
typedef struct kpi_mark {
    int64_t start[NSTAGES], stop[NSTAGES];
    uint8_t bits[NSTAGES];
    int32_t region;
    bool created;
} kpi_mark;

static void kpi_mark_take(const order *o, kpi_mark *m)
{
    for (int st = 0; st < NSTAGES; st++) {
        m->start[st] = o->c[st].start;
        m->stop[st] = o->c[st].stop;
        m->bits[st] = o->c[st].kpi;
    }
    m->region = o->region;
    m->created = o->created;
}

/* The first close or cancel, or OW_NEVER. */
static int64_t order_terminal(const order *o)
{
    for (uint16_t i = 0; i < o->nev; i++)
        if (o->evs[i].type == OW_EV_ORDER_CLOSED || o->evs[i].type == OW_EV_ORDER_CANCELLED)
            return o->evs[i].ts;
    return OW_NEVER;
}

/* Does the stage's current instance count as a duration sample, and did it end in time? It
 * counts when it started, has a target and ended by its own stop event (a stop equal to the
 * order's close or cancel is the order's end, not the stage's). In time = ended at or before its
 * 100 % instant (DESIGN §4: a stage that stopped at or before the instant has not crossed). */
static uint8_t kpi_bits(const ow_state *s, const order *o, int st, int64_t terminal)
{
    const clk *c = &o->c[st];
    if (c->start == OW_NEVER || c->stop == OW_NEVER || !c->target || c->stop == terminal) return 0;
    if (!o->has_pauses && !s->policy->calendar_stages) /* the common case: start + target */
        return (uint8_t)(KPI_COUNTED | (c->stop <= c->start + c->target ? KPI_MET : 0));
    ow_interval p[MAX_PAUSES];
    size_t np = order_pauses(s, o, st, p);
    const ow_calendar *cal =
        s->policy->calendar_stages
            ? ow_policy_calendar(s->policy, (ow_stage)st, region_name(s, o->region))
            : NULL;
    int64_t breach = threshold_at(c, 2, p, np, cal);
    return (uint8_t)(KPI_COUNTED | (c->stop <= breach ? KPI_MET : 0));
}

/* The facts one lifecycle instant gives the KPIs. */
static int event_fact(ow_state *s, int slot, const lc_ev *e, int sign)
{
    switch (e->type) {
    case OW_EV_ORDER_RESOLVED: return ow_kpi_resolved(s->kpi, slot, e->ts, e->arg - 1, sign);
    case OW_EV_ORDER_REOPENED: return ow_kpi_reopened(s->kpi, slot, e->ts, sign);
    case OW_EV_ORDER_CALLBACK:
        return ow_kpi_callback(s->kpi, slot, e->ts, e->aux & 7, (e->aux >> 3) - 1, sign);
    default: return OW_OK;
    }
}

/* Bring the KPIs in step with an order after `added` was inserted: take out what changed (as
 * it was given, recorded in m and the clocks' kpi bits) and put in what it is now. Usually one
 * stage changes; a new region (the created event arrived late) moves every fact. */
static int kpi_update(ow_state *s, order *o, const kpi_mark *m, const lc_ev *added)
{
    int rc = 0, was = m->region + 1, now = o->region + 1;
    bool moved = was != now;
    bool recheck = moved || added->type == OW_EV_ORDER_CREATED ||
                   added->type == OW_EV_ORDER_PAUSED || added->type == OW_EV_ORDER_RESUMED;
    int64_t c0 = m->created ? m->start[OW_STAGE_DISPATCH] : OW_NEVER;
    int64_t c1 = o->created ? o->c[OW_STAGE_DISPATCH].start : OW_NEVER;
    if (moved || c0 != c1) {
        if (c0 != OW_NEVER) rc |= ow_kpi_created(s->kpi, was, c0, -1);
        if (c1 != OW_NEVER) rc |= ow_kpi_created(s->kpi, now, c1, +1);
    }
    if (moved) {
        bool skipped = false; /* every instant but the new one was counted under the old slot */
        for (uint16_t i = 0; i < o->nev; i++) {
            const lc_ev *e = &o->evs[i];
            if (!skipped && memcmp(e, added, sizeof *e) == 0) {
                skipped = true;
                continue;
            }
            rc |= event_fact(s, was, e, -1);
        }
        for (uint16_t i = 0; i < o->nev; i++)
            rc |= event_fact(s, now, &o->evs[i], +1);
    } else {
        rc |= event_fact(s, now, added, +1);
    }
    int64_t term = OW_NEVER;
    bool term_known = false;
    for (int st = 0; st < NSTAGES; st++) {
        clk *c = &o->c[st];
        bool same_span = c->start == m->start[st] && c->stop == m->stop[st];
        if (same_span && !recheck &&
            !(added->type == OW_EV_ORDER_CLOSED || added->type == OW_EV_ORDER_CANCELLED))
            continue;
        if (!term_known) term = order_terminal(o), term_known = true;
        uint8_t bits = kpi_bits(s, o, st, term);
        if (same_span && !moved && bits == m->bits[st]) continue;
        if (m->bits[st] & KPI_COUNTED)
            rc |= ow_kpi_stage(s->kpi, was, st, m->start[st], m->stop[st],
                               (m->bits[st] & KPI_MET) != 0, -1);
        if (bits & KPI_COUNTED)
            rc |= ow_kpi_stage(s->kpi, now, st, c->start, c->stop, (bits & KPI_MET) != 0, +1);
        c->kpi = bits;
    }
    return rc ? OW_ENOMEM : OW_OK;
}

static order *order_get(ow_state *s, const char *id)
{
    order *o = ow_map_get(&s->orders, id);
    if (o) return o;
    o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->heap_pos = o->urgent_pos = o->esc_pos = -1;
    o->region = o->category = o->cell = -1;
    for (int st = 0; st < NSTAGES; st++)
        o->c[st].start = o->c[st].stop = OW_NEVER;
    o->fl = OW_FLAG_ORDER_NONE;
    if (ow_map_put(&s->orders, id, o)) {
        free(o);
        return NULL;
    }
    o->id = ow_map_key(&s->orders, id); /* the map's copy: no second copy per order */
    o->seq = s->next_seq++;
    s->totals.orders_known++;
    return o;
}

/* An event at or before (latest event time - closed_retention) of an order (complaint) the model
 * does not know: it belongs to one already forgotten (or is older than anything the model still
 * keeps). Re-creating it from this event would bring back half an order with none of what came
 * before. */
static bool late_for_forgotten(const ow_state *s, const ow_event *ev)
{
    int64_t keep = s->policy->closed_retention_ms, now = s->totals.last_event_ms;
    if (keep <= 0 || now < INT64_MIN + keep || ev->ts_ms > now - keep) return false;
    if (ev->type == OW_EV_COMPLAINT_CREATED || ev->type == OW_EV_COMPLAINT_RESPONDED)
        return true; /* the caller looked the complaint up */
    return ow_map_get(&s->orders, ev->order_id) == NULL;
}

static int apply_order(ow_state *s, const ow_event *ev)
{
    if (late_for_forgotten(s, ev)) {
        s->totals.late_for_forgotten++;
        return 0;
    }
    order *o = order_get(s, ev->order_id);
    if (!o) return OW_ENOMEM;
    lc_ev e = {.ts = ev->ts_ms, .type = (uint8_t)ev->type};
    if (ev->tech_id[0]) {
        /* a hash, not an interned index: it only tells instants of different technicians apart,
         * and saves a table lookup on every event */
        e.tech = (uint32_t)(ow_hash(ev->tech_id, strlen(ev->tech_id)) >> 32) | 1u;
    }
    if (ev->type == OW_EV_ORDER_PAUSED) {
        e.arg = (uint8_t)ev->pause_reason;
        o->has_pauses = true;
    }
    if (ev->type == OW_EV_ORDER_PAUSED || ev->type == OW_EV_ORDER_RESUMED)
        for (int st = 0; st < NSTAGES; st++)
            o->c[st].next_valid = false;
    if (ev->type == OW_EV_ORDER_RESOLVED && ev->has_first_visit_fix)
        e.arg = ev->first_visit_fix ? 2 : 1;
    if (ev->type == OW_EV_ORDER_CALLBACK)
        e.aux = (uint16_t)((ev->score & 7) | (ev->nps >= 0 ? (ev->nps + 1) << 3 : 0));
    kpi_mark mark;
    kpi_mark_take(o, &mark);
    int ins = lc_insert(o, e);
    if (ins <= 0) {
        if (ins == 0) s->totals.duplicates++;
        return ins;
    }
    int rc = account(s, o, -1);
    const ow_event *created_ev = NULL;
    if (ev->type == OW_EV_ORDER_CREATED) {
        created_ev = ev;
        int r = ow_names_intern(&s->regions, ev->region);
        int c = ow_names_intern(&s->categories, ev->category);
        if (r < 0 || c < 0) return OW_ENOMEM;
        if (o->region < 0 || !o->created || ev->ts_ms <= o->evs[0].ts) {
            o->region = r, o->category = c;
            o->cell = ev->has_geo ? ow_heat_cell(s->heat, ev->lon, ev->lat) : -1;
        }
    }
    if (!rc) rc = order_recompute(s, o, created_ev);
    if (!rc) rc = account(s, o, +1);
    if (!rc) rc = kpi_update(s, o, &mark, &e);
    if (!rc) rc = ow_flags_order(s, o, ev);
    return rc ? rc : 1;
}

static int count_open_alerts(ow_state *s, const clk *c, int32_t region, int sign)
{
    for (int k = 0; k < OW_SLA_THRESHOLDS; k++) {
        if (!(c->open & (1u << k))) continue;
        s->totals.alerts_open_by_level[ow_sla_level[k]] += sign;
        if (ow_heat_alert(s->heat, region + 1, sign)) return OW_ENOMEM;
    }
    return OW_OK;
}

int ow_state_impl_order_restore(ow_state *s, order *o, const clk saved[NSTAGES])
{
    o->esc_pos = -1; /* the index is derived, never saved */
    int rc = order_recompute(s, o, NULL);
    ow_state_outbox_clear(s); /* deriving clocks from scratch reports nothing new */
    if (rc) return rc;
    int64_t term = order_terminal(o);
    for (int st = 0; st < NSTAGES; st++) {
        o->c[st].instance = saved[st].instance;
        o->c[st].fired = saved[st].fired;
        o->c[st].open = saved[st].open;
        o->c[st].next_valid = false;
        /* what the instance gave the KPIs is derived; the KPIs themselves come from the
         * checkpoint */
        o->c[st].kpi = kpi_bits(s, o, st, term);
        if (count_open_alerts(s, &o->c[st], o->region, +1)) return OW_ENOMEM;
    }
    if (account(s, o, +1)) return OW_ENOMEM;
    return order_schedule(s, o);
}

/* ---------------------------------------------------------------- complaints */

/* A complaint responded to (or whose creation never came) waits in the forget queue until
 * closed_retention after its latest instant; an earlier creation or response moves it. */
static int complaint_forget_plan(ow_state *s, complaint *c)
{
    int64_t keep = s->policy->closed_retention_ms;
    bool open = c->created && c->responded_ts == OW_NEVER;
    if (open || keep <= 0) {
        ow_timerq_remove(&s->forget, &c->forget_pos);
        return OW_OK;
    }
    /* not open: responded (and maybe created), so responded_ts is an instant */
    int64_t last = c->created && c->created_ts > c->responded_ts ? c->created_ts : c->responded_ts;
    int64_t at = last > INT64_MAX - keep ? INT64_MAX : last + keep;
    if (c->forget_pos >= 0 && s->forget.heap[c->forget_pos].at == at) return OW_OK;
    return ow_timerq_set(&s->forget, at, TIE_COMPLAINT | c->seq, c, &c->forget_pos);
}

static int complaint_schedule(ow_state *s, complaint *c)
{
    if (complaint_esc(s, c) || complaint_forget_plan(s, c)) return OW_ENOMEM;
    int k = 0;
    int64_t at = clock_next(&c->c, NULL, 0, NULL, &k);
    if (at == OW_NEVER) {
        ow_timerq_remove(&s->timers, &c->heap_pos);
        return OW_OK;
    }
    return ow_timerq_set(&s->timers, at, TIE_COMPLAINT | c->seq, c, &c->heap_pos);
}

/* A complaint's KPI facts: created, and its response stage once responded. */
static int complaint_facts(ow_state *s, const complaint *c, int sign)
{
    if (!c->created) return OW_OK;
    int rc = ow_kpi_complaint(s->kpi, c->region + 1, c->created_ts, sign);
    if (!rc && c->responded_ts != OW_NEVER) {
        int64_t target = s->policy->complaint_ms[c->severity];
        bool met = c->responded_ts <= c->created_ts + target;
        rc = ow_kpi_stage(s->kpi, c->region + 1, OW_KPI_STAGE_CPL, c->created_ts, c->responded_ts,
                          met, sign);
    }
    return rc;
}

static int apply_complaint(ow_state *s, const ow_event *ev)
{
    complaint *c = ow_map_get(&s->complaints, ev->complaint_id);
    if (!c && late_for_forgotten(s, ev)) { /* as for orders */
        s->totals.late_for_forgotten++;
        return 0;
    }
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c || ow_map_put(&s->complaints, ev->complaint_id, c)) {
            free(c);
            return OW_ENOMEM;
        }
        c->id = ow_map_key(&s->complaints, ev->complaint_id);
        c->seq = s->next_seq++;
        c->heap_pos = c->esc_pos = c->forget_pos = -1;
        c->region = -1;
        c->created_ts = c->responded_ts = OW_NEVER;
        c->c.start = c->c.stop = OW_NEVER;
    }
    bool was_open = c->created && c->responded_ts == OW_NEVER, was_created = c->created;
    complaint before = *c;
    if (ev->type == OW_EV_COMPLAINT_CREATED) {
        if (c->created && ev->ts_ms >= c->created_ts) {
            s->totals.duplicates++;
            return 0;
        }
        c->created = true;
        c->created_ts = ev->ts_ms;
        c->severity = (uint8_t)ev->severity;
        if (ev->region[0]) {
            int r = ow_names_intern(&s->regions, ev->region);
            if (r < 0) return OW_ENOMEM;
            c->region = r;
        } else if (ev->order_id[0]) {
            const order *o = ow_map_get(&s->orders, ev->order_id);
            if (o) c->region = o->region;
        }
    } else {
        if (c->responded_ts != OW_NEVER && ev->ts_ms >= c->responded_ts) {
            s->totals.duplicates++;
            return 0;
        }
        c->responded_ts = ev->ts_ms;
    }
    bool is_open = c->created && c->responded_ts == OW_NEVER;
    s->totals.complaints_open += (int)is_open - (int)was_open;
    int64_t start = c->created ? c->created_ts : OW_NEVER;
    int rc = clock_update(s, true, c->id, c->region, OW_STAGE_COMPLAINT, &c->c, 1, start,
                          c->responded_ts, c->created ? s->policy->complaint_ms[c->severity] : 0,
                          OW_NEVER);
    if (!rc) rc = complaint_schedule(s, c);
    if (!rc) rc = complaint_facts(s, &before, -1);
    if (!rc) rc = complaint_facts(s, c, +1);
    if (!rc && !was_created && c->created) rc = ow_flags_event(s, ev); /* counted once */
    return rc ? rc : 1;
}

int ow_state_impl_complaint_restore(ow_state *s, complaint *c, clk saved)
{
    c->esc_pos = -1; /* the index is derived, never saved */
    int64_t start = c->created ? c->created_ts : OW_NEVER;
    c->c.start = start;
    c->c.stop = c->responded_ts;
    c->c.target = c->created ? s->policy->complaint_ms[c->severity] : 0;
    c->c.instance = saved.instance;
    c->c.fired = saved.fired;
    c->c.open = saved.open;
    if (count_open_alerts(s, &c->c, c->region, +1)) return OW_ENOMEM;
    s->totals.complaints_open += c->created && c->responded_ts == OW_NEVER;
    return complaint_schedule(s, c);
}

/* ---------------------------------------------------------------- technicians */

/* A technician in (+1) or out of (-1) the heat gauges (region status counts, idle per cell). */
static int tech_gauges(ow_state *s, const tech *t, int sign)
{
    if (!t->has_status) return OW_OK;
    int32_t cell = t->loc_ts != INT64_MIN ? ow_heat_cell(s->heat, t->lon, t->lat) : -1;
    return ow_heat_tech(s->heat, t->region + 1, t->status, cell, sign);
}

static int apply_tech(ow_state *s, const ow_event *ev)
{
    tech *t = ow_map_get(&s->techs, ev->tech_id);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t || ow_map_put(&s->techs, ev->tech_id, t)) {
            free(t);
            return OW_ENOMEM;
        }
        t->region = -1;
        t->status_ts = t->loc_ts = t->prev_status_ts = t->prev_loc_ts = INT64_MIN;
    }
    if (ev->type == OW_EV_TECH_LOCATION) {
        if (ev->ts_ms <= t->loc_ts) return 0; /* older than what we know */
        int rc = tech_gauges(s, t, -1);
        t->prev_loc_ts = t->loc_ts, t->prev_lat = t->lat, t->prev_lon = t->lon;
        t->loc_ts = ev->ts_ms;
        t->lat = ev->lat, t->lon = ev->lon;
        if (!rc) rc = tech_gauges(s, t, +1);
        return rc ? rc : 1;
    }
    if (ev->ts_ms <= t->status_ts) return 0;
    int old_slot = t->region + 1, old_status = t->has_status ? t->status : -1;
    int rc = tech_gauges(s, t, -1);
    if (t->has_status) s->totals.techs_by_status[t->status]--;
    t->prev_status = t->status, t->prev_has_status = t->has_status;
    t->prev_status_ts = t->status_ts;
    t->status_ts = ev->ts_ms;
    t->status = (uint8_t)ev->status;
    t->has_status = true;
    s->totals.techs_by_status[t->status]++;
    if (ev->region[0]) {
        int r = ow_names_intern(&s->regions, ev->region);
        if (r < 0) return OW_ENOMEM;
        t->region = r;
    }
    if (!rc) rc = tech_gauges(s, t, +1);
    if (!rc) rc = ow_kpi_tech(s->kpi, ev->ts_ms, old_slot, old_status, t->region + 1, t->status);
    return rc ? rc : 1;
}

int ow_state_impl_tech_restore(ow_state *s, tech *t)
{
    if (t->has_status) s->totals.techs_by_status[t->status]++;
    return tech_gauges(s, t, +1);
}

/* ---------------------------------------------------------------- apply / advance */

/* Take a forgotten subject out of its map; its id waits for the next outbox clear. */
static int forget_key(ow_state *s, ow_map *m, const char *id)
{
    if (s->nretired == s->capretired) {
        size_t cap = s->capretired ? s->capretired * 2 : 64;
        char **v = realloc(s->retired, cap * sizeof *v);
        if (!v) return OW_ENOMEM;
        s->retired = v, s->capretired = cap;
    }
    char *key = ow_map_take_key(m, id);
    if (key) s->retired[s->nretired++] = key;
    return OW_OK;
}

/* Drop an order that is no longer open from the model (engine.closed_retention). Its clocks
 * stopped when it ended, so their crossings have fired and their alerts are resolved; what it gave
 * the KPIs stays (they are history). Its id may still be borrowed by outbox records: it is freed
 * at the next ow_state_outbox_clear. */
static int order_forget(ow_state *s, order *o)
{
    ow_timerq_remove(&s->forget, &o->urgent_pos);
    ow_timerq_remove(&s->timers, &o->heap_pos);
    for (int st = 0; st < NSTAGES; st++) /* none in practice: a stopped clock resolved them */
        if (count_open_alerts(s, &o->c[st], o->region, -1)) return OW_ENOMEM;
    esc_place(s->esc, &o->esc_pos, -1, OW_NEVER, 0, o);
    ow_flags_order_forget(s, o);
    if (forget_key(s, &s->orders, o->id)) return OW_ENOMEM;
    free(o->evs);
    free(o);
    s->totals.orders_known--;
    s->totals.orders_forgotten++;
    return OW_OK;
}

/* The same for a complaint responded to (or never created). */
static int complaint_forget(ow_state *s, complaint *c)
{
    ow_timerq_remove(&s->forget, &c->forget_pos);
    ow_timerq_remove(&s->timers, &c->heap_pos);
    if (count_open_alerts(s, &c->c, c->region, -1)) return OW_ENOMEM; /* none in practice */
    esc_place(s->esc, &c->esc_pos, -1, OW_NEVER, 0, c);
    ow_flags_complaint_forget(s, c->id);
    if (forget_key(s, &s->complaints, c->id)) return OW_ENOMEM;
    free(c);
    s->totals.complaints_forgotten++;
    return OW_OK;
}

int ow_state_apply(ow_state *s, const ow_event *ev)
{
    s->totals.events_applied++;
    s->totals.events_by_type[ev->type]++;
    if (ev->ts_ms > s->totals.last_event_ms) {
        s->totals.last_event_ms = ev->ts_ms;
        /* forgetting follows the events alone (not "now"): a replay, a recovery and a live run
         * of the same events forget the same orders before the same event */
        const ow_timer *t = ow_timerq_peek(&s->forget);
        while (t && t->at <= ev->ts_ms) {
            int rc;
            if (t->tie & TIE_COMPLAINT) {
                rc = complaint_forget(s, t->owner);
            } else {
                order *o = t->owner;
                int64_t due = order_forget_at(s, o);
                rc = due > ev->ts_ms ? ow_timerq_set(&s->forget, due, o->seq, o, &o->urgent_pos)
                                     : order_forget(s, o);
            }
            if (rc) return OW_ENOMEM;
            t = ow_timerq_peek(&s->forget);
        }
    }
    switch (ev->type) {
    case OW_EV_COMPLAINT_CREATED:
    case OW_EV_COMPLAINT_RESPONDED: return apply_complaint(s, ev);
    case OW_EV_TECH_STATUS:
    case OW_EV_TECH_LOCATION: {
        int rc = apply_tech(s, ev), frc = ow_flags_event(s, ev);
        return frc ? frc : rc;
    }
    case OW_EV_PARTS_STOCK: return ow_flags_event(s, ev); /* parts feed the parts_wait flag */
    default: return apply_order(s, ev);
    }
}

static int fire_order(ow_state *s, order *o, int stage, int64_t at)
{
    clk *c = &o->c[stage];
    ow_interval p[MAX_PAUSES];
    size_t np = order_pauses(s, o, stage, p);
    int k = 0;
    int64_t due = clock_next(
        c, p, np, ow_policy_calendar(s->policy, (ow_stage)stage, region_name(s, o->region)), &k);
    c->next_valid = false; /* fired or not, the next crossing is computed afresh: never loop */
    if (due == at) {
        /* a breach changes the order's place in the heat gauges */
        int rc = k >= 2 ? account(s, o, -1) : OW_OK;
        c->fired |= (uint8_t)(1u << k);
        c->open |= (uint8_t)(1u << k);
        if (!rc) rc = emit(s, OW_ALERT_RAISE, false, o->id, o->region, stage, c, k, at);
        if (!rc && k >= 2) rc = account(s, o, +1);
        if (!rc && stage == OW_STAGE_DISPATCH && ow_sla_pct[k] == 100)
            rc = ow_flags_dispatch_breach(s, o, at); /* neglected_region */
        if (rc) return rc;
        /* what delivery routes on besides region (DESIGN §7 routing by category, priority) */
        s->outbox[s->nout - 1].category = ow_names_get(&s->categories, o->category);
        s->outbox[s->nout - 1].priority = ow_priority_name((ow_priority)o->prio);
    }
    return order_schedule(s, o);
}

static int fire_complaint(ow_state *s, complaint *cp, int64_t at)
{
    int k = 0;
    int64_t due = clock_next(&cp->c, NULL, 0, NULL, &k);
    if (due == at) {
        cp->c.fired |= (uint8_t)(1u << k);
        cp->c.open |= (uint8_t)(1u << k);
        int rc =
            emit(s, OW_ALERT_RAISE, true, cp->id, cp->region, OW_STAGE_COMPLAINT, &cp->c, k, at);
        if (rc) return rc;
    }
    return complaint_schedule(s, cp);
}

int ow_state_advance(ow_state *s, int64_t now_ms)
{
    int fired = 0;
    if (now_ms > ow_kpi_now(s->kpi)) { /* the KPI windows move with now (cheap within a bucket) */
        int n;
        const int64_t *open = ow_heat_open(s->heat, &n);
        if (ow_kpi_advance(s->kpi, now_ms, open, n)) return OW_ENOMEM;
    }
    const ow_timer *t;
    while ((t = ow_timerq_peek(&s->timers)) != NULL && t->at <= now_ms) {
        int64_t at = t->at;
        uint64_t tie = t->tie;
        int rc = (tie & TIE_COMPLAINT) ? fire_complaint(s, t->owner, at)
                                       : fire_order(s, t->owner, (int)(tie & 7), at);
        if (rc) return rc;
        fired++;
    }
    int flags = ow_flags_advance(s, now_ms);
    ow_crossfacts_advance(s, now_ms);
    return flags < 0 ? flags : fired + flags;
}

int64_t ow_state_next_due(const ow_state *s)
{
    const ow_timer *t = ow_timerq_peek(&s->timers);
    int64_t sla = t ? t->at : OW_NEVER, flags = ow_flags_next_due(s->flags);
    return sla < flags ? sla : flags;
}

/* ---------------------------------------------------------------- acknowledgements */

/* Split "sla:<subject>:<stage>:<instance>:<pct>" (subjects may contain ':'). */
static bool parse_sla_id(const char *id, char *subject, size_t n, char *stage, size_t sn,
                         int *instance, int *pct)
{
    if (strncmp(id, "sla:", 4) != 0) return false;
    const char *end = id + strlen(id), *p = end;
    const char *cut[3];
    for (int i = 0; i < 3; i++) {
        while (p > id + 4 && p[-1] != ':')
            p--;
        if (p <= id + 4) return false;
        cut[i] = p; /* start of pct, instance, stage */
        p--;
    }
    size_t subject_len = (size_t)(cut[2] - 1 - (id + 4));
    size_t stage_len = (size_t)(cut[1] - 1 - cut[2]);
    if (!subject_len || subject_len >= n || !stage_len || stage_len >= sn) return false;
    memcpy(subject, id + 4, subject_len);
    subject[subject_len] = '\0';
    memcpy(stage, cut[2], stage_len);
    stage[stage_len] = '\0';
    *instance = atoi(cut[1]);
    *pct = atoi(cut[0]);
    return true;
}

int ow_state_ack(ow_state *s, const char *alert_id, const ow_ack *ack, ow_err *err)
{
    char subject[OW_ID_BUF], stage_name[32];
    int instance, pct, k = -1, st = -1;
    const clk *c = NULL;
    const char *subject_key = NULL;
    int32_t region = -1;
    if (strncmp(alert_id, "flag:", 5) == 0) return ow_flags_ack(s, alert_id, ack, err);
    if (parse_sla_id(alert_id, subject, sizeof subject, stage_name, sizeof stage_name, &instance,
                     &pct)) {
        for (int i = 0; i < OW_SLA_THRESHOLDS; i++)
            if (ow_sla_pct[i] == pct) k = i;
        for (int i = 0; i <= OW_STAGE_COMPLAINT; i++)
            if (strcmp(ow_alert_stage_name(i), stage_name) == 0) st = i;
        if (st == OW_STAGE_COMPLAINT) {
            const complaint *cp = ow_map_get(&s->complaints, subject);
            if (cp) c = &cp->c, region = cp->region, subject_key = cp->id;
        } else if (st >= 0) {
            const order *o = ow_map_get(&s->orders, subject);
            if (o) c = &o->c[st], region = o->region, subject_key = o->id;
        }
    }
    if (!c || k < 0 || c->instance != instance || !(c->open & (1u << k)))
        return ow_err_set(err, OW_ENOTFOUND, "alert %s: no such open alert", alert_id);
    if (ow_acks_put(&s->acks, alert_id, ack)) return ow_err_set(err, OW_ENOMEM, "out of memory");
    ow_alert *rec = outbox_add(s);
    if (!rec) return ow_err_set(err, OW_ENOMEM, "out of memory");
    rec->op = OW_ALERT_ACK;
    rec->kind = OW_ALERT_SLA;
    rec->level = ow_sla_level[k];
    rec->at = ack->at;
    rec->region = region_name(s, region);
    rec->stage = st;
    rec->complaint = st == OW_STAGE_COMPLAINT;
    rec->subject = subject_key;
    rec->pct = pct;
    rec->instance = instance;
    rec->target_ms = c->target;
    return OW_OK;
}

/* ---------------------------------------------------------------- read access */

const ow_state_totals *ow_state_totals_get(const ow_state *s)
{
    return &s->totals;
}

const ow_names *ow_state_regions(const ow_state *s)
{
    return &s->regions;
}

const ow_acks *ow_state_acks(const ow_state *s)
{
    return &s->acks;
}

const ow_names *ow_state_categories(const ow_state *s)
{
    return &s->categories;
}

const ow_kpi *ow_state_kpi(const ow_state *s)
{
    return s->kpi;
}

const ow_heat *ow_state_heat(const ow_state *s)
{
    return s->heat;
}

const ow_policy *ow_state_policy(const ow_state *s)
{
    return s->policy;
}

void ow_state_each_tech(const ow_state *s, int64_t as_of,
                        bool (*fn)(const ow_tech_view *t, void *arg), void *arg)
{
    size_t pos = 0;
    const char *key;
    void *val;
    while (ow_map_next(&s->techs, &pos, &key, &val)) {
        const tech *t = val;
        ow_tech_view v = {.id = key, .region = region_name(s, t->region)};
        /* what was known at as_of: the latest values, or the ones before them */
        bool cur_loc = t->loc_ts <= as_of;
        v.has_pos = cur_loc ? t->loc_ts != INT64_MIN : t->prev_loc_ts != INT64_MIN;
        v.lon = cur_loc ? t->lon : t->prev_lon;
        v.lat = cur_loc ? t->lat : t->prev_lat;
        bool cur_st = t->status_ts <= as_of;
        v.has_status = cur_st ? t->has_status : t->prev_has_status;
        v.status = (ow_tech_status)(cur_st ? t->status : t->prev_status);
        if (!fn(&v, arg)) return;
    }
}

const ow_flags *ow_state_flags(const ow_state *s)
{
    return s->flags;
}

static void fill_view(const ow_state *s, const order *o, ow_order_view *v)
{
    memset(v, 0, sizeof *v);
    v->id = o->id;
    v->created = o->created;
    v->open = o->open;
    v->paused = o->paused;
    v->priority = (ow_priority)o->prio;
    v->given_priority = (ow_priority)o->given_prio;
    v->segment = (ow_segment)o->segment;
    v->region = region_name(s, o->region);
    v->category = ow_names_get(&s->categories, o->category);
    v->created_at = o->c[OW_STAGE_DISPATCH].start;
    v->nclocks = NSTAGES;
    for (int st = 0; st < NSTAGES; st++) {
        const clk *c = &o->c[st];
        ow_clock_view *cv = &v->clocks[st];
        ow_interval p[MAX_PAUSES];
        size_t np = order_pauses(s, o, st, p);
        const ow_calendar *cal = ow_policy_calendar(s->policy, (ow_stage)st, v->region);
        cv->stage = st;
        cv->instance = c->instance;
        cv->start = c->start;
        cv->stop = c->stop;
        cv->target_ms = c->target;
        cv->fired = c->fired;
        cv->open = c->open;
        cv->state = c->start == OW_NEVER || !c->target ? OW_CLOCK_IDLE
                    : c->stop == OW_NEVER              ? OW_CLOCK_RUNNING
                                                       : OW_CLOCK_STOPPED;
        cv->breach_at = threshold_at(c, 2, p, np, cal);
        int k = 0;
        cv->next_at = clock_next(c, p, np, cal, &k);
        cv->next_pct = cv->next_at == OW_NEVER ? 0 : ow_sla_pct[k];
    }
}

bool ow_state_order(const ow_state *s, const char *order_id, ow_order_view *v)
{
    const order *o = ow_map_get(&s->orders, order_id);
    if (!o) return false;
    fill_view(s, o, v);
    return true;
}

typedef struct open_alert {
    ow_alert a;
    char id[OW_ALERT_ID_BUF];
} open_alert;

static int cmp_open_alert(const void *x, const void *y)
{
    const open_alert *a = x, *b = y;
    if (a->a.at != b->a.at) return a->a.at < b->a.at ? -1 : 1;
    return strcmp(a->id, b->id);
}

/* Append the open alerts of one clock to a growing array; false on out of memory (the array is
 * then freed and *v is NULL). */
static bool collect_open(const ow_state *s, open_alert **vp, size_t *n, size_t *cap,
                         const char *subject, int32_t region, int stage, bool is_complaint,
                         const clk *c, const ow_interval *p, size_t np, const ow_calendar *cal)
{
    for (int k = 0; k < OW_SLA_THRESHOLDS; k++) {
        if (!(c->open & (1u << k))) continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            open_alert *nv = realloc(*vp, *cap * sizeof *nv);
            if (!nv) {
                free(*vp);
                *vp = NULL;
                return false;
            }
            *vp = nv;
        }
        open_alert *o = &(*vp)[(*n)++];
        o->a = (ow_alert){.op = OW_ALERT_RAISE,
                          .kind = OW_ALERT_SLA,
                          .level = ow_sla_level[k],
                          .at = threshold_at(c, k, p, np, cal),
                          .region = region_name(s, region),
                          .subject = subject,
                          .stage = stage,
                          .complaint = is_complaint,
                          .instance = c->instance,
                          .pct = ow_sla_pct[k],
                          .target_ms = c->target};
        ow_alert_id(&o->a, o->id);
    }
    return true;
}

typedef struct open_alert_sink {
    open_alert **v;
    size_t *n, *cap;
} open_alert_sink;

static bool add_open_flag(const ow_alert *a, const char *id, void *arg)
{
    open_alert_sink *k = arg;
    if (*k->n == *k->cap) {
        *k->cap = *k->cap ? *k->cap * 2 : 64;
        open_alert *nv = realloc(*k->v, *k->cap * sizeof *nv);
        if (!nv) {
            free(*k->v);
            *k->v = NULL;
            return false;
        }
        *k->v = nv;
    }
    open_alert *o = &(*k->v)[(*k->n)++];
    o->a = *a;
    snprintf(o->id, sizeof o->id, "%s", id);
    return true;
}

void ow_state_each_open_alert(const ow_state *s,
                              bool (*fn)(const ow_alert *a, const ow_ack *ack, void *arg),
                              void *arg)
{
    open_alert *v = NULL;
    size_t n = 0, cap = 0, pos = 0;
    void *val;
    while (ow_map_next(&s->orders, &pos, NULL, &val)) {
        const order *o = val;
        for (int st = 0; st < NSTAGES; st++) {
            if (!o->c[st].open) continue;
            ow_interval p[MAX_PAUSES];
            size_t np = order_pauses(s, o, st, p);
            const ow_calendar *cal =
                ow_policy_calendar(s->policy, (ow_stage)st, region_name(s, o->region));
            if (!collect_open(s, &v, &n, &cap, o->id, o->region, st, false, &o->c[st], p, np, cal))
                return;
        }
    }
    pos = 0;
    while (ow_map_next(&s->complaints, &pos, NULL, &val)) {
        const complaint *c = val;
        if (!c->c.open) continue;
        if (!collect_open(s, &v, &n, &cap, c->id, c->region, OW_STAGE_COMPLAINT, true, &c->c, NULL,
                          0, NULL))
            return;
    }
    open_alert_sink sink = {&v, &n, &cap};
    ow_flags_each_open_alert(s->flags, add_open_flag, &sink);
    if (!v && n) return;                           /* out of memory */
    if (n) qsort(v, n, sizeof *v, cmp_open_alert); /* map order is not an order to show */
    for (size_t i = 0; i < n; i++)
        if (!fn(&v[i].a, ow_acks_get(&s->acks, v[i].id), arg)) break;
    free(v);
}

/* ---- the escalations' top k, through the escalation index ---- */

/* An alert's sort key without its id: level (highest first), then instant (oldest first). */
typedef struct top_key {
    int level;
    int64_t at;
} top_key;

static bool key_before(top_key a, top_key b)
{
    return a.level != b.level ? a.level > b.level : a.at < b.at;
}

/* The keys of the best alerts passed on so far, at most k: a max-heap whose root is the worst
 * kept (the k-th best once full), so the walk knows when nothing further can enter the top k. */
typedef struct top_walk {
    const ow_state *s;
    top_key *kept;
    size_t n, k;
    bool (*fn)(const ow_alert *a, const ow_ack *ack, void *arg);
    void *arg;
    bool stop; /* fn asked to stop */
} top_walk;

static void kept_add(top_walk *w, top_key x)
{
    top_key *v = w->kept;
    size_t i;
    if (w->n < w->k) {
        for (i = w->n++; i > 0 && key_before(v[(i - 1) / 2], x); i = (i - 1) / 2)
            v[i] = v[(i - 1) / 2]; /* a better parent moves down */
        v[i] = x;
        return;
    }
    if (!key_before(x, v[0])) return; /* not better than the worst kept */
    for (i = 0;;) {                   /* replace the root, sift down towards the worse child */
        size_t c = 2 * i + 1;
        if (c >= w->n) break;
        if (c + 1 < w->n && key_before(v[c], v[c + 1])) c++;
        if (!key_before(x, v[c])) break;
        v[i] = v[c];
        i = c;
    }
    v[i] = x;
}

/* Pass one open SLA alert (threshold k of clock c) to the caller. */
static void top_pass(top_walk *w, const char *subject, int32_t region, int stage, bool is_complaint,
                     const clk *c, int k, int64_t at)
{
    ow_alert a = {.op = OW_ALERT_RAISE,
                  .kind = OW_ALERT_SLA,
                  .level = ow_sla_level[k],
                  .at = at,
                  .region = region_name(w->s, region),
                  .subject = subject,
                  .stage = stage,
                  .complaint = is_complaint,
                  .instance = c->instance,
                  .pct = ow_sla_pct[k],
                  .target_ms = c->target};
    const ow_ack *ack = NULL;
    if (w->s->acks.by_id.len) {
        char id[OW_ALERT_ID_BUF];
        ow_alert_id(&a, id);
        ack = ow_acks_get(&w->s->acks, id);
    }
    kept_add(w, (top_key){a.level, at});
    if (!w->fn(&a, ack, w->arg)) w->stop = true;
}

/* Every open SLA alert of one indexed order or complaint. */
static void top_owner(top_walk *w, const ow_timer *t)
{
    if (t->tie & TIE_COMPLAINT) {
        const complaint *cp = t->owner;
        for (int k = 0; !w->stop && k < OW_SLA_THRESHOLDS; k++)
            if (cp->c.open & (1u << k))
                top_pass(w, cp->id, cp->region, OW_STAGE_COMPLAINT, true, &cp->c, k,
                         threshold_at(&cp->c, k, NULL, 0, NULL));
        return;
    }
    const order *o = t->owner;
    for (int st = 0; st < NSTAGES; st++)
        for (int k = 0; !w->stop && o->c[st].open && k < OW_SLA_THRESHOLDS; k++)
            if (o->c[st].open & (1u << k))
                top_pass(w, o->id, o->region, st, false, &o->c[st], k,
                         order_alert_at(w->s, o, st, k));
}

/* A small min-heap of positions in one queue of the index, by that queue's order: the frontier of
 * a walk that visits the queue's entries best first without disturbing it. */
typedef struct frontier {
    const ow_timerq *q;
    size_t *v, n, cap;
} frontier;

static bool fr_before(const frontier *f, size_t a, size_t b)
{
    const ow_timer *x = &f->q->heap[a], *y = &f->q->heap[b];
    return x->at < y->at || (x->at == y->at && x->tie < y->tie);
}

static bool fr_push(frontier *f, size_t node)
{
    if (node >= f->q->n) return true;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 64;
        size_t *v = realloc(f->v, cap * sizeof *v);
        if (!v) return false;
        f->v = v, f->cap = cap;
    }
    size_t i = f->n++;
    for (; i > 0 && fr_before(f, node, f->v[(i - 1) / 2]); i = (i - 1) / 2)
        f->v[i] = f->v[(i - 1) / 2];
    f->v[i] = node;
    return true;
}

static size_t fr_pop(frontier *f)
{
    size_t top = f->v[0], x = f->v[--f->n], i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= f->n) break;
        if (c + 1 < f->n && fr_before(f, f->v[c + 1], f->v[c])) c++;
        if (!fr_before(f, f->v[c], x)) break;
        f->v[i] = f->v[c];
        i = c;
    }
    if (f->n) f->v[i] = x;
    return top;
}

/* A raised flag of the index. */
static void top_flag(top_walk *w, const ow_timer *t)
{
    ow_alert a;
    const char *id;
    ow_flags_inst_alert(t->owner, &a, &id);
    kept_add(w, (top_key){a.level, a.at});
    if (!w->fn(&a, ow_acks_get(&w->s->acks, id), w->arg)) w->stop = true;
}

/* Visit one queue of the index best first, until it is exhausted or its next owner comes too
 * late: every alert of an owner ranks at or after the owner's key, so once the k-th best alert
 * passed on ranks strictly before the next owner's key, nothing left in this queue can enter the
 * first k (ties in level and instant are still visited: the id decides them). False when the walk
 * must end (fn said so, or out of memory). */
static bool top_queue(top_walk *w, frontier *f, const ow_timerq *q, int level, bool flags)
{
    f->q = q, f->n = 0;
    if (!fr_push(f, 0)) return false;
    while (f->n) {
        size_t node = fr_pop(f);
        const ow_timer *t = &q->heap[node];
        if (w->n == w->k && key_before(w->kept[0], (top_key){level, t->at})) return true;
        if (flags)
            top_flag(w, t);
        else
            top_owner(w, t);
        if (w->stop || !fr_push(f, 2 * node + 1) || !fr_push(f, 2 * node + 2)) return false;
    }
    return true;
}

void ow_state_each_top_alert(const ow_state *s, size_t k,
                             bool (*fn)(const ow_alert *a, const ow_ack *ack, void *arg), void *arg)
{
    if (k == 0) return;
    /* the index's queues best first: SLA owners and flags of the highest level, then the next
     * level; a queue whose first owner already comes too late costs one comparison */
    top_walk w = {.s = s, .kept = malloc(k * sizeof(top_key)), .k = k, .fn = fn, .arg = arg};
    frontier f = {0};
    bool go = w.kept != NULL;
    for (int level = ESC_LEVELS - 1; go && level >= 0; level--)
        go = top_queue(&w, &f, &s->esc[level], level, false) &&
             top_queue(&w, &f, &s->esc_flags[level], level, true);
    free(w.kept), free(f.v);
}

void ow_state_each_urgent(const ow_state *s, size_t k, bool (*fn)(const ow_order_view *, void *),
                          void *arg)
{
    /* the k smallest of a binary heap without disturbing it: a small frontier of candidates,
     * starting at the root; taking one adds its two children (O(k log k)) */
    const ow_timerq *q = &s->urgent;
    size_t cap = 2 * k + 2, n = 0;
    size_t *front = malloc(cap * sizeof *front);
    if (!front || !q->n) {
        free(front);
        return;
    }
    front[n++] = 0;
    ow_order_view v;
    for (size_t taken = 0; taken < k && n; taken++) {
        size_t best = 0;
        for (size_t i = 1; i < n; i++) {
            const ow_timer *a = &q->heap[front[i]], *b = &q->heap[front[best]];
            if (a->at < b->at || (a->at == b->at && a->tie < b->tie)) best = i;
        }
        size_t node = front[best];
        front[best] = front[--n];
        for (size_t c = 2 * node + 1; c <= 2 * node + 2 && c < q->n && n < cap; c++)
            front[n++] = c;
        fill_view(s, q->heap[node].owner, &v);
        if (!fn(&v, arg)) break;
    }
    free(front);
}

void ow_state_each_open_order(const ow_state *s, bool (*fn)(const ow_order_view *, void *),
                              void *arg)
{
    size_t pos = 0;
    void *val;
    ow_order_view v;
    while (ow_map_next(&s->orders, &pos, NULL, &val)) {
        const order *o = val;
        if (!o->open) continue;
        fill_view(s, o, &v);
        if (!fn(&v, arg)) return;
    }
}

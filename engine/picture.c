#include "picture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sla.h"
#include "timefmt.h"
#include <cjson/cJSON.h>

typedef struct urgent {
    int64_t breach_at;
    const char *order_id, *region;
    ow_priority prio;
    int stage;
    int level; /* highest level raised so far, -1 none */
    int next_pct;
    int64_t next_at;
} urgent;

typedef struct collect {
    urgent top[OW_PICTURE_URGENT];
    int n;
} collect;

static bool more_urgent(const urgent *a, const urgent *b)
{
    if (a->breach_at != b->breach_at) return a->breach_at < b->breach_at;
    return strcmp(a->order_id, b->order_id) < 0 ||
           (strcmp(a->order_id, b->order_id) == 0 && a->stage < b->stage);
}

static int highest_level(uint8_t fired)
{
    int lvl = -1;
    for (int k = 0; k < OW_SLA_THRESHOLDS; k++)
        if (fired & (1u << k)) lvl = ow_sla_level[k];
    return lvl;
}

static bool visit(const ow_order_view *v, void *arg)
{
    collect *c = arg;
    for (int st = 0; st < v->nclocks; st++) {
        const ow_clock_view *cv = &v->clocks[st];
        if (cv->state != OW_CLOCK_RUNNING || cv->breach_at == OW_NEVER) continue;
        urgent u = {cv->breach_at, v->id,      v->region, v->priority, st, highest_level(cv->fired),
                    cv->next_pct,  cv->next_at};
        if (c->n == OW_PICTURE_URGENT && !more_urgent(&u, &c->top[c->n - 1])) continue;
        int i = c->n < OW_PICTURE_URGENT ? c->n++ : c->n - 1;
        while (i > 0 && more_urgent(&u, &c->top[i - 1])) {
            c->top[i] = c->top[i - 1];
            i--;
        }
        c->top[i] = u;
    }
    return true;
}

static bool add_time(cJSON *o, const char *key, int64_t ms)
{
    if (ms == OW_NEVER) return cJSON_AddNullToObject(o, key) != NULL;
    char t[OW_TIME_TEXT_MAX];
    ow_time_format(ms, t);
    return cJSON_AddStringToObject(o, key, t) != NULL;
}

static char *finish(cJSON *root, bool ok)
{
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) return NULL;
    char *copy = strdup(text);
    cJSON_free(text);
    return copy;
}

/* ---- flags: the raised root-cause flags, newest first ---- */

typedef struct flag_list {
    cJSON *arr;
    int n;
    bool ok;
} flag_list;

static bool add_flag(const ow_flag_view *v, void *arg)
{
    flag_list *l = arg;
    cJSON *e = cJSON_CreateObject();
    l->ok = e && cJSON_AddItemToArray(l->arr, e) && cJSON_AddStringToObject(e, "id", v->id) &&
            cJSON_AddStringToObject(e, "flag", v->flag) &&
            cJSON_AddStringToObject(e, "region", v->region) && add_time(e, "at", v->at) &&
            cJSON_AddNumberToObject(e, "level", v->level) &&
            cJSON_AddStringToObject(e, "summary", v->summary) &&
            cJSON_AddRawToObject(e, "evidence", v->evidence); /* JSON the flags wrote */
    return l->ok && ++l->n < OW_PICTURE_FLAGS;
}

/* ---- escalations: open alerts (SLA and flag), highest level first, then oldest ---- */

static const char *owner_role(int level)
{
    return level >= 3 ? "manager" : level == 2 ? "supervisor" : "dispatcher";
}

static bool add_escalations(cJSON *root, const ow_state *s)
{
    ow_open_alert *v = malloc(OW_PICTURE_ESCALATIONS * sizeof *v);
    cJSON *arr = cJSON_AddArrayToObject(root, "escalations");
    bool ok = v && arr;
    size_t n = ok ? ow_state_top_open_alerts(s, OW_PICTURE_ESCALATIONS, v) : 0;
    for (size_t i = 0; ok && i < n; i++) {
        const ow_open_alert *e = &v[i];
        cJSON *o = cJSON_CreateObject();
        bool sla = e->a.kind == OW_ALERT_SLA;
        ok = o && cJSON_AddItemToArray(arr, o) && cJSON_AddStringToObject(o, "id", e->id) &&
             cJSON_AddStringToObject(o, "kind", sla ? "sla" : "flag") &&
             cJSON_AddNumberToObject(o, "level", e->a.level) && add_time(o, "at", e->a.at) &&
             cJSON_AddStringToObject(o, "region", e->a.region ? e->a.region : "");
        if (ok && sla)
            ok = cJSON_AddStringToObject(o, "stage", ow_alert_stage_name(e->a.stage)) &&
                 cJSON_AddStringToObject(o, e->a.complaint ? "complaint_id" : "order_id",
                                         e->a.subject);
        else if (ok)
            ok = cJSON_AddStringToObject(o, "flag", e->a.flag ? e->a.flag : "") != NULL;
        ok = ok && cJSON_AddStringToObject(o, "owner", owner_role(e->a.level)) &&
             cJSON_AddBoolToObject(o, "acked", e->ack != NULL) &&
             (!e->ack || cJSON_AddStringToObject(o, "ack_by", e->ack->by));
    }
    free(v);
    return ok;
}

char *ow_picture_snapshot(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode)
{
    return ow_picture_snapshot_at(s, seq, now_ms, mode, NULL);
}

char *ow_picture_snapshot_at(const ow_state *s, int64_t seq, int64_t now_ms, ow_mode mode,
                             const char *stream_last)
{
    const ow_state_totals *t = ow_state_totals_get(s);
    cJSON *root = cJSON_CreateObject(), *open, *x;
    if (!root) return NULL;
    bool ok = cJSON_AddNumberToObject(root, "v", 1) &&
              cJSON_AddStringToObject(root, "type", "snapshot") &&
              cJSON_AddNumberToObject(root, "seq", (double)seq) && add_time(root, "now", now_ms) &&
              cJSON_AddNumberToObject(root, "now_ms", (double)now_ms) &&
              cJSON_AddStringToObject(root, "mode", mode == OW_MODE_REPLAY ? "replay" : "live") &&
              (open = cJSON_AddObjectToObject(root, "open")) != NULL;
    for (int p = 0; ok && p < OW_PRIO__COUNT; p++)
        ok = cJSON_AddNumberToObject(open, ow_priority_name((ow_priority)p), (double)t->open[p]) !=
             NULL;
    ok = ok && cJSON_AddNumberToObject(open, "total", (double)t->open_total) &&
         cJSON_AddNumberToObject(root, "orders_known", (double)t->orders_known) &&
         cJSON_AddNumberToObject(root, "events_applied", (double)t->events_applied) &&
         add_time(root, "last_event", t->last_event_ms) &&
         cJSON_AddNumberToObject(root, "complaints_open", (double)t->complaints_open);
    ok = ok && (x = cJSON_AddObjectToObject(root, "techs")) != NULL;
    for (int st = 0; ok && st < OW_TECH__COUNT; st++)
        ok = cJSON_AddNumberToObject(x, ow_tech_status_name((ow_tech_status)st),
                                     (double)t->techs_by_status[st]) != NULL;
    cJSON *alerts, *levels;
    ok = ok && (alerts = cJSON_AddObjectToObject(root, "alerts")) != NULL &&
         cJSON_AddNumberToObject(alerts, "raised", (double)t->alerts_raised) &&
         (levels = cJSON_AddArrayToObject(alerts, "open_by_level")) != NULL;
    for (int l = 0; ok && l < 4; l++)
        ok = cJSON_AddItemToArray(levels, cJSON_CreateNumber((double)t->alerts_open_by_level[l]));

    /* the orders with the earliest breaches hold the most urgent clocks; their other running
     * clocks compete too, so a few more orders than rows are read */
    collect c = {.n = 0};
    ow_state_each_urgent(s, OW_PICTURE_URGENT, visit, &c);
    cJSON *list;
    ok = ok && (list = cJSON_AddArrayToObject(root, "urgent")) != NULL;
    for (int i = 0; ok && i < c.n; i++) {
        const urgent *u = &c.top[i];
        cJSON *e = cJSON_CreateObject();
        ok = e && cJSON_AddItemToArray(list, e) &&
             cJSON_AddStringToObject(e, "order_id", u->order_id) &&
             cJSON_AddStringToObject(e, "region", u->region) &&
             cJSON_AddStringToObject(e, "priority", ow_priority_name(u->prio)) &&
             cJSON_AddStringToObject(e, "stage", ow_alert_stage_name(u->stage)) &&
             add_time(e, "breach_at", u->breach_at) &&
             cJSON_AddNumberToObject(e, "level", u->level) && add_time(e, "next_at", u->next_at) &&
             cJSON_AddNumberToObject(e, "next_pct", u->next_pct);
    }
    flag_list fls = {.arr = ok ? cJSON_AddArrayToObject(root, "flags") : NULL, .ok = true};
    ok = ok && fls.arr;
    if (ok) ow_flags_each_open(ow_state_flags(s), OW_PICTURE_FLAGS, add_flag, &fls);
    ok = ok && fls.ok && add_escalations(root, s);
    if (ok && stream_last) ok = cJSON_AddStringToObject(root, "stream_last", stream_last) != NULL;
    return finish(root, ok);
}

char *ow_picture_order(const ow_state *s, const char *order_id, int64_t now_ms)
{
    ow_order_view v;
    if (!ow_state_order(s, order_id, &v)) return NULL;
    cJSON *root = cJSON_CreateObject(), *clocks;
    if (!root) return NULL;
    bool ok = cJSON_AddStringToObject(root, "order_id", v.id) &&
              cJSON_AddStringToObject(root, "region", v.region) &&
              cJSON_AddStringToObject(root, "category", v.category) &&
              cJSON_AddStringToObject(root, "priority", ow_priority_name(v.priority)) &&
              cJSON_AddStringToObject(root, "given_priority", ow_priority_name(v.given_priority)) &&
              cJSON_AddStringToObject(root, "segment", ow_segment_name(v.segment)) &&
              cJSON_AddBoolToObject(root, "open", v.open) &&
              cJSON_AddBoolToObject(root, "paused", v.paused) && add_time(root, "now", now_ms) &&
              (clocks = cJSON_AddArrayToObject(root, "clocks")) != NULL;
    flag_list fls = {.arr = ok ? cJSON_AddArrayToObject(root, "flags") : NULL, .ok = true};
    ok = ok && fls.arr;
    if (ok) ow_flags_each_of_order(s, order_id, add_flag, &fls);
    ok = ok && fls.ok;
    static const char *const states[] = {"idle", "running", "stopped"};
    for (int st = 0; ok && st < v.nclocks; st++) {
        const ow_clock_view *cv = &v.clocks[st];
        cJSON *e = cJSON_CreateObject(), *alerts;
        ok = e && cJSON_AddItemToArray(clocks, e) &&
             cJSON_AddStringToObject(e, "stage", ow_alert_stage_name(st)) &&
             cJSON_AddStringToObject(e, "state", states[cv->state]) &&
             cJSON_AddNumberToObject(e, "instance", cv->instance) &&
             add_time(e, "start", cv->start) && add_time(e, "stop", cv->stop) &&
             cJSON_AddNumberToObject(e, "target_s", (double)(cv->target_ms / 1000)) &&
             add_time(e, "breach_at", cv->breach_at) && add_time(e, "next_at", cv->next_at) &&
             (alerts = cJSON_AddArrayToObject(e, "alerts")) != NULL;
        for (int k = 0; ok && k < OW_SLA_THRESHOLDS; k++) {
            if (!(cv->fired & (1u << k))) continue;
            char id[OW_ALERT_ID_BUF];
            ow_alert_sla_id(id, false, v.id, st, cv->instance, ow_sla_pct[k]);
            const ow_ack *ack = ow_acks_get(ow_state_acks(s), id);
            cJSON *a = cJSON_CreateObject();
            ok = a && cJSON_AddItemToArray(alerts, a) && cJSON_AddStringToObject(a, "id", id) &&
                 cJSON_AddNumberToObject(a, "pct", ow_sla_pct[k]) &&
                 cJSON_AddNumberToObject(a, "level", ow_sla_level[k]) &&
                 cJSON_AddBoolToObject(a, "open", (cv->open & (1u << k)) != 0) &&
                 cJSON_AddBoolToObject(a, "acked", ack != NULL);
        }
    }
    return finish(root, ok);
}

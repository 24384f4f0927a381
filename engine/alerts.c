#include "alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "jsonw.h"
#include "timefmt.h"
#include <cjson/cJSON.h>

const char *ow_alert_stage_name(int stage)
{
    return stage == OW_STAGE_COMPLAINT ? "complaint" : ow_stage_name((ow_stage)stage);
}

void ow_alert_sla_id(char *out, bool complaint, const char *subject, int stage, int instance,
                     int pct)
{
    (void)complaint; /* the stage name "complaint" already says what the subject is */
    /* by hand, not snprintf: an alert storm builds this id several times per alert */
    const char *stage_name = ow_alert_stage_name(stage);
    size_t sl = strlen(subject), tl = strlen(stage_name);
    if (sl + tl + 32 > OW_ALERT_ID_BUF) sl = OW_ALERT_ID_BUF - tl - 32; /* ids are ≤ 128 chars */
    char *o = out;
    memcpy(o, "sla:", 4), o += 4;
    memcpy(o, subject, sl), o += sl;
    *o++ = ':';
    memcpy(o, stage_name, tl), o += tl;
    const int nums[2] = {instance, pct};
    for (int i = 0; i < 2; i++) {
        char tmp[12];
        int k = 0;
        unsigned v = (unsigned)nums[i];
        do
            tmp[k++] = (char)('0' + v % 10), v /= 10;
        while (v);
        *o++ = ':';
        while (k)
            *o++ = tmp[--k];
    }
    *o = '\0';
}

void ow_alert_id(const ow_alert *a, char *out)
{
    if (a->kind == OW_ALERT_FLAG) { /* a copy, not snprintf: an alert storm formats many */
        size_t n = a->subject ? strlen(a->subject) : 0;
        if (n >= OW_ALERT_ID_BUF) n = OW_ALERT_ID_BUF - 1;
        if (n) memcpy(out, a->subject, n);
        out[n] = '\0';
        return;
    }
    ow_alert_sla_id(out, a->complaint, a->subject, a->stage, a->instance, a->pct);
}

/* Written with the small writer rather than a cJSON tree: an alert storm formats hundreds of
 * thousands of these, and this is the engine's hottest formatting path. */
char *ow_alert_format(const ow_alert *a, const ow_ack *ack)
{
    char id[OW_ALERT_ID_BUF];
    ow_alert_id(a, id);
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_alert_write(&w, a, ack, id);
    return ow_jsonw_take(&w);
}

void ow_alert_write(ow_jsonw *w, const ow_alert *a, const ow_ack *ack, const char *id)
{
    static const char *const ops[] = {"raise", "resolve", "ack"};
    char at[OW_TIME_TEXT_MAX];
    ow_time_format(a->at, at);
    ow_jsonw_open(w);
    OW_JSONW_KEY(w, "id");
    ow_jsonw_str(w, id);
    OW_JSONW_KEY(w, "kind");
    ow_jsonw_str(w, a->kind == OW_ALERT_SLA ? "sla" : "flag");
    OW_JSONW_KEY(w, "level");
    ow_jsonw_int(w, a->level);
    OW_JSONW_KEY(w, "at");
    ow_jsonw_str(w, at);
    OW_JSONW_KEY(w, "region");
    ow_jsonw_str(w, a->region ? a->region : "");
    if (a->kind == OW_ALERT_SLA) {
        OW_JSONW_KEY(w, "stage");
        ow_jsonw_str(w, ow_alert_stage_name(a->stage));
        if (a->complaint)
            OW_JSONW_KEY(w, "complaint_id");
        else
            OW_JSONW_KEY(w, "order_id");
        ow_jsonw_str(w, a->subject ? a->subject : "");
        OW_JSONW_KEY(w, "pct");
        ow_jsonw_int(w, a->pct);
        OW_JSONW_KEY(w, "target_s");
        ow_jsonw_int(w, a->target_ms / 1000);
        if (a->category && a->category[0]) {
            OW_JSONW_KEY(w, "category");
            ow_jsonw_str(w, a->category);
        }
        if (a->priority) {
            OW_JSONW_KEY(w, "priority");
            ow_jsonw_str(w, a->priority);
        }
    } else {
        OW_JSONW_KEY(w, "flag");
        ow_jsonw_str(w, a->flag ? a->flag : "");
        if (a->summary) {
            OW_JSONW_KEY(w, "summary");
            ow_jsonw_str(w, a->summary);
        }
        if (a->evidence) { /* already JSON, written by the flags */
            OW_JSONW_KEY(w, "evidence");
            ow_jsonw_raw(w, a->evidence);
        }
    }
    if (a->op != OW_ALERT_RAISE) {
        OW_JSONW_KEY(w, "op");
        ow_jsonw_str(w, ops[a->op]);
    }
    if (ack) {
        char when[OW_TIME_TEXT_MAX];
        ow_time_format(ack->at, when);
        OW_JSONW_KEY(w, "ack");
        ow_jsonw_open(w);
        OW_JSONW_KEY(w, "by");
        ow_jsonw_str(w, ack->by);
        OW_JSONW_KEY(w, "at");
        ow_jsonw_str(w, when);
        OW_JSONW_KEY(w, "note");
        ow_jsonw_str(w, ack->note);
        ow_jsonw_close(w);
    }
    ow_jsonw_close(w);
}

void ow_acks_init(ow_acks *t)
{
    ow_map_init(&t->by_id);
}

void ow_acks_fini(ow_acks *t)
{
    ow_map_fini_free(&t->by_id);
}

const ow_ack *ow_acks_get(const ow_acks *t, const char *id)
{
    return t->by_id.len ? ow_map_get(&t->by_id, id) : NULL;
}

int ow_acks_put(ow_acks *t, const char *id, const ow_ack *ack)
{
    ow_ack *copy = malloc(sizeof *copy);
    if (!copy) return OW_ENOMEM;
    *copy = *ack;
    free(ow_map_take(&t->by_id, id));
    if (ow_map_put(&t->by_id, id, copy)) {
        free(copy);
        return OW_ENOMEM;
    }
    return 0;
}

void ow_acks_remove(ow_acks *t, const char *id)
{
    if (t->by_id.len) free(ow_map_take(&t->by_id, id));
}

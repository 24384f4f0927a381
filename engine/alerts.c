#include "alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
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
    snprintf(out, OW_ALERT_ID_BUF, "sla:%s:%s:%d:%d", subject, ow_alert_stage_name(stage), instance,
             pct);
}

void ow_alert_id(const ow_alert *a, char *out)
{
    ow_alert_sla_id(out, a->complaint, a->subject, a->stage, a->instance, a->pct);
}

char *ow_alert_format(const ow_alert *a, const ow_ack *ack)
{
    char id[OW_ALERT_ID_BUF];
    ow_alert_id(a, id);
    static const char *const ops[] = {"raise", "resolve", "ack"};
    char at[OW_TIME_TEXT_MAX];
    ow_time_format(a->at, at);
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    bool ok = cJSON_AddStringToObject(o, "id", id) &&
              cJSON_AddStringToObject(o, "kind", a->kind == OW_ALERT_SLA ? "sla" : "flag") &&
              cJSON_AddNumberToObject(o, "level", a->level) &&
              cJSON_AddStringToObject(o, "at", at) &&
              cJSON_AddStringToObject(o, "region", a->region);
    if (ok && a->kind == OW_ALERT_SLA) {
        ok = cJSON_AddStringToObject(o, "stage", ow_alert_stage_name(a->stage)) &&
             cJSON_AddStringToObject(o, a->complaint ? "complaint_id" : "order_id", a->subject) &&
             cJSON_AddNumberToObject(o, "pct", a->pct) &&
             cJSON_AddNumberToObject(o, "target_s", (double)(a->target_ms / 1000));
    }
    if (ok && a->op != OW_ALERT_RAISE) ok = cJSON_AddStringToObject(o, "op", ops[a->op]) != NULL;
    if (ok && ack) {
        char when[OW_TIME_TEXT_MAX];
        ow_time_format(ack->at, when);
        cJSON *k = cJSON_AddObjectToObject(o, "ack");
        ok = k && cJSON_AddStringToObject(k, "by", ack->by) &&
             cJSON_AddStringToObject(k, "at", when) &&
             cJSON_AddStringToObject(k, "note", ack->note);
    }
    char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text) return NULL;
    char *copy = strdup(text);
    cJSON_free(text);
    return copy;
}

void ow_acks_init(ow_acks *t)
{
    ow_map_init(&t->by_id);
}

void ow_acks_fini(ow_acks *t)
{
    size_t pos = 0;
    void *v;
    while (ow_map_next(&t->by_id, &pos, NULL, &v))
        free(v);
    ow_map_fini(&t->by_id);
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

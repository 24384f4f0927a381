#include "config_sla.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "timefmt.h"

static int bad(ow_err *err, const char *source, const char *path, const char *want, const cJSON *v)
{
    char got[96];
    ow_json_quote(v, got, sizeof got);
    return ow_err_set(err, OW_EINVAL, "%s: %s: expected %s, got %s", source, path, want, got);
}

static int stage_lookup(const char *name)
{
    for (int i = 0; i < OW_STAGE__ORDER_COUNT; i++)
        if (strcmp(ow_stage_name((ow_stage)i), name) == 0) return i;
    return -1;
}

#define STAGES_TEXT "dispatch|accept|response|arrival|resolution|callback"

int ow_config_stages_parse(const cJSON *v, uint32_t *mask, const char *path, const char *source,
                           ow_err *err)
{
    if (!cJSON_IsArray(v))
        return bad(err, source, path, "an array of stage names (" STAGES_TEXT ")", v);
    uint32_t m = 0;
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        int st = cJSON_IsString(e) ? stage_lookup(e->valuestring) : -1;
        if (st < 0) {
            char p[300];
            snprintf(p, sizeof p, "%s[%d]", path, i);
            return bad(err, source, p, "one of " STAGES_TEXT, e);
        }
        m |= 1u << st;
    }
    *mask = m;
    return OW_OK;
}

cJSON *ow_config_stages_format(uint32_t mask)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < OW_STAGE__ORDER_COUNT; i++)
        if (mask & (1u << i))
            cJSON_AddItemToArray(a, cJSON_CreateString(ow_stage_name((ow_stage)i)));
    return a;
}

static int name_field(const cJSON *obj, const char *key, char *out, size_t n, const char *path,
                      const char *source, ow_err *err)
{
    const cJSON *v = ow_json_get(obj, key);
    if (!v) return OW_OK;
    char p[300];
    snprintf(p, sizeof p, "%s.%s", path, key);
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= n)
        return bad(err, source, p, "a non-empty name", v);
    snprintf(out, n, "%s", v->valuestring);
    return OW_OK;
}

static int parse_override(ow_sla_override *o, const cJSON *v, const char *path, const char *source,
                          ow_err *err)
{
    static const char *const keys[] = {"match",   "priority", "raise", "scale_pct",
                                       "targets", "stages",   NULL};
    static const char *const match_keys[] = {"segment", "category", "region", NULL};
    memset(o, 0, sizeof *o);
    o->segment = -1, o->set_priority = -1, o->scale_pct = 100;
    if (!cJSON_IsObject(v))
        return bad(err, source, path, "an object with match and priority/raise/scale_pct/targets",
                   v);
    int rc = ow_json_only_keys(v, keys, path, source, err);
    if (rc) return rc;
    char p[300];
    const cJSON *match = ow_json_get(v, "match");
    if (match) {
        snprintf(p, sizeof p, "%s.match", path);
        if (!cJSON_IsObject(match)) return bad(err, source, p, "an object", match);
        if ((rc = ow_json_only_keys(match, match_keys, p, source, err))) return rc;
        const cJSON *seg = ow_json_get(match, "segment");
        if (seg) {
            char sp[320];
            snprintf(sp, sizeof sp, "%s.segment", p);
            int s = -1;
            for (int i = 0; cJSON_IsString(seg) && i < OW_SEG__COUNT; i++)
                if (strcmp(ow_segment_name((ow_segment)i), seg->valuestring) == 0) s = i;
            if (s < 0)
                return bad(err, source, sp, "one of standard|vip|elderly|enterprise|public", seg);
            o->segment = s;
        }
        if ((rc = name_field(match, "category", o->category, sizeof o->category, p, source, err)) ||
            (rc = name_field(match, "region", o->region, sizeof o->region, p, source, err)))
            return rc;
    }
    const cJSON *prio = ow_json_get(v, "priority"), *raise = ow_json_get(v, "raise");
    const cJSON *scale = ow_json_get(v, "scale_pct"), *targets = ow_json_get(v, "targets");
    if (prio) {
        snprintf(p, sizeof p, "%s.priority", path);
        o->set_priority = cJSON_IsString(prio) ? ow_priority_lookup(prio->valuestring) : -1;
        if (o->set_priority < 0)
            return bad(err, source, p, "one of emergency|important|general", prio);
    }
    int64_t x;
    if (raise) {
        snprintf(p, sizeof p, "%s.raise", path);
        if (!ow_json_int(raise, 0, 2, &x))
            return bad(err, source, p, "an integer from 0 to 2", raise);
        o->raise = (int)x;
    }
    if (scale) {
        snprintf(p, sizeof p, "%s.scale_pct", path);
        if (!ow_json_int(scale, 1, 1000, &x))
            return bad(err, source, p, "an integer from 1 to 1000", scale);
        o->scale_pct = (int)x;
    }
    const cJSON *stages = ow_json_get(v, "stages");
    if (stages) {
        snprintf(p, sizeof p, "%s.stages", path);
        if ((rc = ow_config_stages_parse(stages, &o->stages, p, source, err))) return rc;
        o->only_stages = true;
    }
    if (targets) {
        snprintf(p, sizeof p, "%s.targets", path);
        if (!cJSON_IsObject(targets))
            return bad(err, source, p, "an object of stage: duration", targets);
        for (const cJSON *t = targets->child; t; t = t->next) {
            char tp[340];
            snprintf(tp, sizeof tp, "%s.%s", p, t->string);
            int st = stage_lookup(t->string);
            if (st < 0)
                return ow_err_set(err, OW_EINVAL, "%s: %s: unknown stage; known: " STAGES_TEXT,
                                  source, tp);
            int64_t ms;
            if (!cJSON_IsString(t) || ow_duration_parse(t->valuestring, &ms, NULL) || ms < 1000)
                return bad(err, source, tp, "a duration like \"15m\" or \"2h\" (at least 1s)", t);
            o->target_ms[st] = ms;
        }
    }
    return OW_OK;
}

int ow_config_overrides_parse(ow_config *cfg, const cJSON *v, const char *path, const char *source,
                              ow_err *err)
{
    if (!cJSON_IsArray(v)) return bad(err, source, path, "an array of overrides", v);
    int n = cJSON_GetArraySize(v);
    if (n > OW_SLA_OVERRIDES_MAX) {
        char want[64];
        snprintf(want, sizeof want, "at most %d overrides", OW_SLA_OVERRIDES_MAX);
        return ow_err_set(err, OW_EINVAL, "%s: %s: %s, got %d", source, path, want, n);
    }
    ow_sla_override tmp[OW_SLA_OVERRIDES_MAX];
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        char p[300];
        snprintf(p, sizeof p, "%s[%d]", path, i);
        int rc = parse_override(&tmp[i], e, p, source, err);
        if (rc) return rc; /* nothing half-applied: cfg changes only on success */
    }
    memcpy(cfg->sla.overrides, tmp, sizeof tmp[0] * (size_t)n);
    cfg->sla.noverrides = n;
    return OW_OK;
}

cJSON *ow_config_overrides_format(const ow_config *cfg)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < cfg->sla.noverrides; i++) {
        const ow_sla_override *o = &cfg->sla.overrides[i];
        cJSON *e = cJSON_CreateObject(), *m = cJSON_AddObjectToObject(e, "match");
        if (o->segment >= 0)
            cJSON_AddStringToObject(m, "segment", ow_segment_name((ow_segment)o->segment));
        if (o->category[0]) cJSON_AddStringToObject(m, "category", o->category);
        if (o->region[0]) cJSON_AddStringToObject(m, "region", o->region);
        if (o->set_priority >= 0)
            cJSON_AddStringToObject(e, "priority", ow_priority_name((ow_priority)o->set_priority));
        if (o->raise) cJSON_AddNumberToObject(e, "raise", o->raise);
        if (o->scale_pct != 100) cJSON_AddNumberToObject(e, "scale_pct", o->scale_pct);
        if (o->only_stages) cJSON_AddItemToObject(e, "stages", ow_config_stages_format(o->stages));
        cJSON *t = NULL;
        for (int st = 0; st < OW_STAGE__ORDER_COUNT; st++) {
            if (!o->target_ms[st]) continue;
            if (!t) t = cJSON_AddObjectToObject(e, "targets");
            char d[48];
            ow_duration_format(o->target_ms[st], d, sizeof d);
            cJSON_AddStringToObject(t, ow_stage_name((ow_stage)st), d);
        }
        cJSON_AddItemToArray(a, e);
    }
    return a;
}

static const char *const day_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* "HH:MM" → minutes; 24:00 allowed as a closing time. */
static bool hhmm(const cJSON *v, int *out)
{
    int h, m;
    char extra;
    if (!cJSON_IsString(v) || sscanf(v->valuestring, "%2d:%2d%c", &h, &m, &extra) != 2 ||
        strlen(v->valuestring) != 5 || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m))
        return false;
    *out = h * 60 + m;
    return true;
}

static int parse_calendar(ow_calendar *c, const cJSON *v, const char *path, const char *source,
                          ow_err *err)
{
    static const char *const keys[] = {"utc_offset", "days", "open", "close", NULL};
    memset(c, 0, sizeof *c); /* padding too: configs are compared and saved byte for byte */
    if (!cJSON_IsObject(v))
        return bad(err, source, path, "an object with utc_offset, days, open and close", v);
    int rc = ow_json_only_keys(v, keys, path, source, err);
    if (rc) return rc;
    char p[300];
    const cJSON *off = ow_json_get(v, "utc_offset"), *days = ow_json_get(v, "days");
    const cJSON *open = ow_json_get(v, "open"), *close = ow_json_get(v, "close");
    int sign, oh, om;
    char extra;
    snprintf(p, sizeof p, "%s.utc_offset", path);
    if (!cJSON_IsString(off) || strlen(off->valuestring) != 6 ||
        (off->valuestring[0] != '+' && off->valuestring[0] != '-') ||
        sscanf(off->valuestring + 1, "%2d:%2d%c", &oh, &om, &extra) != 2 || oh > 14 || om > 59)
        return bad(err, source, p, "a UTC offset like \"+08:00\"", off);
    sign = off->valuestring[0] == '-' ? -1 : 1;
    c->utc_offset_min = sign * (oh * 60 + om);
    snprintf(p, sizeof p, "%s.days", path);
    if (!cJSON_IsArray(days) || !cJSON_GetArraySize(days))
        return bad(err, source, p, "an array of days (mon|tue|wed|thu|fri|sat|sun)", days);
    c->weekdays = 0;
    for (const cJSON *d = days->child; d; d = d->next) {
        int k = -1;
        for (int i = 0; cJSON_IsString(d) && i < 7; i++)
            if (strcmp(day_names[i], d->valuestring) == 0) k = i;
        if (k < 0) return bad(err, source, p, "days among mon|tue|wed|thu|fri|sat|sun", d);
        c->weekdays |= (uint8_t)(1u << k);
    }
    snprintf(p, sizeof p, "%s.open", path);
    if (!hhmm(open, &c->open_min) || c->open_min >= 1440)
        return bad(err, source, p, "a time like \"09:00\"", open);
    snprintf(p, sizeof p, "%s.close", path);
    if (!hhmm(close, &c->close_min) || c->close_min <= c->open_min)
        return bad(err, source, p, "a time like \"18:00\", after open", close);
    return OW_OK;
}

int ow_config_calendars_parse(ow_config *cfg, const cJSON *v, const char *path, const char *source,
                              ow_err *err)
{
    if (!cJSON_IsObject(v))
        return bad(err, source, path, "an object of region (or \"default\"): calendar", v);
    int n = 0;
    for (const cJSON *e = v->child; e; e = e->next) {
        if (n == OW_CALENDARS_MAX)
            return ow_err_set(err, OW_EINVAL, "%s: %s: at most %d calendars", source, path,
                              OW_CALENDARS_MAX);
        char p[300];
        snprintf(p, sizeof p, "%s.%s", path, e->string);
        if (!e->string[0] || strlen(e->string) >= OW_NAME_BUF)
            return ow_err_set(err, OW_EINVAL, "%s: %s: region name must be 1-%d bytes", source, p,
                              OW_NAME_BUF - 1);
        ow_calendar cal;
        int rc = parse_calendar(&cal, e, p, source, err);
        if (rc) return rc;
        snprintf(cfg->sla.calendars[n].region, sizeof cfg->sla.calendars[n].region, "%s",
                 e->string);
        cfg->sla.calendars[n].cal = cal;
        n++;
    }
    cfg->sla.ncalendars = n;
    return OW_OK;
}

cJSON *ow_config_calendars_format(const ow_config *cfg)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < cfg->sla.ncalendars; i++) {
        const ow_calendar *c = &cfg->sla.calendars[i].cal;
        cJSON *e = cJSON_AddObjectToObject(o, cfg->sla.calendars[i].region);
        char t[16];
        int off = c->utc_offset_min < 0 ? -c->utc_offset_min : c->utc_offset_min;
        snprintf(t, sizeof t, "%c%02d:%02d", c->utc_offset_min < 0 ? '-' : '+', off / 60, off % 60);
        cJSON_AddStringToObject(e, "utc_offset", t);
        cJSON *d = cJSON_AddArrayToObject(e, "days");
        for (int k = 0; k < 7; k++)
            if (c->weekdays & (1u << k)) cJSON_AddItemToArray(d, cJSON_CreateString(day_names[k]));
        snprintf(t, sizeof t, "%02d:%02d", c->open_min / 60, c->open_min % 60);
        cJSON_AddStringToObject(e, "open", t);
        snprintf(t, sizeof t, "%02d:%02d", c->close_min / 60, c->close_min % 60);
        cJSON_AddStringToObject(e, "close", t);
    }
    return o;
}

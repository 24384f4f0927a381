#include "scene.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "map.h"
#include "timefmt.h"

/* ---- the tables ----------------------------------------------------------------------------- */

static const char *const kpi_keys[OW_KPI__COUNT] = {
    [OW_KPI_CREATED] = "created",
    [OW_KPI_RESOLVED] = "resolved",
    [OW_KPI_RESPONSE_MEAN_S] = "response_mean_s",
    [OW_KPI_RESPONSE_P90_S] = "response_p90_s",
    [OW_KPI_DISPATCH_MEAN_S] = "dispatch_mean_s",
    [OW_KPI_DISPATCH_P90_S] = "dispatch_p90_s",
    [OW_KPI_FIRST_VISIT_FIX_PCT] = "first_visit_fix_pct",
    [OW_KPI_REPEAT_VISIT_PCT] = "repeat_visit_pct",
    [OW_KPI_COMPLAINT_RATE_PCT] = "complaint_rate_pct",
    [OW_KPI_CSAT] = "csat",
    [OW_KPI_NPS] = "nps",
    [OW_KPI_SLA_RESPONSE_PCT] = "sla_compliance_pct.response",
    [OW_KPI_SLA_ARRIVAL_PCT] = "sla_compliance_pct.arrival",
    [OW_KPI_SLA_RESOLUTION_PCT] = "sla_compliance_pct.resolution",
    [OW_KPI_BACKLOG] = "backlog",
    [OW_KPI_UTILISATION_PCT] = "utilisation_pct",
    [OW_KPI_ORDERS_PER_TECH] = "orders_per_tech",
};

static const char *const window_keys[OW_WIN__COUNT] = {"1h", "today", "7d", "prev_1h"};
static const char *const spark_keys[OW_SPARK__COUNT] = {"created", "resolved", "open", "breaches",
                                                        "alerts"};

const char *ow_kpi_key(ow_kpi k)
{
    return k < OW_KPI__COUNT ? kpi_keys[k] : "?";
}

const char *ow_kpi_window_key(ow_kpi_window w)
{
    return w < OW_WIN__COUNT ? window_keys[w] : "?";
}

const char *ow_spark_key(ow_spark_series s)
{
    return s < OW_SPARK__COUNT ? spark_keys[s] : "?";
}

/* ---- small readers (absent or wrong type → the fallback) ------------------------------------ */

/* Copy a JSON string into out[n], cut at a UTF-8 character boundary. False when not a string. */
static bool copy_str(const cJSON *v, char *out, size_t n)
{
    out[0] = '\0';
    if (!cJSON_IsString(v) || !v->valuestring) return false;
    size_t len = strlen(v->valuestring);
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char)v->valuestring[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(out, v->valuestring, len);
    out[len] = '\0';
    return true;
}

static bool num(const cJSON *v, double *out)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return false;
    *out = v->valuedouble;
    return true;
}

static int64_t count_or_zero(const cJSON *obj, const char *key)
{
    int64_t n = 0;
    if (!ow_json_int(ow_json_get(obj, key), 0, INT64_C(1) << 53, &n)) return 0;
    return n;
}

static int64_t time_or(const cJSON *v, int64_t fallback)
{
    int64_t ms;
    if (!cJSON_IsString(v) || ow_time_parse(v->valuestring, strlen(v->valuestring), &ms, NULL))
        return fallback;
    return ms;
}

static int int_in(const cJSON *v, int lo, int hi, int fallback)
{
    int64_t n;
    return ow_json_int(v, lo, hi, &n) ? (int)n : fallback;
}

static void note_bad(ow_scene *s, const char *member)
{
    size_t used = strlen(s->bad);
    snprintf(s->bad + used, sizeof s->bad - used, "%s%s", used ? ", " : "", member);
}

static bool bbox(const cJSON *v, double out[4])
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 4) return false;
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++)
        if (!num(c, &out[i])) return false;
    return out[0] < out[2] && out[1] < out[3] && out[0] >= -180 && out[2] <= 180 && out[1] >= -90 &&
           out[3] <= 90;
}

static void tech_counts(const cJSON *obj, int64_t out[OW_TECH__COUNT])
{
    for (int t = 0; t < OW_TECH__COUNT; t++)
        out[t] = count_or_zero(obj, ow_tech_status_name((ow_tech_status)t));
}

static int tech_status(const char *s)
{
    for (int t = 0; t < OW_TECH__COUNT; t++)
        if (strcmp(s, ow_tech_status_name((ow_tech_status)t)) == 0) return t;
    return -1;
}

/* Elements to allocate for an array member: its size, capped. */
static int capped(const cJSON *arr, int max)
{
    int n = cJSON_GetArraySize(arr);
    return n < max ? n : max;
}

/* ---- members -------------------------------------------------------------------------------- */

static void kpi_block(const cJSON *obj, ow_kpi_block *b)
{
    memset(b, 0, sizeof *b);
    if (!cJSON_IsObject(obj)) return;
    b->present = true;
    const cJSON *sla = ow_json_get(obj, "sla_compliance_pct");
    for (int k = 0; k < OW_KPI__COUNT; k++) {
        const char *key = kpi_keys[k];
        const char *dot = strchr(key, '.');
        const cJSON *v = dot ? ow_json_get(sla, dot + 1) : ow_json_get(obj, key);
        b->has[k] = num(v, &b->v[k]);
    }
}

static void kpi_windows(const cJSON *obj, ow_kpi_block out[OW_WIN__COUNT])
{
    for (int w = 0; w < OW_WIN__COUNT; w++)
        kpi_block(ow_json_get(obj, window_keys[w]), &out[w]);
}

static bool decode_kpi(ow_scene *s, const cJSON *kpi, const cJSON *targets)
{
    if (cJSON_IsObject(targets)) {
        for (int k = 0; k < OW_KPI__COUNT; k++) {
            const cJSON *t = ow_json_get(targets, kpi_keys[k]);
            ow_kpi_target *o = &s->targets[k];
            if (!num(ow_json_get(t, "target"), &o->target)) continue;
            const cJSON *better = ow_json_get(t, "better");
            o->higher_better = cJSON_IsString(better) && strcmp(better->valuestring, "higher") == 0;
            o->has = true;
        }
    }
    if (!kpi) return true;
    if (!cJSON_IsObject(kpi)) return false;
    kpi_windows(ow_json_get(kpi, "overall"), s->kpi);
    s->has_kpi = true;
    return true;
}

static bool decode_regions(ow_scene *s, const cJSON *arr)
{
    if (!cJSON_IsArray(arr)) return false;
    int n = capped(arr, OW_SCENE_REGIONS_MAX);
    s->regions = calloc((size_t)(n ? n : 1), sizeof *s->regions);
    if (!s->regions) return false;
    for (const cJSON *e = arr->child; e && s->nregions < n; e = e->next) {
        ow_scene_region *r = &s->regions[s->nregions];
        if (!cJSON_IsObject(e) || !copy_str(ow_json_get(e, "id"), r->id, sizeof r->id) || !r->id[0])
            continue;
        if (!copy_str(ow_json_get(e, "name_en"), r->name_en, sizeof r->name_en) || !r->name_en[0])
            snprintf(r->name_en, sizeof r->name_en, "%s", r->id);
        if (!copy_str(ow_json_get(e, "name_zh"), r->name_zh, sizeof r->name_zh) || !r->name_zh[0])
            snprintf(r->name_zh, sizeof r->name_zh, "%s", r->id);
        const cJSON *c = ow_json_get(e, "center");
        r->has_center = cJSON_IsArray(c) && cJSON_GetArraySize(c) == 2 &&
                        num(c->child, &r->center[0]) && num(c->child->next, &r->center[1]);
        r->open = count_or_zero(e, "open");
        r->breached = count_or_zero(e, "breached");
        r->alerts_open = count_or_zero(e, "alerts_open");
        r->backlog = count_or_zero(e, "backlog");
        tech_counts(ow_json_get(e, "techs"), r->techs);
        s->nregions++;
    }
    s->has_regions = true;
    return true;
}

static void decode_region_kpis(ow_scene *s, const cJSON *kpi)
{
    const cJSON *by_region = ow_json_get(kpi, "regions");
    if (!cJSON_IsObject(by_region)) return;
    for (int i = 0; i < s->nregions; i++)
        kpi_windows(ow_json_get(by_region, s->regions[i].id), s->regions[i].kpi);
}

static bool decode_techs_pos(ow_scene *s, const cJSON *obj)
{
    const cJSON *list = ow_json_get(obj, "list");
    if (!cJSON_IsObject(obj) || !cJSON_IsArray(list)) return false;
    int n = capped(list, OW_SCENE_TECHS_MAX);
    s->techs_pos = calloc((size_t)(n ? n : 1), sizeof *s->techs_pos); /* padding hashed: zero */
    if (!s->techs_pos) return false;
    for (const cJSON *row = list->child; row && s->ntechs_pos < n; row = row->next) {
        /* [id, lon, lat, status, region] */
        const cJSON *id = row->child, *lon = id ? id->next : NULL, *lat = lon ? lon->next : NULL;
        const cJSON *st = lat ? lat->next : NULL;
        double x, y;
        if (!cJSON_IsArray(row) || !num(lon, &x) || !num(lat, &y) || !cJSON_IsString(st) ||
            fabs(x) > 180 || fabs(y) > 90)
            continue;
        int status = tech_status(st->valuestring);
        if (status < 0) continue;
        s->techs_pos[s->ntechs_pos++] = (ow_scene_tech){(float)x, (float)y, (uint8_t)status};
    }
    s->has_techs_pos = true;
    return true;
}

static bool decode_heat(ow_scene *s, const cJSON *obj)
{
    const cJSON *cells = ow_json_get(obj, "cells");
    int64_t cols, rows;
    if (!cJSON_IsObject(obj) || !cJSON_IsArray(cells) ||
        !bbox(ow_json_get(obj, "bbox"), s->heat_bbox) ||
        !ow_json_int(ow_json_get(obj, "cols"), 1, 10000, &cols) ||
        !ow_json_int(ow_json_get(obj, "rows"), 1, 10000, &rows) || cols * rows > OW_SCENE_CELLS_MAX)
        return false;
    if (!num(ow_json_get(obj, "cell_m"), &s->heat_cell_m)) s->heat_cell_m = 0;
    s->heat_cols = (int)cols;
    s->heat_rows = (int)rows;
    int n = capped(cells, OW_SCENE_CELLS_MAX);
    s->cells = malloc((size_t)(n ? n : 1) * sizeof *s->cells);
    if (!s->cells) return false;
    for (const cJSON *c = cells->child; c && s->ncells < n; c = c->next) {
        int64_t v[5];
        const cJSON *e = cJSON_IsArray(c) ? c->child : NULL;
        int k = 0;
        for (; k < 5 && e; k++, e = e->next)
            if (!ow_json_int(e, 0, INT32_MAX, &v[k])) break;
        if (k < 5 || v[0] >= cols || v[1] >= rows) continue;
        s->cells[s->ncells++] = (ow_scene_cell){(int32_t)v[0], (int32_t)v[1], (int32_t)v[2],
                                                (int32_t)v[3], (int32_t)v[4]};
    }
    s->has_heat = true;
    return true;
}

static bool decode_flags(ow_scene *s, const cJSON *arr)
{
    if (!cJSON_IsArray(arr)) return false;
    int n = capped(arr, OW_SCENE_FLAGS_MAX);
    s->flags = calloc((size_t)(n ? n : 1), sizeof *s->flags);
    if (!s->flags) return false;
    for (const cJSON *e = arr->child; e && s->nflags < n; e = e->next) {
        ow_scene_flag *f = &s->flags[s->nflags];
        if (!cJSON_IsObject(e) || !copy_str(ow_json_get(e, "flag"), f->flag, sizeof f->flag))
            continue;
        copy_str(ow_json_get(e, "region"), f->region, sizeof f->region);
        copy_str(ow_json_get(e, "summary"), f->summary, sizeof f->summary);
        f->at_ms = time_or(ow_json_get(e, "at"), -1);
        f->level = int_in(ow_json_get(e, "level"), 0, 3, 0);
        s->nflags++;
    }
    s->has_flags = true;
    return true;
}

static bool decode_escalations(ow_scene *s, const cJSON *arr)
{
    if (!cJSON_IsArray(arr)) return false;
    int n = capped(arr, OW_SCENE_ESC_MAX);
    s->escalations = calloc((size_t)(n ? n : 1), sizeof *s->escalations);
    if (!s->escalations) return false;
    for (const cJSON *e = arr->child; e && s->nescalations < n; e = e->next) {
        ow_scene_escalation *x = &s->escalations[s->nescalations];
        if (!cJSON_IsObject(e)) continue;
        const cJSON *id = ow_json_get(e, "id");
        if (cJSON_IsString(id)) x->id_hash = ow_hash(id->valuestring, strlen(id->valuestring));
        copy_str(ow_json_get(e, "kind"), x->kind, sizeof x->kind);
        x->level = int_in(ow_json_get(e, "level"), 0, 3, 0);
        x->at_ms = time_or(ow_json_get(e, "at"), -1);
        copy_str(ow_json_get(e, "region"), x->region, sizeof x->region);
        if (!copy_str(ow_json_get(e, "stage"), x->what, sizeof x->what))
            copy_str(ow_json_get(e, "flag"), x->what, sizeof x->what);
        if (!copy_str(ow_json_get(e, "order_id"), x->subject, sizeof x->subject))
            copy_str(ow_json_get(e, "complaint_id"), x->subject, sizeof x->subject);
        copy_str(ow_json_get(e, "owner"), x->owner, sizeof x->owner);
        x->acked = cJSON_IsTrue(ow_json_get(e, "acked"));
        copy_str(ow_json_get(e, "ack_by"), x->ack_by, sizeof x->ack_by);
        s->nescalations++;
    }
    s->has_escalations = true;
    return true;
}

static bool decode_urgent(ow_scene *s, const cJSON *arr)
{
    if (!cJSON_IsArray(arr)) return false;
    int n = capped(arr, OW_SCENE_URGENT_MAX);
    s->urgent = calloc((size_t)(n ? n : 1), sizeof *s->urgent);
    if (!s->urgent) return false;
    for (const cJSON *e = arr->child; e && s->nurgent < n; e = e->next) {
        ow_scene_urgent *u = &s->urgent[s->nurgent];
        if (!cJSON_IsObject(e) ||
            !copy_str(ow_json_get(e, "order_id"), u->order_id, sizeof u->order_id))
            continue;
        u->breach_at_ms = time_or(ow_json_get(e, "breach_at"), -1);
        if (u->breach_at_ms < 0) continue; /* a countdown needs its end */
        copy_str(ow_json_get(e, "region"), u->region, sizeof u->region);
        copy_str(ow_json_get(e, "stage"), u->stage, sizeof u->stage);
        const cJSON *p = ow_json_get(e, "priority");
        u->priority = cJSON_IsString(p) ? ow_priority_lookup(p->valuestring) : -1;
        u->level = int_in(ow_json_get(e, "level"), -1, 3, -1);
        u->next_pct = int_in(ow_json_get(e, "next_pct"), 0, 1000, 0);
        s->nurgent++;
    }
    s->has_urgent = true;
    return true;
}

static bool decode_spark(ow_scene *s, const cJSON *obj)
{
    const cJSON *series = ow_json_get(obj, "series");
    if (!cJSON_IsObject(obj) || !cJSON_IsObject(series)) return false;
    int64_t bucket;
    s->spark_bucket_s = ow_json_int(ow_json_get(obj, "bucket_s"), 1, 86400, &bucket) ? bucket : 0;
    s->spark_end_ms = time_or(ow_json_get(obj, "end"), -1);
    for (int k = 0; k < OW_SPARK__COUNT; k++) {
        const cJSON *arr = ow_json_get(series, spark_keys[k]);
        if (!cJSON_IsArray(arr)) continue;
        int n = capped(arr, OW_SCENE_SPARK_MAX);
        /* keep the newest points when the series is longer than the cap */
        int skip = cJSON_GetArraySize(arr) - n;
        s->spark[k] = malloc((size_t)(n ? n : 1) * sizeof(double));
        if (!s->spark[k]) return false;
        for (const cJSON *e = arr->child; e; e = e->next) {
            if (skip > 0) {
                skip--;
                continue;
            }
            double v;
            s->spark[k][s->spark_n[k]++] = num(e, &v) ? v : NAN; /* null: a gap */
        }
    }
    s->has_spark = true;
    return true;
}

static bool decode_replay(ow_scene *s, const cJSON *obj)
{
    if (!cJSON_IsObject(obj)) return false;
    if (!num(ow_json_get(obj, "speed"), &s->replay_speed)) s->replay_speed = 0;
    if (!num(ow_json_get(obj, "progress_pct"), &s->replay_progress_pct))
        s->replay_progress_pct = -1;
    else if (s->replay_progress_pct > 100)
        s->replay_progress_pct = 100;
    else if (s->replay_progress_pct < 0)
        s->replay_progress_pct = 0;
    s->replay_start_ms = time_or(ow_json_get(obj, "start"), -1);
    s->replay_end_ms = time_or(ow_json_get(obj, "end"), -1);
    s->has_replay = true;
    return true;
}

/* `partitions` of a merged picture: {"0":{"seq":…,"age_s":…,"stale":false},…} */
static bool decode_partitions(ow_scene *s, const cJSON *obj)
{
    if (!cJSON_IsObject(obj)) return false;
    s->stale_partition = -1;
    for (const cJSON *e = obj->child; e; e = e->next) {
        int64_t age = 0;
        char *end;
        long p = e->string ? strtol(e->string, &end, 10) : -1;
        const cJSON *stale = ow_json_get(e, "stale");
        if (!cJSON_IsObject(e) || p < 0 || p > 1 << 20 || !e->string[0] || *end ||
            !cJSON_IsBool(stale))
            return false;
        ow_json_int(ow_json_get(e, "age_s"), 0, INT64_C(1) << 40, &age);
        s->partitions++;
        if (cJSON_IsTrue(stale)) {
            s->partitions_stale++;
            bool never = cJSON_IsNull(ow_json_get(e, "seq"));
            if (s->stale_partition < 0 || never || (!s->stale_never && age > s->stale_age_s))
                s->stale_partition = (int)p, s->stale_age_s = age, s->stale_never = never;
        }
    }
    s->has_partitions = true;
    return true;
}

static bool decode_city(ow_scene *s, const cJSON *obj)
{
    if (!cJSON_IsObject(obj)) return false;
    copy_str(ow_json_get(obj, "name"), s->city_name, sizeof s->city_name);
    s->has_city = bbox(ow_json_get(obj, "bbox"), s->city_bbox);
    return true;
}

/* ---- the whole snapshot --------------------------------------------------------------------- */

/* One optional member: decoded when present; refused (noted in `bad`) when malformed. */
static void member(ow_scene *s, const cJSON *root, const char *name,
                   bool (*decode)(ow_scene *s, const cJSON *v))
{
    const cJSON *v = ow_json_get(root, name);
    if (v && !cJSON_IsNull(v) && !decode(s, v)) note_bad(s, name);
}

ow_scene *ow_scene_decode(const cJSON *root, ow_err *err)
{
    ow_scene *s = calloc(1, sizeof *s);
    if (!s) {
        ow_err_set(err, OW_ENOMEM, "out of memory");
        return NULL;
    }
    if (ow_snapshot_decode(root, &s->core, err) != OW_OK) {
        ow_scene_free(s);
        return NULL;
    }
    const cJSON *v;
    if ((v = ow_json_get(root, "complaints_open")))
        s->has_complaints = ow_json_int(v, 0, INT64_C(1) << 53, &s->complaints_open);
    if ((v = ow_json_get(root, "techs")) && cJSON_IsObject(v)) {
        tech_counts(v, s->techs);
        s->has_techs = true;
    }
    if ((v = ow_json_get(root, "alerts")) && cJSON_IsObject(v)) {
        s->alerts_raised = count_or_zero(v, "raised");
        const cJSON *lv = ow_json_get(v, "open_by_level");
        int i = 0;
        for (const cJSON *e = cJSON_IsArray(lv) ? lv->child : NULL; e && i < 4; e = e->next, i++)
            if (!ow_json_int(e, 0, INT64_C(1) << 53, &s->alerts_open_by_level[i]))
                s->alerts_open_by_level[i] = 0;
        s->has_alerts = true;
    }
    member(s, root, "replay", decode_replay);
    member(s, root, "city", decode_city);
    member(s, root, "partitions", decode_partitions);
    member(s, root, "regions", decode_regions);
    const cJSON *kpi = ow_json_get(root, "kpi");
    if (!decode_kpi(s, cJSON_IsNull(kpi) ? NULL : kpi, ow_json_get(root, "kpi_targets")))
        note_bad(s, "kpi");
    else if (s->has_kpi)
        decode_region_kpis(s, kpi);
    member(s, root, "techs_pos", decode_techs_pos);
    member(s, root, "heat_grid", decode_heat);
    member(s, root, "flags", decode_flags);
    member(s, root, "escalations", decode_escalations);
    member(s, root, "urgent", decode_urgent);
    member(s, root, "spark", decode_spark);
    return s;
}

ow_scene *ow_scene_parse(const char *text, size_t len, ow_err *err)
{
    ow_err jerr;
    cJSON *root = ow_json_parse(text, len, OW_JSON_MAX_DEPTH, &jerr);
    if (!root) {
        ow_err_set(err, OW_EINVAL, "snapshot: %s", jerr.msg);
        return NULL;
    }
    ow_scene *s = ow_scene_decode(root, err);
    cJSON_Delete(root);
    return s;
}

void ow_scene_free(ow_scene *s)
{
    if (!s) return;
    free(s->regions);
    free(s->techs_pos);
    free(s->cells);
    free(s->flags);
    free(s->escalations);
    free(s->urgent);
    for (int k = 0; k < OW_SPARK__COUNT; k++)
        free(s->spark[k]);
    free(s);
}

int ow_scene_region_find(const ow_scene *s, const char *id)
{
    for (int i = 0; s && i < s->nregions; i++)
        if (strcmp(s->regions[i].id, id) == 0) return i;
    return -1;
}

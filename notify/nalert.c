#include "nalert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "timefmt.h"

static const char *const label_names[] = {
#define OW_LBL_NAME(e, name) name,
    OW_LABELS(OW_LBL_NAME)
#undef OW_LBL_NAME
};

const char *ow_label_name(ow_label l)
{
    return l >= 0 && l < OW_LBL__COUNT ? label_names[l] : "?";
}

int ow_label_parse(const char *name)
{
    for (int i = 0; i < OW_LBL__COUNT; i++)
        if (strcmp(label_names[i], name) == 0) return i;
    return -1;
}

void ow_nalert_free(ow_nalert *a)
{
    if (!a) return;
    free(a->id);
    for (int i = 0; i < OW_LBL__COUNT; i++)
        free(a->label[i]);
    free(a->subject);
    free(a->summary);
    free(a->json);
    free(a->ack_by);
    free(a);
}

/* An optional string member: "" when absent; an error when present and not a string of at most
 * max bytes. */
static int opt_str_max(const cJSON *root, const char *key, size_t max, char **out, ow_err *err)
{
    const cJSON *v = ow_json_get(root, key);
    const char *s = "";
    if (v) {
        if (!cJSON_IsString(v))
            return ow_err_set(err, OW_EINVAL, "alert: field \"%s\": expected a string, got %s", key,
                              ow_json_type_name(v));
        s = v->valuestring;
        if (strlen(s) > max)
            return ow_err_set(err, OW_EINVAL, "alert: field \"%s\": longer than %zu bytes", key,
                              max);
    }
    *out = strdup(s);
    return *out ? OW_OK : ow_err_set(err, OW_ENOMEM, "out of memory");
}

static int opt_str(const cJSON *root, const char *key, char **out, ow_err *err)
{
    return opt_str_max(root, key, OW_ID_BUF, out, err);
}

static int req_str(const cJSON *root, const char *key, char **out, ow_err *err)
{
    if (!ow_json_get(root, key))
        return ow_err_set(err, OW_EINVAL, "alert: field \"%s\" is missing", key);
    return opt_str(root, key, out, err);
}

static int opt_int(const cJSON *root, const char *key, int64_t lo, int64_t hi, bool required,
                   int64_t *out, ow_err *err)
{
    const cJSON *v = ow_json_get(root, key);
    *out = 0;
    if (!v) return required ? ow_err_set(err, OW_EINVAL, "alert: field \"%s\" is missing", key) : 0;
    if (!ow_json_int(v, lo, hi, out))
        return ow_err_set(err, OW_EINVAL,
                          "alert: field \"%s\": expected an integer from %lld to %lld", key,
                          (long long)lo, (long long)hi);
    return OW_OK;
}

static int time_field(const cJSON *root, const char *key, int64_t *out, ow_err *err)
{
    const cJSON *v = ow_json_get(root, key);
    if (!cJSON_IsString(v))
        return ow_err_set(err, OW_EINVAL, "alert: field \"%s\": expected an RFC 3339 time", key);
    ow_err terr;
    if (ow_time_parse(v->valuestring, strlen(v->valuestring), out, &terr))
        return ow_err_set(err, OW_EINVAL, "alert: field \"%s\": %s", key, terr.msg);
    return OW_OK;
}

int ow_nalert_parse(const char *text, size_t len, ow_nalert **out, ow_err *err)
{
    *out = NULL;
    if (len > OW_NALERT_MAX_BYTES)
        return ow_err_set(err, OW_ETOOBIG, "alert: %zu bytes, at most %d", len,
                          OW_NALERT_MAX_BYTES);
    ow_err jerr;
    cJSON *root = ow_json_parse(text, len, 8, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "alert: %s", jerr.msg);
    ow_nalert *a = calloc(1, sizeof *a);
    int rc = a ? OW_OK : ow_err_set(err, OW_ENOMEM, "out of memory");
    int64_t level = 0, pct = 0, target_s = 0;
    if (!rc && !cJSON_IsObject(root))
        rc = ow_err_set(err, OW_EINVAL, "alert: expected a JSON object, got %s",
                        ow_json_type_name(root));
    if (!rc) rc = req_str(root, "id", &a->id, err);
    if (!rc && !a->id[0]) rc = ow_err_set(err, OW_EINVAL, "alert: field \"id\" is empty");
    if (!rc) rc = req_str(root, "kind", &a->label[OW_LBL_KIND], err);
    if (!rc && strcmp(a->label[OW_LBL_KIND], "sla") && strcmp(a->label[OW_LBL_KIND], "flag"))
        rc = ow_err_set(err, OW_EINVAL, "alert: field \"kind\": expected sla or flag");
    if (!rc) rc = opt_int(root, "level", 0, 3, true, &level, err);
    if (!rc) rc = time_field(root, "at", &a->at_ms, err);
    if (!rc) rc = req_str(root, "region", &a->label[OW_LBL_REGION], err);
    if (!rc) rc = opt_str(root, "stage", &a->label[OW_LBL_STAGE], err);
    if (!rc) rc = opt_str(root, "category", &a->label[OW_LBL_CATEGORY], err);
    if (!rc) rc = opt_str(root, "priority", &a->label[OW_LBL_PRIORITY], err);
    if (!rc) rc = opt_str(root, "flag", &a->label[OW_LBL_FLAG], err);
    if (!rc) rc = opt_int(root, "pct", 0, 1000, false, &pct, err);
    if (!rc) rc = opt_int(root, "target_s", 0, INT64_C(1) << 40, false, &target_s, err);
    if (!rc) rc = opt_str_max(root, "summary", 4096, &a->summary, err);
    if (!rc) {
        a->complaint = ow_json_get(root, "complaint_id") != NULL;
        bool flag = strcmp(a->label[OW_LBL_KIND], "flag") == 0;
        rc = opt_str(root,
                     a->complaint ? "complaint_id"
                     : flag       ? "flag"
                                  : "order_id",
                     &a->subject, err);
    }
    if (!rc) {
        char lv[4];
        snprintf(lv, sizeof lv, "%d", (int)level);
        a->level = (int)level;
        a->pct = (int)pct;
        a->target_ms = target_s * 1000;
        a->label[OW_LBL_LEVEL] = strdup(lv);
        a->json = malloc(len + 1);
        if (!a->label[OW_LBL_LEVEL] || !a->json)
            rc = ow_err_set(err, OW_ENOMEM, "out of memory");
        else
            memcpy(a->json, text, len), a->json[len] = '\0';
    }
    cJSON_Delete(root);
    if (rc) {
        ow_nalert_free(a);
        return rc;
    }
    *out = a;
    return OW_OK;
}

int ow_nchange_parse(const char *text, size_t len, ow_nchange *out, ow_err *err)
{
    memset(out, 0, sizeof *out);
    if (len > OW_NALERT_MAX_BYTES)
        return ow_err_set(err, OW_ETOOBIG, "alert change: %zu bytes, at most %d", len,
                          OW_NALERT_MAX_BYTES);
    ow_err jerr;
    cJSON *root = ow_json_parse(text, len, 8, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "alert change: %s", jerr.msg);
    int rc = OW_OK;
    const cJSON *id = ow_json_get(root, "id"), *op = ow_json_get(root, "op");
    if (!cJSON_IsString(id) || !id->valuestring[0] || strlen(id->valuestring) >= sizeof out->id)
        rc = ow_err_set(err, OW_EINVAL, "alert change: field \"id\": expected a short string");
    else if (!cJSON_IsString(op) ||
             (strcmp(op->valuestring, "resolve") && strcmp(op->valuestring, "ack")))
        rc = ow_err_set(err, OW_EINVAL, "alert change: field \"op\": expected resolve or ack");
    else
        rc = time_field(root, "at", &out->at_ms, err);
    if (!rc) {
        snprintf(out->id, sizeof out->id, "%s", id->valuestring);
        out->op = strcmp(op->valuestring, "ack") == 0 ? OW_CHANGE_ACK : OW_CHANGE_RESOLVE;
        if (out->op == OW_CHANGE_ACK) {
            const cJSON *by = ow_json_get(ow_json_get(root, "ack"), "by");
            if (!cJSON_IsString(by) || strlen(by->valuestring) >= sizeof out->by)
                rc = ow_err_set(err, OW_EINVAL, "alert change: field \"ack.by\": expected a name");
            else
                snprintf(out->by, sizeof out->by, "%s", by->valuestring);
        }
    }
    cJSON_Delete(root);
    return rc;
}

/* ---- matchers ------------------------------------------------------------------------------- */

void ow_matcher_fini(ow_matcher *m)
{
    for (int l = 0; l < OW_LBL__COUNT; l++) {
        for (int i = 0; i < m->nvalues[l]; i++)
            free(m->values[l][i]);
        free(m->values[l]);
    }
    memset(m, 0, sizeof *m);
}

static int bad(ow_err *err, const char *path, const char *key, const char *want, const cJSON *v)
{
    char got[96];
    ow_json_quote(v, got, sizeof got);
    return ow_err_set(err, OW_EINVAL, "%s%s%s: expected %s, got %s", path, key ? "." : "",
                      key ? key : "", want, got);
}

/* "08:30" → minutes after midnight; "24:00" allowed when end. -1 when malformed. */
static int hhmm(const char *s, bool end)
{
    if (strlen(s) != 5 || s[2] != ':') return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9')) return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (m || !end))) return -1;
    return h * 60 + m;
}

static const char *const day_names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int parse_time(ow_calendar *c, const cJSON *v, const char *path, ow_err *err)
{
    char p[300];
    snprintf(p, sizeof p, "%s.time", path);
    if (!cJSON_IsObject(v)) return bad(err, p, NULL, "an object {utc_offset, days, from, to}", v);
    memset(c, 0, sizeof *c);
    c->weekdays = 0x7f;
    c->open_min = 0;
    c->close_min = 1440;
    for (const cJSON *k = v->child; k; k = k->next) {
        if (strcmp(k->string, "utc_offset") == 0) {
            const char *s = cJSON_IsString(k) ? k->valuestring : "";
            int mins = strlen(s) == 6 && (s[0] == '+' || s[0] == '-') ? hhmm(s + 1, false) : -1;
            if (mins < 0 || mins > 14 * 60) return bad(err, p, k->string, "\"+08:00\"-like", k);
            c->utc_offset_min = s[0] == '-' ? -mins : mins;
        } else if (strcmp(k->string, "days") == 0) {
            if (!cJSON_IsArray(k) || !k->child)
                return bad(err, p, k->string, "a list of mon|tue|wed|thu|fri|sat|sun", k);
            c->weekdays = 0;
            for (const cJSON *d = k->child; d; d = d->next) {
                int found = -1;
                for (int i = 0; i < 7 && cJSON_IsString(d); i++)
                    if (strcmp(d->valuestring, day_names[i]) == 0) found = i;
                if (found < 0)
                    return bad(err, p, k->string, "a list of mon|tue|wed|thu|fri|sat|sun", d);
                c->weekdays |= (uint8_t)(1u << found);
            }
        } else if (strcmp(k->string, "from") == 0 || strcmp(k->string, "to") == 0) {
            bool to = k->string[0] == 't';
            int mins = cJSON_IsString(k) ? hhmm(k->valuestring, to) : -1;
            if (mins < 0) return bad(err, p, k->string, "a time of day \"HH:MM\"", k);
            if (to)
                c->close_min = mins;
            else
                c->open_min = mins;
        } else {
            return ow_err_set(err, OW_EINVAL,
                              "%s.%s: unknown key (a typo?); known keys: utc_offset, days, from, "
                              "to",
                              p, k->string);
        }
    }
    if (c->open_min == c->close_min)
        return ow_err_set(err, OW_EINVAL, "%s: from and to are equal: the window is empty", p);
    return OW_OK;
}

static int add_value(ow_matcher *m, ow_label l, const cJSON *v, const char *path, ow_err *err)
{
    char text[OW_ID_BUF];
    if (l == OW_LBL_LEVEL) {
        int64_t x;
        if (!ow_json_int(v, 0, 3, &x))
            return bad(err, path, ow_label_name(l), "a level 0..3 or a list of them", v);
        snprintf(text, sizeof text, "%d", (int)x);
    } else {
        if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= sizeof text)
            return bad(err, path, ow_label_name(l), "a non-empty string or a list of them", v);
        snprintf(text, sizeof text, "%s", v->valuestring);
    }
    if (m->nvalues[l] >= OW_MATCH_VALUES_MAX)
        return ow_err_set(err, OW_EINVAL, "%s.%s: at most %d values", path, ow_label_name(l),
                          OW_MATCH_VALUES_MAX);
    char **nv = realloc(m->values[l], (size_t)(m->nvalues[l] + 1) * sizeof *nv);
    if (!nv) return ow_err_set(err, OW_ENOMEM, "out of memory");
    m->values[l] = nv;
    if (!(nv[m->nvalues[l]] = strdup(text))) return ow_err_set(err, OW_ENOMEM, "out of memory");
    m->nvalues[l]++;
    return OW_OK;
}

int ow_matcher_parse(ow_matcher *m, const cJSON *v, const char *path, ow_err *err)
{
    memset(m, 0, sizeof *m);
    if (!cJSON_IsObject(v)) return bad(err, path, NULL, "an object of label: value(s)", v);
    int rc = OW_OK;
    for (const cJSON *k = v->child; k && !rc; k = k->next) {
        if (strcmp(k->string, "time") == 0) {
            rc = parse_time(&m->time, k, path, err);
            m->has_time = true;
            continue;
        }
        int l = ow_label_parse(k->string);
        if (l < 0) {
            rc = ow_err_set(err, OW_EINVAL,
                            "%s.%s: unknown label (a typo?); known: kind, level, region, stage, "
                            "category, priority, flag, time",
                            path, k->string);
        } else if (m->values[l]) {
            rc = ow_err_set(err, OW_EINVAL, "%s.%s: given twice", path, k->string);
        } else if (cJSON_IsArray(k)) {
            if (!k->child) rc = bad(err, path, k->string, "a non-empty list", k);
            for (const cJSON *e = k->child; e && !rc; e = e->next)
                rc = add_value(m, (ow_label)l, e, path, err);
        } else {
            rc = add_value(m, (ow_label)l, k, path, err);
        }
    }
    if (rc) ow_matcher_fini(m);
    return rc;
}

bool ow_matcher_allows(const ow_matcher *m, ow_label l, const char *value)
{
    if (!m->values[l]) return true;
    for (int i = 0; i < m->nvalues[l]; i++)
        if (strcmp(m->values[l][i], value) == 0) return true;
    return false;
}

bool ow_calendar_contains(const ow_calendar *c, int64_t at_ms)
{
    int64_t local_min = at_ms / 60000 + c->utc_offset_min;
    if (at_ms < 0 && at_ms % 60000) local_min--; /* floor for instants before 1970 */
    int64_t day = local_min >= 0 ? local_min / 1440 : -((-local_min + 1439) / 1440);
    int minute = (int)(local_min - day * 1440);
    int weekday = (int)(((day % 7) + 7 + 3) % 7); /* 1970-01-01 was a Thursday: mon = 0 */
    if (!(c->weekdays & (1u << weekday))) return false;
    if (c->open_min < c->close_min) return minute >= c->open_min && minute < c->close_min;
    return minute >= c->open_min || minute < c->close_min; /* a window over midnight */
}

bool ow_matcher_match(const ow_matcher *m, const ow_nalert *a)
{
    for (int l = 0; l < OW_LBL__COUNT; l++)
        if (!ow_matcher_allows(m, (ow_label)l, a->label[l])) return false;
    return !m->has_time || ow_calendar_contains(&m->time, a->at_ms);
}

cJSON *ow_matcher_format(const ow_matcher *m)
{
    cJSON *o = cJSON_CreateObject();
    for (int l = 0; o && l < OW_LBL__COUNT; l++) {
        if (!m->values[l]) continue;
        cJSON *arr = cJSON_AddArrayToObject(o, ow_label_name((ow_label)l));
        for (int i = 0; arr && i < m->nvalues[l]; i++) {
            cJSON *s = l == OW_LBL_LEVEL ? cJSON_CreateNumber(atoi(m->values[l][i]))
                                         : cJSON_CreateString(m->values[l][i]);
            if (!s || !cJSON_AddItemToArray(arr, s)) {
                cJSON_Delete(s);
                arr = NULL;
            }
        }
        if (!arr) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    if (o && m->has_time) {
        const ow_calendar *c = &m->time;
        cJSON *t = cJSON_AddObjectToObject(o, "time"), *days;
        char off[8], from[8], to[8];
        int a = c->utc_offset_min < 0 ? -c->utc_offset_min : c->utc_offset_min;
        snprintf(off, sizeof off, "%c%02d:%02d", c->utc_offset_min < 0 ? '-' : '+', a / 60, a % 60);
        snprintf(from, sizeof from, "%02d:%02d", c->open_min / 60, c->open_min % 60);
        snprintf(to, sizeof to, "%02d:%02d", c->close_min / 60, c->close_min % 60);
        bool ok = t && cJSON_AddStringToObject(t, "utc_offset", off) &&
                  (days = cJSON_AddArrayToObject(t, "days"));
        for (int i = 0; ok && i < 7; i++)
            if (c->weekdays & (1u << i))
                ok = cJSON_AddItemToArray(days, cJSON_CreateString(day_names[i]));
        ok = ok && cJSON_AddStringToObject(t, "from", from) && cJSON_AddStringToObject(t, "to", to);
        if (!ok) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

#include "silence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "timefmt.h"

#define MAX_LEN_MS (30LL * 24 * 3600 * 1000)

void ow_silence_free(ow_silence *s)
{
    if (!s) return;
    ow_matcher_fini(&s->m);
    free(s);
}

static int time_member(const cJSON *root, const char *key, int64_t *out, bool *present, ow_err *err)
{
    const cJSON *v = ow_json_get(root, key);
    *present = v != NULL;
    if (!v) return OW_OK;
    ow_err terr;
    if (!cJSON_IsString(v) || ow_time_parse(v->valuestring, strlen(v->valuestring), out, &terr))
        return ow_err_set(err, OW_EINVAL, "%s: expected an RFC 3339 time with a zone", key);
    return OW_OK;
}

static int parse_common(const cJSON *root, ow_silence *s, bool stored, int64_t now_ms, ow_err *err)
{
    static const char *const api_keys[] = {"matchers", "starts_at", "ends_at",
                                           "duration", "comment",   NULL};
    static const char *const stored_keys[] = {"id",         "matchers",   "starts_at", "ends_at",
                                              "created_at", "created_by", "comment",   NULL};
    const char *const *keys = stored ? stored_keys : api_keys;
    if (!cJSON_IsObject(root)) return ow_err_set(err, OW_EINVAL, "expected a JSON object");
    for (const cJSON *k = root->child; k; k = k->next) {
        bool known = false;
        for (int i = 0; keys[i] && !known; i++)
            known = strcmp(keys[i], k->string) == 0;
        if (!known)
            return ow_err_set(err, OW_EINVAL,
                              "%s: unknown field; known: matchers, starts_at, ends_at, duration, "
                              "comment",
                              k->string);
    }
    const cJSON *m = ow_json_get(root, "matchers");
    if (!m) return ow_err_set(err, OW_EINVAL, "matchers: missing (e.g. {\"region\":\"north\"})");
    int rc = ow_matcher_parse(&s->m, m, "matchers", err);
    if (rc) return rc;
    bool any = s->m.has_time;
    for (int l = 0; l < OW_LBL__COUNT; l++)
        any = any || s->m.values[l];
    if (!any && !stored)
        return ow_err_set(err, OW_EINVAL,
                          "matchers: empty: a silence of every alert must name at least one label");
    const cJSON *c = ow_json_get(root, "comment");
    if (!cJSON_IsString(c) || !c->valuestring[0] || strlen(c->valuestring) >= sizeof s->comment)
        return ow_err_set(err, OW_EINVAL,
                          "comment: expected a non-empty string (why) of at most "
                          "1024 bytes");
    snprintf(s->comment, sizeof s->comment, "%s", c->valuestring);
    bool has_start, has_end;
    s->starts_ms = now_ms;
    if ((rc = time_member(root, "starts_at", &s->starts_ms, &has_start, err))) return rc;
    if ((rc = time_member(root, "ends_at", &s->ends_ms, &has_end, err))) return rc;
    const cJSON *d = ow_json_get(root, "duration");
    if (d) {
        int64_t ms;
        if (has_end)
            return ow_err_set(err, OW_EINVAL, "duration: give ends_at or duration, not both");
        if (!cJSON_IsString(d) || ow_duration_parse(d->valuestring, &ms, NULL) || ms <= 0)
            return ow_err_set(err, OW_EINVAL, "duration: expected a duration like \"2h\"");
        if (ms > MAX_LEN_MS) return ow_err_set(err, OW_EINVAL, "duration: at most 30d");
        s->ends_ms = s->starts_ms + ms;
    } else if (!has_end) {
        return ow_err_set(err, OW_EINVAL, "ends_at: missing (or give duration)");
    }
    if (s->ends_ms <= s->starts_ms)
        return ow_err_set(err, OW_EINVAL, "ends_at: must be after starts_at");
    if (s->ends_ms - s->starts_ms > MAX_LEN_MS)
        return ow_err_set(err, OW_EINVAL, "ends_at: a silence lasts at most 30d");
    return OW_OK;
}

int ow_silence_parse(const char *body, size_t len, const char *id, const char *by, int64_t now_ms,
                     ow_silence **out, ow_err *err)
{
    *out = NULL;
    if (len > OW_SILENCE_MAX_BYTES)
        return ow_err_set(err, OW_ETOOBIG, "body: %zu bytes, at most %d", len,
                          OW_SILENCE_MAX_BYTES);
    ow_err jerr;
    cJSON *root = ow_json_parse(body, len, 6, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "body: %s", jerr.msg);
    ow_silence *s = calloc(1, sizeof *s);
    int rc = s ? parse_common(root, s, false, now_ms, err) : ow_err_set(err, OW_ENOMEM, "oom");
    cJSON_Delete(root);
    if (rc) {
        ow_silence_free(s);
        return rc;
    }
    snprintf(s->id, sizeof s->id, "%s", id);
    snprintf(s->by, sizeof s->by, "%s", by);
    s->created_ms = now_ms;
    *out = s;
    return OW_OK;
}

int ow_silence_load(const char *text, size_t len, ow_silence **out, ow_err *err)
{
    *out = NULL;
    ow_err jerr;
    cJSON *root = ow_json_parse(text, len, 6, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "stored silence: %s", jerr.msg);
    ow_silence *s = calloc(1, sizeof *s);
    int rc = s ? parse_common(root, s, true, 0, err) : ow_err_set(err, OW_ENOMEM, "oom");
    const cJSON *id = ow_json_get(root, "id"), *by = ow_json_get(root, "created_by");
    bool has;
    if (!rc && (!cJSON_IsString(id) || strlen(id->valuestring) >= sizeof s->id))
        rc = ow_err_set(err, OW_EINVAL, "stored silence: bad id");
    if (!rc && (!cJSON_IsString(by) || strlen(by->valuestring) >= sizeof s->by))
        rc = ow_err_set(err, OW_EINVAL, "stored silence: bad created_by");
    if (!rc) rc = time_member(root, "created_at", &s->created_ms, &has, err);
    if (!rc) {
        snprintf(s->id, sizeof s->id, "%s", id->valuestring);
        snprintf(s->by, sizeof s->by, "%s", by->valuestring);
    }
    cJSON_Delete(root);
    if (rc) {
        ow_silence_free(s);
        return rc;
    }
    *out = s;
    return OW_OK;
}

char *ow_silence_format(const ow_silence *s)
{
    char a[OW_TIME_TEXT_MAX], b[OW_TIME_TEXT_MAX], c[OW_TIME_TEXT_MAX];
    ow_time_format(s->starts_ms, a);
    ow_time_format(s->ends_ms, b);
    ow_time_format(s->created_ms, c);
    cJSON *o = cJSON_CreateObject();
    cJSON *m = ow_matcher_format(&s->m);
    bool ok = o && m && cJSON_AddStringToObject(o, "id", s->id) &&
              cJSON_AddItemToObject(o, "matchers", m);
    if (!ok) cJSON_Delete(m);
    ok = ok && cJSON_AddStringToObject(o, "starts_at", a) &&
         cJSON_AddStringToObject(o, "ends_at", b) && cJSON_AddStringToObject(o, "created_at", c) &&
         cJSON_AddStringToObject(o, "created_by", s->by) &&
         cJSON_AddStringToObject(o, "comment", s->comment);
    char *text = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text) return NULL;
    char *copy = strdup(text);
    cJSON_free(text);
    return copy;
}

bool ow_silence_active(const ow_silence *s, int64_t now_ms)
{
    return now_ms >= s->starts_ms && now_ms < s->ends_ms;
}

bool ow_silence_covers(const ow_silence *s, const ow_nalert *a, int64_t now_ms)
{
    return ow_silence_active(s, now_ms) && ow_matcher_match(&s->m, a);
}

#include "delta.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

static char *print_copy(cJSON *root)
{
    char *text = cJSON_PrintUnformatted(root);
    if (!text) return NULL;
    char *copy = strdup(text);
    cJSON_free(text);
    return copy;
}

static cJSON *parse_typed(const char *text, size_t len, const char *type, const char *what,
                          int64_t *seq, ow_err *err)
{
    ow_err jerr;
    /* a delta holds snapshot members one level down, inside "set" */
    int depth = strcmp(type, "delta") == 0 ? OW_JSON_MAX_DEPTH + 1 : OW_JSON_MAX_DEPTH;
    cJSON *root = ow_json_parse(text, len, depth, &jerr);
    if (!root) {
        ow_err_set(err, OW_EINVAL, "%s: %s", what, jerr.msg);
        return NULL;
    }
    const cJSON *t = ow_json_get(root, "type");
    if (!cJSON_IsObject(root) || !cJSON_IsString(t) || strcmp(t->valuestring, type) != 0 ||
        !ow_json_int(ow_json_get(root, "seq"), 0, INT64_C(1) << 53, seq)) {
        ow_err_set(err, OW_EINVAL, "%s: expected an object with \"type\":\"%s\" and a \"seq\"",
                   what, type);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

char *ow_delta_make(const char *old_text, size_t old_len, const char *new_text, size_t new_len,
                    ow_err *err)
{
    int64_t old_seq, new_seq;
    cJSON *old = parse_typed(old_text, old_len, "snapshot", "delta: old snapshot", &old_seq, err);
    if (!old) return NULL;
    cJSON *neu = parse_typed(new_text, new_len, "snapshot", "delta: new snapshot", &new_seq, err);
    char *out = neu ? ow_delta_make_tree(old, neu, err) : NULL;
    cJSON_Delete(old);
    cJSON_Delete(neu);
    return out;
}

char *ow_delta_make_tree(const cJSON *old, const cJSON *neu, ow_err *err)
{
    int64_t old_seq, new_seq;
    if (!ow_json_int(ow_json_get(old, "seq"), 0, INT64_C(1) << 53, &old_seq) ||
        !ow_json_int(ow_json_get(neu, "seq"), 0, INT64_C(1) << 53, &new_seq)) {
        ow_err_set(err, OW_EINVAL, "delta: both snapshots need an integer \"seq\"");
        return NULL;
    }
    cJSON *d = cJSON_CreateObject(), *set = NULL, *del = NULL;
    bool ok = d && cJSON_AddNumberToObject(d, "v", 1) &&
              cJSON_AddStringToObject(d, "type", "delta") &&
              cJSON_AddNumberToObject(d, "seq", (double)new_seq) &&
              cJSON_AddNumberToObject(d, "base", (double)old_seq) &&
              (set = cJSON_AddObjectToObject(d, "set")) && (del = cJSON_AddArrayToObject(d, "del"));
    for (const cJSON *m = neu->child; ok && m; m = m->next) {
        if (strcmp(m->string, "seq") == 0 || strcmp(m->string, "type") == 0) continue;
        const cJSON *before = ow_json_get(old, m->string);
        /* raw members (text the engine wrote) compare as text, which is cheap and exact */
        if (before && cJSON_Compare(before, m, true)) continue;
        ok = cJSON_AddItemToObject(set, m->string, cJSON_Duplicate(m, true));
    }
    for (const cJSON *m = old->child; ok && m; m = m->next)
        if (!ow_json_get(neu, m->string))
            ok = cJSON_AddItemToArray(del, cJSON_CreateString(m->string));
    char *out = ok ? print_copy(d) : NULL;
    if (!out) ow_err_set(err, OW_ENOMEM, "delta: out of memory");
    cJSON_Delete(d);
    return out;
}

int ow_delta_apply_tree(cJSON *snap, int64_t *snap_seq, const cJSON *d, ow_err *err)
{
    int64_t seq, base;
    const cJSON *t = ow_json_get(d, "type");
    const cJSON *set = ow_json_get(d, "set"), *del = ow_json_get(d, "del");
    if (!cJSON_IsObject(d) || !cJSON_IsString(t) || strcmp(t->valuestring, "delta") != 0 ||
        !ow_json_int(ow_json_get(d, "seq"), 0, INT64_C(1) << 53, &seq) ||
        !ow_json_int(ow_json_get(d, "base"), 0, INT64_C(1) << 53, &base) || !cJSON_IsObject(set) ||
        !cJSON_IsArray(del))
        return ow_err_set(err, OW_EINVAL,
                          "delta: expected an object with \"type\":\"delta\", \"seq\", \"base\", "
                          "\"set\" (object) and \"del\" (array)");
    if (base != *snap_seq)
        return ow_err_set(err, OW_EAGAIN, "delta %lld applies to snapshot %lld, not %lld: resync",
                          (long long)seq, (long long)base, (long long)*snap_seq);
    /* copies first, so that running out of memory leaves the snapshot as it was */
    int n = cJSON_GetArraySize(set), i = 0;
    cJSON **copies = calloc((size_t)(n ? n : 1), sizeof *copies);
    cJSON *num = cJSON_CreateNumber((double)seq);
    bool ok = copies && num;
    for (const cJSON *m = set->child; ok && m; m = m->next, i++)
        ok = (copies[i] = cJSON_Duplicate(m, true)) != NULL;
    if (!ok) {
        for (int k = 0; copies && k < n; k++)
            cJSON_Delete(copies[k]);
        free(copies);
        cJSON_Delete(num);
        return ow_err_set(err, OW_ENOMEM, "delta: out of memory");
    }
    for (const cJSON *m = del->child; m; m = m->next)
        if (cJSON_IsString(m)) cJSON_DeleteItemFromObjectCaseSensitive(snap, m->valuestring);
    i = 0;
    for (const cJSON *m = set->child; m; m = m->next, i++) {
        if (ow_json_get(snap, m->string))
            cJSON_ReplaceItemInObjectCaseSensitive(snap, m->string, copies[i]);
        else
            cJSON_AddItemToObject(snap, m->string, copies[i]);
    }
    free(copies);
    /* the result is snapshot `seq`, whatever a malformed set or del did to its "seq" member */
    if (ow_json_get(snap, "seq"))
        cJSON_ReplaceItemInObjectCaseSensitive(snap, "seq", num);
    else
        cJSON_AddItemToObject(snap, "seq", num);
    *snap_seq = seq;
    return OW_OK;
}

char *ow_delta_apply(const char *snap_text, size_t snap_len, const char *delta_text,
                     size_t delta_len, ow_err *err)
{
    int64_t snap_seq, seq;
    cJSON *snap = parse_typed(snap_text, snap_len, "snapshot", "delta: snapshot", &snap_seq, err);
    if (!snap) return NULL;
    cJSON *d = parse_typed(delta_text, delta_len, "delta", "delta", &seq, err);
    char *out = NULL;
    if (d && ow_delta_apply_tree(snap, &snap_seq, d, err) == OW_OK) {
        out = print_copy(snap);
        if (!out) ow_err_set(err, OW_ENOMEM, "delta: out of memory");
    }
    cJSON_Delete(d);
    cJSON_Delete(snap);
    return out;
}

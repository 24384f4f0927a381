#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ow_json_utf8_valid(const char *s, size_t n, size_t *bad_off)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        /* ASCII, nearly all of it, eight bytes at a time */
        uint64_t w;
        while (n - i >= sizeof w) {
            memcpy(&w, p + i, sizeof w);
            if (w & UINT64_C(0x8080808080808080)) break;
            i += sizeof w;
        }
        if (i == n) break;
        unsigned c = p[i];
        size_t need;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            need = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3, cp = c & 0x07, min = 0x10000;
        } else {
            goto bad;
        }
        if (n - i <= need) goto bad;
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0) != 0x80) goto bad;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
        i += need + 1;
    }
    return true;
bad:
    if (bad_off) *bad_off = i;
    return false;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * One pass over the text for two checks made before cJSON sees it:
 *  - nesting: cJSON recurses, so the depth of brackets outside strings is bounded first. On
 *    depth > limit, *nest_at is where, and the scan stops (that error is reported first).
 *  - \u escapes: cJSON decodes one with non-hex digits ("\uZZZZ"), and "\u0000", to a NUL that
 *    silently ends the C string, so "ab\u0000cd" would read as "ab" and a key "type\u0000x" as
 *    "type". *esc_at is the first such escape inside a string.
 * Both are SIZE_MAX when not found. A backslash in a string skips the next byte; hex digits hold
 * no quote or bracket, so the string state is the same as skipping the whole escape.
 */
static void scan_structure(const char *s, size_t n, int limit, size_t *nest_at, size_t *esc_at)
{
    int depth = 0;
    bool in_str = false;
    *nest_at = *esc_at = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '"') {
                in_str = false;
            } else if (c == '\\') {
                if (i + 1 < n && s[i + 1] == 'u' && *esc_at == SIZE_MAX) {
                    bool hex = i + 5 < n && is_hex(s[i + 2]) && is_hex(s[i + 3]) &&
                               is_hex(s[i + 4]) && is_hex(s[i + 5]);
                    if (!hex || memcmp(s + i + 2, "0000", 4) == 0) *esc_at = i;
                }
                i++;
            }
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > limit) {
                *nest_at = i;
                return;
            }
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Objects of DUP_SORT_MIN members or more are checked by sorting their names (hostile objects
 * with thousands of keys stay O(n log n)); smaller ones, nearly all, by comparing each pair, which
 * costs less than the allocation. */
#define DUP_SORT_MIN 17

/* strcmp(a, b) == 0 without a library call: most names differ in their first bytes */
static inline bool same_name(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* The smallest (by strcmp) name that appears twice among v's members, or NULL. */
static const char *object_duplicate(const cJSON *v, size_t n)
{
    const char *dup = NULL;
    if (n < DUP_SORT_MIN) {
        for (const cJSON *a = v->child; a; a = a->next) {
            const char *an = a->string ? a->string : "";
            if (dup && strcmp(an, dup) >= 0) continue;
            for (const cJSON *b = a->next; b; b = b->next)
                if (same_name(an, b->string ? b->string : "")) {
                    dup = an;
                    break;
                }
        }
        return dup;
    }
    const char **names = malloc(n * sizeof *names);
    if (!names) return "(out of memory)";
    size_t i = 0;
    for (const cJSON *c = v->child; c; c = c->next)
        names[i++] = c->string ? c->string : "";
    qsort(names, n, sizeof *names, cmp_names);
    for (i = 1; i < n && !dup; i++)
        if (strcmp(names[i - 1], names[i]) == 0) dup = names[i];
    free(names);
    return dup;
}

static const char *find_duplicate_key(const cJSON *v)
{
    if (!v) return NULL;
    if (cJSON_IsObject(v)) {
        size_t n = 0;
        for (const cJSON *c = v->child; c; c = c->next)
            n++;
        const char *dup = n > 1 ? object_duplicate(v, n) : NULL;
        if (dup) return dup;
    }
    for (const cJSON *c = v->child; c; c = c->next) {
        const char *inner = find_duplicate_key(c);
        if (inner) return inner;
    }
    return NULL;
}

cJSON *ow_json_parse(const char *text, size_t len, int max_depth, ow_err *err)
{
    if (len == 0) {
        ow_err_set(err, OW_EINVAL, "empty input: expected a JSON value");
        return NULL;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        ow_err_set(err, OW_EINVAL, "NUL byte at offset %zu: JSON text must not contain NUL",
                   (size_t)(nul - text));
        return NULL;
    }
    size_t bad;
    if (!ow_json_utf8_valid(text, len, &bad)) {
        ow_err_set(err, OW_EINVAL, "invalid UTF-8 at byte offset %zu", bad);
        return NULL;
    }
    size_t nest_at, esc_at;
    scan_structure(text, len, max_depth, &nest_at, &esc_at);
    if (nest_at != SIZE_MAX) {
        ow_err_set(err, OW_EINVAL, "nesting deeper than %d at byte offset %zu", max_depth, nest_at);
        return NULL;
    }
    if (esc_at != SIZE_MAX) {
        ow_err_set(err, OW_EINVAL,
                   "bad \\u escape at byte offset %zu: expected 4 hex digits, not \\u0000", esc_at);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        size_t off = end ? (size_t)(end - text) : 0;
        ow_err_set(err, OW_EINVAL, "malformed JSON at byte offset %zu%s", off,
                   off >= len ? " (truncated?)" : "");
        return NULL;
    }
    size_t off = (size_t)(end - text);
    while (off < len && strchr(" \t\r\n", text[off]))
        off++;
    if (off < len) {
        ow_err_set(err, OW_EINVAL, "unexpected text after the JSON value at byte offset %zu", off);
        cJSON_Delete(root);
        return NULL;
    }
    const char *dup = find_duplicate_key(root);
    if (dup) {
        ow_err_set(err, OW_EINVAL, "duplicate key \"%.64s\": each key may appear once", dup);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

cJSON *ow_json_get(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

const char *ow_json_type_name(const cJSON *v)
{
    if (!v) return "nothing";
    if (cJSON_IsString(v)) return "string";
    if (cJSON_IsNumber(v)) return "number";
    if (cJSON_IsBool(v)) return "boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "array";
    if (cJSON_IsObject(v)) return "object";
    return "invalid";
}

bool ow_json_int(const cJSON *v, int64_t min, int64_t max, int64_t *out)
{
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max) return false;
    /* (double)INT64_MAX rounds up to 2^63, which does not fit in int64_t */
    if (d >= 9223372036854775808.0) return false;
    *out = (int64_t)d;
    return true;
}

void ow_json_quote(const cJSON *v, char *out, size_t n)
{
    char *s = v ? cJSON_PrintUnformatted(v) : NULL;
    if (!s) {
        snprintf(out, n, "%s", v ? "?" : "nothing");
        return;
    }
    size_t len = strlen(s);
    if (len < n) {
        memcpy(out, s, len + 1);
    } else {
        /* cut on a character boundary: a message must stay valid UTF-8 */
        size_t cut = n - 4;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
        memcpy(out, s, cut);
        memcpy(out + cut, "...", 4);
    }
    cJSON_free(s);
}

int ow_json_only_keys(const cJSON *obj, const char *const *keys, const char *path,
                      const char *source, ow_err *err)
{
    for (const cJSON *m = obj->child; m; m = m->next) {
        bool known = false;
        for (int i = 0; keys[i]; i++)
            known |= strcmp(keys[i], m->string) == 0;
        if (!known) {
            char list[400] = "";
            for (int i = 0; keys[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                         keys[i]);
            return ow_err_set(err, OW_EINVAL, "%s: %s%s%s: unknown key (a typo?); known keys: %s",
                              source, path, path[0] ? "." : "", m->string, list);
        }
    }
    return OW_OK;
}

#include "csvmap.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "json.h"
#include "jsonw.h"
#include "timefmt.h"
#include "tz.h"

#define MAP_MAX    1024 /* entries of one value map */
#define TEXT_MAX   256  /* bytes of a column name, value or name in the mapping */
#define PREFIX_MAX 32

typedef struct pair {
    char *key;
    int value;        /* enum value, or -1 */
    char *text_value; /* region_values: the region id */
} pair;

typedef struct vmap {
    pair *v;
    int n;
    int fallback; /* "*": value for anything not listed, -1 = none */
} vmap;

static const struct {
    const char *key;
    bool required;
} roles[OW_COL__COUNT] = {
#define OW_CSVMAP_ROW(e, k, req) {k, req},
    OW_CSVMAP_ROLES(OW_CSVMAP_ROW)
#undef OW_CSVMAP_ROW
};

static const char *const outcome_names[OW_OUTCOME__COUNT] = {"open", "resolved", "closed",
                                                             "cancelled"};

struct ow_csvmap {
    char source[TEXT_MAX];
    char name[TEXT_MAX];
    char id_prefix[PREFIX_MAX + 1];
    char time_zone[TEXT_MAX];
    char time_format[64];
    char resolved_by_default[OW_ID_BUF];
    char *column[OW_COL__COUNT]; /* NULL = role unused */
    int index[OW_COL__COUNT];    /* position in the header, after bind */
    vmap status, channel, prio_by_category, prio_values, region_values;
    int default_priority;
    bool bound;
};

static void vmap_free(vmap *m)
{
    for (int i = 0; i < m->n; i++) {
        free(m->v[i].key);
        free(m->v[i].text_value);
    }
    free(m->v);
}

void ow_csvmap_free(ow_csvmap *m)
{
    if (!m) return;
    for (int i = 0; i < OW_COL__COUNT; i++)
        free(m->column[i]);
    vmap_free(&m->status), vmap_free(&m->channel), vmap_free(&m->prio_by_category);
    vmap_free(&m->prio_values), vmap_free(&m->region_values);
    free(m);
}

static int bad(ow_err *err, const char *source, const char *path, const char *want, const cJSON *v)
{
    char got[96];
    if (v)
        ow_json_quote(v, got, sizeof got);
    else
        snprintf(got, sizeof got, "nothing (the key is missing)");
    return ow_err_set(err, OW_EINVAL, "%s: %s: expected %s, got %s", source, path, want, got);
}

static bool text_ok(const cJSON *v, size_t max)
{
    return cJSON_IsString(v) && v->valuestring[0] && strlen(v->valuestring) < max;
}

static int copy_text(const cJSON *obj, const char *key, bool required, char *out, size_t n,
                     const char *source, ow_err *err)
{
    const cJSON *v = ow_json_get(obj, key);
    if (!v && !required) return OW_OK;
    if (!text_ok(v, n)) {
        char want[64];
        snprintf(want, sizeof want, "a non-empty string of at most %zu bytes", n - 1);
        return bad(err, source, key, want, v);
    }
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return OW_OK;
}

/* Characters of UTF-8 text (bytes that do not continue a sequence): the contract's limits count
 * characters, so a Chinese category of 30 characters is fine. */
static size_t chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Ids and names of the event contract take no control characters (core/event.c): a row with one
 * is refused here, naming the column, rather than made into events the contract rejects. */
static bool has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return true;
    return false;
}

/* An id the event contract takes (tech_id and the like): 1 to OW_ID_MAX_CHARS characters of
 * UTF-8 without control characters. */
static bool id_usable(const char *s, size_t len)
{
    return len > 0 && len < OW_ID_BUF && chars(s, len) <= OW_ID_MAX_CHARS && !has_control(s, len) &&
           ow_json_utf8_valid(s, len, NULL);
}

/* An object of "value": name-of-enum (lookup gives the enum or -1), or of "value": text when
 * lookup is NULL. "*" sets the fallback when allow_star. */
static int vmap_parse(vmap *out, const cJSON *v, const char *path, int (*lookup)(const char *),
                      const char *want, bool allow_star, const char *source, ow_err *err)
{
    out->fallback = -1;
    if (!cJSON_IsObject(v)) return bad(err, source, path, "an object of value: name", v);
    int n = cJSON_GetArraySize(v);
    if (n > MAP_MAX)
        return ow_err_set(err, OW_EINVAL, "%s: %s: at most %d entries, got %d", source, path,
                          MAP_MAX, n);
    out->v = calloc(n ? (size_t)n : 1, sizeof *out->v);
    if (!out->v) return ow_err_set(err, OW_ENOMEM, "out of memory");
    for (const cJSON *e = v->child; e; e = e->next) {
        char p[TEXT_MAX * 2];
        snprintf(p, sizeof p, "%s.%s", path, e->string);
        if (strlen(e->string) >= TEXT_MAX)
            return ow_err_set(err, OW_EINVAL, "%s: %s: value longer than %d bytes", source, p,
                              TEXT_MAX - 1);
        int val = -1;
        if (lookup) {
            val = cJSON_IsString(e) ? lookup(e->valuestring) : -1;
            if (val < 0) return bad(err, source, p, want, e);
        } else if (!cJSON_IsString(e) || strlen(e->valuestring) >= OW_NAME_BUF ||
                   chars(e->valuestring, strlen(e->valuestring)) > OW_NAME_MAX_CHARS) {
            return bad(err, source, p, want, e); /* "" = no region: locate by coordinates */
        }
        if (allow_star && strcmp(e->string, "*") == 0) {
            out->fallback = val;
            continue;
        }
        pair *pr = &out->v[out->n++];
        pr->value = val;
        pr->key = strdup(e->string);
        pr->text_value = lookup ? NULL : strdup(e->valuestring);
        if (!pr->key || (!lookup && !pr->text_value))
            return ow_err_set(err, OW_ENOMEM, "out of memory");
    }
    return OW_OK;
}

static const pair *vmap_find(const vmap *m, const char *key)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->v[i].key, key) == 0) return &m->v[i];
    return NULL;
}

static int outcome_lookup(const char *s)
{
    for (int i = 0; i < OW_OUTCOME__COUNT; i++)
        if (strcmp(outcome_names[i], s) == 0) return i;
    return -1;
}

static int channel_lookup(const char *s)
{
    for (int c = OW_CH_PHONE; c < OW_CH__COUNT; c++)
        if (strcmp(ow_channel_name((ow_channel)c), s) == 0) return c;
    return -1;
}

/* The format may use %Y %m %d %H %I %M %S %p %f %% and literal text; it needs a date, and %I
 * needs %p. */
static bool time_format_ok(const char *f)
{
    bool Y = false, m = false, d = false, I = false, p = false, H = false;
    for (; *f; f++) {
        if (*f != '%') continue;
        switch (*++f) {
        case 'Y': Y = true; break;
        case 'm': m = true; break;
        case 'd': d = true; break;
        case 'H': H = true; break;
        case 'I': I = true; break;
        case 'p': p = true; break;
        case 'M':
        case 'S':
        case 'f':
        case '%': break;
        default: return false;
        }
    }
    return Y && m && d && I == p && !(I && H);
}

/* Zone names are file names under /usr/share/zoneinfo: letters, digits, / _ + -; no "..". */
int ow_csvmap_parse(const char *text, size_t len, const char *source, ow_csvmap **out, ow_err *err)
{
    static const char *const keys[] = {
        "name",          "id_prefix",           "time_zone",      "time_format",
        "columns",       "status_values",       "channel_values", "priority",
        "region_values", "resolved_by_default", "notes",          NULL};
    *out = NULL;
    ow_err jerr;
    cJSON *root = ow_json_parse(text, len, 6, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "%s: %s", source, jerr.msg);
    ow_csvmap *m = calloc(1, sizeof *m);
    int rc = OW_OK;
    if (!m) {
        rc = ow_err_set(err, OW_ENOMEM, "out of memory");
        goto out;
    }
    snprintf(m->source, sizeof m->source, "%s", source);
    m->status.fallback = m->channel.fallback = m->prio_by_category.fallback = -1;
    m->prio_values.fallback = m->region_values.fallback = -1;
    m->default_priority = OW_PRIO_GENERAL;
    if (!cJSON_IsObject(root)) {
        rc = bad(err, source, "(top level)", "an object", root);
        goto out;
    }
    if ((rc = ow_json_only_keys(root, keys, "", source, err)) ||
        (rc = copy_text(root, "name", true, m->name, sizeof m->name, source, err)) ||
        (rc = copy_text(root, "id_prefix", true, m->id_prefix, sizeof m->id_prefix, source, err)) ||
        (rc = copy_text(root, "time_zone", true, m->time_zone, sizeof m->time_zone, source, err)) ||
        (rc = copy_text(root, "time_format", true, m->time_format, sizeof m->time_format, source,
                        err)) ||
        (rc = copy_text(root, "resolved_by_default", false, m->resolved_by_default,
                        sizeof m->resolved_by_default, source, err)))
        goto out;
    for (const char *c = m->id_prefix; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_') {
            rc = bad(err, source, "id_prefix", "letters, digits, - and _ only",
                     ow_json_get(root, "id_prefix"));
            goto out;
        }
    if (!ow_tz_name_ok(m->time_zone)) {
        rc = bad(err, source, "time_zone", "a zone name like \"America/Los_Angeles\" or \"UTC\"",
                 ow_json_get(root, "time_zone"));
        goto out;
    }
    if (!time_format_ok(m->time_format)) {
        rc = bad(err, source, "time_format",
                 "a format of %Y %m %d %H|%I+%p %M %S %f and literal text, with a whole date",
                 ow_json_get(root, "time_format"));
        goto out;
    }
    if (!m->resolved_by_default[0]) snprintf(m->resolved_by_default, OW_ID_BUF, "%s", m->id_prefix);
    if (!id_usable(m->resolved_by_default, strlen(m->resolved_by_default))) {
        char want[96];
        snprintf(want, sizeof want, "a technician id of 1-%d characters without control characters",
                 OW_ID_MAX_CHARS);
        rc =
            bad(err, source, "resolved_by_default", want, ow_json_get(root, "resolved_by_default"));
        goto out;
    }

    const cJSON *cols = ow_json_get(root, "columns");
    if (!cJSON_IsObject(cols)) {
        rc = bad(err, source, "columns", "an object of role: column name", cols);
        goto out;
    }
    const char *role_keys[OW_COL__COUNT + 1];
    for (int i = 0; i < OW_COL__COUNT; i++)
        role_keys[i] = roles[i].key;
    role_keys[OW_COL__COUNT] = NULL;
    if ((rc = ow_json_only_keys(cols, role_keys, "columns", source, err))) goto out;
    for (int i = 0; i < OW_COL__COUNT; i++) {
        const cJSON *v = ow_json_get(cols, roles[i].key);
        char p[64];
        snprintf(p, sizeof p, "columns.%s", roles[i].key);
        if (!v && !roles[i].required) continue;
        if (!text_ok(v, TEXT_MAX)) {
            rc = bad(err, source, p, "the name of a column of the export", v);
            goto out;
        }
        if (!(m->column[i] = strdup(v->valuestring))) {
            rc = ow_err_set(err, OW_ENOMEM, "out of memory");
            goto out;
        }
    }
    if (!m->column[OW_COL_LAT] != !m->column[OW_COL_LON]) {
        rc = ow_err_set(err, OW_EINVAL,
                        "%s: columns: lat and lon go together (name both or neither)", source);
        goto out;
    }
    const cJSON *st = ow_json_get(root, "status_values");
    if (m->column[OW_COL_STATUS] || st) {
        if (!m->column[OW_COL_STATUS]) {
            rc = ow_err_set(err, OW_EINVAL, "%s: status_values: given, but columns.status is not",
                            source);
            goto out;
        }
        if ((rc = vmap_parse(&m->status, st, "status_values", outcome_lookup,
                             "one of open|resolved|closed|cancelled", true, source, err)))
            goto out;
    }
    const cJSON *ch = ow_json_get(root, "channel_values");
    if (ch && (rc = vmap_parse(&m->channel, ch, "channel_values", channel_lookup,
                               "one of phone|app|wechat|web|walkin|other", true, source, err)))
        goto out;
    const cJSON *rv = ow_json_get(root, "region_values");
    if (rv && (rc = vmap_parse(&m->region_values, rv, "region_values", NULL,
                               "a region id (up to 64 characters; \"\" = find it by the "
                               "coordinates)",
                               false, source, err)))
        goto out;
    const cJSON *pr = ow_json_get(root, "priority");
    if (pr) {
        static const char *const pkeys[] = {"default", "by_category", "values", NULL};
        if (!cJSON_IsObject(pr)) {
            rc = bad(err, source, "priority", "an object with default, by_category, values", pr);
            goto out;
        }
        if ((rc = ow_json_only_keys(pr, pkeys, "priority", source, err))) goto out;
        const cJSON *d = ow_json_get(pr, "default");
        if (d) {
            m->default_priority = cJSON_IsString(d) ? ow_priority_lookup(d->valuestring) : -1;
            if (m->default_priority < 0) {
                rc = bad(err, source, "priority.default", "one of emergency|important|general", d);
                goto out;
            }
        }
        const cJSON *bc = ow_json_get(pr, "by_category"), *pv = ow_json_get(pr, "values");
        if (bc &&
            (rc = vmap_parse(&m->prio_by_category, bc, "priority.by_category", ow_priority_lookup,
                             "one of emergency|important|general", false, source, err)))
            goto out;
        if (pv && (rc = vmap_parse(&m->prio_values, pv, "priority.values", ow_priority_lookup,
                                   "one of emergency|important|general", true, source, err)))
            goto out;
        if (pv && !m->column[OW_COL_PRIORITY]) {
            rc = ow_err_set(err, OW_EINVAL,
                            "%s: priority.values: given, but columns.priority is not", source);
            goto out;
        }
    }
out:
    cJSON_Delete(root);
    if (rc) {
        ow_csvmap_free(m);
        return rc;
    }
    *out = m;
    return OW_OK;
}

const char *ow_csvmap_time_zone(const ow_csvmap *m)
{
    return m->time_zone;
}

const char *ow_csvmap_name(const ow_csvmap *m)
{
    return m->name;
}

const char *ow_csvmap_column(const ow_csvmap *m, ow_csvmap_role role)
{
    return role < OW_COL__COUNT ? m->column[role] : NULL;
}

int ow_csvmap_bind(ow_csvmap *m, const ow_csv_record *h, const char *csv_source, ow_err *err)
{
    if (h->error)
        return ow_err_set(err, OW_EINVAL, "%s: header (line %lld): %s", csv_source,
                          (long long)h->line, h->error);
    for (int i = 0; i < OW_COL__COUNT; i++) {
        m->index[i] = -1;
        if (!m->column[i]) continue;
        int at = ow_csv_find(h, m->column[i]);
        if (at < 0) {
            char have[300] = "";
            for (size_t k = 0; k < h->nfields && strlen(have) < sizeof have - 70; k++)
                snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s", k ? ", " : "",
                         h->fields[k]);
            return ow_err_set(err, OW_EINVAL,
                              "%s: header: no column \"%s\" (named by %s: columns.%s); the "
                              "header has: %s%s",
                              csv_source, m->column[i], m->source, roles[i].key, have,
                              h->nfields > 0 && strlen(have) >= sizeof have - 70 ? ", ..." : "");
        }
        for (size_t k = (size_t)at + 1; k < h->nfields; k++)
            if (strcmp(h->fields[k], m->column[i]) == 0)
                return ow_err_set(err, OW_EINVAL,
                                  "%s: header: column \"%s\" (columns.%s in %s) appears twice "
                                  "(fields %d and %zu): which one is meant is unclear",
                                  csv_source, m->column[i], roles[i].key, m->source, at + 1, k + 1);
        m->index[i] = at;
    }
    m->bound = true;
    return OW_OK;
}

void ow_csvmap_row_init(ow_csvmap_row *r)
{
    memset(r, 0, sizeof *r);
    for (int i = 0; i < OW_CSVMAP_MAX_EVENTS; i++)
        ow_buf_init(&r->events[i]);
}

void ow_csvmap_row_fini(ow_csvmap_row *r)
{
    for (int i = 0; i < OW_CSVMAP_MAX_EVENTS; i++)
        ow_buf_fini(&r->events[i]);
}

/* ---- times ------------------------------------------------------------------------------ */

static bool digits(const char **s, const char *end, int min, int max, int64_t *v)
{
    int n = 0;
    int64_t x = 0;
    while (*s < end && n < max && **s >= '0' && **s <= '9')
        x = x * 10 + (*(*s)++ - '0'), n++;
    *v = x;
    return n >= min;
}

int ow_csvmap_time_parse(const char *fmt, const char *s, size_t len, int64_t *local_ms)
{
    const char *end = s + len;
    int64_t Y = -1, mo = -1, d = -1, H = 0, M = 0, S = 0, ms = 0, hour12 = -1;
    int pm = -1;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            if (s >= end || *s++ != *f) return OW_EINVAL;
            continue;
        }
        int64_t v;
        switch (*++f) {
        case 'Y':
            if (!digits(&s, end, 4, 4, &v)) return OW_EINVAL;
            Y = v;
            break;
        case 'm':
            if (!digits(&s, end, 1, 2, &v) || v < 1 || v > 12) return OW_EINVAL;
            mo = v;
            break;
        case 'd':
            if (!digits(&s, end, 1, 2, &v) || v < 1 || v > 31) return OW_EINVAL;
            d = v;
            break;
        case 'H':
            if (!digits(&s, end, 1, 2, &v) || v > 23) return OW_EINVAL;
            H = v;
            break;
        case 'I':
            if (!digits(&s, end, 1, 2, &v) || v < 1 || v > 12) return OW_EINVAL;
            hour12 = v;
            break;
        case 'M':
            if (!digits(&s, end, 2, 2, &v) || v > 59) return OW_EINVAL;
            M = v;
            break;
        case 'S':
            if (!digits(&s, end, 2, 2, &v) || v > 59) return OW_EINVAL;
            S = v;
            break;
        case 'f': {
            const char *from = s;
            if (!digits(&s, end, 1, 9, &v)) return OW_EINVAL;
            int n = (int)(s - from);
            while (n > 3)
                v /= 10, n--;
            while (n < 3)
                v *= 10, n++;
            ms = v;
            break;
        }
        case 'p':
            if (end - s < 2) return OW_EINVAL;
            if ((s[0] == 'A' || s[0] == 'a') && (s[1] == 'M' || s[1] == 'm'))
                pm = 0;
            else if ((s[0] == 'P' || s[0] == 'p') && (s[1] == 'M' || s[1] == 'm'))
                pm = 1;
            else
                return OW_EINVAL;
            s += 2;
            break;
        case '%':
            if (s >= end || *s++ != '%') return OW_EINVAL;
            break;
        default: return OW_EINVAL;
        }
    }
    if (s != end || Y < 0 || mo < 0 || d < 0) return OW_EINVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap)) return OW_EINVAL;
    if (hour12 >= 0) H = hour12 % 12 + (pm == 1 ? 12 : 0);
    int64_t days = ow_days_from_civil(Y, (unsigned)mo, (unsigned)d);
    *local_ms = ((days * 24 + H) * 60 + M) * 60000 + S * 1000 + ms;
    return OW_OK;
}

/* ---- rows ------------------------------------------------------------------------------- */

static const char *field(const ow_csvmap *m, const ow_csv_record *r, ow_csvmap_role role,
                         size_t *len)
{
    int i = m->index[role];
    if (i < 0 || (size_t)i >= r->nfields) {
        *len = 0;
        return "";
    }
    /* surrounding blanks are padding in most exports */
    const char *s = r->fields[i];
    size_t n = r->lens[i];
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    *len = n;
    return s;
}

/* The field as a NUL-terminated copy (cut to n-1 bytes). */
static void field_copy(const ow_csvmap *m, const ow_csv_record *r, ow_csvmap_role role, char *out,
                       size_t n)
{
    size_t len;
    const char *s = field(m, r, role, &len);
    if (len >= n) len = n - 1;
    memcpy(out, s, len);
    out[len] = '\0';
}

static int row_bad(ow_err *err, const ow_csvmap *m, ow_csvmap_role role, const char *what,
                   const char *value)
{
    return ow_err_set(err, OW_EINVAL, "%s: %s%s%.120s%s", m->column[role], what, value ? " \"" : "",
                      value ? value : "", value ? "\"" : "");
}

static int row_time(const ow_csvmap *m, const ow_csv_record *r, ow_csvmap_role role,
                    const ow_tz *tz, ow_csvmap_row *out, int64_t *utc_ms, ow_err *err)
{
    size_t len;
    const char *s = field(m, r, role, &len);
    int64_t local;
    if (ow_csvmap_time_parse(m->time_format, s, len, &local)) {
        char want[120], val[130];
        snprintf(want, sizeof want, "expected a time like \"%s\", got", m->time_format);
        snprintf(val, sizeof val, "%.*s", (int)(len > 120 ? 120 : len), s);
        return row_bad(err, m, role, want, val);
    }
    ow_tz_kind kind = OW_TZ_UNIQUE;
    *utc_ms = tz ? ow_tz_local_to_utc(tz, local, &kind) : local;
    out->ambiguous_times += kind == OW_TZ_AMBIGUOUS;
    out->gap_times += kind == OW_TZ_GAP;
    return OW_OK;
}

static bool coord(const char *s, size_t len, double lo, double hi, double *v)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    *v = strtod(buf, &end);
    return *end == '\0' && isfinite(*v) && *v >= lo && *v <= hi;
}

static void write_head(ow_jsonw *w, const ow_csvmap *m, const char *order_id, const char *kind,
                       int64_t ts, const char *type)
{
    char id[OW_ID_BUF + 64], t[OW_TIME_TEXT_MAX];
    snprintf(id, sizeof id, "%s:%s:%s", m->id_prefix, order_id, kind);
    ow_time_format(ts, t);
    ow_jsonw_open(w);
    ow_jsonw_key(w, "v"), ow_jsonw_int(w, 1);
    ow_jsonw_key(w, "id"), ow_jsonw_str(w, id);
    ow_jsonw_key(w, "ts"), ow_jsonw_str(w, t);
    ow_jsonw_key(w, "type"), ow_jsonw_str(w, type);
    ow_jsonw_key(w, "order_id"), ow_jsonw_str(w, order_id);
}

/* Move the writer's text into the row's next event slot. */
static int take(ow_jsonw *w, ow_csvmap_row *out)
{
    ow_jsonw_close(w);
    if (w->out.oom) return OW_ENOMEM;
    ow_buf *b = &out->events[out->nevents++];
    b->n = 0;
    ow_buf_put(b, w->out.p, w->out.n);
    ow_jsonw_reset(w);
    return b->oom ? OW_ENOMEM : OW_OK;
}

int ow_csvmap_row_make(const ow_csvmap *m, const ow_csv_record *r, const ow_tz *tz,
                       const ow_regions *regions, ow_csvmap_row *out, ow_err *err)
{
    out->nevents = 0;
    out->region[0] = out->order_id[0] = '\0';
    out->has_geo = out->located = out->outside_region = false;
    out->ambiguous_times = out->gap_times = 0;
    out->ended_ms = INT64_MIN;
    out->outcome = OW_OUTCOME_OPEN;
    if (r->error) return ow_err_set(err, OW_EINVAL, "%s", r->error);
    if (!m->bound) return ow_err_set(err, OW_EINVAL, "mapping not bound to a header");
    /* a row shorter than the header leaves the missing columns empty; longer is an error */
    size_t len;
    const char *s;

    s = field(m, r, OW_COL_ORDER_ID, &len);
    /* event ids are <prefix>:<order id>:<kind> and must fit the contract's 128 characters; ids
     * take no control characters (core/event.c): refused here, naming the column */
    size_t id_max = OW_ID_MAX_CHARS - strlen(m->id_prefix) - sizeof ":" - sizeof ":cancelled" + 2;
    if (len == 0 || len >= OW_ID_BUF || chars(s, len) > id_max || has_control(s, len)) {
        char want[96];
        snprintf(want, sizeof want,
                 "expected an id of 1-%zu characters without control characters, got", id_max);
        return row_bad(err, m, OW_COL_ORDER_ID, want, s);
    }
    field_copy(m, r, OW_COL_ORDER_ID, out->order_id, sizeof out->order_id);

    int rc = row_time(m, r, OW_COL_CREATED, tz, out, &out->created_ms, err);
    if (rc) return rc;

    char category[OW_NAME_BUF];
    s = field(m, r, OW_COL_CATEGORY, &len);
    if (len == 0 || len >= OW_NAME_BUF || chars(s, len) > OW_NAME_MAX_CHARS || has_control(s, len))
        return row_bad(err, m, OW_COL_CATEGORY,
                       "expected a category of 1-64 characters without control characters, got", s);
    field_copy(m, r, OW_COL_CATEGORY, category, sizeof category);

    int prio = m->default_priority;
    const pair *p = vmap_find(&m->prio_by_category, category);
    if (p) prio = p->value;
    if (m->column[OW_COL_PRIORITY]) {
        char v[TEXT_MAX];
        field_copy(m, r, OW_COL_PRIORITY, v, sizeof v);
        const pair *pv = vmap_find(&m->prio_values, v);
        if (pv)
            prio = pv->value;
        else if (m->prio_values.fallback >= 0)
            prio = m->prio_values.fallback;
        else if (v[0])
            return row_bad(err, m, OW_COL_PRIORITY,
                           "value not in the mapping's priority.values:", v);
    }

    int channel = -1;
    if (m->column[OW_COL_CHANNEL]) {
        char v[TEXT_MAX];
        field_copy(m, r, OW_COL_CHANNEL, v, sizeof v);
        const pair *pc = vmap_find(&m->channel, v);
        if (pc)
            channel = pc->value;
        else if (m->channel.fallback >= 0)
            channel = m->channel.fallback;
        else if (v[0])
            return row_bad(err, m, OW_COL_CHANNEL,
                           "value not in the mapping's channel_values (add it, or \"*\"):", v);
    }

    double lat = 0, lon = 0;
    if (m->column[OW_COL_LAT]) {
        size_t llat, llon;
        const char *slat = field(m, r, OW_COL_LAT, &llat), *slon = field(m, r, OW_COL_LON, &llon);
        if (llat || llon) {
            char v[130];
            if (!coord(slat, llat, -90, 90, &lat)) {
                snprintf(v, sizeof v, "%.*s", (int)(llat > 120 ? 120 : llat), slat);
                return row_bad(err, m, OW_COL_LAT, "expected a latitude from -90 to 90, got", v);
            }
            if (!coord(slon, llon, -180, 180, &lon)) {
                snprintf(v, sizeof v, "%.*s", (int)(llon > 120 ? 120 : llon), slon);
                return row_bad(err, m, OW_COL_LON, "expected a longitude from -180 to 180, got", v);
            }
            out->has_geo = true;
        }
    }

    /* region: the column's value (through region_values), else the polygon around the point */
    if (m->column[OW_COL_REGION]) {
        char v[TEXT_MAX];
        field_copy(m, r, OW_COL_REGION, v, sizeof v);
        const pair *blank = v[0] ? vmap_find(&m->region_values, v) : NULL;
        if (blank && !blank->text_value[0]) v[0] = '\0'; /* a value that means "unknown" */
        if (v[0]) {
            const pair *pr = vmap_find(&m->region_values, v);
            if (pr)
                snprintf(out->region, sizeof out->region, "%s", pr->text_value);
            else if (strlen(v) < OW_NAME_BUF && chars(v, strlen(v)) <= OW_NAME_MAX_CHARS &&
                     !has_control(v, strlen(v)))
                snprintf(out->region, sizeof out->region, "%s", v);
            else
                return row_bad(err, m, OW_COL_REGION,
                               "expected a region of 1-64 characters without control characters, "
                               "got",
                               v);
            int at = regions ? ow_regions_find(regions, out->region) : 0;
            if (at < 0)
                return row_bad(err, m, OW_COL_REGION,
                               "no region of the city's GeoJSON has this name:", v);
            if (regions && out->has_geo && ow_regions_locate(regions, lon, lat) != at)
                out->outside_region = true;
        }
    }
    if (!out->region[0]) {
        if (!out->has_geo || !regions) {
            if (m->column[OW_COL_REGION])
                return row_bad(err, m, OW_COL_REGION,
                               out->has_geo ? "empty, and no city regions to locate the "
                                              "coordinates in"
                                            : "empty, and the row has no coordinates to find "
                                              "the region by",
                               NULL);
            return ow_err_set(err, OW_EINVAL, "%s: no coordinates to find the region by",
                              m->column[OW_COL_LAT] ? m->column[OW_COL_LAT] : "lat/lon");
        }
        int at = ow_regions_locate(regions, lon, lat);
        if (at < 0) {
            char v[80];
            snprintf(v, sizeof v, "%.6f, %.6f", lat, lon);
            return row_bad(err, m, OW_COL_LAT,
                           "the point lies in no region of the city (and the region column is "
                           "empty):",
                           v);
        }
        snprintf(out->region, sizeof out->region, "%s", regions->v[at].id);
        out->located = true;
    }

    /* the outcome, and when it happened */
    if (m->column[OW_COL_STATUS]) {
        char v[TEXT_MAX];
        field_copy(m, r, OW_COL_STATUS, v, sizeof v);
        const pair *ps = vmap_find(&m->status, v);
        if (ps)
            out->outcome = (ow_csv_outcome)ps->value;
        else if (m->status.fallback >= 0)
            out->outcome = (ow_csv_outcome)m->status.fallback;
        else
            return row_bad(err, m, OW_COL_STATUS,
                           "value not in the mapping's status_values (add it, or \"*\"):", v);
    } else {
        size_t lc = 0;
        if (m->column[OW_COL_CLOSED]) field(m, r, OW_COL_CLOSED, &lc);
        out->outcome = lc ? OW_OUTCOME_CLOSED : OW_OUTCOME_OPEN;
    }
    if (out->outcome != OW_OUTCOME_OPEN) {
        size_t lc = 0;
        if (m->column[OW_COL_CLOSED]) field(m, r, OW_COL_CLOSED, &lc);
        if (!lc) {
            char v[TEXT_MAX + 40];
            snprintf(v, sizeof v, "empty, but %s says %s",
                     m->column[OW_COL_STATUS] ? m->column[OW_COL_STATUS] : "the status",
                     outcome_names[out->outcome]);
            return row_bad(err, m, m->column[OW_COL_CLOSED] ? OW_COL_CLOSED : OW_COL_CREATED, v,
                           NULL);
        }
        if ((rc = row_time(m, r, OW_COL_CLOSED, tz, out, &out->ended_ms, err))) return rc;
        if (out->ended_ms < out->created_ms) {
            char v[300];
            size_t l1, l2;
            const char *c1 = field(m, r, OW_COL_CLOSED, &l1),
                       *c0 = field(m, r, OW_COL_CREATED, &l2);
            snprintf(v, sizeof v, "%.*s is before %s %.*s", (int)(l1 > 60 ? 60 : l1), c1,
                     m->column[OW_COL_CREATED], (int)(l2 > 60 ? 60 : l2), c0);
            return row_bad(err, m, OW_COL_CLOSED, v, NULL);
        }
    }

    /* the events */
    ow_jsonw w;
    ow_jsonw_init(&w);
    write_head(&w, m, out->order_id, "created", out->created_ms, "order.created");
    ow_jsonw_key(&w, "priority"), ow_jsonw_str(&w, ow_priority_name((ow_priority)prio));
    ow_jsonw_key(&w, "category"), ow_jsonw_str(&w, category);
    ow_jsonw_key(&w, "region"), ow_jsonw_str(&w, out->region);
    if (channel >= 0) ow_jsonw_key(&w, "channel"), ow_jsonw_str(&w, ow_channel_name(channel));
    if (out->has_geo) {
        char num[64];
        snprintf(num, sizeof num, "%.7f", lat);
        ow_jsonw_key(&w, "lat"), ow_jsonw_raw(&w, num);
        snprintf(num, sizeof num, "%.7f", lon);
        ow_jsonw_key(&w, "lon"), ow_jsonw_raw(&w, num);
    }
    if (m->column[OW_COL_ADDRESS]) {
        char addr[OW_REASON_BUF];
        field_copy(m, r, OW_COL_ADDRESS, addr, sizeof addr);
        /* optional: an address the contract would refuse (bad UTF-8, control characters) is
         * left out rather than losing the order */
        if (addr[0] && ow_json_utf8_valid(addr, strlen(addr), NULL) &&
            !has_control(addr, strlen(addr)))
            ow_jsonw_key(&w, "address"), ow_jsonw_str(&w, addr);
    }
    rc = take(&w, out);
    if (!rc && (out->outcome == OW_OUTCOME_RESOLVED || out->outcome == OW_OUTCOME_CLOSED)) {
        /* optional, like the address: a resolver the contract would refuse (empty, longer than
         * an id, bad UTF-8, control characters) gives way to the default rather than losing the
         * order */
        char by[OW_ID_BUF];
        size_t blen = 0;
        const char *b = m->column[OW_COL_RESOLVED_BY] ? field(m, r, OW_COL_RESOLVED_BY, &blen) : "";
        if (id_usable(b, blen))
            snprintf(by, sizeof by, "%.*s", (int)blen, b);
        else
            snprintf(by, sizeof by, "%s", m->resolved_by_default);
        write_head(&w, m, out->order_id, "resolved", out->ended_ms, "order.resolved");
        ow_jsonw_key(&w, "tech_id"), ow_jsonw_str(&w, by);
        rc = take(&w, out);
    }
    if (!rc && out->outcome == OW_OUTCOME_CLOSED) {
        write_head(&w, m, out->order_id, "closed", out->ended_ms, "order.closed");
        rc = take(&w, out);
    }
    if (!rc && out->outcome == OW_OUTCOME_CANCELLED) {
        write_head(&w, m, out->order_id, "cancelled", out->ended_ms, "order.cancelled");
        rc = take(&w, out);
    }
    ow_jsonw_fini(&w);
    if (rc) return ow_err_set(err, rc, "out of memory");
    return OW_OK;
}

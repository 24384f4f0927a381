#include "event.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "timefmt.h"

/* ---- wire names of the enumerations (index = enum value) ---- */

static const char *const type_names[] = {
#define OW_EV_NAME(e, name) name,
    OW_EVENT_TYPES(OW_EV_NAME)
#undef OW_EV_NAME
        NULL};
static const char *const priority_names[] = {"emergency", "important", "general", NULL};
static const char *const channel_names[] = {"none", "phone",  "app",   "wechat",
                                            "web",  "walkin", "other", NULL};
static const char *const segment_names[] = {"standard",   "vip",    "elderly",
                                            "enterprise", "public", NULL};
static const char *const pause_names[] = {"awaiting_parts", "customer_unavailable", "other", NULL};
static const char *const severity_names[] = {"urgent", "normal", NULL};
static const char *const status_names[] = {"offline", "idle", "enroute", "onsite", "break", NULL};

/* strcmp(a, b) == 0 for the short names of the tables, without a library call per name */
static inline bool same_name(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static int lookup(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (same_name(names[i], s)) return i;
    return -1;
}

static const char *name_of(const char *const *names, int count, int v)
{
    return v >= 0 && v < count ? names[v] : "?";
}

const char *ow_event_type_name(ow_event_type t)
{
    return name_of(type_names, OW_EV__COUNT, (int)t);
}
const char *ow_priority_name(ow_priority p)
{
    return name_of(priority_names, OW_PRIO__COUNT, (int)p);
}
const char *ow_channel_name(ow_channel c)
{
    return name_of(channel_names, OW_CH__COUNT, (int)c);
}
const char *ow_segment_name(ow_segment s)
{
    return name_of(segment_names, OW_SEG__COUNT, (int)s);
}
const char *ow_tech_status_name(ow_tech_status s)
{
    return name_of(status_names, OW_TECH__COUNT, (int)s);
}
int ow_event_type_lookup(const char *name)
{
    return lookup(type_names, name);
}
int ow_priority_lookup(const char *name)
{
    return lookup(priority_names, name);
}

bool ow_event_is_order(ow_event_type t)
{
    return t >= OW_EV_ORDER_CREATED && t <= OW_EV_ORDER_REOPENED;
}

uint64_t ow_address_key(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c <= ' ' || strchr("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c)) continue;
            if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        }
        h = (h ^ c) * 1099511628211ULL;
    }
    return h;
}

/* ---- the field table: every field the contract knows, how it is checked and where it goes ---- */

typedef enum {
    K_TEXT,    /* string of lo..hi characters, copied to a buffer (off) or just checked (off=0) */
    K_ADDRESS, /* string, stored as address_key */
    K_ENUM,    /* string from `choices`, stored as int */
    K_REAL,    /* number in [lo, hi], stored as double */
    K_INT,     /* integer in [lo, hi], stored as int (size 4) or int64 (size 8) */
    K_BOOL,    /* boolean, stored as bool, with has-flag at off2 */
    K_LIST,    /* array of 1..64-char strings, at most hi items; count at off2, items at off */
} kind;

typedef struct {
    const char *name;
    kind kind;
    size_t off, size, off2;
    int64_t lo, hi;
    const char *const *choices;
    const char *choices_text;
} field_spec;

#define AT(f)   offsetof(ow_event, f), sizeof(((ow_event *)0)->f)
#define NOWHERE 0, 0

enum {
    F_ORDER_ID,
    F_TECH_ID,
    F_COMPLAINT_ID,
    F_PRIORITY,
    F_CATEGORY,
    F_REGION,
    F_LAT,
    F_LON,
    F_ADDRESS,
    F_CHANNEL,
    F_CUSTOMER_ID,
    F_SEGMENT,
    F_SKILL,
    F_NOTE,
    F_ETA_S,
    F_PAUSE_REASON,
    F_SKU,
    F_FIRST_VISIT_FIX,
    F_PARTS,
    F_SCORE,
    F_NPS,
    F_COMPLAINT,
    F_REASON,
    F_SEVERITY,
    F_STATUS,
    F_SKILLS,
    F_NAME,
    F_DEPOT,
    F_QTY,
    F__COUNT
};

static const field_spec fields[F__COUNT] = {
    [F_ORDER_ID] = {"order_id", K_TEXT, AT(order_id), 0, 1, OW_ID_MAX_CHARS, NULL, NULL},
    [F_TECH_ID] = {"tech_id", K_TEXT, AT(tech_id), 0, 1, OW_ID_MAX_CHARS, NULL, NULL},
    [F_COMPLAINT_ID] = {"complaint_id", K_TEXT, AT(complaint_id), 0, 1, OW_ID_MAX_CHARS, NULL,
                        NULL},
    [F_PRIORITY] = {"priority", K_ENUM, AT(priority), 0, 0, 0, priority_names,
                    "emergency|important|general"},
    [F_CATEGORY] = {"category", K_TEXT, AT(category), 0, 1, OW_NAME_MAX_CHARS, NULL, NULL},
    [F_REGION] = {"region", K_TEXT, AT(region), 0, 1, OW_NAME_MAX_CHARS, NULL, NULL},
    [F_LAT] = {"lat", K_REAL, AT(lat), 0, -90, 90, NULL, NULL},
    [F_LON] = {"lon", K_REAL, AT(lon), 0, -180, 180, NULL, NULL},
    [F_ADDRESS] = {"address", K_ADDRESS, NOWHERE, 0, 1, 1024, NULL, NULL},
    [F_CHANNEL] = {"channel", K_ENUM, AT(channel), 0, 1, 0, channel_names,
                   "phone|app|wechat|web|walkin|other"},
    [F_CUSTOMER_ID] = {"customer_id", K_TEXT, AT(customer_id), 0, 1, OW_ID_MAX_CHARS, NULL, NULL},
    [F_SEGMENT] = {"segment", K_ENUM, AT(segment), 0, 0, 0, segment_names,
                   "standard|vip|elderly|enterprise|public"},
    [F_SKILL] = {"skill", K_TEXT, AT(skill), 0, 1, OW_NAME_MAX_CHARS, NULL, NULL},
    [F_NOTE] = {"note", K_TEXT, NOWHERE, 0, 0, 4096, NULL, NULL},
    [F_ETA_S] = {"eta_s", K_INT, AT(eta_s), 0, 0, 7 * 86400, NULL, NULL},
    [F_PAUSE_REASON] = {"reason", K_ENUM, AT(pause_reason), 0, 0, 0, pause_names,
                        "awaiting_parts|customer_unavailable|other"},
    [F_SKU] = {"sku", K_TEXT, AT(sku), 0, 1, OW_NAME_MAX_CHARS, NULL, NULL},
    [F_FIRST_VISIT_FIX] = {"first_visit_fix", K_BOOL, AT(first_visit_fix),
                           offsetof(ow_event, has_first_visit_fix), 0, 0, NULL, NULL},
    [F_PARTS] = {"parts", K_LIST, NOWHERE, offsetof(ow_event, nparts), 0, OW_PARTS_MAX, NULL, NULL},
    [F_SCORE] = {"score", K_INT, AT(score), 0, 1, 5, NULL, NULL},
    [F_NPS] = {"nps", K_INT, AT(nps), 0, 0, 10, NULL, NULL},
    [F_COMPLAINT] = {"complaint", K_BOOL, AT(complaint), offsetof(ow_event, has_complaint), 0, 0,
                     NULL, NULL},
    [F_REASON] = {"reason", K_TEXT, AT(reason), 0, 0, OW_REASON_MAX_CHARS, NULL, NULL},
    [F_SEVERITY] = {"severity", K_ENUM, AT(severity), 0, 0, 0, severity_names, "urgent|normal"},
    [F_STATUS] = {"status", K_ENUM, AT(status), 0, 0, 0, status_names,
                  "offline|idle|enroute|onsite|break"},
    [F_SKILLS] = {"skills", K_LIST, AT(skills), offsetof(ow_event, nskills), 0, OW_SKILLS_MAX, NULL,
                  NULL},
    [F_NAME] = {"name", K_TEXT, AT(name), 0, 1, OW_NAME_MAX_CHARS, NULL, NULL},
    [F_DEPOT] = {"depot", K_TEXT, AT(depot), 0, 1, OW_NAME_MAX_CHARS, NULL, NULL},
    [F_QTY] = {"qty", K_INT, AT(qty), 0, 0, INT32_MAX, NULL, NULL},
};

#define B(f) (1ULL << (f))

/* ---- the type table: required and optional fields of each event type (DESIGN §3) ---- */
static const struct {
    uint64_t required, optional;
} types[OW_EV__COUNT] = {
    [OW_EV_ORDER_CREATED] = {B(F_ORDER_ID) | B(F_PRIORITY) | B(F_CATEGORY) | B(F_REGION),
                             B(F_LAT) | B(F_LON) | B(F_ADDRESS) | B(F_CHANNEL) | B(F_CUSTOMER_ID) |
                                 B(F_SEGMENT) | B(F_SKILL) | B(F_NOTE)},
    [OW_EV_ORDER_DISPATCHED] = {B(F_ORDER_ID) | B(F_TECH_ID), 0},
    [OW_EV_ORDER_ACCEPTED] = {B(F_ORDER_ID) | B(F_TECH_ID), 0},
    [OW_EV_ORDER_DEPARTED] = {B(F_ORDER_ID) | B(F_TECH_ID), B(F_ETA_S)},
    [OW_EV_ORDER_ARRIVED] = {B(F_ORDER_ID) | B(F_TECH_ID), 0},
    [OW_EV_ORDER_PAUSED] = {B(F_ORDER_ID) | B(F_PAUSE_REASON), B(F_SKU)},
    [OW_EV_ORDER_RESUMED] = {B(F_ORDER_ID), 0},
    [OW_EV_ORDER_RESOLVED] = {B(F_ORDER_ID) | B(F_TECH_ID), B(F_FIRST_VISIT_FIX) | B(F_PARTS)},
    [OW_EV_ORDER_CALLBACK] = {B(F_ORDER_ID) | B(F_SCORE), B(F_NPS) | B(F_COMPLAINT) | B(F_REASON)},
    [OW_EV_ORDER_CLOSED] = {B(F_ORDER_ID), 0},
    [OW_EV_ORDER_CANCELLED] = {B(F_ORDER_ID), B(F_REASON)},
    [OW_EV_ORDER_REOPENED] = {B(F_ORDER_ID), B(F_REASON)},
    [OW_EV_COMPLAINT_CREATED] = {B(F_COMPLAINT_ID) | B(F_SEVERITY) | B(F_CATEGORY),
                                 B(F_ORDER_ID) | B(F_REGION)},
    [OW_EV_COMPLAINT_RESPONDED] = {B(F_COMPLAINT_ID), 0},
    [OW_EV_TECH_STATUS] = {B(F_TECH_ID) | B(F_STATUS), B(F_REGION) | B(F_SKILLS) | B(F_NAME)},
    [OW_EV_TECH_LOCATION] = {B(F_TECH_ID) | B(F_LAT) | B(F_LON), 0},
    [OW_EV_PARTS_STOCK] = {B(F_DEPOT) | B(F_SKU) | B(F_QTY), 0},
};

/* ---- decoding ---- */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80) n++;
    return n;
}

static int field_error(ow_err *err, const char *type, const char *field, const char *want,
                       const cJSON *got)
{
    char shown[96];
    ow_json_quote(got, shown, sizeof shown);
    return ow_err_set(err, OW_EINVAL, "%s: field \"%s\": expected %s, got %s", type, field, want,
                      shown);
}

/* What a field expects, for its error message; written only when a value is wrong. */
static const char *field_want(const field_spec *f, char *buf, size_t n)
{
    switch (f->kind) {
    case K_TEXT:
    case K_ADDRESS:
        snprintf(buf, n, "a string of %lld to %lld characters", (long long)f->lo, (long long)f->hi);
        break;
    case K_ENUM: snprintf(buf, n, "one of %s", f->choices_text); break;
    case K_REAL:
        snprintf(buf, n, "a number from %lld to %lld", (long long)f->lo, (long long)f->hi);
        break;
    case K_INT:
        snprintf(buf, n, "an integer from %lld to %lld", (long long)f->lo, (long long)f->hi);
        break;
    case K_BOOL: snprintf(buf, n, "true or false"); break;
    case K_LIST:
        snprintf(buf, n, "an array of at most %lld strings of 1 to %d characters", (long long)f->hi,
                 OW_NAME_MAX_CHARS);
        break;
    }
    return buf;
}

static int wrong_value(ow_err *err, const char *type, const field_spec *f, const cJSON *got)
{
    char want[128];
    return field_error(err, type, f->name, field_want(f, want, sizeof want), got);
}

/* Checks a string of lo..hi characters with no control characters; copies it if buf. */
static int text_value(const char *type, const field_spec *f, const cJSON *v, char *buf,
                      size_t bufsize, ow_err *err)
{
    if (!cJSON_IsString(v)) return wrong_value(err, type, f, v);
    size_t n = utf8_chars(v->valuestring);
    if ((int64_t)n < f->lo || (int64_t)n > f->hi) return wrong_value(err, type, f, v);
    /* Ids and names (at most OW_ID_MAX_CHARS) take no control characters; free text (notes,
     * reasons, addresses) may hold tabs and line breaks. */
    bool free_text = f->hi > OW_ID_MAX_CHARS;
    for (const char *p = v->valuestring; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 || c == 0x7F) && !(free_text && (c == '\t' || c == '\n' || c == '\r')))
            return field_error(err, type, f->name, "text without control characters", v);
    }
    if (buf) {
        size_t len = strlen(v->valuestring);
        if (len >= bufsize) return wrong_value(err, type, f, v);
        memcpy(buf, v->valuestring, len + 1);
    }
    return OW_OK;
}

static int decode_field(const char *type, const field_spec *f, const cJSON *v, ow_event *ev,
                        ow_err *err)
{
    char *base = (char *)ev;
    switch (f->kind) {
    case K_TEXT: return text_value(type, f, v, f->off ? base + f->off : NULL, f->size, err);
    case K_ADDRESS: {
        int rc = text_value(type, f, v, NULL, 0, err);
        if (rc) return rc;
        ev->has_address = true;
        ev->address_key = ow_address_key(v->valuestring, strlen(v->valuestring));
        return OW_OK;
    }
    case K_ENUM: {
        int i = cJSON_IsString(v) ? lookup(f->choices, v->valuestring) : -1;
        if (i < (int)f->lo) return wrong_value(err, type, f, v); /* lo skips "none" */
        memcpy(base + f->off, &i, sizeof i);
        return OW_OK;
    }
    case K_REAL: {
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)f->lo) ||
            !(v->valuedouble <= (double)f->hi))
            return wrong_value(err, type, f, v);
        memcpy(base + f->off, &v->valuedouble, sizeof(double));
        return OW_OK;
    }
    case K_INT: {
        int64_t x;
        if (!ow_json_int(v, f->lo, f->hi, &x)) return wrong_value(err, type, f, v);
        if (f->size == sizeof(int)) {
            int i = (int)x;
            memcpy(base + f->off, &i, sizeof i);
        } else {
            memcpy(base + f->off, &x, sizeof x);
        }
        return OW_OK;
    }
    case K_BOOL: {
        if (!cJSON_IsBool(v)) return wrong_value(err, type, f, v);
        bool b = cJSON_IsTrue(v), yes = true;
        memcpy(base + f->off, &b, sizeof b);
        memcpy(base + f->off2, &yes, sizeof yes);
        return OW_OK;
    }
    case K_LIST: {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > f->hi) return wrong_value(err, type, f, v);
        int n = 0;
        const field_spec item = {f->name, K_TEXT, 0, 0, 0, 1, OW_NAME_MAX_CHARS, NULL, NULL};
        for (const cJSON *it = v->child; it; it = it->next, n++) {
            char *buf = f->off ? base + f->off + (size_t)n * OW_NAME_BUF : NULL;
            if (text_value(type, &item, it, buf, OW_NAME_BUF, err))
                return wrong_value(err, type, f, v);
        }
        memcpy(base + f->off2, &n, sizeof n);
        return OW_OK;
    }
    }
    return ow_err_set(err, OW_EINVAL, "%s: field \"%s\": unsupported", type, f->name);
}

/* The envelope's members, found in one walk over the object (its keys are unique: ow_json_parse
 * rejects duplicates). */
typedef struct envelope {
    const cJSON *v, *type, *id, *ts;
} envelope;

static void find_envelope(const cJSON *root, envelope *env)
{
    memset(env, 0, sizeof *env);
    for (const cJSON *m = root->child; m; m = m->next) {
        const char *k = m->string;
        switch (k[0]) {
        case 'v':
            if (!k[1]) env->v = m;
            break;
        case 'i':
            if (k[1] == 'd' && !k[2]) env->id = m;
            break;
        case 't':
            if (k[1] == 's' && !k[2])
                env->ts = m;
            else if (same_name(k, "type"))
                env->type = m;
            break;
        default: break;
        }
    }
}

/* Each member that is one of the type's fields, by field; others stay NULL. One walk over the
 * members, each compared only with the few fields its type has. */
static void find_fields(const cJSON *root, uint64_t wanted, const cJSON *slot[F__COUNT])
{
    memset(slot, 0, sizeof(const cJSON *) * F__COUNT);
    for (const cJSON *m = root->child; m; m = m->next) {
        const char *k = m->string;
        for (uint64_t left = wanted; left; left &= left - 1) {
            int f = __builtin_ctzll(left);
            if (same_name(fields[f].name, k)) slot[f] = m;
        }
    }
}

static int check_envelope(const envelope *env, ow_event *ev, ow_err *err)
{
    const cJSON *v = env->v;
    int64_t ver;
    if (!v) return ow_err_set(err, OW_EINVAL, "field \"v\" is required (the contract version, 1)");
    if (!ow_json_int(v, 1, 1, &ver)) return field_error(err, "event", "v", "1", v);

    const cJSON *type = env->type;
    int t = cJSON_IsString(type) ? ow_event_type_lookup(type->valuestring) : -1;
    if (!type) return ow_err_set(err, OW_EINVAL, "field \"type\" is required");
    if (t < 0)
        return field_error(err, "event", "type",
                           "an event type (order.created, order.dispatched, ... see DESIGN §3)",
                           type);
    ev->type = (ow_event_type)t;
    const char *tn = type_names[t];

    const cJSON *id = env->id;
    const field_spec id_spec = {"id", K_TEXT, 0, 0, 0, 1, OW_ID_MAX_CHARS, NULL, NULL};
    if (!id) return ow_err_set(err, OW_EINVAL, "%s: field \"id\" is required", tn);
    int rc = text_value(tn, &id_spec, id, ev->id, sizeof ev->id, err);
    if (rc) return rc;

    const cJSON *ts = env->ts;
    if (!ts) return ow_err_set(err, OW_EINVAL, "%s: field \"ts\" is required", tn);
    if (!cJSON_IsString(ts))
        return field_error(err, tn, "ts", "an RFC 3339 time string like 2026-11-22T09:15:02+08:00",
                           ts);
    ow_err terr;
    if (ow_time_parse(ts->valuestring, strlen(ts->valuestring), &ev->ts_ms, &terr)) {
        char shown[96];
        ow_json_quote(ts, shown, sizeof shown);
        return ow_err_set(err, OW_EINVAL, "%s: field \"ts\": %s, got %s", tn, terr.msg, shown);
    }
    return OW_OK;
}

/* The struct's layout as event_reset knows it: type and ts_ms, the strings from id to reason, the
 * scalars from priority up to skills, skills, nparts. A field added elsewhere breaks the build
 * here instead of being left unset. */
#define EV_OFF(f)  offsetof(ow_event, f)
#define EV_SIZE(f) sizeof(((ow_event *)0)->f)
_Static_assert(EV_OFF(ts_ms) + EV_SIZE(ts_ms) == EV_OFF(id), "ow_event: a field before id");
_Static_assert(EV_OFF(priority) - EV_OFF(id) == 5 * OW_ID_BUF + 6 * OW_NAME_BUF + OW_REASON_BUF,
               "ow_event: a field among the strings (event_reset empties them by name)");
_Static_assert(EV_OFF(skills) + EV_SIZE(skills) == EV_OFF(nparts) &&
                   sizeof(ow_event) <= EV_OFF(nparts) + sizeof(int) + sizeof(int64_t),
               "ow_event: a field after skills");

/* Empty *ev for a new parse: scalars zeroed, strings emptied. Not a memset of the whole ~9 KB
 * struct: that was a third of ingest's instructions per event (callgrind, docs/ingest.md); the
 * bytes after a string's terminator are left as they were. */
static void event_reset(ow_event *ev)
{
    ev->type = 0;
    ev->ts_ms = 0;
    char *const strings[] = {ev->id,       ev->order_id, ev->tech_id, ev->complaint_id,
                             ev->category, ev->region,   ev->skill,   ev->customer_id,
                             ev->name,     ev->depot,    ev->sku,     ev->reason};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        strings[i][0] = '\0';
    memset(&ev->priority, 0, EV_OFF(skills) - EV_OFF(priority));
    for (int i = 0; i < OW_SKILLS_MAX; i++)
        ev->skills[i][0] = '\0';
    ev->nparts = 0;
}

int ow_event_parse(const char *text, size_t len, ow_event *ev, ow_err *err)
{
    if (len > OW_EVENT_MAX_BYTES)
        return ow_err_set(err, OW_ETOOBIG, "event is %zu bytes: the limit is %d bytes (64 KiB)",
                          len, OW_EVENT_MAX_BYTES);
    event_reset(ev);
    ev->nps = -1;
    ev->eta_s = -1;
    ev->channel = OW_CH_NONE;

    ow_err jerr;
    cJSON *root = ow_json_parse(text, len, 4, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "not a JSON object: %s", jerr.msg);
    int rc = OW_OK;
    if (!cJSON_IsObject(root)) {
        rc = ow_err_set(err, OW_EINVAL, "expected a JSON object, got %s", ow_json_type_name(root));
        goto out;
    }
    envelope env;
    find_envelope(root, &env);
    if ((rc = check_envelope(&env, ev, err))) goto out;

    /* fields in table order, so that of several wrong fields the first in the table is named */
    const char *tn = type_names[ev->type];
    uint64_t req = types[ev->type].required, opt = types[ev->type].optional;
    const cJSON *slot[F__COUNT];
    find_fields(root, req | opt, slot);
    for (uint64_t left = req | opt; left; left &= left - 1) {
        int f = __builtin_ctzll(left);
        const cJSON *v = slot[f];
        if (!v) {
            if (req & B(f)) {
                const field_spec *fs = &fields[f];
                if (fs->kind == K_ENUM)
                    rc = ow_err_set(err, OW_EINVAL, "%s: field \"%s\" is required (one of %s)", tn,
                                    fs->name, fs->choices_text);
                else
                    rc = ow_err_set(err, OW_EINVAL, "%s: field \"%s\" is required", tn, fs->name);
                goto out;
            }
            continue;
        }
        if ((rc = decode_field(tn, &fields[f], v, ev, err))) goto out;
    }
    if (ev->type == OW_EV_ORDER_CREATED) {
        bool lat = slot[F_LAT] != NULL, lon = slot[F_LON] != NULL;
        if (lat != lon) {
            rc = ow_err_set(err, OW_EINVAL, "%s: field \"%s\": lat and lon must be given together",
                            tn, lat ? "lon" : "lat");
            goto out;
        }
        ev->has_geo = lat;
    }
    if (ev->type == OW_EV_TECH_LOCATION) ev->has_geo = true;
out:
    cJSON_Delete(root);
    return rc;
}

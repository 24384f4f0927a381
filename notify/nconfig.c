#include "nconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "timefmt.h"

static const struct {
    const char *name;
    int rate, limit;
    size_t bytes;
} rx_types[] = {
#define OW_RX_ROW(e, name, rate, limit, bytes) {name, rate, limit, bytes},
    OW_RX_TYPES(OW_RX_ROW)
#undef OW_RX_ROW
};

const char *ow_rx_type_name(ow_rx_type t)
{
    return t >= 0 && t < OW_RX__COUNT ? rx_types[t].name : "?";
}

static const char *const lang_names[] = {"zh", "en", NULL}; /* NULL: a key list as well */
const char *ow_lang_name(ow_lang l)
{
    return l >= 0 && l < OW_LANG__COUNT ? lang_names[l] : "?";
}

/* The placeholders of each template role: the single table render.c fills. */
static const char *const vars_title[] = {"count",    "new",   "region",  "level",
                                         "receiver", "group", "on_call", NULL};
static const char *const vars_alert[] = {
    "id",   "kind", "level", "region", "stage",    "subject",  "pct", "target",
    "late", "who",  "link",  "flag",   "category", "priority", "at",  NULL};
static const char *const vars_flag[] = {"id",      "kind", "level", "region", "flag",
                                        "summary", "who",  "at",    NULL};
static const char *const vars_d[] = {"d", NULL};
static const char *const vars_by[] = {"by", NULL};
static const char *const vars_on_call[] = {"on_call", NULL};
static const char *const vars_n[] = {"n", NULL};
static const struct {
    const char *name;
    const char *const *vars;
} tpl_roles[OW_TPL__COUNT] = {
    [OW_TPL_FIRING] = {"firing", vars_title},
    [OW_TPL_RESOLVED] = {"resolved", vars_title},
    [OW_TPL_ALERT] = {"alert", vars_alert},
    [OW_TPL_RESOLVED_ALERT] = {"resolved_alert", vars_alert},
    [OW_TPL_FLAG] = {"flag", vars_flag},
    [OW_TPL_LATE] = {"late", vars_d},
    [OW_TPL_DUE] = {"due", vars_d},
    [OW_TPL_ACKED] = {"acked", vars_by},
    [OW_TPL_UNACKED] = {"unacked", vars_on_call},
    [OW_TPL_MORE] = {"more", vars_n},
};

const char *const *ow_tpl_vars(ow_tpl_role role)
{
    return tpl_roles[role].vars;
}
const char *ow_tpl_role_name(ow_tpl_role role)
{
    return tpl_roles[role].name;
}

void ow_nconfig_free(ow_nconfig *c)
{
    if (!c) return;
    for (int i = 0; i < c->nreceivers; i++)
        for (int k = 0; k < c->receivers[i].argc; k++)
            free(c->receivers[i].argv[k]);
    for (int i = 0; i < c->nroutes; i++)
        ow_matcher_fini(&c->routes[i].match);
    for (int i = 0; i < c->ninhibits; i++) {
        ow_matcher_fini(&c->inhibits[i].source);
        ow_matcher_fini(&c->inhibits[i].target);
    }
    for (int l = 0; l < OW_LANG__COUNT; l++)
        for (int r = 0; r < OW_TPL__COUNT; r++)
            ow_template_free(c->tpl[l][r]);
    free(c);
}

int ow_nconfig_receiver(const ow_nconfig *c, const char *name)
{
    for (int i = 0; i < c->nreceivers; i++)
        if (strcmp(c->receivers[i].name, name) == 0) return i;
    return -1;
}

/* ---- parse helpers: every message names source and JSON path --------------------------------- */

typedef struct pctx {
    const char *source;
    ow_err *err;
    ow_nconfig *c;
} pctx;

static int fail(pctx *p, const char *path, const char *fmt, const char *a1)
{
    return ow_err_set(p->err, OW_EINVAL, "%s: %s: %s%s", p->source, path, fmt, a1 ? a1 : "");
}

static int expected(pctx *p, const char *path, const char *want, const cJSON *v)
{
    char got[96];
    ow_json_quote(v, got, sizeof got);
    return ow_err_set(p->err, OW_EINVAL, "%s: %s: expected %s, got %s", p->source, path, want, got);
}

static void join(char *out, size_t n, const char *path, const char *key)
{
    snprintf(out, n, "%s%s%s", path, *path ? "." : "", key);
}

static int get_str(pctx *p, const cJSON *v, const char *path, char *out, size_t n, bool nonempty)
{
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= n || (nonempty && !v->valuestring[0])) {
        char want[64];
        snprintf(want, sizeof want, "a %sstring of at most %zu bytes", nonempty ? "non-empty " : "",
                 n - 1);
        return expected(p, path, want, v);
    }
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return OW_OK;
}

static int get_dur(pctx *p, const cJSON *v, const char *path, int64_t lo, int64_t hi, int64_t *out)
{
    if (!cJSON_IsString(v) || ow_duration_parse(v->valuestring, out, NULL) || *out < lo ||
        *out > hi) {
        char want[128], a[32], b[32];
        ow_duration_format(lo, a, sizeof a);
        ow_duration_format(hi, b, sizeof b);
        snprintf(want, sizeof want, "a duration like \"30s\" or \"5m\", from %s to %s", a, b);
        return expected(p, path, want, v);
    }
    return OW_OK;
}

static int get_int(pctx *p, const cJSON *v, const char *path, int64_t lo, int64_t hi, int *out)
{
    int64_t x;
    if (!ow_json_int(v, lo, hi, &x)) {
        char want[80];
        snprintf(want, sizeof want, "an integer from %lld to %lld", (long long)lo, (long long)hi);
        return expected(p, path, want, v);
    }
    *out = (int)x;
    return OW_OK;
}

static int get_bool(pctx *p, const cJSON *v, const char *path, bool *out)
{
    if (!cJSON_IsBool(v)) return expected(p, path, "true or false", v);
    *out = cJSON_IsTrue(v);
    return OW_OK;
}

/* http://host[:port]/path or https://...; no spaces, no control characters. */
static bool url_ok(const char *u)
{
    const char *rest = strncmp(u, "http://", 7) == 0    ? u + 7
                       : strncmp(u, "https://", 8) == 0 ? u + 8
                                                        : NULL;
    if (!rest || !*rest || *rest == '/' || *rest == ':') return false;
    for (const char *q = u; *q; q++)
        if ((unsigned char)*q <= 0x20 || *q == 0x7f) return false;
    return true;
}

/* ---- receivers ------------------------------------------------------------------------------- */

static const char *const rx_keys[] = {
    "name",     "type",    "url",         "argv",         "lang",       "on_call",    "timeout",
    "attempts", "backoff", "backoff_max", "rate_per_min", "max_alerts", "idempotent", NULL};

static int parse_receiver(pctx *p, const cJSON *v, const char *path, ow_receiver *r)
{
    char kp[300];
    if (!cJSON_IsObject(v)) return expected(p, path, "an object", v);
    memset(r, 0, sizeof *r);
    if (ow_json_only_keys(v, rx_keys, path, p->source, p->err)) return OW_EINVAL;
    const cJSON *type = ow_json_get(v, "type"), *name = ow_json_get(v, "name");
    join(kp, sizeof kp, path, "name");
    if (!name) return fail(p, kp, "missing: every receiver needs a name", NULL);
    int rc = get_str(p, name, kp, r->name, sizeof r->name, true);
    if (rc) return rc;
    join(kp, sizeof kp, path, "type");
    if (!type) return fail(p, kp, "missing; one of webhook|dingtalk|wecom|slack|exec|stream", NULL);
    r->type = OW_RX__COUNT;
    for (int t = 0; t < OW_RX__COUNT && cJSON_IsString(type); t++)
        if (strcmp(type->valuestring, rx_types[t].name) == 0) r->type = (ow_rx_type)t;
    if (r->type == OW_RX__COUNT)
        return expected(p, kp, "one of webhook|dingtalk|wecom|slack|exec|stream", type);
    r->lang = OW_LANG_ZH;
    r->timeout_ms = 10000;
    r->attempts = 5;
    r->backoff_ms = 1000;
    r->backoff_max_ms = 5 * 60000;
    r->rate_per_min = rx_types[r->type].rate;
    r->max_alerts = 20;
    r->max_bytes = rx_types[r->type].bytes;
    for (const cJSON *k = v->child; k && !rc; k = k->next) {
        const char *key = k->string;
        join(kp, sizeof kp, path, key);
        if (!strcmp(key, "name") || !strcmp(key, "type")) {
            continue;
        } else if (!strcmp(key, "url")) {
            if (r->type == OW_RX_EXEC || r->type == OW_RX_STREAM)
                return fail(p, kp, "only webhook, dingtalk, wecom and slack receivers have a url",
                            NULL);
            rc = get_str(p, k, kp, r->url, sizeof r->url, true);
            if (!rc && !url_ok(r->url))
                rc = expected(p, kp, "an http:// or https:// URL with a host", k);
        } else if (!strcmp(key, "argv")) {
            if (r->type != OW_RX_EXEC) return fail(p, kp, "only exec receivers have argv", NULL);
            if (!cJSON_IsArray(k) || !k->child)
                return expected(p, kp, "a non-empty list of strings (program, arguments)", k);
            int i = 0;
            for (const cJSON *a = k->child; a; a = a->next, i++) {
                char ap[320];
                snprintf(ap, sizeof ap, "%s[%d]", kp, i);
                if (i >= OW_EXEC_ARGS_MAX)
                    return fail(p, ap, "too many arguments (at most 32)", NULL);
                if (!cJSON_IsString(a) || !a->valuestring[0] || strlen(a->valuestring) > 4096)
                    return expected(p, ap, "a non-empty string", a);
                if (i == 0 && a->valuestring[0] != '/')
                    return expected(p, ap, "an absolute program path (no shell and no PATH search)",
                                    a);
                if (!(r->argv[i] = strdup(a->valuestring)))
                    return ow_err_set(p->err, OW_ENOMEM, "out of memory");
                r->argc = i + 1;
            }
        } else if (!strcmp(key, "lang")) {
            if (!cJSON_IsString(k) ||
                (strcmp(k->valuestring, "zh") && strcmp(k->valuestring, "en")))
                return expected(p, kp, "zh or en", k);
            r->lang = strcmp(k->valuestring, "en") == 0 ? OW_LANG_EN : OW_LANG_ZH;
        } else if (!strcmp(key, "on_call")) {
            rc = get_str(p, k, kp, r->on_call, sizeof r->on_call, false);
        } else if (!strcmp(key, "timeout")) {
            rc = get_dur(p, k, kp, 100, 5 * 60000, &r->timeout_ms);
        } else if (!strcmp(key, "attempts")) {
            rc = get_int(p, k, kp, 1, 100, &r->attempts);
        } else if (!strcmp(key, "backoff")) {
            rc = get_dur(p, k, kp, 10, 3600000, &r->backoff_ms);
        } else if (!strcmp(key, "backoff_max")) {
            rc = get_dur(p, k, kp, 10, 24 * 3600000LL, &r->backoff_max_ms);
        } else if (!strcmp(key, "rate_per_min")) {
            int lim = rx_types[r->type].limit;
            rc = get_int(p, k, kp, 0, 6000, &r->rate_per_min);
            if (!rc && lim && (r->rate_per_min == 0 || r->rate_per_min > lim)) {
                char msg[160];
                snprintf(msg, sizeof msg,
                         "%s robots take at most %d messages a minute; use 1..%d (default %d)",
                         rx_types[r->type].name, lim, lim, rx_types[r->type].rate);
                rc = fail(p, kp, msg, NULL);
            }
        } else if (!strcmp(key, "max_alerts")) {
            rc = get_int(p, k, kp, 1, 500, &r->max_alerts);
        } else if (!strcmp(key, "idempotent")) {
            rc = get_bool(p, k, kp, &r->idempotent);
        }
    }
    if (rc) return rc;
    if (r->backoff_max_ms < r->backoff_ms) {
        join(kp, sizeof kp, path, "backoff_max");
        return fail(p, kp, "smaller than backoff", NULL);
    }
    bool needs_url = r->type != OW_RX_EXEC && r->type != OW_RX_STREAM;
    join(kp, sizeof kp, path, needs_url ? "url" : "argv");
    if (needs_url && !r->url[0])
        return fail(p, kp, "missing: this receiver kind posts to a URL", NULL);
    if (r->type == OW_RX_EXEC && !r->argc) return fail(p, kp, "missing: the program to run", NULL);
    return OW_OK;
}

/* ---- routes ---------------------------------------------------------------------------------- */

static int parse_group_by(pctx *p, const cJSON *v, const char *path, uint32_t *out)
{
    if (!cJSON_IsArray(v)) return expected(p, path, "a list of label names", v);
    *out = 0;
    int i = 0;
    for (const cJSON *e = v->child; e; e = e->next, i++) {
        int l = cJSON_IsString(e) ? ow_label_parse(e->valuestring) : -1;
        if (l < 0) {
            char ep[320];
            snprintf(ep, sizeof ep, "%s[%d]", path, i);
            return expected(p, ep, "one of kind|level|region|stage|category|priority|flag", e);
        }
        *out |= 1u << l;
    }
    return OW_OK;
}

static const char *const route_keys[] = {"match",      "receiver",       "group_by",
                                         "group_wait", "group_interval", "repeat_interval",
                                         "continue",   "routes",         NULL};

static int parse_route(pctx *p, const cJSON *v, const char *path, int parent, const char *id,
                       int depth)
{
    ow_nconfig *c = p->c;
    char kp[300];
    if (!cJSON_IsObject(v)) return expected(p, path, "an object", v);
    if (c->nroutes >= OW_ROUTES_MAX) return fail(p, path, "too many routes (at most 256)", NULL);
    if (depth > OW_ROUTE_DEPTH) return fail(p, path, "routes nested too deep (at most 8)", NULL);
    if (ow_json_only_keys(v, route_keys, path, p->source, p->err)) return OW_EINVAL;
    int me = c->nroutes++;
    ow_route *r = &c->routes[me];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", id);
    r->first_child = r->next_sibling = -1;
    if (parent >= 0) { /* inherit */
        const ow_route *pr = &c->routes[parent];
        r->receiver = pr->receiver;
        r->group_by = pr->group_by;
        r->group_wait_ms = pr->group_wait_ms;
        r->group_interval_ms = pr->group_interval_ms;
        r->repeat_interval_ms = pr->repeat_interval_ms;
    } else {
        r->receiver = -1;
        r->group_by = (1u << OW_LBL_REGION) | (1u << OW_LBL_LEVEL);
        r->group_wait_ms = 30000;
        r->group_interval_ms = 5 * 60000;
        r->repeat_interval_ms = 4 * 3600000LL;
    }
    const cJSON *children = NULL;
    int rc = OW_OK;
    for (const cJSON *k = v->child; k && !rc; k = k->next) {
        const char *key = k->string;
        join(kp, sizeof kp, path, key);
        if (!strcmp(key, "match")) {
            if (parent < 0)
                return fail(p, kp, "the root route matches every alert: no match", NULL);
            ow_err merr;
            if (ow_matcher_parse(&r->match, k, kp, &merr))
                return ow_err_set(p->err, merr.code, "%s: %s", p->source, merr.msg);
        } else if (!strcmp(key, "receiver")) {
            char name[OW_RX_NAME_BUF];
            if ((rc = get_str(p, k, kp, name, sizeof name, true))) return rc;
            r->receiver = ow_nconfig_receiver(c, name);
            if (r->receiver < 0) {
                char known[600] = "";
                for (int i = 0; i < c->nreceivers; i++) {
                    size_t u = strlen(known);
                    snprintf(known + u, sizeof known - u, "%s%s", i ? ", " : "",
                             c->receivers[i].name);
                }
                return ow_err_set(p->err, OW_EINVAL,
                                  "%s: %s: no receiver named \"%s\"; receivers: %s", p->source, kp,
                                  name, known);
            }
        } else if (!strcmp(key, "group_by")) {
            rc = parse_group_by(p, k, kp, &r->group_by);
        } else if (!strcmp(key, "group_wait")) {
            rc = get_dur(p, k, kp, 0, 3600000, &r->group_wait_ms);
        } else if (!strcmp(key, "group_interval")) {
            rc = get_dur(p, k, kp, 100, 24 * 3600000LL, &r->group_interval_ms);
        } else if (!strcmp(key, "repeat_interval")) {
            rc = get_dur(p, k, kp, 1000, 30 * 24 * 3600000LL, &r->repeat_interval_ms);
        } else if (!strcmp(key, "continue")) {
            if (parent < 0) return fail(p, kp, "the root route has no siblings: no continue", NULL);
            rc = get_bool(p, k, kp, &r->cont);
        } else if (!strcmp(key, "routes")) {
            if (!cJSON_IsArray(k)) return expected(p, kp, "a list of routes", k);
            children = k;
        }
    }
    if (rc) return rc;
    if (r->receiver < 0) {
        join(kp, sizeof kp, path, "receiver");
        return fail(p, kp, "missing: the root route needs a receiver (the default)", NULL);
    }
    if (r->repeat_interval_ms < r->group_interval_ms) {
        join(kp, sizeof kp, path, "repeat_interval");
        return fail(p, kp, "shorter than group_interval", NULL);
    }
    int prev = -1, i = 0;
    for (const cJSON *ch = children ? children->child : NULL; ch; ch = ch->next, i++) {
        char cp[300], cid[64];
        snprintf(cp, sizeof cp, "%s%sroutes[%d]", path, *path ? "." : "", i);
        snprintf(cid, sizeof cid, "%s.%d", id, i);
        int idx = c->nroutes;
        if ((rc = parse_route(p, ch, cp, me, cid, depth + 1))) return rc;
        if (prev < 0)
            c->routes[me].first_child = idx;
        else
            c->routes[prev].next_sibling = idx;
        prev = idx;
    }
    return OW_OK;
}

/* ---- inhibit rules --------------------------------------------------------------------------- */

static int parse_inhibit(pctx *p, const cJSON *v, const char *path, ow_inhibit *in)
{
    char kp[300];
    if (!cJSON_IsObject(v)) return expected(p, path, "an object {source, target, equal}", v);
    static const char *const keys[] = {"source", "target", "equal", NULL};
    int rc = ow_json_only_keys(v, keys, path, p->source, p->err);
    bool have_s = false, have_t = false;
    for (const cJSON *k = v->child; k && !rc; k = k->next) {
        join(kp, sizeof kp, path, k->string);
        ow_err merr;
        if (!strcmp(k->string, "source") || !strcmp(k->string, "target")) {
            bool src = k->string[0] == 's';
            if (ow_matcher_parse(src ? &in->source : &in->target, k, kp, &merr))
                return ow_err_set(p->err, merr.code, "%s: %s", p->source, merr.msg);
            *(src ? &have_s : &have_t) = true;
        } else if (!strcmp(k->string, "equal")) {
            rc = parse_group_by(p, k, kp, &in->equal);
        }
    }
    if (!rc && (!have_s || !have_t))
        rc = fail(p, path, "needs both source and target matchers", NULL);
    return rc;
}

/* ---- templates ------------------------------------------------------------------------------- */

static int parse_templates(pctx *p, const cJSON *v, const char *path)
{
    if (!cJSON_IsObject(v)) return expected(p, path, "an object {zh: {...}, en: {...}}", v);
    if (ow_json_only_keys(v, lang_names, path, p->source, p->err)) return OW_EINVAL;
    const char *roles[OW_TPL__COUNT + 1] = {NULL}; /* the template names, NULL-terminated */
    for (int r = 0; r < OW_TPL__COUNT; r++)
        roles[r] = tpl_roles[r].name;
    for (int l = 0; l < OW_LANG__COUNT; l++) {
        char lp[300];
        join(lp, sizeof lp, path, lang_names[l]);
        const cJSON *lv = ow_json_get(v, lang_names[l]);
        if (!cJSON_IsObject(lv)) return expected(p, lp, "an object of templates", lv);
        if (ow_json_only_keys(lv, roles, lp, p->source, p->err)) return OW_EINVAL;
        for (int r = 0; r < OW_TPL__COUNT; r++) {
            char tp[320];
            join(tp, sizeof tp, lp, tpl_roles[r].name);
            const cJSON *tv = ow_json_get(lv, tpl_roles[r].name);
            if (!tv) return fail(p, tp, "missing: every language needs every template", NULL);
            if (!cJSON_IsString(tv)) return expected(p, tp, "a string", tv);
            ow_err terr;
            if (ow_template_parse(tv->valuestring, tpl_roles[r].vars, tp, &p->c->tpl[l][r], &terr))
                return ow_err_set(p->err, terr.code, "%s: %s", p->source, terr.msg);
        }
    }
    return OW_OK;
}

/* ---- top level ------------------------------------------------------------------------------- */

int ow_nconfig_parse(const char *text, size_t len, const char *source, ow_nconfig **out,
                     ow_err *err)
{
    *out = NULL;
    pctx p = {.source = source ? source : "notify config", .err = err};
    if (len > OW_NCONFIG_MAX_BYTES)
        return ow_err_set(err, OW_ETOOBIG, "%s: %zu bytes, at most %d", p.source, len,
                          OW_NCONFIG_MAX_BYTES);
    ow_err jerr;
    cJSON *root = ow_json_parse(text, len, OW_JSON_MAX_DEPTH, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "%s: %s", p.source, jerr.msg);
    p.c = calloc(1, sizeof *p.c);
    int rc = p.c ? OW_OK : ow_err_set(err, OW_ENOMEM, "out of memory");
    if (!rc && !cJSON_IsObject(root)) rc = expected(&p, "(top)", "a JSON object", root);
    static const char *const keys[] = {"viewer_url", "receivers", "route",
                                       "inhibit",    "templates", NULL};
    if (!rc) rc = ow_json_only_keys(root, keys, "", p.source, err);
    const cJSON *v;
    if (!rc && (v = ow_json_get(root, "viewer_url"))) {
        rc = get_str(&p, v, "viewer_url", p.c->viewer_url, sizeof p.c->viewer_url, true);
        if (!rc && !url_ok(p.c->viewer_url))
            rc = expected(&p, "viewer_url", "an http:// or https:// URL", v);
    }
    if (!rc) {
        v = ow_json_get(root, "receivers");
        if (!cJSON_IsArray(v) || !v->child)
            rc = expected(&p, "receivers", "a non-empty list of receivers", v);
        int i = 0;
        for (const cJSON *e = rc ? NULL : v->child; e && !rc; e = e->next, i++) {
            char path[64];
            snprintf(path, sizeof path, "receivers[%d]", i);
            if (i >= OW_RECEIVERS_MAX) {
                rc = fail(&p, path, "too many receivers (at most 64)", NULL);
                break;
            }
            rc = parse_receiver(&p, e, path, &p.c->receivers[i]);
            p.c->nreceivers = i + 1; /* so free() releases argv even on failure */
            if (!rc && ow_nconfig_receiver(p.c, p.c->receivers[i].name) != i)
                rc = ow_err_set(err, OW_EINVAL, "%s: %s.name: \"%s\" is used twice", p.source, path,
                                p.c->receivers[i].name);
        }
    }
    if (!rc) {
        v = ow_json_get(root, "route");
        rc = v ? parse_route(&p, v, "route", -1, "0", 0) : fail(&p, "route", "missing", NULL);
    }
    if (!rc && (v = ow_json_get(root, "inhibit"))) {
        if (!cJSON_IsArray(v)) rc = expected(&p, "inhibit", "a list of rules", v);
        int i = 0;
        for (const cJSON *e = rc ? NULL : v->child; e && !rc; e = e->next, i++) {
            char path[64];
            snprintf(path, sizeof path, "inhibit[%d]", i);
            if (i >= OW_INHIBITS_MAX) {
                rc = fail(&p, path, "too many rules (at most 32)", NULL);
                break;
            }
            p.c->ninhibits = i + 1;
            rc = parse_inhibit(&p, e, path, &p.c->inhibits[i]);
        }
    }
    if (!rc) {
        v = ow_json_get(root, "templates");
        rc = v ? parse_templates(&p, v, "templates") : fail(&p, "templates", "missing", NULL);
    }
    cJSON_Delete(root);
    if (rc) {
        ow_nconfig_free(p.c);
        return rc;
    }
    *out = p.c;
    return OW_OK;
}

/* Alertmanager's rule: try the children in order; a matching child takes the alert (and stops the
 * search unless it has `continue`); a node none of whose children match takes it itself. */
static int route_into(const ow_nconfig *c, int node, const ow_nalert *a, int *out, int n, int max)
{
    bool taken = false;
    for (int ch = c->routes[node].first_child; ch >= 0; ch = c->routes[ch].next_sibling) {
        if (!ow_matcher_match(&c->routes[ch].match, a)) continue;
        taken = true;
        n = route_into(c, ch, a, out, n, max);
        if (!c->routes[ch].cont) break;
    }
    if (!taken && n < max) out[n++] = node;
    return n;
}

int ow_nconfig_route(const ow_nconfig *c, const ow_nalert *a, int *out, int max)
{
    return c->nroutes ? route_into(c, 0, a, out, 0, max) : 0;
}

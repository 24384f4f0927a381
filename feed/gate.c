#include "gate.h"

#include <string.h>
#include <strings.h>

bool ow_rate_take(ow_rate *r, int64_t now_ms, double per_s, double burst)
{
    if (r->last_ms == 0)
        r->tokens = burst;
    else if (now_ms > r->last_ms)
        r->tokens += (double)(now_ms - r->last_ms) * per_s / 1000.0;
    if (r->tokens > burst) r->tokens = burst;
    r->last_ms = now_ms;
    if (r->tokens < 1) return false;
    r->tokens -= 1;
    return true;
}

/* "scheme://authority" → authority, or NULL when it has no scheme or a path. */
static const char *origin_authority(const char *origin)
{
    const char *p = strstr(origin, "://");
    if (!p || p == origin) return NULL;
    for (const char *s = origin; s < p; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) return NULL;
    p += 3;
    if (!*p || strchr(p, '/')) return NULL;
    return p;
}

bool ow_gate_origin_ok(const char *origin, const char *host, const char *allowed)
{
    if (!origin) return true;
    const char *auth = origin_authority(origin);
    if (auth && host && host[0] && strcasecmp(auth, host) == 0) return true;
    size_t olen = strlen(origin);
    for (const char *p = allowed ? allowed : ""; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if ((size_t)(t - p) == olen && olen && strncasecmp(p, origin, olen) == 0) return true;
        p = e;
    }
    return false;
}

/* Header text into buf; "" when absent or too long. */
static void header(struct lws *wsi, enum lws_token_indexes h, char *buf, int n)
{
    buf[0] = '\0';
    int len = lws_hdr_total_length(wsi, h);
    if (len <= 0 || len >= n || lws_hdr_copy(wsi, buf, n, h) < 0) buf[0] = '\0';
}

ow_pass ow_gate_check(const ow_gate *g, struct lws *wsi, ow_role need)
{
    ow_pass p = {.status = 0, .role = OW_ROLE_NONE, .name = "", .why = ""};
    char origin[256], host[256];
    header(wsi, WSI_TOKEN_ORIGIN, origin, sizeof origin);
    header(wsi, WSI_TOKEN_HOST, host, sizeof host);
    bool has_origin = lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0;
    if (has_origin && (!origin[0] || !ow_gate_origin_ok(origin, host, g->origins))) {
        p.status = 403;
        p.why = "forbidden: this origin may not use the feed (feed.allowed_origins)";
        return p;
    }
    if (!g->access || g->access->n == 0) {
        /* no tokens configured: open mode, loopback only (main refuses it on other addresses) */
        p.role = OW_ROLE_ADMIN;
        p.name = "local";
        return p;
    }
    char authz[OW_TOKEN_MAX_LEN + 32], token[OW_TOKEN_MAX_LEN + 1];
    header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, authz, sizeof authz);
    size_t tlen = authz[0] ? ow_access_bearer(authz, token, sizeof token) : 0;
    if (tlen == 0) {
        /* browsers' websockets cannot send headers: ?token=... */
        const char *v = lws_get_urlarg_by_name(wsi, "token=", token, (int)sizeof token);
        tlen = v ? strlen(v) : 0;
        if (v && v != token) memmove(token, v, tlen + 1);
    }
    p.role = tlen ? ow_access_check(g->access, token, tlen, &p.name) : OW_ROLE_NONE;
    memset(token, 0, sizeof token);
    if (!p.name) p.name = "";
    if (need == OW_ROLE_NONE) return p;
    if (p.role == OW_ROLE_NONE) {
        p.status = 401;
        p.why = tlen ? "unauthorized: unknown token"
                     : "unauthorized: a token is required "
                       "(Authorization: Bearer TOKEN)";
    } else if (!ow_role_allows(p.role, need)) {
        p.status = 403;
        p.why = need == OW_ROLE_SUPERVISOR ? "forbidden: this needs the supervisor role"
                                           : "forbidden: this token's role may not do that";
    }
    return p;
}

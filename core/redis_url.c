#include "redis_url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into out[cap]; false on bad escape or overflow. */
static bool decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) return false;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) return false;
            c = (char)(h * 16 + l);
            i += 2;
            if (c == '\0') return false;
        }
        if (o + 1 >= cap) return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

static bool parse_int(const char *s, size_t n, int lo, int hi, int *out)
{
    if (n == 0 || n > 9) return false;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi) return false;
    *out = v;
    return true;
}

int ow_redis_url_parse(const char *url, ow_redis_target *t, ow_err *err)
{
    static const char *want =
        "expected redis://[user:pass@]host:port/db or unix:///path/to/redis.sock";
    memset(t, 0, sizeof *t);
    t->port = 6379;
    if (strncmp(url, "unix://", 7) == 0) {
        const char *p = url + 7, *q = strchr(p, '?');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 0 || p[0] != '/' || !decode(p, n, t->path, sizeof t->path))
            return ow_err_set(err, OW_EINVAL, "redis url: %s (the socket path must be absolute)",
                              want);
        t->is_unix = true;
        if (q) {
            if (strncmp(q, "?db=", 4) != 0 || !parse_int(q + 4, strlen(q + 4), 0, 1000000, &t->db))
                return ow_err_set(err, OW_EINVAL,
                                  "redis url: after the path only ?db=N is allowed");
        }
        return OW_OK;
    }
    if (strncmp(url, "redis://", 8) != 0) return ow_err_set(err, OW_EINVAL, "redis url: %s", want);
    const char *p = url + 8;
    const char *slash = strchr(p, '/');
    size_t auth_host_len = slash ? (size_t)(slash - p) : strlen(p);
    const char *at = memchr(p, '@', auth_host_len);
    /* the last '@' wins, so passwords may contain '@' only percent-encoded */
    for (const char *a = at; a && (size_t)(a - p) < auth_host_len;
         a = memchr(a + 1, '@', auth_host_len - (size_t)(a + 1 - p)))
        at = a;
    const char *host = p;
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon) {
            if (!decode(p, (size_t)(colon - p), t->user, sizeof t->user) ||
                !decode(colon + 1, (size_t)(at - colon - 1), t->password, sizeof t->password))
                return ow_err_set(err, OW_EINVAL, "redis url: bad user or password encoding");
        } else if (!decode(p, (size_t)(at - p), t->password, sizeof t->password)) {
            return ow_err_set(err, OW_EINVAL, "redis url: bad password encoding");
        }
        host = at + 1;
    }
    size_t hl = (size_t)(p + auth_host_len - host);
    const char *colon = NULL;
    if (hl && host[0] == '[') { /* [::1]:6379 */
        const char *close = memchr(host, ']', hl);
        if (!close) return ow_err_set(err, OW_EINVAL, "redis url: unclosed '[' in host");
        if ((size_t)(close - host - 1) >= sizeof t->host)
            return ow_err_set(err, OW_EINVAL, "redis url: host too long");
        memcpy(t->host, host + 1, (size_t)(close - host - 1));
        t->host[close - host - 1] = '\0';
        if (close + 1 < host + hl) {
            if (close[1] != ':') return ow_err_set(err, OW_EINVAL, "redis url: %s", want);
            colon = close + 1;
        }
    } else {
        colon = memchr(host, ':', hl);
        size_t n = colon ? (size_t)(colon - host) : hl;
        if (n >= sizeof t->host) return ow_err_set(err, OW_EINVAL, "redis url: host too long");
        memcpy(t->host, host, n);
        t->host[n] = '\0';
    }
    if (!t->host[0]) return ow_err_set(err, OW_EINVAL, "redis url: the host is missing; %s", want);
    if (colon) {
        size_t n = (size_t)(host + hl - colon - 1);
        if (!parse_int(colon + 1, n, 1, 65535, &t->port))
            return ow_err_set(err, OW_EINVAL, "redis url: port must be 1-65535");
    }
    if (slash && slash[1]) {
        if (!parse_int(slash + 1, strlen(slash + 1), 0, 1000000, &t->db))
            return ow_err_set(err, OW_EINVAL, "redis url: the database after '/' must be a number");
    }
    return OW_OK;
}

void ow_redis_target_describe(const ow_redis_target *t, char *out, size_t n)
{
    if (t->is_unix)
        snprintf(out, n, "unix://%s%s", t->path, t->db ? " (db set)" : "");
    else if (strchr(t->host, ':')) /* IPv6: brackets keep the port apart, as in the URL */
        snprintf(out, n, "redis://%s%s[%s]:%d/%d", t->user, t->user[0] ? "@" : "", t->host, t->port,
                 t->db);
    else
        snprintf(out, n, "redis://%s%s%s:%d/%d", t->user, t->user[0] ? "@" : "", t->host, t->port,
                 t->db);
}

#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ow_jsonw_init(ow_jsonw *w)
{
    memset(w, 0, sizeof *w);
}

static void put(ow_jsonw *w, const char *s, size_t n)
{
    ow_buf_put(&w->out, s, n);
}

void ow_jsonw_raw(ow_jsonw *w, const char *text)
{
    put(w, text, strlen(text));
}

void ow_jsonw_open(ow_jsonw *w)
{
    put(w, "{", 1);
    w->need_comma = false;
}

void ow_jsonw_close(ow_jsonw *w)
{
    put(w, "}", 1);
    w->need_comma = true;
}

/* Does the 8-byte word hold a byte that JSON must escape (below 0x20, '"' or '\\')? Exact (no
 * false positives): "has a zero byte" tests on the word, on it xor '"' and on it xor '\\', and
 * "has a byte below 0x20" (bytes of 0x80 and up, UTF-8, never match). */
static bool word_needs_escape(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    return (((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & high;
}

void ow_jsonw_str(ow_jsonw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    put(w, "\"", 1);
    const char *run = s, *end = s + strlen(s);
    for (;;) {
        /* eight bytes at a time while none needs escaping (an alert storm writes hundreds of
         * thousands of ids, names and summaries, nearly all plain) */
        uint64_t x;
        while (end - s >= 8 && (memcpy(&x, s, 8), !word_needs_escape(x)))
            s += 8;
        while (s < end) {
            unsigned char c = (unsigned char)*s;
            if (c < 0x20 || c == '"' || c == '\\') break;
            s++;
        }
        if (s == end) break;
        unsigned char c = (unsigned char)*s;
        put(w, run, (size_t)(s - run));
        char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
        size_t n = 2;
        if (c == '\n')
            esc[1] = 'n';
        else if (c == '\r')
            esc[1] = 'r';
        else if (c == '\t')
            esc[1] = 't';
        else if (c < 0x20)
            esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hex[c >> 4], esc[5] = hex[c & 15],
            n = 6;
        put(w, esc, n);
        run = ++s;
    }
    put(w, run, (size_t)(end - run));
    put(w, "\"", 1);
}

size_t ow_jsonw_str_len(const char *s, size_t n)
{
    size_t len = n;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t')
            len += 1;
        else if (c < 0x20)
            len += 5;
    }
    return len;
}

void ow_jsonw_key(ow_jsonw *w, const char *key)
{
    if (w->need_comma) put(w, ",", 1);
    ow_jsonw_str(w, key);
    put(w, ":", 1);
    w->need_comma = true;
}

void ow_jsonw_key_quoted(ow_jsonw *w, const char *quoted, size_t n)
{
    if (w->need_comma) put(w, ",", 1);
    put(w, quoted, n);
    w->need_comma = true;
}

void ow_jsonw_int(ow_jsonw *w, int64_t v)
{
    char tmp[24];
    int k = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do
        tmp[k++] = (char)('0' + u % 10), u /= 10;
    while (u);
    if (v < 0) tmp[k++] = '-';
    char out[24];
    for (int i = 0; i < k; i++)
        out[i] = tmp[k - 1 - i];
    put(w, out, (size_t)k);
}

void ow_jsonw_num(ow_jsonw *w, double v, int decimals)
{
    static const double scale[7] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
    if (!isfinite(v)) {
        put(w, "null", 4);
        return;
    }
    if (decimals < 0) decimals = 0;
    if (decimals > 6) decimals = 6;
    double x = v * scale[decimals];
    if (x > -9e15 && x < 9e15) {
        /* the common case without printf (a snapshot writes thousands of coordinates): the
         * value as an integer of 10^-decimals units, its fraction trimmed of trailing zeros */
        int64_t q = llround(x);
        if (q == 0) {
            put(w, "0", 1);
            return;
        }
        if (q < 0) put(w, "-", 1), q = -q;
        int64_t unit = (int64_t)scale[decimals];
        ow_jsonw_int(w, q / unit);
        int64_t frac = q % unit;
        if (!frac) return;
        char digits[8];
        int n = decimals;
        for (int i = n - 1; i >= 0; i--)
            digits[i] = (char)('0' + frac % 10), frac /= 10;
        while (n > 0 && digits[n - 1] == '0')
            n--;
        put(w, ".", 1);
        put(w, digits, (size_t)n);
        return;
    }
    char tmp[400];
    int n = snprintf(tmp, sizeof tmp, "%.*f", decimals, v);
    if (n <= 0 || (size_t)n >= sizeof tmp) {
        put(w, "null", 4);
        return;
    }
    if (memchr(tmp, '.', (size_t)n)) {
        while (tmp[n - 1] == '0')
            n--;
        if (tmp[n - 1] == '.') n--;
    }
    put(w, tmp, (size_t)n);
}

char *ow_jsonw_take(ow_jsonw *w)
{
    char *text = w->out.oom ? NULL : w->out.p;
    if (w->out.oom)
        free(w->out.p);
    else if (!text)
        text = strdup("");
    ow_jsonw_init(w);
    return text;
}

void ow_jsonw_reset(ow_jsonw *w)
{
    w->out.n = 0;
    if (w->out.p) w->out.p[0] = '\0';
    w->need_comma = false;
}

void ow_jsonw_fini(ow_jsonw *w)
{
    ow_buf_fini(&w->out);
    ow_jsonw_init(w);
}

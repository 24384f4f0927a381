#include "timefmt.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int64_t ow_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Howard Hinnant's algorithm: exact for the whole proleptic Gregorian calendar. */
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Read exactly n digits at s[*i]; false if any is not a digit. */
static bool digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || !isdigit((unsigned char)s[*i])) return false;
        v = v * 10 + (s[*i] - '0');
    }
    *out = v;
    return true;
}

static bool expect(const char *s, size_t len, size_t *i, const char *alts)
{
    if (*i >= len || !strchr(alts, s[*i]) || s[*i] == '\0') return false;
    (*i)++;
    return true;
}

int ow_time_parse(const char *s, size_t len, int64_t *ms_out, ow_err *err)
{
    static const char *want =
        "expected an RFC 3339 time with zone like 2026-11-22T09:15:02.120+08:00";
    size_t i = 0;
    int Y, M, D, h, m, sec, ms = 0;
    if (!digits(s, len, &i, 4, &Y) || !expect(s, len, &i, "-") || !digits(s, len, &i, 2, &M) ||
        !expect(s, len, &i, "-") || !digits(s, len, &i, 2, &D) || !expect(s, len, &i, "Tt ") ||
        !digits(s, len, &i, 2, &h) || !expect(s, len, &i, ":") || !digits(s, len, &i, 2, &m) ||
        !expect(s, len, &i, ":") || !digits(s, len, &i, 2, &sec))
        return ow_err_set(err, OW_EINVAL, "%s", want);
    if (i < len && s[i] == '.') {
        i++;
        int nd = 0;
        while (i < len && isdigit((unsigned char)s[i])) {
            if (nd < 3) ms = ms * 10 + (s[i] - '0');
            nd++, i++;
        }
        if (nd == 0 || nd > 9) return ow_err_set(err, OW_EINVAL, "%s (1-9 fraction digits)", want);
        for (; nd < 3; nd++)
            ms *= 10;
    }
    int off_min = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1, oh, om;
        i++;
        if (!digits(s, len, &i, 2, &oh) || !expect(s, len, &i, ":") || !digits(s, len, &i, 2, &om))
            return ow_err_set(err, OW_EINVAL, "%s (zone must be Z or +HH:MM)", want);
        if (oh > 23 || om > 59) return ow_err_set(err, OW_EINVAL, "zone offset out of range");
        off_min = sign * (oh * 60 + om);
    } else {
        return ow_err_set(err, OW_EINVAL, "%s (the zone is missing)", want);
    }
    if (i != len) return ow_err_set(err, OW_EINVAL, "%s (unexpected text after the zone)", want);
    if (M < 1 || M > 12 || D < 1 || (unsigned)D > days_in_month(Y, (unsigned)M) || h > 23 ||
        m > 59 || sec > 60)
        return ow_err_set(err, OW_EINVAL, "date or time out of range (no such day or hour)");
    if (sec == 60) sec = 59, ms = 999;
    int64_t days = ow_days_from_civil(Y, (unsigned)M, (unsigned)D);
    int64_t t = ((days * 24 + h) * 60 + m - off_min) * 60 + sec;
    *ms_out = t * 1000 + ms;
    return OW_OK;
}

void ow_civil_from_days(int64_t days, int64_t *y_out, unsigned *m_out, unsigned *d_out)
{
    /* civil_from_days (Hinnant) */
    int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d_out = doy - (153 * mp + 2) / 5 + 1;
    *m_out = mp < 10 ? mp + 3 : mp - 9;
    *y_out = y + (*m_out <= 2);
}

void ow_time_format(int64_t ms, char out[OW_TIME_TEXT_MAX])
{
    /* floor division by remainders: negating ms or multiplying back overflows near INT64_MIN */
    int64_t secs = ms / 1000, days, rem;
    int msec = (int)(ms % 1000);
    if (msec < 0) secs--, msec += 1000;
    days = secs / 86400, rem = secs % 86400;
    if (rem < 0) days--, rem += 86400;
    int64_t y;
    unsigned m, d;
    ow_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) { /* outside RFC 3339's four digits: the general path */
        snprintf(out, OW_TIME_TEXT_MAX, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d,
                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), msec);
        return;
    }
    /* the common case by hand: alerts and snapshots format a time for every record */
    const int parts[] = {(int)y,          (int)m, (int)d, (int)(rem / 3600), (int)(rem / 60 % 60),
                         (int)(rem % 60), msec};
    static const int width[] = {4, 2, 2, 2, 2, 2, 3};
    static const char sep[] = "--T::.Z";
    char *o = out;
    for (int i = 0; i < 7; i++) {
        for (int k = width[i] - 1, v = parts[i]; k >= 0; k--, v /= 10)
            o[k] = (char)('0' + v % 10);
        o += width[i];
        *o++ = sep[i];
    }
    *o = '\0';
}

static const struct {
    const char *name;
    int64_t ms;
} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};

int ow_duration_parse(const char *s, int64_t *ms_out, ow_err *err)
{
    static const char *want = "expected a duration like \"15m\", \"2h\", \"1h30m\" or \"500ms\"";
    if (!s || !*s) return ow_err_set(err, OW_EINVAL, "%s, got an empty string", want);
    int64_t total = 0;
    const char *p = s;
    while (*p) {
        if (!isdigit((unsigned char)*p)) return ow_err_set(err, OW_EINVAL, "%s", want);
        int64_t n = 0;
        while (isdigit((unsigned char)*p)) {
            if (n > (INT64_MAX - 9) / 10) return ow_err_set(err, OW_ERANGE, "duration too large");
            n = n * 10 + (*p++ - '0');
        }
        size_t best = 0;
        int64_t scale = 0;
        for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
            size_t l = strlen(units[k].name);
            if (strncmp(p, units[k].name, l) == 0 && l > best) best = l, scale = units[k].ms;
        }
        if (!best) return ow_err_set(err, OW_EINVAL, "%s (unit must be ms, s, m, h or d)", want);
        p += best;
        if (n > (INT64_MAX - total) / scale)
            return ow_err_set(err, OW_ERANGE, "duration too large");
        total += n * scale;
    }
    *ms_out = total;
    return OW_OK;
}

void ow_duration_format(int64_t ms, char *out, size_t n)
{
    if (n == 0) return;
    out[0] = '\0';
    if (ms <= 0) {
        snprintf(out, n, "0s");
        return;
    }
    size_t used = 0;
    for (int k = (int)(sizeof units / sizeof units[0]) - 1; k >= 0 && used < n; k--) {
        int64_t q = ms / units[k].ms;
        if (!q) continue;
        ms -= q * units[k].ms;
        int w = snprintf(out + used, n - used, "%" PRId64 "%s", q, units[k].name);
        if (w < 0) return;
        used += (size_t)w;
    }
}

#include "tz.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

#define MAX_TYPES 256 /* the type index is one byte */

/* A POSIX TZ rule date: Mm.w.d (month, week 1-5 with 5 = last, weekday 0 = Sunday), Jn (day
 * 1-365, Feb 29 never counted) or n (day 0-365, Feb 29 counted), at `time` seconds local. */
typedef struct rule_date {
    char kind; /* 'M', 'J' or 'n' */
    int m, w, d, n;
    int32_t time;
} rule_date;

typedef struct posix_rule {
    bool present; /* a footer with a rule exists */
    bool has_dst;
    int32_t std_off, dst_off; /* seconds east of UTC */
    rule_date start, end;
} posix_rule;

struct ow_tz {
    int64_t *times; /* transition instants, UTC seconds, ascending */
    uint8_t *idx;   /* type of each transition */
    size_t ntimes;
    int32_t offs[MAX_TYPES];
    size_t ntypes;
    posix_rule rule;
};

static int bad(ow_err *err, const char *source, const char *what)
{
    return ow_err_set(err, OW_EINVAL, "%s: %s", source, what);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct header {
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} header;

static size_t block_size(const header *h, size_t tsize)
{
    return (size_t)h->timecnt * tsize + h->timecnt + (size_t)h->typecnt * 6 + h->charcnt +
           (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

static int read_header(const unsigned char *p, size_t len, header *h, const char *source,
                       ow_err *err)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return bad(err, source, "not a TZif file (no \"TZif\" magic at the start)");
    if (p[4] != 0 && (p[4] < '2' || p[4] > '4'))
        return bad(err, source, "unknown TZif version (expected 1 to 4)");
    h->isutcnt = be32(p + 20), h->isstdcnt = be32(p + 24), h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32), h->typecnt = be32(p + 36), h->charcnt = be32(p + 40);
    if (h->typecnt == 0 || h->typecnt > MAX_TYPES)
        return bad(err, source, "the number of local time types must be 1 to 256");
    if (h->charcnt == 0) return bad(err, source, "no time zone designations");
    if ((h->isutcnt && h->isutcnt != h->typecnt) || (h->isstdcnt && h->isstdcnt != h->typecnt))
        return bad(err, source, "UT/standard indicator counts differ from the type count");
    if (h->timecnt > OW_TZ_MAX_TRANSITIONS || h->leapcnt > OW_TZ_MAX_TRANSITIONS)
        return bad(err, source, "too many transitions (more than 10000)");
    return OW_OK;
}

/* Read a data block with `tsize`-byte times (4 for v1, 8 for v2+) into tz. */
static int read_block(ow_tz *tz, const unsigned char *p, const header *h, size_t tsize,
                      const char *source, ow_err *err)
{
    tz->ntimes = h->timecnt, tz->ntypes = h->typecnt;
    tz->times = malloc((h->timecnt ? h->timecnt : 1) * sizeof *tz->times);
    tz->idx = malloc(h->timecnt ? h->timecnt : 1);
    if (!tz->times || !tz->idx) return ow_err_set(err, OW_ENOMEM, "out of memory");
    for (size_t i = 0; i < h->timecnt; i++) {
        tz->times[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
        if (i && tz->times[i] <= tz->times[i - 1])
            return ow_err_set(err, OW_EINVAL, "%s: transition %zu is not after transition %zu",
                              source, i, i - 1);
    }
    p += h->timecnt * tsize;
    for (size_t i = 0; i < h->timecnt; i++) {
        tz->idx[i] = p[i];
        if (p[i] >= h->typecnt)
            return ow_err_set(err, OW_EINVAL, "%s: transition %zu names type %u of %u", source, i,
                              p[i], h->typecnt);
    }
    p += h->timecnt;
    for (size_t i = 0; i < h->typecnt; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < -26 * 3600 || off > 26 * 3600 || p[4] > 1 || p[5] >= h->charcnt)
            return ow_err_set(err, OW_EINVAL,
                              "%s: local time type %zu is invalid (offset within ±26 h, dst "
                              "flag 0 or 1, designation inside the table)",
                              source, i);
        tz->offs[i] = off;
    }
    return OW_OK;
}

/* --- the footer's POSIX TZ string ------------------------------------------------------- */

typedef struct cursor {
    const char *s, *end;
} cursor;

static bool at_end(const cursor *c)
{
    return c->s >= c->end;
}

static bool name(cursor *c)
{
    const char *start = c->s;
    if (!at_end(c) && *c->s == '<') {
        c->s++;
        while (!at_end(c) && *c->s != '>')
            c->s++;
        if (at_end(c)) return false;
        c->s++;
        return c->s - start >= 5; /* <> around at least 3 characters */
    }
    while (!at_end(c) && ((*c->s >= 'A' && *c->s <= 'Z') || (*c->s >= 'a' && *c->s <= 'z')))
        c->s++;
    return c->s - start >= 3;
}

static bool number(cursor *c, int max, int *out)
{
    int v = 0, digits = 0;
    while (!at_end(c) && *c->s >= '0' && *c->s <= '9' && digits < 4)
        v = v * 10 + (*c->s++ - '0'), digits++;
    if (!digits || v > max) return false;
    *out = v;
    return true;
}

/* [+-]hh[:mm[:ss]], hours up to max_h; seconds into *out (sign applied as written). */
static bool hms(cursor *c, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (!at_end(c) && (*c->s == '+' || *c->s == '-')) sign = *c->s++ == '-' ? -1 : 1;
    if (!number(c, max_h, &h)) return false;
    if (!at_end(c) && *c->s == ':') {
        c->s++;
        if (!number(c, 59, &m)) return false;
        if (!at_end(c) && *c->s == ':') {
            c->s++;
            if (!number(c, 59, &s)) return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

static bool rule_date_parse(cursor *c, rule_date *r)
{
    if (at_end(c)) return false;
    r->time = 7200; /* 02:00 when not given */
    if (*c->s == 'M') {
        c->s++;
        r->kind = 'M';
        if (!number(c, 12, &r->m) || r->m < 1 || at_end(c) || *c->s++ != '.' ||
            !number(c, 5, &r->w) || r->w < 1 || at_end(c) || *c->s++ != '.' || !number(c, 6, &r->d))
            return false;
    } else if (*c->s == 'J') {
        c->s++;
        r->kind = 'J';
        if (!number(c, 365, &r->n) || r->n < 1) return false;
    } else {
        r->kind = 'n';
        if (!number(c, 365, &r->n)) return false;
    }
    if (!at_end(c) && *c->s == '/') {
        c->s++;
        if (!hms(c, 167, &r->time)) return false; /* RFC 8536: -167..167 hours */
    }
    return true;
}

static bool posix_parse(const char *s, size_t n, posix_rule *r)
{
    cursor c = {s, s + n};
    memset(r, 0, sizeof *r);
    int32_t off;
    if (!name(&c) || !hms(&c, 24, &off)) return false;
    r->std_off = -off; /* POSIX offsets are west-positive */
    r->present = true;
    if (at_end(&c)) return true;
    if (!name(&c)) return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (!at_end(&c) && *c.s != ',') {
        if (!hms(&c, 24, &off)) return false;
        r->dst_off = -off;
    }
    if (at_end(&c)) { /* no rule: POSIX leaves it to the implementation; US rules are common */
        r->start = (rule_date){'M', 3, 2, 0, 0, 7200};
        r->end = (rule_date){'M', 11, 1, 0, 0, 7200};
        return true;
    }
    if (*c.s++ != ',' || !rule_date_parse(&c, &r->start) || at_end(&c) || *c.s++ != ',' ||
        !rule_date_parse(&c, &r->end))
        return false;
    return at_end(&c);
}

/* Day number (since 1970-01-01) of a rule date in year y. */
static int64_t rule_day(const rule_date *r, int64_t y)
{
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int64_t jan1 = ow_days_from_civil(y, 1, 1);
    if (r->kind == 'J') return jan1 + r->n - 1 + (leap && r->n >= 60);
    if (r->kind == 'n') return jan1 + r->n;
    int64_t first = ow_days_from_civil(y, (unsigned)r->m, 1);
    int wday_first = (int)(((first % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday (4) */
    int64_t day = first + (r->d - wday_first + 7) % 7 + (int64_t)(r->w - 1) * 7;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t last = first + mdays[r->m - 1] + (r->m == 2 && leap) - 1;
    while (day > last)
        day -= 7; /* week 5 = the last such weekday */
    return day;
}

static int32_t posix_offset(const posix_rule *r, int64_t utc_s)
{
    if (!r->has_dst) return r->std_off;
    int64_t days = (utc_s + r->std_off) / 86400 - ((utc_s + r->std_off) % 86400 < 0);
    int64_t y;
    unsigned m, d;
    ow_civil_from_days(days, &y, &m, &d);
    /* start is given in standard time, end in daylight time */
    int64_t start = rule_day(&r->start, y) * 86400 + r->start.time - r->std_off;
    int64_t end = rule_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
    bool dst = start < end ? (utc_s >= start && utc_s < end) : !(utc_s >= end && utc_s < start);
    return dst ? r->dst_off : r->std_off;
}

int ow_tz_parse(const unsigned char *data, size_t len, const char *source, ow_tz **out, ow_err *err)
{
    *out = NULL;
    header h1, h2;
    int rc = read_header(data, len, &h1, source, err);
    if (rc) return rc;
    size_t b1 = block_size(&h1, 4);
    if (len - 44 < b1) return bad(err, source, "truncated (the data block is cut short)");
    ow_tz *tz = calloc(1, sizeof *tz);
    if (!tz) return ow_err_set(err, OW_ENOMEM, "out of memory");
    if (data[4] == 0) { /* version 1: 32-bit times only, no footer */
        rc = read_block(tz, data + 44, &h1, 4, source, err);
    } else {
        const unsigned char *p = data + 44 + b1;
        size_t left = len - 44 - b1;
        if ((rc = read_header(p, left, &h2, source, err))) goto out;
        size_t b2 = block_size(&h2, 8);
        if (left - 44 < b2) {
            rc = bad(err, source, "truncated (the 64-bit data block is cut short)");
            goto out;
        }
        if ((rc = read_block(tz, p + 44, &h2, 8, source, err))) goto out;
        const char *f = (const char *)p + 44 + b2, *end = (const char *)data + len;
        if (f >= end || *f != '\n') {
            rc = bad(err, source, "no footer line after the 64-bit data block");
            goto out;
        }
        const char *nl = memchr(f + 1, '\n', (size_t)(end - f - 1));
        if (!nl) {
            rc = bad(err, source, "the footer line is not ended by a newline");
            goto out;
        }
        if (nl > f + 1 && !posix_parse(f + 1, (size_t)(nl - f - 1), &tz->rule)) {
            rc = ow_err_set(err, OW_EINVAL,
                            "%s: footer \"%.*s\" is not a POSIX TZ rule this reader knows", source,
                            (int)(nl - f - 1 > 60 ? 60 : nl - f - 1), f + 1);
            goto out;
        }
    }
out:
    if (rc) {
        ow_tz_free(tz);
        return rc;
    }
    *out = tz;
    return OW_OK;
}

void ow_tz_free(ow_tz *tz)
{
    if (!tz) return;
    free(tz->times);
    free(tz->idx);
    free(tz);
}

bool ow_tz_name_ok(const char *z)
{
    if (!z[0] || z[0] == '/' || strstr(z, "..")) return false;
    for (const char *c = z; *c; c++)
        if (!isalnum((unsigned char)*c) && !strchr("/_+-", *c)) return false;
    return true;
}

int32_t ow_tz_offset(const ow_tz *tz, int64_t utc_s)
{
    if (tz->ntimes == 0 || utc_s < tz->times[0])
        return tz->ntimes == 0 && tz->rule.present ? posix_offset(&tz->rule, utc_s) : tz->offs[0];
    if (utc_s >= tz->times[tz->ntimes - 1] && tz->rule.present)
        return posix_offset(&tz->rule, utc_s);
    size_t lo = 0, hi = tz->ntimes; /* the last transition at or before utc_s */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->times[mid] <= utc_s)
            lo = mid;
        else
            hi = mid;
    }
    return tz->offs[tz->idx[lo]];
}

int64_t ow_tz_local_to_utc(const ow_tz *tz, int64_t local_ms, ow_tz_kind *kind)
{
    int64_t ls = local_ms / 1000 - (local_ms % 1000 < 0), frac = local_ms - ls * 1000;
    /* zones change offset at most once within a day and a bit: the offsets in force a day
     * before and a day after are the only candidates */
    int32_t before = ow_tz_offset(tz, ls - 93600), after = ow_tz_offset(tz, ls + 93600);
    int64_t u1 = ls - before, u2 = ls - after;
    bool ok1 = ow_tz_offset(tz, u1) == before, ok2 = ow_tz_offset(tz, u2) == after;
    ow_tz_kind k = OW_TZ_UNIQUE;
    int64_t u;
    if (ok1 && ok2 && u1 != u2) {
        k = OW_TZ_AMBIGUOUS;
        u = u1 < u2 ? u1 : u2;
    } else if (ok1 || ok2) {
        u = ok1 ? u1 : u2;
    } else {
        k = OW_TZ_GAP;
        u = u1;
    }
    if (kind) *kind = k;
    return u * 1000 + frac;
}

#define TZ_DAY_MS (86400 * INT64_C(1000))

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t ow_tz_offset_ms(const ow_tz *tz, int64_t fixed_ms, int64_t utc_ms)
{
    return tz ? (int64_t)ow_tz_offset(tz, floor_div(utc_ms, 1000)) * 1000 : fixed_ms;
}

int64_t ow_tz_midnight(const ow_tz *tz, int64_t fixed_ms, int64_t local_day_ms)
{
    return tz ? ow_tz_local_to_utc(tz, local_day_ms, NULL) : local_day_ms - fixed_ms;
}

int64_t ow_tz_local_day(const ow_tz *tz, int64_t fixed_ms, int64_t utc_ms)
{
    return floor_div(utc_ms + ow_tz_offset_ms(tz, fixed_ms, utc_ms), TZ_DAY_MS) * TZ_DAY_MS;
}

int64_t ow_tz_day_start(const ow_tz *tz, int64_t fixed_ms, int64_t utc_ms)
{
    int64_t day = ow_tz_local_day(tz, fixed_ms, utc_ms), utc = ow_tz_midnight(tz, fixed_ms, day);
    /* never after utc_ms, even with hostile zone data */
    return utc <= utc_ms ? utc : day - ow_tz_offset_ms(tz, fixed_ms, utc_ms);
}

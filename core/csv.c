#include "csv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum state {
    FIELD_START, /* at the start of a field */
    UNQUOTED,    /* inside an unquoted field */
    QUOTED,      /* inside a quoted field */
    QUOTE_SEEN,  /* a quote inside a quoted field: "" (a quote) or the closing quote */
    AFTER_QUOTE  /* after the closing quote: only a comma or a line break may follow */
};

struct ow_csv {
    ow_csv_limits lim;
    enum state st;
    bool in_record; /* some byte of the current record was read */
    bool skip_lf;   /* the last record ended with CR: a following LF belongs to it */
    bool head_done; /* the byte-order-mark check at the start is over */
    unsigned char head[3];
    int nhead;
    int64_t number, line, rec_line;
    /* the current record: fields' bytes one after another, each NUL-terminated */
    char *fbuf;
    size_t flen, fcap;
    size_t field_start; /* offset in fbuf of the current field */
    size_t *starts;     /* offsets of complete fields */
    size_t nfields, cap_fields;
    char *raw;
    size_t raw_len, raw_cap;
    char err[160]; /* first problem of the current record, "" = none */
    /* what the callback sees */
    const char **ptrs;
    size_t *lens;
};

ow_csv *ow_csv_new(ow_csv_limits lim)
{
    if (!lim.max_field || !lim.max_record || !lim.max_fields) return NULL;
    ow_csv *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->lim = lim;
    p->line = 1;
    p->fcap = 256, p->raw_cap = 256, p->cap_fields = 16;
    p->fbuf = malloc(p->fcap);
    p->raw = malloc(p->raw_cap);
    p->starts = malloc(p->cap_fields * sizeof *p->starts);
    if (!p->fbuf || !p->raw || !p->starts) {
        ow_csv_free(p);
        return NULL;
    }
    p->rec_line = 1;
    return p;
}

void ow_csv_free(ow_csv *p)
{
    if (!p) return;
    free(p->fbuf);
    free(p->raw);
    free(p->starts);
    free(p->ptrs);
    free(p->lens);
    free(p);
}

/* Keep the first problem of a record (later ones are usually its consequences). */
static void set_err(ow_csv *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(ow_csv *p, const char *fmt, ...)
{
    if (p->err[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof p->err, fmt, ap);
    va_end(ap);
}

/* Grow *buf to hold need bytes; false on out of memory. */
static bool reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return true;
    size_t c = *cap * 2;
    while (c < need)
        c *= 2;
    char *q = realloc(*buf, c);
    if (!q) return false;
    *buf = q, *cap = c;
    return true;
}

static int put_raw(ow_csv *p, char c)
{
    if (p->raw_len >= p->lim.max_record) {
        set_err(p, "record longer than %lld bytes (the limit)", (long long)p->lim.max_record);
        return OW_OK; /* kept cut: the reject shows the start of the record */
    }
    if (!reserve(&p->raw, &p->raw_cap, p->raw_len + 1)) return OW_ENOMEM;
    p->raw[p->raw_len++] = c;
    return OW_OK;
}

static int put_field(ow_csv *p, char c)
{
    if (c == '\0') {
        set_err(p, "field %lld holds a NUL byte", (long long)p->nfields + 1);
        return OW_OK;
    }
    if (p->flen - p->field_start >= p->lim.max_field) {
        set_err(p, "field %lld is longer than %lld bytes (the limit)", (long long)p->nfields + 1,
                (long long)p->lim.max_field);
        return OW_OK;
    }
    if (!reserve(&p->fbuf, &p->fcap, p->flen + 2)) return OW_ENOMEM;
    p->fbuf[p->flen++] = c;
    return OW_OK;
}

static int end_field(ow_csv *p)
{
    if (p->nfields >= p->lim.max_fields) {
        set_err(p, "more than %lld fields (the limit)", (long long)p->lim.max_fields);
        p->flen = p->field_start; /* dropped */
        return OW_OK;
    }
    if (!reserve(&p->fbuf, &p->fcap, p->flen + 1)) return OW_ENOMEM;
    p->fbuf[p->flen++] = '\0';
    if (p->nfields == p->cap_fields) {
        size_t *q = realloc(p->starts, 2 * p->cap_fields * sizeof *q);
        if (!q) return OW_ENOMEM;
        p->starts = q, p->cap_fields *= 2;
    }
    p->starts[p->nfields++] = p->field_start;
    p->field_start = p->flen;
    return OW_OK;
}

static int end_record(ow_csv *p, ow_csv_record_fn fn, void *arg)
{
    int rc = end_field(p);
    if (rc) return rc;
    const char **ptrs = realloc(p->ptrs, p->nfields * sizeof *ptrs);
    if (!ptrs) return OW_ENOMEM;
    p->ptrs = ptrs;
    size_t *lens = realloc(p->lens, p->nfields * sizeof *lens);
    if (!lens) return OW_ENOMEM;
    p->lens = lens;
    for (size_t i = 0; i < p->nfields; i++) {
        size_t end = i + 1 < p->nfields ? p->starts[i + 1] - 1 : p->flen - 1;
        p->ptrs[i] = p->fbuf + p->starts[i];
        p->lens[i] = end - p->starts[i];
    }
    if (!reserve(&p->raw, &p->raw_cap, p->raw_len + 1)) return OW_ENOMEM;
    p->raw[p->raw_len] = '\0';
    p->number++;
    ow_csv_record rec = {.number = p->number,
                         .line = p->rec_line,
                         .nfields = p->nfields,
                         .fields = p->ptrs,
                         .lens = p->lens,
                         .raw = p->raw,
                         .raw_len = p->raw_len,
                         .error = p->err[0] ? p->err : NULL};
    rc = fn(&rec, arg);
    p->flen = p->field_start = p->nfields = p->raw_len = 0;
    p->err[0] = '\0';
    p->in_record = false;
    p->st = FIELD_START;
    p->rec_line = p->line;
    return rc;
}

/* One byte of the input (after the byte-order-mark check). */
static int step(ow_csv *p, char c, ow_csv_record_fn fn, void *arg)
{
    if (p->skip_lf) {
        p->skip_lf = false;
        if (c == '\n') return OW_OK; /* the LF of a CRLF */
    }
    bool newline = c == '\n' || c == '\r';
    int rc = OW_OK;
    switch (p->st) {
    case QUOTED:
        if (c == '"') {
            p->st = QUOTE_SEEN;
        } else {
            if (c == '\n') p->line++; /* line breaks inside quotes are kept as they are */
            rc = put_field(p, c);
        }
        if (!rc) rc = put_raw(p, c);
        return rc;
    case QUOTE_SEEN:
        if (c == '"') { /* "" is one quote */
            p->st = QUOTED;
            rc = put_field(p, '"');
            return rc ? rc : put_raw(p, c);
        }
        p->st = AFTER_QUOTE;
        /* fall through: the byte after the closing quote */
    case AFTER_QUOTE:
    case FIELD_START:
    case UNQUOTED: break;
    }
    if (newline) {
        p->line++;
        if (c == '\r') p->skip_lf = true;
        return end_record(p, fn, arg);
    }
    p->in_record = true;
    if ((rc = put_raw(p, c))) return rc;
    if (c == ',') {
        p->st = FIELD_START;
        return end_field(p);
    }
    switch (p->st) {
    case FIELD_START:
        if (c == '"') {
            p->st = QUOTED;
            return OW_OK;
        }
        p->st = UNQUOTED;
        return put_field(p, c);
    case AFTER_QUOTE:
        set_err(p,
                "field %lld: text after the closing quote (a quote inside a field is written "
                "\"\")",
                (long long)p->nfields + 1);
        p->st = UNQUOTED;
        return put_field(p, c);
    default: /* UNQUOTED */
        if (c == '"')
            set_err(p,
                    "field %lld: a quote inside an unquoted field (quote the whole field and "
                    "write the quote as \"\")",
                    (long long)p->nfields + 1);
        return put_field(p, c);
    }
}

static int step_all(ow_csv *p, const char *d, size_t n, ow_csv_record_fn fn, void *arg)
{
    for (size_t i = 0; i < n; i++) {
        int rc = step(p, d[i], fn, arg);
        if (rc) return rc;
    }
    return OW_OK;
}

int ow_csv_feed(ow_csv *p, const char *data, size_t n, ow_csv_record_fn fn, void *arg)
{
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    size_t i = 0;
    while (!p->head_done && i < n) {
        p->head[p->nhead++] = (unsigned char)data[i++];
        if (memcmp(p->head, bom, (size_t)p->nhead) != 0) {
            p->head_done = true; /* not a byte-order mark: those bytes are data */
            int rc = step_all(p, (const char *)p->head, (size_t)p->nhead, fn, arg);
            if (rc) return rc;
        } else if (p->nhead == 3) {
            p->head_done = true; /* dropped */
        }
    }
    return step_all(p, data + i, n - i, fn, arg);
}

int ow_csv_finish(ow_csv *p, ow_csv_record_fn fn, void *arg)
{
    if (!p->head_done) {
        p->head_done = true;
        int rc = step_all(p, (const char *)p->head, (size_t)p->nhead, fn, arg);
        if (rc) return rc;
    }
    p->skip_lf = false;
    if (p->st == QUOTED)
        set_err(p, "a quote opened in field %lld is never closed (the input ends inside it)",
                (long long)p->nfields + 1);
    if (!p->in_record && p->st != QUOTED && p->st != QUOTE_SEEN) return OW_OK;
    return end_record(p, fn, arg);
}

int ow_csv_find(const ow_csv_record *rec, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < rec->nfields; i++)
        if (rec->lens[i] == n && memcmp(rec->fields[i], name, n) == 0) return (int)i;
    return -1;
}

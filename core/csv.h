/*
 * csv — a streaming CSV reader (RFC 4180) for exports of other ticket systems.
 *
 * Push style: the caller feeds bytes in chunks of any size (ow_csv_feed) and gets one callback per
 * complete record; ow_csv_finish ends the input. Memory is bounded by the limits, never by the
 * file: a field longer than max_field, a record longer than max_record bytes or with more than
 * max_fields fields is reported as a bad record (with its number and the reason) and skipped to
 * its end; reading goes on with the next record.
 *
 * Accepted: quoted fields with "" for a quote, commas and line breaks inside quotes, records ended
 * by LF, CRLF or a lone CR, a UTF-8 byte-order mark at the very start (dropped), a last record
 * without a line break. Bad records (reported, not fatal): a quote inside an unquoted field, text
 * after a closing quote, a quote still open at the end of the input, a NUL byte, the limits above.
 * Bytes are passed through as they are (UTF-8 checking is the caller's business).
 *
 * Pure: no I/O. Lifecycle: ow_csv_new → ow_csv_feed* → ow_csv_finish → ow_csv_free.
 */
#ifndef OW_CSV_H
#define OW_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct ow_csv_limits {
    size_t max_field;  /* bytes of one field after unquoting */
    size_t max_record; /* bytes of one record as in the file (its raw text) */
    size_t max_fields; /* fields per record */
} ow_csv_limits;

/* 64 KiB fields and records (the event size limit), 1024 fields. */
#define OW_CSV_LIMITS_DEFAULT ((ow_csv_limits){64 * 1024, 64 * 1024, 1024})

/* One record, valid only during the callback (all pointers borrow the reader's buffers). */
typedef struct ow_csv_record {
    int64_t number; /* 1 = the first record (the header line of most exports) */
    int64_t line;   /* physical line where it starts, 1-based (differs with quoted line breaks) */
    size_t nfields;
    const char *const *fields; /* unquoted, each NUL-terminated */
    const size_t *lens;
    const char *raw;   /* the record's bytes as in the file, without its line break */
    size_t raw_len;    /* (cut at max_record bytes for an oversized record) */
    const char *error; /* NULL for a good record; else why it is bad (fields then unreliable) */
} ow_csv_record;

/* Return OW_OK to go on; any other value stops the reader and is returned by feed/finish. */
typedef int (*ow_csv_record_fn)(const ow_csv_record *rec, void *arg);

typedef struct ow_csv ow_csv;

/* NULL on out of memory. */
ow_csv *ow_csv_new(ow_csv_limits limits);
void ow_csv_free(ow_csv *p); /* NULL is a no-op */

/* Feed the next n bytes. Calls fn for every record they complete. Returns OW_OK, OW_ENOMEM, or
 * the first non-OK value fn returned. */
int ow_csv_feed(ow_csv *p, const char *data, size_t n, ow_csv_record_fn fn, void *arg);

/* End of input: delivers the last record when it had no line break. */
int ow_csv_finish(ow_csv *p, ow_csv_record_fn fn, void *arg);

/* Index of the field whose text equals name in a (header) record, or -1. */
int ow_csv_find(const ow_csv_record *rec, const char *name);

#endif

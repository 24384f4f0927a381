/*
 * source — how input of any format becomes records for the appender.
 *
 * A decoder turns the bytes of one input (a file, stdin, a .gz of either) into records: one NDJSON
 * event line each, with its position (line or row number) for rejects and for --from-line. The
 * file reader (file_source.c) owns reading, decompression, pacing (--speed), resuming
 * (--from-line), progress and backpressure; a decoder only cuts and converts. A new input format
 * is a new decoder and one row in file_source.c's format table:
 *
 *   ndjson  ndjson_decoder_new (this file's NDJSON lines; the default)
 *   csv     (ingest/csv_source.c: CSV exports mapped to events)
 *
 * Pull style, so the reader can stop between any two records (a full buffer, a paced event)
 * without copying: feed() lends the decoder a piece of input until next() returns 0.
 */
#ifndef OW_INGEST_SOURCE_H
#define OW_INGEST_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

typedef struct ow_record {
    const char *text;   /* the event line (borrowed until the next feed/next/finish) */
    size_t len;         /* bytes in text */
    size_t total;       /* the record's real length; > len when cut at 64 KiB */
    int64_t pos;        /* 1-based line or row number in the input: what --from-line counts */
    const char *reject; /* non-NULL: the decoder itself refuses the record, for this reason
                           (text is then the raw input); NULL: validate text as an event */
} ow_record;

typedef struct ow_decoder ow_decoder;

typedef struct ow_decoder_ops {
    const char *format; /* "ndjson", "csv" */
    const char *unit;   /* what pos counts, for messages: "line", "row" */
    /* Lend the next piece of input (plain bytes, already decompressed). */
    void (*feed)(ow_decoder *d, const char *data, size_t n);
    /* 1: *out is the next record; 0: the piece is used up; < 0: a fatal error (err). */
    int (*next)(ow_decoder *d, ow_record *out, ow_err *err);
    /* End of input: 1 with a last record, 0 when none is left; < 0 a fatal error. */
    int (*finish)(ow_decoder *d, ow_record *out, ow_err *err);
    void (*free)(ow_decoder *d);
} ow_decoder_ops;

/* Every decoder starts with this (implementations embed it as their first member). */
struct ow_decoder {
    const ow_decoder_ops *ops;
};

/* Make a decoder for the input at `path` ("-" for stdin). NULL with err on failure. */
typedef ow_decoder *ow_decoder_new_fn(const ow_config *cfg, const char *path, ow_err *err);

/* NDJSON: one event per line, lines over 64 KiB cut (and then rejected). */
ow_decoder *ow_ndjson_decoder_new(const ow_config *cfg, const char *path, ow_err *err);

#endif

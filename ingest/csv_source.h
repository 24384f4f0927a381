/*
 * csv_source — ingest's CSV source: a ticket system's export, through a column mapping
 * (core/csvmap.h), into the same validate → de-duplicate → append path as NDJSON.
 *
 *   opswall-ingest --csv MAPPING FILE                  import every row (file order) into Redis
 *   opswall-ingest --csv MAPPING FILE --ndjson         write the events, in time order, to stdout
 *   opswall-ingest --csv MAPPING FILE --speed N        replay: the created-time window at N×
 *
 * Before the first row: the mapping, the time zone (/usr/share/zoneinfo/<zone>, or $TZDIR) and
 * the city's regions (city.regions) are loaded, and the header must name every mapped column;
 * any problem there stops the import with nothing appended. Then each row is all or nothing: its
 * events are made and validated together; a row that fails goes to ops:rejects (source, row,
 * reason, raw text) and is counted. At the end one JSON line of counts goes to stdout (stderr with
 * --ndjson): rows per outcome and per region, events appended and duplicates.
 */
#ifndef OW_CSV_SOURCE_H
#define OW_CSV_SOURCE_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sync_appender.h"
#include "config.h"
#include "err.h"
#include "event.h"

typedef struct ow_csv_opts {
    const char *mapping; /* mapping file path */
    const char *file;    /* CSV export path, "-" = stdin */
    bool ndjson;         /* write events to stdout instead of Redis */
    double speed;        /* > 0: paced replay at this speed (needs Redis) */
} ow_csv_opts;

/* Where the rows go. Today the synchronous appender (ow_csv_import below); an asynchronous
 * appender plugs in with the same two calls. `event` gets each event of an imported row (already
 * validated: ev is ow_event_parse of text); `reject` each rejected row (row = data row number,
 * reason names file, row, line and column; raw = the row as in the file). */
typedef struct ow_csv_sink {
    int (*event)(void *ud, const ow_event *ev, const char *text, size_t len, ow_err *err);
    int (*reject)(void *ud, const char *source, int64_t row, const char *reason, const char *raw,
                  size_t len, ow_err *err);
    void *ud;
} ow_csv_sink;

typedef struct ow_csv_import ow_csv_import;

/* Load the mapping, the zone and the city's regions, and open the file. *out is owned by the
 * caller (ow_csv_import_close). cfg and opts are borrowed for its lifetime. */
int ow_csv_import_open(const ow_config *cfg, const ow_csv_opts *opts, ow_csv_import **out,
                       ow_err *err);

/* Read the next chunk (64 KiB) and send its rows to the sink (NULL = count only); with --ndjson
 * or --speed the events are held and sorted by time at the end instead. Returns 1 while more
 * input remains, 0 at the end, or an error (a bad header stops here before any row is sent).
 * A source with backpressure calls it again when its sink has room. */
int ow_csv_import_pump(ow_csv_import *im, const ow_csv_sink *sink, ow_err *err);

/* The held events, one per line, in time order (--ndjson). */
void ow_csv_import_write_ndjson(const ow_csv_import *im, FILE *out);

/* The counts as one JSON line (docs/csv-import.md); appended/duplicates come from the sink. */
void ow_csv_import_summary(const ow_csv_import *im, FILE *out, int64_t appended,
                           int64_t duplicates);

/* --speed: fix the window (whole local days around the created times) and the wall instant it
 * starts (now + 1 s); *descriptor (OW_REPLAY_TEXT_MAX bytes) is what goes to OW_KEY_REPLAY
 * before the first event. */
int ow_csv_import_replay_begin(ow_csv_import *im, int64_t wall_now_ms, char *descriptor,
                               ow_err *err);

/* Send every held event whose time has played by wall_now_ms. Returns 1 with *next_wall_ms = when
 * the next one is due, 0 when the window is played out, or an error. */
int ow_csv_import_replay_play(ow_csv_import *im, const ow_csv_sink *sink, int64_t wall_now_ms,
                              int64_t *next_wall_ms, ow_err *err);

void ow_csv_import_close(ow_csv_import *im); /* NULL is a no-op */

/* The whole import with the synchronous appender: pump to the end, flush, print the counts, and
 * with --speed write the descriptor and play the window. `app` and `c` (borrowed) are NULL with
 * opts->ndjson. Returns 0 when the import ran (rejected rows are not failures), non-zero on a
 * setup error (mapping, zone, regions, header) or a Redis/IO error, with err set. */
int ow_csv_import_run(const ow_config *cfg, const ow_csv_opts *opts, redisContext *c,
                      ow_sync_appender *app, ow_err *err);

/* "--csv MAPPING FILE [--ndjson] [--speed N]" from argv: fills *opts and returns true when
 * --csv is there; *bad is set on a malformed use (message printed). Used by ingest/main.c. */
bool ow_csv_args(int argc, char **argv, ow_csv_opts *opts, bool *bad);

#endif

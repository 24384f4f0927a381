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

#include "appender.h"
#include "config.h"
#include "err.h"

typedef struct ow_csv_opts {
    const char *mapping; /* mapping file path */
    const char *file;    /* CSV export path, "-" = stdin */
    bool ndjson;         /* write events to stdout instead of Redis */
    double speed;        /* > 0: paced replay at this speed (needs Redis) */
} ow_csv_opts;

/* Run one import. `app` and `c` (borrowed) are the Redis path; both NULL with opts->ndjson.
 * Returns 0 when the import ran (rejected rows are not failures), non-zero on a setup error
 * (mapping, zone, regions, header) or a Redis/IO error, with err set. */
int ow_csv_import(const ow_config *cfg, const ow_csv_opts *opts, redisContext *c, ow_appender *app,
                  ow_err *err);

/* "--csv MAPPING FILE [--ndjson] [--speed N]" from argv: fills *opts and returns true when
 * --csv is there; *bad is set on a malformed use (message printed). Used by ingest/main.c. */
bool ow_csv_args(int argc, char **argv, ow_csv_opts *opts, bool *bad);

#endif

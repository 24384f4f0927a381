/*
 * csvmap — turning rows of a ticket system's CSV export into opswall lifecycle events, through a
 * column-mapping file in config/mappings/ (format in docs/csv-import.md).
 *
 * The mapping names every column it uses (no column name lives in C code): which column is the
 * order id, the created and closed times, the status, category, channel, region, latitude and
 * longitude, address and who resolved it; how status values map to outcomes (open, resolved,
 * closed, cancelled), how source values map to channels, how categories map to priorities; the
 * time format and the export's time zone.
 *
 * A row becomes, all or nothing:
 *   order.created  at the created time (category, priority, channel, region, lat/lon, address);
 *   then by the status's outcome, at the closed time:  resolved → order.resolved;
 *   closed → order.resolved + order.closed;  cancelled → order.cancelled;  open → nothing.
 * The region is the region column's value (mapped through region_values when given), which must
 * name a region of the city; when the column is empty and the row has coordinates, the region
 * containing them (point in polygon). A row that breaks a rule produces no event and one message
 * naming the row, the column and the value.
 *
 * Pure: mapping text, the header record, rows, the parsed time zone and regions come in; event
 * JSON texts (event contract v1) go out. Lifecycle: ow_csvmap_parse → ow_csvmap_bind (header)
 * → ow_csvmap_row* → ow_csvmap_free.
 */
#ifndef OW_CSVMAP_H
#define OW_CSVMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "csv.h"
#include "err.h"
#include "regions.h"
#include "tz.h"

/* The roles a column can play, in mapping order. X(enum suffix, key in "columns", required) */
#define OW_CSVMAP_ROLES(X)                                                                         \
    X(ORDER_ID, "order_id", true)                                                                  \
    X(CREATED, "created", true)                                                                    \
    X(CLOSED, "closed", false)                                                                     \
    X(STATUS, "status", false)                                                                     \
    X(CATEGORY, "category", true)                                                                  \
    X(PRIORITY, "priority", false)                                                                 \
    X(CHANNEL, "channel", false)                                                                   \
    X(REGION, "region", false)                                                                     \
    X(LAT, "lat", false)                                                                           \
    X(LON, "lon", false)                                                                           \
    X(ADDRESS, "address", false)                                                                   \
    X(RESOLVED_BY, "resolved_by", false)

typedef enum {
#define OW_CSVMAP_ENUM(e, key, req) OW_COL_##e,
    OW_CSVMAP_ROLES(OW_CSVMAP_ENUM)
#undef OW_CSVMAP_ENUM
        OW_COL__COUNT
} ow_csvmap_role;

/* What a status value means for the order. */
typedef enum {
    OW_OUTCOME_OPEN,
    OW_OUTCOME_RESOLVED,
    OW_OUTCOME_CLOSED, /* resolved and closed */
    OW_OUTCOME_CANCELLED,
    OW_OUTCOME__COUNT
} ow_csv_outcome;

typedef struct ow_csvmap ow_csvmap;

/* Parse a mapping file's text; `source` (its path) prefixes messages, which name the JSON path:
 * "config/mappings/la311.json: channel_values.Call: expected one of phone|app|wechat|web|walkin|
 * other, got "telephone"". On success *out is owned by the caller (ow_csvmap_free). */
int ow_csvmap_parse(const char *text, size_t len, const char *source, ow_csvmap **out, ow_err *err);
void ow_csvmap_free(ow_csvmap *m);

const char *ow_csvmap_time_zone(const ow_csvmap *m); /* e.g. "America/Los_Angeles" */
const char *ow_csvmap_name(const ow_csvmap *m);      /* the mapping's "name" */
/* The column name mapped to a role, or NULL when the mapping does not use one. */
const char *ow_csvmap_column(const ow_csvmap *m, ow_csvmap_role role);

/* Find every mapped column in the header record. Fails, naming the CSV file (`csv_source`), the
 * mapping path and the columns the header does have, when a mapped column is missing or named
 * twice in the header. */
int ow_csvmap_bind(ow_csvmap *m, const ow_csv_record *header, const char *csv_source, ow_err *err);

#define OW_CSVMAP_MAX_EVENTS 3

/* What one row became. Reused from row to row (ow_csvmap_row_init / _fini). */
typedef struct ow_csvmap_row {
    int nevents;
    ow_buf events[OW_CSVMAP_MAX_EVENTS]; /* event JSON texts (one line each) */
    char order_id[OW_ID_BUF];
    char region[OW_NAME_BUF];
    ow_csv_outcome outcome;
    bool has_geo;        /* the row had coordinates */
    bool located;        /* the region came from the coordinates (point in polygon) */
    bool outside_region; /* coordinates given but not inside the named region */
    int64_t created_ms;  /* UTC */
    int64_t ended_ms;    /* resolved/closed/cancelled instant, or INT64_MIN */
    int ambiguous_times; /* local times in a fall-back hour (earlier instant taken) */
    int gap_times;       /* local times in a spring-forward gap */
} ow_csvmap_row;

void ow_csvmap_row_init(ow_csvmap_row *r);
void ow_csvmap_row_fini(ow_csvmap_row *r);

/* Turn one bound data record into events. `regions` may be NULL (then region values are taken as
 * they are and rows without one are refused). On failure returns OW_EINVAL with err reading like
 *   CreatedDate: expected a time like "%m/%d/%Y %I:%M:%S %p", got "2017-12-27 10:00"
 * (callers add the file and row). */
int ow_csvmap_row_make(const ow_csvmap *m, const ow_csv_record *rec, const ow_tz *tz,
                       const ow_regions *regions, ow_csvmap_row *out, ow_err *err);

/* Parse a local time with a strptime-like format (%Y %m %d %H %I %M %S %p %f %%); whole text.
 * Result: ms since 1970-01-01T00:00 local. Exposed for tests. */
int ow_csvmap_time_parse(const char *fmt, const char *s, size_t len, int64_t *local_ms);

#endif

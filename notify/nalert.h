/*
 * nalert — an alert as delivery sees it (DESIGN §7), its labels, and matchers over them.
 *
 * The engine writes every alert once to ops:{p0}:alerts (field d = the alert JSON); delivery
 * parses that text into an ow_nalert: the stable id, the instants and numbers the templates need,
 * and the *labels* that routes, silences and inhibit rules match on: kind, level, region, stage,
 * category, priority, flag. A label the alert does not carry is "" (matches nothing but "").
 *
 * A matcher is a set of label → allowed values (all must hold; an empty matcher matches every
 * alert) plus an optional time-of-day window, evaluated at the alert's `at` (event time: the same
 * alerts always route the same way, in replay as in live).
 *
 * Pure: text in, structs out; no clock, no I/O.
 */
#ifndef OW_NALERT_H
#define OW_NALERT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h" /* ow_calendar */
#include "err.h"

#define OW_NALERT_MAX_BYTES (64 * 1024) /* an alert JSON longer than this is refused */
#define OW_MATCH_VALUES_MAX 64          /* values per label in one matcher */

/* The labels, in the order matchers list them. */
#define OW_LABELS(X)                                                                               \
    X(KIND, "kind")                                                                                \
    X(LEVEL, "level")                                                                              \
    X(REGION, "region")                                                                            \
    X(STAGE, "stage")                                                                              \
    X(CATEGORY, "category")                                                                        \
    X(PRIORITY, "priority")                                                                        \
    X(FLAG, "flag")

typedef enum {
#define OW_LBL_ENUM(e, name) OW_LBL_##e,
    OW_LABELS(OW_LBL_ENUM)
#undef OW_LBL_ENUM
        OW_LBL__COUNT
} ow_label;

const char *ow_label_name(ow_label l);
int ow_label_parse(const char *name); /* ow_label or -1 */

typedef struct ow_nalert {
    char *id;                   /* stable alert id (owned) */
    char *label[OW_LBL__COUNT]; /* owned, never NULL ("" when absent) */
    char *subject;              /* order_id, complaint_id, or the flag's name (owned) */
    char *summary;              /* flags: the engine's one line for people, else "" (owned) */
    bool complaint;             /* subject is a complaint id */
    int level;                  /* 0..3 */
    int pct;                    /* SLA: 50/80/100/150; 0 for flags */
    int64_t at_ms;              /* crossing instant, epoch ms */
    int64_t target_ms;          /* SLA target, 0 for flags */
    char *json;                 /* the alert JSON as received (owned), for generic bodies */
    bool resolved;              /* a resolve record arrived */
    int64_t resolved_ms;        /* when (record time), 0 = not resolved */
    char *ack_by;               /* who acknowledged (owned), NULL = not acknowledged */
} ow_nalert;

/* Parse the `d` field of an ops:{p0}:alerts entry. On success *out is owned by the caller
 * (ow_nalert_free). Errors name the field. Strict: id, kind, level, at, region are required. */
int ow_nalert_parse(const char *text, size_t len, ow_nalert **out, ow_err *err);
void ow_nalert_free(ow_nalert *a);

/* An ops:{p0}:alert_changes record: which alert, what happened, who/when. */
typedef enum { OW_CHANGE_RESOLVE, OW_CHANGE_ACK } ow_change_op;
typedef struct ow_nchange {
    char id[512];
    ow_change_op op;
    int64_t at_ms;
    char by[257]; /* ack: who */
} ow_nchange;
int ow_nchange_parse(const char *text, size_t len, ow_nchange *out, ow_err *err);

/* Which labels with which values, and when. */
typedef struct ow_matcher {
    char **values[OW_LBL__COUNT]; /* owned arrays of owned strings; NULL = any value */
    int nvalues[OW_LBL__COUNT];
    bool has_time;
    ow_calendar time; /* weekdays + [open_min, close_min) in a fixed UTC offset */
} ow_matcher;

/* Parse {"level":[2,3],"region":"north","time":{...}} at JSON `path` (for messages; `source`
 * prefixes them). Label values: a string, an integer (level), or a list of them. `time`:
 * {"utc_offset":"+08:00","days":["mon",...],"from":"08:00","to":"20:00"}. An empty object
 * matches everything. On failure m is left empty (ow_matcher_fini is still safe). */
int ow_matcher_parse(ow_matcher *m, const cJSON *v, const char *path, ow_err *err);
void ow_matcher_fini(ow_matcher *m);
bool ow_matcher_match(const ow_matcher *m, const ow_nalert *a);
/* True when the label's value is allowed by m (also for labels m does not constrain). */
bool ow_matcher_allows(const ow_matcher *m, ow_label l, const char *value);
/* The matcher as JSON (the form it was parsed from). NULL on out of memory. */
cJSON *ow_matcher_format(const ow_matcher *m);

/* Is the instant inside the calendar window? (exported for tests) */
bool ow_calendar_contains(const ow_calendar *c, int64_t at_ms);

#endif

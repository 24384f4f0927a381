/*
 * report — the daily / weekly service report (issue 5): what a service director reads.
 *
 * The events of the period and everything before it go through the engine's own core (ow_state:
 * the same model, clocks and KPIs as the live board, in replay time), so the report's numbers are
 * the board's numbers. For the period and the one before it the report gives: the KPIs of
 * DESIGN §6 overall and per region, SLA compliance per stage and region, orders created and
 * resolved per hour (day) or day (week), orders by region × local hour, the root-cause flags
 * raised (per flag, and the most severe with the evidence the engine recorded), and complaint
 * categories.
 *
 * Pure: events come in one at a time, output is text; the program (main.c) reads files or Redis,
 * draws the charts (chart.c) and writes report.json and report.html.
 *
 * Lifecycle: ow_report_new → ow_report_feed* → ow_report_finish → ow_report_json /
 * ow_report_html → ow_report_free.
 */
#ifndef OW_REPORT_H
#define OW_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "kpi.h"
#include "policy.h"

typedef enum { OW_REPORT_DAY, OW_REPORT_WEEK } ow_report_kind;

#define OW_REPORT_STEPS_MAX 25 /* hours of a local day when the clocks fall back */
#define OW_REPORT_CATS_MAX  64

#define OW_REPORT_TOP_FLAGS 20 /* flags listed with their evidence */

typedef struct ow_report ow_report;

/* A root-cause flag raised in the period (copied from the engine's alert record). */
typedef struct ow_report_flag {
    char *id, *flag, *region, *summary, *evidence; /* evidence: a JSON object */
    int level;
    int64_t at;
} ow_report_flag;

/* A report of the period starting at start_ms (local midnight) of the given kind. The policy is
 * borrowed (its city names the regions). NULL on out of memory. */
ow_report *ow_report_new(const ow_policy *pol, ow_report_kind kind, int64_t start_ms);
void ow_report_free(ow_report *r);

/* Feed one event (in log order). Events at or after the period's end are ignored. */
int ow_report_feed(ow_report *r, const ow_event *ev);
/* After the last event: the period's figures are taken. */
int ow_report_finish(ow_report *r);

/* ---- what the charts and pages read ---- */
typedef struct ow_report_view {
    ow_report_kind kind;
    int64_t start, end, prev_start, prev_end; /* ms; [start, end) */
    int64_t events;                           /* events applied (the period and before) */
    const ow_policy *pol;                     /* borrowed: its tz places local days and hours */
    int64_t utc_offset_min;                   /* the city's zone at the period's start */
    int nregions;                             /* regions: slot r + 1 */
    const char *const *region_ids;            /* borrowed */
    const ow_kpi_block *cur, *prev;           /* [1 + nregions] each: slot 0 = city */
    int nsteps;                               /* hours of the day, or days of the week */
    const char *const *step_labels;
    const double *step_created, *step_resolved;
    const double *region_hour; /* [nregions × 24] orders created by local hour */
    int ncats;
    const char *const *cat_names;     /* complaint categories, most frequent first */
    const double *cat_cur, *cat_prev; /* [ncats] */
    bool flags_available;             /* the engine raises root-cause flags */
    const ow_report_flag *flags;      /* raised in the period, most severe first */
    size_t nflags;
    int nflag_names; /* flags raised in either period */
    const char *flag_names[OW_REPORT_CATS_MAX];
    const int64_t *flag_cur, *flag_prev; /* raises per flag name */
} ow_report_view;

void ow_report_view_get(const ow_report *r, ow_report_view *v);

/* report.json (the machine-readable twin of the page). Caller frees. NULL on OOM. */
char *ow_report_json(const ow_report *r, const char *city_name);

/* One chart for the page: its title, file name and PNG bytes as base64. */
typedef struct ow_report_chart {
    const char *title, *file, *base64;
} ow_report_chart;

/* report.html: self-contained (inline style, charts as data: URIs). Caller frees. */
char *ow_report_html(const ow_report *r, const char *city_name, const ow_report_chart *charts,
                     int ncharts);

/* Base64 (RFC 4648) of n bytes; caller frees. NULL on OOM. */
char *ow_base64(const unsigned char *p, size_t n);

#endif

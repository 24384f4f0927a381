/*
 * pages — the wallboard's layout file: which panels, where, and pages that rotate on a timer.
 *
 *   {"grid": {"cols": 24, "rows": 12},
 *    "pages": [
 *      {"name": "overview", "dwell": "30s",
 *       "panels": [{"panel": "kpi", "at": [0, 0, 24, 3]},
 *                  {"panel": "map", "at": [0, 3, 10, 9]}, ...]},
 *      ...]}
 *
 * The header (clock, data age, link state, replay) is always on top; the grid divides the rest of
 * the screen. `at` is [col, row, cols, rows] in grid cells. A page with one entry never rotates.
 * Parsing is strict: unknown keys, a panel name not in the table, a rectangle outside the grid or
 * overlapping another panel of the page fail the whole file with the JSON path, e.g.
 *   config/wallboard/default.json: pages[1].panels[2].panel: expected one of open|kpi|..., got
 * "mapp"
 *
 * Pure: takes text, no file reads. Plain value type (fixed arrays).
 */
#ifndef OW_PAGES_H
#define OW_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define OW_PAGES_MAX       8
#define OW_PAGE_PANELS_MAX 12
#define OW_PAGE_NAME_BUF   32
#define OW_PAGES_GRID_MAX  48
#define OW_PAGES_DWELL_MIN 2000
#define OW_PAGES_DWELL_MAX 3600000

/* The panel kinds (the panel table in board.c has one row each, in this order). */
typedef enum {
    OW_PANEL_OPEN,        /* open orders by priority */
    OW_PANEL_KPI,         /* KPI tiles: value, trend, target */
    OW_PANEL_MAP,         /* region map, heat grid, technicians */
    OW_PANEL_SLA,         /* SLA countdown board */
    OW_PANEL_ESCALATIONS, /* open escalations */
    OW_PANEL_FLAGS,       /* root-cause flags */
    OW_PANEL_TECHS,       /* technician status bars per region */
    OW_PANEL_SPARK,       /* sparklines of the last hours */
    OW_PANEL_REGIONS,     /* per-region table: open, breached, alerts */
    OW_PANEL__COUNT
} ow_panel_kind;

const char *ow_panel_name(ow_panel_kind k);

typedef struct ow_page_panel {
    ow_panel_kind kind;
    int col, row, cols, rows;
} ow_page_panel;

typedef struct ow_page {
    char name[OW_PAGE_NAME_BUF];
    int64_t dwell_ms;
    ow_page_panel panels[OW_PAGE_PANELS_MAX];
    int npanels;
} ow_page;

typedef struct ow_pages {
    int cols, rows;
    ow_page pages[OW_PAGES_MAX];
    int npages;
} ow_pages;

/* Parse a layout file. `source` (its path) prefixes messages. */
int ow_pages_parse(const char *text, size_t len, const char *source, ow_pages *out, ow_err *err);

/* Which page shows at elapsed_ms since start (pages rotate in order, each for its dwell). */
int ow_pages_at(const ow_pages *p, int64_t elapsed_ms, int64_t *next_change_ms);

#endif

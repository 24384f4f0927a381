/*
 * panel — what each panel of the layout draws (docs/wallboard.md, "Panels"). The table in board.c
 * has one row per ow_panel_kind: a `draw` function for the cached data layer (redrawn only when
 * the data, the page or the size changes) and, for panels with ticking clocks, a `tick` function
 * drawn over it on every frame.
 *
 * Every panel draws its empty state when its snapshot member is missing ("no data yet": an engine
 * without analytics, or nothing happened yet) and never reads outside the scene's arrays.
 * Pure drawing: no I/O, no clock reads (`now_ms` is given).
 */
#ifndef OW_PANEL_H
#define OW_PANEL_H

#include <SDL.h>

#include "draw.h"
#include "mapview.h"
#include "scene.h"

typedef struct ow_panel_ctx {
    const ow_draw *d;
    const ow_scene *s; /* NULL: no snapshot yet */
    int64_t now_ms;    /* the picture's now: countdowns tick from it */
    ow_mapview *map;   /* the board's map cache */
} ow_panel_ctx;

/* `r` is the panel's whole rectangle; each draws its own frame and title. */
void ow_panel_open(const ow_panel_ctx *c, SDL_Rect r);
void ow_panel_kpi(const ow_panel_ctx *c, SDL_Rect r);
void ow_panel_spark(const ow_panel_ctx *c, SDL_Rect r);
void ow_panel_sla(const ow_panel_ctx *c, SDL_Rect r);
void ow_panel_sla_tick(const ow_panel_ctx *c, SDL_Rect r);
/* Where ow_panel_sla_tick may draw in panel rectangle r: the countdown column, wide enough for a
 * countdown of 100 hours and more (never left of the region column). */
SDL_Rect ow_panel_sla_tick_area(const ow_draw *d, SDL_Rect r);
void ow_panel_escalations(const ow_panel_ctx *c, SDL_Rect r);
void ow_panel_flags(const ow_panel_ctx *c, SDL_Rect r);
void ow_panel_techs(const ow_panel_ctx *c, SDL_Rect r);
void ow_panel_regions(const ow_panel_ctx *c, SDL_Rect r);
void ow_panel_map(const ow_panel_ctx *c, SDL_Rect r);
/* Before the panels of a layer are drawn: start the map's costly composition on a worker thread
 * (mapview.h), so it overlaps the other panels; ow_panel_map picks it up. */
void ow_panel_map_prepare(const ow_panel_ctx *c, SDL_Rect r);

/* Display name of a region id: "中山区 Zhongshan" from the scene's regions, else the id. */
void ow_panel_region_name(const ow_scene *s, const char *id, bool zh_only, char *out, size_t n);

#endif

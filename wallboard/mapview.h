/*
 * mapview — the region map: region outlines and fills from the city's GeoJSON (core/regions.h),
 * the heat grid over them and the technicians as dots.
 *
 * The regions never change while the program runs, so their fills and outlines are rasterised
 * once per map size (scanline fill, even-odd, holes included) and kept. When the data changes the
 * picture is composed in memory — the kept raster, the heat cells blended over it, the outlines
 * stamped again on top so boundaries stay visible through the heat, the technician dots — and
 * uploaded as one texture; every other frame only copies that texture 1:1 (no scaling, no blur).
 * The heat scale is logarithmic in open orders per cell (ow_theme_heat: colour-blind safe).
 *
 * Composing costs a few ms at 4K (mostly memory traffic), so the board starts it on a worker thread
 * before it draws the other panels (ow_mapview_prepare) and picks the picture up when it draws the
 * map (ow_mapview_draw). The worker only reads the scene and writes the locked texture's pixels;
 * every SDL call stays on the caller's thread.
 *
 * Lifecycle: ow_mapview_new (regions borrowed, may be NULL: the map then has no boundaries) →
 * [ow_mapview_prepare →] ow_mapview_draw per data frame → ow_mapview_free (before the renderer is
 * destroyed). Not thread-safe itself: one thread calls all of these.
 */
#ifndef OW_MAPVIEW_H
#define OW_MAPVIEW_H

#include <SDL.h>

#include "regions.h"
#include "scene.h"

typedef struct ow_mapview ow_mapview;

ow_mapview *ow_mapview_new(const ow_regions *city);
void ow_mapview_free(ow_mapview *m);

/* Start composing scene `s` for `area` on a worker thread when the map's data changed (else
 * nothing). With a canvas (r's own pixels, XRGB8888; see board.h; NULL: none) the worker also
 * copies the picture into `area` of it, composed or not: nothing else may write there until
 * ow_mapview_draw. `s` (and the canvas) must stay valid and unchanged until the ow_mapview_draw
 * that follows, which must come with the same s and area before any other call
 * (ow_mapview_free also waits for it). */
void ow_mapview_prepare(ow_mapview *m, SDL_Renderer *r, double u, const ow_scene *s, SDL_Rect area,
                        SDL_Surface *canvas);

/* Draw scene `s` (may be NULL) into `area` with renderer r; `u` is the design unit (dot size,
 * line widths). Waits for a composition ow_mapview_prepare started, else composes here when the
 * data changed. *covered tells whether every pixel of `area` was written (opaque); false when
 * there is no picture (the caller fills it). Returns the largest open count of a heat cell drawn
 * (for the legend), 0 if none. */
int ow_mapview_draw(ow_mapview *m, SDL_Renderer *r, double u, const ow_scene *s, SDL_Rect area,
                    bool *covered);

/* CPU time of the last composition on the worker thread, in µs (0 before the first). */
int64_t ow_mapview_compose_cpu_us(const ow_mapview *m);

/* Screen position of lon/lat in the last drawn map; false when nothing was drawn yet. */
bool ow_mapview_project(const ow_mapview *m, double lon, double lat, int *x, int *y);

#endif

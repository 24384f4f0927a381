/*
 * painter — a second pair of hands for the board's data layer: a software renderer on a surface
 * of its own, with its own text cache (ow_font_clone), that draws some of the panels on a thread
 * of its own while the board's renderer draws the others. The board then copies the painter's
 * panels into its layer (SDL_UpdateTexture, one copy of their pixels).
 *
 * Panels do not overlap and each one writes every pixel of its rectangle (ow_draw_panel fills
 * it), so where a panel was drawn does not change a pixel of the picture: the software renderer
 * draws the same pixels into either surface (the Xvfb and soak tests compare them).
 *
 * Threads: the job runs on the painter's thread and may use only the ow_draw it is given (the
 * painter's renderer and font) and data nothing writes meanwhile; every other call is made on the
 * board's thread. SDL's software renderer and surfaces keep no shared state between two
 * renderers; FreeType's (one library for both fonts) is guarded in font.c.
 *
 * On SDL's software renderer the board hands the painter the screen's own pixels instead
 * (ow_painter_target): the painter's renderer then draws on a view of that memory, into panel
 * rectangles the board does not touch meanwhile, and nothing is copied afterwards.
 *
 * Lifecycle: ow_painter_new → per data frame ow_painter_size (or ow_painter_target),
 * ow_painter_start, (draw the other panels), ow_painter_finish, [ow_painter_copy per rectangle]
 * → ow_painter_free.
 */
#ifndef OW_PAINTER_H
#define OW_PAINTER_H

#include <SDL.h>
#include <stdbool.h>

#include "draw.h"
#include "err.h"
#include "font.h"

typedef struct ow_painter ow_painter;

/* Job: draw with d (the painter's renderer, font and the unit given to ow_painter_start). */
typedef void (*ow_painter_job)(void *arg, const ow_draw *d);

/* `like` (borrowed, must outlive the painter) gives the faces. Nothing is allocated for pixels
 * until ow_painter_size. */
int ow_painter_new(const ow_font *like, ow_painter **out, ow_err *err);
/* Waits for a running job. NULL is a no-op. */
void ow_painter_free(ow_painter *p);

/* A w×h surface (XRGB8888, the layer's format), its renderer and font; remade only when the size
 * changes. False (logged once) when it cannot be made: the board then draws everything itself. */
bool ow_painter_size(ow_painter *p, int w, int h);

/* Draw straight into `canvas` (borrowed: XRGB8888, the screen's pixels; it must outlive the
 * next ow_painter_finish): a renderer and font on a view of the same memory, remade only when
 * the canvas's memory or size changes. The job must then write only inside rectangles nothing
 * else writes until ow_painter_finish. False (logged once) when they cannot be made. */
bool ow_painter_target(ow_painter *p, SDL_Surface *canvas);

/* Run job(arg, d) on the painter's thread with unit u. False when no thread could be started
 * (then nothing ran). */
bool ow_painter_start(ow_painter *p, double u, ow_painter_job job, void *arg);

/* Wait for the job started last (no-op when none runs). */
void ow_painter_finish(ow_painter *p);

/* CPU time of the last job on the painter's thread, in µs (0 before the first). */
int64_t ow_painter_job_cpu_us(const ow_painter *p);

/* Copy rectangle r of the painter's surface to the same place in texture dst (after
 * ow_painter_finish). The caller flushes dst's renderer first when dst is its target. */
int ow_painter_copy(ow_painter *p, SDL_Texture *dst, SDL_Rect r);

#endif

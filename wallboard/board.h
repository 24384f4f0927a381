/*
 * board — the whole screen: the header (title, link state, data age, replay, clock), the panels of
 * the current page of the layout (pages.h) on a grid below it, the footer, and the attention
 * effects (a brief flash on new breaches and new L2/L3 escalations; the red frame when stale).
 *
 * Sizes scale with the screen height: one design unit is h/1080 px (draw.h). What does not change
 * from one second to the next — every panel, the title, the footer — is drawn into a cached layer
 * (an SDL target texture) only when the snapshot, the page or the size changes; every frame copies
 * that layer and draws the ticking parts over it: the clock, the link state and data age, the
 * replay bar, the SLA countdowns, a flash, the stale frame. So an unchanged board costs one copy
 * and a few lines of text per second. On SDL's software renderer (a canvas, below) there is no
 * layer: the screen's pixels are the cache, panels are redrawn in place and only the pixels
 * under the ticking parts are kept aside and put back.
 *
 * What each named region depends on (tests rely on this; --print-layout prints them):
 *   header.clock   the clock; in replay mode the replayed time
 *   header.status  the link state and the data age (clock − now_ms; replay: since it arrived)
 *   header.replay  the snapshot's `replay` member (empty in live mode)
 *   <page>.<panel> that panel's snapshot members only (the sla panel also the clock)
 *   footer         seq, events_applied, orders_known, the page number, poll and stale_after
 *
 * Lifecycle: ow_board_new (after the font) → ow_board_draw per frame → ow_board_free (before the
 * renderer). Not thread-safe; no I/O, no clock reads (the frame brings both clocks).
 */
#ifndef OW_BOARD_H
#define OW_BOARD_H

#include <SDL.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "font.h"
#include "pages.h"
#include "regions.h"
#include "scene.h"
#include "source.h"

#define OW_BOARD_REGIONS_MAX 128

/* Everything one frame shows. */
typedef struct ow_board_frame {
    int64_t now_ms;        /* the clock shown: the system's, or --clock */
    int64_t mono_ms;       /* a monotonic clock for animations (the flash) */
    ow_link link;          /* state of the data source */
    bool failing;          /* the last read failed (file unreadable; Redis shows RECONNECTING) */
    const ow_scene *scene; /* NULL until the first snapshot; borrowed for the call */
    int64_t received_ms;   /* clock when this snapshot arrived (age in replay mode) */
    int64_t stale_ms;      /* wallboard.stale_after */
    int64_t poll_ms;       /* wallboard.poll (footer) */
    int64_t flash_ms;      /* wallboard.flash: how long a flash lasts (0 = never) */
    int page;              /* index into the layout's pages */
    /* The pixels the renderer draws into when it is SDL's software renderer (ow_screen_canvas),
     * else NULL. With a canvas the screen keeps the picture between frames: the board redraws
     * only the panels whose data changed, straight into it (the painter too, on its thread), and
     * puts back only what the ticking parts covered; without, it keeps a layer texture and copies
     * it whole every frame. Borrowed for the call. */
    SDL_Surface *canvas;
} ow_board_frame;

/* A named rectangle, for tests (--print-layout) and the docs. */
typedef struct ow_board_region {
    char name[48];
    SDL_Rect rect;
} ow_board_region;

typedef struct ow_board ow_board;

/* r and f are borrowed and must outlive the board; pages is copied; city is borrowed (may be
 * NULL: the map then has no boundaries). */
int ow_board_new(SDL_Renderer *r, ow_font *f, const ow_pages *pages, const ow_regions *city,
                 ow_board **out, ow_err *err);
void ow_board_free(ow_board *b);

/* Draw the whole screen (w×h). Without a canvas every pixel is written; with one (fr->canvas) the
 * board relies on it still holding the last frame the board drew there: call ow_board_invalidate
 * when something else may have changed it (a window event). Returns true when a new flash started
 * (the caller may sound it). */
bool ow_board_draw(ow_board *b, int w, int h, const ow_board_frame *fr);

/* Whether a redrawn data layer may use the map's worker thread and the painter (painter.h); on by
 * default. Off, everything is drawn on the calling thread: the same pixels (wallboard_soak
 * compares a threaded board's partial redraws with a one-thread board's whole drawing). */
void ow_board_set_threads(ow_board *b, bool on);

/* Whether a canvas of this kind is drawn on in place (XRGB8888 pixels); else the layer is used. */
bool ow_board_in_place(const SDL_Surface *canvas);

/* Draw the next frame whole (the canvas may no longer hold the last one). */
void ow_board_invalidate(ow_board *b);

/* CPU time the helper threads spent on the last redrawn layer, in µs: the painter's panels and
 * the map's composition (0 for a helper that did not run then). For benchmarks. */
void ow_board_helpers_cpu_us(const ow_board *b, int64_t *painter, int64_t *map);

/* True while a flash is animating at mono_ms (the loop then draws ~8 frames a second). */
bool ow_board_animating(const ow_board *b, int64_t mono_ms);

/* The named regions of a w×h screen showing `page`; returns how many. Pure layout arithmetic. */
int ow_board_regions(const ow_pages *pages, int w, int h, int page, ow_board_region *out, int max);

/* Data age in ms (−1 when there is no snapshot) and whether it counts as stale. */
int64_t ow_board_age_ms(const ow_board_frame *fr);
bool ow_board_is_stale(const ow_board_frame *fr);

/* The picture's "now" for countdowns: the clock live; in an N× replay the replayed time moved on
 * by N × the time since the snapshot arrived; in a batch replay the snapshot's now. */
int64_t ow_board_picture_now(const ow_board_frame *fr);

#endif

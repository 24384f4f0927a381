/*
 * screen — where frames go: a window on a display, or an SDL surface in memory.
 *
 * Surface: a software renderer drawing into an opaque XRGB8888 surface. Needs no video driver,
 * no display and no SDL_Init: this is how --screenshot renders.
 * Window: SDL's video subsystem, a window (or desktop-fullscreen on a chosen display, cursor
 * hidden) and the best renderer SDL offers (SDL_RENDER_DRIVER=software forces the software one,
 * whose pixels equal the surface path's). When no display is reachable (no DISPLAY, no
 * WAYLAND_DISPLAY, no SDL_VIDEODRIVER) SDL would silently fall back to its offscreen driver
 * (TOOLCHAIN.md §4); ow_screen_new_window chooses "offscreen" explicitly instead and reports it,
 * and the caller writes the picture to a PNG so it can still be seen.
 *
 * Lifecycle: ow_screen_new_surface | ow_screen_new_window → draw with ow_screen_renderer →
 * [ow_screen_save_png] → ow_screen_present → [ow_screen_wait_event] … → ow_screen_free.
 */
#ifndef OW_SCREEN_H
#define OW_SCREEN_H

#include <SDL.h>
#include <stdbool.h>

#include "err.h"

typedef struct ow_screen ow_screen;

typedef struct ow_window_opts {
    int width, height; /* window size (ignored in fullscreen) */
    bool fullscreen;   /* desktop fullscreen, hidden cursor */
    int display;       /* monitor index; out-of-range falls back to 0 with a warning */
} ow_window_opts;

/* An offscreen w×h picture. */
int ow_screen_new_surface(int w, int h, ow_screen **out, ow_err *err);

/* A window. Initialises SDL's video subsystem (SDL_Quit in ow_screen_free). *forced_offscreen
 * tells whether no display was found and the offscreen driver was chosen for that reason. */
int ow_screen_new_window(const ow_window_opts *o, ow_screen **out, bool *forced_offscreen,
                         ow_err *err);

/* Borrowed; valid until ow_screen_free. */
SDL_Renderer *ow_screen_renderer(ow_screen *s);

/* The pixels the renderer draws into, when it is SDL's software renderer (the offscreen surface,
 * or a window's surface): they keep the last frame until the next one is drawn, so the board can
 * redraw only what changed and draw on several threads straight into them (board.h). NULL for
 * other renderers. Borrowed; may change when a window is resized: ask again for each frame. */
SDL_Surface *ow_screen_canvas(ow_screen *s);

/* Drawable size in pixels (changes when a window is resized). */
void ow_screen_size(ow_screen *s, int *w, int *h);

/* True when nobody can see the window (offscreen or dummy video driver). */
bool ow_screen_headless(const ow_screen *s);

/* "offscreen surface" or "x11 window, renderer software" for the log. */
const char *ow_screen_describe(const ow_screen *s);

/* Write what has been drawn (call before ow_screen_present) as an opaque RGB PNG. The file is
 * written beside `path` and renamed into place, so readers never see half a picture. */
int ow_screen_save_png(ow_screen *s, const char *path, ow_err *err);

/*
 * Wait up to timeout_ms for an SDL event: 1 with *ev filled, 0 on timeout (SDL_WaitEventTimeout's
 * contract). SDL's own wait polls every millisecond on drivers that cannot block (offscreen,
 * dummy); there this sleeps in poll(2) on a wake pipe instead, which ow_screen_wake and signals
 * interrupt.
 */
int ow_screen_wait_event(ow_screen *s, SDL_Event *ev, int timeout_ms);

/* Thread-safe: post an SDL user event of `type` and make a waiting ow_screen_wait_event return. */
void ow_screen_wake(ow_screen *s, Uint32 type);

/* Show the frame (windows); nothing for surfaces. */
void ow_screen_present(ow_screen *s);

/* NULL is a no-op. */
void ow_screen_free(ow_screen *s);

#endif

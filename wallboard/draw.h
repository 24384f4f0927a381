/*
 * draw — the drawing helpers every panel shares: sizes in design units, fills, text on a baseline,
 * text cut to a width, bars and panel frames. One design unit is 1 px at 1080p (u = h / 1080), so
 * every size scales with the screen height; text is rendered at its final pixel size (font.c),
 * never scaled, so it stays sharp.
 *
 * SDL 2.26's software fill is very slow for rectangles 16 to ~100 px wide (TOOLCHAIN.md §4), so
 * ow_draw_fill writes narrow opaque fills itself when it knows the pixels (ow_draw.px) and
 * otherwise splits such rectangles into 15 px wide strips.
 */
#ifndef OW_DRAW_H
#define OW_DRAW_H

#include <SDL.h>
#include <stdbool.h>
#include <stdint.h>

#include "font.h"

typedef enum { OW_ALIGN_LEFT, OW_ALIGN_CENTER, OW_ALIGN_RIGHT } ow_align;

typedef struct ow_draw {
    SDL_Renderer *r; /* borrowed */
    ow_font *f;      /* borrowed */
    double u;        /* pixels per design unit */
    /* The XRGB8888 pixels r (a software renderer) draws into, when known, else NULL: narrow
     * opaque fills are then written straight into them (the same pixels SDL's fill would write,
     * without its slow non-temporal stores, TOOLCHAIN.md §4), inside r's clip rectangle. */
    SDL_Surface *px;
    /* When not NULL, every rectangle the helpers below draw in is noted here (what a ticking
     * part drew over, to put back before the next frame). */
    struct ow_touched *touched;
} ow_draw;

/* Rectangles drawn in: the last one grows to cover the rest when the list is full. */
#define OW_TOUCHED_MAX 48
typedef struct ow_touched {
    SDL_Rect r[OW_TOUCHED_MAX];
    int n;
} ow_touched;

/* v design units in pixels (rounded). */
int ow_px(const ow_draw *d, double v);

SDL_Rect ow_rect(int x, int y, int w, int h);

void ow_draw_fill(const ow_draw *d, SDL_Rect r, SDL_Color c);
void ow_draw_outline(const ow_draw *d, SDL_Rect r, int width, SDL_Color c);
void ow_draw_circle(const ow_draw *d, int cx, int cy, int radius, SDL_Color c);

/* Text of size `units` with its baseline at y; returns its width in pixels (0 if nothing drawn). */
int ow_draw_text(const ow_draw *d, double units, ow_font_weight w, SDL_Color c, const char *utf8,
                 int x, int baseline, ow_align a);

/* The same, cut with "…" to at most max_w pixels. */
int ow_draw_text_fit(const ow_draw *d, double units, ow_font_weight w, SDL_Color c,
                     const char *utf8, int x, int baseline, ow_align a, int max_w);

/* The same for text that changes every second (clocks, countdowns): drawn a character at a time
 * from cached one-character textures, so a new second renders no glyph. For digits, ':' and
 * signs, whose advances are fixed (no kerning), the result matches ow_draw_text's layout. */
int ow_draw_ticker(const ow_draw *d, double units, ow_font_weight w, SDL_Color c, const char *utf8,
                   int x, int baseline, ow_align a);

/* Width in pixels of the text at `units`. */
int ow_text_width(const ow_draw *d, double units, ow_font_weight w, const char *utf8);

/* A horizontal bar: the track, then segments of values[i] (of `whole`) in colors[i]. */
void ow_draw_stacked(const ow_draw *d, SDL_Rect bar, const int64_t *values, const SDL_Color *colors,
                     int n, int64_t whole);

/* A panel: background, accent line and the bilingual title. *content is the area below the title.
 * `note` (may be NULL) is drawn right-aligned in the title bar. */
void ow_draw_panel(const ow_draw *d, SDL_Rect r, const char *zh, const char *en, const char *note,
                   SDL_Color note_color, SDL_Rect *content);

/* ow_draw_panel whose background leaves out `holes`: disjoint rectangles inside r that the panel
 * then covers with opaque pixels of its own (the map, tiles, row stripes). The same picture, with
 * each of those pixels written once instead of twice. */
void ow_draw_panel_holes(const ow_draw *d, SDL_Rect r, const SDL_Rect *holes, int nholes,
                         const char *zh, const char *en, const char *note, SDL_Color note_color,
                         SDL_Rect *content);

/* Fill r but not the (disjoint) holes. */
void ow_draw_fill_holes(const ow_draw *d, SDL_Rect r, const SDL_Rect *holes, int nholes,
                        SDL_Color c);

/* The content area ow_draw_panel gives for `r` (panels with a tick layer need it again). */
SDL_Rect ow_panel_content(const ow_draw *d, SDL_Rect r);

/* The empty state of a panel: "暂无数据 · no data yet" (or `why`), centred and dim. */
void ow_draw_empty(const ow_draw *d, SDL_Rect content, const char *why);

/* Hash n bytes at p into h (h starts at OW_HASH_SEED): what a panel or the map shows, to redraw it
 * only when that changed. Eight bytes a step: a rainstorm's technicians and heat cells are
 * ~200 KB a snapshot. (p, n) pairs are separated: ("ab","c") and ("a","bc") differ. */
#define OW_HASH_SEED 1469598103934665603ull
uint64_t ow_hash_mix(uint64_t h, const void *p, size_t n);

/* "12,345" */
void ow_format_int(int64_t v, char *out, size_t n);

/* "HH:MM" in local time (TZ) */
void ow_format_hhmm(int64_t ms, char *out, size_t n);

#endif

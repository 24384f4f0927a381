/*
 * font — finding the fonts and turning text into cached textures.
 *
 * Two faces: the Latin one shipped in assets/ (config wallboard.font; its bold sibling is the same
 * path with "-Bold" before the extension, e.g. DejaVuSans-Bold.ttf) and a CJK one found through
 * fontconfig ("sans-serif:lang=zh-cn", FC_FILE + FC_INDEX: Debian's NotoSansCJK-Regular.ttc is a
 * collection whose index 2 is Simplified Chinese; index 0 would be the Japanese forms). A line is
 * cut into runs, each drawn with the first face that has its glyphs (Latin first), and the runs
 * are joined on a common baseline: SDL_ttf 2.20 has no font fallback of its own.
 *
 * Rendering text with FreeType is the expensive part of a frame, so every line is kept as a
 * texture keyed by (text, size, weight, colour) in a hash table. The board draws most lines only
 * when the data changes (board.c keeps them in a cached layer), so a line stays cached until it
 * has not been drawn for TEXT_IDLE_FRAMES frames, and the least recently drawn lines go first when
 * the table or the pixel budget (TEXT_BUDGET_PX) is full: memory is bounded whatever the data.
 *
 * Lifecycle: ow_font_new (after the renderer exists) → ow_font_text / ow_font_fit_px per frame →
 * ow_font_frame_end after each frame → ow_font_free (before the renderer is destroyed).
 */
#ifndef OW_FONT_H
#define OW_FONT_H

#include <SDL.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef enum { OW_FONT_REGULAR, OW_FONT_BOLD, OW_FONT__WEIGHTS } ow_font_weight;

typedef struct ow_text_style {
    int px; /* em size in pixels */
    ow_font_weight weight;
    SDL_Color color;
} ow_text_style;

/* One rendered line. Owned by the cache: valid until the next ow_font_text, ow_font_frame_end or
 * ow_font_free (a miss may evict an older line). */
typedef struct ow_text {
    SDL_Texture *texture;
    int w, h;   /* texture size in pixels */
    int ascent; /* baseline, in pixels from the top of the texture */
    int cap;    /* height of a digit above the baseline (to centre numbers optically) */
} ow_text;

typedef struct ow_font ow_font;

/*
 * Open the faces for renderer `r` (borrowed; must outlive the ow_font). `latin_path` is copied.
 * Fails (OW_EIO, err names the path) when the Latin font cannot be opened. A missing CJK font is
 * only a warning in the log: Chinese then shows as empty boxes, and ow_font_has_cjk says false.
 * *out is freed with ow_font_free.
 */
int ow_font_new(SDL_Renderer *r, const char *latin_path, ow_font **out, ow_err *err);

/* A second ow_font with the faces `like` found, drawing for renderer `r` (borrowed), with its own
 * text cache: for another thread (an ow_font is not thread-safe; two of them on two threads are).
 * Free it with ow_font_free. */
int ow_font_clone(const ow_font *like, SDL_Renderer *r, ow_font **out, ow_err *err);

/* Close every face and texture. NULL is a no-op. */
void ow_font_free(ow_font *f);

/* The texture for `utf8` in style `st`, rendering it on a cache miss. NULL for an empty string or
 * when rendering failed (logged once per text). */
const ow_text *ow_font_text(ow_font *f, ow_text_style st, const char *utf8);

/* Width in pixels `utf8` would take at `px` in `weight`, without rendering it. */
int ow_font_width(ow_font *f, ow_font_weight weight, int px, const char *utf8);

/* The largest size <= max_px at which `utf8` is at most max_w pixels wide (at least 1). */
int ow_font_fit_px(ow_font *f, ow_font_weight weight, const char *utf8, int max_w, int max_px);

/* End of a frame: drop lines and face sizes not used for a while. */
void ow_font_frame_end(ow_font *f);

/* True when a CJK face was found. */
bool ow_font_has_cjk(const ow_font *f);

/* "Latin <path>, CJK <path>#<index>" for the start-up log. */
void ow_font_describe(const ow_font *f, char *out, size_t n);

#endif

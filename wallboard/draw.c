#include "draw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "theme.h"

#define SLOW_FILL_MIN 16  /* widths from here ... */
#define SLOW_FILL_MAX 128 /* ... to here take SDL's slow path (TOOLCHAIN.md §4) */
#define STRIP         15
/* Opaque fills narrower than this are written directly when the pixels are known (ow_draw.px):
 * measured here, a plain loop costs 0.5-0.9 ns/pixel at every width, SDL's non-temporal fill
 * 1.2-8.6 below 256 px but 0.16-0.35 from 400 px up. */
#define DIRECT_FILL_MAX 320

int ow_px(const ow_draw *d, double v)
{
    return (int)lround(d->u * v);
}

SDL_Rect ow_rect(int x, int y, int w, int h)
{
    return (SDL_Rect){x, y, w > 0 ? w : 0, h > 0 ? h : 0};
}

/* Note r in d->touched. */
static void touch(const ow_draw *d, SDL_Rect r)
{
    ow_touched *t = d->touched;
    if (!t || r.w <= 0 || r.h <= 0) return;
    if (t->n < OW_TOUCHED_MAX)
        t->r[t->n++] = r;
    else
        SDL_UnionRect(&t->r[OW_TOUCHED_MAX - 1], &r, &t->r[OW_TOUCHED_MAX - 1]);
}

/* An opaque fill written straight into d->px, clipped as the renderer would clip it. */
static void fill_px(const ow_draw *d, SDL_Rect r, SDL_Color c)
{
    SDL_Surface *s = d->px;
    SDL_Rect clip = {0, 0, s->w, s->h}, set;
    if (SDL_RenderIsClipEnabled(d->r)) {
        SDL_RenderGetClipRect(d->r, &set);
        if (!SDL_IntersectRect(&clip, &set, &clip)) return;
    }
    if (!SDL_IntersectRect(&r, &clip, &r)) return;
    SDL_RenderFlush(d->r); /* what the renderer has queued lands first */
    const Uint32 v = SDL_MapRGBA(s->format, c.r, c.g, c.b, c.a);
    for (int y = r.y; y < r.y + r.h; y++) {
        Uint32 *row = (Uint32 *)((Uint8 *)s->pixels + (size_t)y * s->pitch) + r.x;
        for (int x = 0; x < r.w; x++)
            row[x] = v;
    }
}

void ow_draw_fill(const ow_draw *d, SDL_Rect r, SDL_Color c)
{
    if (r.w <= 0 || r.h <= 0) return;
    touch(d, r);
    if (d->px && c.a == 0xFF && r.w < DIRECT_FILL_MAX) {
        fill_px(d, r, c);
        return;
    }
    SDL_SetRenderDrawBlendMode(d->r, c.a == 0xFF ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(d->r, c.r, c.g, c.b, c.a);
    if (c.a != 0xFF || r.w < SLOW_FILL_MIN || r.w > SLOW_FILL_MAX) {
        SDL_RenderFillRect(d->r, &r);
        return;
    }
    SDL_Rect strips[SLOW_FILL_MAX / STRIP + 1];
    int n = 0;
    for (int x = 0; x < r.w; x += STRIP)
        strips[n++] = (SDL_Rect){r.x + x, r.y, r.w - x < STRIP ? r.w - x : STRIP, r.h};
    SDL_RenderFillRects(d->r, strips, n);
}

void ow_draw_outline(const ow_draw *d, SDL_Rect r, int w, SDL_Color c)
{
    if (w < 1) w = 1;
    ow_draw_fill(d, ow_rect(r.x, r.y, r.w, w), c);
    ow_draw_fill(d, ow_rect(r.x, r.y + r.h - w, r.w, w), c);
    ow_draw_fill(d, ow_rect(r.x, r.y + w, w, r.h - 2 * w), c);
    ow_draw_fill(d, ow_rect(r.x + r.w - w, r.y + w, w, r.h - 2 * w), c);
}

void ow_draw_circle(const ow_draw *d, int cx, int cy, int radius, SDL_Color c)
{
    touch(d, ow_rect(cx - radius, cy - radius, 2 * radius + 1, 2 * radius + 1));
    SDL_SetRenderDrawBlendMode(d->r, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(d->r, c.r, c.g, c.b, c.a);
    for (int dy = -radius; dy <= radius; dy++) {
        int dx = (int)lround(sqrt((double)radius * radius - (double)dy * dy));
        SDL_RenderDrawLine(d->r, cx - dx, cy + dy, cx + dx, cy + dy);
    }
}

int ow_draw_text(const ow_draw *d, double units, ow_font_weight w, SDL_Color c, const char *utf8,
                 int x, int baseline, ow_align a)
{
    ow_text_style st = {ow_px(d, units), w, c};
    const ow_text *t = ow_font_text(d->f, st, utf8);
    if (!t) return 0;
    int left = a == OW_ALIGN_LEFT ? x : a == OW_ALIGN_CENTER ? x - t->w / 2 : x - t->w;
    SDL_Rect dst = {left, baseline - t->ascent, t->w, t->h};
    touch(d, dst);
    SDL_RenderCopy(d->r, t->texture, NULL, &dst);
    return t->w;
}

int ow_draw_ticker(const ow_draw *d, double units, ow_font_weight w, SDL_Color c, const char *utf8,
                   int x, int baseline, ow_align a)
{
    ow_text_style st = {ow_px(d, units), w, c};
    char one[8];
    int total = 0;
    for (int pass = 0; pass < 2; pass++) { /* measure, then draw */
        int left = pass == 0              ? 0
                   : a == OW_ALIGN_LEFT   ? x
                   : a == OW_ALIGN_CENTER ? x - total / 2
                                          : x - total;
        for (const char *p = utf8; *p;) {
            size_t n = 1;
            while (n < 4 && ((unsigned char)p[n] & 0xC0) == 0x80)
                n++;
            memcpy(one, p, n);
            one[n] = '\0';
            p += n;
            const ow_text *t = ow_font_text(d->f, st, one);
            if (!t) continue;
            if (pass == 0) {
                total += t->w;
            } else {
                SDL_Rect dst = {left, baseline - t->ascent, t->w, t->h};
                touch(d, dst);
                SDL_RenderCopy(d->r, t->texture, NULL, &dst);
                left += t->w;
            }
        }
    }
    return total;
}

int ow_text_width(const ow_draw *d, double units, ow_font_weight w, const char *utf8)
{
    return ow_font_width(d->f, w, ow_px(d, units), utf8);
}

int ow_draw_text_fit(const ow_draw *d, double units, ow_font_weight w, SDL_Color c,
                     const char *utf8, int x, int baseline, ow_align a, int max_w)
{
    if (max_w <= 0) return 0;
    if (ow_text_width(d, units, w, utf8) <= max_w)
        return ow_draw_text(d, units, w, c, utf8, x, baseline, a);
    /* cut at character boundaries (binary search on the byte length) */
    char buf[512];
    size_t len = strlen(utf8);
    if (len > sizeof buf - 4) len = sizeof buf - 4;
    size_t lo = 0, hi = len;
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        while (mid > 0 && ((unsigned char)utf8[mid] & 0xC0) == 0x80)
            mid--;
        if (mid <= lo) break;
        memcpy(buf, utf8, mid);
        memcpy(buf + mid, "…", sizeof "…");
        if (ow_text_width(d, units, w, buf) <= max_w)
            lo = mid;
        else
            hi = mid - 1;
    }
    while (lo > 0 && ((unsigned char)utf8[lo] & 0xC0) == 0x80)
        lo--;
    while (lo > 0 && utf8[lo - 1] == ' ')
        lo--;
    memcpy(buf, utf8, lo);
    memcpy(buf + lo, "…", sizeof "…");
    return ow_draw_text(d, units, w, c, buf, x, baseline, a);
}

void ow_draw_stacked(const ow_draw *d, SDL_Rect bar, const int64_t *values, const SDL_Color *colors,
                     int n, int64_t whole)
{
    ow_draw_fill(d, bar, ow_theme_tone(OW_TONE_TRACK));
    if (whole <= 0) return;
    int64_t acc = 0;
    for (int i = 0; i < n; i++) {
        int x0 = bar.x + (int)(bar.w * acc / whole);
        acc += values[i];
        int x1 = bar.x + (int)(bar.w * (acc > whole ? whole : acc) / whole);
        ow_draw_fill(d, ow_rect(x0, bar.y, x1 - x0, bar.h), colors[i]);
    }
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

#define HOLES_MAX 64

void ow_draw_fill_holes(const ow_draw *d, SDL_Rect r, const SDL_Rect *holes, int nholes,
                        SDL_Color c)
{
    SDL_Rect in[HOLES_MAX];
    int n = 0, ys[2 * HOLES_MAX + 2], ny = 0;
    for (int i = 0; i < nholes && n < HOLES_MAX; i++)
        if (SDL_IntersectRect(&holes[i], &r, &in[n])) n++;
    if (n < nholes) { /* too many holes: fill all (the holes are drawn over anyway) */
        ow_draw_fill(d, r, c);
        return;
    }
    /* horizontal bands between the holes' top and bottom edges; in each band the gaps between
     * the holes that span it */
    ys[ny++] = r.y;
    ys[ny++] = r.y + r.h;
    for (int i = 0; i < n; i++) {
        ys[ny++] = in[i].y;
        ys[ny++] = in[i].y + in[i].h;
    }
    qsort(ys, (size_t)ny, sizeof *ys, cmp_int);
    for (int k = 0; k + 1 < ny; k++) {
        const int y0 = ys[k], y1 = ys[k + 1];
        if (y1 <= y0) continue;
        int xs[HOLES_MAX], ws[HOLES_MAX], m = 0;
        for (int i = 0; i < n; i++)
            if (in[i].y <= y0 && in[i].y + in[i].h >= y1) {
                int j = m++; /* insertion by x */
                while (j > 0 && xs[j - 1] > in[i].x) {
                    xs[j] = xs[j - 1];
                    ws[j] = ws[j - 1];
                    j--;
                }
                xs[j] = in[i].x;
                ws[j] = in[i].w;
            }
        int x = r.x;
        for (int i = 0; i <= m; i++) {
            const int end = i < m ? xs[i] : r.x + r.w;
            if (end > x) ow_draw_fill(d, ow_rect(x, y0, end - x, y1 - y0), c);
            if (i < m && xs[i] + ws[i] > x) x = xs[i] + ws[i];
        }
    }
}

void ow_draw_panel(const ow_draw *d, SDL_Rect r, const char *zh, const char *en, const char *note,
                   SDL_Color note_color, SDL_Rect *content)
{
    ow_draw_panel_holes(d, r, NULL, 0, zh, en, note, note_color, content);
}

void ow_draw_panel_holes(const ow_draw *d, SDL_Rect r, const SDL_Rect *holes, int nholes,
                         const char *zh, const char *en, const char *note, SDL_Color note_color,
                         SDL_Rect *content)
{
    if (nholes > 0)
        ow_draw_fill_holes(d, r, holes, nholes, ow_theme_tone(OW_TONE_PANEL));
    else
        ow_draw_fill(d, r, ow_theme_tone(OW_TONE_PANEL));
    ow_draw_fill(d, ow_rect(r.x, r.y, ow_px(d, 6), r.h), ow_theme_tone(OW_TONE_PANEL_EDGE));
    const int pad = ow_px(d, 18), base = r.y + ow_px(d, 40);
    int x = r.x + pad + ow_px(d, 4);
    x += ow_draw_text(d, 30, OW_FONT_BOLD, ow_theme_tone(OW_TONE_TEXT), zh, x, base, OW_ALIGN_LEFT);
    x += ow_px(d, 12);
    int note_w = note ? ow_text_width(d, 22, OW_FONT_REGULAR, note) : 0;
    ow_draw_text_fit(d, 22, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), en, x, base,
                     OW_ALIGN_LEFT, r.x + r.w - pad - note_w - ow_px(d, 16) - x);
    if (note)
        ow_draw_text(d, 22, OW_FONT_REGULAR, note_color, note, r.x + r.w - pad, base,
                     OW_ALIGN_RIGHT);
    ow_draw_fill(d, ow_rect(r.x + pad, r.y + ow_px(d, 56), r.w - 2 * pad, ow_px(d, 2)),
                 ow_theme_tone(OW_TONE_PANEL_EDGE));
    *content = ow_panel_content(d, r);
}

SDL_Rect ow_panel_content(const ow_draw *d, SDL_Rect r)
{
    const int pad = ow_px(d, 18);
    return ow_rect(r.x + pad + ow_px(d, 4), r.y + ow_px(d, 66), r.w - 2 * pad - ow_px(d, 4),
                   r.h - ow_px(d, 66) - ow_px(d, 12));
}

void ow_draw_empty(const ow_draw *d, SDL_Rect c, const char *why)
{
    ow_draw_text_fit(d, 26, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_FAINT),
                     why ? why : "暂无数据 · no data yet", c.x + c.w / 2, c.y + c.h / 2,
                     OW_ALIGN_CENTER, c.w);
}

uint64_t ow_hash_mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i = 0;
    for (; b && i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 32;
    }
    for (; b && i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    h = (h ^ (uint64_t)n) * 0xff51afd7ed558ccdull; /* the separator: the length */
    return h ^ (h >> 33);
}

void ow_format_int(int64_t v, char *out, size_t n)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%" PRId64, v < 0 ? -v : v);
    size_t o = 0;
    if (v < 0 && o + 1 < n) out[o++] = '-';
    for (int i = 0; i < len && o + 1 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0 && o + 2 < n) out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

void ow_format_hhmm(int64_t ms, char *out, size_t n)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    snprintf(out, n, "%02d:%02d", tm.tm_hour, tm.tm_min);
}

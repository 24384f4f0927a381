#include "chart.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>

struct ow_chart_fonts {
    TTF_Font *title, *label, *small;
};

typedef struct rgb {
    uint8_t r, g, b;
} rgb;

/* the palette: series colours, then ink, grid, background, target */
static const rgb series_col[OW_CHART_SERIES_MAX] = {{37, 99, 235}, {148, 163, 184}, {234, 88, 12}};
static const rgb ink = {30, 41, 59}, grid = {226, 232, 240}, paper = {255, 255, 255},
                 target_col = {220, 38, 38}, muted = {100, 116, 139};

ow_chart_fonts *ow_chart_fonts_open(const char *regular, const char *bold, ow_err *err)
{
    if (!TTF_WasInit() && TTF_Init() != 0) {
        ow_err_set(err, OW_EINVAL, "fonts: SDL_ttf: %s", TTF_GetError());
        return NULL;
    }
    ow_chart_fonts *f = calloc(1, sizeof *f);
    if (!f) {
        ow_err_set(err, OW_ENOMEM, "out of memory");
        return NULL;
    }
    f->title = TTF_OpenFont(bold, 20);
    f->label = TTF_OpenFont(regular, 14);
    f->small = TTF_OpenFont(regular, 12);
    if (!f->title || !f->label || !f->small) {
        ow_err_set(err, OW_EINVAL, "fonts: %s or %s: %s", regular, bold, TTF_GetError());
        ow_chart_fonts_close(f);
        return NULL;
    }
    return f;
}

void ow_chart_fonts_close(ow_chart_fonts *f)
{
    if (!f) return;
    if (f->title) TTF_CloseFont(f->title);
    if (f->label) TTF_CloseFont(f->label);
    if (f->small) TTF_CloseFont(f->small);
    free(f);
}

/* ---- primitives ---- */

static Uint32 col(SDL_Surface *s, rgb c)
{
    return SDL_MapRGB(s->format, c.r, c.g, c.b);
}

static void rect(SDL_Surface *s, int x, int y, int w, int h, rgb c)
{
    if (w <= 0 || h <= 0) return;
    SDL_Rect r = {x, y, w, h};
    SDL_FillRect(s, &r, col(s, c));
}

static void hline(SDL_Surface *s, int x0, int x1, int y, rgb c, bool dashed)
{
    for (int x = x0; x < x1; x += dashed ? 10 : x1 - x0)
        rect(s, x, y, dashed ? (x + 6 < x1 ? 6 : x1 - x) : x1 - x0, 2, c);
}

typedef enum { LEFT, CENTER, RIGHT } align;

/* Text at (x, y) (top), aligned on x; returns its width. */
static int text(SDL_Surface *s, TTF_Font *font, const char *t, int x, int y, rgb c, align a)
{
    if (!t || !*t) return 0;
    SDL_Color sc = {c.r, c.g, c.b, 255};
    SDL_Surface *g = TTF_RenderUTF8_Blended(font, t, sc);
    if (!g) return 0;
    int dx = a == LEFT ? 0 : a == CENTER ? g->w / 2 : g->w;
    SDL_Rect r = {x - dx, y, g->w, g->h};
    SDL_BlitSurface(g, NULL, s, &r);
    int w = g->w;
    SDL_FreeSurface(g);
    return w;
}

static int text_w(TTF_Font *font, const char *t)
{
    int w = 0, h = 0;
    if (t && TTF_SizeUTF8(font, t, &w, &h) != 0) return 0;
    return w;
}

static SDL_Surface *canvas(int w, int h, ow_err *err)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 24, SDL_PIXELFORMAT_RGB24);
    if (!s)
        ow_err_set(err, OW_ENOMEM, "chart: %s", SDL_GetError());
    else
        SDL_FillRect(s, NULL, col(s, paper));
    return s;
}

static int save(SDL_Surface *s, const char *path, ow_err *err)
{
    int rc = IMG_SavePNG(s, path) == 0
                 ? OW_OK
                 : ow_err_set(err, OW_EIO, "%s: cannot write PNG: %s", path, IMG_GetError());
    SDL_FreeSurface(s);
    return rc;
}

/* A "nice" axis maximum (1, 2, 2.5 or 5 × 10^k) at or above v, and its step. */
static double nice_max(double v, double *step)
{
    if (!(v > 0)) v = 1;
    double p = pow(10, floor(log10(v))), m[] = {1, 2, 2.5, 5, 10};
    for (int i = 0; i < 5; i++)
        if (m[i] * p >= v) {
            *step = m[i] * p / 5;
            return m[i] * p;
        }
    *step = 2 * p;
    return 10 * p;
}

static void fmt_num(char *out, size_t n, double v, int decimals)
{
    if (decimals <= 0 || fabs(v - round(v)) < 1e-9)
        snprintf(out, n, "%.0f", v);
    else
        snprintf(out, n, "%.*f", decimals, v);
}

static void no_data(SDL_Surface *s, ow_chart_fonts *f, int w, int h)
{
    text(s, f->label, "no data in this period", w / 2, h / 2, muted, CENTER);
}

/* ---- bars ---- */

int ow_chart_bars(ow_chart_fonts *f, const ow_bar_chart *c, int w, int h, const char *png_path,
                  ow_err *err)
{
    SDL_Surface *s = canvas(w, h, err);
    if (!s) return OW_ENOMEM;
    text(s, f->title, c->title, 16, 10, ink, LEFT);
    /* legend, top right */
    int lx = w - 16;
    for (int i = c->nseries - 1; i >= 0; i--) {
        int tw = text_w(f->small, c->series[i]);
        lx -= tw;
        text(s, f->small, c->series[i], lx, 16, ink, LEFT);
        lx -= 18;
        rect(s, lx, 17, 12, 12, series_col[i]);
        lx -= 14;
    }
    if (c->has_target) {
        int tw = text_w(f->small, "target");
        lx -= tw;
        text(s, f->small, "target", lx, 16, ink, LEFT);
        hline(s, lx - 22, lx - 4, 22, target_col, true);
    }
    double vmax = c->y_max;
    bool any = false;
    for (int i = 0; i < c->nseries; i++)
        for (int k = 0; k < c->ncats; k++)
            if (isfinite(c->values[i][k])) {
                any = true;
                if (!(c->y_max > 0) && c->values[i][k] > vmax) vmax = c->values[i][k];
            }
    if (c->has_target && !(c->y_max > 0) && c->target > vmax) vmax = c->target;
    double step;
    vmax = c->y_max > 0 ? c->y_max : nice_max(vmax, &step);
    if (c->y_max > 0) step = vmax / 5;
    int left = 64, right = w - 16, top = 66, bottom = h - 40;
    /* grid and y ticks */
    for (int i = 0; i <= 5; i++) {
        double v = step * i;
        int y = bottom - (int)lround((bottom - top) * v / vmax);
        hline(s, left, right, y, grid, false);
        char lab[32];
        fmt_num(lab, sizeof lab, v, 1);
        text(s, f->small, lab, left - 6, y - 8, muted, RIGHT);
    }
    if (c->y_label) text(s, f->small, c->y_label, 16, 40, muted, LEFT);
    hline(s, left, right, bottom, ink, false);
    if (!any) {
        no_data(s, f, w, h);
        return save(s, png_path, err);
    }
    double slot = (double)(right - left) / c->ncats;
    int bar = (int)(slot * 0.8 / c->nseries);
    if (bar < 2) bar = 2;
    /* category labels: all when they fit, else every k-th */
    int every = 1, widest = 0;
    for (int k = 0; k < c->ncats; k++) {
        int tw = text_w(f->small, c->cats[k]);
        if (tw > widest) widest = tw;
    }
    while (every < c->ncats && widest + 6 > slot * every)
        every++;
    for (int k = 0; k < c->ncats; k++) {
        int x0 = left + (int)lround(slot * k + slot * 0.1);
        for (int i = 0; i < c->nseries; i++) {
            double v = c->values[i][k];
            if (!isfinite(v)) continue;
            int bh = (int)lround((bottom - top) * (v > vmax ? vmax : v) / vmax);
            rect(s, x0 + i * bar, bottom - bh, bar - 1, bh, series_col[i]);
            if (c->decimals >= 0 && bar >= 18) {
                char lab[32];
                fmt_num(lab, sizeof lab, v, c->decimals);
                text(s, f->small, lab, x0 + i * bar + bar / 2, bottom - bh - 15, ink, CENTER);
            }
        }
        if (k % every == 0)
            text(s, f->small, c->cats[k], left + (int)lround(slot * (k + 0.5)), bottom + 6, ink,
                 CENTER);
    }
    if (c->has_target) {
        int y = bottom - (int)lround((bottom - top) * c->target / vmax);
        hline(s, left, right, y, target_col, true);
    }
    return save(s, png_path, err);
}

/* ---- heatmap ---- */

/* white → deep blue by share of the maximum */
static rgb heat(double share)
{
    if (share < 0) share = 0;
    if (share > 1) share = 1;
    rgb a = {239, 246, 255}, b = {30, 64, 175};
    return (rgb){(uint8_t)(a.r + (b.r - a.r) * share), (uint8_t)(a.g + (b.g - a.g) * share),
                 (uint8_t)(a.b + (b.b - a.b) * share)};
}

int ow_chart_heat(ow_chart_fonts *f, const ow_heat_chart *c, int w, int h, const char *png_path,
                  ow_err *err)
{
    SDL_Surface *s = canvas(w, h, err);
    if (!s) return OW_ENOMEM;
    text(s, f->title, c->title, 16, 10, ink, LEFT);
    double vmax = 0;
    for (int i = 0; i < c->rows * c->cols; i++)
        if (c->cells[i] > vmax) vmax = c->cells[i];
    int widest = 0;
    for (int r = 0; r < c->rows; r++) {
        int tw = text_w(f->small, c->row_labels[r]);
        if (tw > widest) widest = tw;
    }
    int left = 16 + widest + 8, right = w - 16, top = 48, bottom = h - 56;
    if (!c->rows || !c->cols || vmax <= 0) {
        no_data(s, f, w, h);
        return save(s, png_path, err);
    }
    double cw = (double)(right - left) / c->cols, ch = (double)(bottom - top) / c->rows;
    for (int r = 0; r < c->rows; r++) {
        int y0 = top + (int)lround(ch * r), y1 = top + (int)lround(ch * (r + 1));
        text(s, f->small, c->row_labels[r], left - 8, (y0 + y1) / 2 - 8, ink, RIGHT);
        for (int k = 0; k < c->cols; k++) {
            int x0 = left + (int)lround(cw * k), x1 = left + (int)lround(cw * (k + 1));
            double v = c->cells[r * c->cols + k];
            rgb fill = heat(v / vmax);
            rect(s, x0, y0, x1 - x0 - 1, y1 - y0 - 1, fill);
            if (v > 0 && cw >= 22 && ch >= 16) {
                char lab[32];
                fmt_num(lab, sizeof lab, v, 0);
                text(s, f->small, lab, (x0 + x1) / 2, (y0 + y1) / 2 - 8,
                     v / vmax > 0.55 ? paper : ink, CENTER);
            }
        }
    }
    for (int k = 0; k < c->cols; k++)
        text(s, f->small, c->col_labels[k], left + (int)lround(cw * (k + 0.5)), bottom + 6, ink,
             CENTER);
    /* the scale */
    int sx = left, sy = h - 24;
    sx += text(s, f->small, c->legend, sx, sy, muted, LEFT) + 12;
    sx += text(s, f->small, "0", sx, sy, muted, LEFT) + 6;
    for (int i = 0; i < 100; i++)
        rect(s, sx + i * 2, sy + 2, 2, 12, heat(i / 99.0));
    char lab[32];
    fmt_num(lab, sizeof lab, vmax, 0);
    text(s, f->small, lab, sx + 206, sy, muted, LEFT);
    return save(s, png_path, err);
}

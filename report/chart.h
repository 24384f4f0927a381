/*
 * chart — the report's charts, drawn by opswall's own code onto an SDL software surface (no
 * window, no renderer) and saved as PNG with IMG_SavePNG (DESIGN §8: SDL2_image for report
 * charts). Text is DejaVu through SDL2_ttf.
 *
 * Three kinds cover the report: grouped bars (series side by side per category, optional target
 * line), and a heatmap (rows × columns of counts, with row and column labels). Colours come from
 * one small palette; every chart has a title, axis labels and a legend, and draws "no data" when
 * it has none, so a picture is never silently blank.
 *
 * Lifecycle: ow_chart_fonts_open → ow_chart_* (each writes one PNG) → ow_chart_fonts_close.
 */
#ifndef OW_CHART_H
#define OW_CHART_H

#include <stdbool.h>

#include "err.h"

typedef struct ow_chart_fonts ow_chart_fonts;

/* Open the regular and bold faces (paths to .ttf). NULL with err set. Initialises SDL_ttf. */
ow_chart_fonts *ow_chart_fonts_open(const char *regular, const char *bold, ow_err *err);
void ow_chart_fonts_close(ow_chart_fonts *f);

#define OW_CHART_SERIES_MAX 3

typedef struct ow_bar_chart {
    const char *title, *y_label;
    int ncats;
    const char *const *cats; /* category labels (x axis, or y axis when horizontal) */
    int nseries;
    const char *series[OW_CHART_SERIES_MAX];   /* legend */
    const double *values[OW_CHART_SERIES_MAX]; /* [ncats] each; NaN = no value */
    double target;                             /* drawn as a dashed line when has_target */
    bool has_target;
    double y_max; /* 0 = from the data */
    int decimals; /* of the value labels on the bars, -1 = none */
} ow_bar_chart;

/* Grouped bars, w × h pixels, to a PNG file. */
int ow_chart_bars(ow_chart_fonts *f, const ow_bar_chart *c, int w, int h, const char *png_path,
                  ow_err *err);

typedef struct ow_heat_chart {
    const char *title;
    int rows, cols;
    const char *const *row_labels, *const *col_labels;
    const double *cells; /* rows × cols, row-major */
    const char *legend;  /* what a cell counts */
} ow_heat_chart;

int ow_chart_heat(ow_chart_fonts *f, const ow_heat_chart *c, int w, int h, const char *png_path,
                  ow_err *err);

#endif

#include "heatmap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "event.h"

#define M_PER_DEG_LAT 110574.0
#define M_PER_DEG_LON 111320.0 /* at the equator; × cos(latitude) */

typedef struct region_gauge {
    int64_t open, breached, alerts;
    int64_t techs[OW_TECH__COUNT];
} region_gauge;

struct ow_heat {
    const ow_regions *city;
    /* grid */
    double bbox[4];
    double cell_m, dlon, dlat; /* cell size in metres and in degrees */
    int32_t cols, rows;
    int32_t *open, *breached, *idle; /* per cell */
    /* regions */
    region_gauge *reg; /* per slot */
    int nreg;
    int64_t *open_by_slot; /* mirror of reg[].open for ow_heat_open */
    /* categories: bycat[c][slot] */
    int64_t **bycat;
    int ncat;
};

ow_heat *ow_heat_new(const ow_regions *city, int64_t cell_m)
{
    ow_heat *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->city = city;
    if (city && city->n > 0 && cell_m > 0) {
        memcpy(h->bbox, city->bbox, sizeof h->bbox);
        double mid = (h->bbox[1] + h->bbox[3]) / 2 * M_PI / 180;
        double width_m = (h->bbox[2] - h->bbox[0]) * M_PER_DEG_LON * cos(mid);
        double height_m = (h->bbox[3] - h->bbox[1]) * M_PER_DEG_LAT;
        double c = (double)cell_m;
        /* a very fine cell over a large city: grow the cell until the grid fits */
        while (ceil(width_m / c) * ceil(height_m / c) > OW_HEAT_MAX_CELLS)
            c *= 1.25;
        h->cell_m = c;
        h->cols = (int32_t)fmax(1, ceil(width_m / c));
        h->rows = (int32_t)fmax(1, ceil(height_m / c));
        h->dlon = (h->bbox[2] - h->bbox[0]) / h->cols;
        h->dlat = (h->bbox[3] - h->bbox[1]) / h->rows;
        size_t n = (size_t)h->cols * (size_t)h->rows;
        h->open = calloc(n, sizeof *h->open);
        h->breached = calloc(n, sizeof *h->breached);
        h->idle = calloc(n, sizeof *h->idle);
        if (!h->open || !h->breached || !h->idle) {
            ow_heat_free(h);
            return NULL;
        }
    }
    return h;
}

void ow_heat_free(ow_heat *h)
{
    if (!h) return;
    free(h->open), free(h->breached), free(h->idle);
    free(h->reg);
    free(h->open_by_slot);
    for (int c = 0; c < h->ncat; c++)
        free(h->bycat[c]);
    free(h->bycat);
    free(h);
}

int32_t ow_heat_cell(const ow_heat *h, double lon, double lat)
{
    if (!h->cols ||
        !(lon >= h->bbox[0] && lon <= h->bbox[2] && lat >= h->bbox[1] && lat <= h->bbox[3]))
        return -1;
    int32_t col = (int32_t)((lon - h->bbox[0]) / h->dlon);
    int32_t row = (int32_t)((lat - h->bbox[1]) / h->dlat);
    if (col >= h->cols) col = h->cols - 1; /* the east and north edges belong to the last cell */
    if (row >= h->rows) row = h->rows - 1;
    return row * h->cols + col;
}

static bool grow_slots(ow_heat *h, int slot)
{
    if (slot < h->nreg) return true;
    int n = h->nreg ? h->nreg : 16;
    while (n <= slot)
        n *= 2;
    region_gauge *r = realloc(h->reg, (size_t)n * sizeof *r);
    if (!r) return false;
    h->reg = r;
    int64_t *o = realloc(h->open_by_slot, (size_t)n * sizeof *o);
    if (!o) return false;
    h->open_by_slot = o;
    memset(h->reg + h->nreg, 0, (size_t)(n - h->nreg) * sizeof *r);
    memset(h->open_by_slot + h->nreg, 0, (size_t)(n - h->nreg) * sizeof *o);
    for (int c = 0; c < h->ncat; c++) {
        int64_t *v = realloc(h->bycat[c], (size_t)n * sizeof *v);
        if (!v) return false;
        memset(v + h->nreg, 0, (size_t)(n - h->nreg) * sizeof *v);
        h->bycat[c] = v;
    }
    h->nreg = n;
    return true;
}

static bool grow_cats(ow_heat *h, int cat)
{
    if (cat < h->ncat) return true;
    int n = h->ncat ? h->ncat : 16;
    while (n <= cat)
        n *= 2;
    int64_t **b = realloc(h->bycat, (size_t)n * sizeof *b);
    if (!b) return false;
    h->bycat = b;
    for (int c = h->ncat; c < n; c++) {
        b[c] = calloc(h->nreg ? (size_t)h->nreg : 1, sizeof *b[c]);
        if (!b[c]) {
            h->ncat = c;
            return false;
        }
    }
    h->ncat = n;
    return true;
}

int ow_heat_order(ow_heat *h, int slot, int category, int32_t cell, bool breached, int sign)
{
    if (!grow_slots(h, slot) || (category >= 0 && !grow_cats(h, category))) return OW_ENOMEM;
    for (int s = 0; s <= slot; s += slot ? slot : 1) { /* slot 0, and the region's slot */
        h->reg[s].open += sign;
        h->reg[s].breached += breached ? sign : 0;
        h->open_by_slot[s] += sign;
        if (category >= 0) h->bycat[category][s] += sign;
    }
    if (cell >= 0 && h->cols) {
        h->open[cell] += sign;
        if (breached) h->breached[cell] += sign;
    }
    return OW_OK;
}

int ow_heat_tech(ow_heat *h, int slot, int status, int32_t cell, int sign)
{
    if (status < 0 || status >= OW_TECH__COUNT) return OW_OK;
    if (!grow_slots(h, slot)) return OW_ENOMEM;
    for (int s = 0; s <= slot; s += slot ? slot : 1)
        h->reg[s].techs[status] += sign;
    if (status == OW_TECH_IDLE && cell >= 0 && h->cols) h->idle[cell] += sign;
    return OW_OK;
}

int ow_heat_alert(ow_heat *h, int slot, int sign)
{
    if (!grow_slots(h, slot)) return OW_ENOMEM;
    for (int s = 0; s <= slot; s += slot ? slot : 1)
        h->reg[s].alerts += sign;
    return OW_OK;
}

const int64_t *ow_heat_open(const ow_heat *h, int *n)
{
    *n = h->nreg;
    return h->open_by_slot;
}

/* ---- JSON ---- */

static void num_list(ow_jsonw *w, const double *v, int n)
{
    ow_jsonw_raw(w, "[");
    for (int i = 0; i < n; i++) {
        if (i) ow_jsonw_raw(w, ",");
        ow_jsonw_num(w, v[i], 6);
    }
    ow_jsonw_raw(w, "]");
}

void ow_heat_write_city(const ow_heat *h, ow_jsonw *w, const char *city_name)
{
    ow_jsonw_open(w);
    ow_jsonw_key(w, "name"), ow_jsonw_str(w, city_name);
    ow_jsonw_key(w, "bbox");
    if (h->city)
        num_list(w, h->city->bbox, 4);
    else
        ow_jsonw_raw(w, "null");
    ow_jsonw_close(w);
}

void ow_heat_write_grid(const ow_heat *h, ow_jsonw *w)
{
    ow_jsonw_open(w);
    ow_jsonw_key(w, "cell_m"), ow_jsonw_num(w, h->cell_m, 0);
    ow_jsonw_key(w, "bbox");
    if (h->cols)
        num_list(w, h->bbox, 4);
    else
        ow_jsonw_raw(w, "null");
    ow_jsonw_key(w, "cols"), ow_jsonw_int(w, h->cols);
    ow_jsonw_key(w, "rows"), ow_jsonw_int(w, h->rows);
    ow_jsonw_key(w, "cells");
    ow_jsonw_raw(w, "[");
    bool first = true;
    for (int32_t i = 0; i < h->cols * h->rows; i++) {
        if (!h->open[i] && !h->breached[i] && !h->idle[i]) continue;
        ow_jsonw_raw(w, first ? "[" : ",[");
        first = false;
        ow_jsonw_int(w, i % h->cols);
        ow_jsonw_raw(w, ",");
        ow_jsonw_int(w, i / h->cols);
        ow_jsonw_raw(w, ",");
        ow_jsonw_int(w, h->open[i]);
        ow_jsonw_raw(w, ",");
        ow_jsonw_int(w, h->breached[i]);
        ow_jsonw_raw(w, ",");
        ow_jsonw_int(w, h->idle[i]);
        ow_jsonw_raw(w, "]");
    }
    ow_jsonw_raw(w, "]");
    ow_jsonw_close(w);
}

static const region_gauge *gauge(const ow_heat *h, int slot)
{
    static const region_gauge zero;
    return slot < h->nreg ? &h->reg[slot] : &zero;
}

void ow_heat_write_regions(const ow_heat *h, ow_jsonw *w, const ow_names *regions)
{
    /* the city's regions in file order (the model interned them first); without a city, every
     * region the events named */
    uint32_t n = h->city ? (uint32_t)h->city->n : regions->n;
    if (n > regions->n) n = regions->n;
    ow_jsonw_raw(w, "[");
    for (uint32_t r = 0; r < n; r++) {
        const region_gauge *g = gauge(h, (int)r + 1);
        const ow_region *cr = h->city ? &h->city->v[r] : NULL;
        if (r) ow_jsonw_raw(w, ",");
        ow_jsonw_open(w);
        ow_jsonw_key(w, "id"), ow_jsonw_str(w, ow_names_get(regions, (int)r));
        ow_jsonw_key(w, "name_en"),
            ow_jsonw_str(w, cr ? cr->name_en : ow_names_get(regions, (int)r));
        ow_jsonw_key(w, "name_zh"),
            ow_jsonw_str(w, cr ? cr->name_zh : ow_names_get(regions, (int)r));
        ow_jsonw_key(w, "center");
        if (cr) {
            double c[2] = {cr->center.lon, cr->center.lat};
            num_list(w, c, 2);
        } else {
            ow_jsonw_raw(w, "null");
        }
        ow_jsonw_key(w, "open"), ow_jsonw_int(w, g->open);
        ow_jsonw_key(w, "breached"), ow_jsonw_int(w, g->breached);
        ow_jsonw_key(w, "alerts_open"), ow_jsonw_int(w, g->alerts);
        ow_jsonw_key(w, "backlog"), ow_jsonw_int(w, g->open);
        ow_jsonw_key(w, "techs");
        ow_jsonw_open(w);
        for (int st = 0; st < OW_TECH__COUNT; st++)
            ow_jsonw_key(w, ow_tech_status_name((ow_tech_status)st)), ow_jsonw_int(w, g->techs[st]);
        ow_jsonw_close(w);
        ow_jsonw_close(w);
    }
    ow_jsonw_raw(w, "]");
}

void ow_heat_write_category(const ow_heat *h, ow_jsonw *w, const ow_names *regions,
                            const ow_names *categories)
{
    ow_jsonw_open(w);
    ow_jsonw_key(w, "regions");
    ow_jsonw_raw(w, "[");
    for (uint32_t r = 0; r < regions->n; r++) {
        if (r) ow_jsonw_raw(w, ",");
        ow_jsonw_str(w, ow_names_get(regions, (int)r));
    }
    ow_jsonw_raw(w, "]");
    ow_jsonw_key(w, "categories");
    ow_jsonw_raw(w, "[");
    for (uint32_t c = 0; c < categories->n; c++) {
        if (c) ow_jsonw_raw(w, ",");
        ow_jsonw_str(w, ow_names_get(categories, (int)c));
    }
    ow_jsonw_raw(w, "]");
    ow_jsonw_key(w, "counts");
    ow_jsonw_raw(w, "[");
    for (uint32_t r = 0; r < regions->n; r++) {
        if (r) ow_jsonw_raw(w, ",");
        ow_jsonw_raw(w, "[");
        for (uint32_t c = 0; c < categories->n; c++) {
            if (c) ow_jsonw_raw(w, ",");
            int slot = (int)r + 1;
            ow_jsonw_int(w, (int)c < h->ncat && slot < h->nreg ? h->bycat[c][slot] : 0);
        }
        ow_jsonw_raw(w, "]");
    }
    ow_jsonw_raw(w, "]");
    ow_jsonw_close(w);
}

#include "spatial.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "regions.h"

#define M_PER_DEG_LAT 111195.0 /* mean Earth radius × π / 180: the haversine's own scale */
#define DEG           (3.14159265358979323846 / 180.0)
/* just under ow_distance_m's metres per degree (6,371,008.8 m × π / 180 = 111,195.08) */
#define LAT_FLOOR 111194.0

void ow_spatial_init(ow_spatial *g, double cell_m)
{
    memset(g, 0, sizeof *g);
    g->cell_m = cell_m > 1 ? cell_m : 1;
    g->dlat = g->cell_m / M_PER_DEG_LAT;
}

void ow_spatial_fini(ow_spatial *g)
{
    for (int32_t i = 0; i < g->ncells; i++)
        free(g->cells[i].ids);
    free(g->cells);
    free(g->table);
    free(g->pts);
    memset(g, 0, sizeof *g);
}

static int64_t cell_key(int32_t cx, int32_t cy)
{
    return (int64_t)(((uint64_t)(uint32_t)cx << 32) | (uint32_t)cy);
}

static size_t key_hash(int64_t k)
{
    uint64_t x = (uint64_t)k * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(x ^ (x >> 29));
}

static int32_t coord(double v, double step)
{
    double c = floor(v / step);
    if (c != c) return 0; /* NaN: callers check positions; never undefined behaviour here */
    return c < -2e9 ? -2000000000 : c > 2e9 ? 2000000000 : (int32_t)c;
}

/* Cell index of (cx, cy), or -1; with create, adds an empty cell (-2 on out of memory). */
static int32_t cell_find(ow_spatial *g, int32_t cx, int32_t cy, bool create)
{
    int64_t key = cell_key(cx, cy);
    if (g->tcap) {
        for (size_t i = key_hash(key) & (g->tcap - 1);; i = (i + 1) & (g->tcap - 1)) {
            int32_t c = g->table[i];
            if (!c) break;
            if (g->cells[c - 1].key == key) return c - 1;
        }
    }
    if (!create) return -1;
    if (g->ncells == g->capcells) {
        int32_t cap = g->capcells ? g->capcells * 2 : 64;
        ow_spatial_cell *cells = realloc(g->cells, (size_t)cap * sizeof *cells);
        if (!cells) return -2;
        g->cells = cells;
        g->capcells = cap;
    }
    if ((size_t)(g->ncells + 1) * 2 > g->tcap) { /* grow the table, re-inserting every cell */
        size_t tcap = g->tcap ? g->tcap * 2 : 128;
        int32_t *t = calloc(tcap, sizeof *t);
        if (!t) return -2;
        for (int32_t c = 0; c < g->ncells; c++) {
            size_t i = key_hash(g->cells[c].key) & (tcap - 1);
            while (t[i])
                i = (i + 1) & (tcap - 1);
            t[i] = c + 1;
        }
        free(g->table);
        g->table = t;
        g->tcap = tcap;
    }
    int32_t c = g->ncells++;
    g->cells[c] = (ow_spatial_cell){.key = key};
    size_t i = key_hash(key) & (g->tcap - 1);
    while (g->table[i])
        i = (i + 1) & (g->tcap - 1);
    g->table[i] = c + 1;
    return c;
}

void ow_spatial_remove(ow_spatial *g, int32_t id)
{
    if (id < 0 || id >= g->npts || g->pts[id].cell < 0) return;
    ow_spatial_pt *p = &g->pts[id];
    ow_spatial_cell *c = &g->cells[p->cell];
    int32_t last = c->ids[--c->n];
    c->ids[p->slot] = last;
    g->pts[last].slot = p->slot;
    p->cell = -1;
    g->count--;
}

int ow_spatial_put(ow_spatial *g, int32_t id, double lon, double lat)
{
    if (id < 0) return OW_EINVAL;
    if (id >= g->npts) {
        int32_t n = g->npts ? g->npts : 64;
        while (n <= id)
            n *= 2;
        ow_spatial_pt *pts = realloc(g->pts, (size_t)n * sizeof *pts);
        if (!pts) return OW_ENOMEM;
        for (int32_t i = g->npts; i < n; i++)
            pts[i].cell = -1;
        g->pts = pts;
        g->npts = n;
    }
    if (g->dlon == 0) {
        double c = cos(fmin(fabs(lat), 80.0) * DEG);
        g->dlon = g->dlat / c;
    }
    int32_t cell = cell_find(g, coord(lon, g->dlon), coord(lat, g->dlat), true);
    if (cell == -2) return OW_ENOMEM;
    ow_spatial_pt *p = &g->pts[id];
    if (p->cell == cell) { /* a move inside its cell */
        p->lon = lon, p->lat = lat;
        return OW_OK;
    }
    ow_spatial_cell *c = &g->cells[cell];
    if (c->n == c->cap) {
        int32_t cap = c->cap ? c->cap * 2 : 4;
        int32_t *ids = realloc(c->ids, (size_t)cap * sizeof *ids);
        if (!ids) return OW_ENOMEM;
        c->ids = ids;
        c->cap = cap;
    }
    ow_spatial_remove(g, id);
    p->lon = lon, p->lat = lat;
    p->cell = cell;
    p->slot = c->n;
    c->ids[c->n++] = id;
    g->count++;
    return OW_OK;
}

bool ow_spatial_get(const ow_spatial *g, int32_t id, double *lon, double *lat)
{
    if (id < 0 || id >= g->npts || g->pts[id].cell < 0) return false;
    if (lon) *lon = g->pts[id].lon;
    if (lat) *lat = g->pts[id].lat;
    return true;
}

/* Visit the points of every cell a circle of r_m metres can touch that pass `keep` (when given:
 * it is cheaper than a distance, so it goes first). */
static void scan(const ow_spatial *g, double lon, double lat, double r_m,
                 bool (*keep)(int32_t id, void *arg), void *karg,
                 bool (*fn)(int32_t id, double dist_m, void *arg), void *arg)
{
    if (!g->count) return;
    double dlat = r_m / M_PER_DEG_LAT;
    double far_lat = fmin(fabs(lat) + dlat, 89.0);
    double dlon = fmin(dlat / cos(far_lat * DEG), 180.0);
    int32_t x0 = coord(lon - dlon, g->dlon), x1 = coord(lon + dlon, g->dlon);
    int32_t y0 = coord(lat - dlat, g->dlat), y1 = coord(lat + dlat, g->dlat);
    double span = ((double)x1 - x0 + 1) * ((double)y1 - y0 + 1);
    if (span > (double)g->ncells) { /* a huge circle: walk the stored cells instead */
        for (int32_t c = 0; c < g->ncells; c++)
            for (int32_t i = 0; i < g->cells[c].n; i++) {
                int32_t id = g->cells[c].ids[i];
                if (keep && !keep(id, karg)) continue;
                double d = ow_distance_m(lon, lat, g->pts[id].lon, g->pts[id].lat);
                if (d <= r_m && !fn(id, d, arg)) return;
            }
        return;
    }
    for (int32_t cy = y0; cy <= y1; cy++)
        for (int32_t cx = x0; cx <= x1; cx++) {
            int32_t c = cell_find((ow_spatial *)g, cx, cy, false);
            if (c < 0) continue;
            for (int32_t i = 0; i < g->cells[c].n; i++) {
                int32_t id = g->cells[c].ids[i];
                /* the great-circle distance is at least the latitude difference's arc: a
                 * point further north or south than the radius is out without the haversine
                 * (LAT_FLOOR is below the haversine's metres per degree, so this never drops
                 * a point the haversine would keep) */
                if (fabs(g->pts[id].lat - lat) * LAT_FLOOR > r_m) continue;
                if (keep && !keep(id, karg)) continue;
                double d = ow_distance_m(lon, lat, g->pts[id].lon, g->pts[id].lat);
                if (d <= r_m && !fn(id, d, arg)) return;
            }
        }
}

void ow_spatial_within(const ow_spatial *g, double lon, double lat, double r_m,
                       bool (*fn)(int32_t id, double dist_m, void *arg), void *arg)
{
    scan(g, lon, lat, r_m, NULL, NULL, fn, arg);
}

typedef struct best {
    bool (*accept)(int32_t id, void *arg);
    void *arg;
    int32_t id;
    double d;
} best;

static bool consider(int32_t id, double d, void *arg)
{
    best *b = arg;
    if (d > b->d || (d == b->d && b->id >= 0 && id > b->id)) return true;
    b->id = id, b->d = d;
    return true;
}

int32_t ow_spatial_nearest(const ow_spatial *g, double lon, double lat, double max_m,
                           bool (*accept)(int32_t id, void *arg), void *arg, double *dist_m)
{
    best b = {accept, arg, -1, INFINITY};
    /* rings of doubling radius: a point found within r is nearer than anything outside r */
    for (double r = g->cell_m;; r *= 2) {
        bool last = r >= max_m;
        scan(g, lon, lat, last ? max_m : r, accept, arg, consider, &b);
        if (b.id >= 0 || last) break;
    }
    if (dist_m) *dist_m = b.d;
    return b.id;
}

#include "mapview.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "draw.h"
#include "theme.h"

#define HEAT_ALPHA 200 /* of 255: the boundaries and the fills still show through */

struct ow_mapview {
    const ow_regions *city;
    int w, h;        /* size of the kept raster and of the texture */
    uint32_t *fill;  /* regions raster (ARGB8888), w*h */
    uint8_t *edge;   /* 1 where an outline is (while rasterising) */
    uint32_t *edges; /* pixel indices of the outlines, stamped over the heat */
    size_t nedges;
    uint32_t *work; /* composed picture (into the locked texture, or a canvas) */
    int pitch;      /* of work, in pixels */
    /* composing on a worker thread (ow_mapview_prepare): the texture stays locked and only the
     * worker touches `work` until ow_mapview_draw joins it; the scene is borrowed meanwhile */
    pthread_t worker;
    bool composing;
    const ow_scene *compose_scene;
    double compose_u;
    uint64_t compose_hash;
    bool in_canvas; /* the worker composes straight into a canvas, at canvas_area */
    SDL_Rect canvas_area;
    bool on_canvas;         /* the last join left the picture there: nothing to copy */
    int64_t compose_cpu_us; /* of the worker's last composition */
    uint64_t drawn_hash;    /* of the heat cells and technicians the texture shows */
    SDL_Texture *texture;   /* the composed picture on the renderer */
    SDL_Renderer *renderer;
    ow_projection proj;
    bool projected;
    const ow_scene *drawn; /* scene the texture shows */
    bool drawn_once;
    int64_t drawn_seq;
    int max_open;
};

static uint32_t argb(SDL_Color c)
{
    return 0xFF000000u | (uint32_t)c.r << 16 | (uint32_t)c.g << 8 | c.b;
}

ow_mapview *ow_mapview_new(const ow_regions *city)
{
    ow_mapview *m = calloc(1, sizeof *m);
    if (m) m->city = city;
    return m;
}

static void compose_join(ow_mapview *m);

static void drop_raster(ow_mapview *m)
{
    compose_join(m);
    free(m->fill);
    free(m->edge);
    free(m->edges);
    m->edges = NULL;
    m->nedges = 0;
    if (m->texture) SDL_DestroyTexture(m->texture);
    m->fill = m->work = NULL;
    m->edge = NULL;
    m->texture = NULL;
    m->w = m->h = 0;
    m->drawn = NULL;
    m->drawn_once = false;
}

void ow_mapview_free(ow_mapview *m)
{
    if (!m) return;
    drop_raster(m);
    free(m);
}

/* The bbox the map shows: the city's regions, else the snapshot's city or heat grid. */
static bool map_bbox(const ow_mapview *m, const ow_scene *s, double out[4])
{
    if (m->city && m->city->n > 0) {
        memcpy(out, m->city->bbox, 4 * sizeof(double));
        return true;
    }
    if (s && s->has_city) {
        memcpy(out, s->city_bbox, 4 * sizeof(double));
        return true;
    }
    if (s && s->has_heat) {
        memcpy(out, s->heat_bbox, 4 * sizeof(double));
        return true;
    }
    return false;
}

/* ---- the regions raster --------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Even-odd scanline fill of every ring of region g, sampling pixel centres. */
static void fill_region(ow_mapview *m, const ow_region *g, uint32_t color, double *xs, int xs_cap)
{
    double x0, y0, x1, y1;
    ow_project(&m->proj, g->bbox[0], g->bbox[3], &x0, &y0);
    ow_project(&m->proj, g->bbox[2], g->bbox[1], &x1, &y1);
    int ya = (int)floor(fmin(y0, y1)), yb = (int)ceil(fmax(y0, y1));
    if (ya < 0) ya = 0;
    if (yb > m->h) yb = m->h;
    for (int y = ya; y < yb; y++) {
        double cy = y + 0.5;
        int n = 0;
        for (int p = 0; p < g->npolys; p++)
            for (int k = 0; k < g->polys[p].nrings; k++) {
                const ow_ring *ring = &g->polys[p].rings[k];
                for (int i = 0; i < ring->n && n < xs_cap; i++) {
                    const ow_lonlat *a = &ring->pts[i], *b = &ring->pts[(i + 1) % ring->n];
                    double ax, ay, bx, by;
                    ow_project(&m->proj, a->lon, a->lat, &ax, &ay);
                    ow_project(&m->proj, b->lon, b->lat, &bx, &by);
                    if ((ay <= cy) == (by <= cy)) continue;
                    xs[n++] = ax + (cy - ay) / (by - ay) * (bx - ax);
                }
            }
        qsort(xs, (size_t)n, sizeof *xs, cmp_double);
        for (int i = 0; i + 1 < n; i += 2) {
            int xa = (int)ceil(xs[i] - 0.5), xb = (int)ceil(xs[i + 1] - 0.5);
            if (xa < 0) xa = 0;
            if (xb > m->w) xb = m->w;
            for (int x = xa; x < xb; x++)
                m->fill[(size_t)y * m->w + x] = color;
        }
    }
}

/* A line of width t into the edge mask. */
static void edge_line(ow_mapview *m, double ax, double ay, double bx, double by, int t)
{
    double len = fmax(fabs(bx - ax), fabs(by - ay));
    int steps = (int)ceil(len) + 1;
    for (int s = 0; s <= steps; s++) {
        double f = (double)s / steps;
        int cx = (int)(ax + (bx - ax) * f) - t / 2, cy = (int)(ay + (by - ay) * f) - t / 2;
        for (int dy = 0; dy < t; dy++)
            for (int dx = 0; dx < t; dx++) {
                int x = cx + dx, y = cy + dy;
                if (x >= 0 && y >= 0 && x < m->w && y < m->h) m->edge[(size_t)y * m->w + x] = 1;
            }
    }
}

static bool build_raster(ow_mapview *m, SDL_Renderer *r, double u, const ow_scene *s, int w, int h)
{
    drop_raster(m);
    size_t n = (size_t)w * (size_t)h;
    m->fill = malloc(n * sizeof *m->fill);
    m->edge = calloc(n, 1);
    m->texture = SDL_CreateTexture(r, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING, w, h);
    if (!m->fill || !m->edge || !m->texture) {
        drop_raster(m);
        return false;
    }
    m->renderer = r;
    m->w = w;
    m->h = h;
    const uint32_t water = argb(ow_theme_tone(OW_TONE_PANEL));
    for (size_t i = 0; i < n; i++)
        m->fill[i] = water;
    double bbox[4];
    m->projected = map_bbox(m, s, bbox);
    if (!m->projected) return true;
    ow_projection_fit(&m->proj, bbox, 0, 0, w, h);
    if (!m->city) return true;
    int cap = 0;
    for (int i = 0; i < m->city->n; i++) {
        int pts = 0;
        for (int p = 0; p < m->city->v[i].npolys; p++)
            for (int k = 0; k < m->city->v[i].polys[p].nrings; k++)
                pts += m->city->v[i].polys[p].rings[k].n;
        if (pts > cap) cap = pts;
    }
    double *xs = malloc((size_t)(cap + 1) * sizeof *xs);
    if (!xs) return true;
    /* land in two alternating tones so neighbouring regions read apart even under the heat */
    const SDL_Color land[2] = {{0x1C, 0x27, 0x3D, 0xFF}, {0x22, 0x2E, 0x47, 0xFF}};
    const int t = (int)lround(2.5 * u) > 1 ? (int)lround(2.5 * u) : 1;
    for (int i = 0; i < m->city->n; i++) {
        const ow_region *g = &m->city->v[i];
        fill_region(m, g, argb(land[i % 2]), xs, cap + 1);
        for (int p = 0; p < g->npolys; p++)
            for (int k = 0; k < g->polys[p].nrings; k++) {
                const ow_ring *ring = &g->polys[p].rings[k];
                for (int j = 0; j < ring->n; j++) {
                    double ax, ay, bx, by;
                    ow_project(&m->proj, ring->pts[j].lon, ring->pts[j].lat, &ax, &ay);
                    ow_project(&m->proj, ring->pts[(j + 1) % ring->n].lon,
                               ring->pts[(j + 1) % ring->n].lat, &bx, &by);
                    edge_line(m, ax, ay, bx, by, t);
                }
            }
    }
    free(xs);
    /* the outline pixels as a list: stamping them costs their number, not the map's area */
    size_t ne = 0;
    for (size_t i = 0; i < n; i++)
        ne += m->edge[i];
    if ((m->edges = malloc((ne ? ne : 1) * sizeof *m->edges))) {
        for (size_t i = 0; i < n; i++)
            if (m->edge[i]) m->edges[m->nedges++] = (uint32_t)i;
    }
    free(m->edge);
    m->edge = NULL;
    return true;
}

/* A hash of what the map shows of a scene: heat cells and technicians. */
static uint64_t content_hash(const ow_scene *s)
{
    uint64_t h = OW_HASH_SEED;
    if (!s) return h;
    h = ow_hash_mix(h, s->cells, s->has_heat ? (size_t)s->ncells * sizeof *s->cells : 0);
    h = ow_hash_mix(h, s->techs_pos,
                    s->has_techs_pos ? (size_t)s->ntechs_pos * sizeof *s->techs_pos : 0);
    h = ow_hash_mix(h, s->heat_bbox, sizeof s->heat_bbox);
    return ow_hash_mix(h, &s->heat_cols, sizeof s->heat_cols);
}

/* ---- composing ------------------------------------------------------------------------------ */

static uint32_t blend(uint32_t under, SDL_Color c, int a)
{
    uint32_t r = (under >> 16) & 0xFF, g = (under >> 8) & 0xFF, b = under & 0xFF;
    r = (r * (255 - a) + c.r * a) / 255;
    g = (g * (255 - a) + c.g * a) / 255;
    b = (b * (255 - a) + c.b * a) / 255;
    return 0xFF000000u | r << 16 | g << 8 | b;
}

/* One heat cell in pixels, with its colour and the last blend it made (a cell covers a few flat
 * tones: water, two land tones). */
typedef struct heat_px {
    int xa, xb, ya, yb;
    SDL_Color col;
    uint32_t under, over;
} heat_px;

/* The cells with orders, in pixels, in the scene's order (*n of them; NULL when none). */
static heat_px *heat_cells(ow_mapview *m, const ow_scene *s, int *n)
{
    *n = 0;
    m->max_open = 0;
    if (!s || !s->has_heat || !m->projected) return NULL;
    for (int i = 0; i < s->ncells; i++)
        if (s->cells[i].open > m->max_open) m->max_open = s->cells[i].open;
    heat_px *v = m->max_open > 0 ? malloc((size_t)s->ncells * sizeof *v) : NULL;
    if (!v) return NULL;
    const double *b = s->heat_bbox, lmax = log1p(m->max_open);
    const double cw = (b[2] - b[0]) / s->heat_cols, ch = (b[3] - b[1]) / s->heat_rows;
    for (int i = 0; i < s->ncells; i++) {
        const ow_scene_cell *c = &s->cells[i];
        if (c->open <= 0) continue;
        double x0, y0, x1, y1; /* row 0 is south: its top edge is the larger latitude */
        ow_project(&m->proj, b[0] + c->col * cw, b[1] + (c->row + 1) * ch, &x0, &y0);
        ow_project(&m->proj, b[0] + (c->col + 1) * cw, b[1] + c->row * ch, &x1, &y1);
        heat_px *h = &v[(*n)++];
        h->xa = (int)lround(x0);
        h->xb = (int)lround(x1);
        h->ya = (int)lround(y0);
        h->yb = (int)lround(y1);
        if (h->xa < 0) h->xa = 0;
        if (h->ya < 0) h->ya = 0;
        if (h->xb > m->w) h->xb = m->w;
        if (h->yb > m->h) h->yb = m->h;
        h->col = ow_theme_heat(log1p(c->open) / lmax);
        h->under = 0;
        h->over = blend(0, h->col, HEAT_ALPHA);
    }
    return v;
}

static int cmp_top(const void *a, const void *b)
{
    const heat_px *x = *(const heat_px *const *)a, *y = *(const heat_px *const *)b;
    if (x->ya != y->ya) return (x->ya > y->ya) - (x->ya < y->ya);
    return (x > y) - (x < y); /* the scene's order */
}

/* The kept raster, the heat over it and the outlines again, one row at a time (each row is
 * blended and stamped while it is in the cache, not in three passes over the whole picture).
 * Per pixel the same as: copy the raster, blend every cell in the scene's order, stamp every
 * outline pixel. */
static void compose_rows(ow_mapview *m, const ow_scene *s)
{
    int n;
    heat_px *cells = heat_cells(m, s, &n);
    heat_px **top = n ? malloc((size_t)n * sizeof *top) : NULL, **act = NULL;
    if (top) act = malloc((size_t)n * sizeof *act);
    if (n && (!top || !act)) n = 0; /* no memory: no heat */
    for (int i = 0; i < n; i++)
        top[i] = &cells[i];
    if (n) qsort(top, (size_t)n, sizeof *top, cmp_top);
    const uint32_t edge = argb((SDL_Color){0x8F, 0xA3, 0xC4, 0xFF});
    int next = 0, nact = 0;
    size_t e = 0;
    for (int y = 0; y < m->h; y++) {
        uint32_t *row = m->work + (size_t)y * m->pitch;
        memcpy(row, m->fill + (size_t)y * m->w, (size_t)m->w * sizeof *row);
        int k = 0; /* the cells over this row, kept in the scene's order */
        for (int i = 0; i < nact; i++)
            if (act[i]->yb > y) act[k++] = act[i];
        nact = k;
        for (; next < n && top[next]->ya <= y; next++) {
            if (top[next]->yb <= y) continue;
            int j = nact++;
            while (j > 0 && act[j - 1] > top[next]) {
                act[j] = act[j - 1];
                j--;
            }
            act[j] = top[next];
        }
        for (int i = 0; i < nact; i++) {
            heat_px *h = act[i];
            for (int x = h->xa; x < h->xb; x++) {
                if (row[x] != h->under) {
                    h->under = row[x];
                    h->over = blend(h->under, h->col, HEAT_ALPHA);
                }
                row[x] = h->over;
            }
        }
        const uint32_t end = (uint32_t)(y + 1) * (uint32_t)m->w;
        for (; e < m->nedges && m->edges[e] < end; e++)
            row[m->edges[e] % (uint32_t)m->w] = edge;
    }
    free(act);
    free(top);
    free(cells);
}

/* One dot of `size` px at (x0, y0), and with e = 1 a one-pixel dark rim (it keeps a dot visible on
 * the brightest heat) that never covers another dot. */
static void stamp(ow_mapview *m, int x0, int y0, int size, int e, uint32_t color,
                  const uint32_t *colors, uint32_t dark)
{
    for (int y = y0 - e; y < y0 + size + e; y++) {
        if (y < 0 || y >= m->h) continue;
        uint32_t *row = &m->work[(size_t)y * m->pitch];
        const bool rim_row = y < y0 || y >= y0 + size;
        for (int x = x0 - e; x < x0 + size + e; x++) {
            if (x < 0 || x >= m->w) continue;
            uint32_t *p = &row[x];
            if (!rim_row && x >= x0 && x < x0 + size)
                *p = color;
            else if (*p != colors[0] && *p != colors[1] && *p != colors[2] && *p != colors[3] &&
                     *p != colors[4])
                *p = dark;
        }
    }
}

static void compose_dots(ow_mapview *m, const ow_scene *s, double u)
{
    if (!s || !s->has_techs_pos || !m->projected) return;
    int size = (int)lround(3 * u);
    if (size < 2) size = 2;
    const int e = size >= 4 ? 1 : 0; /* at 1080p a rim would double a dot's footprint */
    uint32_t colors[OW_TECH__COUNT], dark = argb(ow_theme_tone(OW_TONE_BACKGROUND));
    for (int k = 0; k < OW_TECH__COUNT; k++)
        colors[k] = argb(ow_theme_tech(k));
    /* offline first, idle last: the technicians who can take work stay on top */
    static const int order[OW_TECH__COUNT] = {OW_TECH_OFFLINE, OW_TECH_BREAK, OW_TECH_ONSITE,
                                              OW_TECH_ENROUTE, OW_TECH_IDLE};
    int rank[OW_TECH__COUNT];
    for (int k = 0; k < OW_TECH__COUNT; k++)
        rank[order[k]] = k;
    /* Within one status the result does not depend on the order (a dot's inside always wins, a
     * rim only darkens what no dot covers), so each status's dots are stamped top to bottom: rows
     * of the picture are then touched in order, not 5,000 times at random (a counting sort on
     * status, then row). */
    const int n = s->ntechs_pos, rows = m->h + 2, keys = OW_TECH__COUNT * rows;
    int *at = malloc((size_t)n * 3 * sizeof *at), *first = calloc((size_t)keys + 1, sizeof *first);
    int *sorted = at ? at + 2 * n : NULL;
    if (!at || !first) { /* no memory for the order: status by status, as they come */
        for (int pass = 0; pass < OW_TECH__COUNT; pass++)
            for (int i = 0; i < n; i++) {
                const ow_scene_tech *t = &s->techs_pos[i];
                if (t->status != order[pass]) continue;
                double fx, fy;
                ow_project(&m->proj, t->lon, t->lat, &fx, &fy);
                stamp(m, (int)fx - size / 2, (int)fy - size / 2, size, e, colors[t->status], colors,
                      dark);
            }
        free(at);
        free(first);
        return;
    }
    for (int i = 0; i < n; i++) {
        const ow_scene_tech *t = &s->techs_pos[i];
        double fx, fy;
        ow_project(&m->proj, t->lon, t->lat, &fx, &fy);
        at[2 * i] = (int)fx - size / 2;
        at[2 * i + 1] = (int)fy - size / 2;
        int row = at[2 * i + 1] + 1;
        row = row < 0 ? 0 : row >= rows ? rows - 1 : row;
        first[rank[t->status] * rows + row + 1]++;
    }
    for (int k = 0; k < keys; k++)
        first[k + 1] += first[k];
    for (int i = 0; i < n; i++) {
        int row = at[2 * i + 1] + 1;
        row = row < 0 ? 0 : row >= rows ? rows - 1 : row;
        sorted[first[rank[s->techs_pos[i].status] * rows + row]++] = i;
    }
    for (int j = 0; j < n; j++) {
        const int i = sorted[j];
        stamp(m, at[2 * i], at[2 * i + 1], size, e, colors[s->techs_pos[i].status], colors, dark);
    }
    free(at);
    free(first);
}

/* The whole picture into `work`: the kept raster, the heat, the outlines again, the dots. Touches
 * only m's raster and `work` and reads the scene: safe on a worker thread. */
static void compose(ow_mapview *m, const ow_scene *s, double u)
{
    compose_rows(m, s);
    compose_dots(m, s, u);
}

static int64_t thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ow_mapview_compose_cpu_us(const ow_mapview *m)
{
    return m->compose_cpu_us;
}

static void *compose_main(void *arg)
{
    ow_mapview *m = arg;
    const int64_t t0 = thread_cpu_us();
    compose(m, m->compose_scene, m->compose_u);
    m->compose_cpu_us = thread_cpu_us() - t0;
    return NULL;
}

/* Wait for a worker's picture and hand the texture back to the renderer. */
static void compose_join(ow_mapview *m)
{
    if (!m->composing) return;
    pthread_join(m->worker, NULL);
    m->composing = false;
    m->work = NULL;
    if (m->in_canvas) { /* the texture no longer shows the data: compose it again when used */
        m->drawn_once = false;
        m->on_canvas = true;
        return;
    }
    SDL_UnlockTexture(m->texture);
    m->drawn_hash = m->compose_hash;
    m->drawn_once = true;
}

/* The raster for this size, and whether the texture must be composed again for s. */
static bool needs_compose(ow_mapview *m, SDL_Renderer *r, double u, const ow_scene *s,
                          SDL_Rect area, uint64_t *hash)
{
    if (area.w <= 0 || area.h <= 0) return false;
    if (area.w != m->w || area.h != m->h || r != m->renderer || (!m->projected && s)) {
        if (!build_raster(m, r, u, s, area.w, area.h)) return false;
    }
    if (m->drawn == s && (!s || m->drawn_seq == s->core.seq)) return false;
    /* most snapshots change counters, not the map: compose only when its data changed */
    m->drawn = s;
    m->drawn_seq = s ? s->core.seq : -1;
    *hash = content_hash(s);
    return *hash != m->drawn_hash || !m->drawn_once;
}

/* Compose on this thread (the texture is locked). */
static void compose_here(ow_mapview *m, const ow_scene *s, double u, uint64_t h)
{
    compose(m, s, u);
    SDL_UnlockTexture(m->texture);
    m->work = NULL;
    m->drawn_hash = h;
    m->drawn_once = true;
}

static bool lock_work(ow_mapview *m)
{
    void *pixels;
    int pitch;
    if (SDL_LockTexture(m->texture, NULL, &pixels, &pitch) != 0) return false;
    m->work = pixels;
    m->pitch = pitch / (int)sizeof(uint32_t);
    return true;
}

void ow_mapview_prepare(ow_mapview *m, SDL_Renderer *r, double u, const ow_scene *s, SDL_Rect area,
                        SDL_Surface *canvas)
{
    uint64_t h = 0;
    m->on_canvas = false;
    if (m->composing) return;
    const bool need = needs_compose(m, r, u, s, area, &h);
    if (canvas && (!m->fill || area.w != m->w || area.h != m->h || area.x < 0 || area.y < 0 ||
                   area.x + area.w > canvas->w || area.y + area.h > canvas->h))
        canvas = NULL;
    m->in_canvas = canvas != NULL;
    if (canvas) {
        /* the panel is being redrawn: compose straight into its place on the screen (no texture
         * in between, no copy), changed or not */
        m->work = (uint32_t *)((uint8_t *)canvas->pixels + (size_t)area.y * canvas->pitch +
                               (size_t)area.x * 4);
        m->pitch = canvas->pitch / (int)sizeof(uint32_t);
        m->canvas_area = area;
    } else if (!need || !lock_work(m)) {
        return;
    }
    m->compose_scene = s;
    m->compose_u = u;
    m->compose_hash = h;
    if (pthread_create(&m->worker, NULL, compose_main, m) == 0) {
        m->composing = true;
        return;
    }
    if (!canvas) { /* no thread: compose now */
        compose_here(m, s, u, h);
        return;
    }
    compose(m, s, u);
    m->work = NULL;
    m->drawn_once = false;
    m->on_canvas = true;
}

int ow_mapview_draw(ow_mapview *m, SDL_Renderer *r, double u, const ow_scene *s, SDL_Rect area,
                    bool *covered)
{
    *covered = false;
    if (area.w <= 0 || area.h <= 0) return 0;
    compose_join(m); /* the picture ow_mapview_prepare started, if any */
    const bool on_canvas = m->on_canvas && SDL_RectEquals(&m->canvas_area, &area);
    m->on_canvas = false;
    uint64_t h;
    if (needs_compose(m, r, u, s, area, &h) && lock_work(m)) compose_here(m, s, u, h);
    if (on_canvas) {
        *covered = true;
        return m->max_open;
    }
    if (!m->texture) return 0;
    if (!m->drawn_once && lock_work(m)) /* composed into a canvas last: the texture is stale */
        compose_here(m, s, u, content_hash(s));
    SDL_SetTextureBlendMode(m->texture, SDL_BLENDMODE_NONE);
    SDL_RenderCopy(r, m->texture, NULL, &area);
    *covered = true;
    return m->max_open;
}

bool ow_mapview_project(const ow_mapview *m, double lon, double lat, int *x, int *y)
{
    if (!m->projected) return false;
    double fx, fy;
    ow_project(&m->proj, lon, lat, &fx, &fy);
    *x = (int)lround(fx);
    *y = (int)lround(fy);
    return true;
}

/*
 * spatial — a uniform grid over lon/lat (WGS84 degrees) for points identified by small dense ids
 * (technician and order-record indices): radius queries and "nearest point that passes a filter"
 * in metres, without scanning every point.
 *
 * Cells are cell_m metres tall; their width in degrees of longitude is set at the latitude of the
 * first point (cos-scaled), so cells are about square in the city. Queries stay exact anywhere:
 * they cover the cells a radius can reach at the query's own latitude and test each candidate
 * with ow_distance_m (haversine). Only non-empty cells are stored (a hash of cell → points).
 *
 * Costs: put/move/remove O(1); within(r) O(cells in r + points in them); nearest O(points within
 * the answer's distance, times a small constant for the ring doubling).
 * Pure: no I/O. Results never depend on insertion order (nearest breaks ties by smaller id).
 */
#ifndef OW_SPATIAL_H
#define OW_SPATIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ow_spatial_pt {
    double lon, lat;
    int32_t cell; /* index in cells, -1 = not in the index */
    int32_t slot; /* position in that cell's list */
} ow_spatial_pt;

typedef struct ow_spatial_cell {
    int64_t key; /* packed (cx, cy) */
    int32_t *ids;
    int32_t n, cap;
} ow_spatial_cell;

typedef struct ow_spatial {
    double cell_m;
    double dlat, dlon; /* cell size in degrees; dlon fixed at the first point (0 until then) */
    ow_spatial_pt *pts;
    int32_t npts; /* ids below npts have a slot in pts */
    ow_spatial_cell *cells;
    int32_t ncells, capcells;
    int32_t *table; /* open addressing: cell index + 1, 0 = empty */
    size_t tcap;    /* power of two */
    int64_t count;  /* points in the index */
} ow_spatial;

void ow_spatial_init(ow_spatial *g, double cell_m);
void ow_spatial_fini(ow_spatial *g);

/* Insert the point `id` (>= 0) or move it. 0 or OW_ENOMEM. */
int ow_spatial_put(ow_spatial *g, int32_t id, double lon, double lat);
/* Remove the point (no-op when absent). Empty cells are kept for reuse. */
void ow_spatial_remove(ow_spatial *g, int32_t id);
/* Is the point in the index; its position when it is. */
bool ow_spatial_get(const ow_spatial *g, int32_t id, double *lon, double *lat);

/* Visit every point within r_m metres of (lon, lat), in unspecified order, with its distance.
 * Stop early by returning false. */
void ow_spatial_within(const ow_spatial *g, double lon, double lat, double r_m,
                       bool (*fn)(int32_t id, double dist_m, void *arg), void *arg);

/* The nearest point within max_m metres for which accept(id) is true (accept may be NULL), or
 * -1; its distance in *dist_m. Equal distances go to the smaller id. */
int32_t ow_spatial_nearest(const ow_spatial *g, double lon, double lat, double max_m,
                           bool (*accept)(int32_t id, void *arg), void *arg, double *dist_m);

#endif

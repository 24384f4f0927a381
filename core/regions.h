/*
 * regions — a city's regions from a GeoJSON FeatureCollection (DESIGN §9).
 *
 * One loader for every city (the synthetic sample and real ones): Polygon and MultiPolygon
 * features in WGS84 degrees, holes included; the property that names a region is chosen by the
 * caller (config `city.name_property`), `name_en` / `name_zh` properties are optional display
 * names. Parsing is strict and all-or-nothing: a feature without the name property, a ring that is
 * not closed or has fewer than 4 positions, a duplicate name, or a coordinate out of range fails
 * the whole load with a message naming the source, the feature index and the field.
 *
 * Pure: takes text, no file reads. Coordinates are [lon, lat] as in GeoJSON.
 */
#ifndef OW_REGIONS_H
#define OW_REGIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "event.h"

#define OW_REGIONS_MAX      4096 /* features per file */
#define OW_REGION_LABEL_BUF 256  /* display name, bytes including NUL */

typedef struct ow_lonlat {
    double lon, lat; /* degrees, WGS84 */
} ow_lonlat;

/* A closed ring without its repeated last position: pts[0..n-1]. */
typedef struct ow_ring {
    ow_lonlat *pts;
    int n;
} ow_ring;

/* rings[0] is the outer boundary, rings[1..] are holes. */
typedef struct ow_polygon {
    ow_ring *rings;
    int nrings;
} ow_polygon;

typedef struct ow_region {
    char id[OW_NAME_BUF];              /* value of the name property: the `region` of events */
    char name_en[OW_REGION_LABEL_BUF]; /* display names; fall back to id when absent */
    char name_zh[OW_REGION_LABEL_BUF];
    ow_polygon *polys;
    int npolys;
    double bbox[4];   /* west, south, east, north (degrees) */
    ow_lonlat center; /* a point inside the region (label anchor, coarsened positions) */
    double area_m2;   /* approximate area, square metres */
} ow_region;

typedef struct ow_regions {
    ow_region *v; /* in file order */
    int n;
    double bbox[4]; /* union of all regions: west, south, east, north */
} ow_regions;

/* Parse a FeatureCollection. `source` (file name) prefixes messages; `name_property` names the
 * property that identifies a region. On success *out is owned by the caller (ow_regions_free). */
int ow_regions_parse(const char *text, size_t len, const char *source, const char *name_property,
                     ow_regions **out, ow_err *err);

void ow_regions_free(ow_regions *r);

/* Index of the region with this id, or -1. */
int ow_regions_find(const ow_regions *r, const char *id);

/* Index of the region containing the point (holes excluded; first in file order wins on shared
 * edges), or -1 when no region contains it. O(regions) with a bbox pre-check. */
int ow_regions_locate(const ow_regions *r, double lon, double lat);

/* Great-circle distance in metres (haversine, mean Earth radius 6,371,008.8 m). */
double ow_distance_m(double lon1, double lat1, double lon2, double lat2);

/* Equirectangular projection of a bbox into a screen rectangle, aspect kept (x grows east,
 * y grows south), centred in the rectangle. Used by the wallboard, the report and the viewer. */
typedef struct ow_projection {
    double west, north; /* bbox corner mapped to (x0, y0) */
    double kx, ky;      /* pixels per degree of lon / lat */
    double x0, y0;
} ow_projection;

void ow_projection_fit(ow_projection *p, const double bbox[4], double x, double y, double w,
                       double h);
void ow_project(const ow_projection *p, double lon, double lat, double *x, double *y);

#endif

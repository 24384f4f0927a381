#include "regions.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define EARTH_R_M 6371008.8
#define DEG       (M_PI / 180.0)

/* Where a message points: "file: features[3] ("north"): geometry.coordinates[0][2]". */
typedef struct where {
    const char *source;
    int feature;
    const char *id; /* "" until the name property is read */
    ow_err *err;
} where;

static int fail(const where *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(const where *w, const char *fmt, ...)
{
    char detail[OW_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (w->feature < 0) return ow_err_set(w->err, OW_EINVAL, "%s: %s", w->source, detail);
    if (!w->id[0])
        return ow_err_set(w->err, OW_EINVAL, "%s: features[%d]: %s", w->source, w->feature, detail);
    return ow_err_set(w->err, OW_EINVAL, "%s: features[%d] (\"%s\"): %s", w->source, w->feature,
                      w->id, detail);
}

static void free_polys(ow_polygon *polys, int npolys)
{
    for (int p = 0; p < npolys; p++) {
        for (int r = 0; r < polys[p].nrings; r++)
            free(polys[p].rings[r].pts);
        free(polys[p].rings);
    }
    free(polys);
}

void ow_regions_free(ow_regions *rs)
{
    if (!rs) return;
    for (int i = 0; i < rs->n; i++)
        free_polys(rs->v[i].polys, rs->v[i].npolys);
    free(rs->v);
    free(rs);
}

static void bbox_reset(double b[4])
{
    b[0] = b[1] = INFINITY;
    b[2] = b[3] = -INFINITY;
}

static void bbox_add(double b[4], double lon, double lat)
{
    if (lon < b[0]) b[0] = lon;
    if (lat < b[1]) b[1] = lat;
    if (lon > b[2]) b[2] = lon;
    if (lat > b[3]) b[3] = lat;
}

/* One ring: an array of >= 4 [lon, lat] positions whose last repeats the first. */
static int parse_ring(const where *w, const cJSON *arr, const char *path, ow_ring *out,
                      double bbox[4])
{
    if (!cJSON_IsArray(arr))
        return fail(w, "%s: expected an array of [lon, lat] positions, got %s", path,
                    ow_json_type_name(arr));
    int n = cJSON_GetArraySize(arr);
    if (n < 4)
        return fail(w, "%s: a ring needs at least 4 positions (a closed triangle), got %d", path,
                    n);
    out->pts = malloc(sizeof *out->pts * (size_t)n);
    if (!out->pts) return ow_err_set(w->err, OW_ENOMEM, "%s: out of memory", w->source);
    int i = 0;
    const cJSON *pos;
    cJSON_ArrayForEach(pos, arr)
    {
        const cJSON *lon = cJSON_GetArrayItem(pos, 0), *lat = cJSON_GetArrayItem(pos, 1);
        if (!cJSON_IsArray(pos) || !cJSON_IsNumber(lon) || !cJSON_IsNumber(lat))
            return fail(w, "%s[%d]: expected a position [lon, lat] of numbers, got %s", path, i,
                        ow_json_type_name(pos));
        if (!(lon->valuedouble >= -180 && lon->valuedouble <= 180 && lat->valuedouble >= -90 &&
              lat->valuedouble <= 90))
            return fail(w,
                        "%s[%d]: [%g, %g] is not a WGS84 [lon, lat] position (lon -180..180, lat "
                        "-90..90; is the order swapped or the file projected?)",
                        path, i, lon->valuedouble, lat->valuedouble);
        out->pts[i++] = (ow_lonlat){lon->valuedouble, lat->valuedouble};
    }
    if (out->pts[0].lon != out->pts[n - 1].lon || out->pts[0].lat != out->pts[n - 1].lat)
        return fail(w,
                    "%s: ring is not closed: first position [%g, %g], last [%g, %g]; repeat the "
                    "first position at the end",
                    path, out->pts[0].lon, out->pts[0].lat, out->pts[n - 1].lon,
                    out->pts[n - 1].lat);
    out->n = n - 1; /* the repeated position is implicit from here on */
    for (int k = 0; k < out->n; k++)
        bbox_add(bbox, out->pts[k].lon, out->pts[k].lat);
    return OW_OK;
}

/* Polygon coordinates: [outer, hole, hole, ...]. */
static int parse_polygon(const where *w, const cJSON *arr, const char *path, ow_polygon *out,
                         double bbox[4])
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1)
        return fail(w, "%s: expected an array of rings (outer boundary first), got %s", path,
                    cJSON_IsArray(arr) ? "an empty array" : ow_json_type_name(arr));
    int n = cJSON_GetArraySize(arr);
    out->rings = calloc((size_t)n, sizeof *out->rings);
    if (!out->rings) return ow_err_set(w->err, OW_ENOMEM, "%s: out of memory", w->source);
    out->nrings = n;
    for (int r = 0; r < n; r++) {
        char sub[96];
        snprintf(sub, sizeof sub, "%s[%d]", path, r);
        int rc = parse_ring(w, cJSON_GetArrayItem(arr, r), sub, &out->rings[r], bbox);
        if (rc) return rc;
    }
    return OW_OK;
}

static int parse_geometry(const where *w, const cJSON *geom, ow_region *reg)
{
    const cJSON *type = ow_json_get(geom, "type"), *coords = ow_json_get(geom, "coordinates");
    if (!cJSON_IsObject(geom))
        return fail(w, "geometry: expected an object, got %s", ow_json_type_name(geom));
    if (!cJSON_IsString(type))
        return fail(w, "geometry.type: expected \"Polygon\" or \"MultiPolygon\", got %s",
                    ow_json_type_name(type));
    bool multi = strcmp(type->valuestring, "MultiPolygon") == 0;
    if (!multi && strcmp(type->valuestring, "Polygon") != 0)
        return fail(w, "geometry.type: expected \"Polygon\" or \"MultiPolygon\", got \"%.40s\"",
                    type->valuestring);
    if (!cJSON_IsArray(coords) || cJSON_GetArraySize(coords) < 1)
        return fail(w, "geometry.coordinates: expected a non-empty array, got %s",
                    ow_json_type_name(coords));
    int n = multi ? cJSON_GetArraySize(coords) : 1;
    reg->polys = calloc((size_t)n, sizeof *reg->polys);
    if (!reg->polys) return ow_err_set(w->err, OW_ENOMEM, "%s: out of memory", w->source);
    reg->npolys = n;
    bbox_reset(reg->bbox);
    for (int p = 0; p < n; p++) {
        char path[64];
        if (multi)
            snprintf(path, sizeof path, "geometry.coordinates[%d]", p);
        else
            snprintf(path, sizeof path, "geometry.coordinates");
        const cJSON *poly = multi ? cJSON_GetArrayItem(coords, p) : coords;
        int rc = parse_polygon(w, poly, path, &reg->polys[p], reg->bbox);
        if (rc) return rc;
    }
    return OW_OK;
}

/* A display name: optional string property, at most OW_REGION_LABEL_BUF - 1 bytes. */
static int parse_label(const where *w, const cJSON *props, const char *key, char *out,
                       const char *fallback)
{
    const cJSON *v = ow_json_get(props, key);
    if (!v || cJSON_IsNull(v)) {
        snprintf(out, OW_REGION_LABEL_BUF, "%s", fallback);
        return OW_OK;
    }
    if (!cJSON_IsString(v))
        return fail(w, "properties.%s: expected a string, got %s", key, ow_json_type_name(v));
    if (strlen(v->valuestring) >= OW_REGION_LABEL_BUF)
        return fail(w, "properties.%s: longer than %d bytes", key, OW_REGION_LABEL_BUF - 1);
    snprintf(out, OW_REGION_LABEL_BUF, "%s", v->valuestring);
    return OW_OK;
}

/* The region's id: a non-empty string or an integer (district numbers are often numbers). */
static int parse_id(const where *w, const cJSON *props, const char *name_property, char *out)
{
    const cJSON *v = ow_json_get(props, name_property);
    int64_t num;
    if (cJSON_IsString(v)) {
        size_t len = strlen(v->valuestring);
        if (len == 0 || len >= OW_NAME_BUF)
            return fail(w, "properties.%s: the region name must be 1 to %d bytes, got %zu",
                        name_property, OW_NAME_BUF - 1, len);
        memcpy(out, v->valuestring, len + 1);
        return OW_OK;
    }
    if (ow_json_int(v, INT32_MIN, INT32_MAX, &num)) {
        snprintf(out, OW_NAME_BUF, "%lld", (long long)num);
        return OW_OK;
    }
    if (!v)
        return fail(w,
                    "properties.%s: missing; every feature needs the property that names its "
                    "region (config city.name_property)",
                    name_property);
    return fail(w, "properties.%s: expected a string or an integer, got %s", name_property,
                ow_json_type_name(v));
}

/* Signed area of a ring in square metres, on a local equirectangular plane (fine at city size). */
static double ring_area_m2(const ow_ring *r, double coslat)
{
    double a = 0;
    for (int i = 0, j = r->n - 1; i < r->n; j = i++)
        a += (r->pts[j].lon * r->pts[i].lat - r->pts[i].lon * r->pts[j].lat);
    return a / 2 * (EARTH_R_M * DEG) * (EARTH_R_M * DEG) * coslat;
}

/* Even-odd crossings of the horizontal ray from (lon, lat) eastwards, over every ring. */
static bool polygon_contains(const ow_polygon *p, double lon, double lat)
{
    bool in = false;
    for (int r = 0; r < p->nrings; r++) {
        const ow_ring *g = &p->rings[r];
        for (int i = 0, j = g->n - 1; i < g->n; j = i++) {
            const ow_lonlat *a = &g->pts[i], *b = &g->pts[j];
            if ((a->lat > lat) != (b->lat > lat) &&
                lon < (b->lon - a->lon) * (lat - a->lat) / (b->lat - a->lat) + a->lon)
                in = !in;
        }
    }
    return in;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Widest inside interval of a polygon along one latitude; returns its width (0 if none). */
static double widest_at(const ow_polygon *p, double lat, double *mid)
{
    int total = 0;
    for (int r = 0; r < p->nrings; r++)
        total += p->rings[r].n;
    double *xs = malloc(sizeof *xs * (size_t)(total + 1));
    if (!xs) return 0;
    int n = 0;
    for (int r = 0; r < p->nrings; r++) {
        const ow_ring *g = &p->rings[r];
        for (int i = 0, j = g->n - 1; i < g->n; j = i++) {
            const ow_lonlat *a = &g->pts[i], *b = &g->pts[j];
            if ((a->lat > lat) != (b->lat > lat))
                xs[n++] = (b->lon - a->lon) * (lat - a->lat) / (b->lat - a->lat) + a->lon;
        }
    }
    qsort(xs, (size_t)n, sizeof *xs, cmp_double);
    double best = 0;
    for (int i = 0; i + 1 < n; i += 2)
        if (xs[i + 1] - xs[i] > best) {
            best = xs[i + 1] - xs[i];
            *mid = (xs[i] + xs[i + 1]) / 2;
        }
    free(xs);
    return best;
}

/* A label point that is inside the region even when it is concave or has holes: the middle of
 * the widest horizontal chord of its largest polygon, tried on a few latitudes. */
static void find_center(ow_region *reg, double coslat)
{
    int big = 0;
    double big_area = -1;
    for (int p = 0; p < reg->npolys; p++) {
        double a = fabs(ring_area_m2(&reg->polys[p].rings[0], coslat));
        if (a > big_area) big_area = a, big = p;
    }
    const ow_polygon *poly = &reg->polys[big];
    double south = INFINITY, north = -INFINITY;
    for (int i = 0; i < poly->rings[0].n; i++) {
        if (poly->rings[0].pts[i].lat < south) south = poly->rings[0].pts[i].lat;
        if (poly->rings[0].pts[i].lat > north) north = poly->rings[0].pts[i].lat;
    }
    double best = 0, best_lon = poly->rings[0].pts[0].lon, best_lat = poly->rings[0].pts[0].lat;
    for (int k = 1; k < 16; k++) {
        double lat = south + (north - south) * k / 16.0, mid = 0;
        /* the middle latitudes are preferred: a label there sits visually in the region */
        double w = widest_at(poly, lat, &mid) * (1.0 - abs(k - 8) / 16.0);
        if (w > best) best = w, best_lon = mid, best_lat = lat;
    }
    reg->center = (ow_lonlat){best_lon, best_lat};
}

static int parse_feature(const where *w, const cJSON *f, const char *name_property, ow_region *reg)
{
    if (!cJSON_IsObject(f))
        return fail(w, "expected a Feature object, got %s", ow_json_type_name(f));
    const cJSON *type = ow_json_get(f, "type"), *props = ow_json_get(f, "properties");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "Feature") != 0)
        return fail(w, "type: expected \"Feature\"");
    if (!cJSON_IsObject(props))
        return fail(w, "properties: expected an object, got %s", ow_json_type_name(props));
    int rc = parse_id(w, props, name_property, reg->id);
    if (rc) return rc;
    where named = *w;
    named.id = reg->id;
    rc = parse_label(&named, props, "name_en", reg->name_en, reg->id);
    if (!rc) rc = parse_label(&named, props, "name_zh", reg->name_zh, reg->name_en);
    if (!rc) rc = parse_geometry(&named, ow_json_get(f, "geometry"), reg);
    if (rc) return rc;
    double coslat = cos((reg->bbox[1] + reg->bbox[3]) / 2 * DEG);
    reg->area_m2 = 0;
    for (int p = 0; p < reg->npolys; p++)
        for (int r = 0; r < reg->polys[p].nrings; r++) {
            double a = fabs(ring_area_m2(&reg->polys[p].rings[r], coslat));
            reg->area_m2 += r == 0 ? a : -a;
        }
    find_center(reg, coslat);
    return OW_OK;
}

int ow_regions_parse(const char *text, size_t len, const char *source, const char *name_property,
                     ow_regions **out, ow_err *err)
{
    *out = NULL;
    where w = {source, -1, "", err};
    cJSON *root = ow_json_parse(text, len, OW_JSON_MAX_DEPTH, err);
    if (!root) {
        ow_err_prefix(err, "%s", source);
        return OW_EINVAL;
    }
    ow_regions *rs = calloc(1, sizeof *rs);
    int rc = rs ? OW_OK : ow_err_set(err, OW_ENOMEM, "%s: out of memory", source);
    const cJSON *type = ow_json_get(root, "type"), *features = ow_json_get(root, "features");
    if (!rc && (!cJSON_IsString(type) || strcmp(type->valuestring, "FeatureCollection") != 0))
        rc = fail(&w, "type: expected \"FeatureCollection\"");
    if (!rc && !cJSON_IsArray(features))
        rc = fail(&w, "features: expected an array, got %s", ow_json_type_name(features));
    int n = rc ? 0 : cJSON_GetArraySize(features);
    if (!rc && (n < 1 || n > OW_REGIONS_MAX))
        rc = fail(&w, "features: expected 1 to %d regions, got %d", OW_REGIONS_MAX, n);
    if (!rc && !(rs->v = calloc((size_t)n, sizeof *rs->v)))
        rc = ow_err_set(err, OW_ENOMEM, "%s: out of memory", source);
    if (!rc) bbox_reset(rs->bbox);
    for (int i = 0; !rc && i < n; i++) {
        w.feature = i;
        ow_region *reg = &rs->v[i];
        rs->n = i + 1; /* so a failure frees what this feature allocated */
        rc = parse_feature(&w, cJSON_GetArrayItem(features, i), name_property, reg);
        if (!rc && ow_regions_find(rs, reg->id) != i) {
            w.id = reg->id;
            rc = fail(&w, "properties.%s: region \"%s\" appears twice (also features[%d])",
                      name_property, reg->id, ow_regions_find(rs, reg->id));
        }
        if (!rc) {
            bbox_add(rs->bbox, reg->bbox[0], reg->bbox[1]);
            bbox_add(rs->bbox, reg->bbox[2], reg->bbox[3]);
        }
    }
    cJSON_Delete(root);
    if (rc) {
        ow_regions_free(rs);
        return rc;
    }
    *out = rs;
    return OW_OK;
}

int ow_regions_find(const ow_regions *rs, const char *id)
{
    for (int i = 0; i < rs->n; i++)
        if (strcmp(rs->v[i].id, id) == 0) return i;
    return -1;
}

int ow_regions_locate(const ow_regions *rs, double lon, double lat)
{
    for (int i = 0; i < rs->n; i++) {
        const ow_region *r = &rs->v[i];
        if (lon < r->bbox[0] || lon > r->bbox[2] || lat < r->bbox[1] || lat > r->bbox[3]) continue;
        for (int p = 0; p < r->npolys; p++)
            if (polygon_contains(&r->polys[p], lon, lat)) return i;
    }
    return -1;
}

double ow_distance_m(double lon1, double lat1, double lon2, double lat2)
{
    double dlat = (lat2 - lat1) * DEG, dlon = (lon2 - lon1) * DEG;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * DEG) * cos(lat2 * DEG) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * EARTH_R_M * asin(fmin(1.0, sqrt(a)));
}

void ow_projection_fit(ow_projection *p, const double bbox[4], double x, double y, double w,
                       double h)
{
    double dlon = bbox[2] - bbox[0], dlat = bbox[3] - bbox[1];
    double coslat = cos((bbox[1] + bbox[3]) / 2 * DEG);
    if (dlon <= 0) dlon = 1e-6;
    if (dlat <= 0) dlat = 1e-6;
    /* a degree of longitude is cos(lat) as long as a degree of latitude */
    double scale = fmin(w / (dlon * coslat), h / dlat);
    p->kx = scale * coslat;
    p->ky = scale;
    p->west = bbox[0];
    p->north = bbox[3];
    p->x0 = x + (w - dlon * p->kx) / 2;
    p->y0 = y + (h - dlat * p->ky) / 2;
}

void ow_project(const ow_projection *p, double lon, double lat, double *x, double *y)
{
    *x = p->x0 + (lon - p->west) * p->kx;
    *y = p->y0 + (p->north - lat) * p->ky;
}

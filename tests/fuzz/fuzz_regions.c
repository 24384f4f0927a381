/*
 * fuzz_regions — ow_regions_parse on arbitrary text, then every query on what it accepted.
 *
 * Oracles: a failure carries a message naming the source; a success has 1..OW_REGIONS_MAX
 * regions, each with rings of >= 3 distinct positions, a bbox inside the union bbox, ids that find
 * themselves, and queries (locate at the label point and corners, projection) that terminate.
 */
#include <math.h>
#include <string.h>

#include "fuzz_common.h"
#include "regions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ow_regions *rs = NULL;
    ow_err err;
    int rc = ow_regions_parse((const char *)data, size, "fuzz.geojson", "id", &rs, &err);
    if (rc != OW_OK) {
        fuzz_require(rs == NULL, "nothing half-loaded");
        fuzz_require(rc == OW_EINVAL || rc == OW_ENOMEM, "error code");
        fuzz_require(strncmp(err.msg, "fuzz.geojson", 12) == 0, "message names the source");
        return 0;
    }
    fuzz_require(rs->n >= 1 && rs->n <= OW_REGIONS_MAX, "region count");
    for (int i = 0; i < rs->n; i++) {
        const ow_region *r = &rs->v[i];
        fuzz_require(ow_regions_find(rs, r->id) == i, "ids are unique and found");
        fuzz_require(r->npolys >= 1, "a polygon");
        for (int p = 0; p < r->npolys; p++)
            for (int g = 0; g < r->polys[p].nrings; g++)
                fuzz_require(r->polys[p].rings[g].n >= 3, "rings of >= 3 positions");
        fuzz_require(r->bbox[0] >= rs->bbox[0] && r->bbox[2] <= rs->bbox[2] &&
                         r->bbox[1] >= rs->bbox[1] && r->bbox[3] <= rs->bbox[3],
                     "region bbox inside the city bbox");
        fuzz_require(!isnan(r->center.lon) && !isnan(r->center.lat), "label point is a number");
        int at = ow_regions_locate(rs, r->center.lon, r->center.lat);
        fuzz_require(at >= -1 && at < rs->n, "locate in range");
    }
    ow_projection pr;
    ow_projection_fit(&pr, rs->bbox, 0, 0, 1920, 1080);
    double x, y;
    ow_project(&pr, rs->bbox[0], rs->bbox[3], &x, &y);
    fuzz_require(!isnan(x) && !isnan(y), "projection is a number");
    ow_regions_free(rs);
    return 0;
}

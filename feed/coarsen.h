/*
 * coarsen — what the viewer role may see (DESIGN §7): technician positions moved to the centre
 * of their region, on the server, so no exact position ever reaches a viewer's browser.
 *
 * Region centres are learnt from the snapshot member `regions` (docs/snapshot.md: each entry has
 * `id` and `center` [lon, lat]). A technician row `[id, lon, lat, status, region]` of `techs_pos`
 * gets its region's centre; a row whose region has no known centre gets null coordinates (never
 * the exact ones). Order detail and other documents are cleaned with ow_coarsen_strip.
 *
 * Pure: works on cJSON trees, no I/O. Lifecycle: ow_coarsen_init → ow_coarsen_learn ... →
 * ow_coarsen_fini.
 */
#ifndef OW_FEED_COARSEN_H
#define OW_FEED_COARSEN_H

#include <cjson/cJSON.h>
#include <stdbool.h>

typedef struct ow_coarsen {
    cJSON *centers; /* owned: {"r01":[lon,lat],...} */
} ow_coarsen;

void ow_coarsen_init(ow_coarsen *c);
void ow_coarsen_fini(ow_coarsen *c);

/* Learn the centres of a `regions` array (borrowed). Entries without a string id and a
 * two-number centre are skipped. Returns false on out of memory (the old centres stay). */
bool ow_coarsen_learn(ow_coarsen *c, const cJSON *regions);

/* Coarsen a `techs_pos` value in place ({"at":…,"list":[[id,lon,lat,status,region],…]}).
 * Anything that is not such an object is replaced by an empty list, so malformed input cannot
 * carry exact positions through. Returns false on out of memory. */
bool ow_coarsen_techs(const ow_coarsen *c, cJSON *techs_pos);

/* Recursively null every member named "lon", "lat", "lonlat", "pos" or "position" and coarsen
 * every "techs_pos" member in a document (order detail). Returns false on out of memory. */
bool ow_coarsen_strip(const ow_coarsen *c, cJSON *doc);

#endif

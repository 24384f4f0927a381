/*
 * heatmap — what is open where, now (issue 5, DESIGN §6): gauges kept in step with the model.
 *
 *   geo grid   open orders, orders with a breached clock, idle technicians per cell of a grid
 *              laid over the city's bounding box (cell size analytics.grid_cell_m; the cell is
 *              enlarged when the city would need more than OW_HEAT_MAX_CELLS cells)
 *   region     open orders, breached orders, open alerts, technicians per status
 *   category   open orders per region × category
 *
 * The model calls ow_heat_order / ow_heat_tech with sign -1 before it changes an order or a
 * technician and +1 after, so every gauge is the current state, never a history; reading costs
 * O(cells + regions × categories), independent of the number of orders.
 * Slots: slot 0 is the whole city, slot r + 1 is region r of the model's interned regions.
 *
 * Pure. Lifecycle: ow_heat_new → updates → ow_heat_free. The city is borrowed.
 */
#ifndef OW_HEATMAP_H
#define OW_HEATMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "jsonw.h"
#include "names.h"
#include "regions.h"

#define OW_HEAT_MAX_CELLS (1 << 18)

typedef struct ow_heat ow_heat;

/* city may be NULL (no grid, no region geometry). NULL on out of memory. */
ow_heat *ow_heat_new(const ow_regions *city, int64_t cell_m);
void ow_heat_free(ow_heat *h);

/* The grid cell of a point, or -1 (no grid, outside the box). */
int32_t ow_heat_cell(const ow_heat *h, double lon, double lat);

/* An open order (region slot, category index or -1, cell or -1, breached or not) comes or goes. */
int ow_heat_order(ow_heat *h, int slot, int category, int32_t cell, bool breached, int sign);
/* A technician with a status (ow_tech_status) in a slot and cell comes or goes. */
int ow_heat_tech(ow_heat *h, int slot, int status, int32_t cell, int sign);
/* An SLA alert of a slot opens (+1) or closes (-1). */
int ow_heat_alert(ow_heat *h, int slot, int sign);

/* Open orders per slot: *n entries (slot 0 = all). Borrowed, valid until the next update. */
const int64_t *ow_heat_open(const ow_heat *h, int *n);

/* ---- snapshot members ---- */
void ow_heat_write_city(const ow_heat *h, ow_jsonw *w, const char *city_name);
void ow_heat_write_grid(const ow_heat *h, ow_jsonw *w);
void ow_heat_write_regions(const ow_heat *h, ow_jsonw *w, const ow_names *regions);
void ow_heat_write_category(const ow_heat *h, ow_jsonw *w, const ow_names *regions,
                            const ow_names *categories);

#endif

/*
 * places — the place index of orders: the orders at each address (a chain per 64-bit address
 * key) and a grid of their points, by the caller's record index.
 *
 * The flags keep one for the partition's own orders, the cross-partition replica one for the
 * other partitions' orders; the pair flags (duplicate_dispatch, repeat_visit) look in both and
 * must find what one node finds, so both are the same code. Pure; the caller owns its records
 * and their indices (small non-negative integers, reused after a remove).
 */
#ifndef OW_PLACES_H
#define OW_PLACES_H

#include <stdbool.h>
#include <stdint.h>

#include "map.h"
#include "spatial.h"

typedef struct ow_places {
    ow_spatial grid;      /* indexed points (lon, lat) */
    ow_map addr;          /* 16 hex digits of the address key → 1 + the chain's first index */
    int32_t *next, *prev; /* the same-address chain by index, -1 at its ends */
    int32_t cap;
} ow_places;

/* cell_m: the grid's cell, metres (about the radius of the queries). */
void ow_places_init(ow_places *p, double cell_m);
void ow_places_fini(ow_places *p);
/* Index idx at (lon, lat) when has_geo and at address addr when has_addr; idx must not be
 * indexed already. 0 or OW_ENOMEM (then partly indexed: remove it before dropping it). */
int ow_places_add(ow_places *p, int32_t idx, bool has_geo, double lon, double lat, bool has_addr,
                  uint64_t addr);
/* Take idx out (has_addr, addr as added). O(1). */
void ow_places_remove(ow_places *p, int32_t idx, bool has_addr, uint64_t addr);
/* The indices at address addr, newest first: first, then next until -1. */
int32_t ow_places_first(const ow_places *p, uint64_t addr);
int32_t ow_places_next(const ow_places *p, int32_t idx);

#endif

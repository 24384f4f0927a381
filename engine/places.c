#include "places.h"

#include <stdlib.h>

#include "err.h"

/* The map's key: the address key as 16 hex digits. */
static void addr_text(uint64_t k, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--, k >>= 4)
        out[i] = hex[k & 15];
    out[16] = '\0';
}

void ow_places_init(ow_places *p, double cell_m)
{
    ow_spatial_init(&p->grid, cell_m > 1 ? cell_m : 1);
    ow_map_init(&p->addr);
    p->next = p->prev = NULL;
    p->cap = 0;
}

void ow_places_fini(ow_places *p)
{
    ow_spatial_fini(&p->grid);
    ow_map_fini(&p->addr);
    free(p->next), free(p->prev);
    p->next = p->prev = NULL;
    p->cap = 0;
}

static int reserve(ow_places *p, int32_t idx)
{
    if (idx < p->cap) return OW_OK;
    int32_t c = p->cap ? p->cap : 64;
    while (c <= idx)
        c *= 2;
    int32_t *n = realloc(p->next, (size_t)c * sizeof *n);
    if (!n) return OW_ENOMEM;
    p->next = n;
    int32_t *v = realloc(p->prev, (size_t)c * sizeof *v);
    if (!v) return OW_ENOMEM;
    p->prev = v;
    p->cap = c;
    return OW_OK;
}

int ow_places_add(ow_places *p, int32_t idx, bool has_geo, double lon, double lat, bool has_addr,
                  uint64_t addr)
{
    if (has_geo && ow_spatial_put(&p->grid, idx, lon, lat)) return OW_ENOMEM;
    if (!has_addr) return OW_OK;
    if (reserve(p, idx)) return OW_ENOMEM;
    char k[17];
    addr_text(addr, k);
    int32_t head = (int32_t)((intptr_t)ow_map_get(&p->addr, k) - 1);
    p->prev[idx] = -1;
    p->next[idx] = head;
    if (head >= 0) p->prev[head] = idx;
    if (ow_map_put(&p->addr, k, (void *)(intptr_t)(idx + 1))) {
        if (head >= 0) p->prev[head] = -1;
        return OW_ENOMEM;
    }
    return OW_OK;
}

void ow_places_remove(ow_places *p, int32_t idx, bool has_addr, uint64_t addr)
{
    ow_spatial_remove(&p->grid, idx);
    if (!has_addr || idx >= p->cap) return;
    char k[17];
    addr_text(addr, k);
    int32_t prev = p->prev[idx], next = p->next[idx];
    if (prev >= 0)
        p->next[prev] = next;
    else if (next >= 0)
        ow_map_put(&p->addr, k, (void *)(intptr_t)(next + 1)); /* replaces: no allocation */
    else
        ow_map_take(&p->addr, k);
    if (next >= 0) p->prev[next] = prev;
    p->next[idx] = p->prev[idx] = -1;
}

int32_t ow_places_first(const ow_places *p, uint64_t addr)
{
    char k[17];
    addr_text(addr, k);
    return (int32_t)((intptr_t)ow_map_get(&p->addr, k) - 1);
}

int32_t ow_places_next(const ow_places *p, int32_t idx)
{
    return idx >= 0 && idx < p->cap ? p->next[idx] : -1;
}

/*
 * map — a string-keyed hash map (open addressing, linear probing, tombstones).
 *
 * Keys are copied into the map and freed by it; values are caller pointers the map never frees.
 * Iteration order is the slot order: never use it for output that must be deterministic
 * (sort first).
 */
#ifndef OW_MAP_H
#define OW_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ow_map_slot {
    char *key; /* NULL = empty; OW_MAP_TOMBSTONE = removed */
    void *value;
    uint64_t hash;
} ow_map_slot;

typedef struct ow_map {
    ow_map_slot *slots;
    size_t cap;  /* power of two, or 0 */
    size_t len;  /* live entries */
    size_t used; /* live + tombstones */
} ow_map;

void ow_map_init(ow_map *m);
/* Frees the keys and the table, not the values; the map is empty and usable again after. */
void ow_map_fini(ow_map *m);
/* The same for a map that owns its values (each from malloc): frees them too. */
void ow_map_fini_free(ow_map *m);
/* Borrowed value or NULL. */
void *ow_map_get(const ow_map *m, const char *key);
/* Insert or replace; returns 0 or OW_ENOMEM. */
int ow_map_put(ow_map *m, const char *key, void *value);
/* The map's own copy of key (valid until the entry is removed), or NULL when absent. */
const char *ow_map_key(const ow_map *m, const char *key);
/* Remove and return the value (NULL when absent). */
void *ow_map_take(ow_map *m, const char *key);
/* Remove the entry and hand its key's copy to the caller (free it), for a key that values or
 * records still borrow (ow_map_key); NULL when absent. The value is the caller's, as always. */
char *ow_map_take_key(ow_map *m, const char *key);
/* Iterate: start with *pos = 0; returns false at the end. */
bool ow_map_next(const ow_map *m, size_t *pos, const char **key, void **value);
uint64_t ow_hash(const char *s, size_t n);

#endif

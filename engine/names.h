/*
 * names — interned strings (regions, categories, skills): each distinct name gets a small index,
 * so the model stores 2 bytes per order instead of a copy of the name.
 * Indices are given in first-seen order and never change while the table lives.
 */
#ifndef OW_NAMES_H
#define OW_NAMES_H

#include <stdint.h>

#include "map.h"

#define OW_NAMES_MAX 65535

typedef struct ow_names {
    ow_map index; /* name → (index + 1) cast to a pointer */
    char **names; /* index → name (the map's key copy) */
    uint32_t n, cap;
} ow_names;

void ow_names_init(ow_names *t);
void ow_names_fini(ow_names *t);
/* Index of name, adding it when new. -1 on out of memory or when the table is full. */
int ow_names_intern(ow_names *t, const char *name);
/* Index or -1 when unknown. */
int ow_names_find(const ow_names *t, const char *name);
/* Name of an index (borrowed), "" when out of range. */
const char *ow_names_get(const ow_names *t, int i);

#endif

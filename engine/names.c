#include "names.h"

#include <stdlib.h>
#include <string.h>

void ow_names_init(ow_names *t)
{
    memset(t, 0, sizeof *t);
    ow_map_init(&t->index);
}

void ow_names_fini(ow_names *t)
{
    ow_map_fini(&t->index);
    for (uint32_t i = 0; i < t->n; i++)
        free(t->names[i]);
    free(t->names);
    memset(t, 0, sizeof *t);
}

int ow_names_find(const ow_names *t, const char *name)
{
    void *v = ow_map_get(&t->index, name);
    return v ? (int)((uintptr_t)v - 1) : -1;
}

int ow_names_intern(ow_names *t, const char *name)
{
    int i = ow_names_find(t, name);
    if (i >= 0) return i;
    if (t->n >= OW_NAMES_MAX) return -1;
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 16;
        char **names = realloc(t->names, cap * sizeof *names);
        if (!names) return -1;
        t->names = names;
        t->cap = cap;
    }
    char *copy = strdup(name);
    if (!copy) return -1;
    if (ow_map_put(&t->index, name, (void *)(uintptr_t)(t->n + 1))) {
        free(copy);
        return -1;
    }
    t->names[t->n] = copy;
    return (int)t->n++;
}

const char *ow_names_get(const ow_names *t, int i)
{
    return i >= 0 && (uint32_t)i < t->n ? t->names[i] : "";
}

#include "map.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

static char tombstone;
#define TOMB (&tombstone)

uint64_t ow_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, then a final mix against clustering */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

void ow_map_init(ow_map *m)
{
    memset(m, 0, sizeof *m);
}

void ow_map_fini(ow_map *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != TOMB) free(m->slots[i].key);
    free(m->slots);
    ow_map_init(m);
}

void ow_map_fini_free(ow_map *m)
{
    size_t pos = 0;
    void *v;
    while (ow_map_next(m, &pos, NULL, &v))
        free(v);
    ow_map_fini(m);
}

static ow_map_slot *find(const ow_map *m, const char *key, uint64_t h)
{
    if (!m->cap) return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        ow_map_slot *s = &m->slots[i];
        if (!s->key) return NULL;
        if (s->key != TOMB && s->hash == h && strcmp(s->key, key) == 0) return s;
    }
}

void *ow_map_get(const ow_map *m, const char *key)
{
    ow_map_slot *s = find(m, key, ow_hash(key, strlen(key)));
    return s ? s->value : NULL;
}

static int grow(ow_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    if (m->len * 4 < m->cap) cap = m->cap; /* mostly tombstones: rehash in place size */
    ow_map_slot *slots = calloc(cap, sizeof *slots);
    if (!slots) return OW_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        ow_map_slot *s = &m->slots[i];
        if (!s->key || s->key == TOMB) continue;
        size_t j = s->hash & (cap - 1);
        while (slots[j].key)
            j = (j + 1) & (cap - 1);
        slots[j] = *s;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    m->used = m->len;
    return OW_OK;
}

int ow_map_put(ow_map *m, const char *key, void *value)
{
    size_t n = strlen(key);
    uint64_t h = ow_hash(key, n);
    ow_map_slot *s = find(m, key, h);
    if (s) {
        s->value = value;
        return OW_OK;
    }
    if ((m->used + 1) * 4 > m->cap * 3 && grow(m)) return OW_ENOMEM;
    char *copy = malloc(n + 1);
    if (!copy) return OW_ENOMEM;
    memcpy(copy, key, n + 1);
    size_t mask = m->cap - 1, i = h & mask;
    while (m->slots[i].key && m->slots[i].key != TOMB)
        i = (i + 1) & mask;
    if (!m->slots[i].key) m->used++;
    m->slots[i] = (ow_map_slot){copy, value, h};
    m->len++;
    return OW_OK;
}

void *ow_map_take(ow_map *m, const char *key)
{
    ow_map_slot *s = find(m, key, ow_hash(key, strlen(key)));
    if (!s) return NULL;
    void *v = s->value;
    free(s->key);
    s->key = TOMB;
    s->value = NULL;
    m->len--;
    return v;
}

char *ow_map_take_key(ow_map *m, const char *key)
{
    ow_map_slot *s = find(m, key, ow_hash(key, strlen(key)));
    if (!s) return NULL;
    char *k = s->key;
    s->key = TOMB;
    s->value = NULL;
    m->len--;
    return k;
}

bool ow_map_next(const ow_map *m, size_t *pos, const char **key, void **value)
{
    for (; *pos < m->cap; (*pos)++) {
        ow_map_slot *s = &m->slots[*pos];
        if (s->key && s->key != TOMB) {
            if (key) *key = s->key;
            if (value) *value = s->value;
            (*pos)++;
            return true;
        }
    }
    return false;
}

const char *ow_map_key(const ow_map *m, const char *key)
{
    ow_map_slot *s = find(m, key, ow_hash(key, strlen(key)));
    return s ? s->key : NULL;
}

#include "partition.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc16.h"
#include "json.h"

void ow_partition_table_init(ow_partition_table *t, int n)
{
    t->n = n < 1 ? 1 : n > OW_PARTITIONS_MAX ? OW_PARTITIONS_MAX : n;
    t->v = NULL;
    t->nv = 0;
}

void ow_partition_table_fini(ow_partition_table *t)
{
    free(t->v);
    t->v = NULL;
    t->nv = 0;
}

static int by_region(const void *a, const void *b)
{
    return strcmp(((const ow_partition_entry *)a)->region, ((const ow_partition_entry *)b)->region);
}

int ow_partition_table_parse(ow_partition_table *t, int n, const char *text, size_t len,
                             const char *source, ow_err *err)
{
    if (!source) source = "partition table";
    ow_partition_table_fini(t);
    ow_partition_table_init(t, n);
    if (n < 1 || n > OW_PARTITIONS_MAX)
        return ow_err_set(err, OW_EINVAL, "%s: %d partitions: expected 1 to %d", source, n,
                          OW_PARTITIONS_MAX);
    ow_err jerr;
    cJSON *root = ow_json_parse(text, len, 2, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "%s: %s", source, jerr.msg);
    int rc = OW_OK;
    if (!cJSON_IsObject(root)) {
        rc = ow_err_set(err, OW_EINVAL,
                        "%s: expected a JSON object of region → partition, like {\"north\": 0}, "
                        "got %s",
                        source, ow_json_type_name(root));
        goto done;
    }
    int count = cJSON_GetArraySize(root);
    if (count > OW_PARTITION_REGIONS_MAX) {
        rc = ow_err_set(err, OW_ETOOBIG, "%s: %d regions: at most %d", source, count,
                        OW_PARTITION_REGIONS_MAX);
        goto done;
    }
    t->v = count ? calloc((size_t)count, sizeof *t->v) : NULL;
    if (count && !t->v) {
        rc = ow_err_set(err, OW_ENOMEM, "%s: out of memory", source);
        goto done;
    }
    for (const cJSON *c = root->child; c; c = c->next) {
        size_t klen = strlen(c->string);
        if (klen == 0 || klen >= OW_NAME_BUF) {
            rc = ow_err_set(err, OW_EINVAL, "%s: region name \"%.40s%s\": expected 1 to %d bytes",
                            source, c->string, klen > 40 ? "..." : "", OW_NAME_BUF - 1);
            goto done;
        }
        int64_t p;
        if (!ow_json_int(c, 0, n - 1, &p)) {
            char got[96];
            ow_json_quote(c, got, sizeof got);
            rc = ow_err_set(err, OW_EINVAL, "%s: \"%s\": expected a partition from 0 to %d, got %s",
                            source, c->string, n - 1, got);
            goto done;
        }
        memcpy(t->v[t->nv].region, c->string, klen + 1);
        t->v[t->nv].partition = (int)p;
        t->nv++;
    }
    /* ow_json_parse refuses duplicate keys, so the sorted entries are distinct */
    if (t->nv) qsort(t->v, (size_t)t->nv, sizeof *t->v, by_region);
done:
    cJSON_Delete(root);
    if (rc) {
        ow_partition_table_fini(t);
        ow_partition_table_init(t, n);
    }
    return rc;
}

uint32_t ow_partition_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

int ow_partition_of(const ow_partition_table *t, const char *region)
{
    if (t->nv) {
        ow_partition_entry key;
        size_t len = strlen(region);
        if (len < sizeof key.region) {
            memcpy(key.region, region, len + 1);
            const ow_partition_entry *e =
                bsearch(&key, t->v, (size_t)t->nv, sizeof *t->v, by_region);
            if (e) return e->partition;
        }
    }
    return (int)(ow_partition_hash(region, strlen(region)) % (uint32_t)t->n);
}

int ow_partition_key(char *out, size_t n, int partition, const char *name)
{
    if (n) out[0] = '\0';
    if (partition < 0 || partition >= OW_PARTITIONS_MAX) return OW_EINVAL;
    int w = snprintf(out, n, "ops:{p%d}:%s", partition, name);
    if (w < 0 || (size_t)w >= n) {
        if (n) out[0] = '\0';
        return OW_ETOOBIG;
    }
    return w;
}

int ow_partition_rekey(char *out, size_t n, int partition, const char *key0)
{
    static const char prefix0[] = "ops:{p0}:";
    if (strncmp(key0, prefix0, sizeof prefix0 - 1) != 0) {
        if (n) out[0] = '\0';
        return OW_EINVAL;
    }
    return ow_partition_key(out, n, partition, key0 + sizeof prefix0 - 1);
}

void ow_partition_tag(char *out, size_t n, int partition)
{
    snprintf(out, n, "{p%d}", partition);
}

int ow_partition_slot(int partition)
{
    char tag[16];
    ow_partition_tag(tag, sizeof tag, partition);
    return ow_crc16_keyslot(tag, strlen(tag));
}

int ow_partition_set_parse(const char *text, int n, bool *want, ow_err *err)
{
    bool any = false;
    for (int p = 0; p < n; p++)
        want[p] = text[0] == '\0';
    if (!text[0]) return OW_OK;
    const char *s = text;
    while (*s) {
        char *end;
        errno = 0;
        long p = strtol(s, &end, 10);
        if (end == s || errno || p < 0 || p >= n)
            return ow_err_set(err, OW_EINVAL,
                              "engine.partitions: \"%s\": expected partition numbers from 0 to %d "
                              "separated by commas (\"\" = all of them)",
                              text, n - 1);
        want[p] = any = true;
        s = end;
        while (*s == ' ')
            s++;
        if (*s == ',')
            s++;
        else if (*s)
            return ow_err_set(err, OW_EINVAL,
                              "engine.partitions: \"%s\": unexpected '%c'; write e.g. \"0,2\"",
                              text, *s);
        while (*s == ' ')
            s++;
    }
    if (!any) return ow_err_set(err, OW_EINVAL, "engine.partitions: \"%s\": no partition", text);
    return OW_OK;
}

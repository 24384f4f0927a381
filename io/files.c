#include "files.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csvmap.h"

int ow_file_read(const char *path, size_t max, char **out, size_t *len, ow_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ow_err_set(err, OW_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    int rc = OW_OK;
    if (!buf) {
        rc = ow_err_set(err, OW_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                rc = ow_err_set(err, OW_ETOOBIG, "%s: larger than %zu bytes", path, max);
                goto out;
            }
            cap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                rc = ow_err_set(err, OW_ENOMEM, "%s: out of memory", path);
                goto out;
            }
            buf = nb;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    if (ferror(f)) rc = ow_err_set(err, OW_EIO, "%s: read error: %s", path, strerror(errno));
out:
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return OW_OK;
}

static const char *env_lookup(const char *name)
{
    return getenv(name);
}

int ow_config_load(ow_config *cfg, const char *path, ow_err *err)
{
    char def[PATH_MAX];
    if (!path) {
        snprintf(def, sizeof def, "%s/config/opswall.json", OPSWALL_SOURCE_DIR);
        path = def;
    }
    ow_config_defaults(cfg);
    char *text;
    size_t len;
    int rc = ow_file_read(path, 1 << 20, &text, &len, err);
    if (rc) return rc;
    rc = ow_config_parse(cfg, text, len, path, err);
    free(text);
    if (rc) return rc;
    rc = ow_config_apply_env(cfg, env_lookup, err);
    if (rc) return rc;

    /* base_dir = the folder above the config file's folder */
    char abs[PATH_MAX];
    if (!realpath(path, abs)) return ow_err_set(err, OW_EIO, "%s: %s", path, strerror(errno));
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(abs, '/');
        if (slash && slash != abs)
            *slash = '\0';
        else if (slash)
            abs[1] = '\0';
    }
    snprintf(cfg->base_dir, sizeof cfg->base_dir, "%s", abs);
    return OW_OK;
}

void ow_config_path(const ow_config *cfg, const char *rel, char *out, size_t n)
{
    if (rel[0] == '/' || !cfg->base_dir[0])
        snprintf(out, n, "%s", rel);
    else
        snprintf(out, n, "%s/%s", cfg->base_dir, rel);
}

int ow_partition_load(const ow_config *cfg, ow_partition_table *t, ow_err *err)
{
    ow_partition_table_init(t, (int)cfg->cluster.partitions);
    if (!cfg->cluster.regions[0]) return OW_OK;
    char path[4096];
    ow_config_path(cfg, cfg->cluster.regions, path, sizeof path);
    char *text;
    size_t len;
    int rc = ow_file_read(path, 4u << 20, &text, &len, err);
    if (rc) {
        ow_err_prefix(err, "cluster.regions");
        return rc;
    }
    rc = ow_partition_table_parse(t, (int)cfg->cluster.partitions, text, len, path, err);
    free(text);
    return rc;
}

const char *ow_args_config(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--config") == 0) return argv[i + 1];
    return NULL;
}

int ow_city_load(const ow_config *cfg, ow_regions **out, ow_err *err)
{
    char path[OW_CFG_STR * 2];
    ow_config_path(cfg, cfg->city.regions, path, sizeof path);
    char *text;
    size_t len;
    ow_err ferr;
    if (ow_file_read(path, 64u << 20, &text, &len, &ferr))
        return ow_err_set(err, ferr.code, "city.regions: %s", ferr.msg);
    int rc = ow_regions_parse(text, len, path, cfg->city.name_property, out, err);
    free(text);
    return rc;
}

int ow_tz_load(const char *zone, ow_tz **out, ow_err *err)
{
    *out = NULL;
    if (!ow_tz_name_ok(zone))
        return ow_err_set(
            err, OW_EINVAL,
            "expected a zone name like \"America/Los_Angeles\" or \"UTC\", got \"%s\"", zone);
    const char *dir = getenv("TZDIR");
    char path[OW_CFG_STR * 2];
    snprintf(path, sizeof path, "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", zone);
    char *text;
    size_t len;
    int rc = ow_file_read(path, 1u << 20, &text, &len, err);
    if (rc) {
        ow_err_prefix(err, "time zone \"%s\" (install the tzdata package)", zone);
        return rc;
    }
    rc = ow_tz_parse((const unsigned char *)text, len, path, out, err);
    free(text);
    return rc;
}

int ow_zone_load(const ow_config *cfg, ow_tz **out, ow_err *err)
{
    *out = NULL;
    const char *setting = "analytics.time_zone";
    char zone[OW_CFG_STR];
    snprintf(zone, sizeof zone, "%s", cfg->analytics.time_zone);
    if (!zone[0] && cfg->city.mapping[0]) { /* a real city's export says its zone */
        char path[OW_CFG_STR * 2], *text;
        size_t len;
        ow_csvmap *map = NULL;
        setting = "city.mapping";
        ow_config_path(cfg, cfg->city.mapping, path, sizeof path);
        int rc = ow_file_read(path, 1u << 20, &text, &len, err);
        if (!rc) {
            rc = ow_csvmap_parse(text, len, path, &map, err);
            free(text);
        }
        if (rc) {
            ow_err_prefix(err, "city.mapping");
            return rc;
        }
        snprintf(zone, sizeof zone, "%s", ow_csvmap_time_zone(map));
        ow_csvmap_free(map);
    }
    if (!zone[0]) return OW_OK;
    int rc = ow_tz_load(zone, out, err);
    if (rc) ow_err_prefix(err, "%s", setting);
    return rc;
}

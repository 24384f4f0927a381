/*
 * files — reading files and loading the configuration (the I/O side of core/config).
 */
#ifndef OW_FILES_H
#define OW_FILES_H

#include <stddef.h>

#include "config.h"
#include "err.h"
#include "partition.h"
#include "regions.h"
#include "tz.h"

/* Read a whole file (at most max bytes) into a malloc'd, NUL-terminated buffer the caller frees.
 * Errors name the path and the reason (missing, unreadable, too big). */
int ow_file_read(const char *path, size_t max, char **out, size_t *len, ow_err *err);

/*
 * Load the configuration: defaults, then the file at `path` (NULL = the default
 * <project>/config/opswall.json), then environment overrides. Sets cfg->base_dir to the folder
 * above the config file's folder, against which relative paths in the config resolve.
 */
int ow_config_load(ow_config *cfg, const char *path, ow_err *err);

/* Resolve a configured path: absolute paths are kept, relative ones join cfg->base_dir. */
void ow_config_path(const ow_config *cfg, const char *rel, char *out, size_t n);

/* The region → partition table: cluster.partitions partitions, entries from the file named by
 * cluster.regions (none when it is ""). Errors name the setting and the file. The caller owns *t
 * (ow_partition_table_fini). */
int ow_partition_load(const ow_config *cfg, ow_partition_table *t, ow_err *err);
/* Load the city's regions: the GeoJSON file at city.regions (resolved against the config's base
 * dir), named by city.name_property. *out is owned by the caller (ow_regions_free). Errors name
 * the setting and the file. */
int ow_city_load(const ow_config *cfg, ow_regions **out, ow_err *err);

/* Load a time zone by tz database name from $TZDIR or /usr/share/zoneinfo. *out is owned by the
 * caller (ow_tz_free). Errors name the zone and the file ("install the tzdata package"). */
int ow_tz_load(const char *zone, ow_tz **out, ow_err *err);

/* The city's time zone for the analytics ("today", hours of day): analytics.time_zone, or when
 * that is "" the time_zone of the city's CSV mapping (city.mapping), or none: *out = NULL and the
 * fixed analytics.utc_offset_min applies. *out is owned by the caller (ow_tz_free). Errors name
 * the setting. */
int ow_zone_load(const ow_config *cfg, ow_tz **out, ow_err *err);

/* Common command-line handling: finds "--config PATH" in argv (removing nothing). NULL if absent.
 */
const char *ow_args_config(int argc, char **argv);

#endif

/*
 * config_sla — the structured SLA settings of config.c (arrays and maps that a scalar table
 * cannot hold): stage lists, overrides and business-hours calendars. Internal to core/config.c.
 * Messages name the full JSON path, e.g.
 *   sla.overrides[2].match.segment: expected one of standard|vip|elderly|enterprise|public, got
 * "vvip"
 */
#ifndef OW_CONFIG_SLA_H
#define OW_CONFIG_SLA_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "config.h"

/* ["arrival", "resolution"] → bit mask of ow_stage. */
int ow_config_stages_parse(const cJSON *v, uint32_t *mask, const char *path, const char *source,
                           ow_err *err);
cJSON *ow_config_stages_format(uint32_t mask);

int ow_config_overrides_parse(ow_config *cfg, const cJSON *v, const char *path, const char *source,
                              ow_err *err);
cJSON *ow_config_overrides_format(const ow_config *cfg);

int ow_config_calendars_parse(ow_config *cfg, const cJSON *v, const char *path, const char *source,
                              ow_err *err);
cJSON *ow_config_calendars_format(const ow_config *cfg);

#endif

/*
 * fuzz_config — ow_config_parse over the defaults, and ow_config_apply_env.
 *
 * Oracles: an accepted configuration formats to text that parses back to the same formatted
 * text (every accepted value survives the file format); errors name their source.
 */
#include <string.h>

#include "config.h"
#include "fuzz_common.h"

static ow_config cfg, again;
static const char *env_value; /* what every OPSWALL_* variable holds for this input */

static const char *fake_getenv(const char *name)
{
    (void)name;
    return env_value;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    ow_err err;
    ow_config_defaults(&cfg);
    int rc = ow_config_parse(&cfg, text, size, "fuzz.json", &err);
    if (rc == OW_OK) {
        char *out = ow_config_format(&cfg);
        fuzz_require(out != NULL, "format");
        ow_config_defaults(&again);
        fuzz_require(ow_config_parse(&again, out, strlen(out), "formatted", NULL) == OW_OK,
                     "formatted config parses");
        char *out2 = ow_config_format(&again);
        fuzz_require(out2 != NULL && strcmp(out, out2) == 0, "format round trip");
        free(out);
        free(out2);
    } else {
        fuzz_require(rc == OW_EINVAL && err.code == rc, "EINVAL");
        fuzz_require(strncmp(err.msg, "fuzz.json: ", 11) == 0, "message names the source");
    }

    /* the same bytes as the value of every environment override */
    char *value = malloc(size + 1);
    if (!value) return 0;
    memcpy(value, data, size);
    value[size] = '\0';
    env_value = value;
    ow_config_defaults(&cfg);
    rc = ow_config_apply_env(&cfg, fake_getenv, &err);
    if (rc != OW_OK)
        fuzz_require(rc == OW_EINVAL && strncmp(err.msg, "environment OPSWALL_", 20) == 0,
                     "env errors name the variable");
    else
        fuzz_require(cfg.feed.port >= 0 && cfg.feed.port <= 65535, "env port in range");
    env_value = NULL;
    free(value);
    return 0;
}

/*
 * fuzz_redis_url — ow_redis_url_parse and ow_redis_target_describe on arbitrary text.
 *
 * Oracles: fields are terminated and in range, and the description never shows the password
 * (checked by planting a marker in the password and describing into buffers of every size).
 */
#include <string.h>

#include "fuzz_common.h"
#include "redis_url.h"

#define MARKER "\x01secret\x01"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    if (!url) return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    ow_redis_target t;
    ow_err err;
    int rc = ow_redis_url_parse(url, &t, &err);
    if (rc != OW_OK) {
        fuzz_require(rc == OW_EINVAL && err.code == OW_EINVAL && err.msg[0], "error with message");
        free(url);
        return 0;
    }
    fuzz_require(memchr(t.host, '\0', sizeof t.host) && memchr(t.path, '\0', sizeof t.path) &&
                     memchr(t.user, '\0', sizeof t.user) &&
                     memchr(t.password, '\0', sizeof t.password),
                 "fields terminated");
    if (t.is_unix) {
        fuzz_require(t.path[0] == '/' && t.host[0] == '\0', "unix: absolute path, no host");
        fuzz_require(strncmp(url, "unix://", 7) == 0, "unix scheme");
    } else {
        fuzz_require(t.host[0] != '\0' && t.path[0] == '\0', "tcp: a host, no path");
        fuzz_require(t.port >= 1 && t.port <= 65535, "port 1-65535");
        fuzz_require(strncmp(url, "redis://", 8) == 0, "redis scheme");
    }
    fuzz_require(t.db >= 0 && t.db <= 1000000, "db range");

    /* a marker that the visible fields already hold proves nothing; skip those inputs */
    bool visible = strstr(t.host, "\x01secret") || strstr(t.user, "\x01secret") ||
                   strstr(t.path, "\x01secret");
    snprintf(t.password, sizeof t.password, "%s", MARKER);
    char out[1024];
    for (size_t n = 1; n <= sizeof out; n = n < 64 ? n + 1 : n * 2) {
        memset(out, 'Z', sizeof out);
        ow_redis_target_describe(&t, out, n);
        fuzz_require(memchr(out, '\0', n) != NULL, "description terminated within n");
        fuzz_require(visible || strstr(out, "\x01secret") == NULL,
                     "description hides the password");
    }
    free(url);
    return 0;
}

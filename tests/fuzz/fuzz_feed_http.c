/*
 * fuzz_feed_http — the feed's parsers of request parts on arbitrary text: path ids
 * (ow_http_path_id), the `since` of /api/v1/alerts (ow_http_since), acknowledgement bodies
 * (ow_http_ack_body) and the Origin rule (ow_gate_origin_ok).
 *
 * Oracles: an accepted id is 1..128 bytes of the allowed characters and is what the path held; an
 * accepted since is "-" or "(" + digits[-digits]; an accepted note fits its buffer and is valid
 * UTF-8; an origin is accepted only when it equals scheme://Host or a listed origin.
 */
#include <string.h>
#include <strings.h>

#include "fuzz_common.h"
#include "gate.h"
#include "http.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    size_t len = strlen(s); /* up to the first NUL, as an HTTP layer would hand it over */

    char id[200];
    char path[600];
    snprintf(path, sizeof path, "/api/v1/alerts/%.500s/ack", s);
    if (ow_http_path_id(path, "/api/v1/alerts/", "/ack", id, sizeof id)) {
        size_t n = strlen(id);
        fuzz_require(n >= 1 && n <= 128 && ow_http_id_ok(id, n), "id valid");
        fuzz_require(strncmp(path + 15, id, n) == 0 && strcmp(path + 15 + n, "/ack") == 0,
                     "id is the path's");
    }

    char since[80];
    if (ow_http_since(s, since, sizeof since)) {
        fuzz_require(strcmp(since, "-") == 0 || since[0] == '(', "since form");
        for (const char *p = since + 1; since[0] == '(' && *p; p++)
            fuzz_require((*p >= '0' && *p <= '9') || *p == '-', "since digits");
    }

    char parts[4][OW_HTTP_RANGE_MAX];
    if (ow_http_since_parts(s, 4, parts))
        for (int p = 0; p < 4; p++)
            fuzz_require(strcmp(parts[p], "-") == 0 || parts[p][0] == '(', "since part form");

    char note[257];
    const char *why = NULL;
    if (ow_http_ack_body(s, len, note, sizeof note, &why)) {
        fuzz_require(strlen(note) < sizeof note, "note fits");
        fuzz_require(ow_json_utf8_valid(note, strlen(note), NULL), "note is UTF-8");
    } else {
        fuzz_require(why && why[0], "refusal explained");
    }

    /* first line: Origin, second: Host, rest: allowed list */
    char *host = strchr(s, '\n');
    if (host) {
        *host++ = '\0';
        char *allowed = strchr(host, '\n');
        if (allowed) *allowed++ = '\0';
        if (ow_gate_origin_ok(s, host, allowed ? allowed : "")) {
            const char *auth = strstr(s, "://");
            bool same = auth && strcasecmp(auth + 3, host) == 0 && host[0];
            /* origins compare without regard to case: lower both for the check */
            bool listed = false;
            if (allowed && s[0]) {
                char *a = strdup(allowed), *o = strdup(s);
                for (char *q = a; a && *q; q++)
                    *q = (char)((*q >= 'A' && *q <= 'Z') ? *q + 32 : *q);
                for (char *q = o; o && *q; q++)
                    *q = (char)((*q >= 'A' && *q <= 'Z') ? *q + 32 : *q);
                listed = a && o && strstr(a, o) != NULL;
                free(a);
                free(o);
            }
            fuzz_require(same || listed, "origin accepted only when same or listed");
        }
    }
    free(s);
    return 0;
}

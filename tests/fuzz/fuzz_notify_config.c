/*
 * fuzz_notify_config — delivery's config file (ow_nconfig_parse), then what a valid one drives:
 * routing a few alerts and rendering a message for every receiver.
 *
 * Oracles: errors are EINVAL/ETOOBIG and name the source; a valid config's route tree returns
 * route indices within range whose receivers exist; every rendered body is valid JSON within
 * OW_RENDER_BODY_MAX, every text within the receiver kind's size limit (JSON-escaped bytes, hard
 * whatever the templates), and the listed count is within the alerts given.
 */
#include <string.h>

#include "fuzz_common.h"
#include "json.h"
#include "jsonw.h"
#include "nconfig.h"
#include "render.h"

static const char alert_sla[] =
    "{\"id\":\"sla:O-1:dispatch:1:100\",\"kind\":\"sla\",\"level\":2,\"at\":\"2026-11-22T01:00:"
    "00Z\","
    "\"region\":\"north\",\"stage\":\"dispatch\",\"order_id\":\"O-1\",\"pct\":100,\"target_s\":300,"
    "\"category\":\"drain\",\"priority\":\"emergency\"}";
static const char alert_complaint[] =
    "{\"id\":\"sla:C-1:complaint:1:150\",\"kind\":\"sla\",\"level\":3,\"at\":\"2026-11-23T13:30:"
    "00Z\","
    "\"region\":\"south\",\"stage\":\"complaint\",\"complaint_id\":\"C-1\",\"pct\":150,"
    "\"target_s\":900}";
static const char alert_flag[] =
    "{\"id\":\"flag:surge:r3\",\"kind\":\"flag\",\"level\":1,\"at\":\"2026-11-24T23:59:59.999Z\","
    "\"region\":\"r3\",\"flag\":\"surge\"}";
static const char *const alerts[] = {alert_sla, alert_complaint, alert_flag};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ow_nconfig *c = NULL;
    ow_err err;
    int rc = ow_nconfig_parse((const char *)data, size, "fuzz.json", &c, &err);
    if (rc) {
        fuzz_require(rc == OW_EINVAL || rc == OW_ETOOBIG, "EINVAL");
        fuzz_require(strncmp(err.msg, "fuzz.json: ", 11) == 0, "message names the source");
        fuzz_require(c == NULL, "no config on error");
        return 0;
    }
    ow_nalert *a[3];
    for (int i = 0; i < 3; i++)
        fuzz_require(ow_nalert_parse(alerts[i], strlen(alerts[i]), &a[i], &err) == 0, "alert");
    for (int i = 0; i < 3; i++) {
        int r[OW_ROUTES_MAX];
        int n = ow_nconfig_route(c, a[i], r, OW_ROUTES_MAX);
        fuzz_require(n >= 1, "every alert has a route");
        for (int k = 0; k < n; k++)
            fuzz_require(r[k] >= 0 && r[k] < c->nroutes && c->routes[r[k]].receiver < c->nreceivers,
                         "route in range");
    }
    for (int rx = 0; rx < c->nreceivers; rx++) {
        ow_render_in in = {.cfg = c,
                           .rx = &c->receivers[rx],
                           .id = "x-1-1",
                           .group_key = "0|region=north",
                           .group_labels = a[0],
                           .group_by = c->routes[0].group_by,
                           .resolved = rx % 2,
                           .alerts = (const ow_nalert *const *)a,
                           .n = 3,
                           .nnew = 1,
                           .now_ms = 1795309200000};
        int listed = -1;
        char *text = NULL, *body = ow_render(&in, &text, &listed);
        fuzz_require(body && text, "render");
        fuzz_require(listed >= 0 && listed <= 3, "listed in range");
        fuzz_require(strlen(body) <= OW_RENDER_BODY_MAX, "body bounded");
        cJSON *root = ow_json_parse(body, strlen(body), 8, NULL);
        fuzz_require(root != NULL, "body is valid JSON");
        cJSON_Delete(root);
        fuzz_require(ow_jsonw_str_len(text, strlen(text)) <= c->receivers[rx].max_bytes,
                     "text bounded");
        free(text);
        free(body);
    }
    for (int i = 0; i < 3; i++)
        ow_nalert_free(a[i]);
    ow_nconfig_free(c);
    return 0;
}

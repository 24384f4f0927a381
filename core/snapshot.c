#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

static int get_int(const cJSON *obj, const char *key, int64_t *out, ow_err *err)
{
    if (!ow_json_int(ow_json_get(obj, key), 0, INT64_C(1) << 53, out))
        return ow_err_set(err, OW_EINVAL, "snapshot: field \"%s\": expected a non-negative integer",
                          key);
    return OW_OK;
}

int ow_snapshot_parse(const char *text, size_t len, ow_snapshot_view *out, ow_err *err)
{
    ow_err jerr;
    cJSON *root = ow_json_parse(text, len, OW_JSON_MAX_DEPTH, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "snapshot: %s", jerr.msg);
    int rc = ow_snapshot_decode(root, out, err);
    cJSON_Delete(root);
    return rc;
}

int ow_snapshot_decode(const cJSON *root, ow_snapshot_view *out, ow_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = OW_OK;
    const cJSON *type = ow_json_get(root, "type"), *mode = ow_json_get(root, "mode");
    const cJSON *open = ow_json_get(root, "open");
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "snapshot") != 0) {
        rc = ow_err_set(err, OW_EINVAL, "snapshot: field \"type\": expected \"snapshot\"");
        goto out;
    }
    if (!cJSON_IsObject(open)) {
        rc = ow_err_set(err, OW_EINVAL, "snapshot: field \"open\": expected an object");
        goto out;
    }
    if ((rc = get_int(root, "seq", &out->seq, err)) ||
        (rc = get_int(root, "now_ms", &out->now_ms, err)) ||
        (rc = get_int(root, "orders_known", &out->orders_known, err)) ||
        (rc = get_int(root, "events_applied", &out->events_applied, err)) ||
        (rc = get_int(open, "total", &out->open_total, err)))
        goto out;
    for (int p = 0; p < OW_PRIO__COUNT; p++)
        if ((rc = get_int(open, ow_priority_name((ow_priority)p), &out->open[p], err))) goto out;
    /* both replays run on event time; "replay_speed" also carries the replay member */
    out->mode = cJSON_IsString(mode) && (strcmp(mode->valuestring, "replay") == 0 ||
                                         strcmp(mode->valuestring, "replay_speed") == 0)
                    ? OW_MODE_REPLAY
                    : OW_MODE_LIVE;
    const cJSON *rp = ow_json_get(root, "replay");
    if (cJSON_IsObject(rp)) {
        const cJSON *speed = ow_json_get(rp, "speed"), *pct = ow_json_get(rp, "progress_pct");
        const cJSON *start = ow_json_get(rp, "start_ms"), *end = ow_json_get(rp, "end_ms");
        if (cJSON_IsNumber(speed) && speed->valuedouble > 0 && cJSON_IsNumber(pct) &&
            cJSON_IsNumber(start) && cJSON_IsNumber(end)) {
            out->replay.on = true;
            out->replay.speed = speed->valuedouble;
            out->replay.progress_pct = pct->valuedouble;
            out->replay.start_ms = (int64_t)start->valuedouble;
            out->replay.end_ms = (int64_t)end->valuedouble;
        }
    }
out:
    return rc;
}

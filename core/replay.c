#include "replay.h"

#include <math.h>
#include <stdio.h>

#include "json.h"

int64_t ow_replay_now(const ow_replay *r, int64_t wall_ms)
{
    if (wall_ms <= r->wall_start_ms) return r->start_ms;
    double played = (double)(wall_ms - r->wall_start_ms) * r->speed;
    double span = (double)(r->end_ms - r->start_ms);
    if (played >= span) return r->end_ms;
    return r->start_ms + (int64_t)played;
}

int64_t ow_replay_wall_at(const ow_replay *r, int64_t event_ms)
{
    if (event_ms <= r->start_ms) return r->wall_start_ms;
    return r->wall_start_ms + (int64_t)ceil((double)(event_ms - r->start_ms) / r->speed);
}

double ow_replay_progress_pct(const ow_replay *r, int64_t now_ms)
{
    if (r->end_ms <= r->start_ms || now_ms >= r->end_ms) return 100.0;
    if (now_ms <= r->start_ms) return 0.0;
    return 100.0 * (double)(now_ms - r->start_ms) / (double)(r->end_ms - r->start_ms);
}

void ow_replay_format(const ow_replay *r, char *out)
{
    snprintf(out, OW_REPLAY_TEXT_MAX,
             "{\"speed\":%.6g,\"start_ms\":%lld,\"end_ms\":%lld,\"wall_start_ms\":%lld}", r->speed,
             (long long)r->start_ms, (long long)r->end_ms, (long long)r->wall_start_ms);
}

int ow_replay_parse(const char *text, size_t len, ow_replay *out, ow_err *err)
{
    ow_err jerr;
    cJSON *root = ow_json_parse(text, len, 2, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "replay descriptor: %s", jerr.msg);
    int rc = OW_OK;
    const cJSON *speed = ow_json_get(root, "speed");
    int64_t v[3];
    static const char *const names[3] = {"start_ms", "end_ms", "wall_start_ms"};
    if (!cJSON_IsNumber(speed) || !(speed->valuedouble > 0) ||
        speed->valuedouble > OW_REPLAY_SPEED_MAX) {
        rc = ow_err_set(err, OW_EINVAL,
                        "replay descriptor: speed: expected a number above 0 "
                        "and at most 1000000");
        goto out;
    }
    for (int i = 0; i < 3; i++)
        if (!ow_json_int(ow_json_get(root, names[i]), -(INT64_C(1) << 50), INT64_C(1) << 50,
                         &v[i])) {
            rc = ow_err_set(err, OW_EINVAL, "replay descriptor: %s: expected epoch milliseconds",
                            names[i]);
            goto out;
        }
    if (v[1] < v[0]) {
        rc = ow_err_set(err, OW_EINVAL, "replay descriptor: end_ms is before start_ms");
        goto out;
    }
    *out = (ow_replay){speed->valuedouble, v[0], v[1], v[2]};
out:
    cJSON_Delete(root);
    return rc;
}

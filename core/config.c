#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "config_sla.h"
#include "json.h"
#include "timefmt.h"

/* Scalars, plus the structured SLA settings parsed in config_sla.c. */
typedef enum {
    C_STR,
    C_INT,
    C_BOOL,
    C_DUR,
    C_FLOAT,
    C_STAGES,
    C_OVERRIDES,
    C_CALENDARS,
    C_TOKENS
} ckind;

typedef struct {
    const char *path;
    ckind kind;
    size_t off, size;
    int64_t lo, hi;  /* C_INT and C_FLOAT range; C_DUR range in ms; C_STR min length */
    const char *def; /* default, in the JSON text form of the file */
    const char *env; /* environment variable that overrides it, or NULL */
} setting;

#define AT(f) offsetof(ow_config, f), sizeof(((ow_config *)0)->f)
#define MS(x) ((int64_t)(x))
#define MIN_  (60 * 1000)
#define HOUR_ (60 * MIN_)
#define DAY_  (24 * HOUR_)

#define SLA_ROW(prio, P, stage, S, def)                                                            \
    {                                                                                              \
        "sla." prio "." stage, C_DUR, AT(sla.target_ms[OW_PRIO_##P][OW_STAGE_##S]), MS(1000),      \
            MS(365) * DAY_, def, NULL                                                              \
    }
#define SLA_PRIO(prio, P, d1, d2, d3, d4, d5, d6)                                                  \
    SLA_ROW(prio, P, "dispatch", DISPATCH, d1), SLA_ROW(prio, P, "accept", ACCEPT, d2),            \
        SLA_ROW(prio, P, "response", RESPONSE, d3), SLA_ROW(prio, P, "arrival", ARRIVAL, d4),      \
        SLA_ROW(prio, P, "resolution", RESOLUTION, d5), SLA_ROW(prio, P, "callback", CALLBACK, d6)

/* flags.<name>.<param>: levels 0..3, counts, metres, durations and ratios */
#define FLAG_LEVEL(name, def)                                                                      \
    {                                                                                              \
        "flags." #name ".level", C_INT, AT(flags.name.level), 0, 3, def, NULL                      \
    }
#define FLAG_INT(name, param, field, lo, hi, def)                                                  \
    {                                                                                              \
        "flags." #name "." param, C_INT, AT(flags.name.field), lo, hi, def, NULL                   \
    }
#define FLAG_DUR(name, param, field, lo, hi, def)                                                  \
    {                                                                                              \
        "flags." #name "." param, C_DUR, AT(flags.name.field), lo, hi, def, NULL                   \
    }
#define FLAG_FLOAT(name, param, field, lo, hi, def)                                                \
    {                                                                                              \
        "flags." #name "." param, C_FLOAT, AT(flags.name.field), lo, hi, def, NULL                 \
    }

/* Every setting, in the order of config/opswall.json. Defaults from DESIGN §4 and SEEDS.md. */
static const setting settings[] = {
    {"redis.url", C_STR, AT(redis.url), 0, 0, "\"\"", "OPSWALL_REDIS_URL"},
    {"redis.data_dir", C_STR, AT(redis.data_dir), 1, 0, "\"var/redis\"", "OPSWALL_DATA_DIR"},
    {"redis.server", C_STR, AT(redis.server), 1, 0, "\"redis-server\"", "OPSWALL_REDIS_SERVER"},
    {"redis.start_timeout", C_DUR, AT(redis.start_timeout_ms), MS(100), MS(10) * MIN_, "\"10s\"",
     NULL},
    {"redis.timeout", C_DUR, AT(redis.timeout_ms), MS(10), MS(10) * MIN_, "\"5s\"", NULL},
    /* docs/scaling.md: partitions, their placement, and riding out a Redis Cluster failover */
    {"cluster.partitions", C_INT, AT(cluster.partitions), 1, 1024, "1", NULL},
    {"cluster.regions", C_STR, AT(cluster.regions), 0, 0, "\"\"", NULL},
    {"cluster.retry_for", C_DUR, AT(cluster.retry_for_ms), MS(0), MS(10) * MIN_, "\"15s\"", NULL},
    {"cluster.stale_after", C_DUR, AT(cluster.stale_after_ms), MS(100), MS(10) * MIN_, "\"15s\"",
     NULL},
    {"streams.events_maxlen", C_INT, AT(streams.events_maxlen), 1000, INT64_C(1) << 40, "10000000",
     NULL},
    {"streams.rejects_maxlen", C_INT, AT(streams.rejects_maxlen), 100, INT64_C(1) << 40, "100000",
     NULL},
    {"ingest.dedup_window", C_DUR, AT(ingest.dedup_window_ms), MS(1000), MS(90) * DAY_, "\"24h\"",
     NULL},
    {"ingest.dedup_buckets", C_INT, AT(ingest.dedup_buckets), 1, 64, "4", NULL},
    {"ingest.batch", C_INT, AT(ingest.batch), 1, 4096, "256", NULL},
    {"ingest.inflight", C_INT, AT(ingest.inflight), 1, 64, "8", NULL},
    {"ingest.buffer_events", C_INT, AT(ingest.buffer_events), 1, 100000000, "200000", NULL},
    {"ingest.buffer_bytes", C_INT, AT(ingest.buffer_bytes), 65536, INT64_C(1) << 40, "134217728",
     NULL},
    {"ingest.progress_interval", C_DUR, AT(ingest.progress_ms), MS(100), MS(3600) * 1000, "\"10s\"",
     NULL},
    {"ingest.tcp.listen", C_STR, AT(ingest.tcp.listen), 1, 0, "\"127.0.0.1\"", NULL},
    {"ingest.tcp.port", C_INT, AT(ingest.tcp.port), 0, 65535, "0", NULL},
    {"ingest.tcp.max_clients", C_INT, AT(ingest.tcp.max_clients), 1, 100000, "256", NULL},
    {"ingest.tcp.idle_timeout", C_DUR, AT(ingest.tcp.idle_ms), MS(1000), MS(7) * DAY_, "\"10m\"",
     NULL},
    {"ingest.http.listen", C_STR, AT(ingest.http.listen), 1, 0, "\"127.0.0.1\"", NULL},
    {"ingest.http.port", C_INT, AT(ingest.http.port), 0, 65535, "0", NULL},
    {"ingest.http.max_body", C_INT, AT(ingest.http.max_body), 1024, INT64_C(1) << 30, "16777216",
     NULL},
    {"ingest.http.rate", C_INT, AT(ingest.http.rate), 0, 100000000, "100000", NULL},
    {"ingest.http.timeout", C_DUR, AT(ingest.http.timeout_ms), MS(100), MS(3600) * 1000, "\"30s\"",
     NULL},
    {"ingest.wait_replicas", C_INT, AT(ingest.wait_replicas), 0, 16, "0", NULL},
    {"ingest.wait_timeout", C_DUR, AT(ingest.wait_timeout_ms), MS(1), MS(60) * 1000, "\"1s\"",
     NULL},
    {"engine.group", C_STR, AT(engine.group), 1, 0, "\"engine\"", NULL},
    {"engine.consumer", C_STR, AT(engine.consumer), 1, 0, "\"engine-1\"",
     "OPSWALL_ENGINE_CONSUMER"},
    {"engine.publish_interval", C_DUR, AT(engine.publish_interval_ms), MS(10), MS(60) * 1000,
     "\"250ms\"", NULL},
    {"engine.delta_interval", C_DUR, AT(engine.delta_interval_ms), MS(1), MS(60) * 1000, "\"25ms\"",
     NULL},
    {"engine.batch", C_INT, AT(engine.batch), 1, 100000, "1000", NULL},
    {"engine.partitions", C_STR, AT(engine.partitions), 0, 0, "\"\"", NULL},
    {"engine.lease", C_DUR, AT(engine.lease_ms), MS(300), MS(600) * 1000, "\"5s\"", NULL},
    {"engine.block", C_DUR, AT(engine.block_ms), MS(1), MS(60) * 1000, "\"200ms\"", NULL},
    {"engine.checkpoint_interval", C_DUR, AT(engine.checkpoint_ms), MS(100), MS(3600) * 1000,
     "\"5s\"", NULL},
    /* a checkpoint larger than this waits proportionally longer than checkpoint_interval, so a
     * large model (an alert storm's) is not copied to Redis, and into its AOF, every few seconds */
    {"engine.checkpoint_bytes", C_INT, AT(engine.checkpoint_bytes), 4096, INT64_C(1) << 40,
     "4194304", NULL},
    /* the analytics tables, flags and escalations cost more than the rest of the picture: they
     * are rebuilt this often (deltas still go out every delta_interval) */
    {"engine.analytics_interval", C_DUR, AT(engine.analytics_ms), MS(10), MS(60) * 1000, "\"1s\"",
     NULL},
    /* an order no longer open is dropped from the model this long (event time) after its latest
     * event; at least flags.repeat_visit.window, which looks back at resolved orders (checked in
     * check_relations) */
    {"engine.closed_retention", C_DUR, AT(engine.closed_retention_ms), MS(60) * 1000,
     MS(3650) * DAY_, "\"8d\"", NULL},
    {"feed.listen", C_STR, AT(feed.listen), 1, 0, "\"127.0.0.1\"", "OPSWALL_FEED_LISTEN"},
    {"feed.port", C_INT, AT(feed.port), 0, 65535, "7681", "OPSWALL_FEED_PORT"},
    {"feed.web_root", C_STR, AT(feed.web_root), 1, 0, "\"assets/web\"", NULL},
    {"feed.allowed_origins", C_STR, AT(feed.allowed_origins), 0, 0, "\"\"", NULL},
    {"feed.queue", C_INT, AT(feed.queue), 4, 4096, "64", NULL},
    {"feed.client_rate", C_INT, AT(feed.client_rate), 1, 1000, "10", NULL},
    {"feed.workers", C_INT, AT(feed.workers), 1, 64, "1", NULL},
    {"feed.send_threads", C_INT, AT(feed.send_threads), 0, 16, "0", NULL},
    {"feed.compression", C_INT, AT(feed.compression), 0, 9, "6", NULL},
    /* websocket keep-alive: every connection is pinged this often, and one that has answered
     * nothing (pong or message) for ping_timeout is closed */
    {"feed.ping_interval", C_DUR, AT(feed.ping_interval_ms), MS(1000), MS(3600) * 1000, "\"30s\"",
     NULL},
    {"feed.ping_timeout", C_DUR, AT(feed.ping_timeout_ms), MS(1000), MS(3600) * 1000, "\"90s\"",
     NULL},
    {"feed.tls.cert", C_STR, AT(feed.tls_cert), 0, 0, "\"\"", NULL},
    {"feed.tls.key", C_STR, AT(feed.tls_key), 0, 0, "\"\"", NULL},
    {"notify.config", C_STR, AT(notify.config), 1, 0, "\"config/notify.json\"", NULL},
    {"notify.listen", C_STR, AT(notify.listen), 1, 0, "\"127.0.0.1\"", NULL},
    {"notify.port", C_INT, AT(notify.port), 0, 65535, "7682", "OPSWALL_NOTIFY_PORT"},
    {"notify.group", C_STR, AT(notify.group), 1, 0, "\"notify\"", NULL},
    {"notify.consumer", C_STR, AT(notify.consumer), 1, 0, "\"notify-1\"", NULL},
    {"notify.poll", C_DUR, AT(notify.poll_ms), MS(10), MS(10) * 1000, "\"100ms\"", NULL},
    {"notify.log_keep", C_INT, AT(notify.log_keep), 100, 10000000, "10000", NULL},
    {"notify.stream_maxlen", C_INT, AT(notify.stream_maxlen), 100, 100000000, "10000", NULL},
    {"notify.ca_file", C_STR, AT(notify.ca_file), 0, 0, "\"\"", NULL},
    {"wallboard.width", C_INT, AT(wallboard.width), 320, 16384, "1920", NULL},
    {"wallboard.height", C_INT, AT(wallboard.height), 240, 16384, "1080", NULL},
    {"wallboard.fullscreen", C_BOOL, AT(wallboard.fullscreen), 0, 0, "false", NULL},
    {"wallboard.display", C_INT, AT(wallboard.display), 0, 15, "0", NULL},
    {"wallboard.font", C_STR, AT(wallboard.font), 1, 0, "\"assets/fonts/DejaVuSans.ttf\"", NULL},
    {"wallboard.poll", C_DUR, AT(wallboard.poll_ms), MS(10), MS(60) * 1000, "\"250ms\"", NULL},
    {"wallboard.stale_after", C_DUR, AT(wallboard.stale_ms), MS(100), MS(24) * HOUR_, "\"10s\"",
     NULL},
    {"wallboard.layout", C_STR, AT(wallboard.layout), 1, 0, "\"config/wallboard/default.json\"",
     NULL},
    {"wallboard.flash", C_DUR, AT(wallboard.flash_ms), MS(0), MS(60) * 1000, "\"3s\"", NULL},
    {"wallboard.sound", C_BOOL, AT(wallboard.sound), 0, 0, "false", NULL},
    {"wallboard.threads", C_BOOL, AT(wallboard.threads), 0, 0, "true", NULL},
    SLA_PRIO("emergency", EMERGENCY, "\"5m\"", "\"10m\"", "\"15m\"", "\"2h\"", "\"4h\"", "\"24h\""),
    SLA_PRIO("important", IMPORTANT, "\"15m\"", "\"10m\"", "\"1h\"", "\"4h\"", "\"24h\"",
             "\"24h\""),
    SLA_PRIO("general", GENERAL, "\"1h\"", "\"10m\"", "\"24h\"", "\"48h\"", "\"72h\"", "\"24h\""),
    {"sla.complaint.urgent", C_DUR, AT(sla.complaint_ms[OW_SEV_URGENT]), MS(1000), MS(30) * DAY_,
     "\"15m\"", NULL},
    {"sla.complaint.normal", C_DUR, AT(sla.complaint_ms[OW_SEV_NORMAL]), MS(1000), MS(30) * DAY_,
     "\"1h\"", NULL},
    /* DESIGN §4: paused time does not count toward arrival and resolution */
    {"sla.pause.awaiting_parts", C_STAGES, AT(sla.pause_stops[OW_PAUSE_AWAITING_PARTS]), 0, 0,
     "[\"arrival\",\"resolution\"]", NULL},
    {"sla.pause.customer_unavailable", C_STAGES, AT(sla.pause_stops[OW_PAUSE_CUSTOMER_UNAVAILABLE]),
     0, 0, "[\"arrival\",\"resolution\"]", NULL},
    {"sla.pause.other", C_STAGES, AT(sla.pause_stops[OW_PAUSE_OTHER]), 0, 0,
     "[\"arrival\",\"resolution\"]", NULL},
    /* DESIGN §4: public (schools, hospitals) and elderly living alone raise priority; vip tightens
     */
    {"sla.overrides", C_OVERRIDES, 0, 0, 0, 0,
     "[{\"match\":{\"segment\":\"public\"},\"raise\":1},"
     "{\"match\":{\"segment\":\"elderly\"},\"raise\":1},"
     "{\"match\":{\"segment\":\"vip\"},\"scale_pct\":50}]",
     NULL},
    {"sla.business_hours.stages", C_STAGES, AT(sla.calendar_stages), 0, 0, "[]", NULL},
    {"sla.business_hours.calendars", C_CALENDARS, 0, 0, 0, 0, "{}", NULL},
    /* DESIGN §5: root-cause flags and their default thresholds */
    FLAG_LEVEL(duplicate_dispatch, "2"),
    FLAG_INT(duplicate_dispatch, "radius_m", radius_m, 1, 100000, "50"),
    FLAG_DUR(duplicate_dispatch, "window", window_ms, MS(1000), MS(7) * DAY_, "\"30m\""),
    FLAG_LEVEL(repeat_visit, "1"),
    FLAG_INT(repeat_visit, "radius_m", radius_m, 1, 100000, "50"),
    FLAG_DUR(repeat_visit, "window", window_ms, MS(1000), MS(90) * DAY_, "\"7d\""),
    FLAG_LEVEL(neglected_region, "2"),
    FLAG_INT(neglected_region, "min_idle", min_idle, 1, 100000, "1"),
    FLAG_LEVEL(surge, "2"),
    FLAG_DUR(surge, "window", window_ms, MS(60) * 1000, MS(1) * DAY_, "\"30m\""),
    FLAG_DUR(surge, "trailing", trailing_ms, MS(60) * 1000, MS(7) * DAY_, "\"6h\""),
    FLAG_INT(surge, "min_orders", min_orders, 1, 1000000, "10"),
    FLAG_FLOAT(surge, "ratio", ratio, 0, 1000, "3.0"),
    FLAG_LEVEL(understaffed, "2"),
    FLAG_INT(understaffed, "min_open", min_open, 1, 1000000, "10"),
    FLAG_FLOAT(understaffed, "per_tech", per_tech, 0, 100000, "5.0"),
    FLAG_LEVEL(overload, "1"),
    FLAG_INT(overload, "max_active", max_active, 1, 1000, "3"),
    FLAG_LEVEL(skill_mismatch, "1"),
    FLAG_LEVEL(far_dispatch, "1"),
    FLAG_INT(far_dispatch, "min_m", min_m, 1, 1000000, "3000"),
    FLAG_FLOAT(far_dispatch, "ratio", ratio, 1, 1000, "2.0"),
    FLAG_LEVEL(parts_wait, "1"),
    FLAG_DUR(parts_wait, "after", after_ms, MS(1000), MS(30) * DAY_, "\"2h\""),
    FLAG_LEVEL(stale_technician, "1"),
    FLAG_DUR(stale_technician, "after", after_ms, MS(1000), MS(1) * DAY_, "\"10m\""),
    FLAG_LEVEL(complaint_cluster, "2"),
    FLAG_DUR(complaint_cluster, "window", window_ms, MS(60) * 1000, MS(30) * DAY_, "\"24h\""),
    FLAG_DUR(complaint_cluster, "trailing", trailing_ms, MS(60) * 1000, MS(90) * DAY_, "\"7d\""),
    FLAG_INT(complaint_cluster, "min_complaints", min_complaints, 1, 1000000, "5"),
    FLAG_FLOAT(complaint_cluster, "ratio", ratio, 0, 1000, "1.2"),
    FLAG_DUR(complaint_cluster, "csat_window", csat_window_ms, MS(60) * 1000, MS(90) * DAY_,
             "\"3d\""),
    FLAG_INT(complaint_cluster, "csat_min_callbacks", csat_min_callbacks, 1, 1000000, "10"),
    FLAG_FLOAT(complaint_cluster, "csat_below", csat_below, 0, 100, "85.0"),
    FLAG_LEVEL(backlog, "2"),
    FLAG_INT(backlog, "max_open", max_open, 0, 1000000, "50"),
    /* no token in the default: a board is only reachable once its operator has made some */
    {"access.tokens", C_TOKENS, 0, 0, 0, 0, "[]", NULL},
    {"city.name", C_STR, AT(city.name), 1, 0, "\"sample\"", NULL},
    {"city.regions", C_STR, AT(city.regions), 1, 0, "\"assets/cities/sample/regions.geojson\"",
     NULL},
    {"city.name_property", C_STR, AT(city.name_property), 1, 0, "\"id\"", NULL},
    {"city.events", C_STR, AT(city.events), 0, 0, "\"assets/cities/sample/events.ndjson\"", NULL},
    {"city.csv", C_STR, AT(city.csv), 0, 0, "\"\"", NULL},
    {"city.mapping", C_STR, AT(city.mapping), 0, 0, "\"\"", NULL},
    {"analytics.grid_cell_m", C_INT, AT(analytics.cell_m), 50, 100000, "500", NULL},
    {"analytics.utc_offset_min", C_INT, AT(analytics.utc_offset_min), -720, 840, "480", NULL},
    /* the zone's TZif file is read by the programs (io/files.c ow_zone_load), not here */
    {"analytics.time_zone", C_STR, AT(analytics.time_zone), 0, 0, "\"\"", NULL},
    /* targets: SEEDS.md (response ≤ 20 min, dispatch ≤ 5 min, first-visit fix ≥ 90 %, repeat
     * visits ≤ 5 %, complaints < 10 %, CSAT ≥ 85, NPS ≥ 50, utilisation 82 %) */
    {"analytics.targets.response_mean_s", C_INT, AT(analytics.targets.response_mean_s), 0,
     INT64_C(1) << 31, "1200", NULL},
    {"analytics.targets.response_p90_s", C_INT, AT(analytics.targets.response_p90_s), 0,
     INT64_C(1) << 31, "3600", NULL},
    {"analytics.targets.dispatch_mean_s", C_INT, AT(analytics.targets.dispatch_mean_s), 0,
     INT64_C(1) << 31, "300", NULL},
    {"analytics.targets.dispatch_p90_s", C_INT, AT(analytics.targets.dispatch_p90_s), 0,
     INT64_C(1) << 31, "900", NULL},
    {"analytics.targets.first_visit_fix_pct", C_INT, AT(analytics.targets.first_visit_fix_pct), 0,
     100, "90", NULL},
    {"analytics.targets.repeat_visit_pct", C_INT, AT(analytics.targets.repeat_visit_pct), 0, 100,
     "5", NULL},
    {"analytics.targets.complaint_rate_pct", C_INT, AT(analytics.targets.complaint_rate_pct), 0,
     100, "10", NULL},
    {"analytics.targets.csat", C_INT, AT(analytics.targets.csat), 0, 100, "85", NULL},
    {"analytics.targets.nps", C_INT, AT(analytics.targets.nps), -100, 100, "50", NULL},
    {"analytics.targets.sla_compliance_pct", C_INT, AT(analytics.targets.sla_compliance_pct), 0,
     100, "95", NULL},
    {"analytics.targets.utilisation_pct", C_INT, AT(analytics.targets.utilisation_pct), 0, 100,
     "82", NULL},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

static const char *const stage_names[] = {"dispatch", "accept",     "response",
                                          "arrival",  "resolution", "callback"};

const char *ow_stage_name(ow_stage s)
{
    return s >= 0 && s < OW_STAGE__ORDER_COUNT ? stage_names[s] : "?";
}

/* Describe what a setting accepts, for messages. */
static void describe(const setting *s, char *out, size_t n)
{
    switch (s->kind) {
    case C_STR: snprintf(out, n, "a string%s", s->lo ? " (not empty)" : ""); break;
    case C_INT: snprintf(out, n, "an integer from %" PRId64 " to %" PRId64, s->lo, s->hi); break;
    case C_BOOL: snprintf(out, n, "true or false"); break;
    case C_FLOAT: snprintf(out, n, "a number from %" PRId64 " to %" PRId64, s->lo, s->hi); break;
    case C_STAGES:
    case C_OVERRIDES:
    case C_CALENDARS:
    case C_TOKENS: snprintf(out, n, "the form in docs/configuration.md"); break;
    case C_DUR: {
        char lo[32], hi[32];
        ow_duration_format(s->lo, lo, sizeof lo);
        ow_duration_format(s->hi, hi, sizeof hi);
        snprintf(out, n, "a duration like \"15m\", \"2h\" or \"500ms\", from %s to %s", lo, hi);
        break;
    }
    }
}

static int bad_value(const setting *s, const cJSON *v, const char *source, ow_err *err)
{
    char want[160], got[96];
    describe(s, want, sizeof want);
    ow_json_quote(v, got, sizeof got);
    return ow_err_set(err, OW_EINVAL, "%s%s%s: expected %s, got %s", source ? source : "",
                      source ? ": " : "", s->path, want, got);
}

/* Store one JSON value into the setting's field, or explain why not. */
static int store(ow_config *cfg, const setting *s, const cJSON *v, const char *source, ow_err *err)
{
    char *dst = (char *)cfg + s->off;
    switch (s->kind) {
    case C_STR: {
        if (!cJSON_IsString(v)) return bad_value(s, v, source, err);
        size_t len = strlen(v->valuestring);
        if (len >= s->size || (int64_t)len < s->lo) return bad_value(s, v, source, err);
        memcpy(dst, v->valuestring, len + 1);
        return OW_OK;
    }
    case C_INT: {
        int64_t x;
        if (!ow_json_int(v, s->lo, s->hi, &x)) return bad_value(s, v, source, err);
        memcpy(dst, &x, sizeof x);
        return OW_OK;
    }
    case C_BOOL: {
        if (!cJSON_IsBool(v)) return bad_value(s, v, source, err);
        bool b = cJSON_IsTrue(v);
        memcpy(dst, &b, sizeof b);
        return OW_OK;
    }
    case C_FLOAT: {
        double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        if (!(x >= (double)s->lo && x <= (double)s->hi)) return bad_value(s, v, source, err);
        memcpy(dst, &x, sizeof x);
        return OW_OK;
    }
    case C_DUR: {
        int64_t ms;
        if (!cJSON_IsString(v) || ow_duration_parse(v->valuestring, &ms, NULL) || ms < s->lo ||
            ms > s->hi)
            return bad_value(s, v, source, err);
        memcpy(dst, &ms, sizeof ms);
        return OW_OK;
    }
    case C_STAGES: {
        uint32_t mask;
        int rc = ow_config_stages_parse(v, &mask, s->path, source ? source : "defaults", err);
        if (!rc) memcpy(dst, &mask, sizeof mask);
        return rc;
    }
    case C_OVERRIDES:
        return ow_config_overrides_parse(cfg, v, s->path, source ? source : "defaults", err);
    case C_CALENDARS:
        return ow_config_calendars_parse(cfg, v, s->path, source ? source : "defaults", err);
    case C_TOKENS:
        return ow_access_parse(&cfg->access, v, s->path, source ? source : "defaults", err);
    }
    return OW_EINVAL;
}

void ow_config_defaults(ow_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NSETTINGS; i++) {
        cJSON *v = cJSON_Parse(settings[i].def);
        int rc = v ? store(cfg, &settings[i], v, NULL, NULL) : OW_EINVAL;
        cJSON_Delete(v);
        (void)rc; /* the defaults table is checked by tests/unit/test_config.c */
    }
}

static const setting *find_exact(const char *path)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strcmp(settings[i].path, path) == 0) return &settings[i];
    return NULL;
}

static bool is_section(const char *path)
{
    size_t n = strlen(path);
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strncmp(settings[i].path, path, n) == 0 && settings[i].path[n] == '.') return true;
    return false;
}

/* "redis, streams, ingest" — the keys that exist directly under `prefix` ("" for the top). */
static void known_keys(const char *prefix, char *out, size_t n)
{
    size_t pl = strlen(prefix), used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *p = settings[i].path;
        if (pl && (strncmp(p, prefix, pl) != 0 || p[pl] != '.')) continue;
        const char *k = pl ? p + pl + 1 : p;
        size_t kl = strcspn(k, ".");
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)kl, k);
        /* skip keys already listed */
        bool seen = false;
        for (const char *q = out; (q = strstr(q, key)) != NULL; q += kl)
            if ((q == out || q[-1] == ' ') && (q[kl] == ',' || q[kl] == '\0')) seen = true;
        if (seen) continue;
        int w = snprintf(out + used, n - used, "%s%s", used ? ", " : "", key);
        if (w < 0 || (size_t)w >= n - used) break;
        used += (size_t)w;
    }
}

static int walk(ow_config *cfg, const cJSON *obj, const char *prefix, const char *source,
                ow_err *err)
{
    for (const cJSON *c = obj->child; c; c = c->next) {
        char path[256];
        int w = snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", c->string);
        if (w < 0 || (size_t)w >= sizeof path)
            return ow_err_set(err, OW_EINVAL, "%s: key path too long", source);
        /* "redis.url" as one key is not another spelling of {"redis":{"url":...}} */
        bool dotted = strchr(c->string, '.') != NULL;
        const setting *s = dotted ? NULL : find_exact(path);
        if (s) {
            int rc = store(cfg, s, c, source, err);
            if (rc) return rc;
        } else if (!dotted && is_section(path)) {
            if (!cJSON_IsObject(c)) {
                char got[96];
                ow_json_quote(c, got, sizeof got);
                return ow_err_set(err, OW_EINVAL, "%s: %s: expected an object, got %s", source,
                                  path, got);
            }
            int rc = walk(cfg, c, path, source, err);
            if (rc) return rc;
        } else {
            char known[400];
            known_keys(prefix, known, sizeof known);
            return ow_err_set(err, OW_EINVAL, "%s: %s: unknown key (a typo?); known keys%s%s: %s",
                              source, path, *prefix ? " in " : "", prefix, known);
        }
    }
    return OW_OK;
}

/* Settings that must agree with each other, checked once the whole file is read. */
static int check_relations(const ow_config *cfg, const char *source, ow_err *err)
{
    /* repeat_visit looks for resolved orders within its window: a model that forgot them sooner
     * would miss repeats without saying so */
    if (cfg->engine.closed_retention_ms < cfg->flags.repeat_visit.window_ms) {
        char have[32], need[32];
        ow_duration_format(cfg->engine.closed_retention_ms, have, sizeof have);
        ow_duration_format(cfg->flags.repeat_visit.window_ms, need, sizeof need);
        return ow_err_set(err, OW_EINVAL,
                          "%s: engine.closed_retention: %s is shorter than "
                          "flags.repeat_visit.window (%s): closed orders would be forgotten "
                          "before a repeat visit can be recognised; set it to at least %s",
                          source, have, need, need);
    }
    /* a client must be pinged (and have time to answer) before it can be found silent */
    if (cfg->feed.ping_timeout_ms <= cfg->feed.ping_interval_ms) {
        char have[32], need[32], three[32];
        ow_duration_format(cfg->feed.ping_timeout_ms, have, sizeof have);
        ow_duration_format(cfg->feed.ping_interval_ms, need, sizeof need);
        ow_duration_format(3 * cfg->feed.ping_interval_ms, three, sizeof three);
        return ow_err_set(err, OW_EINVAL,
                          "%s: feed.ping_timeout: %s is not longer than feed.ping_interval (%s): "
                          "clients would be closed before they were pinged; set it to %s or more",
                          source, have, need, three);
    }
    return OW_OK;
}

int ow_config_parse(ow_config *cfg, const char *text, size_t len, const char *source, ow_err *err)
{
    if (!source) source = "config";
    ow_err jerr;
    cJSON *root = ow_json_parse(text, len, OW_JSON_MAX_DEPTH, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "%s: %s", source, jerr.msg);
    int rc;
    if (!cJSON_IsObject(root))
        rc = ow_err_set(err, OW_EINVAL, "%s: expected a JSON object at the top, got %s", source,
                        ow_json_type_name(root));
    else
        rc = walk(cfg, root, "", source, err);
    cJSON_Delete(root);
    return rc ? rc : check_relations(cfg, source, err);
}

int ow_config_apply_env(ow_config *cfg, const char *(*getenv_fn)(const char *), ow_err *err)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const setting *s = &settings[i];
        const char *val = s->env ? getenv_fn(s->env) : NULL;
        if (!val) continue;
        cJSON *v = NULL;
        if (s->kind == C_STR || s->kind == C_DUR) {
            v = cJSON_CreateString(val);
        } else {
            v = ow_json_parse(val, strlen(val), 1, NULL);
            if (!v) v = cJSON_CreateString(val); /* so the message shows what was given */
        }
        if (!v) return ow_err_set(err, OW_ENOMEM, "out of memory");
        char source[96];
        snprintf(source, sizeof source, "environment %s", s->env);
        int rc = store(cfg, s, v, source, err);
        cJSON_Delete(v);
        if (rc) return rc;
    }
    return OW_OK;
}

const char *const *ow_config_env_names(void)
{
    static const char *const names[] = {"OPSWALL_REDIS_URL",    "OPSWALL_DATA_DIR",
                                        "OPSWALL_REDIS_SERVER", "OPSWALL_ENGINE_CONSUMER",
                                        "OPSWALL_FEED_LISTEN",  "OPSWALL_FEED_PORT",
                                        "OPSWALL_NOTIFY_PORT",  NULL};
    return names;
}

/* Find or create the object at `path`'s parent inside root; returns it and the leaf key. */
static cJSON *parent_of(cJSON *root, const char *path, const char **leaf)
{
    cJSON *cur = root;
    const char *p = path;
    for (const char *dot; (dot = strchr(p, '.')) != NULL; p = dot + 1) {
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(dot - p), p);
        cJSON *next = cJSON_GetObjectItemCaseSensitive(cur, key);
        if (!next) {
            next = cJSON_AddObjectToObject(cur, key);
            if (!next) return NULL;
        }
        cur = next;
    }
    *leaf = p;
    return cur;
}

char *ow_config_format(const ow_config *cfg)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    for (size_t i = 0; i < NSETTINGS; i++) {
        const setting *s = &settings[i];
        const char *leaf;
        cJSON *parent = parent_of(root, s->path, &leaf);
        const char *src = (const char *)cfg + s->off;
        cJSON *v = NULL;
        if (parent) switch (s->kind) {
            case C_STR: v = cJSON_CreateString(src); break;
            case C_INT: {
                int64_t x;
                memcpy(&x, src, sizeof x);
                v = cJSON_CreateNumber((double)x);
                break;
            }
            case C_BOOL: v = cJSON_CreateBool(*(const bool *)src); break;
            case C_FLOAT: {
                double x;
                memcpy(&x, src, sizeof x);
                v = cJSON_CreateNumber(x);
                break;
            }
            case C_DUR: {
                int64_t ms;
                char text[48];
                memcpy(&ms, src, sizeof ms);
                ow_duration_format(ms, text, sizeof text);
                v = cJSON_CreateString(text);
                break;
            }
            case C_STAGES: {
                uint32_t mask;
                memcpy(&mask, src, sizeof mask);
                v = ow_config_stages_format(mask);
                break;
            }
            case C_OVERRIDES: v = ow_config_overrides_format(cfg); break;
            case C_CALENDARS: v = ow_config_calendars_format(cfg); break;
            case C_TOKENS: v = ow_access_format(&cfg->access); break;
            }
        if (!v || !cJSON_AddItemToObject(parent, leaf, v)) {
            cJSON_Delete(v);
            cJSON_Delete(root);
            return NULL;
        }
    }
    char *out = cJSON_Print(root);
    cJSON_Delete(root);
    if (!out) return NULL;
    char *copy = strdup(out); /* callers free() with libc, not cJSON_free */
    cJSON_free(out);
    return copy;
}

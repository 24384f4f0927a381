/*
 * config — every setting of opswall, its default, and its validation.
 *
 * The table in config.c is the single source of truth: it gives each setting's JSON path, type,
 * range and default. config/opswall.json lists every setting with that default (a test checks they
 * agree). Loading is strict: unknown keys, wrong types and out-of-range values are errors whose
 * message names the JSON path, the value and what was expected:
 *   sla.emergency.response: expected a duration like "15m", "2h", "1h30m" or "500ms", got 15
 *
 * Pure: parsing takes text, environment overrides take a lookup function. io/ reads the file.
 */
#ifndef OW_CONFIG_H
#define OW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access.h"
#include "err.h"
#include "event.h"

#define OW_CFG_STR 256 /* longest string setting, bytes including NUL */

/* SLA stages in DESIGN §4 order (complaint has its own targets per severity). */
typedef enum {
    OW_STAGE_DISPATCH,
    OW_STAGE_ACCEPT,
    OW_STAGE_RESPONSE,
    OW_STAGE_ARRIVAL,
    OW_STAGE_RESOLUTION,
    OW_STAGE_CALLBACK,
    OW_STAGE__ORDER_COUNT
} ow_stage;

/* Business hours: the same window on the chosen weekdays, in a fixed UTC offset. */
typedef struct ow_calendar {
    int32_t utc_offset_min; /* e.g. +480 for UTC+08:00 */
    uint8_t weekdays;       /* bit 0 = Monday ... bit 6 = Sunday; 0 = never open */
    int32_t open_min;       /* opening, minutes after local midnight, 0..1439 */
    int32_t close_min; /* closing, minutes after local midnight, open_min < close_min <= 1440 */
} ow_calendar;

#define OW_SLA_OVERRIDES_MAX 32
#define OW_CALENDARS_MAX     64

/* One SLA override: orders matching segment/category/region (any when unset) get a priority
 * (set, or raised towards emergency), scaled targets, or their own target for some stages. */
typedef struct ow_sla_override {
    int segment;                              /* ow_segment to match, or -1 for any */
    char category[OW_NAME_BUF];               /* "" = any */
    char region[OW_NAME_BUF];                 /* "" = any */
    int set_priority;                         /* ow_priority, or -1 */
    int raise;                                /* priority steps towards emergency (0 = none) */
    int scale_pct;                            /* targets × scale_pct / 100 (100 = unchanged) */
    int64_t target_ms[OW_STAGE__ORDER_COUNT]; /* 0 = unchanged */
    bool only_stages; /* "stages" given: only the stages in `stages` run for matching orders */
    uint32_t stages;  /* bit per ow_stage (an order class with no dispatch has no dispatch clock) */
} ow_sla_override;

/* Analytics (issue 5): the heat grid, the city's zone for "today", and the KPI targets the board
 * and the report compare against (docs/snapshot.md kpi_targets). */
typedef struct ow_analytics_config {
    int64_t cell_m;             /* heat grid cell, metres */
    int64_t utc_offset_min;     /* the city's offset when it has no time_zone: fixed, no DST */
    char time_zone[OW_CFG_STR]; /* tz database name of the city ("" = city.mapping's time_zone,
                                 * else utc_offset_min): local midnight and hours, DST included */
    struct {
        int64_t response_mean_s, response_p90_s, dispatch_mean_s, dispatch_p90_s;
        int64_t first_visit_fix_pct, repeat_visit_pct, complaint_rate_pct, csat, nps;
        int64_t sla_compliance_pct, utilisation_pct;
    } targets;
} ow_analytics_config;
/* Root-cause flags (DESIGN §5): each has a level (0..3) and its thresholds. Distances in
 * metres, durations in ms, ratios as plain numbers. */
typedef struct ow_flags_config {
    struct {
        int64_t level, radius_m, window_ms; /* same address or within radius, created within */
    } duplicate_dispatch;
    struct {
        int64_t level, radius_m, window_ms; /* same address or within radius, resolved within */
    } repeat_visit;
    struct {
        int64_t level, min_idle; /* idle technicians in other regions */
    } neglected_region;
    struct {
        int64_t level, window_ms, trailing_ms, min_orders;
        double ratio; /* window count > ratio × trailing rate per window */
    } surge;
    struct {
        int64_t level, min_open;
        double per_tech; /* open orders per available technician */
    } understaffed;
    struct {
        int64_t level, max_active; /* flag above this many active orders */
    } overload;
    struct {
        int64_t level;
    } skill_mismatch;
    struct {
        int64_t level, min_m;
        double ratio; /* × the nearest idle technician's distance */
    } far_dispatch;
    struct {
        int64_t level, after_ms;
    } parts_wait;
    struct {
        int64_t level, after_ms;
    } stale_technician;
    struct {
        int64_t level, window_ms, trailing_ms, min_complaints;
        double ratio; /* window count > ratio × trailing mean per window */
        int64_t csat_window_ms, csat_min_callbacks;
        double csat_below; /* CSAT = mean callback score × 20 */
    } complaint_cluster;
    struct {
        int64_t level, max_open;
    } backlog;
} ow_flags_config;

typedef struct ow_config {
    char base_dir[OW_CFG_STR]; /* relative paths below resolve against this (set by the loader) */
    struct {
        char url[OW_CFG_STR];      /* "" = start a private redis-server; env OPSWALL_REDIS_URL */
        char data_dir[OW_CFG_STR]; /* private server's socket, AOF and log; env OPSWALL_DATA_DIR */
        char server[OW_CFG_STR];   /* redis-server binary for the private server */
        int64_t start_timeout_ms;
        int64_t timeout_ms; /* connect / command timeout */
    } redis;
    struct {
        int64_t partitions; /* regions are split into this many partitions (docs/scaling.md) */
        char regions[OW_CFG_STR]; /* region → partition table file; "" = FNV-1a hash for all */
        int64_t retry_for_ms;     /* keep retrying a slot without a reachable master this long */
        int64_t stale_after_ms;   /* a partition not heard from this long is shown stale */
    } cluster;
    struct {
        int64_t events_maxlen;  /* approximate cap of ops:events (MAXLEN ~) */
        int64_t rejects_maxlen; /* approximate cap of ops:rejects */
    } streams;
    struct {
        int64_t dedup_window_ms; /* how long an event id is remembered, at least */
        int64_t dedup_buckets;   /* the window is kept as this many expiring sets */
        int64_t batch;           /* events per Redis call */
        int64_t inflight;        /* Redis calls sent and not yet answered, at most */
        int64_t buffer_events;   /* events held (queued + in flight) before backpressure */
        int64_t buffer_bytes;    /* bytes held before backpressure */
        int64_t progress_ms;     /* progress line interval when stderr is not a terminal */
        int64_t wait_replicas;   /* routed ingest: WAIT for this many replicas before a flush is
                                    done (0 = off; docs/scaling.md §6) */
        int64_t wait_timeout_ms; /* WAIT's timeout per round */
        struct {
            char listen[64];     /* interface address */
            int64_t port;        /* 0 = no TCP listener */
            int64_t max_clients; /* connections at once */
            int64_t idle_ms;     /* a connection silent this long is closed */
        } tcp;
        struct {
            char listen[64];
            int64_t port;       /* 0 = no HTTP listener */
            int64_t max_body;   /* bytes per request; more gets 413 */
            int64_t rate;       /* events per second per token (0 = no limit); more gets 429 */
            int64_t timeout_ms; /* a request must arrive whole within this */
        } http;
    } ingest;
    struct {
        char group[64];
        char consumer[64];
        int64_t publish_interval_ms; /* full snapshot broadcast at most this often */
        int64_t delta_interval_ms;   /* deltas at most this often, only when changed */
        int64_t batch;               /* XREADGROUP COUNT */
        int64_t block_ms;            /* XREADGROUP BLOCK */
        int64_t checkpoint_ms;       /* save the model this often (and on a clean stop) */
        int64_t checkpoint_bytes;    /* ...when its checkpoint is at most this large (bytes); a
                                        larger one waits checkpoint_ms × size / checkpoint_bytes */
        int64_t analytics_ms;        /* rebuild the slow snapshot members at most this often */
        char partitions[OW_CFG_STR]; /* cluster mode: partitions served, "0,2" ("" = all) */
        int64_t lease_ms;            /* a partition's lease (io/lease.h); renewed every third */
        int64_t closed_retention_ms; /* an order no longer open is forgotten this long after its
                                        latest event (event time, ms) */
    } engine;
    struct {
        char listen[64]; /* interface address */
        int64_t port;    /* env OPSWALL_FEED_PORT */
        char web_root[OW_CFG_STR];
        char allowed_origins[OW_CFG_STR]; /* extra browser origins, comma-separated; same host is
                                             always allowed */
        int64_t queue;                    /* messages a client may lag before it gets a snapshot */
        int64_t client_rate;              /* requests per second one connection may send */
        int64_t workers;      /* feed processes sharing the port (SO_REUSEPORT); 1 = no parent */
        int64_t send_threads; /* threads writing one delta to the viewers; 0 = one per CPU */
        int64_t compression;  /* permessage-deflate zlib level, once per message; 0 = off */
        int64_t ping_interval_ms;  /* a websocket client is pinged this often */
        int64_t ping_timeout_ms;   /* ... and closed after this long without a pong or message */
        char tls_cert[OW_CFG_STR]; /* PEM certificate chain; empty = plain HTTP */
        char tls_key[OW_CFG_STR];  /* PEM private key; set with tls_cert */
    } feed;
    struct {
        char config[OW_CFG_STR]; /* delivery's receivers, routes, templates (config/notify.json) */
        char listen[64];         /* API interface address */
        int64_t port;   /* API port (silences, notification records); env OPSWALL_NOTIFY_PORT */
        char group[64]; /* consumer group on the alert streams */
        char consumer[64];
        int64_t poll_ms;          /* how often the streams are read and groups looked at */
        int64_t log_keep;         /* notification records kept (Redis and API) */
        int64_t stream_maxlen;    /* the notifications and dead-letter streams' MAXLEN ~ */
        char ca_file[OW_CFG_STR]; /* CA bundle for https receivers; "" = the system's store */
    } notify;
    struct {
        int64_t width, height; /* window size when not fullscreen; screenshot size */
        bool fullscreen;
        int64_t display;         /* monitor index */
        char font[OW_CFG_STR];   /* Latin font shipped in assets/ */
        int64_t poll_ms;         /* how often to look for a new snapshot */
        int64_t stale_ms;        /* data older than this is shown as stale */
        char layout[OW_CFG_STR]; /* the layout file: pages of panels (config/wallboard/) */
        int64_t flash_ms;        /* how long a new breach or L2/L3 escalation flashes; 0 = never */
        bool sound;              /* a short tone with the flash */
        bool threads;            /* draw on 3 threads (map, second renderer); false: one */
    } wallboard;
    struct {
        int64_t target_ms[OW_PRIO__COUNT][OW_STAGE__ORDER_COUNT];
        int64_t complaint_ms[OW_SEV__COUNT];
        uint32_t pause_stops[OW_PAUSE__COUNT]; /* bit per ow_stage each pause reason stops */
        ow_sla_override overrides[OW_SLA_OVERRIDES_MAX]; /* first match wins, per field */
        int noverrides;
        uint32_t calendar_stages; /* bit per ow_stage that counts business hours only */
        struct {
            char region[OW_NAME_BUF]; /* "default" applies to regions without their own */
            ow_calendar cal;
        } calendars[OW_CALENDARS_MAX];
        int ncalendars;
    } sla;
    ow_flags_config flags; /* root-cause flags (DESIGN §5) */
    ow_access access;      /* feed, ingest HTTP and delivery tokens (hashes) */
    struct {
        char name[64];
        char regions[OW_CFG_STR]; /* GeoJSON FeatureCollection */
        char name_property[64];   /* feature property that names a region */
        char events[OW_CFG_STR];  /* sample events for the demo */
        char csv[OW_CFG_STR]; /* a real city's CSV export ("" = none), replayed by opswall-run */
        char mapping[OW_CFG_STR]; /* its column mapping (config/mappings/...json) */
    } city;
    ow_analytics_config analytics;
} ow_config;

/* Fill cfg with every default from the table. */
void ow_config_defaults(ow_config *cfg);

/* Parse JSON text over the defaults. `source` (e.g. the file name) prefixes error messages.
 * Keys not given keep their defaults. Returns OW_OK or OW_EINVAL with err naming the path. */
int ow_config_parse(ow_config *cfg, const char *text, size_t len, const char *source, ow_err *err);

/* Apply environment overrides (OPSWALL_REDIS_URL, OPSWALL_DATA_DIR, OPSWALL_FEED_PORT, ...).
 * getenv_fn is getenv in programs and a table lookup in tests. */
int ow_config_apply_env(ow_config *cfg, const char *(*getenv_fn)(const char *name), ow_err *err);

/* The whole configuration as JSON text (every setting, as the file would hold it).
 * Caller frees with free(). NULL on out of memory. */
char *ow_config_format(const ow_config *cfg);

/* Names of the environment variables that override settings, NULL-terminated, and their paths. */
const char *const *ow_config_env_names(void);

const char *ow_stage_name(ow_stage s);

#endif

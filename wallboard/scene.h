/*
 * scene — the snapshot decoded for drawing: every member of docs/snapshot.md the wallboard shows,
 * in plain arrays and numbers, so panels never touch JSON.
 *
 * The core members (type, seq, now_ms, open, ...) are required, exactly as ow_snapshot_parse
 * requires them: a snapshot without them is rejected whole. Every other member is optional and
 * decoded on its own: a missing member, or one of the wrong shape, leaves its `has_*` flag false
 * ("no data yet": the panel draws its empty state) and, when it was present but malformed, adds
 * its name to `bad` so the log can say which member was refused. Array members are capped
 * (OW_SCENE_*_MAX): extra entries are dropped, not an error. Strings are copied into fixed
 * buffers, cut at a UTF-8 boundary.
 *
 * Pure: no I/O, no clock. Ownership: ow_scene_decode / ow_scene_parse return a heap scene the
 * caller frees with ow_scene_free (NULL is a no-op); the scene holds no pointer into the JSON.
 */
#ifndef OW_SCENE_H
#define OW_SCENE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "event.h"
#include "snapshot.h"

#define OW_SCENE_ID_BUF      48
#define OW_SCENE_NAME_BUF    64
#define OW_SCENE_SUMMARY_BUF 200

#define OW_SCENE_REGIONS_MAX 512
#define OW_SCENE_TECHS_MAX   200000
#define OW_SCENE_CELLS_MAX   1000000 /* heat grid cols × rows */
#define OW_SCENE_FLAGS_MAX   100
#define OW_SCENE_ESC_MAX     100
#define OW_SCENE_URGENT_MAX  100
#define OW_SCENE_SPARK_MAX   512 /* points per series */

/* KPIs the board knows: the BLOCK members of docs/snapshot.md it reads. */
typedef enum {
    OW_KPI_CREATED,
    OW_KPI_RESOLVED,
    OW_KPI_RESPONSE_MEAN_S,
    OW_KPI_RESPONSE_P90_S,
    OW_KPI_DISPATCH_MEAN_S,
    OW_KPI_DISPATCH_P90_S,
    OW_KPI_FIRST_VISIT_FIX_PCT,
    OW_KPI_REPEAT_VISIT_PCT,
    OW_KPI_COMPLAINT_RATE_PCT,
    OW_KPI_CSAT,
    OW_KPI_NPS,
    OW_KPI_SLA_RESPONSE_PCT, /* sla_compliance_pct.response */
    OW_KPI_SLA_ARRIVAL_PCT,  /* sla_compliance_pct.arrival */
    OW_KPI_SLA_RESOLUTION_PCT,
    OW_KPI_BACKLOG,
    OW_KPI_UTILISATION_PCT,
    OW_KPI_ORDERS_PER_TECH,
    OW_KPI__COUNT
} ow_kpi;

/* Windows of a KPI block. */
typedef enum { OW_WIN_1H, OW_WIN_TODAY, OW_WIN_7D, OW_WIN_PREV_1H, OW_WIN__COUNT } ow_kpi_window;

/* The member name of a KPI ("response_p90_s", "sla_compliance_pct.response"). */
const char *ow_kpi_key(ow_kpi k);
const char *ow_kpi_window_key(ow_kpi_window w);

typedef struct ow_kpi_block {
    bool present;
    bool has[OW_KPI__COUNT]; /* false: absent or null ("not enough data") */
    double v[OW_KPI__COUNT];
} ow_kpi_block;

typedef struct ow_kpi_target {
    bool has;
    double target;
    bool higher_better; /* "better":"higher" */
} ow_kpi_target;

typedef struct ow_scene_region {
    char id[OW_SCENE_ID_BUF];
    char name_en[OW_SCENE_NAME_BUF], name_zh[OW_SCENE_NAME_BUF]; /* id when absent */
    bool has_center;
    double center[2]; /* lon, lat */
    int64_t open, breached, alerts_open, backlog;
    int64_t techs[OW_TECH__COUNT];
    ow_kpi_block kpi[OW_WIN__COUNT]; /* from kpi.regions.<id> */
} ow_scene_region;

typedef struct ow_scene_tech {
    float lon, lat;
    uint8_t status; /* ow_tech_status */
} ow_scene_tech;

typedef struct ow_scene_cell {
    int32_t col, row;
    int32_t open, breached, avail;
} ow_scene_cell;

typedef struct ow_scene_flag {
    char flag[OW_SCENE_ID_BUF];
    char region[OW_SCENE_ID_BUF];
    int64_t at_ms; /* -1 when absent */
    int level;
    char summary[OW_SCENE_SUMMARY_BUF];
} ow_scene_flag;

typedef struct ow_scene_escalation {
    uint64_t id_hash; /* hash of the alert id (new-escalation detection); 0 when absent */
    char kind[16];
    int level;
    int64_t at_ms;
    char region[OW_SCENE_ID_BUF];
    char what[OW_SCENE_ID_BUF];    /* stage or flag name */
    char subject[OW_SCENE_ID_BUF]; /* order_id or complaint_id */
    char owner[24];                /* role of the level */
    bool acked;
    char ack_by[OW_SCENE_ID_BUF];
} ow_scene_escalation;

typedef struct ow_scene_urgent {
    char order_id[OW_SCENE_ID_BUF];
    char region[OW_SCENE_ID_BUF];
    char stage[24];
    int priority; /* ow_priority, -1 unknown */
    int64_t breach_at_ms;
    int level; /* highest raised, -1 none */
    int next_pct;
} ow_scene_urgent;

typedef enum {
    OW_SPARK_CREATED,
    OW_SPARK_RESOLVED,
    OW_SPARK_OPEN,
    OW_SPARK_BREACHES,
    OW_SPARK_ALERTS,
    OW_SPARK__COUNT
} ow_spark_series;

const char *ow_spark_key(ow_spark_series s);

typedef struct ow_scene {
    ow_snapshot_view core; /* seq, now_ms, mode, open counts, counters */
    char bad[160];         /* names of optional members refused as malformed, "" when none */

    bool has_complaints;
    int64_t complaints_open;
    bool has_techs;
    int64_t techs[OW_TECH__COUNT];
    bool has_alerts;
    int64_t alerts_raised, alerts_open_by_level[4];

    bool has_replay;
    double replay_speed, replay_progress_pct;
    int64_t replay_start_ms, replay_end_ms; /* -1 when absent */

    /* partitioned (the merged picture's `partitions`): how many, how many stale, and the stale
     * one not heard from the longest */
    bool has_partitions;
    int partitions, partitions_stale;
    int stale_partition; /* -1 when none */
    int64_t stale_age_s; /* its age */
    bool stale_never;    /* it has published nothing yet */

    bool has_city;
    char city_name[OW_SCENE_NAME_BUF];
    double city_bbox[4];

    bool has_kpi;
    ow_kpi_block kpi[OW_WIN__COUNT]; /* overall */
    ow_kpi_target targets[OW_KPI__COUNT];

    bool has_regions;
    ow_scene_region *regions;
    int nregions;

    bool has_techs_pos;
    ow_scene_tech *techs_pos;
    int ntechs_pos;

    bool has_heat;
    double heat_cell_m, heat_bbox[4];
    int heat_cols, heat_rows;
    ow_scene_cell *cells;
    int ncells;

    bool has_flags;
    ow_scene_flag *flags;
    int nflags;

    bool has_escalations;
    ow_scene_escalation *escalations;
    int nescalations;

    bool has_urgent;
    ow_scene_urgent *urgent;
    int nurgent;

    bool has_spark;
    int64_t spark_bucket_s, spark_end_ms;
    double *spark[OW_SPARK__COUNT]; /* NULL when the series is absent */
    int spark_n[OW_SPARK__COUNT];
} ow_scene;

/* Decode a parsed snapshot (borrowed). NULL with err when the core members are missing or wrong,
 * or on out of memory. */
ow_scene *ow_scene_decode(const cJSON *root, ow_err *err);

/* Parse snapshot text and decode it. */
ow_scene *ow_scene_parse(const char *text, size_t len, ow_err *err);

void ow_scene_free(ow_scene *s);

/* Index of the region with this id, or -1. */
int ow_scene_region_find(const ow_scene *s, const char *id);

#endif

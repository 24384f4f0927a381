/*
 * state_impl — the live state's data structures, shared by state.c (the model) and checkpoint.c
 * (its serialisation) only. Everything else goes through state.h.
 */
#ifndef OW_STATE_IMPL_H
#define OW_STATE_IMPL_H

#include "heatmap.h"
#include "kpi.h"
#include "crossfacts.h"
#include "flags.h"
#include "state.h"
#include "timerq.h"

#define NSTAGES       OW_STAGE__ORDER_COUNT
#define MAX_PAUSES    32
#define TIE_COMPLAINT (UINT64_C(1) << 63)
#define ESC_LEVELS    4 /* alert levels 0-3 (ow_sla_level) */

/* One lifecycle instant of an order, kept sorted by (ts, type, tech, arg). */
typedef struct lc_ev {
    int64_t ts;
    uint32_t tech; /* hash of the technician id (never 0), 0 = none */
    uint8_t type;  /* ow_event_type */
    uint8_t arg;   /* pause reason; resolved: first_visit_fix (0 not said, 1 no, 2 yes) */
    uint16_t aux;  /* callback: score (bits 0-2), nps + 1 (bits 3-6; 0 = none) — for the KPIs */
} lc_ev;

/* One SLA clock: the current instance of a stage. */
typedef struct clk {
    int64_t start, stop; /* OW_NEVER = not started / still running */
    int64_t target;      /* ms; 0 = no clock */
    int64_t next_at;     /* cached next crossing (valid when next_valid) */
    int64_t breach_at;   /* cached 100 % instant while running, OW_NEVER otherwise (same rule) */
    uint16_t instance;   /* 1-based; 0 = never started */
    uint8_t fired;       /* thresholds raised for this instance */
    uint8_t open;        /* raised and not yet resolved */
    bool next_valid;     /* next_at is current: cleared by any change to the clock or pauses */
    uint8_t kpi;         /* what this instance gave the KPIs: KPI_COUNTED | KPI_MET (derived) */
} clk;

#define KPI_COUNTED 1u /* ended for real (not cut by a cancel or close): a duration sample */
#define KPI_MET     2u /* ... within its target */

typedef struct order {
    const char *id; /* the map's copy of the key */
    uint32_t seq;   /* first-seen order: deterministic tie-break */
    int32_t heap_pos;
    int32_t urgent_pos; /* while open: position in the urgency heap (earliest breach of a running
                         * clock); while not open: in the forget queue (no order is in both, so
                         * one slot serves, and an order stays 368 bytes) */
    uint8_t prio, given_prio, segment;
    bool created, open, paused;
    bool has_pauses;          /* any paused event: without one, no clock needs the pause scan */
    bool targets_known;       /* clk.target is current for (prio, segment, category, region) */
    int32_t region, category; /* interned, -1 = unknown */
    int32_t cell;             /* heat grid cell of the order's position, -1 = none */
    uint16_t nev, cap;
    int32_t esc_pos; /* position in the escalation index (the queue of the order's highest open
                      * level), -1 = no open SLA alert; here, where it costs no padding */
    lc_ev *evs;
    clk c[NSTAGES];
    ow_flag_order fl; /* the root-cause flags' part (flags.c) */
} order;

typedef struct complaint {
    const char *id;
    uint32_t seq;
    int32_t heap_pos;
    int32_t esc_pos; /* as in order */
    int32_t region;
    uint8_t severity;
    bool created;
    int32_t forget_pos; /* in the forget queue once responded (or never created), -1 = not */
    int64_t created_ts, responded_ts;
    clk c;
} complaint;

typedef struct tech {
    int32_t region;
    uint8_t status;
    bool has_status;
    int64_t status_ts, loc_ts;
    double lat, lon;
    /* what was known before the latest change: techs_pos shows the picture as of a 2-second
     * boundary, so its rows change at most every 2 s (docs/snapshot.md) */
    uint8_t prev_status;
    bool prev_has_status;
    int64_t prev_status_ts, prev_loc_ts;
    double prev_lat, prev_lon;
} tech;

struct ow_state {
    const ow_policy *policy;
    ow_map orders, complaints, techs;
    ow_names regions, categories, tech_ids;
    ow_timerq timers;
    ow_timerq
        urgent; /* open orders by their earliest breach: the board's countdown, in O(k log k) */
    /* The escalation index: every order and complaint with an open SLA alert, in the queue of its
     * highest open level, keyed by the exact instant of its earliest alert of that level (and
     * seq). Maintained where clocks are scheduled (every change of open bits, starts, targets or
     * pauses goes through there), rebuilt on checkpoint load, never saved. The escalations board
     * reads the k best through it without visiting every order (ow_state_each_top_alert). */
    ow_timerq esc[ESC_LEVELS];
    ow_timerq esc_flags[ESC_LEVELS]; /* raised root-cause flags, by level, keyed by their `at` */
    /* orders no longer open (and orders whose creation never came), and complaints responded to
     * (or never created), keyed by their latest instant + closed_retention: ow_state_apply
     * forgets those due (engine.closed_retention); complaints carry TIE_COMPLAINT in the tie */
    ow_timerq forget;
    char **retired; /* ids of forgotten orders that outbox records may still borrow */
    size_t nretired, capretired;
    ow_acks acks;
    ow_alert *outbox;
    size_t nout, capout;
    uint32_t next_seq;
    ow_state_totals totals;
    ow_kpi *kpi;       /* rolling KPIs and their windows (issue 5) */
    ow_heat *heat;     /* what is open where, now */
    ow_flags *flags;   /* root-cause flags (flags.c) */
    ow_crossfacts *xf; /* the other partitions' orders and complaints the pair and cluster flags
                        * read (crossfacts.c); NULL on one node */
};

/* Internal entry points for checkpoint.c. An order/complaint already in its map, with its inputs
 * filled in (lifecycle instants, priority, names), gets its clocks derived, then the saved
 * instance/fired/open of each clock put back, and is scheduled and counted. */
int ow_state_impl_order_restore(ow_state *s, order *o, const clk saved[NSTAGES]);
int ow_state_impl_complaint_restore(ow_state *s, complaint *c, clk saved);
/* A technician loaded from a checkpoint joins the heat gauges. */
int ow_state_impl_tech_restore(ow_state *s, tech *t);

/* A raised flag enters the escalation index at (level, at), or leaves it (level -1); flags.c calls
 * this where a flag is raised, cleared and loaded, with the flag's own position slot. 0 or
 * OW_ENOMEM. */
int ow_state_impl_esc_flag(ow_state *s, void *inst, int32_t *pos, int level, int64_t at);

/* A new record at the end of the outbox (zeroed), for the flags' raises, resolves and acks. */
ow_alert *ow_state_impl_outbox_add(ow_state *s);

#endif

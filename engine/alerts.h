/*
 * alerts — the alert contract (DESIGN §7): ids, levels, JSON, and acknowledgements.
 *
 * An SLA alert's id is stable: "sla:<order_id>:<stage>:<instance>:<pct>" (complaints:
 * "sla:<complaint_id>:complaint:1:<pct>"), so replaying the same events gives the same ids and a
 * restarted engine can never raise the same crossing twice under another name.
 * Open SLA alerts are not stored here: they are the fired-and-not-stopped thresholds of the
 * model's clocks. This module keeps only what cannot be derived: acknowledgements.
 */
#ifndef OW_ALERTS_H
#define OW_ALERTS_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "event.h"
#include "jsonw.h"
#include "map.h"

#define OW_STAGE_COMPLAINT OW_STAGE__ORDER_COUNT /* the complaint clock, after the order stages */
#define OW_ALERT_ID_BUF    (OW_ID_BUF + 64)

typedef enum { OW_ALERT_SLA, OW_ALERT_FLAG } ow_alert_kind;
typedef enum { OW_ALERT_RAISE, OW_ALERT_RESOLVE, OW_ALERT_ACK } ow_alert_op;

/* One alert record as it leaves the engine. Small on purpose (a rainstorm raises hundreds of
 * thousands): the strings are borrowed from the state that produced it and stay valid while that
 * state lives; the id is derived (ow_alert_id). */
typedef struct ow_alert {
    ow_alert_op op;
    ow_alert_kind kind;
    int level;  /* 0 info, 1 dispatcher desk, 2 supervisor, 3 manager */
    int64_t at; /* raise: the crossing instant; resolve: when the stage stopped; ack: when */
    const char *region;  /* borrowed */
    const char *subject; /* sla: order_id or complaint_id; flag: the alert's id. Borrowed */
    int stage;           /* ow_stage or OW_STAGE_COMPLAINT */
    bool complaint;      /* subject is a complaint_id (else an order_id) */
    int instance;
    int pct;
    int64_t target_ms;
    const char *category; /* raises of order stages: the order's category and (effective)
                             priority, for delivery's routing; borrowed, NULL = not given */
    const char *priority;
    const char *flag;     /* flag: its name (DESIGN §5) */
    const char *evidence; /* flag raise: a JSON object {"orders":[…],"techs":[…],…}, borrowed */
    const char *summary; /* flag raise: one line for people, borrowed */
} ow_alert;

/* An acknowledgement: stops re-notification at its level, not the climb to the next level. */
typedef struct ow_ack {
    char by[OW_NAME_BUF];
    int64_t at;
    char note[OW_REASON_BUF];
} ow_ack;

const char *ow_alert_stage_name(int stage);

/* Writes the stable id of an SLA crossing into out (OW_ALERT_ID_BUF bytes). */
void ow_alert_sla_id(char *out, bool complaint, const char *subject, int stage, int instance,
                     int pct);

/* The alert's stable id into out (OW_ALERT_ID_BUF bytes). Flag ids are "flag:<name>:<subject>:<n>"
 * (engine/flags.h). */
void ow_alert_id(const ow_alert *a, char *out);

/* Append an alert's JSON to w; id is its ow_alert_id (the caller often has it already). */
void ow_alert_write(ow_jsonw *w, const ow_alert *a, const ow_ack *ack, const char *id);

/* JSON text of an alert (DESIGN §7 fields; "op" for resolve/ack records). Caller frees with free().
 * ack may be NULL. */
char *ow_alert_format(const ow_alert *a, const ow_ack *ack);

/* Acknowledgements by alert id. */
typedef struct ow_acks {
    ow_map by_id; /* id → ow_ack* (owned) */
} ow_acks;

void ow_acks_init(ow_acks *t);
void ow_acks_fini(ow_acks *t);
const ow_ack *ow_acks_get(const ow_acks *t, const char *id);
/* Record (or replace) an ack. 0 or OW_ENOMEM. */
int ow_acks_put(ow_acks *t, const char *id, const ow_ack *ack);
/* Forget the ack of a resolved alert. */
void ow_acks_remove(ow_acks *t, const char *id);

#endif

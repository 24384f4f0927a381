/*
 * nconfig — delivery's own configuration file (config/notify.json; its path is the setting
 * `notify.config`): receivers, the route tree, grouping and pacing, inhibit rules, templates.
 *
 * Loading is strict like config.c: unknown keys, wrong types, values out of range, a route naming
 * a receiver that does not exist, a template placeholder that does not exist, a pace faster than
 * a chat robot allows — each stops the program with the JSON path:
 *   config/notify.json: route.routes[1].receiver: no receiver named "north-dsk"; receivers: ...
 * docs/delivery.md describes every key.
 *
 * Pure: text in, struct out. Lifecycle: ow_nconfig_parse → ... → ow_nconfig_free.
 */
#ifndef OW_NCONFIG_H
#define OW_NCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "nalert.h"
#include "template.h"

#define OW_RECEIVERS_MAX     64
#define OW_ROUTES_MAX        256
#define OW_ROUTE_DEPTH       8
#define OW_INHIBITS_MAX      32
#define OW_EXEC_ARGS_MAX     32
#define OW_RX_NAME_BUF       64
#define OW_URL_BUF           1024
#define OW_NCONFIG_MAX_BYTES (1024 * 1024)

/* Receiver kinds. X(enum, name, default msgs per minute (0 = no pace), hard limit per minute,
 * longest message text in JSON-escaped bytes). DingTalk and WeCom robots take 20 messages a minute
 * (DESIGN §7; DingTalk blocks the robot for 10 minutes past that), Slack-style webhooks about one a
 * second. The generic kinds' text is for people (the alerts are in the body's list): 16 KiB. */
#define OW_RX_TYPES(X)                                                                             \
    X(WEBHOOK, "webhook", 0, 0, 16384)                                                             \
    X(DINGTALK, "dingtalk", 18, 20, 18000)                                                         \
    X(WECOM, "wecom", 18, 20, 4000)                                                                \
    X(SLACK, "slack", 50, 60, 35000)                                                               \
    X(EXEC, "exec", 0, 0, 16384)                                                                   \
    X(STREAM, "stream", 0, 0, 16384)

typedef enum {
#define OW_RX_ENUM(e, name, rate, limit, bytes) OW_RX_##e,
    OW_RX_TYPES(OW_RX_ENUM)
#undef OW_RX_ENUM
        OW_RX__COUNT
} ow_rx_type;

const char *ow_rx_type_name(ow_rx_type t);

typedef enum { OW_LANG_ZH, OW_LANG_EN, OW_LANG__COUNT } ow_lang;

typedef struct ow_receiver {
    char name[OW_RX_NAME_BUF];
    ow_rx_type type;
    char url[OW_URL_BUF];             /* webhook kinds: http:// or https:// */
    char *argv[OW_EXEC_ARGS_MAX + 1]; /* exec: program and arguments (owned), NULL-terminated */
    int argc;
    ow_lang lang;
    char on_call[256];  /* who acts on these messages, e.g. "北区调度台" */
    int64_t timeout_ms; /* one attempt */
    int attempts;       /* tries before the dead letter, >= 1 */
    int64_t backoff_ms; /* first retry delay; doubles, with jitter */
    int64_t backoff_max_ms;
    int rate_per_min; /* messages a minute at most; 0 = unpaced */
    int max_alerts;   /* alerts listed in one message; the rest are counted */
    size_t max_bytes; /* longest message text for this kind */
    bool idempotent;  /* receiver drops repeats of X-Opswall-Notification-Id: a send
                         interrupted by a crash may be retried after a restart */
} ow_receiver;

typedef struct ow_route {
    char id[64]; /* position in the tree: "0", "0.2", "0.2.1" — part of group keys */
    ow_matcher match;
    int receiver;      /* index into receivers */
    uint32_t group_by; /* bit per ow_label */
    int64_t group_wait_ms, group_interval_ms, repeat_interval_ms;
    bool cont;                     /* after matching, keep trying the next siblings */
    int first_child, next_sibling; /* indices, -1 = none */
} ow_route;

typedef struct ow_inhibit {
    ow_matcher source, target;
    uint32_t equal; /* bit per ow_label that must be equal in source and target */
} ow_inhibit;

/* The wording of one language. Roles and their placeholders: see nconfig.c (template_roles). */
typedef enum {
    OW_TPL_FIRING,         /* title of a message with firing alerts */
    OW_TPL_RESOLVED,       /* title of the "all resolved" message */
    OW_TPL_ALERT,          /* one line per alert */
    OW_TPL_RESOLVED_ALERT, /* one line per alert of a "resolved" message */
    OW_TPL_FLAG,           /* one line per root-cause flag (kind "flag") of a firing message */
    OW_TPL_LATE,           /* fills {{late}} once past the target */
    OW_TPL_DUE,            /* fills {{late}} before the target */
    OW_TPL_ACKED,          /* fills {{who}} when someone acknowledged */
    OW_TPL_UNACKED,        /* fills {{who}} otherwise */
    OW_TPL_MORE,           /* the last line when alerts were left out */
    OW_TPL__COUNT
} ow_tpl_role;

typedef struct ow_nconfig {
    char viewer_url[OW_URL_BUF]; /* links: <viewer_url>#/orders/<order_id> */
    ow_receiver receivers[OW_RECEIVERS_MAX];
    int nreceivers;
    ow_route routes[OW_ROUTES_MAX]; /* routes[0] is the root */
    int nroutes;
    ow_inhibit inhibits[OW_INHIBITS_MAX];
    int ninhibits;
    ow_template *tpl[OW_LANG__COUNT][OW_TPL__COUNT];
} ow_nconfig;

/* Parse. `source` (the file name) prefixes messages. *out owned by the caller. */
int ow_nconfig_parse(const char *text, size_t len, const char *source, ow_nconfig **out,
                     ow_err *err);
void ow_nconfig_free(ow_nconfig *c);

/* Receiver index by name, or -1. */
int ow_nconfig_receiver(const ow_nconfig *c, const char *name);

/* Routes an alert goes to: the deepest matching routes, first match per level unless `continue`
 * (Alertmanager's rule). Writes up to max route indices into out; returns how many. */
int ow_nconfig_route(const ow_nconfig *c, const ow_nalert *a, int *out, int max);

/* Placeholders each template role allows (NULL-terminated). */
const char *const *ow_tpl_vars(ow_tpl_role role);
const char *ow_tpl_role_name(ow_tpl_role role);
const char *ow_lang_name(ow_lang l);

#endif

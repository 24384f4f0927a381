/*
 * render — the words and the bytes of one notification: the text from the receiver's language
 * templates (what, where, how late, who is on it, a link to the order in the viewer) and the
 * request body in the receiver's format:
 *
 *   webhook, exec, stream  {"version":1,"id","status","receiver","group_key","group":{labels},
 *                           "title","text","count","more",
 *                           "alerts":[alert JSON as the engine wrote it, ...],
 *                           "acked":{"<alert id>":"<by>"}}
 *   dingtalk               {"msgtype":"markdown","markdown":{"title","text"}}
 *   wecom                  {"msgtype":"markdown","markdown":{"content"}}
 *   slack                  {"text"}
 *
 * Every size is bounded whatever the group's size (a storm's group holds thousands of alerts, and
 * each message is kept in the send log and may be kept in a stream; issue 9): the text stays under
 * the receiver kind's limit (WeCom 4096 bytes), counting JSON-escaped bytes: alerts that do not
 * fit (or exceed max_alerts) are counted in the "more" line instead of listed, and a text still
 * too long (an outsized title or "more" template) is cut. The generic body's "alerts" lists the
 * most urgent alerts (the order given) while they and their "acked" entries fit in
 * OW_RENDER_LIST_MAX bytes; "count" is every alert of the message, "more" those left out. No body
 * is longer than OW_RENDER_BODY_MAX.
 *
 * Pure: now is an argument.
 */
#ifndef OW_RENDER_H
#define OW_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "nalert.h"
#include "nconfig.h"

#define OW_RENDER_TITLE_MAX 1024       /* escaped bytes of the title (DingTalk shows it whole) */
#define OW_RENDER_LIST_MAX  16384      /* generic body: its "alerts" and "acked" entries, bytes */
#define OW_RENDER_BODY_MAX  (64 << 10) /* any body, bytes; also JSON-escaped, 2x at most */

typedef struct ow_render_in {
    const ow_nconfig *cfg;
    const ow_receiver *rx;
    const char *id; /* notification id */
    const char *group_key;
    const ow_nalert *group_labels; /* an alert of the group: its group_by labels name the group */
    uint32_t group_by;
    bool resolved;                  /* the "all resolved" message */
    const ow_nalert *const *alerts; /* listed, in this order */
    int n;
    int nnew; /* of them, not in an earlier message */
    int64_t now_ms;
} ow_render_in;

/* The body (JSON text) and, in *text, the rendered text; both malloc'd, owned by the caller.
 * *listed (optional): how many of the alerts, the first ones, the message lists (the generic
 * body's "alerts"; the text's lines for the other kinds). NULL on out of memory. */
char *ow_render(const ow_render_in *in, char **text, int *listed);

#endif

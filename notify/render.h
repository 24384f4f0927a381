/*
 * render — the words and the bytes of one notification: the text from the receiver's language
 * templates (what, where, how late, who is on it, a link to the order in the viewer) and the
 * request body in the receiver's format:
 *
 *   webhook, exec, stream  {"version":1,"id","status","receiver","group_key","group":{labels},
 *                           "title","text","alerts":[alert JSON as the engine wrote it, ...],
 *                           "acked":{"<alert id>":"<by>"}}
 *   dingtalk               {"msgtype":"markdown","markdown":{"title","text"}}
 *   wecom                  {"msgtype":"markdown","markdown":{"content"}}
 *   slack                  {"text"}
 *
 * The text stays under the receiver kind's size limit (WeCom 4096 bytes): alerts that do not fit
 * (or exceed max_alerts) are counted in the "more" line instead of listed.
 *
 * Pure: now is an argument.
 */
#ifndef OW_RENDER_H
#define OW_RENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "nalert.h"
#include "nconfig.h"

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
 * NULL on out of memory. */
char *ow_render(const ow_render_in *in, char **text);

#endif

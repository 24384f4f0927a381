/*
 * answer — what ingest tells a producer about each record (TCP ack lines, HTTP results), and the
 * queue of records of one producer whose outcome is still owed.
 *
 * One answer is a JSON object (docs/ingest.md):
 *   {"line":12,"result":"accepted","id":"e-1","stream_id":"1732600000000-0"}
 *   {"line":13,"result":"duplicate","id":"e-1"}
 *   {"line":14,"result":"rejected","reason":"line 14: ...","reject_id":"1732600000001-0"}
 *   {"line":15,"result":"abandoned","id":"e-9"}        (not stored: ingest stopped; send again)
 * Answers come in the order of the records, because the appender completes items in order.
 */
#ifndef OW_INGEST_ANSWER_H
#define OW_INGEST_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "appender.h"
#include "jsonw.h"

/* FIFO of owed answers: the position and the id (or reject reason) of each record, copied. */
typedef struct ow_answers {
    struct ow_owed {
        int64_t pos;
        char *text; /* owned: event id, or reject reason */
        bool rejected;
    } * v;
    size_t cap, head, len;
} ow_answers;

void ow_answers_init(ow_answers *q);
void ow_answers_fini(ow_answers *q);
/* Remember a submitted record (info from ow_appender_submit). OW_OK or OW_ENOMEM. */
int ow_answers_push(ow_answers *q, int64_t pos, const ow_submit_info *info);
/* Write the answer for the oldest owed record (appended to w, no newline) and forget it. */
void ow_answers_pop(ow_answers *q, ow_jsonw *w, const char *unit, ow_result o,
                    const char *stream_id);

#endif

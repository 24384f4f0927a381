#include "answer.h"

#include <stdlib.h>
#include <string.h>

void ow_answers_init(ow_answers *q)
{
    memset(q, 0, sizeof *q);
}

void ow_answers_fini(ow_answers *q)
{
    for (size_t i = 0; i < q->len; i++)
        free(q->v[(q->head + i) % q->cap].text);
    free(q->v);
    memset(q, 0, sizeof *q);
}

int ow_answers_push(ow_answers *q, int64_t pos, const ow_submit_info *info)
{
    if (q->len == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        struct ow_owed *v = malloc(cap * sizeof *v);
        if (!v) return OW_ENOMEM;
        for (size_t i = 0; i < q->len; i++)
            v[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = v;
        q->cap = cap;
        q->head = 0;
    }
    char *text = strdup(info->rejected ? info->reason : info->id);
    if (!text) return OW_ENOMEM;
    q->v[(q->head + q->len) % q->cap] = (struct ow_owed){pos, text, info->rejected};
    q->len++;
    return OW_OK;
}

void ow_answers_pop(ow_answers *q, ow_jsonw *w, const char *unit, ow_result o,
                    const char *stream_id)
{
    if (q->len == 0) return;
    struct ow_owed d = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    ow_jsonw_open(w);
    ow_jsonw_key(w, unit);
    ow_jsonw_int(w, d.pos);
    ow_jsonw_key(w, "result");
    ow_jsonw_str(w, ow_result_name(o));
    ow_jsonw_key(w, d.rejected ? "reason" : "id");
    ow_jsonw_str(w, d.text);
    if (stream_id) {
        ow_jsonw_key(w, d.rejected ? "reject_id" : "stream_id");
        ow_jsonw_str(w, stream_id);
    }
    ow_jsonw_close(w);
    free(d.text);
}

#include "sync_appender.h"

#include <stdbool.h>
#include <stdlib.h>

#include "batch.h"
#include "functions.h"

#define REJECT_KEEP (64 * 1024)

struct ow_sync_appender {
    redisContext *c;
    const ow_config *cfg;
    ow_batch batch;
    bool *is_reject; /* per queued item */
    ow_append_stats st;
};

ow_sync_appender *ow_sync_appender_new(redisContext *c, const ow_config *cfg, ow_err *err)
{
    if (ow_functions_load(c, err)) return NULL;
    ow_sync_appender *s = calloc(1, sizeof *s);
    if (s) s->is_reject = calloc((size_t)cfg->ingest.batch, sizeof *s->is_reject);
    if (!s || !s->is_reject) {
        free(s);
        ow_err_set(err, OW_ENOMEM, "out of memory");
        return NULL;
    }
    s->c = c;
    s->cfg = cfg;
    ow_batch_init(&s->batch);
    ow_batch_start(&s->batch, cfg);
    return s;
}

void ow_sync_appender_free(ow_sync_appender *s)
{
    if (!s) return;
    ow_batch_fini(&s->batch);
    free(s->is_reject);
    free(s);
}

int ow_sync_appender_flush(ow_sync_appender *s, ow_err *err)
{
    size_t n = s->batch.items, len;
    if (n == 0) return OW_OK;
    const char *cmd = ow_batch_command(&s->batch, &len);
    if (!cmd) return ow_err_set(err, OW_ENOMEM, "out of memory");
    redisReply *r = NULL;
    if (redisAppendFormattedCommand(s->c, cmd, len) != REDIS_OK ||
        redisGetReply(s->c, (void **)&r) != REDIS_OK)
        return ow_err_set(err, OW_EREDIS, "appending %zu items: %s", n, s->c->errstr);
    int rc = ow_batch_reply_check(r, n, err);
    for (size_t i = 0; rc == OW_OK && i < n; i++) {
        const char *id;
        if (s->is_reject[i])
            s->st.rejected++;
        else if (ow_batch_reply_item(r, i, &id))
            s->st.accepted++;
        else
            s->st.duplicates++;
    }
    freeReplyObject(r);
    if (rc) return rc; /* the batch stays queued: the caller may flush again */
    ow_batch_start(&s->batch, s->cfg);
    return OW_OK;
}

static int added(ow_sync_appender *s, bool reject, ow_err *err)
{
    s->is_reject[s->batch.items - 1] = reject;
    if (s->batch.items < (size_t)s->cfg->ingest.batch) return OW_OK;
    return ow_sync_appender_flush(s, err);
}

int ow_sync_appender_add(ow_sync_appender *s, const ow_event *ev, const char *raw, size_t len,
                         ow_err *err)
{
    ow_batch_add_event(&s->batch, ev->id, raw, len);
    return added(s, false, err);
}

int ow_sync_appender_reject(ow_sync_appender *s, const char *source, int64_t position,
                            const char *reason, const char *raw, size_t len, ow_err *err)
{
    ow_batch_add_reject(&s->batch, reason, source, position, raw,
                        len < REJECT_KEEP ? len : REJECT_KEEP);
    return added(s, true, err);
}

size_t ow_sync_appender_queued(const ow_sync_appender *s)
{
    return s->batch.items;
}

const ow_append_stats *ow_sync_appender_stats(const ow_sync_appender *s)
{
    return &s->st;
}

#include "appender.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "functions.h"
#include "keys.h"
#include "redis.h"

typedef struct pending {
    char key[sizeof(OW_KEY_DEDUP_PREFIX) + OW_ID_BUF];
    char ts[24];
    const char *type;
    char *raw;
    size_t len;
} pending;

struct ow_appender {
    redisContext *c;
    const ow_config *cfg;
    pending *queue;
    size_t n, cap;
    ow_append_stats stats;
    /* argv scratch for one FCALL, sized for a full batch */
    const char **argv;
    size_t *argvlen;
};

ow_appender *ow_appender_new(redisContext *c, const ow_config *cfg, ow_err *err)
{
    if (ow_functions_load(c, err)) return NULL;
    ow_appender *a = calloc(1, sizeof *a);
    size_t cap = (size_t)cfg->ingest.batch;
    size_t argc =
        6 + cap * 4; /* FCALL name numkeys stream window maxlen; key, ts, type, d per event */
    if (a) {
        a->queue = calloc(cap, sizeof *a->queue);
        a->argv = calloc(argc, sizeof *a->argv);
        a->argvlen = calloc(argc, sizeof *a->argvlen);
    }
    if (!a || !a->queue || !a->argv || !a->argvlen) {
        ow_appender_free(a);
        ow_err_set(err, OW_ENOMEM, "out of memory");
        return NULL;
    }
    a->c = c;
    a->cfg = cfg;
    a->cap = cap;
    return a;
}

void ow_appender_free(ow_appender *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n; i++)
        free(a->queue[i].raw);
    free(a->queue);
    free(a->argv);
    free(a->argvlen);
    free(a);
}

int ow_appender_add(ow_appender *a, const ow_event *ev, const char *raw, size_t len, ow_err *err)
{
    if (a->n == a->cap) {
        int rc = ow_appender_flush(a, err);
        if (rc) return rc;
    }
    pending *p = &a->queue[a->n];
    p->raw = malloc(len + 1);
    if (!p->raw) return ow_err_set(err, OW_ENOMEM, "out of memory");
    memcpy(p->raw, raw, len);
    p->raw[len] = '\0';
    p->len = len;
    snprintf(p->key, sizeof p->key, "%s%s", OW_KEY_DEDUP_PREFIX, ev->id);
    snprintf(p->ts, sizeof p->ts, "%" PRId64, ev->ts_ms);
    p->type = ow_event_type_name(ev->type);
    a->n++;
    return OW_OK;
}

int ow_appender_flush(ow_appender *a, ow_err *err)
{
    if (a->n == 0) return OW_OK;
    char numkeys[24], window[24], maxlen[24];
    snprintf(numkeys, sizeof numkeys, "%zu", a->n + 1);
    snprintf(window, sizeof window, "%" PRId64, a->cfg->ingest.dedup_window_ms);
    snprintf(maxlen, sizeof maxlen, "%" PRId64, a->cfg->streams.events_maxlen);
    size_t k = 0;
#define ARG(s, l) (a->argv[k] = (s), a->argvlen[k] = (l), k++)
    ARG("FCALL", 5);
    ARG(OW_FUNCTION_APPEND, strlen(OW_FUNCTION_APPEND));
    ARG(numkeys, strlen(numkeys));
    ARG(OW_KEY_EVENTS, strlen(OW_KEY_EVENTS));
    for (size_t i = 0; i < a->n; i++)
        ARG(a->queue[i].key, strlen(a->queue[i].key));
    ARG(window, strlen(window));
    ARG(maxlen, strlen(maxlen));
    for (size_t i = 0; i < a->n; i++) {
        ARG(a->queue[i].ts, strlen(a->queue[i].ts));
        ARG(a->queue[i].type, strlen(a->queue[i].type));
        ARG(a->queue[i].raw, a->queue[i].len);
    }
#undef ARG
    redisReply *r = redisCommandArgv(a->c, (int)k, a->argv, a->argvlen);
    int rc = OW_OK;
    if (!r) {
        rc = ow_err_set(err, OW_EREDIS, "appending %zu events: %s", a->n, a->c->errstr);
    } else if (r->type == REDIS_REPLY_ERROR) {
        rc = ow_err_set(err, OW_EREDIS, "appending %zu events: %s", a->n, r->str);
    } else if (r->type != REDIS_REPLY_ARRAY || r->elements != a->n) {
        rc = ow_err_set(err, OW_EREDIS, "appending %zu events: unexpected reply from Redis", a->n);
    } else {
        for (size_t i = 0; i < r->elements; i++) {
            if (r->element[i]->type == REDIS_REPLY_NIL)
                a->stats.duplicates++;
            else
                a->stats.accepted++;
        }
    }
    if (r) freeReplyObject(r);
    if (rc) return rc; /* keep the queue: the caller may retry the same batch */
    for (size_t i = 0; i < a->n; i++)
        free(a->queue[i].raw);
    a->n = 0;
    return OW_OK;
}

int ow_appender_reject(ow_appender *a, const char *source, int64_t position, const char *reason,
                       const char *raw, size_t len, ow_err *err)
{
    static const char cut_mark[] = "...[cut]";
    const size_t keep = 64 * 1024;
    char *shown = NULL;
    if (len > keep) {
        shown = malloc(keep + sizeof cut_mark);
        if (!shown) return ow_err_set(err, OW_ENOMEM, "out of memory");
        memcpy(shown, raw, keep);
        memcpy(shown + keep, cut_mark, sizeof cut_mark);
        raw = shown;
        len = keep + sizeof cut_mark - 1;
    }
    redisReply *r = ow_redis_cmd(a->c, err, "recording a reject",
                                 "XADD %s MAXLEN ~ %lld * reason %s source %s pos %lld raw %b",
                                 OW_KEY_REJECTS, (long long)a->cfg->streams.rejects_maxlen, reason,
                                 source, (long long)position, raw, len);
    free(shown);
    if (!r) return err ? err->code : OW_EREDIS;
    freeReplyObject(r);
    a->stats.rejected++;
    return OW_OK;
}

const ow_append_stats *ow_appender_stats(const ow_appender *a)
{
    return &a->stats;
}

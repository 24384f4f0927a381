#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "log.h"

int ow_store_open(ow_store *s, const ow_redis_env *env, const char *group, const char *consumer,
                  int64_t maxlen, ow_err *err)
{
    memset(s, 0, sizeof *s);
    snprintf(s->group, sizeof s->group, "%s", group);
    snprintf(s->consumer, sizeof s->consumer, "%s", consumer);
    snprintf(s->maxlen, sizeof s->maxlen, "%lld", (long long)maxlen);
    if (!(s->c = ow_redis_connect(env, err))) return OW_EREDIS;
    const char *streams[] = {OW_KEY_ALERTS, OW_KEY_ALERT_CHANGES};
    for (int i = 0; i < 2; i++) {
        redisReply *rep = redisCommand(s->c, "XGROUP CREATE %s %s 0 MKSTREAM", streams[i], group);
        if (!rep)
            return ow_err_set(err, OW_EREDIS, "XGROUP CREATE %s: %s", streams[i], s->c->errstr);
        bool bad = rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "BUSYGROUP", 9) != 0;
        if (bad) ow_err_set(err, OW_EREDIS, "XGROUP CREATE %s: %s", streams[i], rep->str);
        freeReplyObject(rep);
        if (bad) return OW_EREDIS;
    }
    return OW_OK;
}

void ow_store_close(ow_store *s)
{
    if (s->c) redisFree(s->c);
    s->c = NULL;
}

int ow_store_read(ow_store *s, const char *stream, const char *from, int count,
                  ow_store_entry_fn *fn, void *arg, int *got, ow_err *err)
{
    *got = 0;
    redisReply *rep =
        ow_redis_cmd(s->c, err, "XREADGROUP", "XREADGROUP GROUP %s %s COUNT %d STREAMS %s %s",
                     s->group, s->consumer, count, stream, from);
    if (!rep) return OW_EREDIS;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2) {
        const redisReply *entries = rep->element[0]->element[1];
        for (size_t i = 0; i < entries->elements; i++) {
            const redisReply *e = entries->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements != 2) continue;
            const redisReply *fields = e->element[1];
            const char *d = NULL;
            size_t dl = 0;
            /* a pending entry deleted by trimming comes back with nil fields */
            for (size_t k = 0; fields->type == REDIS_REPLY_ARRAY && k + 1 < fields->elements;
                 k += 2)
                if (fields->element[k]->str && strcmp(fields->element[k]->str, "d") == 0)
                    d = fields->element[k + 1]->str, dl = fields->element[k + 1]->len;
            fn(e->element[0]->str, d, d ? dl : 0, arg);
            (*got)++;
        }
    }
    freeReplyObject(rep);
    return OW_OK;
}

/* HGETALL key → fn(field, value) per pair. */
static int hash_each(ow_store *s, const char *key,
                     void (*fn)(const char *k, const char *v, size_t vl, void *arg), void *arg,
                     ow_err *err)
{
    redisReply *rep = ow_redis_cmd(s->c, err, "HGETALL", "HGETALL %s", key);
    if (!rep) return OW_EREDIS;
    for (size_t i = 0; rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2)
        fn(rep->element[i]->str, rep->element[i + 1]->str, rep->element[i + 1]->len, arg);
    freeReplyObject(rep);
    return OW_OK;
}

typedef struct load_ctx {
    ow_groups *g;
    ow_outbox *o;
    ow_store_silence_fn *sil;
    void *arg;
    int bad;
} load_ctx;

static void load_alert(const char *k, const char *v, size_t vl, void *arg)
{
    load_ctx *l = arg;
    ow_err err;
    if (ow_groups_load_alert(l->g, k, v, vl, &err)) l->bad++, ow_warn("%s", err.msg);
}

static void load_group(const char *k, const char *v, size_t vl, void *arg)
{
    load_ctx *l = arg;
    ow_err err;
    if (ow_groups_load_group(l->g, k, v, vl, &err)) l->bad++, ow_warn("%s", err.msg);
}

static void load_silence(const char *k, const char *v, size_t vl, void *arg)
{
    (void)k;
    load_ctx *l = arg;
    l->sil(v, vl, l->arg);
}

int ow_store_load(ow_store *s, ow_groups *g, ow_outbox *o, ow_store_silence_fn *sil, void *arg,
                  ow_err *err)
{
    load_ctx l = {g, o, sil, arg, 0};
    int rc = hash_each(s, OW_KEY_NOTIFY_ALERTS, load_alert, &l, err);
    if (!rc) rc = hash_each(s, OW_KEY_NOTIFY_GROUPS, load_group, &l, err);
    if (!rc) rc = hash_each(s, OW_KEY_NOTIFY_SILENCES, load_silence, &l, err);
    if (rc) return rc;
    /* the send log in creation order (the zset's), so the API lists it in time order */
    redisReply *ids = ow_redis_cmd(s->c, err, "ZRANGE", "ZRANGE %s 0 -1", OW_KEY_NOTIFY_LOG_TIME);
    if (!ids) return OW_EREDIS;
    for (size_t i = 0; ids->type == REDIS_REPLY_ARRAY && i < ids->elements && !rc; i++) {
        redisReply *rec =
            ow_redis_cmd(s->c, err, "HGET", "HGET %s %s", OW_KEY_NOTIFY_LOG, ids->element[i]->str);
        if (!rec) {
            rc = OW_EREDIS;
            break;
        }
        ow_send *send = NULL;
        ow_err lerr;
        if (rec->type == REDIS_REPLY_STRING) {
            if (ow_outbox_load(o, rec->str, rec->len, &send, &lerr))
                ow_warn("notification %s: %s", ids->element[i]->str, lerr.msg);
            else if (send->state == OW_SEND_UNKNOWN && strstr(send->last_error, "outcome unknown"))
                ow_store_save_send(s, o, send, NULL); /* record the verdict (and dead letter) */
        }
        freeReplyObject(rec);
    }
    freeReplyObject(ids);
    if (l.bad) ow_warn("%d stored records could not be restored (see above)", l.bad);
    return rc;
}

void ow_store_begin(ow_store *s)
{
    s->pending = 0;
    s->failed = false;
    if (redisAppendCommand(s->c, "MULTI") != REDIS_OK) s->failed = true;
}

static void append_argv(ow_store *s, int argc, const char **argv)
{
    size_t lens[8];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    if (redisAppendCommandArgv(s->c, argc, argv, lens) != REDIS_OK)
        s->failed = true;
    else
        s->pending++;
}

void ow_store_dirty(char kind, const char *key, const char *json, void *store)
{
    ow_store *s = store;
    const char *hash = kind == 'a' ? OW_KEY_NOTIFY_ALERTS : OW_KEY_NOTIFY_GROUPS;
    if (json) {
        const char *argv[] = {"HSET", hash, key, json};
        append_argv(s, 4, argv);
    } else {
        const char *argv[] = {"HDEL", hash, key};
        append_argv(s, 3, argv);
    }
}

static void queue_send(ow_store *s, const ow_outbox *o, const ow_send *send)
{
    char *rec = ow_send_format(o, send);
    if (!rec) {
        s->failed = true;
        return;
    }
    char score[32];
    snprintf(score, sizeof score, "%lld", (long long)send->created_ms);
    const char *hset[] = {"HSET", OW_KEY_NOTIFY_LOG, send->n.id, rec};
    const char *zadd[] = {"ZADD", OW_KEY_NOTIFY_LOG_TIME, score, send->n.id};
    append_argv(s, 4, hset);
    append_argv(s, 4, zadd);
    if (send->state == OW_SEND_DEAD || send->state == OW_SEND_UNKNOWN) {
        size_t lens[10];
        const char *argv[10] = {"XADD", OW_KEY_NOTIFY_DEAD, "MAXLEN", "~", s->maxlen, "*",
                                "id",   send->n.id,         "d",      rec};
        for (int i = 0; i < 10; i++)
            lens[i] = strlen(argv[i]);
        if (redisAppendCommandArgv(s->c, 10, argv, lens) != REDIS_OK)
            s->failed = true;
        else
            s->pending++;
    }
    free(rec);
}

void ow_store_put_send(ow_store *s, const ow_outbox *o, const ow_send *send)
{
    queue_send(s, o, send);
}

void ow_store_drop_send(const char *id, void *store)
{
    ow_store *s = store;
    const char *hdel[] = {"HDEL", OW_KEY_NOTIFY_LOG, id};
    const char *zrem[] = {"ZREM", OW_KEY_NOTIFY_LOG_TIME, id};
    append_argv(s, 3, hdel);
    append_argv(s, 3, zrem);
}

void ow_store_ack(ow_store *s, const char *stream, const char *entry_id)
{
    const char *argv[] = {"XACK", stream, s->group, entry_id};
    append_argv(s, 4, argv);
}

int ow_store_commit(ow_store *s, ow_err *err)
{
    if (redisAppendCommand(s->c, "EXEC") != REDIS_OK) s->failed = true;
    int rc = s->failed ? ow_err_set(err, OW_ENOMEM, "cannot queue the Redis writes") : OW_OK;
    /* MULTI's +OK, a +QUEUED per command, then EXEC's array */
    for (int i = 0; i < s->pending + 2; i++) {
        redisReply *rep = NULL;
        if (redisGetReply(s->c, (void **)&rep) != REDIS_OK || !rep)
            return ow_err_set(err, OW_EREDIS, "saving delivery state: %s", s->c->errstr);
        if (!rc && rep->type == REDIS_REPLY_ERROR)
            rc = ow_err_set(err, OW_EREDIS, "saving delivery state: %s", rep->str);
        if (!rc && i == s->pending + 1 && rep->type != REDIS_REPLY_ARRAY)
            rc = ow_err_set(err, OW_EREDIS, "saving delivery state: the transaction was aborted");
        freeReplyObject(rep);
    }
    s->pending = 0;
    return rc;
}

int ow_store_save_send(ow_store *s, const ow_outbox *o, const ow_send *send, ow_err *err)
{
    ow_store_begin(s);
    queue_send(s, o, send);
    return ow_store_commit(s, err);
}

int ow_store_notify_stream(ow_store *s, const ow_send *send, ow_err *err)
{
    const char *argv[] = {"XADD", OW_KEY_NOTIFICATIONS, "MAXLEN", "~",         s->maxlen, "*",
                          "id",   send->n.id,           "d",      send->n.body};
    size_t lens[10];
    for (int i = 0; i < 10; i++)
        lens[i] = strlen(argv[i]);
    redisReply *rep = redisCommandArgv(s->c, 10, argv, lens);
    if (!rep) return ow_err_set(err, OW_EREDIS, "XADD %s: %s", OW_KEY_NOTIFICATIONS, s->c->errstr);
    int rc = rep->type == REDIS_REPLY_ERROR
                 ? ow_err_set(err, OW_EREDIS, "XADD %s: %s", OW_KEY_NOTIFICATIONS, rep->str)
                 : OW_OK;
    freeReplyObject(rep);
    return rc;
}

int ow_store_silence_put(ow_store *s, const char *id, const char *json, ow_err *err)
{
    redisReply *rep =
        ow_redis_cmd(s->c, err, "HSET silence", "HSET %s %s %s", OW_KEY_NOTIFY_SILENCES, id, json);
    if (!rep) return OW_EREDIS;
    freeReplyObject(rep);
    return OW_OK;
}

int ow_store_silence_del(ow_store *s, const char *id, ow_err *err)
{
    redisReply *rep =
        ow_redis_cmd(s->c, err, "HDEL silence", "HDEL %s %s", OW_KEY_NOTIFY_SILENCES, id);
    if (!rep) return OW_EREDIS;
    freeReplyObject(rep);
    return OW_OK;
}

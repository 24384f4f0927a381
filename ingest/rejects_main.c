/*
 * opswall-rejects — look at what ingest refused, and send it again after a fix.
 *
 *   opswall-rejects [--config PATH] list [--count N]
 *   opswall-rejects [--config PATH] resubmit [--from FILE | REJECT_ID...]
 *
 * list prints the oldest N rejects of ops:rejects (default 100), one JSON object per line:
 *   {"reject_id":"1732..-0","reason":"line 4: ...","source":"day.ndjson","pos":4,"raw":"{...}"}
 * resubmit sends rejects again through the same validate → de-duplicate → append step as ingest
 * (the ow_ingest Redis Function): all of them, the ids given, or the lines of FILE — the output of
 * list with "raw" corrected by hand (or by a script). A reject whose text is now valid is appended
 * (or found to be a duplicate: it is already in) and removed from ops:rejects; one still invalid
 * stays, and the new reason is printed. Exit status: 0 when nothing stayed invalid, 1 otherwise,
 * 2 on a usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "files.h"
#include "functions.h"
#include "json.h"
#include "jsonw.h"
#include "keys.h"
#include "log.h"
#include "redis.h"
#include "sync_appender.h"

#define PAGE 500

static void usage(FILE *out)
{
    fprintf(out, "usage: opswall-rejects [--config PATH] list [--count N]\n"
                 "       opswall-rejects [--config PATH] resubmit [--from FILE | REJECT_ID...]\n"
                 "  list      print rejects (oldest first) as JSON lines: reject_id, reason,\n"
                 "            source, pos, raw\n"
                 "  resubmit  validate and append them again; the ones now valid leave\n"
                 "            ops:rejects. --from FILE takes list's output with raw corrected.\n");
}

/* A reject entry's field, or "" */
static const char *field(const redisReply *entry, const char *name, size_t *len)
{
    const redisReply *f = entry->element[1];
    for (size_t i = 0; f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2)
        if (f->element[i]->type == REDIS_REPLY_STRING && strcmp(f->element[i]->str, name) == 0 &&
            f->element[i + 1]->type == REDIS_REPLY_STRING) {
            if (len) *len = f->element[i + 1]->len;
            return f->element[i + 1]->str;
        }
    if (len) *len = 0;
    return "";
}

static bool entry_ok(const redisReply *e)
{
    return e->type == REDIS_REPLY_ARRAY && e->elements == 2 &&
           e->element[0]->type == REDIS_REPLY_STRING && e->element[1]->type == REDIS_REPLY_ARRAY;
}

static int list(redisContext *c, long count, ow_err *err)
{
    char from[64] = "-";
    long left = count;
    ow_jsonw w;
    ow_jsonw_init(&w);
    while (left > 0) {
        long page = left < PAGE ? left : PAGE;
        redisReply *r = ow_redis_cmd(c, err, "reading the rejects", "XRANGE %s %s + COUNT %ld",
                                     OW_KEY_REJECTS, from, page);
        if (!r) return OW_EREDIS;
        for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
            const redisReply *e = r->element[i];
            if (!entry_ok(e)) continue;
            size_t rawlen;
            const char *raw = field(e, "raw", &rawlen);
            ow_jsonw_reset(&w);
            ow_jsonw_open(&w);
            ow_jsonw_key(&w, "reject_id");
            ow_jsonw_str(&w, e->element[0]->str);
            ow_jsonw_key(&w, "reason");
            ow_jsonw_str(&w, field(e, "reason", NULL));
            ow_jsonw_key(&w, "source");
            ow_jsonw_str(&w, field(e, "source", NULL));
            ow_jsonw_key(&w, "pos");
            ow_jsonw_int(&w, strtoll(field(e, "pos", NULL), NULL, 10));
            ow_jsonw_key(&w, "raw");
            /* raw text may hold NUL bytes or invalid UTF-8: jsonw escapes what it can print */
            char *copy = strndup(raw, rawlen);
            ow_jsonw_str(&w, copy ? copy : "");
            free(copy);
            ow_jsonw_close(&w);
            if (w.out.p) printf("%s\n", w.out.p);
            snprintf(from, sizeof from, "(%s", e->element[0]->str);
        }
        size_t got = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
        freeReplyObject(r);
        if ((long)got < page) break;
        left -= (long)got;
    }
    ow_jsonw_fini(&w);
    return OW_OK;
}

typedef struct resubmit {
    redisContext *c;
    const ow_config *cfg;
    ow_sync_appender *app;
    char **ids; /* reject ids sent in the current batch, in order */
    size_t nids;
    ow_event ev;
    int64_t invalid;
} resubmit;

/* Send the batch; the rejects now in the stream (appended, or already there) leave ops:rejects. */
static int flush(resubmit *s, ow_err *err)
{
    int rc = ow_sync_appender_flush(s->app, err);
    for (size_t i = 0; rc == OW_OK && i < s->nids; i++) {
        redisReply *d = ow_redis_cmd(s->c, err, "removing a resubmitted reject", "XDEL %s %s",
                                     OW_KEY_REJECTS, s->ids[i]);
        if (!d) rc = OW_EREDIS;
        freeReplyObject(d);
    }
    for (size_t i = 0; i < s->nids; i++)
        free(s->ids[i]);
    s->nids = 0;
    return rc;
}

static int one(resubmit *s, const char *reject_id, const char *raw, size_t len, ow_err *err)
{
    ow_err perr;
    if (ow_event_parse(raw, len, &s->ev, &perr) != OW_OK) {
        fprintf(stderr, "%s: still invalid: %s\n", reject_id, perr.msg);
        s->invalid++;
        return OW_OK;
    }
    s->ids[s->nids] = strdup(reject_id);
    if (!s->ids[s->nids]) return ow_err_set(err, OW_ENOMEM, "out of memory");
    s->nids++;
    /* flush a little before the appender would on its own, so ids and batch stay in step */
    int rc = ow_sync_appender_add(s->app, &s->ev, raw, len, err);
    if (rc == OW_OK && s->nids + 1 >= (size_t)s->cfg->ingest.batch) rc = flush(s, err);
    return rc;
}

/* The reject entries with these ids (all when n == 0). */
static int from_redis(resubmit *s, char **ids, int n, ow_err *err)
{
    char from[64] = "-";
    for (int k = 0; n == 0 || k < n; k++) {
        redisReply *r = n ? ow_redis_cmd(s->c, err, "reading a reject", "XRANGE %s %s %s",
                                         OW_KEY_REJECTS, ids[k], ids[k])
                          : ow_redis_cmd(s->c, err, "reading the rejects",
                                         "XRANGE %s %s + COUNT %d", OW_KEY_REJECTS, from, PAGE);
        if (!r) return OW_EREDIS;
        if (n && (r->type != REDIS_REPLY_ARRAY || r->elements == 0)) {
            fprintf(stderr, "%s: no such reject in %s\n", ids[k], OW_KEY_REJECTS);
            s->invalid++;
        }
        size_t got = r->type == REDIS_REPLY_ARRAY ? r->elements : 0;
        int rc = OW_OK;
        for (size_t i = 0; rc == OW_OK && i < got; i++) {
            const redisReply *e = r->element[i];
            if (!entry_ok(e)) continue;
            size_t len;
            const char *raw = field(e, "raw", &len);
            rc = one(s, e->element[0]->str, raw, len, err);
            snprintf(from, sizeof from, "(%s", e->element[0]->str);
        }
        freeReplyObject(r);
        if (rc) return rc;
        if (!n && got < PAGE) break;
    }
    return flush(s, err);
}

/* Lines of list's output, "raw" corrected. */
static int from_file(resubmit *s, const char *path, ow_err *err)
{
    char *text;
    size_t len;
    if (ow_file_read(path, (size_t)1 << 30, &text, &len, err)) return err->code;
    int rc = OW_OK;
    int64_t lineno = 0;
    for (char *line = text, *next; rc == OW_OK && line < text + len; line = next) {
        char *nl = memchr(line, '\n', (size_t)(text + len - line));
        next = nl ? nl + 1 : text + len;
        size_t n = (size_t)((nl ? nl : text + len) - line);
        lineno++;
        if (n == 0) continue;
        ow_err jerr;
        cJSON *o = ow_json_parse(line, n, 4, &jerr);
        const cJSON *id = o ? ow_json_get(o, "reject_id") : NULL,
                    *raw = o ? ow_json_get(o, "raw") : NULL;
        if (!cJSON_IsString(id) || !cJSON_IsString(raw)) {
            fprintf(stderr,
                    "%s: line %" PRId64 ": expected {\"reject_id\":\"...\",\"raw\":\"...\"} "
                    "as printed by opswall-rejects list%s%s\n",
                    path, lineno, o ? "" : ": ", o ? "" : jerr.msg);
            s->invalid++;
        } else {
            rc = one(s, id->valuestring, raw->valuestring, strlen(raw->valuestring), err);
        }
        cJSON_Delete(o);
    }
    free(text);
    if (rc == OW_OK) rc = flush(s, err);
    return rc;
}

int main(int argc, char **argv)
{
    ow_log_init("rejects", OW_LOG_INFO);
    const char *config = NULL, *cmd = NULL, *from = NULL;
    long count = 100;
    char **ids = calloc((size_t)argc, sizeof *ids);
    int nids = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            free(ids);
            return 0;
        } else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            char *end;
            count = strtol(argv[++i], &end, 10);
            if (*end || count < 1) {
                fprintf(stderr, "opswall-rejects: --count: expected a number >= 1, got \"%s\"\n",
                        argv[i]);
                free(ids);
                return 2;
            }
        } else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc) {
            from = argv[++i];
        } else if (!cmd && (strcmp(argv[i], "list") == 0 || strcmp(argv[i], "resubmit") == 0)) {
            cmd = argv[i];
        } else if (cmd && strcmp(cmd, "resubmit") == 0 && argv[i][0] != '-') {
            ids[nids++] = argv[i];
        } else {
            fprintf(stderr, "opswall-rejects: unexpected argument \"%s\"\n", argv[i]);
            usage(stderr);
            free(ids);
            return 2;
        }
    }
    if (!cmd || (from && nids)) {
        usage(stderr);
        free(ids);
        return 2;
    }
    static ow_config cfg;
    ow_err err;
    ow_err_clear(&err);
    ow_redis_env env;
    int status = 1;
    redisContext *c = NULL;
    if (ow_config_load(&cfg, config, &err) || ow_redis_env_open(&cfg, &env, &err)) {
        ow_error("%s", err.msg);
        free(ids);
        return 2;
    }
    c = ow_redis_connect(&env, &err);
    if (!c) goto out;
    if (strcmp(cmd, "list") == 0) {
        if (list(c, count, &err)) goto out;
        status = 0;
        goto out;
    }
    static resubmit s;
    s.c = c;
    s.cfg = &cfg;
    s.app = ow_sync_appender_new(c, &cfg, &err);
    if (!s.app) goto out;
    s.ids = calloc((size_t)cfg.ingest.batch, sizeof *s.ids);
    int rc = !s.ids ? ow_err_set(&err, OW_ENOMEM, "out of memory")
             : from ? from_file(&s, from, &err)
                    : from_redis(&s, ids, nids, &err);
    const ow_append_stats *st = ow_sync_appender_stats(s.app);
    ow_info("resubmitted: %" PRId64 " accepted, %" PRId64 " duplicates (already in), %" PRId64
            " still invalid (kept)",
            st->accepted, st->duplicates, s.invalid);
    ow_sync_appender_free(s.app);
    free(s.ids);
    if (rc) goto out;
    status = s.invalid ? 1 : 0;
out:
    if (status == 1 && err.msg[0] && err.code) ow_error("%s", err.msg);
    if (c) redisFree(c);
    ow_redis_env_close(&env);
    free(ids);
    return status;
}

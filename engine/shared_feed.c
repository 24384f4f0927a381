#include "shared_feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crossfacts.h"
#include "flags.h"
#include "holding.h"
#include "keys.h"
#include "log.h"
#include "xrecord.h"

#define READ_COUNT 1000
#define WAIT_FOR   15000 /* ms: an sseq whose shared entries never appear is an error */

struct ow_shared_feed {
    ow_cluster *c;
    char last_id[48];         /* the last shared entry applied, "0-0" = none */
    int64_t n;                /* its number */
    int64_t wm;               /* the watermark of the partition entry being applied */
    int64_t applied, records; /* technician/stock events; cross-partition records */
    ow_event ev;
    ow_xrec rec;
    ow_holding hold;
    redisReply *read; /* the last XRANGE's reply: its entries from `next` on are not applied yet */
    size_t next;
};

ow_shared_feed *ow_shared_feed_new(ow_cluster *c)
{
    ow_shared_feed *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->c = c;
    ow_shared_feed_reset(f, NULL);
    return f;
}

/* Entries read ahead belong to the position they were read from. */
static void drop_read(ow_shared_feed *f)
{
    if (f->read) freeReplyObject(f->read);
    f->read = NULL;
    f->next = 0;
}

void ow_shared_feed_free(ow_shared_feed *f)
{
    if (f) drop_read(f);
    free(f);
}

void ow_shared_feed_reset(ow_shared_feed *f, const char *cursor)
{
    drop_read(f);
    snprintf(f->last_id, sizeof f->last_id, "0-0");
    f->n = 0;
    const char *slash = cursor ? strchr(cursor, '/') : NULL;
    if (!slash || (size_t)(slash - cursor) >= sizeof f->last_id) return;
    memcpy(f->last_id, cursor, (size_t)(slash - cursor));
    f->last_id[slash - cursor] = '\0';
    f->n = strtoll(slash + 1, NULL, 10);
}

void ow_shared_feed_cursor(const ow_shared_feed *f, char *out, size_t n)
{
    snprintf(out, n, "%s/%lld", f->last_id, (long long)f->n);
}

int64_t ow_shared_feed_applied(const ow_shared_feed *f)
{
    return f->applied;
}

static const redisReply *field(const redisReply *fields, const char *name)
{
    for (size_t i = 0; fields->type == REDIS_REPLY_ARRAY && i + 1 < fields->elements; i += 2)
        if (fields->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(fields->element[i]->str, name) == 0 &&
            fields->element[i + 1]->type == REDIS_REPLY_STRING)
            return fields->element[i + 1];
    return NULL;
}

static int64_t num(const redisReply *fields, const char *name, int64_t dflt)
{
    const redisReply *v = field(fields, name);
    return v ? strtoll(v->str, NULL, 10) : dflt;
}

static int advance(ow_state *m, int64_t now, ow_err *err)
{
    if (ow_state_advance(m, now) < 0) return ow_err_set(err, OW_ENOMEM, "out of memory");
    return OW_OK;
}

/* One shared entry, as one node applied it: advanced to its watermark, applied, advanced to
 * max(watermark, its instant). Three kinds: a technician or stock event (its JSON object, into
 * the model); another partition's order event as a holding record (core/holding.h, into the
 * technicians' replica: this partition's own come through its stream); a cross-partition record
 * (core/xrecord.h, into the replica of the other partitions' orders and complaints). */
static int apply_shared(ow_shared_feed *f, ow_state *m, const redisReply *e, bool *changed,
                        ow_err *err)
{
    const redisReply *fields = e->element[1], *d = field(fields, "d");
    int64_t wm = num(fields, "wm", 0), n = num(fields, "n", f->n + 1);
    snprintf(f->last_id, sizeof f->last_id, "%s", e->element[0]->str);
    f->n = n;
    if (!d) {
        ow_warn("%s entry %s skipped: no field d", OW_KEY_SHARED, e->element[0]->str);
        return OW_OK;
    }
    enum {
        EVENT,
        HOLDING,
        RECORD
    } kind = ow_holding_is(d->str, d->len) ? HOLDING
             : ow_xrec_is(d->str, d->len)  ? RECORD
                                           : EVENT;
    ow_err perr;
    int bad = kind == HOLDING  ? ow_holding_parse(d->str, d->len, &f->hold, &perr)
              : kind == RECORD ? ow_xrec_decode(d->str, d->len, &f->rec, &perr)
                               : ow_event_parse(d->str, d->len, &f->ev, &perr);
    if (bad) {
        ow_warn("%s entry %s skipped: %s", OW_KEY_SHARED, e->element[0]->str, perr.msg);
        return OW_OK;
    }
    if (kind == HOLDING && !ow_flags_holding_remote(m, &f->hold)) return OW_OK;
    int rc = advance(m, wm, err);
    if (rc) return rc;
    int ch = kind == HOLDING  ? (ow_flags_holding(m, &f->hold, wm) < 0 ? -1 : 1)
             : kind == RECORD ? ow_crossfacts_apply(m, &f->rec, wm)
                              : ow_state_apply(m, &f->ev);
    if (ch < 0) return ow_err_set(err, OW_ENOMEM, "out of memory");
    if (ch) *changed = true;
    if (kind == EVENT)
        f->applied++;
    else
        f->records++;
    int64_t ts = kind == HOLDING ? f->hold.ts_ms : kind == RECORD ? f->rec.ts_ms : f->ev.ts_ms;
    return advance(m, ts > wm ? ts : wm, err);
}

/* Apply shared entries until entry number `upto` is in. The entries of a read past `upto` are
 * kept for the next call: a partition entry usually needs one or two more shared entries (an
 * order event's holding record, a few technician reports), and reading 1,000 each time to use
 * one cost more than applying them. */
static int catch_up(ow_shared_feed *f, ow_state *m, int64_t upto, bool *changed, ow_err *err)
{
    int64_t deadline = ow_clock_mono_ms() + WAIT_FOR;
    while (f->n < upto) {
        if (f->read && f->next < f->read->elements) {
            int rc = apply_shared(f, m, f->read->element[f->next++], changed, err);
            if (rc) return rc;
            continue;
        }
        drop_read(f);
        redisReply *rep =
            ow_cluster_cmd(f->c, err, "XRANGE shared", OW_KEY_SHARED, "XRANGE %s (%s + COUNT %d",
                           OW_KEY_SHARED, f->last_id, READ_COUNT);
        if (!rep) return OW_EREDIS;
        size_t got = rep->type == REDIS_REPLY_ARRAY ? rep->elements : 0;
        if (got) {
            f->read = rep;
            continue;
        }
        freeReplyObject(rep);
        if (f->n < upto) {
            /* ingest writes the shared entries before the partition entries that name them;
             * a gap means they are still in flight, or the stream was trimmed past them */
            if (ow_clock_mono_ms() > deadline)
                return ow_err_set(err, OW_ETIMEOUT,
                                  "%s: entry %lld is named by a partition entry but is not in "
                                  "the stream after %s (trimmed by streams.events_maxlen?)",
                                  OW_KEY_SHARED, (long long)upto, f->last_id);
            ow_sleep_ms(5);
        }
    }
    return OW_OK;
}

int ow_shared_feed_before(ow_shared_feed *f, ow_state *m, const redisReply *fields, bool *tick,
                          bool *changed, ow_err *err)
{
    const redisReply *t = field(fields, "tick");
    *tick = t != NULL;
    int64_t sseq = num(fields, "sseq", -1);
    f->wm = t ? strtoll(t->str, NULL, 10) : num(fields, "wm", 0);
    if (sseq > f->n) {
        int rc = catch_up(f, m, sseq, changed, err);
        if (rc) return rc;
    }
    return advance(m, f->wm, err);
}

int ow_shared_feed_after(ow_shared_feed *f, ow_state *m, int64_t ts_ms, ow_err *err)
{
    return advance(m, ts_ms > f->wm ? ts_ms : f->wm, err);
}

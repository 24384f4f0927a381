#include "partials.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "keys.h"
#include "log.h"
#include "merge.h"

typedef struct partial {
    char key[OW_PARTITION_KEY_MAX];
    char *text;  /* the key's value when last read, owned */
    cJSON *snap; /* parsed, owned; NULL = none (or refused) */
    int64_t changed_ms;
    bool stale; /* as in the last merge */
} partial;

struct ow_partials {
    int n;
    const ow_partition_table *owners;
    int64_t stale_ms;
    int64_t seq;
    int64_t merged_ms; /* mono time of the last merge */
    bool merged_once;
    ow_cluster_batch *batch; /* the GETs of one read, kept between reads */
    partial v[];
};

ow_partials *ow_partials_new(int n, const ow_partition_table *owners, int64_t stale_ms)
{
    if (n < 1 || n > OW_PARTITIONS_MAX) return NULL;
    ow_partials *ps = calloc(1, sizeof *ps + (size_t)n * sizeof ps->v[0]);
    if (!ps) return NULL;
    ps->n = n;
    ps->owners = owners;
    ps->stale_ms = stale_ms;
    for (int p = 0; p < n; p++) {
        ow_partition_rekey(ps->v[p].key, sizeof ps->v[p].key, p, OW_KEY_SNAPSHOT);
        ps->v[p].stale = true;
    }
    return ps;
}

void ow_partials_free(ow_partials *ps)
{
    if (!ps) return;
    for (int p = 0; p < ps->n; p++) {
        free(ps->v[p].text);
        cJSON_Delete(ps->v[p].snap);
    }
    ow_cluster_batch_free(ps->batch);
    free(ps);
}

/* A new value of partition p's key. True when the held partial changed. */
static bool take(ow_partials *ps, int p, const char *s, size_t len, int64_t now_ms)
{
    partial *pt = &ps->v[p];
    if (pt->text && strlen(pt->text) == len && memcmp(pt->text, s, len) == 0) return false;
    char *text = malloc(len + 1);
    if (!text) return false;
    memcpy(text, s, len);
    text[len] = '\0';
    free(pt->text);
    pt->text = text;
    pt->changed_ms = now_ms;
    cJSON_Delete(pt->snap);
    ow_err err;
    pt->snap = ow_json_parse(text, len, OW_JSON_MAX_DEPTH, &err);
    if (!pt->snap) ow_warn("%s: not a snapshot (%s); left out of the picture", pt->key, err.msg);
    return true;
}

static cJSON *merge(ow_partials *ps, int64_t now_ms, ow_err *err)
{
    ow_merge_part *in = calloc((size_t)ps->n, sizeof *in);
    if (!in) {
        ow_err_set(err, OW_ENOMEM, "out of memory");
        return NULL;
    }
    for (int p = 0; p < ps->n; p++) {
        partial *pt = &ps->v[p];
        in[p] = (ow_merge_part){.snap = pt->snap,
                                .age_ms = pt->snap ? now_ms - pt->changed_ms : 0,
                                .stale = !pt->snap || now_ms - pt->changed_ms > ps->stale_ms};
        pt->stale = in[p].stale;
    }
    cJSON *m = NULL;
    for (int tries = 0; tries <= ps->n && !m; tries++) {
        m = ow_merge_build(in, ps->n, ps->owners, ps->seq + 1, err);
        int bad;
        if (m || err->code != OW_EINVAL ||
            sscanf(err->msg, "partial snapshot of partition %d", &bad) != 1 || bad < 0 ||
            bad >= ps->n)
            break;
        ow_warn("%s; partition %d left out until its snapshot changes", err->msg, bad);
        cJSON_Delete(ps->v[bad].snap);
        ps->v[bad].snap = NULL;
        in[bad].snap = NULL;
        in[bad].stale = ps->v[bad].stale = true;
    }
    free(in);
    if (m) ps->seq++;
    return m;
}

int ow_partials_read(ow_partials *ps, ow_cluster *c, int64_t now_ms, cJSON **merged, ow_err *err)
{
    *merged = NULL;
    if (!ps->batch && !(ps->batch = ow_cluster_batch_new()))
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    ow_cluster_batch_reset(ps->batch);
    for (int p = 0; p < ps->n; p++)
        if (ow_cluster_batch_addf(ps->batch, ps->v[p].key, "GET %s", ps->v[p].key) < 0)
            return ow_err_set(err, OW_ENOMEM, "out of memory");
    int rc = ow_cluster_batch_exec(c, ps->batch, err);
    if (rc) {
        ow_err_prefix(err, "reading the partitions' snapshots");
        return OW_EREDIS;
    }
    bool changed = false;
    for (int p = 0; p < ps->n; p++) {
        const redisReply *r = ow_cluster_batch_reply(ps->batch, p);
        if (r && r->type == REDIS_REPLY_STRING) changed |= take(ps, p, r->str, r->len, now_ms);
    }
    /* staleness moves with time: a change of it, or a stale partition's age, re-merges */
    for (int p = 0; p < ps->n && !changed; p++) {
        const partial *pt = &ps->v[p];
        bool stale = !pt->snap || now_ms - pt->changed_ms > ps->stale_ms;
        changed = stale != pt->stale || (stale && pt->snap && now_ms - ps->merged_ms >= 1000);
    }
    if (!changed && ps->merged_once) return 0;
    *merged = merge(ps, now_ms, err);
    if (!*merged) return err->code == OW_ENOTFOUND ? OW_ENOTFOUND : err->code;
    ps->merged_once = true;
    ps->merged_ms = now_ms;
    return 1;
}

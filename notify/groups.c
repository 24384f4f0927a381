#include "groups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonw.h"
#include "render.h"

#define NEVER INT64_MAX

typedef struct entry {
    ow_nalert *a;
    int refs; /* groups listing it */
} entry;

typedef struct member {
    char *id;
    bool notified; /* listed in a message of this group already */
} member;

typedef struct group {
    char *key;
    int route;
    member *m;
    int n, cap;
    int64_t created_ms, next_ms, last_sent_ms;
    uint32_t seq;
    uint64_t sent_hash; /* of the alert set of the last firing message */
    bool sent_firing;
} group;

struct ow_groups {
    const ow_nconfig *cfg;
    ow_map alerts; /* id → entry* */
    ow_map groups; /* key → group* */
    ow_map dirty_a, dirty_g;
    ow_groups_stats st;
};

void ow_notice_fini(ow_notice *n)
{
    free(n->group_key);
    for (int i = 0; i < n->nalerts; i++)
        free(n->alert_ids[i]);
    free(n->alert_ids);
    free(n->text);
    free(n->body);
    memset(n, 0, sizeof *n);
}

ow_groups *ow_groups_new(const ow_nconfig *cfg)
{
    ow_groups *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->cfg = cfg;
    ow_map_init(&g->alerts);
    ow_map_init(&g->groups);
    ow_map_init(&g->dirty_a);
    ow_map_init(&g->dirty_g);
    return g;
}

static void group_free(group *gr)
{
    if (!gr) return;
    for (int i = 0; i < gr->n; i++)
        free(gr->m[i].id);
    free(gr->m);
    free(gr->key);
    free(gr);
}

void ow_groups_free(ow_groups *g)
{
    if (!g) return;
    size_t pos = 0;
    void *v;
    while (ow_map_next(&g->alerts, &pos, NULL, &v)) {
        ow_nalert_free(((entry *)v)->a);
        free(v);
    }
    pos = 0;
    while (ow_map_next(&g->groups, &pos, NULL, &v))
        group_free(v);
    ow_map_fini(&g->alerts);
    ow_map_fini(&g->groups);
    ow_map_fini(&g->dirty_a);
    ow_map_fini(&g->dirty_g);
    free(g);
}

static int mark(ow_map *dirty, const char *key)
{
    return ow_map_put(dirty, key, (void *)1);
}

static void entry_unref(ow_groups *g, const char *id)
{
    entry *e = ow_map_get(&g->alerts, id);
    if (!e || --e->refs > 0) return;
    mark(&g->dirty_a, id);
    ow_map_take(&g->alerts, id);
    ow_nalert_free(e->a);
    free(e);
}

static void group_remove(ow_groups *g, group *gr)
{
    mark(&g->dirty_g, gr->key);
    ow_map_take(&g->groups, gr->key);
    for (int i = 0; i < gr->n; i++)
        entry_unref(g, gr->m[i].id);
    group_free(gr);
}

static int group_key(const ow_groups *g, int route, const ow_nalert *a, char *out, size_t n)
{
    const ow_route *r = &g->cfg->routes[route];
    int used = snprintf(out, n, "%s", r->id);
    for (int l = 0; l < OW_LBL__COUNT && used > 0 && (size_t)used < n; l++)
        if (r->group_by & (1u << l))
            used += snprintf(out + used, n - (size_t)used, "|%s=%s", ow_label_name((ow_label)l),
                             a->label[l]);
    return used > 0 && (size_t)used < n ? 0 : -1;
}

static int member_add(group *gr, const char *id, bool notified)
{
    if (gr->n == gr->cap) {
        int cap = gr->cap ? gr->cap * 2 : 8;
        member *m = realloc(gr->m, (size_t)cap * sizeof *m);
        if (!m) return OW_ENOMEM;
        gr->m = m;
        gr->cap = cap;
    }
    char *copy = strdup(id);
    if (!copy) return OW_ENOMEM;
    gr->m[gr->n++] = (member){copy, notified};
    return OW_OK;
}

/* Something changed in a group: when may it speak next? */
static void group_touch(ow_groups *g, group *gr, int64_t now_ms)
{
    const ow_route *r = &g->cfg->routes[gr->route];
    int64_t when = gr->last_sent_ms ? gr->last_sent_ms + r->group_interval_ms
                                    : gr->created_ms + r->group_wait_ms;
    if (when < now_ms) when = now_ms;
    if (when < gr->next_ms) gr->next_ms = when;
    mark(&g->dirty_g, gr->key);
}

int ow_groups_add(ow_groups *g, ow_nalert *a, int64_t now_ms)
{
    if (ow_map_get(&g->alerts, a->id)) {
        g->st.duplicates++;
        ow_nalert_free(a);
        return OW_OK;
    }
    entry *e = calloc(1, sizeof *e);
    if (!e || ow_map_put(&g->alerts, a->id, e)) {
        free(e);
        ow_nalert_free(a);
        return OW_ENOMEM;
    }
    e->a = a;
    g->st.added++;
    mark(&g->dirty_a, a->id);
    int routes[OW_ROUTES_MAX];
    int nr = ow_nconfig_route(g->cfg, a, routes, OW_ROUTES_MAX);
    for (int i = 0; i < nr; i++) {
        char key[2048];
        if (group_key(g, routes[i], a, key, sizeof key)) continue; /* labels too long: cannot be */
        group *gr = ow_map_get(&g->groups, key);
        if (!gr) {
            gr = calloc(1, sizeof *gr);
            if (!gr || !(gr->key = strdup(key)) || ow_map_put(&g->groups, key, gr)) {
                group_free(gr);
                return OW_ENOMEM;
            }
            gr->route = routes[i];
            gr->created_ms = now_ms;
            gr->next_ms = NEVER;
        }
        if (member_add(gr, a->id, false)) return OW_ENOMEM;
        e->refs++;
        group_touch(g, gr, now_ms);
    }
    if (e->refs == 0) entry_unref(g, a->id), e = NULL; /* routed nowhere (cannot happen) */
    return OW_OK;
}

int ow_groups_change(ow_groups *g, const ow_nchange *ch, int64_t now_ms)
{
    entry *e = ow_map_get(&g->alerts, ch->id);
    if (!e) {
        g->st.unknown_changes++;
        return OW_OK;
    }
    g->st.changes++;
    mark(&g->dirty_a, ch->id);
    if (ch->op == OW_CHANGE_ACK) {
        char *by = strdup(ch->by);
        if (!by) return OW_ENOMEM;
        free(e->a->ack_by);
        e->a->ack_by = by;
        return OW_OK; /* stops repeats; needs no message of its own */
    }
    if (e->a->resolved) return OW_OK;
    e->a->resolved = true;
    e->a->resolved_ms = ch->at_ms;
    /* A member never announced leaves its group at once: no message will list it (a group's
     * "resolved" message lists announced alerts only). An announced one stays until the group's
     * next message or its end. So a group holds its open alerts and those its last message
     * listed, however long it stays quiet (issue 9's soak: inhibited groups kept every alert). */
    size_t pos = 0;
    void *v;
    while (ow_map_next(&g->groups, &pos, NULL, &v)) {
        group *gr = v;
        for (int i = 0; i < gr->n; i++) {
            if (strcmp(gr->m[i].id, ch->id) != 0) continue;
            if (!gr->m[i].notified) {
                free(gr->m[i].id);
                memmove(&gr->m[i], &gr->m[i + 1], (size_t)(gr->n - i - 1) * sizeof *gr->m);
                gr->n--;
                entry_unref(g, ch->id); /* may free e: not used below */
            }
            group_touch(g, gr, now_ms);
            break;
        }
    }
    return OW_OK;
}

int64_t ow_groups_next_ms(const ow_groups *g)
{
    int64_t next = NEVER;
    size_t pos = 0;
    void *v;
    while (ow_map_next(&g->groups, &pos, NULL, &v))
        if (((group *)v)->next_ms < next) next = ((group *)v)->next_ms;
    return next;
}

/* ---- flush ----------------------------------------------------------------------------------- */

typedef struct flush_ctx {
    ow_groups *g;
    int64_t now;
    ow_silence *const *sil;
    int nsil;
    ow_map sources; /* "<rule>|<equal label values>" → how many open source alerts have it */
} flush_ctx;

/* The key an alert has under an inhibit rule: the rule and its `equal` labels' values. */
static void inhibit_key(const ow_inhibit *in, int rule, const ow_nalert *a, ow_buf *out)
{
    char head[16];
    int n = snprintf(head, sizeof head, "%d", rule);
    ow_buf_put(out, head, (size_t)n);
    for (int l = 0; l < OW_LBL__COUNT; l++) {
        if (!(in->equal & (1u << l))) continue;
        ow_buf_put(out, "\x1f", 1);
        ow_buf_put(out, a->label[l], strlen(a->label[l]));
    }
}

static bool silenced(const flush_ctx *f, const ow_nalert *a)
{
    for (int i = 0; i < f->nsil; i++)
        if (ow_silence_covers(f->sil[i], a, f->now)) return true;
    return false;
}

/* Inhibited: some rule's target matches t and an open source alert of that rule (other than t)
 * has the same `equal` values. One map lookup per rule: a rainstorm has thousands of each. */
static bool inhibited(const flush_ctx *f, const ow_nalert *t)
{
    const ow_nconfig *c = f->g->cfg;
    bool hit = false;
    for (int r = 0; r < c->ninhibits && !hit; r++) {
        const ow_inhibit *in = &c->inhibits[r];
        if (!ow_matcher_match(&in->target, t)) continue;
        ow_buf key;
        ow_buf_init(&key);
        inhibit_key(in, r, t, &key);
        uintptr_t count = key.p ? (uintptr_t)ow_map_get(&f->sources, key.p) : 0;
        /* t itself counts when it is a source of this rule too (and is open and unsilenced) */
        if (count && !t->resolved && ow_matcher_match(&in->source, t) && !silenced(f, t)) count--;
        hit = count > 0;
        ow_buf_fini(&key);
    }
    return hit;
}

static int cmp_alert(const void *x, const void *y)
{
    const ow_nalert *a = *(const ow_nalert *const *)x, *b = *(const ow_nalert *const *)y;
    if (a->level != b->level) return b->level - a->level;
    if (a->at_ms != b->at_ms) return a->at_ms < b->at_ms ? -1 : 1;
    return strcmp(a->id, b->id);
}

static int make_notice(flush_ctx *f, group *gr, bool resolved, const ow_nalert **list, int n,
                       int nnew, ow_notice *out)
{
    ow_groups *g = f->g;
    const ow_route *r = &g->cfg->routes[gr->route];
    memset(out, 0, sizeof *out);
    gr->seq++;
    snprintf(out->id, sizeof out->id, "%016llx-%lld-%u",
             (unsigned long long)ow_hash(gr->key, strlen(gr->key)), (long long)gr->created_ms,
             gr->seq);
    out->receiver = r->receiver;
    out->resolved = resolved;
    out->at_ms = f->now;
    qsort(list, (size_t)n, sizeof *list, cmp_alert);
    ow_render_in in = {.cfg = g->cfg,
                       .rx = &g->cfg->receivers[r->receiver],
                       .id = out->id,
                       .group_key = gr->key,
                       .group_labels = list[0],
                       .group_by = r->group_by,
                       .resolved = resolved,
                       .alerts = list,
                       .n = n,
                       .nnew = nnew,
                       .now_ms = f->now};
    int listed = 0;
    out->body = ow_render(&in, &out->text, &listed);
    out->group_key = strdup(gr->key);
    out->alert_ids = calloc((size_t)listed + 1, sizeof *out->alert_ids);
    out->count = n;
    if (!out->body || !out->group_key || !out->alert_ids) {
        ow_notice_fini(out);
        return OW_ENOMEM;
    }
    /* the ids the message lists, as far as they fit: the record of a storm's message stays
     * small (issue 9: records of 100-200 KiB, every alert id and the whole body) */
    for (size_t used = 0; out->nalerts < listed; out->nalerts++) {
        const char *id = list[out->nalerts]->id;
        used += ow_jsonw_str_len(id, strlen(id)) + 3;
        if (used > OW_NOTICE_IDS_MAX) break;
        if (!(out->alert_ids[out->nalerts] = strdup(id))) {
            ow_notice_fini(out);
            return OW_ENOMEM;
        }
    }
    g->st.notices++;
    return OW_OK;
}

static int push_notice(ow_notice **out, int *n, const ow_notice *nt)
{
    ow_notice *v = realloc(*out, (size_t)(*n + 1) * sizeof *v);
    if (!v) return OW_ENOMEM;
    *out = v;
    v[(*n)++] = *nt;
    return OW_OK;
}

/* Decide one due group. May remove it (then *gone). */
static int decide(flush_ctx *f, group *gr, ow_notice **out, int *nout, bool *gone)
{
    ow_groups *g = f->g;
    const ow_route *r = &g->cfg->routes[gr->route];
    const ow_nalert **firing = calloc((size_t)gr->n + 1, sizeof *firing);
    const ow_nalert **done = calloc((size_t)gr->n + 1, sizeof *done);
    int *fidx = calloc((size_t)gr->n + 1, sizeof *fidx); /* member index of each firing alert */
    int nf = 0, nd = 0, nnew = 0, open = 0, unacked = 0, rc = OW_OK;
    uint64_t hash = 0;
    *gone = false;
    if (!firing || !done || !fidx) {
        free(firing);
        free(done);
        free(fidx);
        return OW_ENOMEM;
    }
    for (int i = 0; i < gr->n; i++) {
        const entry *e = ow_map_get(&g->alerts, gr->m[i].id);
        if (!e) continue;
        const ow_nalert *a = e->a;
        if (a->resolved) {
            if (gr->m[i].notified) done[nd++] = a;
            continue;
        }
        open++;
        if (silenced(f, a) || inhibited(f, a)) continue;
        fidx[nf] = i;
        firing[nf++] = a;
        nnew += !gr->m[i].notified;
        unacked += !a->ack_by;
        hash += ow_hash(a->id, strlen(a->id)) | 1;
    }
    ow_notice nt;
    bool sent = false;
    /* news is an alert not announced yet (or one a silence or an inhibition held back); an alert
     * leaving the group is not news — the group's end is, in its "resolved" message */
    bool repeat_due = unacked && f->now >= gr->last_sent_ms + r->repeat_interval_ms;
    if (nf && (nnew > 0 || repeat_due)) {
        if (!(rc = make_notice(f, gr, false, firing, nf, nnew, &nt)))
            rc = push_notice(out, nout, &nt);
        if (!rc) {
            sent = true;
            gr->sent_firing = true;
            gr->sent_hash = hash;
            for (int k = 0; k < nf; k++)
                gr->m[fidx[k]].notified = true;
        }
    } else if (!open && gr->sent_firing && nd) {
        if (!(rc = make_notice(f, gr, true, done, nd, 0, &nt))) rc = push_notice(out, nout, &nt);
        if (!rc) {
            group_remove(g, gr);
            *gone = true;
        }
    } else if (!open) {
        group_remove(g, gr); /* all resolved before anything was said, or said already */
        *gone = true;
    }
    free(firing);
    free(done);
    free(fidx);
    if (rc || *gone) return rc;
    /* Resolved members no message will list are done with: after a message the announced ones
     * too (it showed them no longer open; a group's last alerts are listed in its "resolved"
     * message instead). Never-announced ones left at their resolve (ow_groups_change); this also
     * drops those of a group saved by an earlier version. */
    int k = 0;
    for (int i = 0; i < gr->n; i++) {
        const entry *e = ow_map_get(&g->alerts, gr->m[i].id);
        if (e && (!e->a->resolved || (gr->m[i].notified && !sent))) {
            gr->m[k++] = gr->m[i];
            continue;
        }
        if (e) entry_unref(g, gr->m[i].id);
        free(gr->m[i].id);
    }
    gr->n = k;
    if (sent) gr->last_sent_ms = f->now;
    /* next look: the repeat when something was said; after group_interval when silences or
     * inhibitions kept it quiet (they may end) */
    gr->next_ms = sent ? f->now + r->repeat_interval_ms
                  : nf ? gr->last_sent_ms + r->repeat_interval_ms
                       : f->now + r->group_interval_ms;
    if (gr->next_ms <= f->now) gr->next_ms = f->now + r->group_interval_ms;
    mark(&g->dirty_g, gr->key);
    return OW_OK;
}

typedef struct due {
    group *gr;
} due;

static int cmp_due(const void *x, const void *y)
{
    const group *a = ((const due *)x)->gr, *b = ((const due *)y)->gr;
    if (a->next_ms != b->next_ms) return a->next_ms < b->next_ms ? -1 : 1;
    return strcmp(a->key, b->key);
}

int ow_groups_flush(ow_groups *g, int64_t now_ms, ow_silence *const *silences, int nsilences,
                    ow_notice **out, int *n)
{
    size_t pos = 0, ndue = 0;
    void *v;
    while (ow_map_next(&g->groups, &pos, NULL, &v))
        ndue += ((group *)v)->next_ms <= now_ms;
    if (!ndue) return OW_OK;
    due *d = calloc(ndue, sizeof *d);
    flush_ctx f = {.g = g, .now = now_ms, .sil = silences, .nsil = nsilences};
    ow_map_init(&f.sources);
    if (!d) return OW_ENOMEM;
    size_t k = 0;
    pos = 0;
    while (ow_map_next(&g->groups, &pos, NULL, &v))
        if (((group *)v)->next_ms <= now_ms) d[k++].gr = v;
    qsort(d, ndue, sizeof *d, cmp_due);
    int rc = OW_OK;
    pos = 0;
    while (g->cfg->ninhibits && !rc && ow_map_next(&g->alerts, &pos, NULL, &v)) {
        const ow_nalert *a = ((entry *)v)->a;
        if (a->resolved) continue;
        bool checked = false, quiet = false;
        for (int r = 0; r < g->cfg->ninhibits && !rc; r++) {
            const ow_inhibit *in = &g->cfg->inhibits[r];
            if (!ow_matcher_match(&in->source, a)) continue;
            if (!checked) quiet = silenced(&f, a), checked = true; /* a silenced source is quiet */
            if (quiet) break;
            ow_buf key;
            ow_buf_init(&key);
            inhibit_key(in, r, a, &key);
            uintptr_t count = key.p ? (uintptr_t)ow_map_get(&f.sources, key.p) : 0;
            if (key.oom || !key.p || ow_map_put(&f.sources, key.p, (void *)(count + 1)))
                rc = OW_ENOMEM;
            ow_buf_fini(&key);
        }
    }
    for (size_t i = 0; i < ndue && !rc; i++) {
        bool gone;
        rc = decide(&f, d[i].gr, out, n, &gone);
    }
    free(d);
    ow_map_fini(&f.sources);
    return rc;
}

/* ---- persistence ----------------------------------------------------------------------------- */

static char *alert_state(const entry *e)
{
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "d");
    ow_jsonw_str(&w, e->a->json);
    ow_jsonw_key(&w, "resolved");
    ow_jsonw_int(&w, e->a->resolved ? e->a->resolved_ms : -1);
    if (e->a->ack_by) {
        ow_jsonw_key(&w, "ack_by");
        ow_jsonw_str(&w, e->a->ack_by);
    }
    ow_jsonw_close(&w);
    return ow_jsonw_take(&w);
}

static char *group_state(const ow_groups *g, const group *gr)
{
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)gr->sent_hash);
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "route");
    ow_jsonw_str(&w, g->cfg->routes[gr->route].id);
    ow_jsonw_key(&w, "created");
    ow_jsonw_int(&w, gr->created_ms);
    ow_jsonw_key(&w, "next");
    ow_jsonw_int(&w, gr->next_ms == NEVER ? -1 : gr->next_ms);
    ow_jsonw_key(&w, "last_sent");
    ow_jsonw_int(&w, gr->last_sent_ms);
    ow_jsonw_key(&w, "seq");
    ow_jsonw_int(&w, gr->seq);
    ow_jsonw_key(&w, "hash");
    ow_jsonw_str(&w, hash);
    ow_jsonw_key(&w, "sent");
    ow_jsonw_int(&w, gr->sent_firing);
    ow_jsonw_key(&w, "m");
    ow_jsonw_raw(&w, "[");
    for (int i = 0; i < gr->n; i++) {
        ow_jsonw_raw(&w, i ? ",[" : "[");
        ow_jsonw_str(&w, gr->m[i].id);
        ow_jsonw_raw(&w, gr->m[i].notified ? ",1]" : ",0]");
    }
    ow_jsonw_raw(&w, "]");
    w.need_comma = true;
    ow_jsonw_close(&w);
    return ow_jsonw_take(&w);
}

int ow_groups_take_dirty(ow_groups *g, ow_groups_record_fn *fn, void *arg)
{
    int rc = OW_OK;
    for (int pass = 0; pass < 2; pass++) {
        ow_map *dirty = pass ? &g->dirty_g : &g->dirty_a;
        size_t pos = 0;
        const char *key;
        while (ow_map_next(dirty, &pos, &key, NULL)) {
            char *json = NULL;
            if (pass == 0) {
                const entry *e = ow_map_get(&g->alerts, key);
                if (e && !(json = alert_state(e))) rc = OW_ENOMEM;
                fn('a', key, e ? json : NULL, arg);
            } else {
                const group *gr = ow_map_get(&g->groups, key);
                if (gr && !(json = group_state(g, gr))) rc = OW_ENOMEM;
                fn('g', key, gr ? json : NULL, arg);
            }
            free(json);
        }
        ow_map_fini(dirty);
        ow_map_init(dirty);
    }
    return rc;
}

int ow_groups_load_alert(ow_groups *g, const char *id, const char *json, size_t len, ow_err *err)
{
    ow_err jerr;
    cJSON *root = ow_json_parse(json, len, 4, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "stored alert %s: %s", id, jerr.msg);
    const cJSON *d = ow_json_get(root, "d"), *res = ow_json_get(root, "resolved"),
                *by = ow_json_get(root, "ack_by");
    int64_t resolved = -1;
    ow_nalert *a = NULL;
    int rc = OW_OK;
    if (!cJSON_IsString(d) || !ow_json_int(res, -1, INT64_MAX, &resolved) ||
        (by && !cJSON_IsString(by)))
        rc = ow_err_set(err, OW_EINVAL, "stored alert %s: expected {d, resolved, ack_by}", id);
    if (!rc) rc = ow_nalert_parse(d->valuestring, strlen(d->valuestring), &a, err);
    if (!rc && strcmp(a->id, id))
        rc = ow_err_set(err, OW_EINVAL, "stored alert %s: id differs", id);
    if (!rc && by && !(a->ack_by = strdup(by->valuestring))) rc = OW_ENOMEM;
    entry *e = NULL;
    if (!rc && !ow_map_get(&g->alerts, id)) {
        a->resolved = resolved >= 0;
        a->resolved_ms = resolved >= 0 ? resolved : 0;
        e = calloc(1, sizeof *e);
        if (!e || ow_map_put(&g->alerts, id, e)) {
            free(e);
            rc = ow_err_set(err, OW_ENOMEM, "out of memory");
        } else {
            e->a = a;
            a = NULL;
        }
    }
    ow_nalert_free(a);
    cJSON_Delete(root);
    return rc;
}

int ow_groups_load_group(ow_groups *g, const char *key, const char *json, size_t len, ow_err *err)
{
    ow_err jerr;
    cJSON *root = ow_json_parse(json, len, 4, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "stored group %s: %s", key, jerr.msg);
    const cJSON *route = ow_json_get(root, "route"), *m = ow_json_get(root, "m"),
                *hash = ow_json_get(root, "hash");
    int64_t created, next, last, seq, sent;
    int rc = OW_OK, ri = -1;
    if (!cJSON_IsString(route) || !cJSON_IsArray(m) || !cJSON_IsString(hash) ||
        !ow_json_int(ow_json_get(root, "created"), 0, INT64_MAX, &created) ||
        !ow_json_int(ow_json_get(root, "next"), -1, INT64_MAX, &next) ||
        !ow_json_int(ow_json_get(root, "last_sent"), 0, INT64_MAX, &last) ||
        !ow_json_int(ow_json_get(root, "seq"), 0, UINT32_MAX, &seq) ||
        !ow_json_int(ow_json_get(root, "sent"), 0, 1, &sent))
        rc = ow_err_set(err, OW_EINVAL, "stored group %s: malformed", key);
    for (int i = 0; !rc && i < g->cfg->nroutes; i++)
        if (strcmp(g->cfg->routes[i].id, route->valuestring) == 0) ri = i;
    char expect[64];
    if (!rc &&
        (ri < 0 || (snprintf(expect, sizeof expect, "%s|", route->valuestring),
                    strncmp(key, expect, strlen(expect)) && strcmp(key, route->valuestring))))
        rc = ow_err_set(err, OW_ENOTFOUND,
                        "stored group %s: route %s is not in the configuration any more: dropped",
                        key, route->valuestring);
    group *gr = NULL;
    if (!rc && ow_map_get(&g->groups, key)) rc = ow_err_set(err, OW_EDUP, "group %s twice", key);
    if (!rc) {
        gr = calloc(1, sizeof *gr);
        if (!gr || !(gr->key = strdup(key))) rc = ow_err_set(err, OW_ENOMEM, "out of memory");
    }
    for (const cJSON *e = rc ? NULL : m->child; e && !rc; e = e->next) {
        const cJSON *id = cJSON_GetArrayItem(e, 0);
        int64_t notified;
        if (!cJSON_IsString(id) || !ow_json_int(cJSON_GetArrayItem(e, 1), 0, 1, &notified)) {
            rc = ow_err_set(err, OW_EINVAL, "stored group %s: malformed member", key);
            break;
        }
        entry *en = ow_map_get(&g->alerts, id->valuestring);
        if (!en) continue; /* its alert record is gone: nothing to say about it */
        if (member_add(gr, id->valuestring, notified))
            rc = OW_ENOMEM;
        else
            en->refs++;
    }
    if (!rc) {
        gr->route = ri;
        gr->created_ms = created;
        gr->next_ms = next < 0 ? NEVER : next;
        gr->last_sent_ms = last;
        gr->seq = (uint32_t)seq;
        gr->sent_hash = strtoull(hash->valuestring, NULL, 16);
        gr->sent_firing = sent;
        if (ow_map_put(&g->groups, key, gr)) rc = ow_err_set(err, OW_ENOMEM, "out of memory");
    }
    if (rc && gr) {
        for (int i = 0; i < gr->n; i++)
            entry_unref(g, gr->m[i].id); /* undo the refs taken */
        group_free(gr);
    }
    cJSON_Delete(root);
    return rc;
}

ow_groups_stats ow_groups_stats_get(const ow_groups *g)
{
    ow_groups_stats s = g->st;
    s.alerts = (int)g->alerts.len;
    s.groups = (int)g->groups.len;
    return s;
}

#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "timefmt.h"

/* What the templates of one alert line (or title) can name. */
typedef struct vars {
    const ow_render_in *in;
    const ow_nalert *a; /* NULL for titles */
    char num[4][64];
    char link[OW_URL_BUF + 600];
    ow_buf late, who;
    const char *d, *by, *n;
} vars;

static const char *lookup(void *ctx, const char *name)
{
    vars *v = ctx;
    const ow_nalert *a = v->a ? v->a : v->in->group_labels;
    const ow_receiver *rx = v->in->rx;
    if (!strcmp(name, "d")) return v->d;
    if (!strcmp(name, "by")) return v->by;
    if (!strcmp(name, "n")) return v->n;
    if (!strcmp(name, "on_call")) return rx->on_call[0] ? rx->on_call : rx->name;
    if (!strcmp(name, "receiver")) return rx->name;
    if (!strcmp(name, "count")) return v->num[0];
    if (!strcmp(name, "new")) return v->num[1];
    if (!strcmp(name, "group")) return v->link; /* titles: link holds the group text */
    if (!strcmp(name, "pct")) return v->num[2];
    if (!strcmp(name, "target")) return v->num[3];
    if (!strcmp(name, "id")) return a ? a->id : "";
    if (!strcmp(name, "subject")) return a ? a->subject : "";
    if (!strcmp(name, "summary")) return a ? a->summary : "";
    if (!strcmp(name, "late")) return v->late.p ? v->late.p : "";
    if (!strcmp(name, "who")) return v->who.p ? v->who.p : "";
    if (!strcmp(name, "link")) return v->link;
    if (!strcmp(name, "at")) return v->num[1];
    int l = ow_label_parse(name);
    if (l >= 0 && a) return a->label[l];
    return "";
}

static void render_one(const ow_render_in *in, ow_tpl_role role, vars *v, ow_buf *out)
{
    ow_template_render(in->cfg->tpl[in->rx->lang][role], lookup, v, out);
}

static void alert_vars(const ow_render_in *in, const ow_nalert *a, vars *v)
{
    v->a = a;
    snprintf(v->num[2], sizeof v->num[2], "%d", a->pct);
    ow_duration_format(a->target_ms - a->target_ms % 1000, v->num[3], sizeof v->num[3]);
    ow_time_format(a->at_ms, v->num[1]);
    /* how late: the breach instant is at − (pct − 100) % of the target (paused time aside) */
    ow_buf_fini(&v->late);
    if (a->target_ms > 0) {
        int64_t breach = a->at_ms - (int64_t)(a->pct - 100) * a->target_ms / 100;
        int64_t late = in->now_ms - breach;
        char d[48];
        int64_t mag = late < 0 ? -late : late;
        ow_duration_format(mag - mag % 1000, d, sizeof d);
        v->d = d;
        render_one(in, late >= 0 ? OW_TPL_LATE : OW_TPL_DUE, v, &v->late);
        v->d = NULL;
    }
    ow_buf_fini(&v->who);
    v->by = a->ack_by;
    render_one(in, a->ack_by ? OW_TPL_ACKED : OW_TPL_UNACKED, v, &v->who);
    v->by = NULL;
    v->link[0] = '\0';
    if (in->cfg->viewer_url[0] && a->subject[0])
        snprintf(v->link, sizeof v->link, "%s#/%s/%s", in->cfg->viewer_url,
                 a->complaint ? "complaints" : "orders", a->subject);
}

static void group_text(const ow_render_in *in, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int l = 0; l < OW_LBL__COUNT; l++) {
        if (!(in->group_by & (1u << l))) continue;
        int w = snprintf(out + used, n - used, "%s%s=%s", used ? " " : "",
                         ow_label_name((ow_label)l), in->group_labels->label[l]);
        if (w < 0 || (size_t)w >= n - used) break;
        used += (size_t)w;
    }
}

/* Cut b so that its JSON-escaped length is at most max, at a UTF-8 character boundary. */
static void cut_escaped(ow_buf *b, size_t max)
{
    if (!b->p || ow_jsonw_str_len(b->p, b->n) <= max) return;
    size_t len = 0, i = 0;
    for (; i < b->n; i++) {
        size_t c = ow_jsonw_str_len(b->p + i, 1);
        if (len + c > max) break;
        len += c;
    }
    while (i > 0 && ((unsigned char)b->p[i] & 0xC0) == 0x80)
        i--;
    b->n = i;
    b->p[i] = '\0';
}

/* What one alert costs in the generic body's list: its JSON as stored (escaped, so a record
 * holding the body is bounded too), a comma, and its "acked" entry. */
static size_t list_cost(const ow_nalert *a)
{
    size_t c = ow_jsonw_str_len(a->json, strlen(a->json)) + 1;
    if (a->ack_by)
        c += ow_jsonw_str_len(a->id, strlen(a->id)) +
             ow_jsonw_str_len(a->ack_by, strlen(a->ack_by)) + 6;
    return c;
}

char *ow_render(const ow_render_in *in, char **text_out, int *listed_out)
{
    *text_out = NULL;
    vars v;
    memset(&v, 0, sizeof v);
    v.in = in;
    ow_buf title, text;
    ow_buf_init(&title);
    ow_buf_init(&text);
    snprintf(v.num[0], sizeof v.num[0], "%d", in->n);
    snprintf(v.num[1], sizeof v.num[1], "%d", in->nnew);
    group_text(in, v.link, sizeof v.link);
    render_one(in, in->resolved ? OW_TPL_RESOLVED : OW_TPL_FIRING, &v, &title);
    cut_escaped(&title, OW_RENDER_TITLE_MAX);
    ow_buf_put(&text, title.p ? title.p : "", title.n);
    /* sizes in JSON-escaped bytes: at least the raw bytes a robot counts, and what is stored.
     * The "more" line is reserved for, measured with the largest count it can show. */
    char n_all[16];
    snprintf(n_all, sizeof n_all, "%d", in->n);
    ow_buf more;
    ow_buf_init(&more);
    v.n = n_all;
    ow_buf_put(&more, "\n", 1);
    render_one(in, OW_TPL_MORE, &v, &more);
    v.n = NULL;
    size_t limit = in->rx->max_bytes, reserve = ow_jsonw_str_len(more.p, more.n);
    size_t budget = limit > reserve ? limit - reserve : 0;
    ow_buf_fini(&more);
    size_t used = ow_jsonw_str_len(text.p ? text.p : "", text.n);
    int listed = 0;
    for (int i = 0; i < in->n && listed < in->rx->max_alerts; i++) {
        ow_buf line;
        ow_buf_init(&line);
        alert_vars(in, in->alerts[i], &v);
        v.a = in->alerts[i];
        ow_buf_put(&line, "\n", 1);
        bool flag = strcmp(in->alerts[i]->label[OW_LBL_KIND], "flag") == 0;
        render_one(in,
                   in->resolved ? OW_TPL_RESOLVED_ALERT
                   : flag       ? OW_TPL_FLAG
                                : OW_TPL_ALERT,
                   &v, &line);
        size_t cost = ow_jsonw_str_len(line.p, line.n);
        bool fits = used + cost <= budget;
        if (fits) ow_buf_put(&text, line.p, line.n);
        ow_buf_fini(&line);
        if (!fits) break;
        used += cost;
        listed++;
    }
    ow_buf_fini(&v.late);
    ow_buf_fini(&v.who);
    if (listed < in->n) {
        char n[16];
        snprintf(n, sizeof n, "%d", in->n - listed);
        v.n = n;
        v.a = NULL;
        ow_buf_put(&text, "\n", 1);
        render_one(in, OW_TPL_MORE, &v, &text);
    }
    /* only a title and a "more" line longer than the limit together get here: cut */
    cut_escaped(&text, limit);

    ow_jsonw w;
    ow_jsonw_init(&w);
    const char *tt = title.p ? title.p : "", *xt = text.p ? text.p : "";
    switch (in->rx->type) {
    case OW_RX_DINGTALK:
        ow_jsonw_open(&w);
        ow_jsonw_key(&w, "msgtype");
        ow_jsonw_str(&w, "markdown");
        ow_jsonw_key(&w, "markdown");
        ow_jsonw_open(&w);
        ow_jsonw_key(&w, "title");
        ow_jsonw_str(&w, tt);
        ow_jsonw_key(&w, "text");
        ow_jsonw_str(&w, xt);
        ow_jsonw_close(&w);
        ow_jsonw_close(&w);
        break;
    case OW_RX_WECOM:
        ow_jsonw_open(&w);
        ow_jsonw_key(&w, "msgtype");
        ow_jsonw_str(&w, "markdown");
        ow_jsonw_key(&w, "markdown");
        ow_jsonw_open(&w);
        ow_jsonw_key(&w, "content");
        ow_jsonw_str(&w, xt);
        ow_jsonw_close(&w);
        ow_jsonw_close(&w);
        break;
    case OW_RX_SLACK:
        ow_jsonw_open(&w);
        ow_jsonw_key(&w, "text");
        ow_jsonw_str(&w, xt);
        ow_jsonw_close(&w);
        break;
    default: {
        ow_jsonw_open(&w);
        ow_jsonw_key(&w, "version");
        ow_jsonw_int(&w, 1);
        ow_jsonw_key(&w, "id");
        ow_jsonw_str(&w, in->id);
        ow_jsonw_key(&w, "status");
        ow_jsonw_str(&w, in->resolved ? "resolved" : "firing");
        ow_jsonw_key(&w, "receiver");
        ow_jsonw_str(&w, in->rx->name);
        ow_jsonw_key(&w, "group_key");
        ow_jsonw_str(&w, in->group_key);
        ow_jsonw_key(&w, "group");
        ow_jsonw_open(&w);
        for (int l = 0; l < OW_LBL__COUNT; l++) {
            if (!(in->group_by & (1u << l))) continue;
            ow_jsonw_key(&w, ow_label_name((ow_label)l));
            ow_jsonw_str(&w, in->group_labels->label[l]);
        }
        ow_jsonw_close(&w);
        ow_jsonw_key(&w, "title");
        ow_jsonw_str(&w, tt);
        ow_jsonw_key(&w, "text");
        ow_jsonw_str(&w, xt);
        /* the list: the first alerts while they fit (in the list's budget and the body's) */
        size_t room = w.out.n + 64 < OW_RENDER_BODY_MAX ? OW_RENDER_BODY_MAX - 64 - w.out.n : 0;
        if (room > OW_RENDER_LIST_MAX) room = OW_RENDER_LIST_MAX;
        int k = 0;
        for (size_t spent = 0; k < in->n; k++) {
            size_t c = list_cost(in->alerts[k]);
            if (spent + c > room) break;
            spent += c;
        }
        listed = k;
        ow_jsonw_key(&w, "count");
        ow_jsonw_int(&w, in->n);
        ow_jsonw_key(&w, "more");
        ow_jsonw_int(&w, in->n - k);
        ow_jsonw_key(&w, "alerts");
        ow_jsonw_raw(&w, "[");
        for (int i = 0; i < k; i++) {
            if (i) ow_jsonw_raw(&w, ",");
            ow_jsonw_raw(&w, in->alerts[i]->json); /* validated JSON, as the engine wrote it */
        }
        ow_jsonw_raw(&w, "]");
        w.need_comma = true;
        ow_jsonw_key(&w, "acked");
        ow_jsonw_open(&w);
        for (int i = 0; i < k; i++) {
            if (!in->alerts[i]->ack_by) continue;
            ow_jsonw_key(&w, in->alerts[i]->id);
            ow_jsonw_str(&w, in->alerts[i]->ack_by);
        }
        ow_jsonw_close(&w);
        ow_jsonw_close(&w);
    }
    }
    bool oom = title.oom || text.oom;
    ow_buf_fini(&title);
    char *body = ow_jsonw_take(&w);
    if (oom || !body) {
        free(body);
        ow_buf_fini(&text);
        return NULL;
    }
    *text_out = text.p ? text.p : strdup("");
    if (!*text_out) {
        free(body);
        return NULL;
    }
    if (listed_out) *listed_out = listed;
    return body;
}

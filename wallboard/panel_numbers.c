/* The number panels: open orders by priority, KPI tiles, sparklines. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "panel.h"
#include "theme.h"

/* ---- open orders ---------------------------------------------------------------------------- */

void ow_panel_open(const ow_panel_ctx *c, SDL_Rect r)
{
    const ow_draw *d = c->d;
    SDL_Rect in;
    ow_draw_panel(d, r, "在办工单", "Open orders", NULL, ow_theme_tone(OW_TONE_TEXT), &in);
    static const struct {
        const char *zh, *en;
        int accent;
    } boxes[] = {{"合计", "total", OW_ACCENT_TOTAL},
                 {"紧急", "emergency", OW_PRIO_EMERGENCY},
                 {"重要", "important", OW_PRIO_IMPORTANT},
                 {"一般", "general", OW_PRIO_GENERAL}};
    /* four boxes in a row on a wide panel; a 2×2 grid, label left and number right, on a narrow
     * one (a number must never shrink below reading size to fit a row) */
    const int n = 4, gap = ow_px(d, 14);
    const bool grid = (in.w - (n - 1) * gap) / n < ow_px(d, 260);
    const int cols = grid ? 2 : 4, rows = grid ? 2 : 1;
    const int bw = (in.w - (cols - 1) * gap) / cols, bh = (in.h - (rows - 1) * gap) / rows;
    for (int i = 0; i < n; i++) {
        SDL_Rect b =
            ow_rect(in.x + (i % cols) * (bw + gap), in.y + (i / cols) * (bh + gap), bw, bh);
        SDL_Color accent = ow_theme_accent(boxes[i].accent);
        ow_draw_fill(d, b, ow_theme_tone(OW_TONE_BACKGROUND));
        ow_draw_fill(d, ow_rect(b.x, b.y, ow_px(d, 5), b.h), accent);
        const int x = b.x + ow_px(d, 16);
        const int lbase = grid ? b.y + b.h / 2 + ow_px(d, 10) : b.y + ow_px(d, 30);
        int w = ow_draw_text(d, 26, OW_FONT_BOLD, accent, boxes[i].zh, x, lbase, OW_ALIGN_LEFT);
        if (!grid || bw > ow_px(d, 330))
            w += ow_px(d, 8) + ow_draw_text(d, 18, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM),
                                            boxes[i].en, x + w + ow_px(d, 8), lbase, OW_ALIGN_LEFT);
        char num[32] = "—";
        int64_t v = 0;
        if (c->s) {
            v = boxes[i].accent == OW_ACCENT_TOTAL ? c->s->core.open_total
                                                   : c->s->core.open[boxes[i].accent];
            ow_format_int(v, num, sizeof num);
        }
        /* one size for every box, from the widest number this panel is sized for */
        SDL_Rect nb = grid ? ow_rect(x + w + ow_px(d, 12), b.y,
                                     b.x + b.w - ow_px(d, 12) - (x + w + ow_px(d, 12)), b.h)
                           : ow_rect(x, b.y + ow_px(d, 40), b.w - ow_px(d, 28), b.h - ow_px(d, 40));
        int px = ow_font_fit_px(d->f, OW_FONT_BOLD, "000,000", nb.w, (int)(nb.h * 1.1));
        ow_text_style st = {px, OW_FONT_BOLD,
                            c->s ? ow_theme_count(boxes[i].accent, v)
                                 : ow_theme_tone(OW_TONE_TEXT_FAINT)};
        const ow_text *t = ow_font_text(d->f, st, num);
        if (t) {
            int base = nb.y + (nb.h + t->cap) / 2;
            int left = grid ? nb.x + nb.w - t->w : nb.x;
            SDL_Rect dst = {left, base - t->ascent, t->w, t->h};
            SDL_RenderCopy(d->r, t->texture, NULL, &dst);
        }
    }
}

/* ---- KPI tiles ------------------------------------------------------------------------------ */

typedef enum { U_DURATION, U_PCT, U_SCORE, U_COUNT } unit_kind;

static const struct kpi_def {
    ow_kpi k;
    const char *zh, *en;
    unit_kind unit;
} kpi_defs[] = {
    {OW_KPI_RESPONSE_P90_S, "响应 P90", "response", U_DURATION},
    {OW_KPI_SLA_RESPONSE_PCT, "响应达标", "SLA", U_PCT},
    {OW_KPI_DISPATCH_P90_S, "派单 P90", "dispatch", U_DURATION},
    {OW_KPI_FIRST_VISIT_FIX_PCT, "一次修复", "first fix", U_PCT},
    {OW_KPI_CSAT, "满意度", "CSAT", U_SCORE},
    {OW_KPI_COMPLAINT_RATE_PCT, "投诉率", "complaints", U_PCT},
    {OW_KPI_UTILISATION_PCT, "技师利用率", "utilisation", U_PCT},
    {OW_KPI_NPS, "净推荐值", "NPS", U_SCORE},
    {OW_KPI_REPEAT_VISIT_PCT, "返修率", "repeat visits", U_PCT},
    {OW_KPI_BACKLOG, "积压", "backlog", U_COUNT},
};

static void format_kpi(double v, unit_kind u, char *out, size_t n)
{
    switch (u) {
    case U_DURATION:
        if (v < 90)
            snprintf(out, n, "%.0f s", v);
        else if (v < 90 * 60)
            snprintf(out, n, "%.1f min", v / 60);
        else
            snprintf(out, n, "%.1f h", v / 3600);
        break;
    case U_PCT: snprintf(out, n, "%.1f%%", v); break;
    case U_SCORE: snprintf(out, n, "%.1f", v); break;
    case U_COUNT: ow_format_int((int64_t)llround(v), out, n); break;
    }
}

/* Is v on the good side of the target? */
static bool meets(const ow_kpi_target *t, double v)
{
    return t->higher_better ? v >= t->target : v <= t->target;
}

static void kpi_tile(const ow_panel_ctx *c, SDL_Rect b, const struct kpi_def *k)
{
    const ow_draw *d = c->d;
    const ow_kpi_block *now = &c->s->kpi[OW_WIN_1H], *prev = &c->s->kpi[OW_WIN_PREV_1H];
    const ow_kpi_target *t = &c->s->targets[k->k];
    ow_draw_fill(d, b, ow_theme_tone(OW_TONE_BACKGROUND));
    const int x = b.x + ow_px(d, 14), right = b.x + b.w - ow_px(d, 12);
    int w = ow_draw_text(d, 24, OW_FONT_BOLD, ow_theme_tone(OW_TONE_TEXT), k->zh, x,
                         b.y + ow_px(d, 32), OW_ALIGN_LEFT);
    ow_draw_text_fit(d, 17, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), k->en,
                     x + w + ow_px(d, 8), b.y + ow_px(d, 32), OW_ALIGN_LEFT,
                     right - x - w - ow_px(d, 8));
    /* the value, coloured by its target; the trend arrow against the hour before */
    char val[32] = "—";
    SDL_Color vc = ow_theme_tone(OW_TONE_TEXT_FAINT);
    bool has = now->has[k->k];
    if (has) {
        format_kpi(now->v[k->k], k->unit, val, sizeof val);
        vc = !t->has                  ? ow_theme_tone(OW_TONE_TEXT)
             : meets(t, now->v[k->k]) ? ow_theme_better()
                                      : ow_theme_worse();
    }
    /* the value shrinks to fit its tile (with the arrow), it is never cut */
    const int vbase = b.y + b.h * 62 / 100 + ow_px(d, 10);
    int vpx = ow_font_fit_px(d->f, OW_FONT_BOLD, val, right - x - ow_px(d, 40), ow_px(d, 46));
    ow_text_style vst = {vpx, OW_FONT_BOLD, vc};
    const ow_text *vt = ow_font_text(d->f, vst, val);
    int vw = 0;
    if (vt) {
        SDL_Rect dst = {x, vbase - vt->ascent, vt->w, vt->h};
        SDL_RenderCopy(d->r, vt->texture, NULL, &dst);
        vw = vt->w;
    }
    if (has && prev->has[k->k]) {
        double a = now->v[k->k], p = prev->v[k->k], eps = fabs(p) * 0.01 + 1e-9;
        const char *arrow = a > p + eps ? "▲" : a < p - eps ? "▼" : "▶";
        SDL_Color ac = ow_theme_tone(OW_TONE_TEXT_DIM);
        if (t->has && fabs(a - p) > eps)
            ac = (a > p) == t->higher_better ? ow_theme_better() : ow_theme_worse();
        ow_draw_text(d, 30, OW_FONT_BOLD, ac, arrow, x + vw + ow_px(d, 10), vbase, OW_ALIGN_LEFT);
    }
    /* the target line */
    char line[64];
    if (t->has) {
        char tv[32];
        format_kpi(t->target, k->unit, tv, sizeof tv);
        snprintf(line, sizeof line, "目标 target %s %s", t->higher_better ? "≥" : "≤", tv);
    } else {
        snprintf(line, sizeof line, "目标 target —");
    }
    ow_draw_text_fit(d, 19, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), line, x,
                     b.y + b.h - ow_px(d, 14), OW_ALIGN_LEFT, right - x);
}

void ow_panel_kpi(const ow_panel_ctx *c, SDL_Rect r)
{
    const ow_draw *d = c->d;
    enum { TOTAL = (int)(sizeof kpi_defs / sizeof kpi_defs[0]) };
    SDL_Rect in = ow_panel_content(d, r), tiles[TOTAL];
    int ntiles = 0;
    if (c->s && c->s->has_kpi) {
        const int gap = ow_px(d, 12);
        int n = (in.w + gap) / (ow_px(d, 230) + gap);
        if (n > TOTAL) n = TOTAL;
        if (n < 1) n = 1;
        int rows = in.h >= ow_px(d, 2 * 132 + 12) ? 2 : 1;
        if (rows == 2 && n * 2 > TOTAL) n = (TOTAL + 1) / 2;
        const int tw = (in.w - (n - 1) * gap) / n, th = (in.h - (rows - 1) * gap) / rows;
        for (int i = 0; i < n * rows && i < TOTAL; i++)
            tiles[ntiles++] =
                ow_rect(in.x + (i % n) * (tw + gap), in.y + (i / n) * (th + gap), tw, th);
    }
    /* each tile fills itself: the background goes round them */
    ow_draw_panel_holes(d, r, tiles, ntiles, "关键指标",
                        "KPIs, last hour · trend vs the hour before · target", NULL,
                        ow_theme_tone(OW_TONE_TEXT), &in);
    if (!c->s || !c->s->has_kpi) {
        ow_draw_empty(d, in, NULL);
        return;
    }
    for (int i = 0; i < ntiles; i++)
        kpi_tile(c, tiles[i], &kpi_defs[i]);
}

/* ---- sparklines ----------------------------------------------------------------------------- */

static void line_chart(const ow_draw *d, SDL_Rect box, const double *v, int n, SDL_Color col)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            lo = fmin(lo, v[i]);
            hi = fmax(hi, v[i]);
        }
    ow_draw_fill(d, ow_rect(box.x, box.y + box.h - 1, box.w, ow_px(d, 1) ? ow_px(d, 1) : 1),
                 ow_theme_tone(OW_TONE_PANEL_EDGE));
    if (!(hi >= lo) || n < 2) return;
    if (lo > 0) lo = 0; /* counts: the baseline is zero */
    double span = hi - lo > 0 ? hi - lo : 1;
    SDL_Point pts[OW_SCENE_SPARK_MAX];
    int thick = ow_px(d, 3) > 1 ? ow_px(d, 3) : 1;
    SDL_SetRenderDrawBlendMode(d->r, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(d->r, col.r, col.g, col.b, 0xFF);
    for (int k = 0; k < thick; k++) {
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (!isfinite(v[i])) { /* a gap: draw what came before */
                if (m > 1) SDL_RenderDrawLines(d->r, pts, m);
                m = 0;
                continue;
            }
            pts[m++] = (SDL_Point){box.x + (int)((double)i * (box.w - 1) / (n - 1)),
                                   box.y + thick + (int)((hi - v[i]) / span * (box.h - 2 * thick)) -
                                       thick / 2 + k};
        }
        if (m > 1) SDL_RenderDrawLines(d->r, pts, m);
    }
}

void ow_panel_spark(const ow_panel_ctx *c, SDL_Rect r)
{
    const ow_draw *d = c->d;
    static const struct {
        ow_spark_series k;
        const char *zh, *en;
        ow_alarm colour;
    } series[] = {
        {OW_SPARK_OPEN, "在办", "open", OW_ALARM_INFO},
        {OW_SPARK_CREATED, "新建", "created", OW_ALARM_INFO},
        {OW_SPARK_RESOLVED, "完结", "resolved", OW_ALARM_OK},
        {OW_SPARK_BREACHES, "超时", "breaches", OW_ALARM_BREACH},
        {OW_SPARK_ALERTS, "告警", "alerts", OW_ALARM_WARN},
    };
    char note[64] = "";
    if (c->s && c->s->has_spark && c->s->spark_bucket_s > 0) {
        int n = 0;
        for (int k = 0; k < OW_SPARK__COUNT; k++)
            if (c->s->spark_n[k] > n) n = c->s->spark_n[k];
        double hours = (double)n * (double)c->s->spark_bucket_s / 3600.0;
        snprintf(note, sizeof note, "过去 %.0f 小时 · last %.0f h, %" PRId64 " min buckets", hours,
                 hours, c->s->spark_bucket_s / 60);
    }
    SDL_Rect in;
    ow_draw_panel(d, r, "趋势", "Trends", note[0] ? note : NULL, ow_theme_tone(OW_TONE_TEXT_DIM),
                  &in);
    if (!c->s || !c->s->has_spark) {
        ow_draw_empty(d, in, NULL);
        return;
    }
    const int n = (int)(sizeof series / sizeof series[0]), gap = ow_px(d, 20);
    const int w = (in.w - (n - 1) * gap) / n;
    for (int i = 0; i < n; i++) {
        SDL_Rect b = ow_rect(in.x + i * (w + gap), in.y, w, in.h);
        SDL_Color col = ow_theme_alarm(series[i].colour);
        const double *v = c->s->spark[series[i].k];
        int len = c->s->spark_n[series[i].k];
        int lw = ow_draw_text(d, 24, OW_FONT_BOLD, col, series[i].zh, b.x, b.y + ow_px(d, 26),
                              OW_ALIGN_LEFT);
        ow_draw_text(d, 17, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), series[i].en,
                     b.x + lw + ow_px(d, 6), b.y + ow_px(d, 26), OW_ALIGN_LEFT);
        char last[32] = "—";
        if (v && len > 0 && isfinite(v[len - 1]))
            ow_format_int((int64_t)llround(v[len - 1]), last, sizeof last);
        ow_draw_text(d, 26, OW_FONT_BOLD, ow_theme_tone(OW_TONE_TEXT), last, b.x + b.w,
                     b.y + ow_px(d, 26), OW_ALIGN_RIGHT);
        SDL_Rect box = ow_rect(b.x, b.y + ow_px(d, 40), b.w, b.h - ow_px(d, 44));
        if (v) line_chart(d, box, v, len, col);
    }
}

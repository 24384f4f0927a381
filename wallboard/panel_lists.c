/* The list panels: the SLA countdown board, escalations, root-cause flags. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "panel.h"
#include "theme.h"

/* ---- names ---------------------------------------------------------------------------------- */

static const struct name {
    const char *id, *zh, *en;
} stage_names[] = {
    {"dispatch", "派单", "dispatch"},     {"accept", "接单", "accept"},
    {"response", "响应", "response"},     {"arrival", "上门", "arrival"},
    {"resolution", "完工", "resolution"}, {"callback", "回访", "callback"},
    {"complaint", "投诉", "complaint"},
};

static const struct name flag_names[] = {
    {"duplicate_dispatch", "重复派单", "duplicate dispatch"},
    {"repeat_visit", "重复上门", "repeat visit"},
    {"neglected_region", "区域被忽视", "neglected region"},
    {"surge", "工单激增", "surge"},
    {"understaffed", "人手不足", "understaffed"},
    {"overload", "技师超载", "overload"},
    {"skill_mismatch", "技能不符", "skill mismatch"},
    {"far_dispatch", "远距派单", "far dispatch"},
    {"parts_wait", "待料", "parts wait"},
    {"stale_technician", "技师失联", "stale technician"},
    {"complaint_cluster", "投诉聚集", "complaint cluster"},
    {"backlog", "积压", "backlog"},
};

static const struct name owner_names[] = {
    {"dispatcher", "调度", "dispatcher"},
    {"supervisor", "督办", "supervisor"},
    {"manager", "经理", "manager"},
};

static const struct name *lookup(const struct name *t, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].id, id) == 0) return &t[i];
    return NULL;
}
#define LOOKUP(table, id) lookup(table, sizeof table / sizeof table[0], id)

void ow_panel_region_name(const ow_scene *s, const char *id, bool zh_only, char *out, size_t n)
{
    int i = ow_scene_region_find(s, id);
    if (i < 0) {
        snprintf(out, n, "%s", id);
        return;
    }
    const ow_scene_region *r = &s->regions[i];
    if (zh_only || strcmp(r->name_zh, r->name_en) == 0)
        snprintf(out, n, "%s", r->name_zh);
    else
        snprintf(out, n, "%s %s", r->name_zh, r->name_en);
}

/* "L2" on a badge in the level's colour. */
static int level_badge(const ow_draw *d, int x, int baseline, int level)
{
    char t[8];
    snprintf(t, sizeof t, "L%d", level);
    const int w = ow_px(d, 46), h = ow_px(d, 30);
    ow_draw_fill(d, ow_rect(x, baseline - h + ow_px(d, 6), w, h), ow_theme_level(level));
    ow_draw_text(d, 22, OW_FONT_BOLD, ow_theme_tone(OW_TONE_BACKGROUND), t, x + w / 2, baseline,
                 OW_ALIGN_CENTER);
    return w;
}

/* ---- SLA countdown board -------------------------------------------------------------------- */

#define SLA_ROW 46

static int sla_rows(const ow_draw *d, SDL_Rect in, int n)
{
    int fit = (in.h - ow_px(d, 30)) / ow_px(d, SLA_ROW);
    return n < fit ? n : fit;
}

static SDL_Rect sla_row(const ow_draw *d, SDL_Rect in, int i)
{
    return ow_rect(in.x, in.y + ow_px(d, 30) + i * ow_px(d, SLA_ROW), in.w, ow_px(d, SLA_ROW - 6));
}

void ow_panel_sla(const ow_panel_ctx *c, SDL_Rect r)
{
    const ow_draw *d = c->d;
    /* the striped rows are filled below: the background goes round them */
    SDL_Rect in = ow_panel_content(d, r), holes[OW_SCENE_URGENT_MAX];
    int nholes = 0;
    for (int i = 0; c->s && c->s->has_urgent && i < sla_rows(d, in, c->s->nurgent); i += 2)
        holes[nholes++] = sla_row(d, in, i);
    ow_draw_panel_holes(d, r, holes, nholes, "超时倒计时", "SLA countdown, most urgent first", NULL,
                        ow_theme_tone(OW_TONE_TEXT), &in);
    if (!c->s || !c->s->has_urgent) {
        ow_draw_empty(d, in, NULL);
        return;
    }
    if (c->s->nurgent == 0) {
        ow_draw_empty(d, in, "没有运行中的时限 · no running SLA clock");
        return;
    }
    const SDL_Color dim = ow_theme_tone(OW_TONE_TEXT_DIM), text = ow_theme_tone(OW_TONE_TEXT);
    const int cw = ow_px(d, 150); /* countdown column */
    const int x_order = in.x + ow_px(d, 18), x_stage = in.x + in.w * 36 / 100;
    const int x_region = in.x + in.w * 56 / 100, right = in.x + in.w - cw - ow_px(d, 10);
    const int hb = in.y + ow_px(d, 20);
    ow_draw_text(d, 18, OW_FONT_REGULAR, dim, "工单 order", x_order, hb, OW_ALIGN_LEFT);
    ow_draw_text(d, 18, OW_FONT_REGULAR, dim, "环节 stage", x_stage, hb, OW_ALIGN_LEFT);
    ow_draw_text(d, 18, OW_FONT_REGULAR, dim, "区域 region", x_region, hb, OW_ALIGN_LEFT);
    ow_draw_text(d, 18, OW_FONT_REGULAR, dim, "剩余 left", in.x + in.w, hb, OW_ALIGN_RIGHT);
    int n = sla_rows(d, in, c->s->nurgent);
    for (int i = 0; i < n; i++) {
        const ow_scene_urgent *u = &c->s->urgent[i];
        SDL_Rect row = sla_row(d, in, i);
        const int base = row.y + row.h / 2 + ow_px(d, 9);
        if (i % 2 == 0) ow_draw_fill(d, row, ow_theme_tone(OW_TONE_BACKGROUND));
        ow_draw_fill(d, ow_rect(row.x, row.y, ow_px(d, 8), row.h),
                     u->priority >= 0 ? ow_theme_accent(u->priority)
                                      : ow_theme_tone(OW_TONE_TEXT_FAINT));
        ow_draw_text_fit(d, 24, OW_FONT_BOLD, text, u->order_id, x_order, base, OW_ALIGN_LEFT,
                         x_stage - x_order - ow_px(d, 8));
        const struct name *st = LOOKUP(stage_names, u->stage);
        char stage[64];
        snprintf(stage, sizeof stage, "%s %s", st ? st->zh : u->stage, st ? st->en : "");
        const int sw = x_region - x_stage - ow_px(d, 8);
        if (st && ow_text_width(d, 22, OW_FONT_REGULAR, stage) > sw)
            snprintf(stage, sizeof stage, "%s", st->zh); /* Chinese alone rather than cut */
        ow_draw_text_fit(d, 22, OW_FONT_REGULAR, text, stage, x_stage, base, OW_ALIGN_LEFT, sw);
        char region[96];
        ow_panel_region_name(c->s, u->region, true, region, sizeof region);
        ow_draw_text_fit(d, 22, OW_FONT_REGULAR, dim, region, x_region, base, OW_ALIGN_LEFT,
                         right - x_region);
    }
    if (c->s->nurgent > n) {
        char more[64];
        snprintf(more, sizeof more, "+%d 更多 more", c->s->nurgent - n);
        ow_draw_text(d, 18, OW_FONT_REGULAR, dim, more, in.x + in.w, in.y + in.h, OW_ALIGN_RIGHT);
    }
}

SDL_Rect ow_panel_sla_tick_area(const ow_draw *d, SDL_Rect r)
{
    SDL_Rect in = ow_panel_content(d, r);
    /* 190 units: "−123:45:59" at 28 units bold is ~181 */
    int x = in.x + in.w - ow_px(d, 190), x_region = in.x + in.w * 56 / 100;
    if (x < x_region) x = x_region;
    return ow_rect(x, in.y, in.x + in.w - x, in.h);
}

/* The countdowns: redrawn every second from breach_at − now, so they tick between snapshots. */
void ow_panel_sla_tick(const ow_panel_ctx *c, SDL_Rect r)
{
    const ow_draw *d = c->d;
    if (!c->s || !c->s->has_urgent) return;
    SDL_Rect in = ow_panel_content(d, r);
    int n = sla_rows(d, in, c->s->nurgent);
    for (int i = 0; i < n; i++) {
        const ow_scene_urgent *u = &c->s->urgent[i];
        SDL_Rect row = sla_row(d, in, i);
        int64_t left_s = (u->breach_at_ms - c->now_ms) / 1000;
        if (u->breach_at_ms - c->now_ms < 0) left_s = -((c->now_ms - u->breach_at_ms + 999) / 1000);
        int64_t a = left_s < 0 ? -left_s : left_s;
        char t[32];
        if (a >= 3600)
            snprintf(t, sizeof t, "%s%" PRId64 ":%02d:%02d", left_s < 0 ? "−" : "", a / 3600,
                     (int)(a / 60 % 60), (int)(a % 60));
        else
            snprintf(t, sizeof t, "%s%02d:%02d", left_s < 0 ? "−" : "", (int)(a / 60),
                     (int)(a % 60));
        ow_alarm al = u->level >= 0 ? ow_theme_level_alarm(u->level) : OW_ALARM_OK;
        if (left_s < 0 && al < OW_ALARM_BREACH) al = OW_ALARM_BREACH;
        if (left_s >= 0 && left_s < 300 && al < OW_ALARM_WARN) al = OW_ALARM_WARN;
        ow_draw_ticker(d, 28, OW_FONT_BOLD, ow_theme_alarm(al), t, in.x + in.w,
                       row.y + row.h / 2 + ow_px(d, 10), OW_ALIGN_RIGHT);
    }
}

/* ---- escalations ---------------------------------------------------------------------------- */

#define TWO_LINE_ROW 70

/* The striped (even) rows of a two-line list of n items in content area `in`, into out (n/2+1
 * at most): they are filled over the panel's background, which goes round them. */
static int stripes(const ow_draw *d, SDL_Rect in, int n, SDL_Rect *out)
{
    const int rh = ow_px(d, TWO_LINE_ROW);
    int rows = rh > 0 ? in.h / rh : 0, k = 0;
    if (rows > n) rows = n;
    for (int i = 0; i < rows; i += 2)
        out[k++] = ow_rect(in.x, in.y + i * rh, in.w, rh - ow_px(d, 6));
    return k;
}

void ow_panel_escalations(const ow_panel_ctx *c, SDL_Rect r)
{
    const ow_draw *d = c->d;
    char note[64] = "";
    int unacked = 0;
    if (c->s && c->s->has_escalations) {
        for (int i = 0; i < c->s->nescalations; i++)
            unacked += !c->s->escalations[i].acked;
        snprintf(note, sizeof note, "%d 未确认 unacked", unacked);
    }
    SDL_Rect in = ow_panel_content(d, r), holes[OW_SCENE_ESC_MAX];
    const int nholes =
        c->s && c->s->has_escalations ? stripes(d, in, c->s->nescalations, holes) : 0;
    ow_draw_panel_holes(d, r, holes, nholes, "升级督办", "Escalations", note[0] ? note : NULL,
                        ow_theme_alarm(unacked ? OW_ALARM_WARN : OW_ALARM_OK), &in);
    if (!c->s || !c->s->has_escalations) {
        ow_draw_empty(d, in, NULL);
        return;
    }
    if (c->s->nescalations == 0) {
        ow_draw_empty(d, in, "没有未结告警 · no open escalation");
        return;
    }
    const SDL_Color dim = ow_theme_tone(OW_TONE_TEXT_DIM), text = ow_theme_tone(OW_TONE_TEXT);
    const int rh = ow_px(d, TWO_LINE_ROW);
    int n = in.h / rh;
    if (n > c->s->nescalations) n = c->s->nescalations;
    for (int i = 0; i < n; i++) {
        const ow_scene_escalation *e = &c->s->escalations[i];
        SDL_Rect row = ow_rect(in.x, in.y + i * rh, in.w, rh - ow_px(d, 6));
        if (i % 2 == 0) ow_draw_fill(d, row, ow_theme_tone(OW_TONE_BACKGROUND));
        const int b1 = row.y + ow_px(d, 32), b2 = row.y + ow_px(d, 58);
        int x = row.x + ow_px(d, 8);
        x += level_badge(d, x, b1, e->level) + ow_px(d, 12);
        char what[128];
        const struct name *st = LOOKUP(stage_names, e->what), *fl = LOOKUP(flag_names, e->what);
        const char *wzh = st   ? st->zh
                          : fl ? fl->zh
                               : e->what,
                   *wen = st   ? st->en
                          : fl ? fl->en
                               : "";
        if (e->subject[0])
            snprintf(what, sizeof what, "%s  %s %s", e->subject, wzh, wen);
        else
            snprintf(what, sizeof what, "%s %s", wzh, wen);
        ow_draw_text_fit(d, 24, OW_FONT_BOLD, text, what, x, b1, OW_ALIGN_LEFT,
                         row.x + row.w - ow_px(d, 8) - x);
        /* acknowledged or not, right-aligned on line 2 */
        char ack[96];
        if (e->acked)
            snprintf(ack, sizeof ack, "✓ %s", e->ack_by[0] ? e->ack_by : "已确认 acked");
        else
            snprintf(ack, sizeof ack, "未确认 unacked");
        int aw =
            ow_draw_text_fit(d, 21, e->acked ? OW_FONT_REGULAR : OW_FONT_BOLD,
                             ow_theme_alarm(e->acked ? OW_ALARM_OK : OW_ALARM_WARN), ack,
                             row.x + row.w - ow_px(d, 8), b2, OW_ALIGN_RIGHT, row.w * 45 / 100);
        const struct name *ow = LOOKUP(owner_names, e->owner);
        char region[96], at[16] = "", line2[256];
        ow_panel_region_name(c->s, e->region, true, region, sizeof region);
        if (e->at_ms >= 0) ow_format_hhmm(e->at_ms, at, sizeof at);
        snprintf(line2, sizeof line2, "%s %s · %s · %s", ow ? ow->zh : e->owner, ow ? ow->en : "",
                 region, at);
        ow_draw_text_fit(d, 20, OW_FONT_REGULAR, dim, line2, x, b2, OW_ALIGN_LEFT,
                         row.x + row.w - aw - ow_px(d, 24) - x);
    }
    if (c->s->nescalations > n) {
        char more[64];
        snprintf(more, sizeof more, "+%d 更多 more", c->s->nescalations - n);
        ow_draw_text(d, 18, OW_FONT_REGULAR, dim, more, in.x + in.w, in.y + in.h, OW_ALIGN_RIGHT);
    }
}

/* ---- root-cause flags ----------------------------------------------------------------------- */

void ow_panel_flags(const ow_panel_ctx *c, SDL_Rect r)
{
    const ow_draw *d = c->d;
    char note[48] = "";
    if (c->s && c->s->has_flags) snprintf(note, sizeof note, "%d 条 open", c->s->nflags);
    SDL_Rect in = ow_panel_content(d, r), holes[OW_SCENE_FLAGS_MAX];
    const int nholes = c->s && c->s->has_flags ? stripes(d, in, c->s->nflags, holes) : 0;
    ow_draw_panel_holes(d, r, holes, nholes, "根因标记", "Root-cause flags, newest first",
                        note[0] ? note : NULL, ow_theme_tone(OW_TONE_TEXT_DIM), &in);
    if (!c->s || !c->s->has_flags) {
        ow_draw_empty(d, in, NULL);
        return;
    }
    if (c->s->nflags == 0) {
        ow_draw_empty(d, in, "没有根因标记 · no open flag");
        return;
    }
    const SDL_Color dim = ow_theme_tone(OW_TONE_TEXT_DIM), text = ow_theme_tone(OW_TONE_TEXT);
    const int rh = ow_px(d, TWO_LINE_ROW);
    int n = in.h / rh;
    if (n > c->s->nflags) n = c->s->nflags;
    for (int i = 0; i < n; i++) {
        const ow_scene_flag *f = &c->s->flags[i];
        SDL_Rect row = ow_rect(in.x, in.y + i * rh, in.w, rh - ow_px(d, 6));
        if (i % 2 == 0) ow_draw_fill(d, row, ow_theme_tone(OW_TONE_BACKGROUND));
        const int b1 = row.y + ow_px(d, 32), b2 = row.y + ow_px(d, 58);
        int x = row.x + ow_px(d, 8);
        x += level_badge(d, x, b1, f->level) + ow_px(d, 12);
        char right[128], region[96], at[16] = "";
        ow_panel_region_name(c->s, f->region, true, region, sizeof region);
        if (f->at_ms >= 0) ow_format_hhmm(f->at_ms, at, sizeof at);
        snprintf(right, sizeof right, "%s  %s", region, at);
        int rw = ow_draw_text(d, 20, OW_FONT_REGULAR, dim, right, row.x + row.w - ow_px(d, 8), b1,
                              OW_ALIGN_RIGHT);
        const struct name *fl = LOOKUP(flag_names, f->flag);
        char name[128];
        snprintf(name, sizeof name, "%s  %s", fl ? fl->zh : f->flag, fl ? fl->en : "");
        ow_draw_text_fit(d, 24, OW_FONT_BOLD, text, name, x, b1, OW_ALIGN_LEFT,
                         row.x + row.w - rw - ow_px(d, 24) - x);
        ow_draw_text_fit(d, 20, OW_FONT_REGULAR, dim, f->summary[0] ? f->summary : "—", x, b2,
                         OW_ALIGN_LEFT, row.x + row.w - ow_px(d, 8) - x);
    }
    if (c->s->nflags > n) {
        char more[64];
        snprintf(more, sizeof more, "+%d 更多 more", c->s->nflags - n);
        ow_draw_text(d, 18, OW_FONT_REGULAR, dim, more, in.x + in.w, in.y + in.h, OW_ALIGN_RIGHT);
    }
}

/* The field panels: technician status per region, and the per-region table. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "panel.h"
#include "theme.h"

static const struct {
    int status;
    const char *zh, *en;
} tech_order[] = {
    /* bars read left to right from "can take work" to "cannot" */
    {OW_TECH_IDLE, "空闲", "idle"},       {OW_TECH_ENROUTE, "在途", "en route"},
    {OW_TECH_ONSITE, "作业", "on site"},  {OW_TECH_BREAK, "休息", "break"},
    {OW_TECH_OFFLINE, "离线", "offline"},
};
#define NSTATUS ((int)(sizeof tech_order / sizeof tech_order[0]))

/* The legend row; returns its height. */
static int tech_legend(const ow_draw *d, SDL_Rect in)
{
    int x = in.x;
    const int base = in.y + ow_px(d, 22);
    /* bilingual when it fits the panel, Chinese only when not */
    int need = 0;
    for (int k = 0; k < NSTATUS; k++) {
        char t[48];
        snprintf(t, sizeof t, "%s %s", tech_order[k].zh, tech_order[k].en);
        need += ow_px(d, 42) + ow_text_width(d, 19, OW_FONT_REGULAR, t);
    }
    const bool both = need <= in.w;
    for (int k = 0; k < NSTATUS; k++) {
        char t[48];
        snprintf(t, sizeof t, "%s%s%s", tech_order[k].zh, both ? " " : "",
                 both ? tech_order[k].en : "");
        ow_draw_fill(d, ow_rect(x, base - ow_px(d, 16), ow_px(d, 14), ow_px(d, 14)),
                     ow_theme_tech(tech_order[k].status));
        x += ow_px(d, 20);
        x += ow_draw_text(d, 19, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), t, x, base,
                          OW_ALIGN_LEFT) +
             ow_px(d, 22);
    }
    return ow_px(d, 36);
}

void ow_panel_techs(const ow_panel_ctx *c, SDL_Rect r)
{
    const ow_draw *d = c->d;
    char note[64] = "";
    if (c->s && c->s->has_techs) {
        int64_t all = 0;
        for (int k = 0; k < OW_TECH__COUNT; k++)
            all += c->s->techs[k];
        char n1[24], n2[24];
        ow_format_int(c->s->techs[OW_TECH_IDLE], n1, sizeof n1);
        ow_format_int(all, n2, sizeof n2);
        snprintf(note, sizeof note, "空闲 idle %s / %s", n1, n2);
    }
    SDL_Rect in;
    ow_draw_panel(d, r, "技师状态", "Technicians", note[0] ? note : NULL,
                  ow_theme_tech(OW_TECH_IDLE), &in);
    if (!c->s || !c->s->has_regions || c->s->nregions == 0) {
        ow_draw_empty(d, in, NULL);
        return;
    }
    const int top = in.y + tech_legend(d, in);
    int rh = ow_px(d, 64);
    int n = c->s->nregions;
    if ((in.y + in.h - top) / rh < n) {
        rh = (in.y + in.h - top) / n;
        if (rh < ow_px(d, 40)) {
            rh = ow_px(d, 40);
            n = (in.y + in.h - top) / rh;
        }
    }
    const int name_w = in.w * 30 / 100;
    for (int i = 0; i < n; i++) {
        const ow_scene_region *g = &c->s->regions[i];
        const int y = top + i * rh, base = y + rh / 2 + ow_px(d, 8);
        ow_draw_text_fit(d, 22, OW_FONT_BOLD, ow_theme_tone(OW_TONE_TEXT), g->name_zh, in.x, base,
                         OW_ALIGN_LEFT, name_w - ow_px(d, 10));
        int64_t values[NSTATUS], total = 0;
        SDL_Color colors[NSTATUS];
        for (int k = 0; k < NSTATUS; k++) {
            values[k] = g->techs[tech_order[k].status];
            colors[k] = ow_theme_tech(tech_order[k].status);
            total += values[k];
        }
        char t[32];
        ow_format_int(total, t, sizeof t);
        const int tw = ow_px(d, 90);
        ow_draw_text(d, 20, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), t, in.x + in.w, base,
                     OW_ALIGN_RIGHT);
        SDL_Rect bar =
            ow_rect(in.x + name_w, y + rh / 2 - ow_px(d, 13), in.w - name_w - tw, ow_px(d, 26));
        ow_draw_stacked(d, bar, values, colors, NSTATUS, total);
        /* the idle count on the bar, where it matters most */
        if (values[0] > 0) {
            char idle[24];
            ow_format_int(values[0], idle, sizeof idle);
            ow_draw_text(d, 18, OW_FONT_BOLD, ow_theme_tone(OW_TONE_BACKGROUND), idle,
                         bar.x + ow_px(d, 6), bar.y + bar.h - ow_px(d, 6), OW_ALIGN_LEFT);
        }
    }
}

void ow_panel_regions(const ow_panel_ctx *c, SDL_Rect r)
{
    const ow_draw *d = c->d;
    /* the striped rows are filled below: the background goes round them */
    SDL_Rect in = ow_panel_content(d, r), holes[OW_SCENE_REGIONS_MAX / 2 + 1];
    int nholes = 0;
    if (c->s && c->s->has_regions) {
        int rh = ow_px(d, 44), n = c->s->nregions;
        if ((in.h - ow_px(d, 30)) / rh < n) n = (in.h - ow_px(d, 30)) / rh;
        for (int i = 0; i < n; i += 2)
            holes[nholes++] = ow_rect(in.x, in.y + ow_px(d, 30) + i * rh, in.w, rh - ow_px(d, 4));
    }
    ow_draw_panel_holes(d, r, holes, nholes, "区域概况", "Regions", NULL,
                        ow_theme_tone(OW_TONE_TEXT), &in);
    if (!c->s || !c->s->has_regions || c->s->nregions == 0) {
        ow_draw_empty(d, in, NULL);
        return;
    }
    const SDL_Color dim = ow_theme_tone(OW_TONE_TEXT_DIM), text = ow_theme_tone(OW_TONE_TEXT);
    static const char *const heads[] = {"在办 open", "超时 breached", "告警 alerts", "空闲 idle",
                                        "单/人 per idle"};
    const int ncol = 5, name_w = in.w * 28 / 100, cw = (in.w - name_w) / ncol;
    const int hb = in.y + ow_px(d, 20);
    ow_draw_text(d, 18, OW_FONT_REGULAR, dim, "区域 region", in.x, hb, OW_ALIGN_LEFT);
    for (int k = 0; k < ncol; k++)
        ow_draw_text_fit(d, 18, OW_FONT_REGULAR, dim, heads[k], in.x + name_w + (k + 1) * cw, hb,
                         OW_ALIGN_RIGHT, cw - ow_px(d, 6));
    int rh = ow_px(d, 44), n = c->s->nregions;
    if ((in.h - ow_px(d, 30)) / rh < n) n = (in.h - ow_px(d, 30)) / rh;
    for (int i = 0; i < n; i++) {
        const ow_scene_region *g = &c->s->regions[i];
        SDL_Rect row = ow_rect(in.x, in.y + ow_px(d, 30) + i * rh, in.w, rh - ow_px(d, 4));
        if (i % 2 == 0) ow_draw_fill(d, row, ow_theme_tone(OW_TONE_BACKGROUND));
        const int base = row.y + row.h / 2 + ow_px(d, 8);
        ow_draw_text_fit(d, 22, OW_FONT_BOLD, text, g->name_zh, in.x + ow_px(d, 8), base,
                         OW_ALIGN_LEFT, name_w - ow_px(d, 12));
        int64_t idle = g->techs[OW_TECH_IDLE];
        int64_t v[4] = {g->open, g->breached, g->alerts_open, idle};
        for (int k = 0; k < 4; k++) {
            char t[32];
            ow_format_int(v[k], t, sizeof t);
            SDL_Color col = k == 1 && v[k] > 0   ? ow_theme_alarm(OW_ALARM_BREACH)
                            : k == 2 && v[k] > 0 ? ow_theme_alarm(OW_ALARM_WARN)
                                                 : text;
            ow_draw_text(d, 22, OW_FONT_REGULAR, col, t, in.x + name_w + (k + 1) * cw, base,
                         OW_ALIGN_RIGHT);
        }
        char ratio[32];
        double q = (double)g->open / (double)(idle > 0 ? idle : 1);
        snprintf(ratio, sizeof ratio, q >= 100 ? "%.0f" : "%.1f", q);
        ow_draw_text(d, 22, OW_FONT_BOLD,
                     ow_theme_alarm(q > 5   ? OW_ALARM_BREACH
                                    : q > 3 ? OW_ALARM_WARN
                                            : OW_ALARM_OK),
                     ratio, in.x + name_w + 5 * cw, base, OW_ALIGN_RIGHT);
    }
}

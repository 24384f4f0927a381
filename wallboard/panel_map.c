/* The map panel: regions, heat grid and technicians (mapview.c), labels and legends. */
#include <inttypes.h>
#include <stdio.h>

#include "panel.h"
#include "theme.h"

/* The heat legend: the colour ramp from 1 to the largest cell. Returns the width used. */
static int heat_legend(const ow_draw *d, int x, int base, int max_open)
{
    const SDL_Color dim = ow_theme_tone(OW_TONE_TEXT_DIM);
    int w = ow_draw_text(d, 19, OW_FONT_REGULAR, dim, "工单密度 orders/cell  1", x, base,
                         OW_ALIGN_LEFT);
    x += w + ow_px(d, 8);
    const int sw = ow_px(d, 12) < 15 ? ow_px(d, 12) : 15; /* fills under 16 px wide are fast */
    const int steps = ow_px(d, 192) / sw;
    for (int i = 0; i < steps; i++)
        ow_draw_fill(d, ow_rect(x + i * sw, base - ow_px(d, 16), sw, ow_px(d, 16)),
                     ow_theme_heat((double)i / (steps - 1)));
    x += steps * sw + ow_px(d, 8);
    char hi[32];
    ow_format_int(max_open, hi, sizeof hi);
    return w + steps * sw + ow_px(d, 16) +
           ow_draw_text(d, 19, OW_FONT_REGULAR, dim, hi, x, base, OW_ALIGN_LEFT);
}

static void dot_legend(const ow_draw *d, int x, int base, int right)
{
    static const struct {
        int status;
        const char *label;
    } dots[] = {{OW_TECH_IDLE, "空闲 idle"},
                {OW_TECH_ENROUTE, "在途 en route"},
                {OW_TECH_ONSITE, "作业 on site"},
                {OW_TECH_BREAK, "休息 break"}};
    for (size_t i = 0; i < sizeof dots / sizeof dots[0]; i++) {
        int need =
            ow_px(d, 20) + ow_text_width(d, 19, OW_FONT_REGULAR, dots[i].label) + ow_px(d, 18);
        if (x + need > right) return;
        ow_draw_fill(d, ow_rect(x, base - ow_px(d, 14), ow_px(d, 12), ow_px(d, 12)),
                     ow_theme_tech(dots[i].status));
        x += ow_px(d, 18);
        x += ow_draw_text(d, 19, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), dots[i].label, x,
                          base, OW_ALIGN_LEFT) +
             ow_px(d, 18);
    }
}

/* The map's rectangle inside the panel: the content area less the legends (on one line when they
 * fit, else on two). */
static SDL_Rect map_area(const ow_draw *d, SDL_Rect r, bool *two_lines)
{
    SDL_Rect in = ow_panel_content(d, r);
    const bool two = in.w < ow_px(d, 900);
    if (two_lines) *two_lines = two;
    return ow_rect(in.x, in.y, in.w, in.h - ow_px(d, two ? 64 : 34));
}

void ow_panel_map_prepare(const ow_panel_ctx *c, SDL_Rect r)
{
    ow_mapview_prepare(c->map, c->d->r, c->d->u, c->s, map_area(c->d, r, NULL), c->d->px);
}

void ow_panel_map(const ow_panel_ctx *c, SDL_Rect r)
{
    const ow_draw *d = c->d;
    char note[64] = "";
    if (c->s && c->s->has_techs_pos) {
        char n[24];
        ow_format_int(c->s->ntechs_pos, n, sizeof n);
        snprintf(note, sizeof note, "技师 %s technicians", n);
    }
    /* the map covers its area: the background goes round it (the map may be being copied
     * there meanwhile, ow_mapview_prepare) */
    bool two, covered;
    SDL_Rect in, area = map_area(d, r, &two);
    ow_draw_panel_holes(d, r, &area, 1, "城市地图", "City map", note[0] ? note : NULL,
                        ow_theme_tone(OW_TONE_TEXT_DIM), &in);
    int max_open = ow_mapview_draw(c->map, d->r, d->u, c->s, area, &covered);
    if (!covered) ow_draw_fill(d, area, ow_theme_tone(OW_TONE_PANEL));
    const int lb = in.y + in.h - ow_px(d, 6);
    int used = 0;
    if (c->s && c->s->has_heat && max_open > 0)
        used = heat_legend(d, in.x, two ? lb - ow_px(d, 30) : lb, max_open);
    if (c->s && c->s->has_techs_pos)
        dot_legend(d, two ? in.x : in.x + used + (used ? ow_px(d, 28) : 0), lb, in.x + in.w);
    if (!c->s || (!c->s->has_heat && !c->s->has_techs_pos && !c->s->has_regions)) {
        ow_draw_empty(d, area, NULL);
        return;
    }
    /* region labels: name and open orders at the region's centre, moved (or left out) so that no
     * two labels overlap */
    if (!c->s->has_regions) return;
    SDL_Rect placed[OW_SCENE_REGIONS_MAX];
    int nplaced = 0;
    for (int i = 0; i < c->s->nregions; i++) {
        const ow_scene_region *g = &c->s->regions[i];
        int x, y;
        if (!g->has_center || !ow_mapview_project(c->map, g->center[0], g->center[1], &x, &y))
            continue;
        x += area.x;
        y += area.y;
        char open[32];
        ow_format_int(g->open, open, sizeof open);
        int nw = ow_text_width(d, 22, OW_FONT_BOLD, g->name_zh);
        int ow = ow_text_width(d, 20, OW_FONT_REGULAR, open);
        int pw = (nw > ow ? nw : ow) + ow_px(d, 12), ph = ow_px(d, 52);
        SDL_Rect plate = {0};
        bool ok = false;
        const int shifts[3] = {0, ph + ow_px(d, 2), -ph - ow_px(d, 2)};
        for (int k = 0; k < 3 && !ok; k++) {
            plate = ow_rect(x - pw / 2, y - ow_px(d, 26) + shifts[k], pw, ph);
            ok = plate.y >= area.y && plate.y + plate.h <= area.y + area.h;
            for (int j = 0; j < nplaced && ok; j++)
                ok = !SDL_HasIntersection(&plate, &placed[j]);
        }
        if (!ok) continue;
        placed[nplaced++] = plate;
        /* a dark plate under the label keeps it legible over any heat colour */
        ow_draw_fill(d, plate, ow_theme_alpha(ow_theme_tone(OW_TONE_BACKGROUND), 0xC0));
        const int base = plate.y + ow_px(d, 26);
        ow_draw_text(d, 22, OW_FONT_BOLD, ow_theme_tone(OW_TONE_TEXT), g->name_zh, x, base,
                     OW_ALIGN_CENTER);
        ow_draw_text(d, 20, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), open, x,
                     base + ow_px(d, 22), OW_ALIGN_CENTER);
    }
}

#include "board.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- the tables ----------------------------------------------------------------------------- */

/* Priority tiles, left to right. */
static const struct tile_def {
    const char *id; /* region names: tile.<id> */
    const char *zh, *en;
} tile_defs[OW_PRIO__COUNT] = {
    [OW_PRIO_EMERGENCY] = {"emergency", "紧急", "Emergency"},
    [OW_PRIO_IMPORTANT] = {"important", "重要", "Important"},
    [OW_PRIO_GENERAL] = {"general", "一般", "General"},
};

/* Link states as the header shows them. */
static const struct link_def {
    const char *text;
    ow_alarm alarm;
} link_defs[] = {
    [OW_LINK_FILE] = {"文件 file", OW_ALARM_INFO},
    [OW_LINK_CONNECTING] = {"连接中 connecting", OW_ALARM_WARN},
    [OW_LINK_CONNECTED] = {"已连接 connected", OW_ALARM_OK},
    [OW_LINK_RECONNECTING] = {"重连中 reconnecting", OW_ALARM_BREACH},
};
static const struct link_def file_failing = {"文件不可读 file unreadable", OW_ALARM_BREACH};

static const char *const weekday_zh[7] = {"周日", "周一", "周二", "周三", "周四", "周五", "周六"};
static const char *const weekday_en[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

/* Type scale, in design units (1 unit = 1 px at 1080p). */
enum {
    PX_TITLE = 54,
    PX_SUBTITLE = 26,
    PX_CLOCK = 80,
    PX_DATE = 26,
    PX_LINK = 34,
    PX_AGE = 28,
    PX_TOTAL_ZH = 52,
    PX_TOTAL_EN = 28,
    PX_LEGEND = 26,
    PX_LABEL_ZH = 62,
    PX_LABEL_EN = 34,
    PX_SHARE = 28,
    PX_FOOTER = 22,
};

/* ---- layout --------------------------------------------------------------------------------- */

static int unit(double u, double v)
{
    return (int)lround(u * v);
}

static SDL_Rect rect(int x, int y, int w, int h)
{
    return (SDL_Rect){x, y, w > 0 ? w : 0, h > 0 ? h : 0};
}

void ow_layout_compute(int w, int h, ow_layout *l)
{
    memset(l, 0, sizeof *l);
    const double u = h / 1080.0;
    l->w = w;
    l->h = h;
    l->u = u;
    l->frame = unit(u, 6) > 2 ? unit(u, 6) : 2;
    const int m = unit(u, 36), gap = unit(u, 28), pad = unit(u, 32);

    l->header = rect(m, unit(u, 22), w - 2 * m, unit(u, 136));
    l->clock =
        rect(l->header.x + l->header.w - unit(u, 420), l->header.y, unit(u, 420), l->header.h);
    l->status =
        rect(l->clock.x - unit(u, 48) - unit(u, 600), l->header.y, unit(u, 600), l->header.h);
    l->title = rect(l->header.x, l->header.y, l->status.x - unit(u, 32) - l->header.x, l->header.h);

    l->footer = rect(m, h - unit(u, 16) - unit(u, 40), w - 2 * m, unit(u, 40));
    const int top = l->header.y + l->header.h + unit(u, 26);
    const int bottom = l->footer.y - unit(u, 14);

    l->total = rect(m, top, w - 2 * m, unit(u, 172));
    l->total_number = rect(l->total.x + unit(u, 470), l->total.y + unit(u, 18), unit(u, 340),
                           l->total.h - unit(u, 36));
    const int bar_x = l->total_number.x + l->total_number.w + unit(u, 40);
    l->total_bar = rect(bar_x, l->total.y + unit(u, 34), l->total.x + l->total.w - pad - bar_x,
                        l->total.h - unit(u, 68));

    const int tiles_top = l->total.y + l->total.h + gap;
    const int tiles_h = bottom - tiles_top;
    const bool stacked = w < h; /* portrait screens: one tile per row */
    for (int i = 0; i < OW_PRIO__COUNT; i++) {
        SDL_Rect t;
        if (stacked) {
            int th = (tiles_h - 2 * gap) / 3;
            t = rect(m, tiles_top + i * (th + gap), w - 2 * m, th);
        } else {
            int tw = (w - 2 * m - 2 * gap) / 3;
            int x = m + i * (tw + gap);
            t = rect(x, tiles_top, i == 2 ? w - m - x : tw, tiles_h);
        }
        l->tile[i] = t;
        l->tile_label[i] = rect(t.x + pad, t.y + unit(u, 26), t.w - 2 * pad, unit(u, 84));
        l->tile_bar[i] = rect(t.x + pad, t.y + t.h - pad - unit(u, 66), t.w - 2 * pad, unit(u, 66));
        const int ny = l->tile_label[i].y + l->tile_label[i].h + unit(u, 8);
        l->tile_number[i] = rect(t.x + pad, ny, t.w - 2 * pad, l->tile_bar[i].y - unit(u, 8) - ny);
    }
}

int ow_board_regions(const ow_layout *l, ow_board_region *out, int max)
{
    static const char *const names[OW_PRIO__COUNT][4] = {
        {"tile.emergency", "tile.emergency.label", "tile.emergency.number", "tile.emergency.bar"},
        {"tile.important", "tile.important.label", "tile.important.number", "tile.important.bar"},
        {"tile.general", "tile.general.label", "tile.general.number", "tile.general.bar"},
    };
    ow_board_region all[OW_BOARD_REGIONS_MAX];
    int n = 0;
    all[n++] = (ow_board_region){"screen", rect(0, 0, l->w, l->h)};
    all[n++] = (ow_board_region){"header", l->header};
    all[n++] = (ow_board_region){"header.title", l->title};
    all[n++] = (ow_board_region){"header.status", l->status};
    all[n++] = (ow_board_region){"header.clock", l->clock};
    all[n++] = (ow_board_region){"total", l->total};
    all[n++] = (ow_board_region){"total.number", l->total_number};
    all[n++] = (ow_board_region){"total.bar", l->total_bar};
    for (int i = 0; i < OW_PRIO__COUNT; i++) {
        all[n++] = (ow_board_region){names[i][0], l->tile[i]};
        all[n++] = (ow_board_region){names[i][1], l->tile_label[i]};
        all[n++] = (ow_board_region){names[i][2], l->tile_number[i]};
        all[n++] = (ow_board_region){names[i][3], l->tile_bar[i]};
    }
    all[n++] = (ow_board_region){"footer", l->footer};
    int k = n < max ? n : max;
    memcpy(out, all, (size_t)k * sizeof *out);
    return k;
}

/* ---- frame facts ---------------------------------------------------------------------------- */

int64_t ow_board_age_ms(const ow_board_frame *fr)
{
    if (!fr->have) return -1;
    int64_t since = fr->snap.mode == OW_MODE_REPLAY ? fr->received_ms : fr->snap.now_ms;
    int64_t age = fr->now_ms - since;
    return age > 0 ? age : 0;
}

bool ow_board_is_stale(const ow_board_frame *fr)
{
    return fr->link == OW_LINK_RECONNECTING || fr->failing ||
           (fr->have && ow_board_age_ms(fr) >= fr->stale_ms);
}

/* ---- drawing helpers ------------------------------------------------------------------------ */

typedef enum { ALIGN_LEFT, ALIGN_CENTER, ALIGN_RIGHT } align;

typedef struct draw_ctx {
    SDL_Renderer *r;
    ow_font *f;
    const ow_layout *l;
    const ow_board_frame *fr;
} draw_ctx;

static int U(const draw_ctx *c, double v)
{
    return unit(c->l->u, v);
}

static void fill(const draw_ctx *c, SDL_Rect r, SDL_Color col)
{
    if (r.w <= 0 || r.h <= 0) return;
    SDL_SetRenderDrawBlendMode(c->r, col.a == 0xFF ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(c->r, col.r, col.g, col.b, col.a);
    SDL_RenderFillRect(c->r, &r);
}

static void fill_circle(const draw_ctx *c, int cx, int cy, int radius, SDL_Color col)
{
    SDL_SetRenderDrawBlendMode(c->r, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(c->r, col.r, col.g, col.b, col.a);
    for (int dy = -radius; dy <= radius; dy++) {
        int dx = (int)lround(sqrt((double)radius * radius - (double)dy * dy));
        SDL_RenderDrawLine(c->r, cx - dx, cy + dy, cx + dx, cy + dy);
    }
}

/* Draw `utf8` with its baseline at y; returns its width (0 when nothing was drawn). */
static int text(const draw_ctx *c, int px_units, ow_font_weight weight, SDL_Color col,
                const char *utf8, int x, int baseline, align a)
{
    ow_text_style st = {U(c, px_units), weight, col};
    const ow_text *t = ow_font_text(c->f, st, utf8);
    if (!t) return 0;
    int left = a == ALIGN_LEFT ? x : a == ALIGN_CENTER ? x - t->w / 2 : x - t->w;
    SDL_Rect dst = {left, baseline - t->ascent, t->w, t->h};
    SDL_RenderCopy(c->r, t->texture, NULL, &dst);
    return t->w;
}

/* A number at pixel size px in `box`, centred on the digits' height. */
static void big_number(const draw_ctx *c, SDL_Rect box, int px, SDL_Color col, const char *utf8,
                       align a)
{
    ow_text_style st = {px, OW_FONT_BOLD, col};
    const ow_text *t = ow_font_text(c->f, st, utf8);
    if (!t) return;
    int x = a == ALIGN_LEFT     ? box.x
            : a == ALIGN_CENTER ? box.x + (box.w - t->w) / 2
                                : box.x + box.w - t->w;
    int baseline = box.y + (box.h + t->cap) / 2;
    SDL_Rect dst = {x, baseline - t->ascent, t->w, t->h};
    SDL_RenderCopy(c->r, t->texture, NULL, &dst);
}

/* Largest pixel size at which a number of `digits` digits fits box (width and digit height). */
static int number_px(const draw_ctx *c, SDL_Rect box, int digits)
{
    char probe[24];
    if (digits < 2) digits = 2; /* 7 → 12 must not change the size */
    if (digits > 20) digits = 20;
    memset(probe, '0', (size_t)digits);
    probe[digits] = '\0';
    int by_height = box.h * 100 / 74; /* a digit is ~0.73 em tall in DejaVu Sans Bold */
    return ow_font_fit_px(c->f, OW_FONT_BOLD, probe, box.w, by_height);
}

static int percent(int64_t part, int64_t whole)
{
    return whole > 0 ? (int)((part * 100 + whole / 2) / whole) : 0;
}

/* "3 s", "12 min", "5 h", "2 d" */
static void format_span(int64_t ms, char *out, size_t n)
{
    int64_t s = ms / 1000;
    if (s < 90)
        snprintf(out, n, "%" PRId64 " s", s);
    else if (s < 90 * 60)
        snprintf(out, n, "%" PRId64 " min", s / 60);
    else if (s < 48 * 3600)
        snprintf(out, n, "%" PRId64 " h", s / 3600);
    else
        snprintf(out, n, "%" PRId64 " d", s / 86400);
}

/* A count, or a dash while there is no snapshot. */
static void format_count(const ow_board_frame *fr, int64_t n, char *out, size_t size)
{
    if (fr->have)
        snprintf(out, size, "%" PRId64, n);
    else
        snprintf(out, size, "—");
}

/* ---- panels --------------------------------------------------------------------------------- */

static void draw_background(const draw_ctx *c)
{
    SDL_Color bg = ow_theme_tone(OW_TONE_BACKGROUND);
    SDL_SetRenderDrawBlendMode(c->r, SDL_BLENDMODE_NONE);
    SDL_SetRenderDrawColor(c->r, bg.r, bg.g, bg.b, 0xFF);
    SDL_RenderClear(c->r);
}

static void draw_header(const draw_ctx *c)
{
    const ow_layout *l = c->l;
    const ow_board_frame *fr = c->fr;
    const int y = l->header.y;

    /* title */
    text(c, PX_TITLE, OW_FONT_BOLD, ow_theme_tone(OW_TONE_TEXT), "opswall 运营指挥大屏", l->title.x,
         y + U(c, 62), ALIGN_LEFT);
    text(c, PX_SUBTITLE, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM),
         "在办工单总览  ·  Open orders overview", l->title.x, y + U(c, 110), ALIGN_LEFT);

    /* clock: the system's (or --clock); in replay the replayed time, marked as such */
    bool replay = fr->have && fr->snap.mode == OW_MODE_REPLAY;
    time_t secs = (time_t)((replay ? fr->snap.now_ms : fr->now_ms) / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    char hms[32], date[96];
    strftime(hms, sizeof hms, "%H:%M:%S", &tm);
    snprintf(date, sizeof date, "%s%04d-%02d-%02d %s %s", replay ? "回放 REPLAY  ·  " : "",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, weekday_zh[tm.tm_wday % 7],
             weekday_en[tm.tm_wday % 7]);
    const int right = l->clock.x + l->clock.w;
    text(c, PX_CLOCK, OW_FONT_BOLD, ow_theme_tone(OW_TONE_TEXT), hms, right, y + U(c, 78),
         ALIGN_RIGHT);
    text(c, PX_DATE, replay ? OW_FONT_BOLD : OW_FONT_REGULAR,
         replay ? ow_theme_alarm(OW_ALARM_WARN) : ow_theme_tone(OW_TONE_TEXT_DIM), date, right,
         y + U(c, 116), ALIGN_RIGHT);

    /* separator */
    fill(c, rect(l->header.x, y + l->header.h - U(c, 2), l->header.w, U(c, 2)),
         ow_theme_tone(OW_TONE_PANEL_EDGE));
}

/* Where the data comes from and how old it is. */
static void draw_status(const draw_ctx *c)
{
    const ow_layout *l = c->l;
    const ow_board_frame *fr = c->fr;
    const int y = l->header.y;

    /* link state: a dot and its name */
    const struct link_def *ld =
        fr->link == OW_LINK_FILE && fr->failing ? &file_failing : &link_defs[fr->link];
    SDL_Color lc = ow_theme_alarm(ld->alarm);
    const int sx = l->status.x, line1 = y + U(c, 62);
    fill_circle(c, sx + U(c, 12), line1 - U(c, 12), U(c, 11), lc);
    text(c, PX_LINK, OW_FONT_BOLD, lc, ld->text, sx + U(c, 36), line1, ALIGN_LEFT);

    /* data age, coloured by how close it is to stale_after */
    char age_text[160], span[32];
    ow_alarm age_alarm;
    int64_t age = ow_board_age_ms(fr);
    if (age < 0) {
        snprintf(age_text, sizeof age_text, "暂无数据 / no data yet");
        age_alarm = OW_ALARM_WARN;
    } else {
        format_span(age, span, sizeof span);
        age_alarm = ow_theme_alarm_for_pct(fr->stale_ms > 0 ? age * 100 / fr->stale_ms : 0);
        if (age_alarm > OW_ALARM_BREACH) age_alarm = OW_ALARM_BREACH;
        if (ow_board_is_stale(fr)) {
            snprintf(age_text, sizeof age_text, "数据过时 %s 前 / STALE, %s ago", span, span);
            age_alarm = OW_ALARM_BREACH;
        } else {
            snprintf(age_text, sizeof age_text, "数据 %s 前 / data %s ago", span, span);
        }
    }
    text(c, PX_AGE, OW_FONT_REGULAR, ow_theme_alarm(age_alarm), age_text, sx, y + U(c, 110),
         ALIGN_LEFT);
}

/* A horizontal bar: track, then one segment per (value, colour) from the left. */
static void stacked_bar(const draw_ctx *c, SDL_Rect bar, const int64_t *values,
                        const SDL_Color *colors, int n, int64_t whole)
{
    fill(c, bar, ow_theme_tone(OW_TONE_TRACK));
    if (whole <= 0) return;
    int64_t acc = 0;
    for (int i = 0; i < n; i++) {
        int x0 = bar.x + (int)(bar.w * acc / whole);
        acc += values[i];
        int x1 = bar.x + (int)(bar.w * (acc > whole ? whole : acc) / whole);
        fill(c, rect(x0, bar.y, x1 - x0, bar.h), colors[i]);
    }
}

static void draw_total(const draw_ctx *c)
{
    const ow_layout *l = c->l;
    const ow_board_frame *fr = c->fr;
    const SDL_Rect t = l->total;
    fill(c, t, ow_theme_tone(OW_TONE_PANEL));
    fill(c, rect(t.x, t.y, U(c, 10), t.h), ow_theme_accent(OW_ACCENT_TOTAL));

    text(c, PX_TOTAL_ZH, OW_FONT_BOLD, ow_theme_tone(OW_TONE_TEXT), "在办合计", t.x + U(c, 40),
         t.y + U(c, 82), ALIGN_LEFT);
    text(c, PX_TOTAL_EN, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), "Open orders, total",
         t.x + U(c, 40), t.y + U(c, 128), ALIGN_LEFT);

    char num[32];
    int64_t total = fr->have ? fr->snap.open_total : 0;
    format_count(fr, total, num, sizeof num);
    int digits = (int)strlen(num);
    int px = number_px(c, l->total_number, digits < 4 ? 4 : digits);
    big_number(c, l->total_number, fr->have ? px : px / 3,
               fr->have ? ow_theme_count(OW_ACCENT_TOTAL, total)
                        : ow_theme_tone(OW_TONE_TEXT_FAINT),
               num, ALIGN_LEFT);

    /* the mix: one bar split by priority, and its legend */
    const SDL_Rect b = l->total_bar;
    int64_t values[OW_PRIO__COUNT] = {0}, sum = 0;
    SDL_Color colors[OW_PRIO__COUNT];
    for (int p = 0; p < OW_PRIO__COUNT; p++) {
        values[p] = fr->have ? fr->snap.open[p] : 0;
        sum += values[p];
        colors[p] = ow_theme_accent(p);
    }
    stacked_bar(c, rect(b.x, b.y, b.w, U(c, 40)), values, colors, OW_PRIO__COUNT, sum);
    /* legend: bilingual when it fits the bar's width, Chinese only when not */
    char legend[2][OW_PRIO__COUNT][96];
    int width[2] = {0, 0};
    for (int form = 0; form < 2; form++) {
        for (int p = 0; p < OW_PRIO__COUNT; p++) {
            char pct[16];
            if (fr->have)
                snprintf(pct, sizeof pct, "%d%%", percent(values[p], sum));
            else
                snprintf(pct, sizeof pct, "—");
            snprintf(legend[form][p], sizeof legend[form][p], "%s%s%s %s", tile_defs[p].zh,
                     form == 0 ? " " : "", form == 0 ? tile_defs[p].en : "", pct);
            width[form] += U(c, 28) + U(c, 40) +
                           ow_font_width(c->f, OW_FONT_REGULAR, U(c, PX_LEGEND), legend[form][p]);
        }
    }
    const int form = width[0] - U(c, 40) <= b.w ? 0 : 1;
    int x = b.x;
    for (int p = 0; p < OW_PRIO__COUNT; p++) {
        fill(c, rect(x, b.y + b.h - U(c, 24), U(c, 18), U(c, 18)), colors[p]);
        x += U(c, 28);
        x += text(c, PX_LEGEND, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), legend[form][p],
                  x, b.y + b.h - U(c, 4), ALIGN_LEFT);
        x += U(c, 40);
    }
}

static void draw_tiles(const draw_ctx *c)
{
    const ow_layout *l = c->l;
    const ow_board_frame *fr = c->fr;

    /* one size for all three numbers, from the longest, so the tiles read as a set */
    int digits = 2;
    for (int p = 0; p < OW_PRIO__COUNT && fr->have; p++) {
        char num[32];
        int d = snprintf(num, sizeof num, "%" PRId64, fr->snap.open[p]);
        if (d > digits) digits = d;
    }
    int px = number_px(c, l->tile_number[0], digits);
    for (int p = 1; p < OW_PRIO__COUNT; p++) {
        int q = number_px(c, l->tile_number[p], digits);
        if (q < px) px = q;
    }

    for (int p = 0; p < OW_PRIO__COUNT; p++) {
        const SDL_Rect t = l->tile[p];
        const SDL_Color accent = ow_theme_accent(p);
        fill(c, t, ow_theme_tone(OW_TONE_PANEL));
        fill(c, rect(t.x, t.y, t.w, U(c, 10)), accent);

        const SDL_Rect lab = l->tile_label[p];
        int zw = text(c, PX_LABEL_ZH, OW_FONT_BOLD, accent, tile_defs[p].zh, lab.x,
                      lab.y + U(c, 64), ALIGN_LEFT);
        text(c, PX_LABEL_EN, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), tile_defs[p].en,
             lab.x + zw + U(c, 20), lab.y + U(c, 64), ALIGN_LEFT);

        char num[32];
        int64_t count = fr->have ? fr->snap.open[p] : 0;
        format_count(fr, count, num, sizeof num);
        big_number(c, l->tile_number[p], fr->have ? px : px / 3,
                   fr->have ? ow_theme_count(p, count) : ow_theme_tone(OW_TONE_TEXT_FAINT), num,
                   ALIGN_CENTER);

        /* share of all open orders */
        const SDL_Rect b = l->tile_bar[p];
        char share[64];
        int64_t sum = 0;
        for (int q = 0; q < OW_PRIO__COUNT && fr->have; q++)
            sum += fr->snap.open[q];
        if (fr->have)
            snprintf(share, sizeof share, "占比 share  %d%%", percent(count, sum));
        else
            snprintf(share, sizeof share, "占比 share  —");
        text(c, PX_SHARE, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), share, b.x,
             b.y + U(c, 28), ALIGN_LEFT);
        int64_t one[1] = {count};
        SDL_Color col[1] = {accent};
        stacked_bar(c, rect(b.x, b.y + b.h - U(c, 20), b.w, U(c, 20)), one, col, 1, sum);
    }
}

static void draw_footer(const draw_ctx *c)
{
    const ow_layout *l = c->l;
    const ow_board_frame *fr = c->fr;
    const int baseline = l->footer.y + U(c, 30);
    const SDL_Color faint = ow_theme_tone(OW_TONE_TEXT_FAINT);
    char left[256], right[160], poll[32], stale[32];
    if (fr->have)
        snprintf(left, sizeof left,
                 "快照 snapshot #%" PRId64 "  ·  已处理事件 events %" PRId64
                 "  ·  已知工单 orders %" PRId64,
                 fr->snap.seq, fr->snap.events_applied, fr->snap.orders_known);
    else
        snprintf(left, sizeof left, "快照 snapshot —");
    format_span(fr->poll_ms, poll, sizeof poll);
    if (fr->poll_ms < 1000) snprintf(poll, sizeof poll, "%" PRId64 " ms", fr->poll_ms);
    format_span(fr->stale_ms, stale, sizeof stale);
    snprintf(right, sizeof right, "刷新 poll %s  ·  过时阈值 stale after %s", poll, stale);
    text(c, PX_FOOTER, OW_FONT_REGULAR, faint, left, l->footer.x, baseline, ALIGN_LEFT);
    text(c, PX_FOOTER, OW_FONT_REGULAR, faint, right, l->footer.x + l->footer.w, baseline,
         ALIGN_RIGHT);
}

/* Stale or disconnected: a red frame round the whole screen, outside every other region. */
static void draw_frame(const draw_ctx *c)
{
    if (!ow_board_is_stale(c->fr)) return;
    const ow_layout *l = c->l;
    const SDL_Color red = ow_theme_alarm(OW_ALARM_BREACH);
    const int f = l->frame;
    fill(c, rect(0, 0, l->w, f), red);
    fill(c, rect(0, l->h - f, l->w, f), red);
    fill(c, rect(0, f, f, l->h - 2 * f), red);
    fill(c, rect(l->w - f, f, f, l->h - 2 * f), red);
}

/* The panel table: drawn in this order. */
static const struct panel {
    const char *name;
    void (*draw)(const draw_ctx *c);
} panels[] = {
    {"background", draw_background}, {"header", draw_header}, {"status", draw_status},
    {"total", draw_total},           {"tiles", draw_tiles},   {"footer", draw_footer},
    {"frame", draw_frame},
};

void ow_board_draw(SDL_Renderer *r, ow_font *f, const ow_layout *l, const ow_board_frame *fr)
{
    draw_ctx c = {r, f, l, fr};
    for (size_t i = 0; i < sizeof panels / sizeof panels[0]; i++)
        panels[i].draw(&c);
}

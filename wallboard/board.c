#include "board.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "draw.h"
#include "mapview.h"
#include "painter.h"
#include "panel.h"
#include "theme.h"

#define FLASH_PERIOD_MS 500 /* one blink: bright half, dim half */
#define SEEN_MAX        OW_SCENE_ESC_MAX

/* ---- the tables ----------------------------------------------------------------------------- */

/* One row per ow_panel_kind: its data-layer drawing, for ticking panels its per-frame part, and
 * for panels with costly pure work a `prepare` that starts it on a worker thread before the other
 * panels are drawn (such panels are drawn last, so the work overlaps the others). */
static const struct panel_def {
    void (*draw)(const ow_panel_ctx *c, SDL_Rect r);
    void (*tick)(const ow_panel_ctx *c, SDL_Rect r);
    SDL_Rect (*tick_area)(const ow_draw *d, SDL_Rect r); /* where tick may draw */
    void (*prepare)(const ow_panel_ctx *c, SDL_Rect r);
} panel_defs[OW_PANEL__COUNT] = {
    [OW_PANEL_OPEN] = {ow_panel_open, NULL, NULL, NULL},
    [OW_PANEL_KPI] = {ow_panel_kpi, NULL, NULL, NULL},
    [OW_PANEL_MAP] = {ow_panel_map, NULL, NULL, ow_panel_map_prepare},
    [OW_PANEL_SLA] = {ow_panel_sla, ow_panel_sla_tick, ow_panel_sla_tick_area, NULL},
    [OW_PANEL_ESCALATIONS] = {ow_panel_escalations, NULL, NULL, NULL},
    [OW_PANEL_FLAGS] = {ow_panel_flags, NULL, NULL, NULL},
    [OW_PANEL_TECHS] = {ow_panel_techs, NULL, NULL, NULL},
    [OW_PANEL_SPARK] = {ow_panel_spark, NULL, NULL, NULL},
    [OW_PANEL_REGIONS] = {ow_panel_regions, NULL, NULL, NULL},
};

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

/* ---- layout --------------------------------------------------------------------------------- */

typedef struct layout {
    int w, h;
    double u;
    SDL_Rect header, title, status, replay, clock, footer, grid;
    int frame; /* width of the stale frame */
} layout;

static int px(double u, double v)
{
    return (int)lround(u * v);
}

static void layout_compute(int w, int h, layout *l)
{
    memset(l, 0, sizeof *l);
    const double u = h / 1080.0;
    l->w = w;
    l->h = h;
    l->u = u;
    l->frame = px(u, 6) > 2 ? px(u, 6) : 2;
    const int m = px(u, 20);
    l->header = ow_rect(m, px(u, 12), w - 2 * m, px(u, 112));
    const int hx = l->header.x, hy = l->header.y, hw = l->header.w, hh = l->header.h;
    l->clock = ow_rect(hx + hw - px(u, 330), hy, px(u, 330), hh);
    l->title = ow_rect(hx, hy, hw * 30 / 100, hh);
    l->status = ow_rect(l->title.x + l->title.w + px(u, 16), hy, hw * 26 / 100, hh);
    const int rx = l->status.x + l->status.w + px(u, 16);
    l->replay = ow_rect(rx, hy, l->clock.x - px(u, 24) - rx, hh - px(u, 6)); /* above the rule */
    l->footer = ow_rect(m, h - px(u, 36), w - 2 * m, px(u, 30));
    const int top = hy + hh + px(u, 12);
    l->grid = ow_rect(m, top, w - 2 * m, l->footer.y - px(u, 8) - top);
}

/* A panel's rectangle: grid cells, with a gap between neighbours and none at the grid's edge. */
static SDL_Rect panel_rect(const layout *l, const ow_pages *p, const ow_page_panel *pp)
{
    const int gap = px(l->u, 14), g = gap / 2;
    const SDL_Rect G = l->grid;
    int x0 = G.x + pp->col * G.w / p->cols, x1 = G.x + (pp->col + pp->cols) * G.w / p->cols;
    int y0 = G.y + pp->row * G.h / p->rows, y1 = G.y + (pp->row + pp->rows) * G.h / p->rows;
    if (pp->col > 0) x0 += g;
    if (pp->col + pp->cols < p->cols) x1 -= gap - g;
    if (pp->row > 0) y0 += g;
    if (pp->row + pp->rows < p->rows) y1 -= gap - g;
    return ow_rect(x0, y0, x1 - x0, y1 - y0);
}

static void add_region(ow_board_region *out, int *n, int max, const char *name, SDL_Rect r)
{
    if (*n >= max) return;
    snprintf(out[*n].name, sizeof out[*n].name, "%s", name);
    out[(*n)++].rect = r;
}

int ow_board_regions(const ow_pages *pages, int w, int h, int page, ow_board_region *out, int max)
{
    layout l;
    layout_compute(w, h, &l);
    int n = 0;
    add_region(out, &n, max, "screen", ow_rect(0, 0, w, h));
    add_region(out, &n, max, "header", l.header);
    add_region(out, &n, max, "header.title", l.title);
    add_region(out, &n, max, "header.status", l.status);
    add_region(out, &n, max, "header.replay", l.replay);
    add_region(out, &n, max, "header.clock", l.clock);
    add_region(out, &n, max, "grid", l.grid);
    add_region(out, &n, max, "footer", l.footer);
    if (page >= 0 && page < pages->npages) {
        const ow_page *pg = &pages->pages[page];
        for (int i = 0; i < pg->npanels; i++) {
            char name[48];
            snprintf(name, sizeof name, "%s.%s", pg->name, ow_panel_name(pg->panels[i].kind));
            add_region(out, &n, max, name, panel_rect(&l, pages, &pg->panels[i]));
        }
    }
    return n;
}

/* ---- frame facts ---------------------------------------------------------------------------- */

int64_t ow_board_age_ms(const ow_board_frame *fr)
{
    if (!fr->scene) return -1;
    int64_t since =
        fr->scene->core.mode == OW_MODE_REPLAY ? fr->received_ms : fr->scene->core.now_ms;
    int64_t age = fr->now_ms - since;
    return age > 0 ? age : 0;
}

bool ow_board_is_stale(const ow_board_frame *fr)
{
    return fr->link == OW_LINK_RECONNECTING || fr->failing ||
           (fr->scene && ow_board_age_ms(fr) >= fr->stale_ms);
}

int64_t ow_board_picture_now(const ow_board_frame *fr)
{
    const ow_scene *s = fr->scene;
    if (!s || s->core.mode != OW_MODE_REPLAY) return fr->now_ms;
    if (!s->has_replay || !(s->replay_speed > 0)) return s->core.now_ms;
    int64_t since = fr->now_ms - fr->received_ms;
    if (since < 0) since = 0;
    /* a stalled replay must not run on for ever: at most stale_after of projection */
    if (since > fr->stale_ms) since = fr->stale_ms;
    return s->core.now_ms + (int64_t)((double)since * s->replay_speed);
}

/* ---- the board ------------------------------------------------------------------------------ */

/* A part drawn over the picture every frame (header clock and status, countdowns, the flash, the
 * stale frame). On a canvas (fr->canvas) the pixels under it are kept here when the data is drawn
 * and put back before the next frame, instead of copying a whole cached layer every frame. */
typedef struct under {
    SDL_Rect r;         /* where the part may draw (it is clipped to it) */
    SDL_Surface *px;    /* the saved pixels, r's size */
    ow_touched touched; /* what it drew over since they were saved or put back */
} under;

enum {
    UNDER_STATUS,
    UNDER_REPLAY,
    UNDER_CLOCK,
    UNDER_BANNER,
    UNDER_FLASH,
    UNDER_STALE = UNDER_FLASH + 4,
    UNDER_PANELS = UNDER_STALE + 4
};
#define UNDER_MAX (UNDER_PANELS + OW_PAGE_PANELS_MAX)

struct ow_board {
    SDL_Renderer *r;
    ow_font *f;
    ow_pages pages;
    ow_mapview *map;
    ow_painter *painter; /* draws some panels of the layer on a second thread */
    bool one_thread;     /* ow_board_set_threads(false) */
    layout l;
    SDL_Texture *layer; /* the cached data layer; NULL: draw everything every frame */
    bool layer_ok;      /* layer holds the picture for the key below */
    /* canvas mode: the screen's own pixels hold the data picture between frames */
    const void *canvas_px; /* the canvas the last frame was drawn into (NULL: none) */
    int canvas_pitch;
    bool canvas_ok; /* it still holds that frame, for the key below */
    under unders[UNDER_MAX];
    int nunders;
    const ow_scene *key_scene;
    int64_t key_seq;
    int key_page;
    uint64_t panel_hash[OW_PAGE_PANELS_MAX]; /* what each panel of the layer shows */
    /* attention */
    uint64_t seen[SEEN_MAX]; /* L2/L3 escalation ids of the last scene */
    int nseen;
    bool have_seen;
    int64_t last_tick_now; /* picture now of the previous frame (breach crossings) */
    int64_t flash_until;   /* mono ms */
    int64_t flash_started;
    int flash_level;
    int64_t painter_cpu_us, map_cpu_us; /* of the last redrawn layer */
    char flash_text[160];
};

int ow_board_new(SDL_Renderer *r, ow_font *f, const ow_pages *pages, const ow_regions *city,
                 ow_board **out, ow_err *err)
{
    ow_board *b = calloc(1, sizeof *b);
    if (!b || !(b->map = ow_mapview_new(city)) || ow_painter_new(f, &b->painter, err) != OW_OK) {
        if (b) ow_mapview_free(b->map);
        free(b);
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    }
    b->r = r;
    b->f = f;
    b->pages = *pages;
    b->last_tick_now = INT64_MIN;
    *out = b;
    return OW_OK;
}

static void unders_free(ow_board *b)
{
    for (int i = 0; i < b->nunders; i++)
        SDL_FreeSurface(b->unders[i].px);
    memset(b->unders, 0, sizeof b->unders);
    b->nunders = 0;
}

void ow_board_free(ow_board *b)
{
    if (!b) return;
    unders_free(b);
    ow_painter_free(b->painter);
    if (b->layer) SDL_DestroyTexture(b->layer);
    ow_mapview_free(b->map);
    free(b);
}

void ow_board_set_threads(ow_board *b, bool on)
{
    b->one_thread = !on;
}

void ow_board_helpers_cpu_us(const ow_board *b, int64_t *painter, int64_t *map)
{
    *painter = b->painter_cpu_us;
    *map = b->map_cpu_us;
}

void ow_board_invalidate(ow_board *b)
{
    b->layer_ok = false;
    b->canvas_ok = false;
}

bool ow_board_animating(const ow_board *b, int64_t mono_ms)
{
    return mono_ms < b->flash_until;
}

/* ---- header, footer, frame ------------------------------------------------------------------ */

static void draw_title(const ow_draw *d, const layout *l, const ow_pages *p, int page)
{
    const int y = l->header.y;
    ow_draw_text_fit(d, 44, OW_FONT_BOLD, ow_theme_tone(OW_TONE_TEXT), "opswall 运营指挥大屏",
                     l->title.x, y + px(l->u, 52), OW_ALIGN_LEFT, l->title.w);
    char sub[96];
    if (p->npages > 1)
        snprintf(sub, sizeof sub, "第 %d/%d 页 page  ·  %s", page + 1, p->npages,
                 p->pages[page].name);
    else
        snprintf(sub, sizeof sub, "%s", p->pages[page].name);
    ow_draw_text_fit(d, 22, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), sub, l->title.x,
                     y + px(l->u, 92), OW_ALIGN_LEFT, l->title.w);
    ow_draw_fill(d, ow_rect(l->header.x, y + l->header.h - px(l->u, 2), l->header.w, px(l->u, 2)),
                 ow_theme_tone(OW_TONE_PANEL_EDGE));
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

static void draw_status(const ow_draw *d, const layout *l, const ow_board_frame *fr)
{
    const int y = l->header.y, sx = l->status.x;
    const struct link_def *ld =
        fr->link == OW_LINK_FILE && fr->failing ? &file_failing : &link_defs[fr->link];
    SDL_Color lc = ow_theme_alarm(ld->alarm);
    const int line1 = y + px(l->u, 50);
    ow_draw_circle(d, sx + px(l->u, 11), line1 - px(l->u, 11), px(l->u, 10), lc);
    ow_draw_text_fit(d, 30, OW_FONT_BOLD, lc, ld->text, sx + px(l->u, 32), line1, OW_ALIGN_LEFT,
                     l->status.w - px(l->u, 32));
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
        const ow_scene *sc = fr->scene;
        if (ow_board_is_stale(fr)) {
            snprintf(age_text, sizeof age_text, "数据过时 %s 前 / STALE, %s ago", span, span);
            age_alarm = OW_ALARM_BREACH;
        } else if (sc && sc->has_partitions && sc->partitions_stale > 0) {
            /* partitioned: an engine gone leaves its part of the picture old */
            format_span(sc->stale_age_s * 1000, span, sizeof span);
            if (sc->stale_never)
                snprintf(age_text, sizeof age_text, "分区 %d/%d 无数据 / partition %d: no data",
                         sc->partitions_stale, sc->partitions, sc->stale_partition);
            else
                snprintf(age_text, sizeof age_text, "分区 %d/%d 过时 / partition %d STALE %s",
                         sc->partitions_stale, sc->partitions, sc->stale_partition, span);
            age_alarm = OW_ALARM_BREACH;
        } else {
            snprintf(age_text, sizeof age_text, "数据 %s 前 / data %s ago", span, span);
        }
    }
    ow_draw_text_fit(d, 24, OW_FONT_REGULAR, ow_theme_alarm(age_alarm), age_text, sx,
                     y + px(l->u, 92), OW_ALIGN_LEFT, l->status.w);
}

/* "11-20 08:00" in local time (TZ) */
static void format_mdhm(int64_t ms, char *out, size_t n)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    snprintf(out, n, "%02d-%02d %02d:%02d", tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
}

/* Replay: "回放 REPLAY ×300" and the percentage, the progress bar, the replayed span. */
static void draw_replay(const ow_draw *d, const layout *l, const ow_board_frame *fr)
{
    const ow_scene *s = fr->scene;
    if (!s || s->core.mode != OW_MODE_REPLAY) return;
    const SDL_Rect R = l->replay;
    const SDL_Color amber = ow_theme_alarm(OW_ALARM_WARN);
    char head[64], pct[16] = "";
    if (s->has_replay && s->replay_speed > 0)
        snprintf(head, sizeof head, "回放 REPLAY ×%g", s->replay_speed);
    else
        snprintf(head, sizeof head, "回放 REPLAY");
    bool progress = s->has_replay && s->replay_progress_pct >= 0;
    if (progress) snprintf(pct, sizeof pct, "%.0f%%", s->replay_progress_pct);
    const int line1 = R.y + px(l->u, 44);
    int pw = progress
                 ? ow_draw_text(d, 26, OW_FONT_BOLD, amber, pct, R.x + R.w, line1, OW_ALIGN_RIGHT)
                 : 0;
    ow_draw_text_fit(d, 30, OW_FONT_BOLD, amber, head, R.x, line1, OW_ALIGN_LEFT,
                     R.w - pw - px(l->u, 12));
    if (!progress) return;
    SDL_Rect bar = ow_rect(R.x, R.y + px(l->u, 58), R.w, px(l->u, 14));
    int64_t done = (int64_t)(s->replay_progress_pct * 10);
    SDL_Color col[1] = {amber};
    ow_draw_stacked(d, bar, &done, col, 1, 1000);
    if (s->replay_start_ms >= 0 && s->replay_end_ms >= 0) {
        char a[32], b[32], span[80];
        format_mdhm(s->replay_start_ms, a, sizeof a);
        format_mdhm(s->replay_end_ms, b, sizeof b);
        snprintf(span, sizeof span, "%s → %s", a, b);
        ow_draw_text_fit(d, 20, OW_FONT_REGULAR, ow_theme_tone(OW_TONE_TEXT_DIM), span, R.x,
                         R.y + px(l->u, 98), OW_ALIGN_LEFT, R.w);
    }
}

static void draw_clock(const ow_draw *d, const layout *l, const ow_board_frame *fr)
{
    bool replay = fr->scene && fr->scene->core.mode == OW_MODE_REPLAY;
    time_t secs = (time_t)(ow_board_picture_now(fr) / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    char hms[32], date[96];
    strftime(hms, sizeof hms, "%H:%M:%S", &tm);
    snprintf(date, sizeof date, "%s%04d-%02d-%02d %s %s", replay ? "回放 " : "", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, weekday_zh[tm.tm_wday % 7], weekday_en[tm.tm_wday % 7]);
    const int right = l->clock.x + l->clock.w, y = l->header.y;
    ow_draw_ticker(d, 64, OW_FONT_BOLD,
                   replay ? ow_theme_alarm(OW_ALARM_WARN) : ow_theme_tone(OW_TONE_TEXT), hms, right,
                   y + px(l->u, 64), OW_ALIGN_RIGHT);
    ow_draw_text_fit(d, 22, OW_FONT_REGULAR,
                     replay ? ow_theme_alarm(OW_ALARM_WARN) : ow_theme_tone(OW_TONE_TEXT_DIM), date,
                     right, y + px(l->u, 98), OW_ALIGN_RIGHT, l->clock.w);
}

static void draw_footer(const ow_draw *d, const layout *l, const ow_board_frame *fr)
{
    const int baseline = l->footer.y + px(l->u, 22);
    const SDL_Color faint = ow_theme_tone(OW_TONE_TEXT_FAINT);
    char left[256], right[200], poll[32], stale[32];
    const ow_scene *s = fr->scene;
    if (s) {
        char ev[32], known[32];
        ow_format_int(s->core.events_applied, ev, sizeof ev);
        ow_format_int(s->core.orders_known, known, sizeof known);
        snprintf(left, sizeof left,
                 "快照 snapshot #%" PRId64 "  ·  已处理事件 events %s  ·  已知工单 orders %s%s%s",
                 s->core.seq, ev, known, s->bad[0] ? "  ·  格式有误 refused: " : "", s->bad);
    } else {
        snprintf(left, sizeof left, "快照 snapshot —");
    }
    format_span(fr->poll_ms, poll, sizeof poll);
    if (fr->poll_ms < 1000) snprintf(poll, sizeof poll, "%" PRId64 " ms", fr->poll_ms);
    format_span(fr->stale_ms, stale, sizeof stale);
    snprintf(right, sizeof right, "刷新 poll %s  ·  过时阈值 stale after %s", poll, stale);
    int rw = ow_draw_text(d, 18, OW_FONT_REGULAR, faint, right, l->footer.x + l->footer.w, baseline,
                          OW_ALIGN_RIGHT);
    ow_draw_text_fit(d, 18, OW_FONT_REGULAR, faint, left, l->footer.x, baseline, OW_ALIGN_LEFT,
                     l->footer.w - rw - px(l->u, 30));
}

/* ---- attention: new L2/L3 escalations and new breaches -------------------------------------- */

static void flash_start(ow_board *b, const ow_board_frame *fr, int level, const char *text)
{
    if (fr->flash_ms <= 0) return;
    b->flash_started = fr->mono_ms;
    b->flash_until = fr->mono_ms + fr->flash_ms;
    b->flash_level = level;
    snprintf(b->flash_text, sizeof b->flash_text, "%s", text);
}

/* Compare this scene's L2/L3 escalations with the last one's; true when one is new. */
static bool check_escalations(ow_board *b, const ow_board_frame *fr)
{
    const ow_scene *s = fr->scene;
    if (!s || !s->has_escalations) return false;
    bool fired = false;
    uint64_t now[SEEN_MAX];
    int n = 0;
    for (int i = 0; i < s->nescalations && n < SEEN_MAX; i++) {
        const ow_scene_escalation *e = &s->escalations[i];
        if (e->level < 2 || !e->id_hash) continue;
        now[n++] = e->id_hash;
        bool known = false;
        for (int k = 0; k < b->nseen && !known; k++)
            known = b->seen[k] == e->id_hash;
        if (known || !b->have_seen || fired) continue;
        char text[160], region[96];
        ow_panel_region_name(s, e->region, true, region, sizeof region);
        snprintf(text, sizeof text, "新升级 NEW L%d  %s %s  %s", e->level, e->subject, e->what,
                 region);
        flash_start(b, fr, e->level, text);
        fired = true;
    }
    memcpy(b->seen, now, (size_t)n * sizeof *now);
    b->nseen = n;
    b->have_seen = true;
    return fired;
}

/* A countdown that crossed zero since the last frame. */
static bool check_breaches(ow_board *b, const ow_board_frame *fr, int64_t pnow)
{
    const ow_scene *s = fr->scene;
    bool fired = false;
    if (s && s->has_urgent && b->last_tick_now != INT64_MIN && pnow > b->last_tick_now &&
        pnow - b->last_tick_now < 60000) {
        for (int i = 0; i < s->nurgent && !fired; i++) {
            const ow_scene_urgent *u = &s->urgent[i];
            if (u->breach_at_ms > b->last_tick_now && u->breach_at_ms <= pnow) {
                char text[160];
                snprintf(text, sizeof text, "超时 BREACH  %s %s", u->order_id, u->stage);
                flash_start(b, fr, 2, text);
                fired = true;
            }
        }
    }
    b->last_tick_now = pnow;
    return fired;
}

/* The flash: a banner over the header's middle and a border round the screen's grid, blinking and
 * fading over wallboard.flash. Text stays readable: the banner is opaque and the border thin. */
static bool flash_bright(const ow_board *b, int64_t mono)
{
    return ((mono - b->flash_started) / (FLASH_PERIOD_MS / 2)) % 2 == 0;
}

static SDL_Rect flash_banner(const layout *l)
{
    return ow_rect(l->status.x, l->header.y + px(l->u, 8), l->clock.x - px(l->u, 24) - l->status.x,
                   l->header.h - px(l->u, 16));
}

/* The banner over the header's middle. */
static void draw_flash(const ow_draw *d, const ow_board *b, const layout *l, int64_t mono)
{
    if (mono >= b->flash_until) return;
    const bool bright = flash_bright(b, mono);
    SDL_Color c = ow_theme_level(b->flash_level);
    SDL_Rect banner = flash_banner(l);
    ow_draw_fill(d, banner, bright ? c : ow_theme_tone(OW_TONE_PANEL));
    ow_draw_outline(d, banner, px(l->u, 4), c);
    ow_draw_text_fit(d, 36, OW_FONT_BOLD, bright ? ow_theme_tone(OW_TONE_BACKGROUND) : c,
                     b->flash_text, banner.x + banner.w / 2, banner.y + banner.h / 2 + px(l->u, 13),
                     OW_ALIGN_CENTER, banner.w - px(l->u, 24));
}

/* The flash's border round the grid: the four strips ow_draw_outline draws. */
static void flash_strips(const layout *l, SDL_Rect out[4])
{
    const SDL_Rect r = l->grid;
    const int w = px(l->u, 4) < 1 ? 1 : px(l->u, 4);
    out[0] = ow_rect(r.x, r.y, r.w, w);
    out[1] = ow_rect(r.x, r.y + r.h - w, r.w, w);
    out[2] = ow_rect(r.x, r.y + w, w, r.h - 2 * w);
    out[3] = ow_rect(r.x + r.w - w, r.y + w, w, r.h - 2 * w);
}

static void stale_strips(const layout *l, SDL_Rect out[4])
{
    const int f = l->frame;
    out[0] = ow_rect(0, 0, l->w, f);
    out[1] = ow_rect(0, l->h - f, l->w, f);
    out[2] = ow_rect(0, f, f, l->h - 2 * f);
    out[3] = ow_rect(l->w - f, f, f, l->h - 2 * f);
}

/* ---- drawing -------------------------------------------------------------------------------- */

/* ---- which panels changed ------------------------------------------------------------------- */

/* Region ids and names: the lists show names, not counts. */
static uint64_t hash_names(uint64_t h, const ow_scene *s)
{
    for (int i = 0; s->has_regions && i < s->nregions; i++) {
        h = ow_hash_mix(h, s->regions[i].id, strlen(s->regions[i].id));
        h = ow_hash_mix(h, s->regions[i].name_zh, strlen(s->regions[i].name_zh));
        h = ow_hash_mix(h, s->regions[i].name_en, strlen(s->regions[i].name_en));
    }
    return h;
}

/* A hash of exactly the members a panel draws (decoded arrays are zero-filled, padding too), so
 * a snapshot that changes the SLA board does not redraw the map. */
static uint64_t panel_hash(ow_panel_kind kind, const ow_scene *s)
{
    uint64_t h = OW_HASH_SEED;
    if (!s) return h;
    switch (kind) {
    case OW_PANEL_OPEN:
        h = ow_hash_mix(h, s->core.open, sizeof s->core.open);
        return ow_hash_mix(h, &s->core.open_total, sizeof s->core.open_total);
    case OW_PANEL_KPI:
        h = ow_hash_mix(h, &s->has_kpi, sizeof s->has_kpi);
        h = ow_hash_mix(h, s->kpi, sizeof s->kpi);
        return ow_hash_mix(h, s->targets, sizeof s->targets);
    case OW_PANEL_MAP:
        h = ow_hash_mix(h, &s->has_heat, sizeof s->has_heat);
        h = ow_hash_mix(h, s->cells, s->has_heat ? (size_t)s->ncells * sizeof *s->cells : 0);
        h = ow_hash_mix(h, s->heat_bbox, sizeof s->heat_bbox);
        h = ow_hash_mix(h, &s->has_techs_pos, sizeof s->has_techs_pos);
        h = ow_hash_mix(h, s->techs_pos,
                        s->has_techs_pos ? (size_t)s->ntechs_pos * sizeof *s->techs_pos : 0);
        /* the labels show each region's open count */
        for (int i = 0; s->has_regions && i < s->nregions; i++)
            h = ow_hash_mix(h, &s->regions[i].open, sizeof s->regions[i].open);
        return hash_names(h, s);
    case OW_PANEL_SLA:
        h = ow_hash_mix(h, &s->has_urgent, sizeof s->has_urgent);
        h = ow_hash_mix(h, s->urgent, s->has_urgent ? (size_t)s->nurgent * sizeof *s->urgent : 0);
        return hash_names(h, s);
    case OW_PANEL_ESCALATIONS:
        h = ow_hash_mix(h, &s->has_escalations, sizeof s->has_escalations);
        h = ow_hash_mix(h, s->escalations,
                        s->has_escalations ? (size_t)s->nescalations * sizeof *s->escalations : 0);
        return hash_names(h, s);
    case OW_PANEL_FLAGS:
        h = ow_hash_mix(h, &s->has_flags, sizeof s->has_flags);
        h = ow_hash_mix(h, s->flags, s->has_flags ? (size_t)s->nflags * sizeof *s->flags : 0);
        return hash_names(h, s);
    case OW_PANEL_TECHS:
    case OW_PANEL_REGIONS:
        h = ow_hash_mix(h, &s->has_techs, sizeof s->has_techs);
        h = ow_hash_mix(h, s->techs, sizeof s->techs);
        h = ow_hash_mix(h, &s->has_regions, sizeof s->has_regions);
        for (int i = 0; s->has_regions && i < s->nregions; i++) {
            const ow_scene_region *g = &s->regions[i];
            h = ow_hash_mix(h, &g->open, sizeof g->open * 4); /* open, breached, alerts, backlog */
            h = ow_hash_mix(h, g->techs, sizeof g->techs);
        }
        return hash_names(h, s);
    case OW_PANEL_SPARK:
        h = ow_hash_mix(h, &s->has_spark, sizeof s->has_spark);
        h = ow_hash_mix(h, &s->spark_bucket_s, sizeof s->spark_bucket_s);
        for (int k = 0; k < OW_SPARK__COUNT; k++)
            h = ow_hash_mix(h, s->spark[k], (size_t)s->spark_n[k] * sizeof(double));
        return h;
    case OW_PANEL__COUNT: break;
    }
    return h;
}

/* Which panels of a page the painter draws: the heaviest first (by area) to whichever side has
 * less, the map always here (its composition already runs on a thread of its own and its cache
 * belongs to this renderer). Depends on the layout only, so each side keeps its texts cached. */
static void assign_panels(const ow_page *pg, bool *painter)
{
    int load[2] = {0, 0}; /* here, painter */
    bool done[OW_PAGE_PANELS_MAX] = {false};
    for (int i = 0; i < pg->npanels; i++)
        if (pg->panels[i].kind == OW_PANEL_MAP) {
            painter[i] = false;
            done[i] = true;
            load[0] += pg->panels[i].cols * pg->panels[i].rows;
        }
    for (;;) {
        int best = -1;
        for (int i = 0; i < pg->npanels; i++)
            if (!done[i] && (best < 0 || pg->panels[i].cols * pg->panels[i].rows >
                                             pg->panels[best].cols * pg->panels[best].rows))
                best = i;
        if (best < 0) return;
        done[best] = true;
        painter[best] = load[1] <= load[0];
        load[painter[best]] += pg->panels[best].cols * pg->panels[best].rows;
    }
}

/* What the painter's thread draws: the dirty panels assigned to it. */
typedef struct painter_job {
    const ow_board *b;
    const ow_page *pg;
    const bool *todo;
    const ow_scene *scene;
    int64_t now_ms;
} painter_job;

/* Panel i of the page, clipped to its rectangle: panels drawn at the same time on two threads
 * into one canvas must not touch each other's pixels. */
static void draw_panel(const ow_panel_ctx *c, const ow_board *b, const ow_page *pg, int i)
{
    SDL_Rect r = panel_rect(&b->l, &b->pages, &pg->panels[i]);
    SDL_RenderSetClipRect(c->d->r, &r);
    panel_defs[pg->panels[i].kind].draw(c, r);
    SDL_RenderSetClipRect(c->d->r, NULL);
}

static void painter_draw(void *arg, const ow_draw *d)
{
    const painter_job *j = arg;
    ow_panel_ctx c = {d, j->scene, j->now_ms, NULL};
    for (int i = 0; i < j->pg->npanels; i++)
        if (j->todo[i]) draw_panel(&c, j->b, j->pg, i);
}

/* Draw the data layer — into the cached layer texture, or on a canvas straight onto the screen:
 * everything on a new page or size; otherwise only the panels whose members changed, and the
 * footer. Panels do not overlap and each writes its whole rectangle (clipped to it), so the order
 * and the thread they are drawn on do not change a pixel: the map's composition starts first (on
 * its own thread) and the map is drawn last; about half of the other panels are drawn by the
 * painter on a second thread meanwhile — on a canvas straight into the same pixels, else into a
 * surface of its own and copied into the layer at the end. The rectangles drawn are added to
 * drawn[] (the caller's, OW_PAGE_PANELS_MAX + 1). */
static void draw_layer(ow_board *b, const ow_draw *d, const ow_board_frame *fr, int page,
                       bool whole, bool into_layer, SDL_Surface *canvas, SDL_Rect *drawn,
                       int *ndrawn)
{
    const layout *l = &b->l;
    const SDL_Color bg = ow_theme_tone(OW_TONE_BACKGROUND);
    const ow_page *pg = &b->pages.pages[page];
    ow_panel_ctx c = {d, fr->scene, ow_board_picture_now(fr), b->map};
    bool dirty[OW_PAGE_PANELS_MAX], side[OW_PAGE_PANELS_MAX], todo[OW_PAGE_PANELS_MAX];
    const int64_t map_before = ow_mapview_compose_cpu_us(b->map);
    assign_panels(pg, side);
    int nside = 0;
    for (int i = 0; i < pg->npanels; i++) {
        uint64_t h = panel_hash(pg->panels[i].kind, fr->scene) ^ (fr->scene ? 0 : 1);
        dirty[i] = whole || h != b->panel_hash[i];
        b->panel_hash[i] = h;
        todo[i] = dirty[i] && side[i];
        nside += todo[i];
        if (dirty[i]) drawn[(*ndrawn)++] = panel_rect(l, &b->pages, &pg->panels[i]);
    }
    if (whole) {
        SDL_SetRenderDrawBlendMode(b->r, SDL_BLENDMODE_NONE);
        SDL_SetRenderDrawColor(b->r, bg.r, bg.g, bg.b, 0xFF);
        SDL_RenderClear(b->r);
        draw_title(d, l, &b->pages, page);
    } else {
        ow_draw_fill(d, l->footer, bg);
    }
    drawn[(*ndrawn)++] = whole ? ow_rect(0, 0, l->w, l->h) : l->footer;
    /* on a canvas the map's worker and the painter draw into the same pixels: the clear lands
     * before they start */
    if (canvas) SDL_RenderFlush(b->r);
    for (int i = 0; i < pg->npanels; i++) {
        const struct panel_def *def = &panel_defs[pg->panels[i].kind];
        if (dirty[i] && def->prepare && !b->one_thread)
            def->prepare(&c, panel_rect(l, &b->pages, &pg->panels[i]));
    }
    painter_job job = {b, pg, todo, fr->scene, c.now_ms};
    bool painting = !b->one_thread && (into_layer || canvas) && nside > 0 &&
                    (canvas ? ow_painter_target(b->painter, canvas)
                            : ow_painter_size(b->painter, l->w, l->h)) &&
                    ow_painter_start(b->painter, l->u, painter_draw, &job);
    draw_footer(d, l, fr);
    for (int last = 0; last < 2; last++)
        for (int i = 0; i < pg->npanels; i++) {
            const struct panel_def *def = &panel_defs[pg->panels[i].kind];
            if (dirty[i] && !(painting && todo[i]) && (def->prepare != NULL) == last)
                draw_panel(&c, b, pg, i);
        }
    if (ow_mapview_compose_cpu_us(b->map) != map_before)
        b->map_cpu_us = ow_mapview_compose_cpu_us(b->map);
    if (!painting) return;
    ow_painter_finish(b->painter);
    b->painter_cpu_us = ow_painter_job_cpu_us(b->painter);
    if (canvas) return;    /* drawn in place */
    SDL_RenderFlush(b->r); /* the clear and this side's panels land before the copies */
    for (int i = 0; i < pg->npanels; i++)
        if (todo[i])
            ow_painter_copy(b->painter, b->layer, panel_rect(l, &b->pages, &pg->panels[i]));
}

/* ---- canvas mode: the pixels under the ticking parts ---------------------------------------- */

/* Copy r of src into dst at (x, y) (both 32-bit). */
static void copy_px(SDL_Surface *dst, int x, int y, const SDL_Surface *src, SDL_Rect r)
{
    for (int row = 0; row < r.h; row++)
        memcpy((uint8_t *)dst->pixels + (size_t)(y + row) * dst->pitch + (size_t)x * 4,
               (const uint8_t *)src->pixels + (size_t)(r.y + row) * src->pitch + (size_t)r.x * 4,
               (size_t)r.w * 4);
}

/* The rectangles the ticking parts of `page` may draw in; false when their copies cannot be
 * made (the board then draws the whole canvas every frame). */
static bool unders_make(ow_board *b, const ow_draw *d, int page)
{
    unders_free(b);
    const layout *l = &b->l;
    SDL_Rect r[UNDER_MAX];
    int n = 0;
    r[n++] = l->status;
    r[n++] = l->replay;
    r[n++] = l->clock;
    r[n++] = flash_banner(l);
    flash_strips(l, &r[n]);
    n += 4;
    stale_strips(l, &r[n]);
    n += 4;
    const ow_page *pg = &b->pages.pages[page];
    for (int i = 0; i < pg->npanels; i++) {
        const struct panel_def *def = &panel_defs[pg->panels[i].kind];
        if (def->tick_area) r[n++] = def->tick_area(d, panel_rect(l, &b->pages, &pg->panels[i]));
    }
    const SDL_Rect screen = ow_rect(0, 0, l->w, l->h);
    for (int i = 0; i < n; i++) {
        under *u = &b->unders[b->nunders++];
        if (!SDL_IntersectRect(&r[i], &screen, &u->r)) u->r = ow_rect(0, 0, 0, 0);
        u->px = SDL_CreateRGBSurfaceWithFormat(0, u->r.w > 0 ? u->r.w : 1, u->r.h > 0 ? u->r.h : 1,
                                               32, SDL_PIXELFORMAT_RGB888);
        if (!u->px) {
            unders_free(b);
            return false;
        }
    }
    return true;
}

/* Keep what the data layer put under the ticking parts: the rectangles that meet drawn[]. */
static void unders_save(ow_board *b, SDL_Surface *canvas, const SDL_Rect *drawn, int ndrawn)
{
    for (int i = 0; i < b->nunders; i++) {
        under *u = &b->unders[i];
        for (int k = 0; k < ndrawn; k++)
            if (SDL_HasIntersection(&u->r, &drawn[k])) {
                copy_px(u->px, 0, 0, canvas, u->r);
                u->touched.n = 0;
                break;
            }
    }
}

/* Put back what the last frame's ticking parts drew over. */
static void unders_restore(ow_board *b, SDL_Surface *canvas)
{
    for (int i = 0; i < b->nunders; i++) {
        under *u = &b->unders[i];
        for (int k = 0; k < u->touched.n; k++) {
            SDL_Rect t;
            if (SDL_IntersectRect(&u->touched.r[k], &u->r, &t))
                copy_px(canvas, t.x, t.y, u->px, ow_rect(t.x - u->r.x, t.y - u->r.y, t.w, t.h));
        }
        u->touched.n = 0;
    }
}

/* The drawing of a ticking part over under i: clipped to r (the under's rectangle), what it
 * draws noted in the under. */
static ow_draw under_begin(ow_board *b, const ow_draw *d, int i, SDL_Rect r)
{
    ow_draw t = *d;
    t.touched = i < b->nunders ? &b->unders[i].touched : NULL;
    SDL_RenderSetClipRect(d->r, &r);
    return t;
}

bool ow_board_in_place(const SDL_Surface *c)
{
    return c && c->pixels && c->format->format == SDL_PIXELFORMAT_RGB888;
}

/* A canvas the board can draw on in place: the screen's XRGB8888 pixels at the frame's size. */
static SDL_Surface *usable_canvas(SDL_Surface *c, int w, int h)
{
    return ow_board_in_place(c) && c->w == w && c->h == h ? c : NULL;
}

bool ow_board_draw(ow_board *b, int w, int h, const ow_board_frame *fr)
{
    SDL_Surface *canvas = usable_canvas(fr->canvas, w, h);
    b->painter_cpu_us = b->map_cpu_us = 0;
    if (w != b->l.w || h != b->l.h) {
        layout_compute(w, h, &b->l);
        if (b->layer) SDL_DestroyTexture(b->layer);
        b->layer = NULL;
        b->layer_ok = b->canvas_ok = false;
    }
    if (canvas) {
        if (b->layer) SDL_DestroyTexture(b->layer); /* not needed on a canvas */
        b->layer = NULL;
        b->layer_ok = false;
        if (canvas->pixels != b->canvas_px || canvas->pitch != b->canvas_pitch)
            b->canvas_ok = false;
    } else {
        b->canvas_ok = false;
        if (!b->layer)
            b->layer =
                /* opaque, the screen surface's format: copying it is a memcpy, not a conversion */
                SDL_CreateTexture(b->r, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_TARGET, w, h);
    }
    const layout *l = &b->l;
    /* fills go straight into the canvas; the ticking parts are drawn over the screen */
    const ow_draw d = {b->r, b->f, l->u, canvas, NULL};
    const int page = fr->page >= 0 && fr->page < b->pages.npages ? fr->page : 0;
    const int64_t pnow = ow_board_picture_now(fr);

    const bool held = canvas ? b->canvas_ok : b->layer_ok;
    bool new_data = !held || fr->scene != b->key_scene ||
                    (fr->scene && fr->scene->core.seq != b->key_seq) || page != b->key_page;
    bool flashed = false;
    if (fr->scene != b->key_scene || (fr->scene && fr->scene->core.seq != b->key_seq))
        flashed = check_escalations(b, fr);
    flashed |= check_breaches(b, fr, pnow);

    if (canvas) {
        /* the screen kept the last frame: put back what its ticking parts covered, redraw the
         * panels whose data changed in place, keep what lies under the ticking parts again */
        SDL_RenderFlush(b->r);
        if (b->canvas_ok) unders_restore(b, canvas);
        if (new_data) {
            const bool whole = !b->canvas_ok || page != b->key_page;
            bool kept = !whole || unders_make(b, &d, page);
            SDL_Rect drawn[OW_PAGE_PANELS_MAX + 1];
            int ndrawn = 0;
            draw_layer(b, &d, fr, page, whole, false, canvas, drawn, &ndrawn);
            SDL_RenderFlush(b->r);
            unders_save(b, canvas, drawn, ndrawn);
            b->canvas_ok = kept;
            b->canvas_px = canvas->pixels;
            b->canvas_pitch = canvas->pitch;
        }
    } else if (new_data) {
        bool whole = !b->layer_ok || page != b->key_page;
        SDL_Rect drawn[OW_PAGE_PANELS_MAX + 1];
        int ndrawn = 0;
        if (b->layer && SDL_SetRenderTarget(b->r, b->layer) == 0) {
            draw_layer(b, &d, fr, page, whole, true, NULL, drawn, &ndrawn);
            SDL_SetRenderTarget(b->r, NULL);
            b->layer_ok = true;
        } else {
            b->layer_ok = false;
        }
    }
    if (new_data) {
        b->key_scene = fr->scene;
        b->key_seq = fr->scene ? fr->scene->core.seq : -1;
        b->key_page = page;
    }
    if (!canvas && b->layer_ok) {
        SDL_SetTextureBlendMode(b->layer, SDL_BLENDMODE_NONE);
        SDL_RenderCopy(b->r, b->layer, NULL, NULL);
    } else if (!canvas) {
        /* no target textures: everything, every frame, on this thread */
        SDL_Rect drawn[OW_PAGE_PANELS_MAX + 1];
        int ndrawn = 0;
        draw_layer(b, &d, fr, page, true, false, NULL, drawn, &ndrawn);
    }
    /* the ticking parts, each clipped to the rectangle kept under it */
    ow_draw t = under_begin(b, &d, UNDER_STATUS, l->status);
    draw_status(&t, l, fr);
    t = under_begin(b, &d, UNDER_REPLAY, l->replay);
    draw_replay(&t, l, fr);
    t = under_begin(b, &d, UNDER_CLOCK, l->clock);
    draw_clock(&t, l, fr);
    const ow_page *pg = &b->pages.pages[page];
    for (int i = 0, k = UNDER_PANELS; i < pg->npanels; i++) {
        const struct panel_def *def = &panel_defs[pg->panels[i].kind];
        if (!def->tick) continue;
        SDL_Rect r = panel_rect(l, &b->pages, &pg->panels[i]);
        t = under_begin(b, &d, k++, def->tick_area(&d, r));
        ow_panel_ctx c = {&t, fr->scene, pnow, b->map};
        def->tick(&c, r);
    }
    if (fr->mono_ms < b->flash_until) {
        t = under_begin(b, &d, UNDER_BANNER, flash_banner(l));
        draw_flash(&t, b, l, fr->mono_ms);
        if (flash_bright(b, fr->mono_ms)) {
            SDL_Rect strips[4];
            flash_strips(l, strips);
            for (int i = 0; i < 4; i++) {
                t = under_begin(b, &d, UNDER_FLASH + i, strips[i]);
                ow_draw_fill(&t, strips[i], ow_theme_level(b->flash_level));
            }
        }
    }
    if (ow_board_is_stale(fr)) {
        SDL_Rect strips[4];
        stale_strips(l, strips);
        for (int i = 0; i < 4; i++) {
            t = under_begin(b, &d, UNDER_STALE + i, strips[i]);
            ow_draw_fill(&t, strips[i], ow_theme_alarm(OW_ALARM_BREACH));
        }
    }
    SDL_RenderSetClipRect(b->r, NULL);
    return flashed;
}

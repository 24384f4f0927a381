/*
 * opswall-wallboard — the command-center big screen.
 *
 *   opswall-wallboard [--config PATH]                       live from Redis, in a window
 *   opswall-wallboard --snapshot-file s.json --screenshot out.png --size 3840x2160 --clock MS
 *
 * One thread runs SDL: it waits for events with SDL_WaitEventTimeout and redraws only when the
 * data changed, the window needs it, or the displayed second ticks. The source's worker thread
 * (source.c) does the blocking Redis reads and wakes this loop with an SDL user event.
 * SIGINT/SIGTERM and closing the window end the loop through SDL_QUIT.
 */
#define SDL_MAIN_HANDLED
#include <SDL.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <math.h>

#include "board.h"
#include "clock.h"
#include "config.h"
#include "files.h"
#include "font.h"
#include "keys.h"
#include "log.h"
#include "options.h"
#include "partition.h"
#include "pages.h"
#include "regions.h"
#include "redis.h"
#include "screen.h"
#include "source.h"

#define LATEST_EVERY_MS   5000 /* headless: rewrite latest.png at least this often... */
#define LATEST_MIN_GAP_MS 1000 /* ...and on a data change, but not more often than this */
#define LATEST_DEFAULT    "var/wallboard/latest.png"

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_NO_DATA = 2 };

typedef struct app {
    ow_options opt;
    ow_config cfg;
    ow_redis_env env;
    bool env_open;
    ow_partition_table table; /* cluster.regions, when partitioned */
    bool table_ok;
    ow_source *source;
    ow_screen *screen;
    ow_font *font;
    ow_pages pages;
    ow_regions *city;
    ow_board *board;
    Uint32 source_event; /* SDL user event: the source has something new */
    ow_scene *scene;     /* the snapshot on screen (taken from the source) */
    int64_t received_ms;
    int64_t started_mono; /* page rotation counts from here */
    SDL_AudioDeviceID audio;
} app;

static int64_t app_now(const app *a)
{
    return a->opt.clock_ms >= 0 ? a->opt.clock_ms : ow_clock_wall_ms();
}

/* The frame for the source's current state; takes a newer scene from the source if there is one. */
static void frame_build(app *a, const ow_source_state *st, ow_board_frame *fr)
{
    int64_t now = app_now(a);
    ow_scene *newer = ow_source_take_scene(a->source);
    if (newer) {
        if (!a->scene)
            ow_info("first snapshot: #%" PRId64 ", open %" PRId64 " (emergency %" PRId64
                    ", important %" PRId64 ", general %" PRId64 ")",
                    newer->core.seq, newer->core.open_total, newer->core.open[OW_PRIO_EMERGENCY],
                    newer->core.open[OW_PRIO_IMPORTANT], newer->core.open[OW_PRIO_GENERAL]);
        ow_scene_free(a->scene);
        a->scene = newer;
        a->received_ms = now;
    }
    int64_t mono = ow_clock_mono_ms();
    *fr = (ow_board_frame){.now_ms = now,
                           .mono_ms = mono,
                           .link = st->link,
                           .failing = st->failures > 0,
                           .scene = a->scene,
                           .received_ms = a->received_ms,
                           .stale_ms = a->cfg.wallboard.stale_ms,
                           .poll_ms = a->cfg.wallboard.poll_ms,
                           .flash_ms = a->cfg.wallboard.flash_ms,
                           .page = ow_pages_at(&a->pages, mono - a->started_mono, NULL),
                           .canvas = ow_screen_canvas(a->screen)};
}

/* The layout file (wallboard.layout) and the city's regions (city.regions): read at start. */
static int load_files(app *a, ow_err *err)
{
    char path[PATH_MAX], *text;
    size_t len;
    if (a->opt.layout)
        snprintf(path, sizeof path, "%s", a->opt.layout);
    else
        ow_config_path(&a->cfg, a->cfg.wallboard.layout, path, sizeof path);
    int rc = ow_file_read(path, 1u << 20, &text, &len, err);
    if (rc) {
        ow_err_prefix(err, "wallboard.layout");
        return rc;
    }
    rc = ow_pages_parse(text, len, path, &a->pages, err);
    free(text);
    if (rc) return rc;
    ow_config_path(&a->cfg, a->cfg.city.regions, path, sizeof path);
    if (ow_file_read(path, 64u << 20, &text, &len, err) == OW_OK) {
        rc = ow_regions_parse(text, len, path, a->cfg.city.name_property, &a->city, err);
        free(text);
        if (rc) return rc;
    } else {
        ow_warn("city.regions: %s; the map shows no region boundaries", err->msg);
    }
    return OW_OK;
}

/* wallboard.sound: a short two-tone chime with a flash (nothing when no audio device opens). */
static void chime(app *a)
{
    if (!a->cfg.wallboard.sound) return;
    if (!a->audio) {
        if (SDL_InitSubSystem(SDL_INIT_AUDIO) != 0) return;
        SDL_AudioSpec want = {
            .freq = 22050, .format = AUDIO_S16SYS, .channels = 1, .samples = 1024};
        a->audio = SDL_OpenAudioDevice(NULL, 0, &want, NULL, 0);
        if (!a->audio) {
            ow_warn("wallboard.sound: no audio device: %s", SDL_GetError());
            a->cfg.wallboard.sound = false;
            return;
        }
        SDL_PauseAudioDevice(a->audio, 0);
    }
    int16_t tone[22050 * 4 / 10]; /* 0.4 s, queued (copied) by SDL */
    const int n = (int)(sizeof tone / sizeof tone[0]);
    for (int i = 0; i < n; i++) {
        double f = i < n / 2 ? 880.0 : 660.0, env = 1.0 - (double)(i % (n / 2)) / (n / 2);
        tone[i] = (int16_t)(6000 * env * sin(2 * 3.14159265358979 * f * i / 22050));
    }
    SDL_QueueAudio(a->audio, tone, sizeof tone);
}

static int open_source(app *a, ow_err *err)
{
    int64_t poll = a->cfg.wallboard.poll_ms;
    if (a->opt.snapshot_file) {
        ow_info("reading snapshots from the file %s", a->opt.snapshot_file);
        return ow_source_new_file(a->opt.snapshot_file, poll, &a->source, err);
    }
    int rc = ow_redis_env_open(&a->cfg, &a->env, err);
    if (rc) return rc;
    a->env_open = true;
    if (a->cfg.cluster.partitions <= 1) {
        ow_info("reading %s from Redis at %s every %" PRId64 " ms", OW_KEY_SNAPSHOT, a->env.desc,
                poll);
        return ow_source_new_redis(&a->env, poll, &a->source, err);
    }
    /* partitioned: every partition's snapshot, merged (docs/scaling.md §7) */
    if ((rc = ow_partition_load(&a->cfg, &a->table, err))) return rc;
    a->table_ok = true;
    ow_info("reading the snapshots of %d partitions from Redis at %s every %" PRId64 " ms, merged",
            (int)a->cfg.cluster.partitions, a->env.desc, poll);
    if ((rc = ow_source_new_redis(&a->env, poll, &a->source, err))) return rc;
    return ow_source_partitions(a->source, &a->cfg, &a->table, err);
}

static int open_font(app *a, ow_err *err)
{
    char path[PATH_MAX], desc[1024];
    ow_config_path(&a->cfg, a->cfg.wallboard.font, path, sizeof path);
    int rc = ow_font_new(ow_screen_renderer(a->screen), path, &a->font, err);
    if (rc) return rc;
    ow_font_describe(a->font, desc, sizeof desc);
    ow_info("fonts: %s", desc);
    return OW_OK;
}

static bool draw(app *a, const ow_source_state *st)
{
    int w, h;
    ow_screen_size(a->screen, &w, &h);
    ow_board_frame fr;
    frame_build(a, st, &fr);
    bool flashed = ow_board_draw(a->board, w, h, &fr);
    ow_font_frame_end(a->font);
    if (flashed) chime(a);
    return flashed;
}

static int open_board(app *a, ow_err *err)
{
    int rc =
        ow_board_new(ow_screen_renderer(a->screen), a->font, &a->pages, a->city, &a->board, err);
    /* one thread on a single-core kiosk PC: there the helpers only add switching */
    if (!rc && !a->cfg.wallboard.threads) ow_board_set_threads(a->board, false);
    return rc;
}

/* Start the rotation at `page` (--page): the elapsed time at which it begins. */
static int64_t page_offset(const ow_pages *p, int page)
{
    int64_t t = 0;
    for (int i = 0; i < page && i < p->npages; i++)
        t += p->pages[i].dwell_ms;
    return t;
}

/* ---- --print-layout ------------------------------------------------------------------------- */

static int print_layout(const app *a)
{
    ow_board_region regions[OW_BOARD_REGIONS_MAX];
    int n = ow_board_regions(&a->pages, (int)a->cfg.wallboard.width, (int)a->cfg.wallboard.height,
                             a->opt.page, regions, OW_BOARD_REGIONS_MAX);
    for (int i = 0; i < n; i++)
        printf("%s %dx%d+%d+%d\n", regions[i].name, regions[i].rect.w, regions[i].rect.h,
               regions[i].rect.x, regions[i].rect.y);
    return EXIT_OK;
}

/* ---- --screenshot --------------------------------------------------------------------------- */

static int run_screenshot(app *a)
{
    ow_err err;
    int status = EXIT_OK;
    if (ow_source_fetch(a->source, &err) != OW_OK) {
        ow_warn("the screenshot shows no snapshot: %s", err.msg);
        status = EXIT_NO_DATA;
    }
    int w = (int)a->cfg.wallboard.width, h = (int)a->cfg.wallboard.height;
    if (ow_screen_new_surface(w, h, &a->screen, &err) || open_font(a, &err) ||
        open_board(a, &err)) {
        ow_error("%s", err.msg);
        return EXIT_ERROR;
    }
    ow_source_state st;
    ow_source_get(a->source, &st);
    draw(a, &st);
    if (ow_screen_save_png(a->screen, a->opt.screenshot, &err)) {
        ow_error("%s", err.msg);
        return EXIT_ERROR;
    }
    ow_info("wrote %s (%dx%d, %s)", a->opt.screenshot, w, h, ow_link_name(st.link));
    return status;
}

/* ---- window mode ---------------------------------------------------------------------------- */

static void notify_source(void *user)
{
    app *a = user; /* worker thread: ow_screen_wake is thread-safe */
    ow_screen_wake(a->screen, a->source_event);
}

static int mkdir_parents(const char *file)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", file);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return 0;
}

/* The window loop's bookkeeping. */
typedef struct loop {
    bool headless;         /* offscreen/dummy driver: nobody sees it, write `latest` instead */
    char latest[PATH_MAX]; /* PNG of the current picture (headless only) */
    int64_t started;       /* monotonic ms */
    int64_t frames, shown_second, latest_at;
    uint64_t shown_changes, latest_changes;
    int shown_page;
    bool dirty, quit, animated;
} loop;

static void announce_headless(app *a, loop *lp, bool forced)
{
    if (a->opt.latest)
        snprintf(lp->latest, sizeof lp->latest, "%s", a->opt.latest);
    else
        ow_config_path(&a->cfg, LATEST_DEFAULT, lp->latest, sizeof lp->latest);
    if (mkdir_parents(lp->latest) != 0) ow_warn("cannot create the folder of %s", lp->latest);
    if (forced)
        printf("opswall-wallboard: no display (DISPLAY and SDL_VIDEODRIVER unset): using "
               "SDL_VIDEODRIVER=offscreen; the picture is written to %s every %d s\n",
               lp->latest, LATEST_EVERY_MS / 1000);
    else
        ow_info("headless video driver: the picture is written to %s every %d s", lp->latest,
                LATEST_EVERY_MS / 1000);
    fflush(stdout);
}

/* How long to sleep: until the next displayed second, the next PNG, or the exit deadline. */
static int64_t loop_timeout(const app *a, const loop *lp, uint64_t changes, int64_t now_mono)
{
    if (lp->dirty) return 0;
    int64_t t = 1000; /* a fixed --clock never ticks; still look at the deadlines once a second */
    if (a->opt.clock_ms < 0) t = 1000 - ow_clock_wall_ms() % 1000 + 2;
    if (lp->headless) {
        int64_t gap = changes != lp->latest_changes ? LATEST_MIN_GAP_MS : LATEST_EVERY_MS;
        int64_t due = lp->latest_at + gap - now_mono;
        if (due < t) t = due;
    }
    if (a->opt.exit_after_ms) {
        int64_t left = lp->started + a->opt.exit_after_ms - now_mono;
        if (left < t) t = left;
    }
    /* the next page of the rotation, and the flash animation (8 frames a second) */
    int64_t next_page;
    ow_pages_at(&a->pages, now_mono - a->started_mono, &next_page);
    if (next_page != INT64_MAX && next_page + a->started_mono - now_mono < t)
        t = next_page + a->started_mono - now_mono;
    if (a->board && ow_board_animating(a->board, now_mono) && t > 125) t = 125;
    return t > 0 ? t : 0;
}

static void loop_events(app *a, loop *lp, int64_t timeout)
{
    SDL_Event ev;
    if (!ow_screen_wait_event(a->screen, &ev, (int)timeout)) return;
    do {
        if (ev.type == SDL_QUIT) {
            lp->quit = true; /* window closed, SIGINT or SIGTERM */
        } else if (ev.type == SDL_WINDOWEVENT) {
            if (ev.window.event == SDL_WINDOWEVENT_SIZE_CHANGED ||
                ev.window.event == SDL_WINDOWEVENT_EXPOSED) {
                lp->dirty = true;
                ow_board_invalidate(a->board); /* the window's pixels may be new */
            }
        } else if (ev.type == SDL_KEYDOWN) {
            if (ev.key.keysym.sym == SDLK_ESCAPE || ev.key.keysym.sym == SDLK_q) lp->quit = true;
        }
        /* a->source_event only wakes us: the state is read below */
    } while (SDL_PollEvent(&ev));
}

/* Draw if anything visible changed (or a PNG is due). */
static void loop_frame(app *a, loop *lp, const ow_source_state *st, int64_t now_mono)
{
    int64_t second = app_now(a) / 1000;
    int page = ow_pages_at(&a->pages, now_mono - a->started_mono, NULL);
    /* --frames counts drawn frames: draw on every wake-up (at least once a second) then */
    if (st->changes != lp->shown_changes || second != lp->shown_second || a->opt.frames ||
        page != lp->shown_page || ow_board_animating(a->board, now_mono) || lp->animated)
        lp->dirty = true;
    int64_t since_png = now_mono - lp->latest_at;
    bool png_due =
        lp->headless && (since_png >= LATEST_EVERY_MS ||
                         (st->changes != lp->latest_changes && since_png >= LATEST_MIN_GAP_MS));
    if (!lp->dirty && !png_due) return;

    int64_t t0 = ow_clock_mono_us();
    /* the first frame of a flash is always written: it is the picture an unattended screen's
     * watcher needs, and later PNGs may fall on the flash's dim half */
    if (draw(a, st) && lp->headless) png_due = true;
    ow_debug("frame %" PRId64 " drawn in %.1f ms", lp->frames + 1,
             (double)(ow_clock_mono_us() - t0) / 1000.0);
    if (png_due) {
        ow_err err;
        if (ow_screen_save_png(a->screen, lp->latest, &err)) ow_warn("%s", err.msg);
        lp->latest_at = now_mono;
        lp->latest_changes = st->changes;
    }
    ow_screen_present(a->screen);
    if (lp->frames == 0) ow_info("first frame shown");
    lp->frames++;
    lp->dirty = false;
    lp->shown_changes = st->changes;
    lp->shown_second = second;
    lp->shown_page = page;
    lp->animated = ow_board_animating(a->board, now_mono); /* one more frame after it ends */
}

static int run_window(app *a)
{
    ow_err err;
    ow_window_opts wo = {(int)a->cfg.wallboard.width, (int)a->cfg.wallboard.height,
                         a->cfg.wallboard.fullscreen, (int)a->cfg.wallboard.display};
    bool forced;
    if (ow_screen_new_window(&wo, &a->screen, &forced, &err) || open_font(a, &err) ||
        open_board(a, &err)) {
        ow_error("%s", err.msg);
        return EXIT_ERROR;
    }
    ow_info("%s", ow_screen_describe(a->screen));
    ow_info("the board draws %s", ow_board_in_place(ow_screen_canvas(a->screen))
                                      ? "in place, on the software renderer's own pixels"
                                      : "through a layer texture, copied to the screen each frame");
    loop lp = {.headless = ow_screen_headless(a->screen),
               .started = ow_clock_mono_ms(),
               .shown_second = -1,
               .latest_at = INT64_MIN / 2,
               .shown_changes = UINT64_MAX,
               .latest_changes = UINT64_MAX,
               .dirty = true};
    if (lp.headless) announce_headless(a, &lp, forced);

    /* read once before the first frame, so it does not flash "no data" */
    if (ow_source_fetch(a->source, &err) != OW_OK) ow_info("no snapshot yet: %s", err.msg);
    a->source_event = SDL_RegisterEvents(1);
    if (a->source_event == (Uint32)-1 || ow_source_start(a->source, notify_source, a, &err)) {
        ow_error("%s", a->source_event == (Uint32)-1 ? SDL_GetError() : err.msg);
        return EXIT_ERROR;
    }

    ow_source_state st;
    while (!lp.quit) {
        ow_source_get(a->source, &st);
        loop_events(a, &lp, loop_timeout(a, &lp, st.changes, ow_clock_mono_ms()));
        int64_t now_mono = ow_clock_mono_ms();
        if (lp.quit || (a->opt.exit_after_ms && now_mono - lp.started >= a->opt.exit_after_ms))
            break;
        ow_source_get(a->source, &st);
        loop_frame(a, &lp, &st, now_mono);
        if (a->opt.frames && lp.frames >= a->opt.frames) break;
    }
    ow_info("stopping after %" PRId64 " frame%s", lp.frames, lp.frames == 1 ? "" : "s");
    return EXIT_OK;
}

/* ---- main ----------------------------------------------------------------------------------- */

static int configure(app *a, int argc, char **argv)
{
    ow_err err;
    if (ow_options_parse(argc, argv, &a->opt, &err)) {
        fprintf(stderr, "opswall-wallboard: %s\n", err.msg);
        return EXIT_ERROR;
    }
    if (a->opt.help) {
        ow_options_usage(stdout);
        return -1;
    }
    if (ow_config_load(&a->cfg, a->opt.config, &err)) {
        ow_error("%s", err.msg);
        return EXIT_ERROR;
    }
    if (a->opt.width) {
        a->cfg.wallboard.width = a->opt.width;
        a->cfg.wallboard.height = a->opt.height;
    }
    if (a->opt.fullscreen) a->cfg.wallboard.fullscreen = true;
    if (a->opt.display >= 0) a->cfg.wallboard.display = a->opt.display;
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    ow_log_init("wallboard", OW_LOG_INFO);
    app a = {0};
    int status = configure(&a, argc, argv);
    if (status != EXIT_OK) return status < 0 ? EXIT_OK : status;
    ow_err err;
    if (load_files(&a, &err)) {
        ow_error("%s", err.msg);
        ow_regions_free(a.city);
        return EXIT_ERROR;
    }
    if (a.opt.print_layout) {
        ow_regions_free(a.city);
        return print_layout(&a);
    }
    a.started_mono =
        ow_clock_mono_ms() - (a.opt.page > 0 ? page_offset(&a.pages, (int)a.opt.page) : 0);
    if (open_source(&a, &err)) {
        ow_error("%s", err.msg);
        status = EXIT_ERROR;
    } else if (a.opt.screenshot) {
        status = run_screenshot(&a);
    } else {
        status = run_window(&a);
    }
    ow_source_free(a.source);
    ow_scene_free(a.scene);
    ow_board_free(a.board);
    ow_font_free(a.font);
    ow_screen_free(a.screen);
    if (a.audio) SDL_CloseAudioDevice(a.audio);
    ow_regions_free(a.city);
    if (a.env_open) ow_redis_env_close(&a.env);
    if (a.table_ok) ow_partition_table_fini(&a.table);
    return status;
}

/*
 * wallboard_bench — frame time of the wallboard on SDL's software renderer with the rainstorm
 * fixture (bench/wb_fixture.h: 200,000 open orders, 5,000 technicians, 50 flags, 30 escalations),
 * at 1920x1080 and 3840x2160, and the CPU an unchanged board costs. Prints one JSON line.
 *
 *   wallboard_bench [--repo DIR] [--frames N] [--idle-s S] [--size 1920x1080|3840x2160]
 *                   [--layer 1]
 *
 * Per size (both unless --size), the same board code the program runs (board.c on an offscreen
 * surface, as --screenshot draws: in place on the software renderer's pixels; with --layer 1
 * through a layer texture copied whole each frame, the path of a GPU renderer):
 *   tick   frames where only the clock moved (the SLA countdowns and the header tick): what the
 *          wall draws once a second while the data is unchanged;
 *   data   frames where a new snapshot arrived (two different fixtures, alternately): every
 *          panel of the cached data layer is redrawn, the map composed again (the worst case);
 *   delta  frames where only the fast members changed (open, urgent, alerts — what most 250 ms
 *          deltas carry): only the panels that show them are redrawn;
 *   page   the same, flipping between the layout's two pages;
 *   limit  the physical floor of a frame measured in the same run: one full-screen texture copy
 *          (what a tick frame starts with).
 * idle: the board drawn as the window loop draws it while nothing changes — one tick frame per
 * second — for S seconds (default 20), CPU time from getrusage over wall time, in % of one core.
 * The window loop sleeps in between (main.c), so this is the whole cost but the present.
 */
#include <SDL.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "board.h"
#include "clock.h"
#include "files.h"
#include "font.h"
#include "json.h"
#include "log.h"
#include "pages.h"
#include "regions.h"
#include "scene.h"
#include "screen.h"
#include "wb_fixture.h"

#define NOW_MS INT64_C(1795310105120)

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct stats {
    double median_ms, p99_ms, max_ms;
} stats;

static stats summarise(int64_t *us, int n)
{
    qsort(us, (size_t)n, sizeof *us, cmp_i64);
    int p99 = (int)ceil(n * 0.99) - 1;
    return (stats){us[n / 2] / 1000.0, us[p99 < 0 ? 0 : p99] / 1000.0, us[n - 1] / 1000.0};
}

/* Wall time (what the wall sees) and, next to it, the CPU time of the frame: of every thread of
 * the process (the map's worker and the painter too: the work) and of the drawing thread alone
 * (what is left of a frame when the other threads find a free core). On a shared machine the wall
 * time also holds the waits for a core. */
typedef struct samples {
    int64_t *wall, *cpu, *main_cpu, *painter, *map; /* µs per frame */
} samples;

static void print_stats(const char *name, const samples *x, int n, bool comma)
{
    stats w = summarise(x->wall, n), c = summarise(x->cpu, n), m = summarise(x->main_cpu, n);
    stats p = summarise(x->painter, n), g = summarise(x->map, n);
    printf("\"%s\":{\"median_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,\"cpu_median_ms\":%.2f,"
           "\"cpu_p99_ms\":%.2f,\"main_cpu_median_ms\":%.2f,\"main_cpu_p99_ms\":%.2f,"
           "\"painter_cpu_median_ms\":%.2f,\"painter_cpu_p99_ms\":%.2f,"
           "\"map_cpu_median_ms\":%.2f,\"map_cpu_p99_ms\":%.2f}%s",
           name, w.median_ms, w.p99_ms, w.max_ms, c.median_ms, c.p99_ms, m.median_ms, m.p99_ms,
           p.median_ms, p.p99_ms, g.median_ms, g.p99_ms, comma ? "," : "");
}

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t cpu_us(void)
{
    return clock_us(CLOCK_PROCESS_CPUTIME_ID);
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

typedef struct ctx {
    ow_pages pages;
    ow_regions *city;
    ow_scene *scene[2]; /* two different rainstorms */
    ow_scene *delta;    /* scene[0] with the fast members of scene[1]: open, urgent, alerts */
    bool layer;         /* --layer: draw as on a GPU renderer (a layer texture copied whole) */
} ctx;

/* One measured frame (sample i): the board drawn as the loop draws it, until the present (on
 * the offscreen surface the present has nothing to do: the frame is in its pixels). The wall time
 * is the drawing thread's, from the start of the frame to the present: it includes waiting for
 * the map's worker and the painter. */
static void timed_frame(ow_board *board, ow_font *font, ow_screen *screen, int w, int h,
                        const ow_board_frame *fr, const samples *x, int i)
{
    int64_t c0 = cpu_us(), m0 = clock_us(CLOCK_THREAD_CPUTIME_ID), t0 = ow_clock_mono_us();
    ow_board_draw(board, w, h, fr);
    ow_font_frame_end(font);
    ow_screen_present(screen);
    x->wall[i] = ow_clock_mono_us() - t0;
    x->cpu[i] = cpu_us() - c0;
    x->main_cpu[i] = clock_us(CLOCK_THREAD_CPUTIME_ID) - m0;
    ow_board_helpers_cpu_us(board, &x->painter[i], &x->map[i]);
}

static int bench_size(const ctx *c, int w, int h, int frames, double idle_s, bool comma)
{
    ow_err err;
    ow_screen *screen = NULL;
    ow_font *font = NULL;
    ow_board *board = NULL;
    char latin[4096];
    snprintf(latin, sizeof latin, "%s", "assets/fonts/DejaVuSans.ttf");
    if (ow_screen_new_surface(w, h, &screen, &err) ||
        ow_font_new(ow_screen_renderer(screen), latin, &font, &err) ||
        ow_board_new(ow_screen_renderer(screen), font, &c->pages, c->city, &board, &err)) {
        fprintf(stderr, "wallboard_bench: %s\n", err.msg);
        return 1;
    }
    SDL_Renderer *r = ow_screen_renderer(screen);
    int64_t *all = calloc((size_t)frames * 5, sizeof(int64_t));
    if (!all) return 1;
    const samples x = {all, all + frames, all + 2 * frames, all + 3 * frames, all + 4 * frames};
    int64_t *us = x.wall, *cus = x.cpu, *mus = x.main_cpu;
    ow_board_frame fr = {.now_ms = NOW_MS,
                         .mono_ms = 0,
                         .link = OW_LINK_CONNECTED,
                         .scene = c->scene[0],
                         .received_ms = NOW_MS,
                         .stale_ms = 3600000,
                         .poll_ms = 250,
                         .flash_ms = 0,
                         .page = 0,
                         .canvas = c->layer ? NULL : ow_screen_canvas(screen)};
    /* warm up: glyphs of both fixtures and both pages rendered once, as on a running wall. The
     * second frame is the first sight of a new snapshot on a built board: every text line of it
     * is new (shaped, rendered, uploaded), reported as `first_sight` (one sample). */
    int64_t first_wall = 0, first_cpu = 0;
    for (int i = 0; i < 4; i++) {
        fr.scene = c->scene[i % 2];
        fr.page = i / 2;
        timed_frame(board, font, screen, w, h, &fr, &x, 0);
        if (i == 1) first_wall = x.wall[0], first_cpu = x.cpu[0];
    }
    fr.page = 0;
    printf("\"%dx%d\":{\"first_sight\":{\"wall_ms\":%.2f,\"cpu_ms\":%.2f},", w, h,
           first_wall / 1000.0, first_cpu / 1000.0);
    /* tick */
    fr.scene = c->scene[0];
    ow_board_draw(board, w, h, &fr);
    for (int i = 0; i < frames; i++) {
        fr.now_ms += 1000;
        timed_frame(board, font, screen, w, h, &fr, &x, i);
    }
    print_stats("tick", &x, frames, true);
    /* data */
    int n = frames / 2 > 10 ? frames / 2 : 10;
    for (int i = 0; i < n; i++) {
        fr.now_ms += 250;
        fr.scene = c->scene[(i + 1) % 2];
        timed_frame(board, font, screen, w, h, &fr, &x, i);
    }
    print_stats("data", &x, n, true);
    /* a typical delta: the counters and the SLA board change, the map and the lists do not */
    for (int i = 0; i < n; i++) {
        fr.now_ms += 250;
        fr.scene = i % 2 ? c->scene[0] : c->delta;
        timed_frame(board, font, screen, w, h, &fr, &x, i);
    }
    print_stats("delta", &x, n, true);
    /* page flips */
    for (int i = 0; i < n; i++) {
        fr.now_ms += 250;
        fr.page = (i + 1) % 2;
        timed_frame(board, font, screen, w, h, &fr, &x, i);
    }
    print_stats("page", &x, n, true);
    fr.page = 0;
    /* the floor: one full-screen copy */
    SDL_Texture *t = SDL_CreateTexture(
        r, getenv("LIMIT_ARGB") ? SDL_PIXELFORMAT_ARGB8888 : SDL_PIXELFORMAT_RGB888,
        SDL_TEXTUREACCESS_STREAMING, w, h);
    memset(all, 0, (size_t)frames * 5 * sizeof(int64_t));
    for (int i = 0; i < frames; i++) {
        int64_t c0 = cpu_us(), t0 = ow_clock_mono_us();
        SDL_RenderCopy(r, t, NULL, NULL);
        us[i] = ow_clock_mono_us() - t0;
        cus[i] = mus[i] = cpu_us() - c0;
    }
    SDL_DestroyTexture(t);
    print_stats("limit_copy", &x, frames, idle_s > 0);
    /* idle: one tick a second, as the loop does, sleeping in between */
    if (idle_s > 0) {
        double c0 = cpu_s();
        int64_t start = ow_clock_mono_ms(), ticks = 0;
        while (ow_clock_mono_ms() - start < (int64_t)(idle_s * 1000)) {
            fr.now_ms += 1000;
            ow_board_draw(board, w, h, &fr);
            ow_font_frame_end(font);
            ticks++;
            int64_t next = start + ticks * 1000;
            int64_t left = next - ow_clock_mono_ms();
            if (left > 0) {
                struct timespec ts = {(time_t)(left / 1000), (long)(left % 1000) * 1000000};
                nanosleep(&ts, NULL);
            }
        }
        double wall = (ow_clock_mono_ms() - start) / 1000.0;
        printf("\"idle\":{\"seconds\":%.1f,\"frames\":%lld,\"cpu_pct\":%.2f}", wall,
               (long long)ticks, 100.0 * (cpu_s() - c0) / wall);
    }
    printf("}%s", comma ? "," : "");
    fflush(stdout);
    free(all);
    ow_board_free(board);
    ow_font_free(font);
    ow_screen_free(screen);
    return 0;
}

int main(int argc, char **argv)
{
    const char *repo = ".";
    ctx c = {0};
    int frames = 200;
    double idle_s = 20;
    int only_w = 0; /* --size 1920x1080 | 3840x2160: that size alone */
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--repo") == 0)
            repo = argv[i + 1];
        else if (strcmp(argv[i], "--frames") == 0)
            frames = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--idle-s") == 0)
            idle_s = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--size") == 0)
            only_w = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--layer") == 0)
            c.layer = strcmp(argv[i + 1], "0") != 0;
    }
    if (frames < 10) frames = 10;
    ow_log_init("wallboard_bench", OW_LOG_WARN);
    if (chdir(repo) != 0) {
        perror(repo);
        return 1;
    }
    ow_err err;
    char *text;
    size_t len;
    if (ow_file_read("config/wallboard/default.json", 1 << 20, &text, &len, &err) ||
        ow_pages_parse(text, len, "config/wallboard/default.json", &c.pages, &err)) {
        fprintf(stderr, "wallboard_bench: %s\n", err.msg);
        return 1;
    }
    free(text);
    const char *geo = "assets/cities/sample/regions.geojson";
    if (ow_file_read(geo, 64 << 20, &text, &len, &err) ||
        ow_regions_parse(text, len, geo, "id", &c.city, &err)) {
        fprintf(stderr, "wallboard_bench: %s\n", err.msg);
        return 1;
    }
    free(text);
    size_t bytes = 0;
    cJSON *trees[2];
    for (int k = 0; k < 2; k++) {
        ow_wb_fixture_params p = ow_wb_fixture_rainstorm(NOW_MS);
        p.seed = 7 + (uint64_t)k;
        p.seq = 4242 + k;
        char *snap = ow_wb_fixture_make(c.city, "sample", &p);
        if (!snap || !(trees[k] = ow_json_parse(snap, strlen(snap), OW_JSON_MAX_DEPTH, &err)) ||
            !(c.scene[k] = ow_scene_decode(trees[k], &err))) {
            fprintf(stderr, "wallboard_bench: fixture: %s\n", snap ? err.msg : "out of memory");
            return 1;
        }
        bytes = strlen(snap);
        free(snap);
    }
    static const char *const fast[] = {"open", "urgent", "alerts", "seq"};
    for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++)
        cJSON_ReplaceItemInObjectCaseSensitive(
            trees[0], fast[i],
            cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(trees[1], fast[i]), true));
    if (!(c.delta = ow_scene_decode(trees[0], &err))) {
        fprintf(stderr, "wallboard_bench: %s\n", err.msg);
        return 1;
    }
    c.delta->core.seq = 9999;
    cJSON_Delete(trees[0]);
    cJSON_Delete(trees[1]);
    printf("{\"bench\":\"wallboard\",\"renderer\":\"software\",\"fixture\":{\"open\":200000,"
           "\"techs\":%d,\"flags\":%d,\"escalations\":%d,\"heat_cells\":%d,\"bytes\":%zu},",
           c.scene[0]->ntechs_pos, c.scene[0]->nflags, c.scene[0]->nescalations, c.scene[0]->ncells,
           bytes);
    int rc = 0;
    if (!only_w || only_w == 1920) rc = bench_size(&c, 1920, 1080, frames, 0, only_w == 0);
    if (!rc && (!only_w || only_w == 3840)) rc = bench_size(&c, 3840, 2160, frames, idle_s, false);
    printf("}\n");
    ow_scene_free(c.scene[0]);
    ow_scene_free(c.scene[1]);
    ow_scene_free(c.delta);
    ow_regions_free(c.city);
    return rc;
}

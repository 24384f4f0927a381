/*
 * wallboard_soak — memory over a long run with fast-forwarded data. Prints one JSON line with the
 * resident set size at the start (after a warm-up), at the end and its maximum.
 *
 *   wallboard_soak [--repo DIR] [--iterations N] [--size WxH] [--check PCT]
 *
 * Each iteration is one minute of simulated time: a new snapshot (bench/wb_fixture.h with a new
 * seed, so new order ids, flags, escalations, counts, positions and heat — every text on the board
 * changes; on odd minutes only the fast members: open, urgent, alerts, now), turned into a delta
 * against the held one (ow_delta_make) and applied to the held tree as the wallboard's source
 * does (ow_delta_apply_tree → ow_scene_decode), then drawn as the
 * window loop draws it: a data frame and a few ticks, the page rotating every 10 iterations. The
 * default 3,000 iterations are 50 hours of wall time. With --check PCT the exit status is 1 when
 * the end RSS exceeds the start RSS by more than PCT percent.
 *
 * Every 5th iteration (just after a page flip, a whole redraw; and mid-page, after partial
 * redraws) the picture is also checked: the
 * running board, which redraws only the panels whose members changed, must equal pixel for pixel a
 * fresh board drawing the same scene whole (exit status 1 otherwise): a panel that misses a change
 * would show stale data. The fresh board draws on one thread (ow_board_set_threads) into its
 * layer texture, the running one with its map worker and painter straight into the screen's pixels
 * (a canvas, kept between frames, with only what the ticking parts and flashes covered put back):
 * a panel that came out differently on the painter's renderer, drew outside its rectangle, or a
 * countdown or flash that left pixels behind fails it too.
 */
#include <SDL.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "delta.h"
#include "files.h"
#include "font.h"
#include "json.h"
#include "log.h"
#include "pages.h"
#include "regions.h"
#include "scene.h"
#include "screen.h"
#include "wb_fixture.h"

#define START_MS INT64_C(1795310105120)

static long rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static char *snapshot(const ow_regions *city, int i)
{
    ow_wb_fixture_params p = ow_wb_fixture_rainstorm(START_MS + (int64_t)i * 60000);
    p.seed = (uint64_t)i + 1;
    p.seq = i + 1;
    p.open_total = 20000 + (i % 97) * 300;
    p.techs = 800;
    return ow_wb_fixture_make(city, "sample", &p);
}

/* The last frame drawn on `screen` (size w×h) equals a fresh one-thread board's whole drawing of
 * `scene`. */
static bool same_as_fresh(ow_screen *screen, const ow_pages *pages, const ow_regions *city,
                          const ow_scene *scene, int64_t now, int64_t mono, int page)
{
    int w, h;
    ow_screen_size(screen, &w, &h);
    ow_err err;
    ow_screen *fresh = NULL;
    ow_board *board = NULL;
    ow_font *font = NULL; /* textures belong to one renderer: the fresh screen needs its own */
    size_t n = (size_t)w * (size_t)h;
    uint32_t *a = malloc(n * 4), *b = malloc(n * 4);
    bool same = false;
    if (!a || !b || ow_screen_new_surface(w, h, &fresh, &err) ||
        ow_font_new(ow_screen_renderer(fresh), "assets/fonts/DejaVuSans.ttf", &font, &err) ||
        ow_board_new(ow_screen_renderer(fresh), font, pages, city, &board, &err))
        goto out;
    /* the reference draws on one thread: the soaked board's panels come from three */
    ow_board_set_threads(board, false);
    ow_board_frame fr = {.now_ms = now,
                         .mono_ms = mono,
                         .link = OW_LINK_CONNECTED,
                         .scene = scene,
                         .received_ms = now - 3000,
                         .stale_ms = 10000,
                         .poll_ms = 250,
                         .flash_ms = 3000,
                         .page = page};
    ow_board_draw(board, w, h, &fr);
    same = SDL_RenderReadPixels(ow_screen_renderer(screen), NULL, SDL_PIXELFORMAT_RGB888, a,
                                w * 4) == 0 &&
           SDL_RenderReadPixels(ow_screen_renderer(fresh), NULL, SDL_PIXELFORMAT_RGB888, b,
                                w * 4) == 0 &&
           memcmp(a, b, n * 4) == 0;
    if (!same) { /* the two pictures, to look at */
        const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        char pa[512], pb[512];
        snprintf(pa, sizeof pa, "%s/wallboard_soak-partial.png", dir);
        snprintf(pb, sizeof pb, "%s/wallboard_soak-whole.png", dir);
        if (ow_screen_save_png(screen, pa, &err) == OW_OK &&
            ow_screen_save_png(fresh, pb, &err) == OW_OK)
            fprintf(stderr, "wallboard_soak: see %s and %s\n", pa, pb);
    }
out:
    ow_board_free(board);
    ow_font_free(font);
    ow_screen_free(fresh);
    free(a);
    free(b);
    return same;
}

int main(int argc, char **argv)
{
    const char *repo = ".";
    int iterations = 3000, w = 1920, h = 1080;
    double check = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--repo") == 0)
            repo = argv[i + 1];
        else if (strcmp(argv[i], "--iterations") == 0)
            iterations = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--size") == 0)
            sscanf(argv[i + 1], "%dx%d", &w, &h);
        else if (strcmp(argv[i], "--check") == 0)
            check = atof(argv[i + 1]);
    }
    /* steady state: the font cache keeps a line for 120 frames (30 iterations) */
    const int warmup = iterations / 10 > 60 ? iterations / 10 : 60;
    ow_log_init("wallboard_soak", OW_LOG_WARN);
    if (chdir(repo) != 0) {
        perror(repo);
        return 1;
    }
    ow_err err;
    char *text;
    size_t len;
    ow_pages pages;
    ow_regions *city = NULL;
    if (ow_file_read("config/wallboard/default.json", 1 << 20, &text, &len, &err) ||
        ow_pages_parse(text, len, "config/wallboard/default.json", &pages, &err)) {
        fprintf(stderr, "wallboard_soak: %s\n", err.msg);
        return 1;
    }
    free(text);
    const char *geo = "assets/cities/sample/regions.geojson";
    if (ow_file_read(geo, 64 << 20, &text, &len, &err) ||
        ow_regions_parse(text, len, geo, "id", &city, &err)) {
        fprintf(stderr, "wallboard_soak: %s\n", err.msg);
        return 1;
    }
    free(text);
    ow_screen *screen = NULL;
    ow_font *font = NULL;
    ow_board *board = NULL;
    if (ow_screen_new_surface(w, h, &screen, &err) ||
        ow_font_new(ow_screen_renderer(screen), "assets/fonts/DejaVuSans.ttf", &font, &err) ||
        ow_board_new(ow_screen_renderer(screen), font, &pages, city, &board, &err)) {
        fprintf(stderr, "wallboard_soak: %s\n", err.msg);
        return 1;
    }
    char *prev = snapshot(city, 0);
    cJSON *tree = prev ? ow_json_parse(prev, strlen(prev), OW_JSON_MAX_DEPTH, &err) : NULL;
    int64_t tree_seq = 1;
    ow_scene *scene = tree ? ow_scene_decode(tree, &err) : NULL;
    if (!scene) {
        fprintf(stderr, "wallboard_soak: first snapshot: %s\n", err.msg);
        return 1;
    }
    long start = -1, max = 0;
    int64_t deltas = 0, flashes = 0;
    for (int i = 1; i <= iterations; i++) {
        char *next = snapshot(city, i);
        char *delta = next ? ow_delta_make(prev, strlen(prev), next, strlen(next), &err) : NULL;
        cJSON *d = delta ? ow_json_parse(delta, strlen(delta), OW_JSON_MAX_DEPTH + 1, &err) : NULL;
        if (d && i % 2 == 1) {
            /* odd minutes carry only the fast members, as most deltas do: the panels that do not
             * show them are not redrawn, and the check below sees whether any should have been */
            static const char *const fast[] = {"open",   "urgent",         "alerts",     "now",
                                               "now_ms", "events_applied", "stream_last"};
            cJSON *set = cJSON_GetObjectItemCaseSensitive(d, "set"), *keep = cJSON_CreateObject();
            for (size_t k = 0; k < sizeof fast / sizeof fast[0]; k++) {
                cJSON *m = cJSON_DetachItemFromObjectCaseSensitive(set, fast[k]);
                if (m) cJSON_AddItemToObject(keep, fast[k], m);
            }
            cJSON_ReplaceItemInObjectCaseSensitive(d, "set", keep);
            cJSON_ReplaceItemInObjectCaseSensitive(d, "del", cJSON_CreateArray());
        }
        if (!d || ow_delta_apply_tree(tree, &tree_seq, d, &err) != OW_OK) {
            fprintf(stderr, "wallboard_soak: iteration %d: %s\n", i, err.msg);
            return 1;
        }
        deltas++;
        cJSON_Delete(d);
        free(delta);
        free(next);
        free(prev);
        char *printed = cJSON_PrintUnformatted(tree); /* the held picture: the next delta's base */
        prev = printed ? strdup(printed) : NULL;
        cJSON_free(printed);
        if (!prev) {
            fprintf(stderr, "wallboard_soak: out of memory\n");
            return 1;
        }
        ow_scene *newer = ow_scene_decode(tree, &err);
        if (!newer) {
            fprintf(stderr, "wallboard_soak: iteration %d: %s\n", i, err.msg);
            return 1;
        }
        ow_scene_free(scene);
        scene = newer;
        int64_t now = START_MS + (int64_t)i * 60000;
        for (int t = 0; t < 4; t++) { /* the data frame, then ticks */
            ow_board_frame fr = {.now_ms = now + t * 1000,
                                 .mono_ms = (int64_t)i * 60000 + t * 1000,
                                 .link = OW_LINK_CONNECTED,
                                 .scene = scene,
                                 .received_ms = now,
                                 /* t = 3: the flash of the data frame is over */
                                 .stale_ms = 10000,
                                 .poll_ms = 250,
                                 /* no flash before a comparison (a fresh board has none) */
                                 .flash_ms = i % 5 == 0 ? 0 : 3000,
                                 .page = (i / 10) % pages.npages,
                                 /* in place, as the window loop draws on the software renderer */
                                 .canvas = ow_screen_canvas(screen)};
            flashes += ow_board_draw(board, w, h, &fr);
            ow_font_frame_end(font);
        }
        if (i % 5 == 0 && i > 0 &&
            !same_as_fresh(screen, &pages, city, scene, now + 3000, (int64_t)i * 60000 + 3000,
                           (i / 10) % pages.npages)) {
            fprintf(stderr,
                    "wallboard_soak: iteration %d: the partly redrawn picture differs from "
                    "a whole redraw of the same snapshot\n",
                    i);
            return 1;
        }
        long rss = rss_kb();
        if (i % 250 == 0) /* progress: a long run shows its curve, not only its ends */
            fprintf(stderr, "wallboard_soak: iteration %d (%.1f simulated hours): RSS %ld KiB\n", i,
                    i / 60.0, rss);
        if (i == warmup) start = rss;
        if (i >= warmup && rss > max) max = rss;
    }
    long end = rss_kb();
    double growth = start > 0 ? 100.0 * (double)(end - start) / (double)start : 0;
    printf("{\"bench\":\"wallboard_soak\",\"size\":\"%dx%d\",\"iterations\":%d,"
           "\"simulated_hours\":%.1f,\"deltas\":%lld,\"flashes\":%lld,\"warmup\":%d,"
           "\"rss_start_kb\":%ld,\"rss_end_kb\":%ld,\"rss_max_kb\":%ld,\"growth_pct\":%.2f}\n",
           w, h, iterations, iterations / 60.0, (long long)deltas, (long long)flashes, warmup,
           start, end, max, growth);
    free(prev);
    cJSON_Delete(tree);
    ow_scene_free(scene);
    ow_board_free(board);
    ow_font_free(font);
    ow_screen_free(screen);
    ow_regions_free(city);
    if (check >= 0 && growth > check) {
        fprintf(stderr, "wallboard_soak: RSS grew %.2f %% (more than %.1f %%)\n", growth, check);
        return 1;
    }
    return 0;
}

/*
 * board — what the wallboard shows and where: the layout and the panels that draw into it.
 *
 * Layout scales with the screen height: one design unit is h/1080 pixels, so 1080p and 4K show the
 * same picture at twice the detail, and wider screens get wider tiles. The panel table in board.c
 * lists what is drawn, in order: header (title, clock, link state, data age), the total band, the
 * three priority tiles, the footer and the stale-data frame. A later panel (map, SLA list,
 * escalations) is one more row and one draw function.
 *
 * What each region depends on (tests and the end-to-end check rely on this):
 *   tile.* and total.*  only the open counts of the snapshot (emergency, important, general,
 *                       total) — never the clock, the link state, seq or the config;
 *   header.clock        the clock; in replay mode the snapshot's now instead;
 *   header.status       the link state (file / file unreadable / connecting / connected /
 *                       reconnecting), the data
 *                       age (clock − snapshot now; replay: clock − when it arrived) and
 *                       stale_after;
 *   footer              seq, events_applied, orders_known, poll and stale_after;
 *   frame               (the screen edge outside every other region) red when the data is stale.
 *
 * Pure drawing: no I/O, no clock reads. Lifecycle: ow_layout_compute on every size change,
 * ow_board_draw per frame.
 */
#ifndef OW_BOARD_H
#define OW_BOARD_H

#include <SDL.h>
#include <stdbool.h>
#include <stdint.h>

#include "font.h"
#include "snapshot.h"
#include "source.h"
#include "theme.h"

#define OW_BOARD_REGIONS_MAX 32

typedef struct ow_layout {
    int w, h;
    double u; /* pixels per design unit (h / 1080) */
    SDL_Rect header, title, status, clock;
    SDL_Rect total, total_number, total_bar;
    SDL_Rect tile[OW_PRIO__COUNT];
    SDL_Rect tile_label[OW_PRIO__COUNT];
    SDL_Rect tile_number[OW_PRIO__COUNT];
    SDL_Rect tile_bar[OW_PRIO__COUNT];
    SDL_Rect footer;
    int frame; /* width of the stale-data frame at the screen edge */
} ow_layout;

/* Everything one frame shows. */
typedef struct ow_board_frame {
    int64_t now_ms; /* the clock shown: the system's, or --clock */
    ow_link link;   /* state of the data source */
    bool failing;   /* the last read failed (file unreadable; Redis shows RECONNECTING) */
    bool have;      /* snap is valid */
    ow_snapshot_view snap;
    int64_t received_ms; /* clock when this snapshot first arrived (age in replay mode) */
    int64_t stale_ms;    /* wallboard.stale_after */
    int64_t poll_ms;     /* wallboard.poll (footer) */
} ow_board_frame;

/* A named rectangle, for tests (--print-layout) and the docs. */
typedef struct ow_board_region {
    const char *name;
    SDL_Rect rect;
} ow_board_region;

void ow_layout_compute(int w, int h, ow_layout *l);

/* The named regions of `l` into out[max]; returns how many. */
int ow_board_regions(const ow_layout *l, ow_board_region *out, int max);

/* Data age in ms (−1 when there is no snapshot) and whether it counts as stale. */
int64_t ow_board_age_ms(const ow_board_frame *fr);
bool ow_board_is_stale(const ow_board_frame *fr);

/* Draw the whole board. Every pixel of the screen is written. */
void ow_board_draw(SDL_Renderer *r, ow_font *f, const ow_layout *l, const ow_board_frame *fr);

#endif

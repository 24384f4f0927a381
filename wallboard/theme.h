/*
 * theme — the wallboard's palette: dark background, high-contrast text, and one table that maps
 * every "how bad is it" question to a colour.
 *
 * Two tables live in theme.c and nowhere else:
 *   - the alarm scale: a percentage of a threshold (data age of stale_after now; SLA targets in a
 *     later milestone) → alarm level → colour. Levels start at 50 %, 80 %, 100 % and 150 %, the
 *     DESIGN §4 warning/breach/escalation steps, so every panel colours a threshold the same way.
 *   - the priority accents: emergency / important / general / total → accent colour.
 * Panels never write RGB values of their own; a new colour is a new row here.
 *
 * Pure data: no allocation, no SDL calls (SDL_Color is only the struct).
 */
#ifndef OW_THEME_H
#define OW_THEME_H

#include <SDL.h>
#include <stdint.h>

#include "event.h"

/* Neutral surfaces and text. */
typedef enum {
    OW_TONE_BACKGROUND, /* the screen behind everything */
    OW_TONE_PANEL,      /* tile and header fill */
    OW_TONE_PANEL_EDGE, /* 1-2 px outlines and separators */
    OW_TONE_TRACK,      /* empty part of a bar */
    OW_TONE_TEXT,       /* primary text: numbers, titles */
    OW_TONE_TEXT_DIM,   /* secondary text: English labels, dates */
    OW_TONE_TEXT_FAINT, /* tertiary text: footer, "no data" dashes */
    OW_TONE__COUNT
} ow_tone;

/* Alarm levels, calm to severe. */
typedef enum {
    OW_ALARM_CALM,   /* nothing to see (e.g. zero orders of a priority) */
    OW_ALARM_INFO,   /* neutral information (e.g. reading a file, not live) */
    OW_ALARM_OK,     /* healthy: connected, fresh data */
    OW_ALARM_WATCH,  /* >= 50 % of a threshold */
    OW_ALARM_WARN,   /* >= 80 % */
    OW_ALARM_BREACH, /* >= 100 %: stale data, lost connection */
    OW_ALARM_SEVERE, /* >= 150 % */
    OW_ALARM__COUNT
} ow_alarm;

/* Accent rows: the three priorities plus the total, in ow_priority order. */
#define OW_ACCENT_TOTAL  OW_PRIO__COUNT
#define OW_ACCENT__COUNT (OW_PRIO__COUNT + 1)

SDL_Color ow_theme_tone(ow_tone tone);

/* Foreground colour of an alarm level (text, bars, outlines). */
SDL_Color ow_theme_alarm(ow_alarm level);

/* The level for `pct` percent of a threshold: the last row whose start is <= pct (OW_ALARM_OK
 * below 50 %). Negative pct counts as 0. */
ow_alarm ow_theme_alarm_for_pct(int64_t pct);

/* Accent colour of a priority tile (accent in 0..OW_ACCENT_TOTAL). */
SDL_Color ow_theme_accent(int accent);

/* The colour a count is drawn in: the accent, or the calm colour when the count is zero so that an
 * empty queue does not compete for attention with a busy one. */
SDL_Color ow_theme_count(int accent, int64_t count);

/* Colour of an escalation level 0..3 (L0 watch, L1 warn, L2 breach, L3 severe). */
SDL_Color ow_theme_level(int level);

/* Alarm level of an escalation level 0..3 (ow_theme_level is its colour). */
ow_alarm ow_theme_level_alarm(int level);

/* Technician status colour (ow_tech_status order), from the Okabe-Ito palette, which stays
 * distinguishable with the common colour-vision deficiencies. */
SDL_Color ow_theme_tech(int status);

/* The heat scale at t in [0, 1]: a perceptually uniform, colour-blind safe ramp (dark blue through
 * teal to yellow, like cividis/viridis) whose lightness rises with t, so it also reads in grey. */
SDL_Color ow_theme_heat(double t);

/* Trend and target colours: better, worse, unchanged. */
SDL_Color ow_theme_better(void);
SDL_Color ow_theme_worse(void);

/* `c` with its alpha replaced (for tints drawn with SDL_BLENDMODE_BLEND). */
SDL_Color ow_theme_alpha(SDL_Color c, uint8_t alpha);

#endif

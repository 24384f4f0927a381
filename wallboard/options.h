/*
 * options — the wallboard's command line.
 *
 *   opswall-wallboard [--config PATH] [--snapshot-file FILE.json] [--size WxH] [--fullscreen]
 *                     [--display N] [--clock EPOCH_MS] [--screenshot FILE.png]
 *                     [--latest FILE.png] [--frames N] [--exit-after-ms MS] [--layout FILE]
 *                     [--page N] [--print-layout]
 *
 * One table in options.c lists every option (name, kind, range, help): parsing and --help both
 * come from it. Command-line values win over the config file (wallboard.width/height/fullscreen/
 * display). Pure: parsing writes only *out and err; strings point into argv.
 */
#ifndef OW_OPTIONS_H
#define OW_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

typedef struct ow_options {
    const char *config;        /* --config PATH (NULL = config/opswall.json) */
    const char *snapshot_file; /* --snapshot-file: read this instead of Redis */
    const char *screenshot;    /* --screenshot: render one frame offscreen to this PNG and exit */
    const char *latest;        /* --latest: where headless window mode writes its PNGs */
    int width, height;         /* --size (0 = from config) */
    bool fullscreen;           /* --fullscreen */
    int64_t display;           /* --display (-1 = from config) */
    int64_t clock_ms;          /* --clock (-1 = the system clock) */
    int64_t frames;            /* --frames: exit after this many drawn frames (0 = never) */
    int64_t exit_after_ms;     /* --exit-after-ms (0 = never) */
    const char *layout;        /* --layout: the layout file instead of wallboard.layout */
    int64_t page;              /* --page: the page shown first (0) */
    bool print_layout;         /* --print-layout: print the named regions and exit */
    bool help;                 /* --help */
} ow_options;

/* Parse argv. OW_EINVAL with err naming the option and what it expects. */
int ow_options_parse(int argc, char **argv, ow_options *out, ow_err *err);

/* Write the usage text (from the option table) to f. */
void ow_options_usage(FILE *f);

#endif

#include "options.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum { OPT_FLAG, OPT_STRING, OPT_INT, OPT_SIZE } opt_kind;

/* Every option: name, kind, where it goes in ow_options, range (OPT_INT), value name, help. */
static const struct opt_def {
    const char *name;
    opt_kind kind;
    size_t at;
    int64_t min, max;
    const char *value, *help;
} opts[] = {
#define AT(field) offsetof(ow_options, field)
    {"--config", OPT_STRING, AT(config), 0, 0, "PATH",
     "configuration (default config/opswall.json)"},
    {"--snapshot-file", OPT_STRING, AT(snapshot_file), 0, 0, "FILE",
     "show the snapshot JSON in FILE instead of reading Redis"},
    {"--size", OPT_SIZE, AT(width), 0, 0, "WxH",
     "window / screenshot size, e.g. 3840x2160 (default: config)"},
    {"--fullscreen", OPT_FLAG, AT(fullscreen), 0, 0, NULL,
     "fill the display (desktop resolution, hidden cursor)"},
    {"--display", OPT_INT, AT(display), 0, 15, "N", "monitor index (default: config)"},
    {"--clock", OPT_INT, AT(clock_ms), 0, INT64_C(253402300799999), "EPOCH_MS",
     "show this fixed time instead of the system clock"},
    {"--screenshot", OPT_STRING, AT(screenshot), 0, 0, "FILE.png",
     "render one frame offscreen (no display needed) and exit"},
    {"--latest", OPT_STRING, AT(latest), 0, 0, "FILE.png",
     "no display: write the picture here (var/wallboard/latest.png)"},
    {"--frames", OPT_INT, AT(frames), 1, INT64_MAX, "N", "exit after N drawn frames"},
    {"--exit-after-ms", OPT_INT, AT(exit_after_ms), 1, INT64_MAX, "MS",
     "exit after MS milliseconds"},
    {"--layout", OPT_STRING, AT(layout), 0, 0, "FILE.json",
     "the layout file: pages of panels (default: wallboard.layout)"},
    {"--page", OPT_INT, AT(page), 0, 7, "N", "start on page N of the layout (default 0)"},
    {"--print-layout", OPT_FLAG, AT(print_layout), 0, 0, NULL,
     "print the named screen regions (ImageMagick geometry) and exit"},
    {"--help", OPT_FLAG, AT(help), 0, 0, NULL, "this text"},
#undef AT
};
#define OPTS_COUNT (sizeof opts / sizeof opts[0])

void ow_options_usage(FILE *f)
{
    fputs("usage: opswall-wallboard [options]\n", f);
    for (size_t i = 0; i < OPTS_COUNT; i++) {
        char head[48];
        snprintf(head, sizeof head, "%s%s%s", opts[i].name, opts[i].value ? " " : "",
                 opts[i].value ? opts[i].value : "");
        fprintf(f, "  %-26s %s\n", head, opts[i].help);
    }
    fputs("exit status: 0 ok; 1 error; 2 screenshot written but without a snapshot "
          "(the source failed)\n",
          f);
}

static int int_arg(const char *opt, const char *v, int64_t min, int64_t max, int64_t *out,
                   ow_err *err)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < min || n > max)
        return ow_err_set(err, OW_EINVAL, "%s: expected an integer from %lld to %lld, got \"%s\"",
                          opt, (long long)min, (long long)max, v);
    *out = n;
    return OW_OK;
}

static int size_arg(const char *v, int *w, int *h, ow_err *err)
{
    int a, b;
    char tail;
    if (sscanf(v, "%dx%d%c", &a, &b, &tail) != 2 || a < 320 || b < 240 || a > 16384 || b > 16384)
        return ow_err_set(err, OW_EINVAL,
                          "--size: expected WIDTHxHEIGHT from 320x240 to 16384x16384, "
                          "e.g. 1920x1080, got \"%s\"",
                          v);
    *w = a;
    *h = b;
    return OW_OK;
}

int ow_options_parse(int argc, char **argv, ow_options *o, ow_err *err)
{
    memset(o, 0, sizeof *o);
    o->display = -1;
    o->clock_ms = -1;
    for (int i = 1; i < argc; i++) {
        const struct opt_def *d = NULL;
        for (size_t k = 0; k < OPTS_COUNT && !d; k++)
            if (strcmp(argv[i], opts[k].name) == 0) d = &opts[k];
        if (!d && strcmp(argv[i], "-h") == 0) d = &opts[OPTS_COUNT - 1];
        if (!d) return ow_err_set(err, OW_EINVAL, "unknown option \"%s\" (see --help)", argv[i]);
        char *field = (char *)o + d->at;
        if (d->kind == OPT_FLAG) {
            *(bool *)field = true;
            continue;
        }
        if (i + 1 >= argc) return ow_err_set(err, OW_EINVAL, "%s: missing its value", d->name);
        const char *v = argv[++i];
        int rc = OW_OK;
        switch (d->kind) {
        case OPT_STRING: *(const char **)field = v; break;
        case OPT_INT: rc = int_arg(d->name, v, d->min, d->max, (int64_t *)field, err); break;
        case OPT_SIZE: rc = size_arg(v, &o->width, &o->height, err); break;
        case OPT_FLAG: break;
        }
        if (rc) return rc;
    }
    return OW_OK;
}

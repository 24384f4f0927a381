#include "csv_source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "csv.h"
#include "csvmap.h"
#include "event.h"
#include "files.h"
#include "jsonw.h"
#include "keys.h"
#include "log.h"
#include "redis.h"
#include "regions.h"
#include "replay.h"
#include "signals.h"
#include "timefmt.h"
#include "tz.h"

#define CHUNK      (64 * 1024)
#define FILE_LIMIT (64u * 1024 * 1024) /* mapping, zone and GeoJSON files */

/* Counts of one region (or of rows that got none). */
typedef struct region_count {
    int64_t rows, no_coords, located, outside;
    int64_t outcome[OW_OUTCOME__COUNT];
} region_count;

/* An event held for sorting (--ndjson, --speed). */
typedef struct held {
    int64_t ts, seq;
    bool created;
    char *text;
    size_t len;
} held;

struct ow_csv_import {
    const ow_config *cfg;
    const ow_csv_opts *opts;
    const char *source; /* the CSV file name, for messages and rejects */
    ow_csvmap *map;
    ow_tz *tz;
    ow_regions *regions;
    const ow_csv_sink *sink; /* during a pump */
    FILE *f;
    ow_csv *csv;
    char *buf;
    bool at_end;
    int64_t t0_us;
    ow_replay replay;  /* --speed: the window, once begun */
    size_t next, last; /* --speed: next held event to play, end of the window */
    ow_csvmap_row row;
    ow_event *ev; /* OW_CSVMAP_MAX_EVENTS decoded events of the current row */
    bool header_seen;
    int64_t rows, imported, rejected, blank, events, ambiguous, gaps;
    int64_t outcome[OW_OUTCOME__COUNT];
    region_count *by_region; /* regions->n + 1: the last one counts rows of no region */
    held *held;
    size_t nheld, capheld;
    ow_err *err;
};
typedef struct ow_csv_import import;

static int load_text(const char *path, char **text, size_t *len, ow_err *err)
{
    return ow_file_read(path, FILE_LIMIT, text, len, err);
}

static int load_setup(import *im, ow_err *err)
{
    char *text = NULL;
    size_t len;
    int rc = load_text(im->opts->mapping, &text, &len, err);
    if (!rc) rc = ow_csvmap_parse(text, len, im->opts->mapping, &im->map, err);
    free(text);
    if (rc) return rc;
    if ((rc = ow_tz_load(ow_csvmap_time_zone(im->map), &im->tz, err))) {
        ow_err_prefix(err, "%s: time_zone", im->opts->mapping);
        return rc;
    }
    char path[1024];
    ow_config_path(im->cfg, im->cfg->city.regions, path, sizeof path);
    if ((rc = load_text(path, &text, &len, err))) {
        ow_err_prefix(err, "city.regions");
        return rc;
    }
    rc = ow_regions_parse(text, len, path, im->cfg->city.name_property, &im->regions, err);
    free(text);
    if (rc) return rc;
    im->by_region = calloc((size_t)im->regions->n + 1, sizeof *im->by_region);
    im->ev = malloc(OW_CSVMAP_MAX_EVENTS * sizeof *im->ev);
    if (!im->by_region || !im->ev) return ow_err_set(err, OW_ENOMEM, "out of memory");
    return OW_OK;
}

static int hold(import *im, const ow_event *ev, const char *text, size_t len)
{
    if (im->nheld == im->capheld) {
        size_t cap = im->capheld ? im->capheld * 2 : 4096;
        held *h = realloc(im->held, cap * sizeof *h);
        if (!h) return ow_err_set(im->err, OW_ENOMEM, "out of memory");
        im->held = h, im->capheld = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return ow_err_set(im->err, OW_ENOMEM, "out of memory");
    memcpy(copy, text, len + 1);
    im->held[im->nheld] =
        (held){ev->ts_ms, (int64_t)im->nheld, ev->type == OW_EV_ORDER_CREATED, copy, len};
    im->nheld++;
    return OW_OK;
}

static int reject(import *im, const ow_csv_record *rec, const char *why)
{
    char reason[OW_ERR_MSG_MAX + 128];
    snprintf(reason, sizeof reason, "%s: row %lld (line %lld): %s", im->source,
             (long long)rec->number - 1, (long long)rec->line, why);
    im->rejected++;
    im->by_region[im->regions->n].rows++;
    if (im->rejected <= 20) ow_warn("%s", reason);
    if (im->rejected == 21) ow_warn("more rejected rows: their reasons are in %s", OW_KEY_REJECTS);
    if (!im->sink) return OW_OK;
    return im->sink->reject(im->sink->ud, im->source, rec->number - 1, reason, rec->raw,
                            rec->raw_len, im->err);
}

static int on_record(const ow_csv_record *rec, void *arg)
{
    import *im = arg;
    if (ow_stop_requested) return OW_EAGAIN;
    if (!im->header_seen) {
        im->header_seen = true; /* a bad header stops everything before any row is appended */
        return ow_csvmap_bind(im->map, rec, im->source, im->err);
    }
    if (!rec->error && rec->nfields == 1 && rec->lens[0] == 0) {
        im->blank++; /* an empty line holds no row */
        return OW_OK;
    }
    im->rows++;
    ow_err rerr;
    if (ow_csvmap_row_make(im->map, rec, im->tz, im->regions, &im->row, &rerr))
        return reject(im, rec, rerr.msg);
    /* every event of the row must pass the event contract before any is appended */
    for (int i = 0; i < im->row.nevents; i++) {
        const ow_buf *b = &im->row.events[i];
        if (ow_event_parse(b->p, b->n, &im->ev[i], &rerr)) return reject(im, rec, rerr.msg);
    }
    int at = ow_regions_find(im->regions, im->row.region);
    region_count *rc = &im->by_region[at >= 0 ? at : im->regions->n];
    rc->rows++;
    rc->no_coords += !im->row.has_geo;
    rc->located += im->row.located;
    rc->outside += im->row.outside_region;
    rc->outcome[im->row.outcome]++;
    im->outcome[im->row.outcome]++;
    im->imported++;
    im->ambiguous += im->row.ambiguous_times;
    im->gaps += im->row.gap_times;
    for (int i = 0; i < im->row.nevents; i++) {
        const ow_buf *b = &im->row.events[i];
        int r = im->opts->ndjson || im->opts->speed > 0
                    ? hold(im, &im->ev[i], b->p, b->n)
                    : im->sink->event(im->sink->ud, &im->ev[i], b->p, b->n, im->err);
        if (r) return r;
        im->events++;
    }
    return OW_OK;
}

static int by_time(const void *a, const void *b)
{
    const held *x = a, *y = b;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The UTC instant of local midnight starting the day of `utc_ms`, `days_after` days later. */
static int64_t local_midnight(const ow_tz *tz, int64_t utc_ms, int days_after)
{
    const int64_t day = 86400000;
    int64_t local = utc_ms + (int64_t)ow_tz_offset(tz, utc_ms / 1000) * 1000;
    int64_t midnight = (local / day - (local % day < 0) + days_after) * day;
    return ow_tz_local_to_utc(tz, midnight, NULL);
}

int ow_csv_import_replay_begin(ow_csv_import *im, int64_t wall_now_ms, char *descriptor,
                               ow_err *err)
{
    ow_replay rp = {.speed = im->opts->speed, .start_ms = INT64_MAX, .end_ms = INT64_MIN};
    for (size_t i = 0; i < im->nheld; i++)
        if (im->held[i].created) {
            if (im->held[i].ts < rp.start_ms) rp.start_ms = im->held[i].ts;
            if (im->held[i].ts > rp.end_ms) rp.end_ms = im->held[i].ts;
        }
    if (rp.start_ms == INT64_MAX)
        return ow_err_set(err, OW_EINVAL, "%s: no rows to replay", im->source);
    /* whole local days: the export's five calendar days play as five days (24 min at 300×) */
    rp.start_ms = local_midnight(im->tz, rp.start_ms, 0);
    rp.end_ms = local_midnight(im->tz, rp.end_ms, 1);
    rp.wall_start_ms = wall_now_ms + 1000; /* the engine sees the descriptor before any event */
    im->replay = rp;
    ow_replay_format(&rp, descriptor);
    im->next = 0;
    im->last = 0;
    while (im->last < im->nheld && im->held[im->last].ts <= rp.end_ms)
        im->last++;
    char t0[OW_TIME_TEXT_MAX], t1[OW_TIME_TEXT_MAX];
    ow_time_format(rp.start_ms, t0), ow_time_format(rp.end_ms, t1);
    ow_info("replaying %s to %s at %g×: %zu events over %.1f minutes (%zu later events are "
            "after the window and not played)",
            t0, t1, rp.speed, im->last, (double)(rp.end_ms - rp.start_ms) / rp.speed / 60000.0,
            im->nheld - im->last);
    return OW_OK;
}

int ow_csv_import_replay_play(ow_csv_import *im, const ow_csv_sink *sink, int64_t wall_now_ms,
                              int64_t *next_wall_ms, ow_err *err)
{
    for (; im->next < im->last; im->next++) {
        const held *h = &im->held[im->next];
        int64_t due = ow_replay_wall_at(&im->replay, h->ts);
        if (due > wall_now_ms) {
            *next_wall_ms = due;
            return 1;
        }
        ow_err perr;
        if (ow_event_parse(h->text, h->len, im->ev, &perr))
            return ow_err_set(err, OW_EINVAL, "internal: a held event no longer parses: %s",
                              perr.msg);
        int rc = sink->event(sink->ud, im->ev, h->text, h->len, err);
        if (rc) return rc;
    }
    *next_wall_ms = INT64_MAX;
    return 0;
}

void ow_csv_import_summary(const ow_csv_import *im, FILE *out, int64_t appended, int64_t duplicates)
{
    int64_t elapsed_us = ow_clock_mono_us() - im->t0_us;
    static const char *const outcome_names[OW_OUTCOME__COUNT] = {"open", "resolved", "closed",
                                                                 "cancelled"};
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "source"), ow_jsonw_str(&w, im->source);
    ow_jsonw_key(&w, "mapping"), ow_jsonw_str(&w, im->opts->mapping);
    ow_jsonw_key(&w, "rows"), ow_jsonw_int(&w, im->rows);
    ow_jsonw_key(&w, "imported"), ow_jsonw_int(&w, im->imported);
    ow_jsonw_key(&w, "rejected"), ow_jsonw_int(&w, im->rejected);
    ow_jsonw_key(&w, "blank_lines"), ow_jsonw_int(&w, im->blank);
    ow_jsonw_key(&w, "events"), ow_jsonw_int(&w, im->events);
    ow_jsonw_key(&w, "appended"), ow_jsonw_int(&w, appended);
    ow_jsonw_key(&w, "duplicates"), ow_jsonw_int(&w, duplicates);
    ow_jsonw_key(&w, "ambiguous_local_times"), ow_jsonw_int(&w, im->ambiguous);
    ow_jsonw_key(&w, "nonexistent_local_times"), ow_jsonw_int(&w, im->gaps);
    ow_jsonw_key(&w, "outcomes");
    ow_jsonw_open(&w);
    for (int o = 0; o < OW_OUTCOME__COUNT; o++)
        ow_jsonw_key(&w, outcome_names[o]), ow_jsonw_int(&w, im->outcome[o]);
    ow_jsonw_close(&w);
    ow_jsonw_key(&w, "regions");
    ow_jsonw_open(&w);
    for (int i = 0; i <= im->regions->n; i++) {
        const region_count *c = &im->by_region[i];
        ow_jsonw_key(&w, i < im->regions->n ? im->regions->v[i].id : "(rejected)");
        ow_jsonw_open(&w);
        ow_jsonw_key(&w, "rows"), ow_jsonw_int(&w, c->rows);
        if (i < im->regions->n) {
            ow_jsonw_key(&w, "no_coords"), ow_jsonw_int(&w, c->no_coords);
            ow_jsonw_key(&w, "located_by_polygon"), ow_jsonw_int(&w, c->located);
            ow_jsonw_key(&w, "coords_outside"), ow_jsonw_int(&w, c->outside);
            for (int o = 0; o < OW_OUTCOME__COUNT; o++)
                ow_jsonw_key(&w, outcome_names[o]), ow_jsonw_int(&w, c->outcome[o]);
        }
        ow_jsonw_close(&w);
    }
    ow_jsonw_close(&w);
    char rate[64];
    snprintf(rate, sizeof rate, "%.0f",
             elapsed_us > 0 ? (double)(im->rows + im->blank) * 1e6 / (double)elapsed_us : 0.0);
    ow_jsonw_key(&w, "rows_per_s"), ow_jsonw_raw(&w, rate);
    ow_jsonw_key(&w, "elapsed_ms"), ow_jsonw_int(&w, elapsed_us / 1000);
    ow_jsonw_close(&w);
    char *text = ow_jsonw_take(&w);
    if (text) fprintf(out, "%s\n", text);
    fflush(out);
    free(text);
    ow_info("%s: %lld rows: %lld imported (%lld open, %lld resolved, %lld closed, %lld "
            "cancelled), %lld rejected%s",
            im->source, (long long)im->rows, (long long)im->imported,
            (long long)im->outcome[OW_OUTCOME_OPEN], (long long)im->outcome[OW_OUTCOME_RESOLVED],
            (long long)im->outcome[OW_OUTCOME_CLOSED], (long long)im->outcome[OW_OUTCOME_CANCELLED],
            (long long)im->rejected,
            im->rejected && !im->opts->ndjson ? " (reasons in Redis stream " OW_KEY_REJECTS ")"
                                              : "");
}

int ow_csv_import_open(const ow_config *cfg, const ow_csv_opts *opts, ow_csv_import **out,
                       ow_err *err)
{
    *out = NULL;
    import *im = calloc(1, sizeof *im);
    if (!im) return ow_err_set(err, OW_ENOMEM, "out of memory");
    *im = (import){.cfg = cfg, .opts = opts, .err = err, .t0_us = ow_clock_mono_us()};
    im->source = strcmp(opts->file, "-") == 0 ? "stdin" : opts->file;
    ow_csvmap_row_init(&im->row);
    int rc = load_setup(im, err);
    if (!rc) {
        im->f = strcmp(opts->file, "-") == 0 ? stdin : fopen(opts->file, "rb");
        if (!im->f)
            rc = ow_err_set(err, OW_EIO, "%s: cannot open: %s", opts->file, strerror(errno));
    }
    if (!rc) {
        im->csv = ow_csv_new(OW_CSV_LIMITS_DEFAULT);
        im->buf = malloc(CHUNK);
        if (!im->csv || !im->buf) rc = ow_err_set(err, OW_ENOMEM, "out of memory");
    }
    if (rc) {
        ow_csv_import_close(im);
        return rc;
    }
    *out = im;
    return OW_OK;
}

int ow_csv_import_pump(ow_csv_import *im, const ow_csv_sink *sink, ow_err *err)
{
    if (im->at_end) return 0;
    im->sink = sink, im->err = err;
    size_t n = fread(im->buf, 1, CHUNK, im->f);
    int rc = n ? ow_csv_feed(im->csv, im->buf, n, on_record, im) : OW_OK;
    if (!rc && n == 0) {
        if (ferror(im->f) && !ow_stop_requested)
            rc = ow_err_set(err, OW_EIO, "%s: read error: %s", im->opts->file, strerror(errno));
        if (!rc) rc = ow_csv_finish(im->csv, on_record, im);
        if (!rc && !im->header_seen)
            rc = ow_err_set(err, OW_EINVAL, "%s: empty: no header", im->source);
        if (!rc && (im->opts->ndjson || im->opts->speed > 0))
            qsort(im->held, im->nheld, sizeof *im->held, by_time);
        im->at_end = true;
    }
    im->sink = NULL;
    if (rc == OW_EAGAIN) return ow_err_set(err, OW_EAGAIN, "stopped");
    return rc ? rc : !im->at_end;
}

void ow_csv_import_write_ndjson(const ow_csv_import *im, FILE *out)
{
    for (size_t i = 0; i < im->nheld; i++)
        fwrite(im->held[i].text, 1, im->held[i].len, out), fputc('\n', out);
}

void ow_csv_import_close(ow_csv_import *im)
{
    if (!im) return;
    if (im->f && im->f != stdin) fclose(im->f);
    free(im->buf);
    ow_csv_free(im->csv);
    for (size_t i = 0; i < im->nheld; i++)
        free(im->held[i].text);
    free(im->held);
    free(im->by_region);
    free(im->ev);
    ow_csvmap_row_fini(&im->row);
    ow_csvmap_free(im->map);
    ow_tz_free(im->tz);
    ow_regions_free(im->regions);
    free(im);
}

/* ---- the synchronous appender as the sink ------------------------------------------------ */

static int app_event(void *ud, const ow_event *ev, const char *text, size_t len, ow_err *err)
{
    return ow_sync_appender_add(ud, ev, text, len, err);
}

static int app_reject(void *ud, const char *source, int64_t row, const char *reason,
                      const char *raw, size_t len, ow_err *err)
{
    return ow_sync_appender_reject(ud, source, row, reason, raw, len, err);
}

int ow_csv_import_run(const ow_config *cfg, const ow_csv_opts *opts, redisContext *c,
                      ow_sync_appender *app, ow_err *err)
{
    ow_csv_import *im;
    int rc = ow_csv_import_open(cfg, opts, &im, err);
    if (rc) return rc;
    const ow_csv_sink sink = {app_event, app_reject, app};
    while ((rc = ow_csv_import_pump(im, app ? &sink : NULL, err)) > 0) {
    }
    if (!rc && app) rc = ow_sync_appender_flush(app, err);
    if (!rc && opts->ndjson) ow_csv_import_write_ndjson(im, stdout);
    const ow_append_stats *st = app ? ow_sync_appender_stats(app) : NULL;
    if (!rc)
        ow_csv_import_summary(im, opts->ndjson ? stderr : stdout, st ? st->accepted : 0,
                              st ? st->duplicates : 0);
    char text[OW_REPLAY_TEXT_MAX];
    if (!rc && opts->speed > 0 &&
        !(rc = ow_csv_import_replay_begin(im, ow_clock_wall_ms(), text, err))) {
        redisReply *r = ow_redis_cmd(c, err, "SET replay", "SET %s %s", OW_KEY_REPLAY, text);
        if (!r) rc = OW_EREDIS;
        if (r) freeReplyObject(r);
        int64_t next;
        while (!rc && !ow_stop_requested &&
               (rc = ow_csv_import_replay_play(im, &sink, ow_clock_wall_ms(), &next, err)) > 0) {
            rc = ow_sync_appender_flush(app, err); /* what is due goes out before waiting */
            int64_t wait = next - ow_clock_wall_ms();
            if (!rc && wait > 0) ow_sleep_ms(wait < 100 ? wait : 100);
        }
        if (!rc) rc = ow_sync_appender_flush(app, err);
    }
    ow_csv_import_close(im);
    return rc;
}

bool ow_csv_args(int argc, char **argv, ow_csv_opts *opts, bool *bad)
{
    *opts = (ow_csv_opts){0};
    *bad = false;
    bool found = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--csv") == 0) {
            if (i + 2 >= argc) {
                fprintf(stderr, "opswall-ingest: --csv needs a MAPPING file and a CSV FILE\n");
                *bad = true;
                return true;
            }
            opts->mapping = argv[i + 1], opts->file = argv[i + 2];
            found = true;
        } else if (strcmp(argv[i], "--ndjson") == 0) {
            opts->ndjson = true;
        } else if (strcmp(argv[i], "--speed") == 0 && i + 1 < argc) {
            char *end;
            opts->speed = strtod(argv[i + 1], &end);
            if (*end || !(opts->speed > 0) || opts->speed > OW_REPLAY_SPEED_MAX) {
                fprintf(stderr, "opswall-ingest: --speed: expected a number above 0, got %s\n",
                        argv[i + 1]);
                *bad = true;
            }
        }
    }
    if (found && opts->ndjson && opts->speed > 0) {
        fprintf(stderr, "opswall-ingest: --ndjson and --speed do not go together\n");
        *bad = true;
    }
    return found;
}

#include "file_source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "clock.h"
#include "log.h"

#define CHUNK (256 * 1024) /* bytes per read() and per inflate() output */
/* Records per callback, about one batch: between two callbacks the loop reads Redis's answers and
 * sends the next batches. With 4096, ingest validated ~7 ms at a stretch while Redis, holding
 * ingest.inflight batches (~4 ms of work), sat idle: Redis was busy 0.86-0.90 of the run's time
 * instead of 0.96-0.97 (bench/ingest.sh, redis_busy, loaded machine). The extra loop turns cost
 * nothing visible. */
#define RECORDS_PER_GO 256
#define TTY_REFRESH_MS 250

/* Input formats: name, file extension, decoder. A new format is one row (source.h). */
static const struct {
    const char *name, *ext;
    ow_decoder_new_fn *make;
} formats[] = {
    {"ndjson", ".ndjson", ow_ndjson_decoder_new},
};
#define NFORMATS (sizeof formats / sizeof formats[0])

const char *ow_file_formats(void)
{
    return "ndjson"; /* keep in step with formats[] */
}

typedef enum { GO_MORE, GO_WOULD_BLOCK, GO_WAIT, GO_END } go_result;

struct ow_file_source {
    uv_loop_t *loop;
    ow_appender *app;
    const ow_config *cfg;
    char *name;
    ow_decoder *dec;
    ow_file_options opt;
    ow_file_done_fn *done;
    void *ud;
    int fd;
    bool regular, own_fd;
    int64_t size;       /* regular files: bytes in total (for progress), else -1 */
    int64_t bytes_read; /* from the fd (compressed bytes for gzip) */
    /* input */
    char *in; /* CHUNK bytes read from fd */
    size_t in_len;
    bool gz_checked, gz, gz_done_member, eof;
    z_stream z;
    bool z_init;
    char *out; /* CHUNK bytes of inflated output */
    /* records */
    bool held; /* a paced record waits for its time in `rec` / `ev` */
    ow_record rec;
    ow_event ev;
    int64_t first_ts, start_ms; /* pacing origin: first event time, wall time at its append */
    bool paced_started;
    int64_t position, acked, submitted, completed;
    /* state */
    bool started, stopped, finished, paused, polling, idling;
    uv_idle_t idle;
    uv_poll_t poll;
    uv_timer_t pace, progress;
    bool poll_init;
    int open_handles;
    int64_t t0_ms, last_tty_ms, last_pos_for_rate;
    bool tty;
};

/* ---- completion ------------------------------------------------------------------------------ */

static void on_item_done(void *ud, int64_t tag, ow_result o, const char *stream_id)
{
    (void)stream_id;
    ow_file_source *fs = ud;
    fs->completed++;
    if (o != OW_RESULT_ABANDONED) fs->acked = tag; /* items complete in order */
}

/* ---- progress -------------------------------------------------------------------------------- */

static void fmt_dur(char *out, size_t n, int64_t s)
{
    if (s >= 3600)
        snprintf(out, n, "%" PRId64 ":%02d:%02d", s / 3600, (int)(s / 60 % 60), (int)(s % 60));
    else
        snprintf(out, n, "%d:%02d", (int)(s / 60), (int)(s % 60));
}

static void print_progress(ow_file_source *fs, bool final)
{
    int64_t now = ow_clock_mono_ms(), el = now - fs->t0_ms;
    double rate = el > 0 ? (double)fs->position * 1000.0 / (double)el : 0;
    double frac = fs->size > 0 ? (double)fs->bytes_read / (double)fs->size : -1;
    if (frac > 1) frac = 1;
    char eta[32] = "?";
    if (frac > 0 && el > 0)
        fmt_dur(eta, sizeof eta, (int64_t)((double)el / frac * (1 - frac) / 1000));
    if (fs->tty) {
        char bar[31];
        int fill = frac >= 0 ? (int)(frac * 30) : 0;
        for (int i = 0; i < 30; i++)
            bar[i] = frac < 0 ? '?' : i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%s [%s] %5.1f%%  %" PRId64 " lines  %.0f/s  ETA %s   %s", fs->name, bar,
                frac >= 0 ? frac * 100 : 0.0, fs->position, rate, eta, final ? "\n" : "");
    } else {
        ow_info("progress: %s %s%.1f%%, %" PRId64 " lines, %.0f lines/s, %" PRId64
                " in Redis, eta %s",
                fs->name, frac < 0 ? "?" : "", frac >= 0 ? frac * 100 : 0.0, fs->position, rate,
                fs->acked, eta);
    }
}

static void on_progress(uv_timer_t *t)
{
    print_progress(t->data, false);
}

/* ---- reading --------------------------------------------------------------------------------- */

static void arm(ow_file_source *fs, go_result why);

/* Read more raw input: 1 got bytes, 0 end of input, -2 would block, -1 error (errno). */
static int read_raw(ow_file_source *fs)
{
    ssize_t n;
    do
        n = read(fs->fd, fs->in, CHUNK);
    while (n < 0 && errno == EINTR && !fs->stopped);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1;
    if (n == 0) return 0;
    fs->in_len = (size_t)n;
    fs->bytes_read += n;
    if (!fs->gz_checked) {
        fs->gz_checked = true;
        fs->gz = n >= 2 && (unsigned char)fs->in[0] == 0x1f && (unsigned char)fs->in[1] == 0x8b;
        if (fs->gz) {
            if (inflateInit2(&fs->z, 15 + 16) != Z_OK) return -1;
            fs->z_init = true;
            fs->out = malloc(CHUNK);
            if (!fs->out) return -1;
        }
    }
    if (fs->gz) {
        fs->z.next_in = (Bytef *)fs->in;
        fs->z.avail_in = (uInt)n;
    } else {
        fs->dec->ops->feed(fs->dec, fs->in, (size_t)n);
    }
    return 1;
}

/* Give the decoder its next piece: 1 fed, 0 end of input, -2 would block, -1 error (msg). */
static int next_piece(ow_file_source *fs, char *msg, size_t msgn)
{
    for (;;) {
        if (fs->gz && fs->z.avail_in > 0) {
            if (fs->gz_done_member) {
                inflateReset(&fs->z); /* concatenated gzip members (`cat a.gz b.gz`) */
                fs->gz_done_member = false;
            }
            fs->z.next_out = (Bytef *)fs->out;
            fs->z.avail_out = CHUNK;
            int zr = inflate(&fs->z, Z_NO_FLUSH);
            if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
                snprintf(msg, msgn, "%s: not valid gzip data: %s", fs->name,
                         fs->z.msg ? fs->z.msg : "inflate failed");
                return -1;
            }
            if (zr == Z_STREAM_END) fs->gz_done_member = true;
            size_t got = CHUNK - fs->z.avail_out;
            if (got > 0) {
                fs->dec->ops->feed(fs->dec, fs->out, got);
                return 1;
            }
            if (zr == Z_BUF_ERROR && fs->z.avail_in > 0) {
                snprintf(msg, msgn, "%s: gzip data is corrupt", fs->name);
                return -1;
            }
            continue;
        }
        int r = read_raw(fs);
        if (r == -1) {
            snprintf(msg, msgn, "%s: read error: %s", fs->name, strerror(errno));
            return -1;
        }
        if (r == 0 && fs->gz && !fs->gz_done_member && fs->bytes_read > 0) {
            snprintf(msg, msgn, "%s: the gzip data ends early (truncated file?)", fs->name);
            return -1;
        }
        if (r != 1 || !fs->gz) return r;
    }
}

/* Submit or hold one record. false: it is held for pacing. */
static bool take(ow_file_source *fs, const ow_record *r)
{
    fs->position = r->pos;
    if (r->pos < fs->opt.from_line) return true;
    if (r->reject) {
        fs->submitted++;
        ow_appender_add_reject(fs->app, r->reject, fs->name, r->pos, r->text, r->len, on_item_done,
                               fs, r->pos);
        return true;
    }
    if (r->len == 0 && r->total == 0) return true; /* blank lines separate nothing in NDJSON */
    if (fs->opt.speed > 0 && r->total == r->len &&
        ow_event_parse(r->text, r->len, &fs->ev, NULL) == OW_OK) {
        int64_t now = ow_clock_mono_ms();
        if (!fs->paced_started) {
            fs->paced_started = true;
            fs->first_ts = fs->ev.ts_ms;
            fs->start_ms = now;
        }
        int64_t due =
            fs->start_ms + (int64_t)((double)(fs->ev.ts_ms - fs->first_ts) / fs->opt.speed);
        if (due > now) {
            fs->rec = *r; /* its text stays valid: the decoder is not asked for more meanwhile */
            fs->held = true;
            return false;
        }
        fs->submitted++;
        ow_appender_add_event(fs->app, &fs->ev, r->text, r->len, on_item_done, fs, r->pos);
        return true;
    }
    fs->submitted++;
    ow_appender_submit(fs->app, r->text, r->len, r->total, fs->name, fs->dec->ops->unit, r->pos,
                       on_item_done, fs, r->pos, NULL);
    return true;
}

static void finish(ow_file_source *fs, int status, const char *msg)
{
    if (fs->finished) return;
    fs->finished = true;
    arm(fs, GO_END);
    uv_timer_stop(&fs->progress);
    if (fs->opt.progress && status == OW_OK) print_progress(fs, true);
    fs->done(fs->ud, fs, status, msg);
}

/* Process records until the budget is spent, input would block, a wait or the end. */
static go_result go(ow_file_source *fs)
{
    char msg[OW_ERR_MSG_MAX];
    ow_err err;
    for (int budget = RECORDS_PER_GO; budget > 0; budget--) {
        if (fs->stopped) {
            finish(fs, OW_OK, NULL);
            return GO_END;
        }
        if (ow_appender_full(fs->app)) {
            fs->paused = true;
            return GO_WAIT;
        }
        if (fs->held) return GO_WAIT;
        ow_record r;
        int rc = fs->eof ? fs->dec->ops->finish(fs->dec, &r, &err)
                         : fs->dec->ops->next(fs->dec, &r, &err);
        if (rc < 0) {
            finish(fs, rc, err.msg);
            return GO_END;
        }
        if (rc == 1) {
            if (!take(fs, &r)) return GO_WAIT;
            continue;
        }
        if (fs->eof) {
            finish(fs, OW_OK, NULL);
            return GO_END;
        }
        int p = next_piece(fs, msg, sizeof msg);
        if (p == -2) return GO_WOULD_BLOCK;
        if (p == -1) {
            finish(fs, OW_EIO, msg);
            return GO_END;
        }
        if (p == 0) fs->eof = true;
    }
    return GO_MORE;
}

static void on_pace(uv_timer_t *t);

static void run(ow_file_source *fs)
{
    arm(fs, go(fs));
}

static void on_idle(uv_idle_t *h)
{
    run(h->data);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    (void)events;
    ow_file_source *fs = h->data;
    if (status < 0 && status != UV_EBADF) {
        finish(fs, OW_EIO, uv_strerror(status));
        return;
    }
    run(fs);
}

static void on_pace(uv_timer_t *t)
{
    ow_file_source *fs = t->data;
    if (!fs->held || fs->stopped) {
        run(fs);
        return;
    }
    if (ow_appender_full(fs->app)) {
        fs->paused = true;
        return;
    }
    fs->held = false;
    fs->submitted++;
    ow_appender_add_event(fs->app, &fs->ev, fs->rec.text, fs->rec.len, on_item_done, fs,
                          fs->rec.pos);
    run(fs);
}

/* Start the watcher that fits what go() stopped for. */
static void arm(ow_file_source *fs, go_result why)
{
    bool want_idle = why == GO_MORE || (why == GO_WOULD_BLOCK && fs->regular);
    bool want_poll = why == GO_WOULD_BLOCK && !fs->regular;
    if (want_idle && !fs->idling) uv_idle_start(&fs->idle, on_idle);
    if (!want_idle && fs->idling) uv_idle_stop(&fs->idle);
    fs->idling = want_idle;
    if (want_poll && !fs->polling && fs->poll_init)
        uv_poll_start(&fs->poll, UV_READABLE | UV_DISCONNECT, on_poll);
    if (!want_poll && fs->polling) uv_poll_stop(&fs->poll);
    fs->polling = want_poll && fs->poll_init;
    if (why == GO_WAIT && fs->held && !fs->paused) {
        int64_t due =
            fs->start_ms + (int64_t)((double)(fs->ev.ts_ms - fs->first_ts) / fs->opt.speed);
        int64_t wait = due - ow_clock_mono_ms();
        uv_timer_start(&fs->pace, on_pace, (uint64_t)(wait > 0 ? wait : 0), 0);
    }
}

/* ---- public ---------------------------------------------------------------------------------- */

static ow_decoder_new_fn *pick_format(const char *path, const char *format)
{
    for (size_t i = 0; i < NFORMATS; i++) {
        if (format && strcmp(format, formats[i].name) == 0) return formats[i].make;
        if (!format) {
            size_t pl = strlen(path), el = strlen(formats[i].ext);
            const char *end = path + pl;
            if (pl > 3 && strcmp(end - 3, ".gz") == 0) end -= 3, pl -= 3;
            if (pl >= el && strncmp(end - el, formats[i].ext, el) == 0) return formats[i].make;
        }
    }
    return format ? NULL : ow_ndjson_decoder_new;
}

ow_file_source *ow_file_source_new(uv_loop_t *loop, ow_appender *app, const ow_config *cfg,
                                   const char *path, const char *format, const ow_file_options *opt,
                                   ow_file_done_fn *done, void *ud, ow_err *err)
{
    ow_decoder_new_fn *make = pick_format(path, format);
    if (!make) {
        ow_err_set(err, OW_EINVAL, "--format %s: unknown; known formats: %s", format,
                   ow_file_formats());
        return NULL;
    }
    ow_file_source *fs = calloc(1, sizeof *fs);
    if (!fs) goto oom;
    bool is_stdin = strcmp(path, "-") == 0;
    fs->name = strdup(is_stdin ? "stdin" : path);
    fs->in = malloc(CHUNK);
    if (!fs->name || !fs->in) goto oom;
    fs->dec = make(cfg, path, err);
    if (!fs->dec) goto fail;
    fs->fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fs->fd < 0) {
        ow_err_set(err, OW_EIO, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    fs->own_fd = !is_stdin;
    struct stat st;
    fs->regular = fstat(fs->fd, &st) == 0 && S_ISREG(st.st_mode);
    fs->size = fs->regular ? (int64_t)st.st_size : -1;
    fs->loop = loop;
    fs->app = app;
    fs->cfg = cfg;
    fs->opt = *opt;
    fs->done = done;
    fs->ud = ud;
    fs->tty = isatty(STDERR_FILENO);
    uv_idle_init(loop, &fs->idle);
    uv_timer_init(loop, &fs->pace);
    uv_timer_init(loop, &fs->progress);
    fs->idle.data = fs->pace.data = fs->progress.data = fs;
    fs->open_handles = 3;
    if (!fs->regular && uv_poll_init(loop, &fs->poll, fs->fd) == 0) {
        fs->poll.data = fs;
        fs->poll_init = true;
        fs->open_handles++;
    }
    return fs;
oom:
    ow_err_set(err, OW_ENOMEM, "out of memory");
fail:
    if (fs) {
        if (fs->dec) fs->dec->ops->free(fs->dec);
        free(fs->name);
        free(fs->in);
        free(fs);
    }
    return NULL;
}

void ow_file_source_start(ow_file_source *fs)
{
    fs->started = true;
    fs->t0_ms = ow_clock_mono_ms();
    if (fs->opt.progress) {
        uint64_t every = fs->tty ? TTY_REFRESH_MS : (uint64_t)fs->cfg->ingest.progress_ms;
        uv_timer_start(&fs->progress, on_progress, every, every);
        uv_unref((uv_handle_t *)&fs->progress);
    }
    arm(fs, GO_MORE);
}

void ow_file_source_resume(ow_file_source *fs)
{
    if (!fs->started || fs->finished || !fs->paused) return;
    fs->paused = false;
    if (fs->held) {
        arm(fs, GO_WAIT);
        return;
    }
    arm(fs, GO_MORE);
}

void ow_file_source_stop(ow_file_source *fs)
{
    if (fs->finished) return;
    fs->stopped = true;
    finish(fs, OW_OK, NULL);
}

const char *ow_file_source_name(const ow_file_source *fs)
{
    return fs->name;
}

int64_t ow_file_source_acked(const ow_file_source *fs)
{
    return fs->acked;
}

int64_t ow_file_source_position(const ow_file_source *fs)
{
    return fs->position;
}

int64_t ow_file_source_pending(const ow_file_source *fs)
{
    return fs->submitted - fs->completed;
}

static void on_closed(uv_handle_t *h)
{
    ow_file_source *fs = h->data;
    if (--fs->open_handles > 0) return;
    if (fs->dec) fs->dec->ops->free(fs->dec);
    if (fs->z_init) inflateEnd(&fs->z);
    if (fs->own_fd) close(fs->fd);
    free(fs->out);
    free(fs->in);
    free(fs->name);
    free(fs);
}

void ow_file_source_free(ow_file_source *fs)
{
    if (!fs) return;
    uv_close((uv_handle_t *)&fs->idle, on_closed);
    uv_close((uv_handle_t *)&fs->pace, on_closed);
    uv_close((uv_handle_t *)&fs->progress, on_closed);
    if (fs->poll_init) uv_close((uv_handle_t *)&fs->poll, on_closed);
}

/*
 * opswall-ingest — the front door: NDJSON events from files or stdin, validated by the event
 * codec, de-duplicated and appended to Redis (ops:events); rejects go to ops:rejects with reasons.
 *
 *   opswall-ingest [--config PATH] [FILE|-]...      (no FILE = stdin)
 *   opswall-ingest [--config PATH] --csv MAPPING FILE [--ndjson | --speed N]   (csv_source.h)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appender.h"
#include "csv_source.h"
#include "event.h"
#include "files.h"
#include "keys.h"
#include "linereader.h"
#include "log.h"
#include "redis.h"
#include "signals.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: opswall-ingest [--config PATH] [FILE|-]...\n"
            "       opswall-ingest [--config PATH] --csv MAPPING FILE [--ndjson|--speed N]\n"
            "  Reads NDJSON events (DESIGN §3) and appends them to Redis.\n"
            "  No FILE or '-' reads standard input.\n"
            "  --csv: a ticket export through a column mapping (docs/csv-import.md);\n"
            "  --ndjson writes its events to stdout, --speed N replays them at N×.\n");
}

/* Feed one source through validate → append. Returns OW_OK or a Redis/IO error. */
static int ingest_stream(ow_appender *app, FILE *f, const char *source, int64_t *lines, ow_err *err)
{
    ow_linereader lr;
    if (ow_linereader_init(&lr, f, OW_EVENT_MAX_BYTES)) return ow_err_set(err, OW_ENOMEM, "oom");
    int rc = OW_OK;
    size_t len, total;
    ow_event *ev = malloc(sizeof *ev);
    if (!ev) rc = ow_err_set(err, OW_ENOMEM, "out of memory");
    while (!rc && !ow_stop_requested && ow_linereader_next(&lr, &len, &total)) {
        (*lines)++;
        if (total == 0) continue; /* blank lines separate nothing in NDJSON; skip them */
        ow_err perr;
        char reason[OW_ERR_MSG_MAX + 32];
        if (total > len) {
            snprintf(reason, sizeof reason,
                     "line %lld: event is %zu bytes: the limit is %d bytes (64 KiB)",
                     (long long)lr.lineno, total, OW_EVENT_MAX_BYTES);
        } else if (ow_event_parse(lr.buf, len, ev, &perr) == OW_OK) {
            rc = ow_appender_add(app, ev, lr.buf, len, err);
            continue;
        } else {
            snprintf(reason, sizeof reason, "line %lld: %s", (long long)lr.lineno, perr.msg);
        }
        rc = ow_appender_reject(app, source, lr.lineno, reason, lr.buf, len, err);
    }
    /* a stop request interrupts the read (EINTR): that is the end of input, not an error */
    if (!rc && ferror(f) && !ow_stop_requested)
        rc = ow_err_set(err, OW_EIO, "%s: read error: %s", source, strerror(errno));
    if (!rc) rc = ow_appender_flush(app, err);
    free(ev);
    ow_linereader_fini(&lr);
    return rc;
}

int main(int argc, char **argv)
{
    ow_log_init("ingest", OW_LOG_INFO);
    const char *files[256];
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            i++;
        } else if (strcmp(argv[i], "--csv") == 0) {
            i += 2; /* read (and a missing FILE reported) by ow_csv_args */
        } else if (strcmp(argv[i], "--speed") == 0 && i + 1 < argc) {
            i++;
        } else if (strcmp(argv[i], "--ndjson") == 0) {
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "opswall-ingest: unknown option %s\n", argv[i]);
            usage();
            return 2;
        } else if (nfiles < 256) {
            files[nfiles++] = argv[i];
        }
    }
    if (nfiles == 0) files[nfiles++] = "-";
    ow_csv_opts csv;
    bool csv_bad, use_csv = ow_csv_args(argc, argv, &csv, &csv_bad);
    if (csv_bad || (!use_csv && (csv.ndjson || csv.speed > 0))) {
        usage();
        return 2;
    }

    ow_config cfg;
    ow_err err;
    if (ow_config_load(&cfg, ow_args_config(argc, argv), &err)) {
        ow_error("%s", err.msg);
        return 2;
    }
    ow_signals_install();
    if (use_csv && csv.ndjson) { /* no Redis: the events go to stdout */
        int rc = ow_csv_import_run(&cfg, &csv, NULL, NULL, &err);
        if (rc) ow_error("%s", err.msg);
        return rc ? 1 : 0;
    }

    ow_redis_env env;
    if (ow_redis_env_open(&cfg, &env, &err)) {
        ow_error("%s", err.msg);
        return 1;
    }
    int status = 1;
    ow_appender *app = NULL;
    redisContext *c = ow_redis_connect(&env, &err);
    if (!c) goto out;
    app = ow_appender_new(c, &cfg, &err);
    if (!app) goto out;

    if (use_csv) {
        if (ow_csv_import_run(&cfg, &csv, c, app, &err)) goto out;
        status = 0;
        goto out;
    }
    int64_t lines = 0;
    for (int i = 0; i < nfiles && !ow_stop_requested; i++) {
        bool is_stdin = strcmp(files[i], "-") == 0;
        FILE *f = is_stdin ? stdin : fopen(files[i], "rb");
        if (!f) {
            ow_err_set(&err, OW_EIO, "%s: cannot open: %s", files[i], strerror(errno));
            goto out;
        }
        int rc = ingest_stream(app, f, is_stdin ? "stdin" : files[i], &lines, &err);
        if (!is_stdin) fclose(f);
        if (rc) goto out;
    }
    const ow_append_stats *st = ow_appender_stats(app);
    ow_info("%lld lines: %lld accepted, %lld duplicates, %lld rejected%s", (long long)lines,
            (long long)st->accepted, (long long)st->duplicates, (long long)st->rejected,
            st->rejected ? " (reasons in Redis stream " OW_KEY_REJECTS ")" : "");
    status = 0;
out:
    if (status) ow_error("%s", err.msg);
    ow_appender_free(app);
    if (c) redisFree(c);
    ow_redis_env_close(&env);
    return status;
}

/*
 * file_source — one input file or stdin (plain or gzip, detected by its first bytes) read through
 * a decoder (source.h) into the appender, on the program's libuv loop.
 *
 * Regular files are read in chunks from an idle callback; pipes and terminals are watched with
 * uv_poll, so a slow producer on stdin never blocks the loop (its partial batch goes out at once).
 * Pacing: speed 0 = as fast as Redis takes it; speed S > 0 replays at S × the recorded pace (event
 * n is appended when (ts_n − ts_first) / S has passed). Records before `from_line` are skipped
 * (resuming after an interruption; de-duplication makes an overlap harmless). While the appender
 * is full, reading stops until ow_file_source_resume. Progress: a bar with rate and ETA when
 * stderr is a terminal, a plain line every ingest.progress_interval otherwise.
 *
 * Lifecycle: ow_file_source_new → ow_file_source_start → (resume | stop)* → on_done →
 * (its items all completed) → ow_file_source_free. Items carry the source as their callback data,
 * so free it only after the appender has completed or abandoned them.
 */
#ifndef OW_FILE_SOURCE_H
#define OW_FILE_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "appender.h"
#include "config.h"
#include "err.h"
#include "source.h"

typedef struct ow_file_source ow_file_source;

typedef struct ow_file_options {
    double speed;      /* 0 = as fast as possible; else × the recorded pace */
    int64_t from_line; /* skip records before this position (1 = from the start) */
    bool progress;     /* print progress on stderr */
} ow_file_options;

/* Called once reading ended: status OW_OK at the end of input or after ow_file_source_stop, else
 * an error (err_msg says what). */
typedef void ow_file_done_fn(void *ud, ow_file_source *fs, int status, const char *err_msg);

/* path "-" is stdin. The decoder is chosen by the file's extension (".csv"; else NDJSON) unless
 * `format` names one ("ndjson", "csv"). NULL with err (naming the path) on failure. */
ow_file_source *ow_file_source_new(uv_loop_t *loop, ow_appender *app, const ow_config *cfg,
                                   const char *path, const char *format, const ow_file_options *opt,
                                   ow_file_done_fn *done, void *ud, ow_err *err);
void ow_file_source_start(ow_file_source *fs);
void ow_file_source_resume(ow_file_source *fs); /* the appender has room again */
void ow_file_source_stop(ow_file_source *fs);   /* stop reading now (e.g. on SIGINT) */

/* The name used in rejects ("stdin" or the path). */
const char *ow_file_source_name(const ow_file_source *fs);
/* Every record up to this position is in Redis (0 = none yet). */
int64_t ow_file_source_acked(const ow_file_source *fs);
/* Records read (including skipped and blank ones) and the position reached. */
int64_t ow_file_source_position(const ow_file_source *fs);
/* Items submitted whose outcome is not known yet. */
int64_t ow_file_source_pending(const ow_file_source *fs);

/* Closes its handles; frees itself once they are closed (run the loop). */
void ow_file_source_free(ow_file_source *fs);

/* Formats known by name, for --format and messages: "ndjson|csv". */
const char *ow_file_formats(void);

#endif

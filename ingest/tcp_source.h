/*
 * tcp_source — the NDJSON listener for long-lived producers (docs/ingest.md, "TCP").
 *
 * A producer connects, writes event lines, and reads one answer line (answer.h) per non-blank
 * line it sent, in the same order, once that record is in Redis (or kept as a reject): an
 * "accepted" or "duplicate" answer means the event is safe; a producer that loses its connection
 * sends again whatever was not answered (de-duplication makes that harmless).
 *
 * Backpressure instead of loss: while the appender is full, or a producer has more than
 * MAX_UNANSWERED records owed, or does not read its answers (more than MAX_OUT_QUEUED bytes
 * waiting), that connection is not read — TCP flow control then slows the producer. Lines over 64
 * KiB are cut and rejected; at most ingest.tcp.max_clients connections; a connection silent for
 * ingest.tcp.idle_timeout is closed.
 *
 * Lifecycle: ow_tcp_source_new (listens) → resume* → stop (no new input) → close.
 */
#ifndef OW_TCP_SOURCE_H
#define OW_TCP_SOURCE_H

#include <uv.h>

#include "appender.h"
#include "config.h"
#include "err.h"

typedef struct ow_tcp_source ow_tcp_source;

/* Listens on ingest.tcp.listen:ingest.tcp.port and logs "tcp: listening on ADDR:PORT". */
ow_tcp_source *ow_tcp_source_new(uv_loop_t *loop, ow_appender *app, const ow_config *cfg,
                                 ow_err *err);
void ow_tcp_source_resume(ow_tcp_source *t); /* the appender has room again */
void ow_tcp_source_stop(ow_tcp_source *t);   /* stop accepting and reading; answers still go out */
void ow_tcp_source_close(ow_tcp_source *t);  /* close everything; frees itself (run the loop) */

#endif

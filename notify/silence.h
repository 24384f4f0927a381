/*
 * silence — "do not notify about these alerts from start to end, says who, because why".
 *
 * Created and removed over opswall-notify's HTTP API (POST/DELETE /api/v1/silences), stored in
 * Redis (ops:{p0}:notify:silences) so they survive restarts. A silenced alert is left out of
 * messages while the silence is active; it is not dropped: when the silence ends, the alert's
 * group sends it at its next interval if it is still open.
 *
 * Request body (POST), strict:
 *   {"matchers":{"region":"north","level":[1]}, "starts_at":"2026-11-22T09:00:00+08:00",
 *    "ends_at":"…" | "duration":"2h", "comment":"rainstorm: desk knows"}
 * starts_at defaults to now; one of ends_at / duration is required; at most 30 days long.
 *
 * Pure: now is an argument. Lifecycle: ow_silence_parse / ow_silence_load → ow_silence_free.
 */
#ifndef OW_SILENCE_H
#define OW_SILENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "nalert.h"

#define OW_SILENCE_MAX_BYTES (16 * 1024)
#define OW_SILENCE_ID_BUF    40
#define OW_SILENCES_MAX      1000

typedef struct ow_silence {
    char id[OW_SILENCE_ID_BUF];
    ow_matcher m;
    int64_t starts_ms, ends_ms, created_ms;
    char by[64]; /* token holder who created it */
    char comment[1025];
} ow_silence;

/* From an API request body. `id` and `by` are given by the caller; now fills starts_at's default.
 * Errors name the field. *out owned by the caller. */
int ow_silence_parse(const char *body, size_t len, const char *id, const char *by, int64_t now_ms,
                     ow_silence **out, ow_err *err);
/* From the stored form (ow_silence_format). */
int ow_silence_load(const char *text, size_t len, ow_silence **out, ow_err *err);
/* The stored/API form: {"id","matchers","starts_at","ends_at","created_at","created_by","comment"}.
 * malloc'd, NULL on out of memory. */
char *ow_silence_format(const ow_silence *s);
void ow_silence_free(ow_silence *s);

bool ow_silence_active(const ow_silence *s, int64_t now_ms);
bool ow_silence_covers(const ow_silence *s, const ow_nalert *a, int64_t now_ms);

#endif

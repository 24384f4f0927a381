/*
 * timefmt — instants and durations as opswall writes them.
 *
 * Instants are int64 milliseconds since the Unix epoch, UTC, everywhere inside opswall. Text forms:
 *   RFC 3339 with a zone ("2026-11-22T09:15:02.120+08:00") in, "2026-11-22T01:15:02.120Z" out.
 * Durations are int64 milliseconds; text form is one or more <integer><unit> parts with units
 *   ms, s, m, h, d  ("500ms", "15m", "2h", "1h30m", "7d").
 * Pure: no clock reads. Leap seconds (":60") are accepted and read as :59.999.
 */
#ifndef OW_TIMEFMT_H
#define OW_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define OW_TIME_TEXT_MAX 64 /* room for ow_time_format's output */

/* Parse an RFC 3339 date-time with zone into epoch ms UTC. Sub-millisecond digits are truncated.
 * Errors name what was expected; the input is not echoed (callers add the field name). */
int ow_time_parse(const char *s, size_t len, int64_t *ms_out, ow_err *err);

/* Format epoch ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (OW_TIME_TEXT_MAX bytes). */
void ow_time_format(int64_t ms, char out[OW_TIME_TEXT_MAX]);

/* Days since 1970-01-01 of a proleptic Gregorian civil date (negative before 1970). */
int64_t ow_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The civil date (year, month 1-12, day 1-31) of a day number since 1970-01-01. */
void ow_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Parse a duration ("15m", "1h30m", "500ms"); result in ms, >= 0. */
int ow_duration_parse(const char *s, int64_t *ms_out, ow_err *err);

/* Format ms in the same grammar, shortest exact form ("1h30m", "0s"), into out[n]. */
void ow_duration_format(int64_t ms, char *out, size_t n);

#endif

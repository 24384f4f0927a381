/*
 * tz — time zones from TZif files (RFC 8536, versions 1-4), for exports written in local time.
 *
 * Pure: ow_tz_parse takes the file's bytes (io reads /usr/share/zoneinfo/<zone>). The 64-bit data
 * block of version 2+ files is used when present; instants after the last transition follow the
 * footer's POSIX TZ rule ("PST8PDT,M3.2.0,M11.1.0"), so "slim" and "fat" files give the same
 * answers. Leap-second records are skipped: opswall's instants are POSIX time.
 *
 * Local time → UTC, deterministic at the two kinds of DST edges:
 *   - an ambiguous local time (the repeated hour when clocks fall back, e.g. 01:30 on the first
 *     Sunday of November in Los Angeles) is read as the EARLIER instant — the first time the
 *     clock showed it (01:30 PDT = 08:30Z, not 01:30 PST = 09:30Z);
 *   - a local time that never happened (the skipped hour when clocks spring forward, 02:30 on the
 *     second Sunday of March) is read with the offset in force before the jump, so it lands the
 *     gap's length after the transition (02:30 "PST" = 10:30Z = 03:30 PDT).
 * ow_tz_local_to_utc reports which case applied, so importers can count them.
 */
#ifndef OW_TZ_H
#define OW_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define OW_TZ_MAX_TRANSITIONS 10000 /* more in one file is refused as hostile */

typedef struct ow_tz ow_tz;

typedef enum {
    OW_TZ_UNIQUE,    /* the local time happened exactly once */
    OW_TZ_AMBIGUOUS, /* twice (fall back): the earlier instant was taken */
    OW_TZ_GAP        /* never (spring forward): read with the offset before the gap */
} ow_tz_kind;

/* Parse a TZif file. `source` (the zone name or path) prefixes messages. On success *out is owned
 * by the caller (ow_tz_free). Errors name what is wrong: "America/Los_Angeles: not a TZif file
 * (no "TZif" magic)", "...: transition 12 is not after transition 11", ... */
int ow_tz_parse(const unsigned char *data, size_t len, const char *source, ow_tz **out,
                ow_err *err);

void ow_tz_free(ow_tz *tz); /* NULL is a no-op */

/* A tz database name that is safe to join to the zoneinfo directory: "America/Los_Angeles",
 * "UTC", "Etc/GMT+8" (letters, digits, '/', '_', '+', '-'; no leading '/', no ".."). */
bool ow_tz_name_ok(const char *name);

/* UTC offset in seconds (east positive: -28800 for PST) at a UTC instant (seconds). */
int32_t ow_tz_offset(const ow_tz *tz, int64_t utc_s);

/* The UTC instant (ms) of a local wall-clock time given as ms since 1970-01-01T00:00 local.
 * *kind (may be NULL) says whether the time was unique, ambiguous or in a gap (see above). */
int64_t ow_tz_local_to_utc(const ow_tz *tz, int64_t local_ms, ow_tz_kind *kind);

/* Local days, for the places that cut time into a city's days and hours (KPI windows, reports).
 * tz may be NULL: then the fixed offset fixed_ms (east positive) stands for the zone. All instants
 * are ms; "local ms" counts from 1970-01-01T00:00 local. */
int64_t ow_tz_offset_ms(const ow_tz *tz, int64_t fixed_ms, int64_t utc_ms);
/* The UTC instant of local midnight local_day_ms (a multiple of a day in local ms). A midnight
 * that never happened (a zone springing forward at 00:00) is the transition itself. */
int64_t ow_tz_midnight(const ow_tz *tz, int64_t fixed_ms, int64_t local_day_ms);
/* The local midnight (local ms) of the local day that contains utc_ms. */
int64_t ow_tz_local_day(const ow_tz *tz, int64_t fixed_ms, int64_t utc_ms);
/* The UTC instant starting the local day that contains utc_ms (never after it): a day is 23 or
 * 25 hours long when the clocks change in it. */
int64_t ow_tz_day_start(const ow_tz *tz, int64_t fixed_ms, int64_t utc_ms);

#endif

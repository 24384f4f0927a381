/*
 * fuzz_timefmt — ow_time_parse (length-bounded) and ow_duration_parse (NUL-terminated).
 *
 * Oracles: what parses formats back to text that parses to the same value, and nothing outside
 * four-digit years or negative durations is ever produced.
 */
#include <string.h>

#include "fuzz_common.h"
#include "timefmt.h"

#define FIRST_MS INT64_C(-62135596800000) /* 0001-01-01T00:00:00Z */
#define LAST_MS  INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */
#define DAY_MS   INT64_C(86400000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    ow_err err;

    /* instants: data is not NUL-terminated, exactly `size` bytes are readable */
    int64_t ms = 0;
    int rc = ow_time_parse(s, size, &ms, &err);
    if (rc == OW_OK) {
        /* year 0000 (a leap year) with a positive zone, or 9999 with a negative one, leaves
         * four digits by up to a day */
        fuzz_require(ms >= FIRST_MS - 367 * DAY_MS && ms <= LAST_MS + DAY_MS, "instant in range");
        if (ms >= FIRST_MS && ms <= LAST_MS) {
            char out[OW_TIME_TEXT_MAX], again[OW_TIME_TEXT_MAX];
            ow_time_format(ms, out);
            int64_t back = -1;
            fuzz_require(ow_time_parse(out, strlen(out), &back, NULL) == OW_OK, "format parses");
            fuzz_require(back == ms, "time round trip");
            ow_time_format(back, again);
            fuzz_require(strcmp(out, again) == 0, "format is stable");
        }
    } else {
        fuzz_require(rc == OW_EINVAL && err.code == OW_EINVAL && err.msg[0], "time error");
    }

    /* formatting any int64: no overflow, always terminated, always within the buffer */
    if (size >= sizeof(int64_t)) {
        int64_t any;
        memcpy(&any, data, sizeof any);
        char out[OW_TIME_TEXT_MAX];
        ow_time_format(any, out);
        fuzz_require(memchr(out, '\0', sizeof out) != NULL, "time text terminated");
        char dur[64];
        ow_duration_format(any, dur, sizeof dur);
        fuzz_require(memchr(dur, '\0', sizeof dur) != NULL, "duration text terminated");
    }

    /* durations: a NUL-terminated copy (inputs with NUL bytes end early, like C strings do) */
    char *z = malloc(size + 1);
    if (!z) return 0;
    memcpy(z, data, size);
    z[size] = '\0';
    int64_t d = -1;
    rc = ow_duration_parse(z, &d, &err);
    if (rc == OW_OK) {
        fuzz_require(d >= 0, "duration >= 0");
        char out[64];
        ow_duration_format(d, out, sizeof out);
        int64_t back = -1;
        fuzz_require(ow_duration_parse(out, &back, NULL) == OW_OK, "duration format parses");
        fuzz_require(back == d, "duration round trip");
    } else {
        fuzz_require((rc == OW_EINVAL || rc == OW_ERANGE) && err.code == rc && err.msg[0],
                     "duration error");
    }
    free(z);
    return 0;
}

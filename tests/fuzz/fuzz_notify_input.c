/*
 * fuzz_notify_input — what delivery reads from outside at run time: alert stream entries
 * (ow_nalert_parse), alert changes (ow_nchange_parse) and silence requests from the HTTP API
 * (ow_silence_parse), plus the stored silence form.
 *
 * Oracles: failures return an error code with a message; an accepted alert has an id, a level in
 * 0..3 and every label non-NULL; an accepted silence ends after it starts, formats to text that
 * loads back and formats the same.
 */
#include <string.h>

#include "fuzz_common.h"
#include "nalert.h"
#include "silence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    ow_err err;
    ow_nalert *a = NULL;
    if (ow_nalert_parse(text, size, &a, &err) == 0) {
        fuzz_require(a->id[0] && a->level >= 0 && a->level <= 3, "alert fields");
        for (int l = 0; l < OW_LBL__COUNT; l++)
            fuzz_require(a->label[l] != NULL, "labels set");
        ow_nalert_free(a);
    } else {
        fuzz_require(a == NULL && err.msg[0], "alert error");
    }
    ow_nchange ch;
    if (ow_nchange_parse(text, size, &ch, &err) == 0)
        fuzz_require(ch.id[0] && (ch.op == OW_CHANGE_RESOLVE || ch.op == OW_CHANGE_ACK), "change");
    ow_silence *s = NULL;
    if (ow_silence_parse(text, size, "s-1", "fuzz", 1795309200000, &s, &err) == 0) {
        fuzz_require(s->ends_ms > s->starts_ms, "silence ends after it starts");
        char *out = ow_silence_format(s);
        fuzz_require(out != NULL, "format");
        ow_silence *back = NULL;
        fuzz_require(ow_silence_load(out, strlen(out), &back, &err) == 0, "stored form loads");
        char *again = ow_silence_format(back);
        fuzz_require(again && strcmp(out, again) == 0, "stored form round trip");
        free(out);
        free(again);
        ow_silence_free(back);
        ow_silence_free(s);
    } else {
        fuzz_require(s == NULL && err.msg[0], "silence error");
    }
    return 0;
}

/*
 * fuzz_notify_input — what delivery reads from outside at run time: alert stream entries
 * (ow_nalert_parse), alert changes (ow_nchange_parse) and silence requests from the HTTP API
 * (ow_silence_parse), plus the stored silence form and the stored notification record
 * (ow_outbox_load: what Redis hands back after a restart).
 *
 * Oracles: failures return an error code with a message; an accepted alert has an id, a level in
 * 0..3 and every label non-NULL; an accepted silence ends after it starts, formats to text that
 * loads back and formats the same; an accepted record formats to text that loads back and formats
 * the same, and a finished one holds no body.
 */
#include <string.h>

#include "../notify/fixture.h"
#include "fuzz_common.h"
#include "nalert.h"
#include "outbox.h"
#include "silence.h"

/* A stored record names a receiver of the configuration: a (webhook), b (dingtalk), s (stream). */
static void fuzz_record(const char *text, size_t size)
{
    static ow_nconfig *cfg;
    if (!cfg) cfg = fx_config("{\"receiver\":\"a\"}", NULL); /* kept for the process */
    ow_outbox *o = ow_outbox_new(cfg, 1, 100);
    fuzz_require(o != NULL, "outbox");
    ow_err err;
    ow_send *s = NULL;
    if (ow_outbox_load(o, text, size, &s, &err) == 0) {
        fuzz_require(s && s->n.id[0] && s->n.count >= s->n.nalerts, "record fields");
        fuzz_require(s->state < OW_SEND_DELIVERED || !s->n.body, "a finished record holds no body");
        char *out = ow_send_format(o, s);
        fuzz_require(out != NULL, "format");
        ow_send *back = NULL;
        if (ow_outbox_load(o, out, strlen(out), &back, &err)) {
            fprintf(stderr, "%s\n%s\n", err.msg, out);
            fuzz_require(false, "stored record loads back");
        }
        char *again = ow_send_format(o, back);
        fuzz_require(again && strcmp(out, again) == 0, "stored record round trip");
        free(out);
        free(again);
    } else {
        fuzz_require(s == NULL && err.msg[0], "record error");
    }
    ow_outbox_free(o);
}

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
    fuzz_record(text, size);
    return 0;
}

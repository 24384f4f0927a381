/*
 * fuzz_delta — the snapshot/delta wire format (core/delta.h) on arbitrary pairs.
 *
 * The input is split at its first newline into A and B (no newline: B is empty).
 * 1. ow_delta_apply(snapshot A, delta B): refused with OW_EINVAL or OW_EAGAIN and a "delta"
 *    message, or the result is one JSON object that ow_json_parse accepts, carrying the delta's
 *    seq (even when the delta's set or del names "seq").
 * 2. When A and B are both snapshots: ow_delta_make(A, B) succeeds, and applying that delta to A
 *    gives back B (compared as JSON values). A and B are first printed once by cJSON, as every
 *    snapshot the engine publishes is: raw text may hold a number no double holds (1e400), which
 *    prints as null and which cJSON_Compare finds equal to any number.
 */
#include <string.h>

#include "delta.h"
#include "fuzz_common.h"
#include "json.h"

static bool is_snapshot(const char *text, size_t len)
{
    ow_err err;
    cJSON *root = ow_json_parse(text, len, OW_JSON_MAX_DEPTH, &err);
    const cJSON *type = ow_json_get(root, "type");
    int64_t seq;
    bool yes = cJSON_IsString(type) && strcmp(type->valuestring, "snapshot") == 0 &&
               ow_json_int(ow_json_get(root, "seq"), 0, INT64_C(1) << 53, &seq);
    cJSON_Delete(root);
    return yes;
}

static void check_apply(const char *a, size_t alen, const char *b, size_t blen)
{
    ow_err err;
    ow_err_clear(&err);
    char *out = ow_delta_apply(a, alen, b, blen, &err);
    if (!out) {
        fuzz_require(err.code == OW_EINVAL || err.code == OW_EAGAIN, "refused with EINVAL/EAGAIN");
        fuzz_require(strncmp(err.msg, "delta", 5) == 0, "message says delta");
        return;
    }
    cJSON *res = ow_json_parse(out, strlen(out), OW_JSON_MAX_DEPTH, &err);
    if (!res) fprintf(stderr, "result: %s\n%s\n", err.msg, out);
    fuzz_require(res != NULL && cJSON_IsObject(res), "the result is a JSON object");
    cJSON *d = ow_json_parse(b, blen, OW_JSON_MAX_DEPTH, &err);
    fuzz_require(d != NULL, "an applied delta parses");
    int64_t seq, got;
    fuzz_require(ow_json_int(ow_json_get(d, "seq"), 0, INT64_C(1) << 53, &seq),
                 "an applied delta has a seq");
    fuzz_require(ow_json_int(ow_json_get(res, "seq"), 0, INT64_C(1) << 53, &got) && got == seq,
                 "the result carries the delta's seq");
    cJSON_Delete(d);
    cJSON_Delete(res);
    free(out);
}

/* text parsed and printed once by cJSON, as the engine publishes snapshots; NULL if no JSON */
static char *printed(const char *text, size_t len)
{
    ow_err err;
    cJSON *root = ow_json_parse(text, len, OW_JSON_MAX_DEPTH, &err);
    char *out = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return out;
}

static void check_round_trip(const char *a_in, size_t alen, const char *b_in, size_t blen)
{
    if (!is_snapshot(a_in, alen) || !is_snapshot(b_in, blen)) return;
    /* Snapshots as the engine writes them: printed by cJSON. (Raw text may hold numbers no double
     * holds, like 1e400, which cJSON_Compare finds equal to any number.) */
    char *a = printed(a_in, alen), *b = printed(b_in, blen);
    fuzz_require(a && b, "print A and B");
    ow_err err;
    char *delta = ow_delta_make(a, strlen(a), b, strlen(b), &err);
    if (!delta) fprintf(stderr, "make: %s\n", err.msg);
    fuzz_require(delta != NULL, "make from two snapshots");
    char *out = ow_delta_apply(a, strlen(a), delta, strlen(delta), &err);
    if (!out) fprintf(stderr, "apply: %s\ndelta: %s\n", err.msg, delta);
    fuzz_require(out != NULL, "a made delta applies to its base");

    cJSON *want = ow_json_parse(b, strlen(b), OW_JSON_MAX_DEPTH, &err);
    cJSON *got = ow_json_parse(out, strlen(out), OW_JSON_MAX_DEPTH, &err);
    fuzz_require(want && got, "both parse");
    if (!cJSON_Compare(want, got, true)) fprintf(stderr, "delta: %s\ngot: %s\n", delta, out);
    fuzz_require(cJSON_Compare(want, got, true), "apply(A, make(A, B)) == B");
    cJSON_Delete(want);
    cJSON_Delete(got);
    cJSON_free(a);
    cJSON_free(b);
    free(out);
    free(delta);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size);
    size_t alen = nl ? (size_t)(nl - text) : size;
    const char *b = nl ? nl + 1 : text + size;
    size_t blen = size - alen - (nl ? 1 : 0);
    check_apply(text, alen, b, blen);
    check_round_trip(text, alen, b, blen);
    return 0;
}

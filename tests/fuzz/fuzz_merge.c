/*
 * fuzz_merge — merging partial snapshots (engine/merge.h), which the feed and the wallboard read
 * from Redis: outside input.
 *
 * The input is up to 4 lines, one partition's partial snapshot each (an empty or unparsable line:
 * that partition has published nothing yet). Invariants: the merge either fails with OW_EINVAL,
 * OW_ENOTFOUND or OW_ENOMEM and a message naming a partition (or saying none has published), or
 * gives a snapshot object that prints, says "type":"snapshot" and the seq it was given, lists
 * every partition in `partitions`, keeps the top-k lists within their bounds, and carries no
 * `part`. Merging the same inputs twice gives the same text (no hidden state).
 */
#include <string.h>

#include "fuzz_common.h"
#include "json.h"
#include "merge.h"

#define MAXP 4

static char *merged_text(const ow_merge_part *in, int n, const ow_partition_table *t, ow_err *err)
{
    cJSON *m = ow_merge_build(in, n, t, 42, err);
    if (!m) {
        fuzz_require(err->code == OW_EINVAL || err->code == OW_ENOTFOUND || err->code == OW_ENOMEM,
                     "refused with EINVAL/ENOTFOUND/ENOMEM");
        fuzz_require(strstr(err->msg, "partition") != NULL || err->code == OW_ENOMEM,
                     "the message names the partition");
        return NULL;
    }
    fuzz_require(cJSON_IsObject(m), "the merge is an object");
    const cJSON *type = ow_json_get(m, "type"), *seq = ow_json_get(m, "seq");
    fuzz_require(cJSON_IsString(type) && strcmp(type->valuestring, "snapshot") == 0,
                 "type snapshot");
    fuzz_require(cJSON_IsNumber(seq) && seq->valuedouble == 42, "the seq given");
    fuzz_require(cJSON_GetArraySize(ow_json_get(m, "partitions")) == n, "every partition listed");
    fuzz_require(cJSON_GetArraySize(ow_json_get(m, "urgent")) <= OW_MERGE_URGENT, "urgent <= 20");
    fuzz_require(cJSON_GetArraySize(ow_json_get(m, "flags")) <= OW_MERGE_FLAGS, "flags <= 50");
    fuzz_require(cJSON_GetArraySize(ow_json_get(m, "escalations")) <= OW_MERGE_ESCALATIONS,
                 "escalations <= 30");
    fuzz_require(ow_json_get(m, "part") == NULL, "no part member");
    char *text = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    fuzz_require(text != NULL, "the merge prints");
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    cJSON *snaps[MAXP] = {0};
    ow_merge_part in[MAXP];
    int n = 0;
    size_t off = 0;
    while (n < MAXP && off <= size) {
        const char *nl = memchr(text + off, '\n', size - off);
        size_t len = nl ? (size_t)(nl - (text + off)) : size - off;
        ow_err err;
        snaps[n] = len ? ow_json_parse(text + off, len, OW_JSON_MAX_DEPTH, &err) : NULL;
        in[n] = (ow_merge_part){.snap = snaps[n], .age_ms = 1500 * n, .stale = n == 2};
        n++;
        if (!nl) break;
        off += len + 1;
    }
    ow_partition_table t;
    ow_partition_table_init(&t, n);
    ow_err e1, e2;
    char *a = merged_text(in, n, &t, &e1);
    char *b = merged_text(in, n, &t, &e2);
    fuzz_require((a == NULL) == (b == NULL), "the same outcome twice");
    fuzz_require(!a || strcmp(a, b) == 0, "the same merge twice");
    fuzz_require(a || strcmp(e1.msg, e2.msg) == 0, "the same message twice");
    cJSON_free(a);
    cJSON_free(b);
    ow_partition_table_fini(&t);
    for (int i = 0; i < n; i++)
        cJSON_Delete(snaps[i]);
    return 0;
}

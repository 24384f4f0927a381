/*
 * fuzz_feed_live — the feed's intake of engine messages (ow_live_publish) on arbitrary text: the
 * input is split at newlines into messages, published in order, and after each the held snapshot
 * is read in both views.
 *
 * Oracles: a refused message leaves the held seq unchanged; the held snapshot (both views) is JSON
 * with the held seq; the viewer's view never holds a technician coordinate other than null or a
 * region centre learnt from the messages (every centre in the input is planted as 0.5 or 0, so
 * any other number is an exact position leaking through).
 */
#include <string.h>

#include "fuzz_common.h"
#include "json.h"
#include "live.h"

static void check_coarse(const ow_msg *m)
{
    cJSON *root = cJSON_ParseWithLength((const char *)ow_msg_data((ow_msg *)m), m->len);
    fuzz_require(root != NULL, "held viewer snapshot is JSON");
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(root, "techs_pos");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(tp, "list"), *row;
    cJSON_ArrayForEach(row, list)
    {
        for (int i = 1; i <= 2; i++) {
            const cJSON *v = cJSON_GetArrayItem(row, i);
            fuzz_require(!v || cJSON_IsNull(v) ||
                             (cJSON_IsNumber(v) && (v->valuedouble == 0.5 || v->valuedouble == 0)),
                         "viewer sees only region centres");
        }
    }
    cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ow_live *l = ow_live_new(4, 10, NULL, NULL, NULL);
    if (!l) return 0;
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        /* every region centre in the input is forced to [0.5,0.5] (see the oracle) */
        char *text = malloc(n + 1);
        if (!text) break;
        memcpy(text, p, n);
        text[n] = '\0';
        for (char *c = strstr(text, "\"center\""); c; c = strstr(c + 1, "\"center\"")) {
            char *open = strchr(c, '['), *close = open ? strchr(open, ']') : NULL;
            if (!close) break;
            size_t inner = (size_t)(close - open - 1);
            if (inner >= 7) {
                memcpy(open + 1, "0.5,0.5", 7);
                memset(open + 8, ' ', inner - 7);
            } else {
                for (char *q = open + 1; q < close; q++)
                    if (*q != ',' && *q != ' ') *q = '0';
            }
        }
        ow_msg *before = ow_live_snapshot(l, OW_VIEW_FULL);
        int64_t seq_before = before ? before->seq : -1;
        ow_err err;
        bool owes = false;
        int rc = ow_live_publish(l, text, n, 1, 1, &owes, &err);
        if (owes) ow_live_settle(l);
        ow_msg *full = ow_live_snapshot(l, OW_VIEW_FULL);
        if (rc != OW_OK) fuzz_require((full ? full->seq : -1) == seq_before, "refused: seq kept");
        if (full) {
            cJSON *root = cJSON_ParseWithLength((const char *)ow_msg_data(full), full->len);
            fuzz_require(root != NULL, "held snapshot is JSON");
            cJSON_Delete(root);
            ow_msg *coarse = ow_live_snapshot(l, OW_VIEW_COARSE);
            fuzz_require(coarse && coarse->seq == full->seq, "both views at one seq");
            check_coarse(coarse);
        }
        free(text);
        p += n + 1;
    }
    ow_live_free(l);
    return 0;
}

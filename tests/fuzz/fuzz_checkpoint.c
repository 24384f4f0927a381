/*
 * fuzz_checkpoint — ow_checkpoint_load on arbitrary bytes (checkpoints come back from Redis, so
 * they are outside input).
 *
 * Oracles: the bytes are refused with OW_EINVAL and a "checkpoint: " message, or they load into a
 * state that can be used: saved again (and that save loads back to the same totals and picture),
 * advanced to the end of time, given one more event per order, and freed — all without a
 * sanitizer report or a broken count.
 */
#include <string.h>

#include "checkpoint.h"
#include "config.h"
#include "fuzz_common.h"
#include "partition.h"
#include "picture.h"
#include "policy.h"
#include "state.h"

static void require_sane(const ow_state *s)
{
    const ow_state_totals *t = ow_state_totals_get(s);
    int64_t sum = 0;
    for (int p = 0; p < OW_PRIO__COUNT; p++) {
        fuzz_require(t->open[p] >= 0, "open >= 0");
        sum += t->open[p];
    }
    fuzz_require(sum == t->open_total, "open_total is the sum");
    fuzz_require(t->complaints_open >= 0, "complaints_open >= 0");
    for (int l = 0; l < 4; l++)
        fuzz_require(t->alerts_open_by_level[l] >= 0, "open alerts >= 0");
}

static bool close_order(const ow_order_view *v, void *arg)
{
    char *id = arg;
    if (!id[0]) snprintf(id, OW_ID_BUF, "%s", v->id);
    return false;
}

static void check_loaded(const ow_policy *pol, ow_state *s, const char *cursor)
{
    fuzz_require(memchr(cursor, '\0', OW_CHECKPOINT_CURSOR_MAX) != NULL, "cursor terminated");
    require_sane(s);

    /* saved again: loads back, and saving that gives the same bytes */
    char *once, *twice;
    size_t n1, n2;
    ow_err err;
    fuzz_require(ow_checkpoint_save(s, cursor, &once, &n1, &err) == OW_OK, "save");
    ow_state *again;
    char cursor2[OW_CHECKPOINT_CURSOR_MAX];
    if (ow_checkpoint_load(pol, once, n1, &again, cursor2, &err) != OW_OK) {
        fprintf(stderr, "reload: %s\n", err.msg);
        fuzz_require(false, "a saved checkpoint loads");
    }
    fuzz_require(strcmp(cursor, cursor2) == 0, "cursor survives");
    fuzz_require(ow_checkpoint_save(again, cursor2, &twice, &n2, &err) == OW_OK, "save again");
    /* the same content; not always the same bytes: entries follow the map's slot order */
    fuzz_require(n1 == n2, "save(load(save)) is as long as save");
    fuzz_require(
        memcmp(ow_state_totals_get(s), ow_state_totals_get(again), sizeof(ow_state_totals)) == 0,
        "totals survive a save and load");
    int64_t now = ow_state_totals_get(s)->last_event_ms;
    char *pic1 = ow_picture_snapshot(s, 1, now, OW_MODE_LIVE);
    char *pic2 = ow_picture_snapshot(again, 1, now, OW_MODE_LIVE);
    fuzz_require(pic1 && pic2 && strcmp(pic1, pic2) == 0, "the same picture after a save and load");
    free(pic1);
    free(pic2);
    free(once);
    free(twice);
    ow_state_free(again);

    /* used: one event for an open order, then every crossing up to the end of time */
    char id[OW_ID_BUF] = "";
    ow_state_each_open_order(s, close_order, id);
    if (id[0]) {
        ow_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = OW_EV_ORDER_RESOLVED;
        ev.ts_ms = ow_state_totals_get(s)->last_event_ms;
        snprintf(ev.order_id, sizeof ev.order_id, "%s", id);
        snprintf(ev.tech_id, sizeof ev.tech_id, "fuzz");
        fuzz_require(ow_state_apply(s, &ev) >= 0, "apply after load");
    }
    fuzz_require(ow_state_advance(s, OW_NEVER - 1) >= 0, "advance after load");
    fuzz_require(ow_state_next_due(s) == OW_NEVER, "nothing left to fire");
    ow_state_outbox_clear(s);
    require_sane(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ow_policy one, part;
    static ow_partition_table table;
    static bool ready;
    if (!ready) {
        static ow_config cfg; /* the policy keeps pointers into it (the city's name) */
        ow_config_defaults(&cfg);
        ow_policy_from_config(&one, &cfg);
        /* partition 0 of 3: its model has the cross-partition replica (engine/crossfacts.h) */
        ow_partition_table_init(&table, 3);
        part = one;
        part.home_table = &table;
        part.home_partition = 0;
        ready = true;
    }
    ow_state *s = NULL;
    char cursor[OW_CHECKPOINT_CURSOR_MAX];
    ow_err err;
    const ow_policy *pol = &one;
    int rc = ow_checkpoint_load(pol, (const char *)data, size, &s, cursor, &err);
    if (rc != OW_OK && strstr(err.msg, "one-node checkpoint")) /* a partition's: load it as one */
        rc = ow_checkpoint_load(pol = &part, (const char *)data, size, &s, cursor, &err);
    if (rc != OW_OK) {
        fuzz_require(rc == OW_EINVAL && err.code == rc, "refused with EINVAL");
        fuzz_require(strncmp(err.msg, "checkpoint: ", 12) == 0, "message says checkpoint");
        return 0;
    }
    fuzz_require(s != NULL, "loaded state");
    check_loaded(pol, s, cursor);
    ow_state_free(s);
    return 0;
}

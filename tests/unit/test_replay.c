/*
 * test_replay — the N× replay clock and its descriptor: now = start + elapsed wall × speed, held
 * at the window's ends; the wall instant of an event; progress; strict parsing; and the snapshot's
 * replay member written by the engine and read back by ow_snapshot_parse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "picture.h"
#include "policy.h"
#include "replay.h"
#include "snapshot.h"
#include "state.h"

#define DAY INT64_C(86400000)

static const ow_replay five_days = {300, INT64_C(1514361600000), INT64_C(1514361600000) + 5 * DAY,
                                    INT64_C(1800000000000)};

static void test_clock(void **state)
{
    (void)state;
    const ow_replay *r = &five_days;
    assert_int_equal(ow_replay_now(r, r->wall_start_ms - 5000), r->start_ms);
    assert_int_equal(ow_replay_now(r, r->wall_start_ms), r->start_ms);
    /* one wall second is five replayed minutes at 300× */
    assert_int_equal(ow_replay_now(r, r->wall_start_ms + 1000), r->start_ms + 300000);
    /* five days take 24 minutes */
    assert_int_equal(ow_replay_now(r, r->wall_start_ms + 24 * 60000), r->end_ms);
    assert_int_equal(ow_replay_now(r, r->wall_start_ms + 24 * 60000 + 1), r->end_ms);
    assert_int_equal(ow_replay_wall_at(r, r->start_ms + 300000), r->wall_start_ms + 1000);
    assert_int_equal(ow_replay_wall_at(r, r->start_ms - 1), r->wall_start_ms);
    assert_true(ow_replay_progress_pct(r, r->start_ms) == 0.0);
    assert_true(ow_replay_progress_pct(r, r->start_ms + DAY) == 20.0);
    assert_true(ow_replay_progress_pct(r, r->end_ms) == 100.0);
}

static void test_descriptor(void **state)
{
    (void)state;
    char text[OW_REPLAY_TEXT_MAX];
    ow_replay_format(&five_days, text);
    ow_replay back;
    ow_err err;
    assert_int_equal(ow_replay_parse(text, strlen(text), &back, &err), OW_OK);
    assert_memory_equal(&back, &five_days, sizeof back);
    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"{\"speed\":0,\"start_ms\":1,\"end_ms\":2,\"wall_start_ms\":3}", "speed"},
        {"{\"speed\":\"300\",\"start_ms\":1,\"end_ms\":2,\"wall_start_ms\":3}", "speed"},
        {"{\"speed\":300,\"start_ms\":1.5,\"end_ms\":2,\"wall_start_ms\":3}", "start_ms"},
        {"{\"speed\":300,\"start_ms\":5,\"end_ms\":2,\"wall_start_ms\":3}", "before"},
        {"{\"speed\":300,\"start_ms\":1,\"end_ms\":2}", "wall_start_ms"},
        {"[", "replay descriptor"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(ow_replay_parse(bad[i].text, strlen(bad[i].text), &back, &err), OW_EINVAL);
        if (!strstr(err.msg, bad[i].msg)) fail_msg("%s: %s", bad[i].text, err.msg);
    }
}

static void test_snapshot_member(void **state)
{
    (void)state;
    ow_config cfg;
    ow_config_defaults(&cfg);
    ow_policy p;
    ow_policy_from_config(&p, &cfg);
    ow_state *s = ow_state_new(&p);
    int64_t now = five_days.start_ms + DAY + DAY / 2;
    char *text = ow_picture_snapshot_replay(s, 7, now, "1-1", &five_days);
    assert_non_null(strstr(text, "\"mode\":\"replay_speed\""));
    assert_non_null(strstr(text, "\"start\":\"2017-12-27T08:00:00.000Z\""));
    ow_snapshot_view v;
    ow_err err;
    assert_int_equal(ow_snapshot_parse(text, strlen(text), &v, &err), OW_OK);
    assert_int_equal(v.mode, OW_MODE_REPLAY);
    assert_true(v.replay.on);
    assert_true(v.replay.speed == 300);
    assert_true(v.replay.progress_pct == 30.0);
    assert_int_equal(v.replay.end_ms, five_days.end_ms);
    assert_int_equal(v.now_ms, now);
    free(text);
    /* a batch replay has no replay member */
    text = ow_picture_snapshot(s, 8, now, OW_MODE_REPLAY);
    assert_int_equal(ow_snapshot_parse(text, strlen(text), &v, &err), OW_OK);
    assert_false(v.replay.on);
    free(text);
    ow_state_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_snapshot_member),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The contract between the engine and delivery: what engine/alerts.c writes to the alert streams
 * (raises with category and priority; resolve and ack records) is what notify/nalert.c reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alerts.h"
#include "fixture.h"
#include "render.h"

static void test_engine_alerts_parse(void **st)
{
    (void)st;
    ow_alert a = {.op = OW_ALERT_RAISE,
                  .kind = OW_ALERT_SLA,
                  .level = 3,
                  .at = T0,
                  .region = "north",
                  .subject = "O-77",
                  .stage = OW_STAGE_ARRIVAL,
                  .instance = 2,
                  .pct = 150,
                  .target_ms = 2 * 3600 * 1000,
                  .category = "drain",
                  .priority = "emergency"};
    char *text = ow_alert_format(&a, NULL);
    ow_nalert *n = NULL;
    ow_err err;
    if (ow_nalert_parse(text, strlen(text), &n, &err)) fail_msg("%s: %s", text, err.msg);
    assert_string_equal(n->id, "sla:O-77:arrival:2:150");
    assert_string_equal(n->label[OW_LBL_KIND], "sla");
    assert_string_equal(n->label[OW_LBL_LEVEL], "3");
    assert_string_equal(n->label[OW_LBL_REGION], "north");
    assert_string_equal(n->label[OW_LBL_STAGE], "arrival");
    assert_string_equal(n->label[OW_LBL_CATEGORY], "drain");
    assert_string_equal(n->label[OW_LBL_PRIORITY], "emergency");
    assert_string_equal(n->subject, "O-77");
    assert_int_equal(n->at_ms, T0);
    assert_int_equal(n->target_ms, 2 * 3600 * 1000);
    ow_nalert_free(n);
    free(text);

    /* a complaint: no category or priority (complaints have none) */
    a.subject = "C-1", a.complaint = true, a.stage = OW_STAGE_COMPLAINT, a.category = NULL,
    a.priority = NULL;
    text = ow_alert_format(&a, NULL);
    assert_int_equal(ow_nalert_parse(text, strlen(text), &n, &err), 0);
    assert_true(n->complaint);
    assert_string_equal(n->label[OW_LBL_CATEGORY], "");
    ow_nalert_free(n);
    free(text);

    /* resolve and ack records */
    ow_nchange ch;
    a.op = OW_ALERT_RESOLVE;
    text = ow_alert_format(&a, NULL);
    assert_int_equal(ow_nchange_parse(text, strlen(text), &ch, &err), 0);
    assert_int_equal(ch.op, OW_CHANGE_RESOLVE);
    assert_string_equal(ch.id, "sla:C-1:complaint:2:150");
    free(text);
    a.op = OW_ALERT_ACK;
    ow_ack ack = {.by = "wang.supervisor", .at = T0, .note = "on the way"};
    text = ow_alert_format(&a, &ack);
    assert_int_equal(ow_nchange_parse(text, strlen(text), &ch, &err), 0);
    assert_int_equal(ch.op, OW_CHANGE_ACK);
    assert_string_equal(ch.by, "wang.supervisor");
    free(text);

    /* a root-cause flag: its name is the subject, its summary is kept for the "flag" template */
    ow_alert f = {.op = OW_ALERT_RAISE,
                  .kind = OW_ALERT_FLAG,
                  .level = 2,
                  .at = T0,
                  .region = "r03",
                  .subject = "flag:surge:r03:1795309200000",
                  .flag = "surge",
                  .summary = "r03: 14 orders in 30 min, 3.5x the 6 h rate",
                  .evidence = "{\"orders\":[\"o1\",\"o2\"],\"regions\":[\"r03\"]}"};
    text = ow_alert_format(&f, NULL);
    if (ow_nalert_parse(text, strlen(text), &n, &err)) fail_msg("%s: %s", text, err.msg);
    assert_string_equal(n->id, "flag:surge:r03:1795309200000");
    assert_string_equal(n->label[OW_LBL_KIND], "flag");
    assert_string_equal(n->label[OW_LBL_FLAG], "surge");
    assert_string_equal(n->subject, "surge");
    assert_string_equal(n->summary, "r03: 14 orders in 30 min, 3.5x the 6 h rate");
    /* rendered with the flag template */
    ow_nconfig *c = fx_config("{\"receiver\":\"a\"}", NULL);
    const ow_nalert *list[1] = {n};
    ow_render_in in = {.cfg = c,
                       .rx = &c->receivers[0],
                       .id = "x",
                       .group_key = "0",
                       .group_labels = n,
                       .alerts = list,
                       .n = 1,
                       .now_ms = T0};
    char *line = NULL, *body = ow_render(&in, &line, NULL);
    assert_string_equal(line, "L2 r03: 1 (0 new)\n- [surge] r03: 14 orders in 30 min, 3.5x the 6 h "
                              "rate; desk to act");
    assert_non_null(strstr(body, "\"evidence\":{\"orders\":[\"o1\",\"o2\"]"));
    free(line);
    free(body);
    free(text);
    ow_nalert_free(n);
    ow_nconfig_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_engine_alerts_parse)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}

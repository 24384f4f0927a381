/*
 * The live model's SLA clocks and alerts. Every expected instant below is worked out by hand from
 * DESIGN §4 (targets, 50/80/100/150 %, pauses, instances), written as a UTC time of 2026-11-22.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "config.h"
#include "policy.h"
#include "state.h"
#include "timefmt.h"

static ow_config cfg;
static ow_policy pol;

/* "01:02:30" → epoch ms of 2026-11-22T01:02:30Z; "+1d 01:00" adds days */
static int64_t T(const char *hms)
{
    int days = 0;
    if (hms[0] == '+') {
        days = hms[1] - '0';
        hms += 4;
    }
    char text[64];
    snprintf(text, sizeof text, "2026-11-%02dT%sZ", 22 + days, hms);
    int64_t ms;
    assert_int_equal(ow_time_parse(text, strlen(text), &ms, NULL), 0);
    return ms;
}

static int nid;

/* Apply one event written as JSON fields after the envelope; ts given as "HH:MM:SS" UTC. */
static int apply(ow_state *s, const char *hms, const char *type, const char *fields)
{
    char line[1024], ts[OW_TIME_TEXT_MAX];
    ow_time_format(T(hms), ts);
    snprintf(line, sizeof line, "{\"v\":1,\"id\":\"e%d\",\"ts\":\"%s\",\"type\":\"%s\",%s}", nid++,
             ts, type, fields);
    ow_event ev;
    ow_err err;
    int rc = ow_event_parse(line, strlen(line), &ev, &err);
    if (rc) fail_msg("bad test event: %s: %s", line, err.msg);
    return ow_state_apply(s, &ev);
}

/* The outbox's SLA records as "op id @HH:MM:SS" lines, then cleared (the root-cause flags that
 * the same events raise have their own tests: test_flags.c). */
static const char *drain(ow_state *s)
{
    static char out[8192];
    size_t n, used = 0;
    const ow_alert *a = ow_state_outbox(s, &n);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        static const char *const ops[] = {"raise", "resolve", "ack"};
        if (a[i].kind != OW_ALERT_SLA) continue;
        char at[OW_TIME_TEXT_MAX], id[OW_ALERT_ID_BUF];
        ow_time_format(a[i].at, at);
        ow_alert_id(&a[i], id);
        used += (size_t)snprintf(out + used, sizeof out - used, "%s %s L%d @%.8s%s\n", ops[a[i].op],
                                 id, a[i].level, at + 11, at[9] != '2' ? "(+day)" : "");
    }
    ow_state_outbox_clear(s);
    return out;
}

static int setup(void **st)
{
    ow_config_defaults(&cfg);
    ow_policy_from_config(&pol, &cfg);
    *st = ow_state_new(&pol);
    return *st ? 0 : -1;
}

static int teardown(void **st)
{
    ow_state_free(*st);
    return 0;
}

#define CREATED(prio, extra)                                                                       \
    "\"order_id\":\"o1\",\"priority\":\"" prio                                                     \
    "\",\"category\":\"drain\",\"region\":\"north\"" extra

/* Emergency: dispatch 5 m, response 15 m, accept 10 m. Created 01:00:00. */
static void test_thresholds_fire_at_exact_instants(void **st)
{
    ow_state *s = *st;
    assert_int_equal(apply(s, "01:00:00", "order.created", CREATED("emergency", "")), 1);
    assert_int_equal(ow_state_advance(s, T("01:02:29")), 0);
    assert_int_equal(ow_state_advance(s, T("01:05:00")), 3);
    assert_string_equal(drain(s), "raise sla:o1:dispatch:1:50 L0 @01:02:30\n"
                                  "raise sla:o1:dispatch:1:80 L1 @01:04:00\n"
                                  "raise sla:o1:dispatch:1:100 L2 @01:05:00\n");
    /* response: 50 % at 01:07:30, dispatch 150 % at 01:07:30 too: dispatch first (stage order) */
    ow_state_advance(s, T("01:07:30"));
    assert_string_equal(drain(s), "raise sla:o1:dispatch:1:150 L3 @01:07:30\n"
                                  "raise sla:o1:response:1:50 L0 @01:07:30\n");
    assert_int_equal(ow_state_totals_get(s)->alerts_open_by_level[3], 1);
    /* dispatched at 01:08: the dispatch clock stops, its 4 alerts resolve at 01:08 */
    apply(s, "01:08:00", "order.dispatched", "\"order_id\":\"o1\",\"tech_id\":\"t1\"");
    assert_string_equal(drain(s), "resolve sla:o1:dispatch:1:50 L0 @01:08:00\n"
                                  "resolve sla:o1:dispatch:1:80 L1 @01:08:00\n"
                                  "resolve sla:o1:dispatch:1:100 L2 @01:08:00\n"
                                  "resolve sla:o1:dispatch:1:150 L3 @01:08:00\n");
    /* accept (10 m from 01:08): 50 % at 01:13; response 80 % at 01:12 */
    ow_state_advance(s, T("01:13:00"));
    assert_string_equal(drain(s), "raise sla:o1:response:1:80 L1 @01:12:00\n"
                                  "raise sla:o1:accept:1:50 L0 @01:13:00\n");
}

/* A stage that stops at or before an instant has not crossed it; a late stop with an earlier ts
 * does not withdraw an alert already raised: it resolves it. */
static void test_late_accept_keeps_raised_warning(void **st)
{
    ow_state *s = *st;
    apply(s, "01:00:00", "order.created", CREATED("emergency", ""));
    apply(s, "01:01:00", "order.dispatched", "\"order_id\":\"o1\",\"tech_id\":\"t1\"");
    ow_state_advance(s, T("01:08:00"));
    /* accept 10 m from 01:01 → 50 % at 01:06; response 50 % at 01:07:30 */
    assert_string_equal(drain(s), "raise sla:o1:accept:1:50 L0 @01:06:00\n"
                                  "raise sla:o1:response:1:50 L0 @01:07:30\n");
    /* the technician's app reconnects: accepted at 01:07:00, before the response warning */
    apply(s, "01:07:00", "order.accepted", "\"order_id\":\"o1\",\"tech_id\":\"t1\"");
    assert_string_equal(drain(s), "resolve sla:o1:accept:1:50 L0 @01:07:00\n"
                                  "resolve sla:o1:response:1:50 L0 @01:07:00\n");
    ow_state_advance(s, T("+1d 00:00:00"));
    /* response and accept stopped: nothing more from them; arrival (2 h): 50 % 02:00, 80 % 02:36,
     * 100 % 03:00, 150 % 04:00; resolution (4 h): 03:00, 04:12, 05:00, 07:00 */
    assert_string_equal(drain(s), "raise sla:o1:arrival:1:50 L0 @02:00:00\n"
                                  "raise sla:o1:arrival:1:80 L1 @02:36:00\n"
                                  "raise sla:o1:arrival:1:100 L2 @03:00:00\n"
                                  "raise sla:o1:resolution:1:50 L0 @03:00:00\n"
                                  "raise sla:o1:arrival:1:150 L3 @04:00:00\n"
                                  "raise sla:o1:resolution:1:80 L1 @04:12:00\n"
                                  "raise sla:o1:resolution:1:100 L2 @05:00:00\n"
                                  "raise sla:o1:resolution:1:150 L3 @07:00:00\n");
}

/* Each dispatch starts a new accept clock and ends the previous one without a breach. */
static void test_redispatch_starts_new_accept_instance(void **st)
{
    ow_state *s = *st;
    apply(s, "01:00:00", "order.created", CREATED("important", ""));
    apply(s, "01:01:00", "order.dispatched", "\"order_id\":\"o1\",\"tech_id\":\"t1\"");
    apply(s, "01:04:00", "order.dispatched", "\"order_id\":\"o1\",\"tech_id\":\"t2\"");
    ow_state_advance(s, T("01:12:00"));
    /* accept instance 2 from 01:04: 50 % 01:09, 80 % 01:12; instance 1 never reached 01:06 */
    assert_string_equal(drain(s), "raise sla:o1:accept:2:50 L0 @01:09:00\n"
                                  "raise sla:o1:accept:2:80 L1 @01:12:00\n");
    apply(s, "01:13:00", "order.accepted", "\"order_id\":\"o1\",\"tech_id\":\"t2\"");
    assert_string_equal(drain(s), "resolve sla:o1:accept:2:50 L0 @01:13:00\n"
                                  "resolve sla:o1:accept:2:80 L1 @01:13:00\n");
}

/* Paused time does not count toward arrival and resolution. General: arrival 48 h, resolution
 * 72 h. Created 00:00, paused awaiting_parts 02:00-06:00 (4 h). */
static void test_pause_shifts_arrival_and_resolution(void **st)
{
    ow_state *s = *st;
    apply(s, "00:00:00", "order.created", CREATED("general", ""));
    apply(s, "00:10:00", "order.dispatched", "\"order_id\":\"o1\",\"tech_id\":\"t1\"");
    apply(s, "00:12:00", "order.accepted", "\"order_id\":\"o1\",\"tech_id\":\"t1\"");
    apply(s, "02:00:00", "order.paused", "\"order_id\":\"o1\",\"reason\":\"awaiting_parts\"");
    apply(s, "06:00:00", "order.resumed", "\"order_id\":\"o1\"");
    drain(s);
    /* arrival 50 % = 24 h of counting → +1d 04:00; resolution 50 % = 36 h → +1d 16:00 */
    ow_state_advance(s, T("+1d 16:00:00"));
    assert_string_equal(drain(s), "raise sla:o1:arrival:1:50 L0 @04:00:00(+day)\n"
                                  "raise sla:o1:resolution:1:50 L0 @16:00:00(+day)\n");
    ow_order_view v;
    assert_true(ow_state_order(s, "o1", &v));
    /* arrival 100 % = 48 h + 4 h → +2d 04:00 */
    assert_int_equal(v.clocks[OW_STAGE_ARRIVAL].breach_at, T("+2d 04:00:00"));
}

/* An open pause stops the clock until resumed; a pause reason configured not to stop a stage does
 * not affect it (dispatch keeps running). */
static void test_open_pause_holds_clock(void **st)
{
    ow_state *s = *st;
    apply(s, "00:00:00", "order.created", CREATED("emergency", ""));
    apply(s, "00:30:00", "order.paused", "\"order_id\":\"o1\",\"reason\":\"customer_unavailable\"");
    ow_state_advance(s, T("+3d 00:00:00"));
    /* dispatch 5 m: 02:30, 04:00, 05:00, 07:30; response 15 m: 07:30, 12:00, 15:00, 22:30;
     * arrival: 1 h = 50 % at 01:00 would be after the pause began at 00:30 → held */
    assert_string_equal(drain(s), "raise sla:o1:dispatch:1:50 L0 @00:02:30\n"
                                  "raise sla:o1:dispatch:1:80 L1 @00:04:00\n"
                                  "raise sla:o1:dispatch:1:100 L2 @00:05:00\n"
                                  "raise sla:o1:dispatch:1:150 L3 @00:07:30\n"
                                  "raise sla:o1:response:1:50 L0 @00:07:30\n"
                                  "raise sla:o1:response:1:80 L1 @00:12:00\n"
                                  "raise sla:o1:response:1:100 L2 @00:15:00\n"
                                  "raise sla:o1:response:1:150 L3 @00:22:30\n");
}

/* Cancelled and closed orders stop all of the order's clocks. */
static void test_cancel_stops_everything(void **st)
{
    ow_state *s = *st;
    apply(s, "00:00:00", "order.created", CREATED("emergency", ""));
    ow_state_advance(s, T("00:03:00"));
    assert_string_equal(drain(s), "raise sla:o1:dispatch:1:50 L0 @00:02:30\n");
    assert_int_equal(ow_state_totals_get(s)->open_total, 1);
    apply(s, "00:03:30", "order.cancelled", "\"order_id\":\"o1\"");
    assert_string_equal(drain(s), "resolve sla:o1:dispatch:1:50 L0 @00:03:30\n");
    assert_int_equal(ow_state_advance(s, T("+5d 00:00:00")), 0);
    assert_int_equal(ow_state_totals_get(s)->open_total, 0);
    assert_true(ow_state_next_due(s) == OW_NEVER);
}

/* Reopen starts a new resolution clock from the reopen time, and after it a new callback clock. */
static void test_reopen_and_callback(void **st)
{
    ow_state *s = *st;
    apply(s, "00:00:00", "order.created", CREATED("emergency", ""));
    apply(s, "00:01:00", "order.dispatched", "\"order_id\":\"o1\",\"tech_id\":\"t1\"");
    apply(s, "00:02:00", "order.accepted", "\"order_id\":\"o1\",\"tech_id\":\"t1\"");
    apply(s, "00:30:00", "order.arrived", "\"order_id\":\"o1\",\"tech_id\":\"t1\"");
    apply(s, "01:00:00", "order.resolved", "\"order_id\":\"o1\",\"tech_id\":\"t1\"");
    assert_int_equal(ow_state_totals_get(s)->open_total, 0);
    /* callback 24 h from 01:00: 50 % at 13:00 */
    ow_state_advance(s, T("13:00:00"));
    assert_string_equal(drain(s), "raise sla:o1:callback:1:50 L0 @13:00:00\n");
    apply(s, "14:00:00", "order.reopened", "\"order_id\":\"o1\",\"reason\":\"leaks again\"");
    assert_int_equal(ow_state_totals_get(s)->open_total, 1);
    /* callback instance 1 ends at the reopen; resolution instance 2 runs 4 h from 14:00 */
    assert_string_equal(drain(s), "resolve sla:o1:callback:1:50 L0 @14:00:00\n");
    ow_state_advance(s, T("16:00:00"));
    assert_string_equal(drain(s), "raise sla:o1:resolution:2:50 L0 @16:00:00\n");
    apply(s, "16:30:00", "order.resolved", "\"order_id\":\"o1\",\"tech_id\":\"t1\"");
    apply(s, "17:00:00", "order.callback", "\"order_id\":\"o1\",\"score\":5,\"nps\":10");
    assert_string_equal(drain(s), "resolve sla:o1:resolution:2:50 L0 @16:30:00\n");
    assert_int_equal(ow_state_advance(s, T("+5d 00:00:00")), 0);
    assert_int_equal(ow_state_totals_get(s)->open_total, 0);
}

/* Complaint clocks belong to the complaint: urgent 15 m, normal 1 h. */
static void test_complaint_clock(void **st)
{
    ow_state *s = *st;
    apply(s, "00:00:00", "complaint.created",
          "\"complaint_id\":\"c1\",\"severity\":\"urgent\",\"category\":\"late\",\"region\":"
          "\"east\"");
    apply(s, "00:00:00", "complaint.created",
          "\"complaint_id\":\"c2\",\"severity\":\"normal\",\"category\":\"rude\",\"region\":"
          "\"east\"");
    ow_state_advance(s, T("00:30:00"));
    assert_string_equal(drain(s), "raise sla:c1:complaint:1:50 L0 @00:07:30\n"
                                  "raise sla:c1:complaint:1:80 L1 @00:12:00\n"
                                  "raise sla:c1:complaint:1:100 L2 @00:15:00\n"
                                  "raise sla:c1:complaint:1:150 L3 @00:22:30\n"
                                  "raise sla:c2:complaint:1:50 L0 @00:30:00\n");
    apply(s, "00:31:00", "complaint.responded", "\"complaint_id\":\"c2\"");
    assert_string_equal(drain(s), "resolve sla:c2:complaint:1:50 L0 @00:31:00\n");
    assert_int_equal(ow_state_totals_get(s)->complaints_open, 1);
}

/* Segment overrides: public raises general → important; vip halves targets. */
static void test_overrides(void **st)
{
    ow_state *s = *st;
    apply(
        s, "00:00:00", "order.created",
        "\"order_id\":\"p1\",\"priority\":\"general\",\"category\":\"drain\",\"region\":\"north\","
        "\"segment\":\"public\"");
    apply(s, "00:00:00", "order.created",
          "\"order_id\":\"v1\",\"priority\":\"emergency\",\"category\":\"drain\",\"region\":"
          "\"north\","
          "\"segment\":\"vip\"");
    ow_order_view v;
    assert_true(ow_state_order(s, "p1", &v));
    assert_int_equal(v.priority, OW_PRIO_IMPORTANT);
    assert_int_equal(v.clocks[OW_STAGE_DISPATCH].target_ms, 15 * 60000);
    assert_true(ow_state_order(s, "v1", &v));
    assert_int_equal(v.clocks[OW_STAGE_DISPATCH].target_ms, 150000); /* 5 m × 50 % */
    ow_state_advance(s, T("00:01:15"));
    assert_string_equal(drain(s), "raise sla:v1:dispatch:1:50 L0 @00:01:15\n");
}

/* Duplicates are no-ops; events in any arrival order give the same clocks and alerts. */
static void test_out_of_order_and_duplicates(void **st)
{
    ow_state *s = *st;
    static const struct {
        const char *hms, *type, *fields;
    } evs[] = {
        {"00:00:00", "order.created", CREATED("emergency", "")},
        {"00:01:00", "order.dispatched", "\"order_id\":\"o1\",\"tech_id\":\"t1\""},
        {"00:20:00", "order.accepted", "\"order_id\":\"o1\",\"tech_id\":\"t1\""},
        {"01:00:00", "order.arrived", "\"order_id\":\"o1\",\"tech_id\":\"t1\""},
    };
    char forward[8192];
    for (int i = 0; i < 4; i++)
        apply(s, evs[i].hms, evs[i].type, evs[i].fields);
    ow_state_advance(s, T("+1d 00:00:00"));
    snprintf(forward, sizeof forward, "%s", drain(s));

    ow_state *r = ow_state_new(&pol);
    for (int i = 3; i >= 0; i--)
        apply(r, evs[i].hms, evs[i].type, evs[i].fields);
    for (int i = 0; i < 4; i++)
        assert_int_equal(apply(r, evs[i].hms, evs[i].type, evs[i].fields), 0);
    assert_int_equal(ow_state_totals_get(r)->duplicates, 4);
    ow_state_advance(r, T("+1d 00:00:00"));
    assert_string_equal(drain(r), forward);
    /* accept 50 % at 00:06, 80 % at 00:09, 100 % 00:11, 150 % 00:16; response 50 % 00:07:30,
     * 80 % 00:12, 100 % 00:15; dispatch stopped at 00:01 before its 50 % at 00:02:30 */
    assert_non_null(strstr(forward, "raise sla:o1:accept:1:150 L3 @00:16:00\n"));
    assert_non_null(strstr(forward, "raise sla:o1:response:1:100 L2 @00:15:00\n"));
    assert_null(strstr(forward, "response:1:150"));
    assert_null(strstr(forward, "dispatch"));
    ow_state_free(r);
}

/* An order.created that arrives late with an earlier time and another priority: the order is
 * handled with the earliest creation's priority and its clocks start then (found by fuzzing:
 * a cached crossing must not survive the change of target). */
static void test_late_created_changes_priority(void **st)
{
    ow_state *s = *st;
    apply(s, "00:00:00", "order.created", CREATED("general", ""));
    ow_state_advance(s, T("00:00:30"));
    /* the phone channel's earlier record: emergency, 1 minute before */
    apply(s, "00:00:00", "order.created",
          "\"order_id\":\"o1\",\"priority\":\"emergency\",\"category\":\"drain\",\"region\":"
          "\"north\"");
    drain(s);
    ow_order_view v;
    assert_true(ow_state_order(s, "o1", &v));
    assert_int_equal(v.priority, OW_PRIO_GENERAL); /* same instant: the first applied stays */
    ow_state *r = ow_state_new(&pol);
    apply(r, "00:01:00", "order.created", CREATED("general", ""));
    apply(r, "00:00:00", "order.created",
          "\"order_id\":\"o1\",\"priority\":\"emergency\",\"category\":\"drain\",\"region\":"
          "\"north\"");
    assert_true(ow_state_order(r, "o1", &v));
    assert_int_equal(v.priority, OW_PRIO_EMERGENCY);
    /* emergency from 00:00: dispatch 5 m → 00:02:30, 00:04, 00:05, 00:07:30; response 15 m 50 %
     * 00:07:30 */
    assert_true(ow_state_advance(r, T("00:07:30")) >= 0);
    assert_string_equal(drain(r), "raise sla:o1:dispatch:1:50 L0 @00:02:30\n"
                                  "raise sla:o1:dispatch:1:80 L1 @00:04:00\n"
                                  "raise sla:o1:dispatch:1:100 L2 @00:05:00\n"
                                  "raise sla:o1:dispatch:1:150 L3 @00:07:30\n"
                                  "raise sla:o1:response:1:50 L0 @00:07:30\n");
    ow_state_free(r);
}

static bool list_open(const ow_alert *a, const ow_ack *ack, void *arg)
{
    char id[OW_ALERT_ID_BUF], at[OW_TIME_TEXT_MAX];
    ow_alert_id(a, id);
    ow_time_format(a->at, at);
    size_t used = strlen(arg);
    snprintf((char *)arg + used, 4096 - used, "%s @%.8s%s\n", id, at + 11, ack ? " acked" : "");
    return true;
}

/* Open alerts, asked of the state: each with its crossing instant, in time order. */
static void test_open_alerts_listing(void **st)
{
    ow_state *s = *st;
    apply(s, "00:00:00", "order.created", CREATED("emergency", ""));
    apply(s, "00:00:00", "complaint.created",
          "\"complaint_id\":\"c9\",\"severity\":\"urgent\",\"category\":\"late\",\"region\":"
          "\"east\"");
    ow_state_advance(s, T("00:08:00"));
    ow_ack ack = {.at = T("00:08:00")};
    snprintf(ack.by, sizeof ack.by, "li");
    assert_int_equal(ow_state_ack(s, "sla:c9:complaint:1:50", &ack, NULL), 0);
    char out[4096] = "";
    ow_state_each_open_alert(s, list_open, out);
    assert_string_equal(out, "sla:o1:dispatch:1:50 @00:02:30\n"
                             "sla:o1:dispatch:1:80 @00:04:00\n"
                             "sla:o1:dispatch:1:100 @00:05:00\n"
                             "sla:c9:complaint:1:50 @00:07:30 acked\n"
                             "sla:o1:dispatch:1:150 @00:07:30\n"
                             "sla:o1:response:1:50 @00:07:30\n");
    apply(s, "00:09:00", "order.dispatched", "\"order_id\":\"o1\",\"tech_id\":\"t1\"");
    apply(s, "00:09:00", "complaint.responded", "\"complaint_id\":\"c9\"");
    out[0] = '\0';
    ow_state_each_open_alert(s, list_open, out);
    assert_string_equal(out, "sla:o1:response:1:50 @00:07:30\n");
}

/* Acknowledgement: recorded with who and when; unknown or closed alerts are refused. */
static void test_ack(void **st)
{
    ow_state *s = *st;
    apply(s, "00:00:00", "order.created", CREATED("emergency", ""));
    ow_state_advance(s, T("00:05:00"));
    drain(s);
    ow_ack ack = {.at = T("00:05:10")};
    snprintf(ack.by, sizeof ack.by, "wang.supervisor");
    snprintf(ack.note, sizeof ack.note, "calling the team");
    ow_err err;
    assert_int_equal(ow_state_ack(s, "sla:o1:dispatch:1:100", &ack, &err), 0);
    assert_string_equal(drain(s), "ack sla:o1:dispatch:1:100 L2 @00:05:10\n");
    assert_non_null(ow_acks_get(ow_state_acks(s), "sla:o1:dispatch:1:100"));
    assert_int_equal(ow_state_ack(s, "sla:o1:dispatch:1:150", &ack, &err), OW_ENOTFOUND);
    assert_int_equal(ow_state_ack(s, "garbage", &ack, &err), OW_ENOTFOUND);
    /* the ladder still climbs after an ack: 150 % at 00:07:30 */
    ow_state_advance(s, T("00:07:30"));
    assert_string_equal(drain(s), "raise sla:o1:dispatch:1:150 L3 @00:07:30\n"
                                  "raise sla:o1:response:1:50 L0 @00:07:30\n");
    apply(s, "00:08:00", "order.dispatched", "\"order_id\":\"o1\",\"tech_id\":\"t1\"");
    drain(s);
    assert_null(ow_acks_get(ow_state_acks(s), "sla:o1:dispatch:1:100"));
}

/* ---- the escalations' top k (through the escalation index) against a full sort ---- */

typedef struct esc_all {
    ow_alert a[8192];
    char id[8192][OW_ALERT_ID_BUF];
    char by[8192][OW_NAME_BUF]; /* who acknowledged it, "" = nobody */
    size_t n;
} esc_all;

static bool esc_keep(const ow_alert *a, const ow_ack *ack, void *arg)
{
    esc_all *l = arg;
    assert_true(l->n < 8192);
    l->a[l->n] = *a;
    ow_alert_id(a, l->id[l->n]);
    snprintf(l->by[l->n], OW_NAME_BUF, "%s", ack ? ack->by : "");
    l->n++;
    return true;
}

/* The board's order: level (highest first), then instant (oldest first), then id. */
static bool esc_before(const esc_all *l, size_t i, size_t j)
{
    if (l->a[i].level != l->a[j].level) return l->a[i].level > l->a[j].level;
    if (l->a[i].at != l->a[j].at) return l->a[i].at < l->a[j].at;
    return strcmp(l->id[i], l->id[j]) < 0;
}

/* The first k of l by the board's order, as "id level at by" lines (selection: l is small). */
static char *esc_first(esc_all *l, size_t k)
{
    static char out[3][64 * 1024];
    static int turn;
    char *o = out[turn++ % 3];
    size_t used = 0;
    bool *taken = calloc(l->n + 1, sizeof *taken);
    assert_non_null(taken);
    o[0] = '\0';
    for (size_t r = 0; r < k; r++) {
        size_t best = l->n;
        for (size_t i = 0; i < l->n; i++)
            if (!taken[i] && (best == l->n || esc_before(l, i, best))) best = i;
        if (best == l->n) break;
        taken[best] = true;
        char at[OW_TIME_TEXT_MAX];
        ow_time_format(l->a[best].at, at);
        used += (size_t)snprintf(o + used, sizeof out[0] - used, "%s L%d %s %s\n", l->id[best],
                                 l->a[best].level, at, l->by[best]);
    }
    free(taken);
    return o;
}

/* For several k: what the index offers, cut to the first k, equals the first k of every open
 * alert; returns the top 30 for comparing states. */
static char *esc_check(const ow_state *s, const char *when)
{
    static esc_all all, cand;
    all.n = 0;
    ow_state_each_open_alert(s, esc_keep, &all);
    static const size_t ks[] = {1, 3, 30, 500};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        cand.n = 0;
        ow_state_each_top_alert(s, ks[i], esc_keep, &cand);
        char *want = esc_first(&all, ks[i]), *got = esc_first(&cand, ks[i]);
        if (strcmp(want, got) != 0)
            fail_msg("%s, k = %zu:\n got:\n%s\n want:\n%s", when, ks[i], got, want);
    }
    return esc_first(&all, 30);
}

/* A storm of a few hundred orders whose events come late and out of order, with pauses (they
 * move the instants of alerts already open), business hours for the arrival stage, re-dispatches,
 * reopens, cancels, complaints and acknowledgements; checked every few events, and after each
 * checkpoint reload against the state that never stopped. */
static void test_escalations_match_a_full_sort(void **st)
{
    (void)st;
    ow_config c;
    ow_policy p;
    ow_err err;
    const char *text =
        "{\"sla\":{\"business_hours\":{\"stages\":[\"arrival\"],\"calendars\":{"
        "\"default\":{\"utc_offset\":\"+08:00\",\"days\":[\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"],"
        "\"open\":\"09:00\",\"close\":\"18:00\"}}}}}";
    ow_config_defaults(&c);
    assert_int_equal(ow_config_parse(&c, text, strlen(text), "test.json", &err), 0);
    ow_policy_from_config(&p, &c);
    ow_state *s = ow_state_new(&p), *r = NULL;
    assert_non_null(s);
    static const char *const prios[] = {"emergency", "important", "general"};
    static const char *const types[] = {"order.dispatched", "order.accepted", "order.paused",
                                        "order.resumed",    "order.arrived",  "order.resolved",
                                        "order.reopened",   "order.cancelled"};
    uint64_t x = 42;
    int64_t now = T("00:00:00");
    int acks = 0, reloads = 0;
    for (int i = 0; i < 3000; i++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        uint32_t rnd = (uint32_t)(x >> 33), o = rnd % 400;
        /* events up to 40 minutes late; many orders never see a stop */
        int64_t ts = now - (int64_t)(rnd % 2400) * 1000;
        char line[512], tsx[OW_TIME_TEXT_MAX];
        ow_time_format(ts, tsx);
        int kind = (int)((rnd >> 9) % 16);
        if (kind < 5)
            snprintf(line, sizeof line,
                     "{\"v\":1,\"id\":\"e%d\",\"ts\":\"%s\",\"type\":\"order.created\","
                     "\"order_id\":\"o%u\",\"priority\":\"%s\",\"category\":\"c%u\","
                     "\"region\":\"r%u\"}",
                     i, tsx, o, prios[o % 3], o % 4, o % 5);
        else if (kind < 13)
            snprintf(line, sizeof line,
                     "{\"v\":1,\"id\":\"e%d\",\"ts\":\"%s\",\"type\":\"%s\",\"order_id\":\"o%u\","
                     "\"tech_id\":\"t%u\",\"reason\":\"awaiting_parts\"}",
                     i, tsx, types[(rnd >> 13) % 8], o, o % 7);
        else if (kind < 15)
            snprintf(line, sizeof line,
                     "{\"v\":1,\"id\":\"e%d\",\"ts\":\"%s\",\"type\":\"complaint.created\","
                     "\"complaint_id\":\"c%u\",\"severity\":\"%s\",\"category\":\"late\","
                     "\"region\":\"r%u\"}",
                     i, tsx, o % 60, o % 2 ? "urgent" : "normal", o % 5);
        else
            snprintf(line, sizeof line,
                     "{\"v\":1,\"id\":\"e%d\",\"ts\":\"%s\",\"type\":\"complaint.responded\","
                     "\"complaint_id\":\"c%u\"}",
                     i, tsx, o % 60);
        ow_event ev;
        if (ow_event_parse(line, strlen(line), &ev, &err)) fail_msg("%s: %s", line, err.msg);
        assert_true(ow_state_apply(s, &ev) >= 0);
        if (r) assert_true(ow_state_apply(r, &ev) >= 0);
        now += 20000;
        assert_true(ow_state_advance(s, now) >= 0);
        if (r) assert_true(ow_state_advance(r, now) >= 0);
        if (i % 7 == 0) { /* acknowledge an open alert of the board (the same one in both) */
            static esc_all some;
            some.n = 0;
            ow_state_each_top_alert(s, 30, esc_keep, &some);
            if (some.n) {
                ow_ack ack = {.at = now};
                snprintf(ack.by, sizeof ack.by, "sup%d", i);
                const char *id = some.id[rnd % some.n];
                if (ow_state_ack(s, id, &ack, &err) == 0) acks++;
                if (r) ow_state_ack(r, id, &ack, &err);
            }
        }
        ow_state_outbox_clear(s);
        if (r) ow_state_outbox_clear(r);
        if (i % 37 != 0 && i != 2999) continue;
        char when[64];
        snprintf(when, sizeof when, "event %d", i);
        char *top = esc_check(s, when);
        if (r) {
            snprintf(when, sizeof when, "event %d, reloaded", i);
            assert_string_equal(esc_check(r, when), top);
        }
        if (i % 370 == 0) { /* a restart: the index is rebuilt from what the checkpoint holds */
            char *bytes, cursor[OW_CHECKPOINT_CURSOR_MAX];
            size_t len;
            assert_int_equal(ow_checkpoint_save(s, "0-1", &bytes, &len, &err), 0);
            ow_state_free(r);
            r = NULL;
            assert_int_equal(ow_checkpoint_load(&p, bytes, len, &r, cursor, &err), 0);
            free(bytes);
            snprintf(when, sizeof when, "event %d, just loaded", i);
            assert_string_equal(esc_check(r, when), top);
            reloads++;
        }
    }
    /* the storm left enough open alerts, acknowledged ones among the first, for this to matter */
    static esc_all all;
    all.n = 0;
    ow_state_each_open_alert(s, esc_keep, &all);
    assert_true(all.n > 500);
    assert_true(acks > 20);
    assert_true(reloads >= 8);
    assert_non_null(strstr(esc_check(s, "end"), " sup"));
    ow_state_free(s);
    ow_state_free(r);
}

/* The escalations follow an open alert's instant when late events move it, earlier as well as
 * later. Emergency: arrival 2 h, so 50 % at created + 1 h plus the time paused. o1 (created 00:00)
 * is paused 00:30-00:50: its 50 % at 01:20; o2 (created 00:10) has its at 01:10. */
static void test_escalations_follow_late_pauses(void **st)
{
    ow_state *s = *st;
    const char *o2 = "\"order_id\":\"o2\",\"priority\":\"emergency\",\"category\":\"drain\","
                     "\"region\":\"north\"";
    apply(s, "00:00:00", "order.created", CREATED("emergency", ""));
    apply(s, "00:10:00", "order.created", o2);
    for (int i = 1; i <= 2; i++) { /* dispatched and accepted within their targets */
        char f[64], t1[16], t2[16];
        snprintf(f, sizeof f, "\"order_id\":\"o%d\",\"tech_id\":\"t%d\"", i, i);
        snprintf(t1, sizeof t1, "00:%02d:00", (i - 1) * 10 + 1);
        snprintf(t2, sizeof t2, "00:%02d:00", (i - 1) * 10 + 2);
        apply(s, t1, "order.dispatched", f);
        apply(s, t2, "order.accepted", f);
    }
    apply(s, "00:30:00", "order.paused", "\"order_id\":\"o1\",\"reason\":\"awaiting_parts\"");
    apply(s, "00:50:00", "order.resumed", "\"order_id\":\"o1\"");
    ow_state_advance(s, T("01:30:00"));
    static esc_all l;
    l.n = 0;
    ow_state_each_top_alert(s, 2, esc_keep, &l);
    assert_string_equal(esc_first(&l, 2), "sla:o2:arrival:1:50 L0 2026-11-22T01:10:00.000Z \n"
                                          "sla:o1:arrival:1:50 L0 2026-11-22T01:20:00.000Z \n");
    /* a resume at 00:35 arrives late: the pause was 5 minutes, o1's 50 % moves to 01:05 */
    apply(s, "00:35:00", "order.resumed", "\"order_id\":\"o1\"");
    l.n = 0;
    ow_state_each_top_alert(s, 1, esc_keep, &l);
    assert_string_equal(esc_first(&l, 1), "sla:o1:arrival:1:50 L0 2026-11-22T01:05:00.000Z \n");
    /* a pause at 00:36 arrives late (until the resume at 00:50): 30 + 1 + 29 min → 01:19 */
    apply(s, "00:36:00", "order.paused", "\"order_id\":\"o1\",\"reason\":\"awaiting_parts\"");
    l.n = 0;
    ow_state_each_top_alert(s, 2, esc_keep, &l);
    assert_string_equal(esc_first(&l, 2), "sla:o2:arrival:1:50 L0 2026-11-22T01:10:00.000Z \n"
                                          "sla:o1:arrival:1:50 L0 2026-11-22T01:19:00.000Z \n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_thresholds_fire_at_exact_instants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_accept_keeps_raised_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redispatch_starts_new_accept_instance, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pause_shifts_arrival_and_resolution, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_pause_holds_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_stops_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_and_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complaint_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_and_duplicates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_created_changes_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_alerts_listing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escalations_follow_late_pauses, setup, teardown),
        cmocka_unit_test(test_escalations_match_a_full_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

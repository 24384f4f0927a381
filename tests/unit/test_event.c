/*
 * test_event — the event contract v1 (DESIGN.md §3) through ow_event_parse.
 *
 * Inputs are written with single quotes for readability; q() turns them into double quotes.
 * Longer than 800 lines on purpose: one table-driven section per rule of the contract, kept in
 * one file so the whole contract reads top to bottom.
 * Every expected value and message is written by hand from the contract and the message rules
 * in event.h / err.h, never copied from the program's output.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "event.h"
#include "json.h"

#define TS_TEXT "2026-11-22T09:15:02.120+08:00"
#define TS_MS   INT64_C(1795310102120) /* 2026-11-22T01:15:02.120Z, from `date -u -d ... +%s` */

static ow_event ev; /* ~10 KB: keep it off the stack */
static ow_err err;

/* Copy of s with every ' turned into ". Caller frees. */
static char *q(const char *s)
{
    char *t = strdup(s);
    assert_non_null(t);
    for (char *p = t; *p; p++)
        if (*p == '\'') *p = '"';
    return t;
}

/* Parse a single-quoted JSON text. */
static int parse_q(const char *quoted)
{
    char *t = q(quoted);
    ow_err_clear(&err);
    int rc = ow_event_parse(t, strlen(t), &ev, &err);
    free(t);
    return rc;
}

/* Parse an event of `type` with the standard envelope and `body` (single-quoted members). */
static int parse_ev(const char *type, const char *body)
{
    size_t n = strlen(type) + strlen(body) + 128;
    char *buf = malloc(n);
    assert_non_null(buf);
    snprintf(buf, n, "{'v':1,'id':'ev-1','ts':'%s','type':'%s'%s%s}", TS_TEXT, type,
             *body ? "," : "", body);
    int rc = parse_q(buf);
    free(buf);
    return rc;
}

static void expect_ok(int rc, const char *what)
{
    if (rc != OW_OK) fail_msg("%s: expected success, got %s: %s", what, ow_err_name(rc), err.msg);
}

static void expect_msg(int rc, const char *what, const char *msg)
{
    if (rc != OW_EINVAL)
        fail_msg("%s: expected EINVAL, got %s (%s)", what, ow_err_name(rc), err.msg);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("%s: wrong message\n  want: %s\n  got:  %s", what, msg, err.msg);
}

static void expect_prefix(int rc, const char *what, const char *prefix)
{
    if (rc != OW_EINVAL)
        fail_msg("%s: expected EINVAL, got %s (%s)", what, ow_err_name(rc), err.msg);
    if (strncmp(err.msg, prefix, strlen(prefix)) != 0)
        fail_msg("%s: wrong message\n  want prefix: %s\n  got:         %s", what, prefix, err.msg);
}

/* ---- every type, required fields only ---- */

typedef struct {
    const char *type;
    ow_event_type t;
    const char *names[4];   /* required fields */
    const char *members[4]; /* the same, as single-quoted JSON members */
    const char *missing[4]; /* the exact message when that field is missing */
} type_case;

static const type_case cases[] = {
    {"order.created",
     OW_EV_ORDER_CREATED,
     {"order_id", "priority", "category", "region"},
     {"'order_id':'o-1'", "'priority':'emergency'", "'category':'drain'", "'region':'north'"},
     {"order.created: field \"order_id\" is required",
      "order.created: field \"priority\" is required (one of emergency|important|general)",
      "order.created: field \"category\" is required",
      "order.created: field \"region\" is required"}},
    {"order.dispatched",
     OW_EV_ORDER_DISPATCHED,
     {"order_id", "tech_id"},
     {"'order_id':'o-1'", "'tech_id':'t-1'"},
     {"order.dispatched: field \"order_id\" is required",
      "order.dispatched: field \"tech_id\" is required"}},
    {"order.accepted",
     OW_EV_ORDER_ACCEPTED,
     {"order_id", "tech_id"},
     {"'order_id':'o-1'", "'tech_id':'t-1'"},
     {"order.accepted: field \"order_id\" is required",
      "order.accepted: field \"tech_id\" is required"}},
    {"order.departed",
     OW_EV_ORDER_DEPARTED,
     {"order_id", "tech_id"},
     {"'order_id':'o-1'", "'tech_id':'t-1'"},
     {"order.departed: field \"order_id\" is required",
      "order.departed: field \"tech_id\" is required"}},
    {"order.arrived",
     OW_EV_ORDER_ARRIVED,
     {"order_id", "tech_id"},
     {"'order_id':'o-1'", "'tech_id':'t-1'"},
     {"order.arrived: field \"order_id\" is required",
      "order.arrived: field \"tech_id\" is required"}},
    {"order.paused",
     OW_EV_ORDER_PAUSED,
     {"order_id", "reason"},
     {"'order_id':'o-1'", "'reason':'awaiting_parts'"},
     {"order.paused: field \"order_id\" is required",
      "order.paused: field \"reason\" is required (one of "
      "awaiting_parts|customer_unavailable|other)"}},
    {"order.resumed",
     OW_EV_ORDER_RESUMED,
     {"order_id"},
     {"'order_id':'o-1'"},
     {"order.resumed: field \"order_id\" is required"}},
    {"order.resolved",
     OW_EV_ORDER_RESOLVED,
     {"order_id", "tech_id"},
     {"'order_id':'o-1'", "'tech_id':'t-1'"},
     {"order.resolved: field \"order_id\" is required",
      "order.resolved: field \"tech_id\" is required"}},
    {"order.callback",
     OW_EV_ORDER_CALLBACK,
     {"order_id", "score"},
     {"'order_id':'o-1'", "'score':4"},
     {"order.callback: field \"order_id\" is required",
      "order.callback: field \"score\" is required"}},
    {"order.closed",
     OW_EV_ORDER_CLOSED,
     {"order_id"},
     {"'order_id':'o-1'"},
     {"order.closed: field \"order_id\" is required"}},
    {"order.cancelled",
     OW_EV_ORDER_CANCELLED,
     {"order_id"},
     {"'order_id':'o-1'"},
     {"order.cancelled: field \"order_id\" is required"}},
    {"order.reopened",
     OW_EV_ORDER_REOPENED,
     {"order_id"},
     {"'order_id':'o-1'"},
     {"order.reopened: field \"order_id\" is required"}},
    {"complaint.created",
     OW_EV_COMPLAINT_CREATED,
     {"complaint_id", "severity", "category"},
     {"'complaint_id':'c-1'", "'severity':'urgent'", "'category':'billing'"},
     {"complaint.created: field \"complaint_id\" is required",
      "complaint.created: field \"severity\" is required (one of urgent|normal)",
      "complaint.created: field \"category\" is required"}},
    {"complaint.responded",
     OW_EV_COMPLAINT_RESPONDED,
     {"complaint_id"},
     {"'complaint_id':'c-1'"},
     {"complaint.responded: field \"complaint_id\" is required"}},
    {"tech.status",
     OW_EV_TECH_STATUS,
     {"tech_id", "status"},
     {"'tech_id':'t-1'", "'status':'idle'"},
     {"tech.status: field \"tech_id\" is required",
      "tech.status: field \"status\" is required (one of offline|idle|enroute|onsite|break)"}},
    {"tech.location",
     OW_EV_TECH_LOCATION,
     {"tech_id", "lat", "lon"},
     {"'tech_id':'t-1'", "'lat':31.2", "'lon':121.5"},
     {"tech.location: field \"tech_id\" is required", "tech.location: field \"lat\" is required",
      "tech.location: field \"lon\" is required"}},
    {"parts.stock",
     OW_EV_PARTS_STOCK,
     {"depot", "sku", "qty"},
     {"'depot':'d-1'", "'sku':'s-1'", "'qty':5"},
     {"parts.stock: field \"depot\" is required", "parts.stock: field \"sku\" is required",
      "parts.stock: field \"qty\" is required"}},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* Body of a case's required members, leaving out index `skip` (-1 keeps all). */
static void case_body(const type_case *c, int skip, char *out, size_t n)
{
    out[0] = '\0';
    for (int i = 0; i < 4 && c->names[i]; i++) {
        if (i == skip) continue;
        if (out[0]) strncat(out, ",", n - strlen(out) - 1);
        strncat(out, c->members[i], n - strlen(out) - 1);
    }
}

static void test_table_covers_every_type(void **state)
{
    (void)state;
    assert_int_equal(NCASES, OW_EV__COUNT);
    for (size_t i = 0; i < NCASES; i++) {
        assert_int_equal(cases[i].t, (ow_event_type)i);
        assert_string_equal(ow_event_type_name(cases[i].t), cases[i].type);
        assert_int_equal(ow_event_type_lookup(cases[i].type), (int)cases[i].t);
    }
    assert_int_equal(ow_event_type_lookup("order.exploded"), -1);
    assert_int_equal(ow_event_type_lookup("Order.Created"), -1);
    assert_string_equal(ow_event_type_name(OW_EV__COUNT), "?");
    assert_string_equal(ow_event_type_name((ow_event_type)-1), "?");
}

static void test_required_only_parses(void **state)
{
    (void)state;
    char body[512];
    for (size_t i = 0; i < NCASES; i++) {
        case_body(&cases[i], -1, body, sizeof body);
        expect_ok(parse_ev(cases[i].type, body), cases[i].type);
        assert_int_equal(ev.type, cases[i].t);
        assert_string_equal(ev.id, "ev-1");
        assert_true(ev.ts_ms == TS_MS);
        /* absent optionals */
        assert_int_equal(ev.nps, -1);
        assert_true(ev.eta_s == -1);
        assert_int_equal(ev.channel, OW_CH_NONE);
        assert_int_equal(ev.segment, OW_SEG_STANDARD);
        assert_false(ev.has_address);
        assert_false(ev.has_complaint);
        assert_false(ev.has_first_visit_fix);
        assert_int_equal(ev.nskills, 0);
        assert_int_equal(ev.nparts, 0);
        assert_int_equal(ev.has_geo, cases[i].t == OW_EV_TECH_LOCATION);
    }
}

static void test_required_missing(void **state)
{
    (void)state;
    char body[512], what[128];
    for (size_t i = 0; i < NCASES; i++) {
        for (int k = 0; k < 4 && cases[i].names[k]; k++) {
            case_body(&cases[i], k, body, sizeof body);
            snprintf(what, sizeof what, "%s without %s", cases[i].type, cases[i].names[k]);
            expect_msg(parse_ev(cases[i].type, body), what, cases[i].missing[k]);
        }
    }
}

static void test_envelope_missing(void **state)
{
    (void)state;
    expect_msg(parse_q("{'id':'e','ts':'" TS_TEXT "','type':'order.closed','order_id':'o'}"),
               "no v", "field \"v\" is required (the contract version, 1)");
    expect_msg(parse_q("{'v':1,'ts':'" TS_TEXT "','type':'order.closed','order_id':'o'}"), "no id",
               "order.closed: field \"id\" is required");
    expect_msg(parse_q("{'v':1,'id':'e','type':'order.closed','order_id':'o'}"), "no ts",
               "order.closed: field \"ts\" is required");
    expect_msg(parse_q("{'v':1,'id':'e','ts':'" TS_TEXT "','order_id':'o'}"), "no type",
               "field \"type\" is required");
}

/* ---- every type with all its optional fields, decoded ---- */

static void test_full_order_created(void **state)
{
    (void)state;
    expect_ok(parse_ev("order.created",
                       "'order_id':'o-1','priority':'important','category':'drain',"
                       "'region':'north','lat':31.25,'lon':121.5,'address':'12 Main St.',"
                       "'channel':'wechat','customer_id':'cu-9','segment':'elderly',"
                       "'skill':'pipe','note':'gate code 1234'"),
              "full order.created");
    assert_int_equal(ev.type, OW_EV_ORDER_CREATED);
    assert_string_equal(ev.id, "ev-1");
    assert_true(ev.ts_ms == TS_MS);
    assert_string_equal(ev.order_id, "o-1");
    assert_int_equal(ev.priority, OW_PRIO_IMPORTANT);
    assert_string_equal(ev.category, "drain");
    assert_string_equal(ev.region, "north");
    assert_true(ev.has_geo);
    assert_true(ev.lat == 31.25);
    assert_true(ev.lon == 121.5);
    assert_true(ev.has_address);
    assert_true(ev.address_key == ow_address_key("12mainst", 8));
    assert_int_equal(ev.channel, OW_CH_WECHAT);
    assert_string_equal(ev.customer_id, "cu-9");
    assert_int_equal(ev.segment, OW_SEG_ELDERLY);
    assert_string_equal(ev.skill, "pipe");
    /* fields order.created does not carry stay empty */
    assert_string_equal(ev.tech_id, "");
    assert_string_equal(ev.reason, "");
}

static void test_enum_values(void **state)
{
    (void)state;
    static const struct {
        const char *member;
        ow_priority prio;
        ow_channel ch;
        ow_segment seg;
    } rows[] = {
        {"'priority':'emergency','channel':'phone','segment':'standard'", OW_PRIO_EMERGENCY,
         OW_CH_PHONE, OW_SEG_STANDARD},
        {"'priority':'important','channel':'app','segment':'vip'", OW_PRIO_IMPORTANT, OW_CH_APP,
         OW_SEG_VIP},
        {"'priority':'general','channel':'web','segment':'enterprise'", OW_PRIO_GENERAL, OW_CH_WEB,
         OW_SEG_ENTERPRISE},
        {"'priority':'general','channel':'walkin','segment':'public'", OW_PRIO_GENERAL,
         OW_CH_WALKIN, OW_SEG_PUBLIC},
        {"'priority':'general','channel':'other','segment':'elderly'", OW_PRIO_GENERAL, OW_CH_OTHER,
         OW_SEG_ELDERLY},
    };
    char body[256];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        snprintf(body, sizeof body, "'order_id':'o','category':'c','region':'r',%s",
                 rows[i].member);
        expect_ok(parse_ev("order.created", body), rows[i].member);
        assert_int_equal(ev.priority, rows[i].prio);
        assert_int_equal(ev.channel, rows[i].ch);
        assert_int_equal(ev.segment, rows[i].seg);
    }
    assert_string_equal(ow_priority_name(OW_PRIO_GENERAL), "general");
    assert_string_equal(ow_channel_name(OW_CH_WALKIN), "walkin");
    assert_string_equal(ow_segment_name(OW_SEG_PUBLIC), "public");
    assert_string_equal(ow_tech_status_name(OW_TECH_BREAK), "break");
    assert_string_equal(ow_priority_name(OW_PRIO__COUNT), "?");
    assert_int_equal(ow_priority_lookup("important"), OW_PRIO_IMPORTANT);
    assert_int_equal(ow_priority_lookup("IMPORTANT"), -1);

    static const struct {
        const char *name;
        ow_tech_status st;
    } st[] = {{"offline", OW_TECH_OFFLINE},
              {"idle", OW_TECH_IDLE},
              {"enroute", OW_TECH_ENROUTE},
              {"onsite", OW_TECH_ONSITE},
              {"break", OW_TECH_BREAK}};
    for (size_t i = 0; i < 5; i++) {
        snprintf(body, sizeof body, "'tech_id':'t','status':'%s'", st[i].name);
        expect_ok(parse_ev("tech.status", body), st[i].name);
        assert_int_equal(ev.status, st[i].st);
    }
}

static void test_full_order_lifecycle_types(void **state)
{
    (void)state;
    expect_ok(parse_ev("order.dispatched", "'order_id':'o-2','tech_id':'t-7'"), "dispatched");
    assert_int_equal(ev.type, OW_EV_ORDER_DISPATCHED);
    assert_string_equal(ev.order_id, "o-2");
    assert_string_equal(ev.tech_id, "t-7");

    expect_ok(parse_ev("order.accepted", "'order_id':'o-2','tech_id':'t-7'"), "accepted");
    assert_int_equal(ev.type, OW_EV_ORDER_ACCEPTED);
    assert_string_equal(ev.tech_id, "t-7");

    expect_ok(parse_ev("order.departed", "'order_id':'o-2','tech_id':'t-7','eta_s':900"),
              "departed");
    assert_int_equal(ev.type, OW_EV_ORDER_DEPARTED);
    assert_true(ev.eta_s == 900);
    expect_ok(parse_ev("order.departed", "'order_id':'o-2','tech_id':'t-7','eta_s':0"), "eta 0");
    assert_true(ev.eta_s == 0);
    expect_ok(parse_ev("order.departed", "'order_id':'o-2','tech_id':'t-7','eta_s':604800"),
              "eta 7d");
    assert_true(ev.eta_s == 604800);

    expect_ok(parse_ev("order.arrived", "'order_id':'o-2','tech_id':'t-7'"), "arrived");
    assert_int_equal(ev.type, OW_EV_ORDER_ARRIVED);

    expect_ok(parse_ev("order.paused",
                       "'order_id':'o-2','reason':'customer_unavailable','sku':'valve-20'"),
              "paused");
    assert_int_equal(ev.type, OW_EV_ORDER_PAUSED);
    assert_int_equal(ev.pause_reason, OW_PAUSE_CUSTOMER_UNAVAILABLE);
    assert_string_equal(ev.sku, "valve-20");
    assert_string_equal(ev.reason, ""); /* the pause reason is an enum, not free text */
    expect_ok(parse_ev("order.paused", "'order_id':'o-2','reason':'awaiting_parts'"), "paused");
    assert_int_equal(ev.pause_reason, OW_PAUSE_AWAITING_PARTS);
    expect_ok(parse_ev("order.paused", "'order_id':'o-2','reason':'other'"), "paused");
    assert_int_equal(ev.pause_reason, OW_PAUSE_OTHER);

    expect_ok(parse_ev("order.resumed", "'order_id':'o-2'"), "resumed");
    assert_int_equal(ev.type, OW_EV_ORDER_RESUMED);

    expect_ok(parse_ev("order.resolved", "'order_id':'o-2','tech_id':'t-7','first_visit_fix':false,"
                                         "'parts':['valve-20','seal']"),
              "resolved");
    assert_int_equal(ev.type, OW_EV_ORDER_RESOLVED);
    assert_true(ev.has_first_visit_fix);
    assert_false(ev.first_visit_fix);
    assert_int_equal(ev.nparts, 2);
    expect_ok(parse_ev("order.resolved",
                       "'order_id':'o-2','tech_id':'t-7','first_visit_fix':true,'parts':[]"),
              "resolved fvf");
    assert_true(ev.has_first_visit_fix);
    assert_true(ev.first_visit_fix);
    assert_int_equal(ev.nparts, 0);

    expect_ok(parse_ev("order.callback",
                       "'order_id':'o-2','score':5,'nps':9,'complaint':true,'reason':'late'"),
              "callback");
    assert_int_equal(ev.type, OW_EV_ORDER_CALLBACK);
    assert_int_equal(ev.score, 5);
    assert_int_equal(ev.nps, 9);
    assert_true(ev.has_complaint);
    assert_true(ev.complaint);
    assert_string_equal(ev.reason, "late");
    expect_ok(parse_ev("order.callback", "'order_id':'o-2','score':1,'nps':0,'complaint':false"),
              "callback low");
    assert_int_equal(ev.score, 1);
    assert_int_equal(ev.nps, 0);
    assert_true(ev.has_complaint);
    assert_false(ev.complaint);

    expect_ok(parse_ev("order.closed", "'order_id':'o-2'"), "closed");
    assert_int_equal(ev.type, OW_EV_ORDER_CLOSED);

    expect_ok(parse_ev("order.cancelled", "'order_id':'o-2','reason':'duplicate'"), "cancelled");
    assert_int_equal(ev.type, OW_EV_ORDER_CANCELLED);
    assert_string_equal(ev.reason, "duplicate");

    expect_ok(parse_ev("order.reopened", "'order_id':'o-2','reason':'leaks again\\n(2nd time)'"),
              "reopened");
    assert_int_equal(ev.type, OW_EV_ORDER_REOPENED);
    assert_string_equal(ev.reason, "leaks again\n(2nd time)"); /* free text may hold newlines */
}

static void test_full_other_types(void **state)
{
    (void)state;
    expect_ok(parse_ev("complaint.created",
                       "'complaint_id':'c-1','severity':'normal',"
                       "'category':'billing','order_id':'o-3','region':'east'"),
              "complaint.created");
    assert_int_equal(ev.type, OW_EV_COMPLAINT_CREATED);
    assert_string_equal(ev.complaint_id, "c-1");
    assert_int_equal(ev.severity, OW_SEV_NORMAL);
    assert_string_equal(ev.category, "billing");
    assert_string_equal(ev.order_id, "o-3");
    assert_string_equal(ev.region, "east");
    assert_false(ow_event_is_order(ev.type));

    expect_ok(parse_ev("complaint.responded", "'complaint_id':'c-1'"), "responded");
    assert_int_equal(ev.type, OW_EV_COMPLAINT_RESPONDED);
    assert_string_equal(ev.complaint_id, "c-1");

    expect_ok(parse_ev("tech.status", "'tech_id':'t-1','status':'enroute','region':'west',"
                                      "'skills':['pipe','drain'],'name':'王师傅'"),
              "tech.status");
    assert_int_equal(ev.type, OW_EV_TECH_STATUS);
    assert_string_equal(ev.tech_id, "t-1");
    assert_int_equal(ev.status, OW_TECH_ENROUTE);
    assert_string_equal(ev.region, "west");
    assert_int_equal(ev.nskills, 2);
    assert_string_equal(ev.skills[0], "pipe");
    assert_string_equal(ev.skills[1], "drain");
    assert_string_equal(ev.name, "\xE7\x8E\x8B\xE5\xB8\x88\xE5\x82\x85");

    expect_ok(parse_ev("tech.location", "'tech_id':'t-1','lat':-33.865,'lon':151.2094"),
              "tech.location");
    assert_int_equal(ev.type, OW_EV_TECH_LOCATION);
    assert_true(ev.has_geo);
    assert_true(ev.lat == -33.865);
    assert_true(ev.lon == 151.2094);

    expect_ok(parse_ev("parts.stock", "'depot':'d-1','sku':'s-1','qty':0"), "qty 0");
    assert_int_equal(ev.type, OW_EV_PARTS_STOCK);
    assert_string_equal(ev.depot, "d-1");
    assert_string_equal(ev.sku, "s-1");
    assert_true(ev.qty == 0);
    expect_ok(parse_ev("parts.stock", "'depot':'d-1','sku':'s-1','qty':2147483647"), "qty max");
    assert_true(ev.qty == INT64_C(2147483647));

    /* is_order covers exactly the order.* types */
    for (int t = 0; t < OW_EV__COUNT; t++)
        assert_int_equal(ow_event_is_order((ow_event_type)t),
                         strncmp(ow_event_type_name((ow_event_type)t), "order.", 6) == 0);
}

/* ---- wrong types for every field kind ---- */

static void test_wrong_types(void **state)
{
    (void)state;
    static const struct {
        const char *type, *body, *expect;
    } rows[] = {
        /* text */
        {"order.closed", "'order_id':5",
         "order.closed: field \"order_id\": expected a string of 1 to 128 characters, got 5"},
        {"order.closed", "'order_id':true",
         "order.closed: field \"order_id\": expected a string of 1 to 128 characters, got true"},
        {"order.closed", "'order_id':['o']",
         "order.closed: field \"order_id\": expected a string of 1 to 128 characters, got [\"o\"]"},
        {"order.closed", "'order_id':{'a':1}",
         "order.closed: field \"order_id\": expected a string of 1 to 128 characters, got "
         "{\"a\":1}"},
        {"order.closed", "'order_id':null",
         "order.closed: field \"order_id\": expected a string of 1 to 128 characters, got null"},
        {"parts.stock", "'depot':7,'sku':'s','qty':1",
         "parts.stock: field \"depot\": expected a string of 1 to 64 characters, got 7"},
        {"order.cancelled", "'order_id':'o','reason':false",
         "order.cancelled: field \"reason\": expected a string of 0 to 256 characters, got false"},
        /* enum */
        {"order.created", "'order_id':'o','priority':1,'category':'c','region':'r'",
         "order.created: field \"priority\": expected one of emergency|important|general, got 1"},
        {"order.created", "'order_id':'o','priority':null,'category':'c','region':'r'",
         "order.created: field \"priority\": expected one of emergency|important|general, got "
         "null"},
        {"order.created", "'order_id':'o','priority':['emergency'],'category':'c','region':'r'",
         "order.created: field \"priority\": expected one of emergency|important|general, got "
         "[\"emergency\"]"},
        {"tech.status", "'tech_id':'t','status':false",
         "tech.status: field \"status\": expected one of offline|idle|enroute|onsite|break, got "
         "false"},
        /* real */
        {"tech.location", "'tech_id':'t','lat':'31.2','lon':121.5",
         "tech.location: field \"lat\": expected a number from -90 to 90, got \"31.2\""},
        {"tech.location", "'tech_id':'t','lat':31.2,'lon':true",
         "tech.location: field \"lon\": expected a number from -180 to 180, got true"},
        {"tech.location", "'tech_id':'t','lat':31.2,'lon':null",
         "tech.location: field \"lon\": expected a number from -180 to 180, got null"},
        {"tech.location", "'tech_id':'t','lat':{},'lon':1",
         "tech.location: field \"lat\": expected a number from -90 to 90, got {}"},
        /* int */
        {"order.callback", "'order_id':'o','score':'3'",
         "order.callback: field \"score\": expected an integer from 1 to 5, got \"3\""},
        {"order.callback", "'order_id':'o','score':[3]",
         "order.callback: field \"score\": expected an integer from 1 to 5, got [3]"},
        {"parts.stock", "'depot':'d','sku':'s','qty':null",
         "parts.stock: field \"qty\": expected an integer from 0 to 2147483647, got null"},
        {"order.departed", "'order_id':'o','tech_id':'t','eta_s':'900'",
         "order.departed: field \"eta_s\": expected an integer from 0 to 604800, got \"900\""},
        /* bool */
        {"order.resolved", "'order_id':'o','tech_id':'t','first_visit_fix':1",
         "order.resolved: field \"first_visit_fix\": expected true or false, got 1"},
        {"order.resolved", "'order_id':'o','tech_id':'t','first_visit_fix':'true'",
         "order.resolved: field \"first_visit_fix\": expected true or false, got \"true\""},
        {"order.callback", "'order_id':'o','score':3,'complaint':null",
         "order.callback: field \"complaint\": expected true or false, got null"},
        /* list */
        {"order.resolved", "'order_id':'o','tech_id':'t','parts':'p1'",
         "order.resolved: field \"parts\": expected an array of at most 64 strings of 1 to 64 "
         "characters, got \"p1\""},
        {"tech.status", "'tech_id':'t','status':'idle','skills':[1]",
         "tech.status: field \"skills\": expected an array of at most 16 strings of 1 to 64 "
         "characters, got [1]"},
        {"tech.status", "'tech_id':'t','status':'idle','skills':['']",
         "tech.status: field \"skills\": expected an array of at most 16 strings of 1 to 64 "
         "characters, got [\"\"]"},
        {"tech.status", "'tech_id':'t','status':'idle','skills':{'a':'b'}",
         "tech.status: field \"skills\": expected an array of at most 16 strings of 1 to 64 "
         "characters, got {\"a\":\"b\"}"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        expect_msg(parse_ev(rows[i].type, rows[i].body), rows[i].body, rows[i].expect);
    expect_msg(parse_q("{'v':1,'id':5,'ts':'" TS_TEXT "','type':'order.closed','order_id':'o'}"),
               "id number",
               "order.closed: field \"id\": expected a string of 1 to 128 characters, got 5");
    expect_msg(parse_q("{'v':1,'id':'e','ts':1795310102,'type':'order.closed','order_id':'o'}"),
               "ts number",
               "order.closed: field \"ts\": expected an RFC 3339 time string like "
               "2026-11-22T09:15:02+08:00, got 1795310102");
    expect_msg(parse_q("{'v':1,'id':'e','ts':'" TS_TEXT "','type':7,'order_id':'o'}"),
               "type number",
               "event: field \"type\": expected an event type (order.created, order.dispatched, "
               "... see DESIGN §3), got 7");
}

static void test_enum_wrong(void **state)
{
    (void)state;
    expect_msg(parse_ev("order.created",
                        "'order_id':'o-1','priority':'urgentt','category':'c','region':'r'"),
               "urgentt",
               "order.created: field \"priority\": expected one of emergency|important|general, "
               "got \"urgentt\"");
    expect_msg(parse_ev("order.created",
                        "'order_id':'o-1','priority':'Emergency','category':'c','region':'r'"),
               "case",
               "order.created: field \"priority\": expected one of emergency|important|general, "
               "got \"Emergency\"");
    /* "none" is the internal value for an absent channel, not a wire value */
    expect_msg(parse_ev("order.created", "'order_id':'o','priority':'general','category':'c',"
                                         "'region':'r','channel':'none'"),
               "channel none",
               "order.created: field \"channel\": expected one of "
               "phone|app|wechat|web|walkin|other, got \"none\"");
    expect_msg(parse_ev("order.created", "'order_id':'o','priority':'general','category':'c',"
                                         "'region':'r','segment':'gold'"),
               "segment",
               "order.created: field \"segment\": expected one of "
               "standard|vip|elderly|enterprise|public, got \"gold\"");
    expect_msg(parse_ev("order.paused", "'order_id':'o','reason':'lunch'"), "pause reason",
               "order.paused: field \"reason\": expected one of "
               "awaiting_parts|customer_unavailable|other, got \"lunch\"");
    expect_msg(parse_ev("complaint.created", "'complaint_id':'c','severity':'high','category':'x'"),
               "severity",
               "complaint.created: field \"severity\": expected one of urgent|normal, got "
               "\"high\"");
    expect_msg(parse_ev("tech.status", "'tech_id':'t','status':''"), "status",
               "tech.status: field \"status\": expected one of offline|idle|enroute|onsite|break, "
               "got \"\"");
}

static void test_ranges(void **state)
{
    (void)state;
    static const struct {
        const char *type, *body, *expect;
    } bad[] = {
        {"order.callback", "'order_id':'o','score':0",
         "order.callback: field \"score\": expected an integer from 1 to 5, got 0"},
        {"order.callback", "'order_id':'o','score':6",
         "order.callback: field \"score\": expected an integer from 1 to 5, got 6"},
        {"order.callback", "'order_id':'o','score':2.5",
         "order.callback: field \"score\": expected an integer from 1 to 5, got 2.5"},
        {"order.callback", "'order_id':'o','score':4,'nps':11",
         "order.callback: field \"nps\": expected an integer from 0 to 10, got 11"},
        {"order.callback", "'order_id':'o','score':4,'nps':-1",
         "order.callback: field \"nps\": expected an integer from 0 to 10, got -1"},
        {"parts.stock", "'depot':'d','sku':'s','qty':-1",
         "parts.stock: field \"qty\": expected an integer from 0 to 2147483647, got -1"},
        {"parts.stock", "'depot':'d','sku':'s','qty':1.5",
         "parts.stock: field \"qty\": expected an integer from 0 to 2147483647, got 1.5"},
        {"tech.location", "'tech_id':'t','lat':91,'lon':0",
         "tech.location: field \"lat\": expected a number from -90 to 90, got 91"},
        {"tech.location", "'tech_id':'t','lat':-90.5,'lon':0",
         "tech.location: field \"lat\": expected a number from -90 to 90, got -90.5"},
        {"tech.location", "'tech_id':'t','lat':0,'lon':-181",
         "tech.location: field \"lon\": expected a number from -180 to 180, got -181"},
        {"order.created",
         "'order_id':'o','priority':'general','category':'c','region':'r',"
         "'lat':10,'lon':180.5",
         "order.created: field \"lon\": expected a number from -180 to 180, got 180.5"},
        {"order.departed", "'order_id':'o','tech_id':'t','eta_s':-5",
         "order.departed: field \"eta_s\": expected an integer from 0 to 604800, got -5"},
        {"order.departed", "'order_id':'o','tech_id':'t','eta_s':604801",
         "order.departed: field \"eta_s\": expected an integer from 0 to 604800, got 604801"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_msg(parse_ev(bad[i].type, bad[i].body), bad[i].body, bad[i].expect);

    /* the edges themselves are fine */
    expect_ok(parse_ev("tech.location", "'tech_id':'t','lat':90,'lon':-180"), "lat 90 lon -180");
    assert_true(ev.lat == 90.0 && ev.lon == -180.0);
    expect_ok(parse_ev("tech.location", "'tech_id':'t','lat':-90,'lon':180"), "lat -90 lon 180");
    assert_true(ev.lat == -90.0 && ev.lon == 180.0);
    expect_ok(parse_ev("order.callback", "'order_id':'o','score':3.0,'nps':10"), "score 3.0");
    assert_int_equal(ev.score, 3);
    assert_int_equal(ev.nps, 10);

    /* list sizes: 16 skills fine, 17 not */
    char body[1024] = "'tech_id':'t','status':'idle','skills':[";
    for (int i = 0; i < 16; i++)
        snprintf(body + strlen(body), sizeof body - strlen(body), "%s'sk%d'", i ? "," : "", i);
    strcat(body, "]");
    expect_ok(parse_ev("tech.status", body), "16 skills");
    assert_int_equal(ev.nskills, 16);
    assert_string_equal(ev.skills[15], "sk15");
    body[strlen(body) - 1] = '\0';
    strcat(body, ",'sk16']");
    expect_prefix(parse_ev("tech.status", body), "17 skills",
                  "tech.status: field \"skills\": expected an array of at most 16 strings");
}

/* ---- lengths, counted in characters ---- */

static char *repeat(const char *unit, int n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * (size_t)n + 1);
    assert_non_null(s);
    for (int i = 0; i < n; i++)
        memcpy(s + ul * (size_t)i, unit, ul);
    s[ul * (size_t)n] = '\0';
    return s;
}

static int parse_with_id(const char *id)
{
    size_t n = 2 * strlen(id) + 256;
    char *buf = malloc(n);
    assert_non_null(buf);
    snprintf(buf, n, "{'v':1,'id':'%s','ts':'" TS_TEXT "','type':'order.closed','order_id':'%s'}",
             id, id);
    int rc = parse_q(buf);
    free(buf);
    return rc;
}

static void test_id_lengths(void **state)
{
    (void)state;
    expect_msg(parse_with_id(""), "empty id",
               "order.closed: field \"id\": expected a string of 1 to 128 characters, got \"\"");

    char *a128 = repeat("a", 128), *a129 = repeat("a", 129);
    expect_ok(parse_with_id(a128), "128 ASCII");
    assert_int_equal(strlen(ev.id), 128);
    assert_string_equal(ev.order_id, a128);
    expect_prefix(parse_with_id(a129), "129 ASCII",
                  "order.closed: field \"id\": expected a string of 1 to 128 characters, got \"");

    char *zh128 = repeat("\xE5\x8D\x95", 128), *zh129 = repeat("\xE5\x8D\x95", 129); /* 单 */
    expect_ok(parse_with_id(zh128), "128 Chinese characters (384 bytes)");
    assert_string_equal(ev.id, zh128);
    assert_string_equal(ev.order_id, zh128);
    expect_prefix(parse_with_id(zh129), "129 Chinese characters",
                  "order.closed: field \"id\": expected a string of 1 to 128 characters");

    /* the message quotes the value cut short, still valid UTF-8 */
    assert_true(ow_json_utf8_valid(err.msg, strlen(err.msg), NULL));
    assert_non_null(strstr(err.msg, "...")); /* cut */

    char *emoji128 = repeat("\xF0\x9F\x94\xA7", 128); /* 🔧, 4 bytes each: fills the buffer */
    expect_ok(parse_with_id(emoji128), "128 four-byte characters");
    assert_string_equal(ev.order_id, emoji128);

    /* the same limit through a \u escape: 128 escaped characters are 128 characters */
    char *esc128 = repeat("\\u00e9", 128);
    expect_ok(parse_with_id(esc128), "128 escaped characters");
    assert_int_equal(strlen(ev.id), 256);

    free(a128), free(a129), free(zh128), free(zh129), free(emoji128), free(esc128);

    /* names: 64 characters */
    char *n64 = repeat("\xE5\x8C\xBA", 64), *n65 = repeat("x", 65), body[1024];
    snprintf(body, sizeof body, "'order_id':'o','priority':'general','category':'c','region':'%s'",
             n64);
    expect_ok(parse_ev("order.created", body), "64-character region");
    assert_string_equal(ev.region, n64);
    snprintf(body, sizeof body, "'order_id':'o','priority':'general','category':'%s','region':'r'",
             n65);
    expect_prefix(parse_ev("order.created", body), "65-character category",
                  "order.created: field \"category\": expected a string of 1 to 64 characters");
    free(n64), free(n65);

    /* reasons: 256 characters */
    char *r256 = repeat("\xE5\x8E\x9F", 256), *r257 = repeat("r", 257);
    char *big = malloc(4096);
    assert_non_null(big);
    snprintf(big, 4096, "'order_id':'o','reason':'%s'", r256);
    expect_ok(parse_ev("order.cancelled", big), "256-character reason");
    assert_string_equal(ev.reason, r256);
    snprintf(big, 4096, "'order_id':'o','reason':'%s'", r257);
    expect_prefix(parse_ev("order.cancelled", big), "257-character reason",
                  "order.cancelled: field \"reason\": expected a string of 0 to 256 characters");
    free(r256), free(r257), free(big);
}

static void test_control_characters(void **state)
{
    (void)state;
    static const char *const bad_ids[] = {"a\\u0001b", "a\\tb",     "a\\nb",      "a\\rb",
                                          "a\\u001fb", "a\\u007fb", "\\u001b[31m"};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        char body[128];
        snprintf(body, sizeof body, "'order_id':'%s'", bad_ids[i]);
        expect_prefix(parse_ev("order.closed", body), bad_ids[i],
                      "order.closed: field \"order_id\": expected text without control characters");
        expect_prefix(parse_with_id(bad_ids[i]), bad_ids[i],
                      "order.closed: field \"id\": expected text without control characters");
    }
    /* an escaped NUL would cut the id short inside C: refused, never truncated */
    assert_int_equal(parse_with_id("ab\\u0000cd"), OW_EINVAL);
    assert_int_equal(parse_ev("order.closed", "'order_id':'o\\u0000x'"), OW_EINVAL);
    assert_int_equal(parse_ev("order.closed", "'order_id':'\\u0000'"), OW_EINVAL);
    assert_int_equal(parse_ev("order.closed", "'order_id':'o\\uZZZZx'"), OW_EINVAL);
    /* an escaped NUL in a key must not make "type\u0000x" read as "type" */
    assert_int_equal(
        parse_q("{'v':1,'id':'e','ts':'" TS_TEXT "','type\\u0000x':'order.closed','order_id':'o'}"),
        OW_EINVAL);
    /* free text (reasons, notes) may hold tabs and line breaks, not other controls */
    expect_ok(parse_ev("order.cancelled", "'order_id':'o','reason':'a\\tb\\r\\nc'"), "free text");
    assert_string_equal(ev.reason, "a\tb\r\nc");
    expect_prefix(parse_ev("order.cancelled", "'order_id':'o','reason':'a\\u0007'"), "bell",
                  "order.cancelled: field \"reason\": expected text without control characters");
    /* an escaped quote and backslash are ordinary characters */
    expect_ok(parse_ev("order.closed", "'order_id':'a\\\\b\\'c'"), "escaped quote");
    assert_string_equal(ev.order_id, "a\\b\"c");
}

static void test_lat_lon_pairs(void **state)
{
    (void)state;
    expect_msg(parse_ev("order.created",
                        "'order_id':'o','priority':'general','category':'c','region':'r','lat':10"),
               "lat alone", "order.created: field \"lon\": lat and lon must be given together");
    expect_msg(parse_ev("order.created",
                        "'order_id':'o','priority':'general','category':'c','region':'r','lon':10"),
               "lon alone", "order.created: field \"lat\": lat and lon must be given together");
    expect_ok(parse_ev("order.created", "'order_id':'o','priority':'general','category':'c',"
                                        "'region':'r','lat':0,'lon':0"),
              "0,0");
    assert_true(ev.has_geo);
    assert_true(ev.lat == 0.0 && ev.lon == 0.0);
}

static void test_version(void **state)
{
    (void)state;
    const char *rest = "'id':'e','ts':'" TS_TEXT "','type':'order.closed','order_id':'o'}";
    char buf[256];
    snprintf(buf, sizeof buf, "{%s", rest);
    expect_msg(parse_q(buf), "v missing", "field \"v\" is required (the contract version, 1)");
    snprintf(buf, sizeof buf, "{'v':2,%s", rest);
    expect_msg(parse_q(buf), "v=2", "event: field \"v\": expected 1, got 2");
    snprintf(buf, sizeof buf, "{'v':'1',%s", rest);
    expect_msg(parse_q(buf), "v='1'", "event: field \"v\": expected 1, got \"1\"");
    snprintf(buf, sizeof buf, "{'v':1.5,%s", rest);
    expect_msg(parse_q(buf), "v=1.5", "event: field \"v\": expected 1, got 1.5");
    snprintf(buf, sizeof buf, "{'v':null,%s", rest);
    expect_msg(parse_q(buf), "v=null", "event: field \"v\": expected 1, got null");
    snprintf(buf, sizeof buf, "{'v':1,%s", rest);
    expect_ok(parse_q(buf), "v=1");
}

static void test_unknown_type(void **state)
{
    (void)state;
    expect_msg(parse_ev("order.exploded", "'order_id':'o'"), "unknown type",
               "event: field \"type\": expected an event type (order.created, order.dispatched, "
               "... see DESIGN §3), got \"order.exploded\"");
    expect_msg(parse_ev("", "'order_id':'o'"), "empty type",
               "event: field \"type\": expected an event type (order.created, order.dispatched, "
               "... see DESIGN §3), got \"\"");
    expect_msg(parse_ev("ORDER.CLOSED", "'order_id':'o'"), "upper-case type",
               "event: field \"type\": expected an event type (order.created, order.dispatched, "
               "... see DESIGN §3), got \"ORDER.CLOSED\"");
}

/* ---- ts ---- */

static int parse_ts(const char *ts)
{
    char buf[256];
    snprintf(buf, sizeof buf, "{'v':1,'id':'e','ts':'%s','type':'order.closed','order_id':'o'}",
             ts);
    return parse_q(buf);
}

static void test_ts_valid(void **state)
{
    (void)state;
    static const struct {
        const char *ts;
        int64_t ms;
    } rows[] = {
        {"2026-11-22T01:15:02.120Z", INT64_C(1795310102120)},
        {"2026-11-22T09:15:02.120+08:00", INT64_C(1795310102120)},
        {"2026-11-22T09:15:02-05:30", INT64_C(1795358702000)}, /* = 14:45:02Z */
        {"2026-11-22T01:15:02Z", INT64_C(1795310102000)},
        {"2026-11-22T01:15:02.1Z", INT64_C(1795310102100)},
        {"2026-11-22T01:15:02.12Z", INT64_C(1795310102120)},
        {"2026-11-22T01:15:02.123Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.1234Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.12345Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.123456Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.1234567Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.12345678Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.123456789Z", INT64_C(1795310102123)},
        {"2026-11-22T01:15:02.999999999Z", INT64_C(1795310102999)},
        {"2024-02-29T00:00:00Z", INT64_C(1709164800000)},
        {"2000-02-29T00:00:00Z", INT64_C(11016) * 86400000},
        {"1970-01-01T00:00:00Z", 0},
        {"1970-01-01T08:00:00+08:00", 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        expect_ok(parse_ts(rows[i].ts), rows[i].ts);
        if (ev.ts_ms != rows[i].ms)
            fail_msg("%s: want %lld, got %lld", rows[i].ts, (long long)rows[i].ms,
                     (long long)ev.ts_ms);
    }
}

static void test_ts_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "2026-11-22T09:15:02",             /* no zone */
        "2026-11-22T09:15:02.120",         /* no zone */
        "2026-13-01T00:00:00Z",            /* month 13 */
        "2026-00-01T00:00:00Z",            /* month 0 */
        "2025-02-29T00:00:00Z",            /* not a leap year */
        "2100-02-29T00:00:00Z",            /* century, not a leap year */
        "2024-02-30T00:00:00Z",            /* no such day */
        "2026-04-31T00:00:00Z",            /* April has 30 */
        "2026-11-00T00:00:00Z",            /* day 0 */
        "2026-11-22T24:00:00Z",            /* hour 24 */
        "2026-11-22T23:60:00Z",            /* minute 60 */
        "2026-11-22T09:15:02Zjunk",        /* garbage after */
        "2026-11-22T09:15:02+08:00 ",      /* trailing space */
        "2026-11-22T09:15:02.1234567890Z", /* 10 fraction digits */
        "2026-11-22T09:15:02.Z",           /* no fraction digits */
        "2026-11-22T09:15:02+0800",        /* zone without colon */
        "2026-11-22T09:15:02+08",          /* short zone */
        "2026-11-22T09:15:02+24:00",       /* zone out of range */
        "26-11-22T09:15:02Z",              /* short year */
        "2026/11/22T09:15:02Z",
        "1795310102",
        "",
        "yesterday",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_prefix(parse_ts(bad[i]), bad[i], "order.closed: field \"ts\": ");
        char tail[128];
        snprintf(tail, sizeof tail, ", got \"%s\"", bad[i]);
        size_t ml = strlen(err.msg), tl = strlen(tail);
        if (ml < tl || strcmp(err.msg + ml - tl, tail) != 0)
            fail_msg("%s: message does not end with the value: %s", bad[i], err.msg);
    }
    /* the exact message for the common mistake */
    expect_msg(parse_ts("2026-11-22T09:15:02"), "no zone",
               "order.closed: field \"ts\": expected an RFC 3339 time with zone like "
               "2026-11-22T09:15:02.120+08:00 (the zone is missing), got "
               "\"2026-11-22T09:15:02\"");
}

/* ---- hostile input ---- */

static int parse_raw(const char *text, size_t len)
{
    ow_err_clear(&err);
    return ow_event_parse(text, len, &ev, &err);
}

static const char valid_line[] =
    "{\"v\":1,\"id\":\"e\",\"ts\":\"" TS_TEXT "\",\"type\":\"order.closed\",\"order_id\":\"o\"}";

static void test_truncated(void **state)
{
    (void)state;
    size_t n = strlen(valid_line);
    expect_ok(parse_raw(valid_line, n), "whole line");
    for (size_t cut = 0; cut < n; cut++) {
        int rc = parse_raw(valid_line, cut);
        if (rc != OW_EINVAL) fail_msg("cut at %zu: expected EINVAL, got %d", cut, rc);
    }
    assert_int_equal(parse_raw("", 0), OW_EINVAL);
    assert_int_equal(parse_raw("   ", 3), OW_EINVAL);
    assert_int_equal(parse_raw("\n", 1), OW_EINVAL);
}

static void test_too_big(void **state)
{
    (void)state;
    size_t big = 10u * 1024 * 1024;
    char *buf = malloc(big);
    assert_non_null(buf);
    memset(buf, ' ', big);
    memcpy(buf, valid_line, strlen(valid_line));
    assert_int_equal(parse_raw(buf, big), OW_ETOOBIG);
    assert_non_null(strstr(err.msg, "65536"));
    assert_int_equal(parse_raw(buf, 64 * 1024 + 1), OW_ETOOBIG);

    /* exactly 64 KiB: a valid event padded by an unknown field */
    size_t limit = 64 * 1024;
    const char *head = "{\"v\":1,\"id\":\"e\",\"ts\":\"" TS_TEXT
                       "\",\"type\":\"order.closed\",\"order_id\":\"o\",\"pad\":\"";
    size_t hl = strlen(head);
    memcpy(buf, head, hl);
    memset(buf + hl, 'x', limit - hl - 2);
    memcpy(buf + limit - 2, "\"}", 2);
    expect_ok(parse_raw(buf, limit), "exactly 64 KiB");
    assert_string_equal(ev.order_id, "o");
    free(buf);
}

static void test_deep_nesting(void **state)
{
    (void)state;
    size_t n = 10000;
    char *buf = malloc(n);
    assert_non_null(buf);
    memset(buf, '[', n);
    assert_int_equal(parse_raw(buf, n), OW_EINVAL);
    memset(buf, '{', n);
    assert_int_equal(parse_raw(buf, n), OW_EINVAL);
    free(buf);
    /* nesting 4 inside an event is allowed (root + 3), 5 is not */
    expect_ok(parse_ev("order.closed", "'order_id':'o','x':{'y':{'z':[]}}"), "depth 4");
    assert_int_equal(parse_ev("order.closed", "'order_id':'o','x':{'y':{'z':[[]]}}"), OW_EINVAL);
    /* brackets inside strings are text, not nesting */
    expect_ok(parse_ev("order.closed", "'order_id':'[[[[[[[[{{{{{{{{'"), "brackets in a string");
    assert_string_equal(ev.order_id, "[[[[[[[[{{{{{{{{");
}

static void test_nul_and_utf8(void **state)
{
    (void)state;
    static const struct {
        const char *bytes; /* replaces the order id */
        size_t len;
    } bad[] = {
        {"a\0b", 3},             /* NUL */
        {"\xC0\xAF", 2},         /* overlong '/' */
        {"\xE0\x80\xAF", 3},     /* overlong, 3 bytes */
        {"\xED\xA0\x80", 3},     /* surrogate U+D800 */
        {"\x80", 1},             /* lone continuation */
        {"a\xBF", 2},            /* lone continuation after ASCII */
        {"\xE4\xB8", 2},         /* truncated 3-byte sequence */
        {"\xF4\x90\x80\x80", 4}, /* above U+10FFFF */
        {"\xFF", 1},
    };
    const char *pre =
        "{\"v\":1,\"id\":\"e\",\"ts\":\"" TS_TEXT "\",\"type\":\"order.closed\",\"order_id\":\"";
    size_t pl = strlen(pre);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[256];
        memcpy(buf, pre, pl);
        memcpy(buf + pl, bad[i].bytes, bad[i].len);
        memcpy(buf + pl + bad[i].len, "\"}", 2);
        int rc = parse_raw(buf, pl + bad[i].len + 2);
        if (rc != OW_EINVAL) fail_msg("bad bytes #%zu accepted", i);
    }
    /* the messages say where */
    char buf[256];
    memcpy(buf, pre, pl);
    memcpy(buf + pl, "\xED\xA0\x80\"}", 5);
    assert_int_equal(parse_raw(buf, pl + 5), OW_EINVAL);
    char want[128];
    snprintf(want, sizeof want, "not a JSON object: invalid UTF-8 at byte offset %zu", pl);
    assert_string_equal(err.msg, want);
    memcpy(buf + pl, "o\0\"}", 4);
    assert_int_equal(parse_raw(buf, pl + 4), OW_EINVAL);
    snprintf(want, sizeof want,
             "not a JSON object: NUL byte at offset %zu: JSON text must not contain NUL", pl + 1);
    assert_string_equal(err.msg, want);
    /* a NUL right after the object is not "trailing whitespace" either */
    assert_int_equal(parse_raw(valid_line, sizeof valid_line), OW_EINVAL);
}

static void test_duplicates_and_shapes(void **state)
{
    (void)state;
    expect_msg(parse_ev("order.closed", "'order_id':'o-1','order_id':'o-2'"), "duplicate key",
               "not a JSON object: duplicate key \"order_id\": each key may appear once");
    assert_int_equal(
        parse_q("{'v':1,'v':1,'id':'e','ts':'" TS_TEXT "','type':'order.closed','order_id':'o'}"),
        OW_EINVAL);
    /* keys are case-sensitive: "Order_id" is an unknown extra field, order_id is still missing */
    expect_msg(parse_ev("order.closed", "'Order_id':'o'"), "case-different key",
               "order.closed: field \"order_id\" is required");

    expect_msg(parse_q("[1,2]"), "array", "expected a JSON object, got array");
    expect_msg(parse_q("'order.closed'"), "string", "expected a JSON object, got string");
    expect_msg(parse_q("42"), "number", "expected a JSON object, got number");
    expect_msg(parse_q("null"), "null", "expected a JSON object, got null");
    assert_int_equal(parse_raw("", 0), OW_EINVAL);
    assert_string_equal(err.msg, "not a JSON object: empty input: expected a JSON value");

    /* trailing garbage, and trailing whitespace that is fine */
    char buf[512];
    snprintf(buf, sizeof buf, "%s x", valid_line);
    assert_int_equal(parse_raw(buf, strlen(buf)), OW_EINVAL);
    snprintf(buf, sizeof buf, "%s{}", valid_line);
    assert_int_equal(parse_raw(buf, strlen(buf)), OW_EINVAL);
    snprintf(buf, sizeof buf, "%s\r\n", valid_line);
    expect_ok(parse_raw(buf, strlen(buf)), "CRLF after the object");
    snprintf(buf, sizeof buf, " \t%s \t", valid_line);
    expect_ok(parse_raw(buf, strlen(buf)), "blanks around the object");
    /* only len bytes are read: what follows in the buffer does not matter */
    snprintf(buf, sizeof buf, "%sGARBAGE", valid_line);
    expect_ok(parse_raw(buf, strlen(valid_line)), "len excludes the garbage");
}

static void test_unknown_fields_ignored(void **state)
{
    (void)state;
    expect_ok(parse_ev("order.dispatched", "'order_id':'o-1','tech_id':'t-1'"), "plain");
    static ow_event plain;
    memcpy(&plain, &ev, sizeof ev);
    expect_ok(parse_ev("order.dispatched",
                       "'order_id':'o-1','tech_id':'t-1','extra':{'a':[1,2,{'b':null}]},"
                       "'source':'app','priority':'not-an-enum','eta_s':'x','category':7,"
                       "'region':'east'"),
              "with extras");
    /* fields this type does not define are not validated and not decoded */
    assert_memory_equal(&plain, &ev, sizeof ev);
    assert_string_equal(ev.region, "");
}

static void test_address_normalisation(void **state)
{
    (void)state;
    const char *base = "'order_id':'o','priority':'general','category':'c','region':'r',";
    char body[512];
    snprintf(body, sizeof body, "%s'address':'12 Main St.'", base);
    expect_ok(parse_ev("order.created", body), "12 Main St.");
    uint64_t a = ev.address_key;
    snprintf(body, sizeof body, "%s'address':'12 main st'", base);
    expect_ok(parse_ev("order.created", body), "12 main st");
    assert_true(ev.has_address);
    assert_true(ev.address_key == a);
    snprintf(body, sizeof body, "%s'address':'  12, MAIN-st!! '", base);
    expect_ok(parse_ev("order.created", body), "punctuated");
    assert_true(ev.address_key == a);
    snprintf(body, sizeof body, "%s'address':'13 Main St.'", base);
    expect_ok(parse_ev("order.created", body), "13 Main St.");
    assert_true(ev.address_key != a);

    /* the rule itself: folds ASCII case, drops whitespace and ASCII punctuation, keeps the rest */
    assert_true(ow_address_key("12 Main St.", 11) == ow_address_key("12mainst", 8));
    assert_true(ow_address_key("12 Main St.", 11) != ow_address_key("12mainstr", 9));
    const char *zh1 = "\xE5\x8C\x97\xE4\xBA\xAC\xE5\xB8\x82 \xE6\x9C\x9D\xE9\x98\xB3\xE5\x8C\xBA";
    const char *zh2 = "\xE5\x8C\x97\xE4\xBA\xAC\xE5\xB8\x82\xE6\x9C\x9D\xE9\x98\xB3\xE5\x8C\xBA";
    assert_true(ow_address_key(zh1, strlen(zh1)) == ow_address_key(zh2, strlen(zh2)));
    /* full-width characters are not ASCII and are kept */
    assert_true(ow_address_key("\xEF\xBC\x91", 3) != ow_address_key("1", 1));
    /* all punctuation: same as empty */
    assert_true(ow_address_key(" .,;-_/ ", 8) == ow_address_key("", 0));
}

static void test_error_is_optional(void **state)
{
    (void)state;
    /* a NULL ow_err is allowed: the code still comes back */
    assert_int_equal(ow_event_parse("[]", 2, &ev, NULL), OW_EINVAL);
    assert_int_equal(ow_event_parse("{}", 2, &ev, NULL), OW_EINVAL);
    assert_int_equal(ow_event_parse(valid_line, strlen(valid_line), &ev, NULL), OW_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_covers_every_type),
        cmocka_unit_test(test_required_only_parses),
        cmocka_unit_test(test_required_missing),
        cmocka_unit_test(test_envelope_missing),
        cmocka_unit_test(test_full_order_created),
        cmocka_unit_test(test_enum_values),
        cmocka_unit_test(test_full_order_lifecycle_types),
        cmocka_unit_test(test_full_other_types),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_enum_wrong),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_id_lengths),
        cmocka_unit_test(test_control_characters),
        cmocka_unit_test(test_lat_lon_pairs),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_ts_valid),
        cmocka_unit_test(test_ts_invalid),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_nul_and_utf8),
        cmocka_unit_test(test_duplicates_and_shapes),
        cmocka_unit_test(test_unknown_fields_ignored),
        cmocka_unit_test(test_address_normalisation),
        cmocka_unit_test(test_error_is_optional),
    };
    return cmocka_run_group_tests_name("event", tests, NULL, NULL);
}

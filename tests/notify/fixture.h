/* What the delivery tests share: a valid config built around a route tree, and alert JSON. */
#ifndef OW_TEST_NOTIFY_FIXTURE_H
#define OW_TEST_NOTIFY_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nalert.h"
#include "nconfig.h"

#define T0 INT64_C(1795309200000) /* 2026-11-22T01:00:00Z, a Sunday (09:00 in +08:00) */

static const char fx_templates[] =
    "\"templates\":{"
    "\"zh\":{\"firing\":\"L{{level}} {{region}} {{count}}条\",\"resolved\":\"已恢复 {{count}}\","
    "\"alert\":\"- {{subject}} {{late}} {{who}} {{link}}\",\"resolved_alert\":\"- "
    "{{subject}}\",\"flag\":\"- {{flag}}\","
    "\"late\":\"超时{{d}}\","
    "\"due\":\"还有{{d}}\",\"acked\":\"{{by}}已跟进\",\"unacked\":\"请{{on_call}}处理\","
    "\"more\":\"另有{{n}}条\"},"
    "\"en\":{\"firing\":\"L{{level}} {{region}}: {{count}} ({{new}} new)\","
    "\"resolved\":\"resolved {{region}}: {{count}}\","
    "\"alert\":\"- {{subject}} {{stage}} {{pct}}% of {{target}}, {{late}}; {{who}} {{link}}\","
    "\"resolved_alert\":\"- {{subject}} {{stage}} resolved\",\"flag\":\"- [{{flag}}] {{summary}}; "
    "{{who}}\","
    "\"late\":\"{{d}} overdue\",\"due\":\"due in {{d}}\",\"acked\":\"{{by}} is on it\","
    "\"unacked\":\"{{on_call}} to act\",\"more\":\"and {{n}} more\"}}";

/* A config: receivers a (webhook, en), b (dingtalk, zh), s (stream); the given route and inhibit
 * texts. Returns the parsed config or fails the test. */
static inline ow_nconfig *fx_config(const char *route, const char *inhibit)
{
    char *text = malloc(16384);
    snprintf(
        text, 16384,
        "{\"viewer_url\":\"http://v/\",\"receivers\":["
        "{\"name\":\"a\",\"type\":\"webhook\",\"url\":\"http://127.0.0.1:1/a\",\"lang\":\"en\","
        "\"on_call\":\"desk\",\"max_alerts\":3},"
        "{\"name\":\"b\",\"type\":\"dingtalk\",\"url\":\"https://x.example/b\"},"
        "{\"name\":\"s\",\"type\":\"stream\"}],"
        "\"route\":%s,\"inhibit\":%s,%s}",
        route, inhibit ? inhibit : "[]", fx_templates);
    ow_nconfig *c = NULL;
    ow_err err;
    if (ow_nconfig_parse(text, strlen(text), "t.json", &c, &err)) {
        fprintf(stderr, "fixture config refused: %s\n", err.msg);
        abort();
    }
    free(text);
    return c;
}

/* An SLA alert in the engine's format; at in ms. */
static inline ow_nalert *fx_alert(const char *order, const char *region, int level, int64_t at,
                                  const char *extra)
{
    char text[1024], when[64];
    time_t secs = (time_t)(at / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    int pct = level == 3 ? 150 : level == 2 ? 100 : level == 1 ? 80 : 50;
    snprintf(text, sizeof text,
             "{\"id\":\"sla:%s:dispatch:1:%d\",\"kind\":\"sla\",\"level\":%d,\"at\":\"%s.%03dZ\","
             "\"region\":\"%s\",\"stage\":\"dispatch\",\"order_id\":\"%s\",\"pct\":%d,"
             "\"target_s\":300%s}",
             order, pct, level, when, (int)(at % 1000), region, order, pct, extra ? extra : "");
    ow_nalert *a = NULL;
    ow_err err;
    if (ow_nalert_parse(text, strlen(text), &a, &err)) {
        fprintf(stderr, "fixture alert refused: %s\n", err.msg);
        abort();
    }
    return a;
}

#endif

/*
 * sim_check — test tool: reads NDJSON events on stdin, checks every line with the event codec
 * (ow_event_parse) and prints one JSON summary on stdout:
 *
 *   {"lines":104,"events":103,"duplicates":1,"invalid":0,"out_of_order":4,"techs":5,
 *    "by_type":{"order.created":10,...},"open":{"emergency":1,"important":2,"general":3,"total":6}}
 *
 * Counts per type are of distinct events (a repeated id counts once). "open" applies the rule of
 * assets/cities/sample/README.md: an order is open when it was created and its latest
 * resolved/closed/cancelled ts is absent or earlier than its latest reopened ts.
 *
 * Exits 1 when a line fails the codec, an id comes back with different text, or a requested
 * check fails:
 *   --expect FILE      lines, events, duplicates.count, by_type and open must equal FILE's
 *   --all-types        every event type occurs
 *   --max-techs N      at most N distinct technicians
 *   --surge MIN:N      some MIN-minute window has >= N emergency orders from distinct addresses
 *   --evening-peak     orders created 18:00-22:00 (city time) per hour > 1.3x those of 08:00-18:00
 *   --zone-min M       city time is UTC + M minutes for --evening-peak (default 480)
 *   --min-late N       at least N lines arrive after a line with a later ts
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "event.h"
#include "map.h"

typedef struct order_state {
    bool created;
    ow_priority prio;
    int64_t last_end, last_reopen; /* INT64_MIN when none */
} order_state;

typedef struct created_rec {
    int64_t ts;
    uint64_t address_key;
    bool has_address;
} created_rec;

static int cmp_created(const void *a, const void *b)
{
    const created_rec *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = '\0';
    fclose(f);
    return buf;
}

static int expect_num(const cJSON *obj, const char *key, int64_t got, const char *what)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v)) {
        fprintf(stderr, "sim_check: expected file: %s: missing number \"%s\"\n", what, key);
        return 1;
    }
    if ((int64_t)v->valuedouble != got) {
        fprintf(stderr, "sim_check: %s%s%s: expected %lld, got %lld\n", what, *what ? "." : "", key,
                (long long)v->valuedouble, (long long)got);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *expect_path = NULL;
    bool all_types = false, evening_peak = false;
    long max_techs = -1, surge_min = 0, surge_n = 0, min_late = -1, zone_min = 480;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--all-types"))
            all_types = true;
        else if (!strcmp(a, "--evening-peak"))
            evening_peak = true;
        else if (v && !strcmp(a, "--expect"))
            expect_path = v, i++;
        else if (v && !strcmp(a, "--max-techs"))
            max_techs = atol(v), i++;
        else if (v && !strcmp(a, "--min-late"))
            min_late = atol(v), i++;
        else if (v && !strcmp(a, "--zone-min"))
            zone_min = atol(v), i++;
        else if (v && !strcmp(a, "--surge") && sscanf(v, "%ld:%ld", &surge_min, &surge_n) == 2)
            i++;
        else {
            fprintf(stderr, "sim_check: unknown or incomplete option %s\n", a);
            return 2;
        }
    }

    ow_map ids, orders, techs;
    ow_map_init(&ids);
    ow_map_init(&orders);
    ow_map_init(&techs);
    ow_event *ev = malloc(sizeof *ev);
    int64_t lines = 0, events = 0, dups = 0, invalid = 0, conflicts = 0, late = 0;
    int64_t by_type[OW_EV__COUNT] = {0}, max_ts = INT64_MIN;
    int64_t per_hour[24] = {0};
    created_rec *created = NULL;
    size_t ncreated = 0, capcreated = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        lines++;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        ow_err err;
        if (ow_event_parse(line, len, ev, &err)) {
            if (invalid++ < 10)
                fprintf(stderr, "sim_check: line %lld: %s\n", (long long)lines, err.msg);
            continue;
        }
        if (ev->ts_ms < max_ts) late++;
        if (ev->ts_ms > max_ts) max_ts = ev->ts_ms;
        char *seen = ow_map_get(&ids, ev->id);
        if (seen) {
            dups++;
            if (strlen(seen) != len || memcmp(seen, line, len) != 0) {
                if (conflicts++ < 10)
                    fprintf(stderr, "sim_check: line %lld: id %s seen before with other text\n",
                            (long long)lines, ev->id);
            }
            continue;
        }
        char *copy = malloc(len + 1);
        memcpy(copy, line, len);
        copy[len] = '\0';
        ow_map_put(&ids, ev->id, copy);
        events++;
        by_type[ev->type]++;
        if (ev->type == OW_EV_TECH_STATUS || ev->type == OW_EV_TECH_LOCATION)
            ow_map_put(&techs, ev->tech_id, &techs);
        if (!ow_event_is_order(ev->type)) continue;
        order_state *o = ow_map_get(&orders, ev->order_id);
        if (!o) {
            o = calloc(1, sizeof *o);
            o->last_end = o->last_reopen = INT64_MIN;
            ow_map_put(&orders, ev->order_id, o);
        }
        switch (ev->type) {
        case OW_EV_ORDER_CREATED: {
            o->created = true;
            o->prio = ev->priority;
            int64_t local = ev->ts_ms + zone_min * 60000;
            per_hour[((local / 3600000) % 24 + 24) % 24]++;
            if (ev->priority == OW_PRIO_EMERGENCY) {
                if (ncreated == capcreated) {
                    capcreated = capcreated ? 2 * capcreated : 256;
                    created = realloc(created, capcreated * sizeof *created);
                }
                created[ncreated++] = (created_rec){ev->ts_ms, ev->address_key, ev->has_address};
            }
            break;
        }
        case OW_EV_ORDER_RESOLVED:
        case OW_EV_ORDER_CLOSED:
        case OW_EV_ORDER_CANCELLED:
            if (ev->ts_ms > o->last_end) o->last_end = ev->ts_ms;
            break;
        case OW_EV_ORDER_REOPENED:
            if (ev->ts_ms > o->last_reopen) o->last_reopen = ev->ts_ms;
            break;
        default: break;
        }
    }
    free(line);

    int64_t open[OW_PRIO__COUNT] = {0}, open_total = 0;
    size_t pos = 0;
    const char *key;
    void *val;
    while (ow_map_next(&orders, &pos, &key, &val)) {
        order_state *o = val;
        if (o->created && (o->last_end == INT64_MIN || o->last_end < o->last_reopen)) {
            open[o->prio]++;
            open_total++;
        }
    }

    printf("{\"lines\":%lld,\"events\":%lld,\"duplicates\":%lld,\"invalid\":%lld,"
           "\"out_of_order\":%lld,\"techs\":%zu,\"by_type\":{",
           (long long)lines, (long long)events, (long long)dups, (long long)invalid,
           (long long)late, techs.len);
    for (int t = 0; t < OW_EV__COUNT; t++)
        printf("%s\"%s\":%lld", t ? "," : "", ow_event_type_name((ow_event_type)t),
               (long long)by_type[t]);
    printf("},\"open\":{\"emergency\":%lld,\"important\":%lld,\"general\":%lld,\"total\":%lld}}\n",
           (long long)open[0], (long long)open[1], (long long)open[2], (long long)open_total);

    int fail = invalid > 0 || conflicts > 0;
    if (invalid) fprintf(stderr, "sim_check: %lld invalid lines\n", (long long)invalid);
    if (all_types)
        for (int t = 0; t < OW_EV__COUNT; t++)
            if (!by_type[t]) {
                fprintf(stderr, "sim_check: no %s event\n", ow_event_type_name((ow_event_type)t));
                fail = 1;
            }
    if (max_techs >= 0 && (long)techs.len > max_techs) {
        fprintf(stderr, "sim_check: %zu technicians, expected at most %ld\n", techs.len, max_techs);
        fail = 1;
    }
    if (min_late >= 0 && late < min_late) {
        fprintf(stderr, "sim_check: %lld lines out of order, expected at least %ld\n",
                (long long)late, min_late);
        fail = 1;
    }
    if (surge_n > 0) {
        qsort(created, ncreated, sizeof *created, cmp_created);
        size_t best = 0;
        for (size_t i = 0; i < ncreated; i++) { /* window starting at order i */
            size_t distinct = 0;
            for (size_t j = i; j < ncreated && created[j].ts - created[i].ts <= surge_min * 60000;
                 j++) {
                bool dup = !created[j].has_address;
                for (size_t k = i; k < j && !dup; k++)
                    dup =
                        created[k].has_address && created[k].address_key == created[j].address_key;
                distinct += !dup;
            }
            if (distinct > best) best = distinct;
        }
        if (best < (size_t)surge_n) {
            fprintf(stderr,
                    "sim_check: at most %zu emergency orders from distinct addresses in %ld "
                    "minutes, expected %ld\n",
                    best, surge_min, surge_n);
            fail = 1;
        }
    }
    if (evening_peak) {
        double evening = 0, day = 0;
        for (int h = 18; h < 22; h++)
            evening += (double)per_hour[h];
        for (int h = 8; h < 18; h++)
            day += (double)per_hour[h];
        if (!(evening / 4 > 1.3 * day / 10)) {
            fprintf(stderr, "sim_check: no evening peak: %.1f orders/h 18-22 vs %.1f 08-18\n",
                    evening / 4, day / 10);
            fail = 1;
        }
    }
    if (expect_path) {
        char *text = read_file(expect_path);
        cJSON *x = text ? cJSON_Parse(text) : NULL;
        if (!x) {
            fprintf(stderr, "sim_check: cannot read %s as JSON\n", expect_path);
            fail = 1;
        } else {
            fail |= expect_num(x, "lines", lines, "");
            fail |= expect_num(x, "events", events, "");
            fail |= expect_num(cJSON_GetObjectItemCaseSensitive(x, "duplicates"), "count", dups,
                               "duplicates");
            const cJSON *bt = cJSON_GetObjectItemCaseSensitive(x, "by_type");
            for (int t = 0; t < OW_EV__COUNT; t++)
                fail |= expect_num(bt, ow_event_type_name((ow_event_type)t), by_type[t], "by_type");
            const cJSON *op = cJSON_GetObjectItemCaseSensitive(x, "open");
            for (int p = 0; p < OW_PRIO__COUNT; p++)
                fail |= expect_num(op, ow_priority_name((ow_priority)p), open[p], "open");
            fail |= expect_num(op, "total", open_total, "open");
        }
        cJSON_Delete(x);
        free(text);
    }

    pos = 0;
    while (ow_map_next(&ids, &pos, &key, &val))
        free(val);
    pos = 0;
    while (ow_map_next(&orders, &pos, &key, &val))
        free(val);
    ow_map_fini(&ids);
    ow_map_fini(&orders);
    ow_map_fini(&techs);
    free(created);
    free(ev);
    return fail ? 1 : 0;
}

/*
 * latency — from an event appended to Redis to the engine's published picture containing it.
 *
 * A producer appends order.created events through ingest's Redis Function (ow_ingest, io/batch.h)
 * at a steady rate; a subscriber reads every delta the engine publishes and, from its "stream_last"
 * (the last stream entry the picture reflects), marks the events it now contains. Prints one JSON
 * line with p50/p99/max over all events, and how many never showed up.
 *
 *   latency RATE SECONDS          (Redis from OPSWALL_REDIS_URL; an engine must be running)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "files.h"
#include "batch.h"
#include "functions.h"
#include "keys.h"
#include "redis.h"
#include <cjson/cJSON.h>

typedef struct sent {
    uint64_t ms, seq; /* stream id */
    int64_t appended; /* µs, monotonic */
    int64_t seen;     /* µs, 0 = not yet */
} sent;

static sent *log_;
static size_t nlog, caplog, first_unseen;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile int done;

static void parse_id(const char *s, uint64_t *ms, uint64_t *seq)
{
    *ms = strtoull(s, NULL, 10);
    const char *dash = strchr(s, '-');
    *seq = dash ? strtoull(dash + 1, NULL, 10) : 0;
}

static void *subscriber(void *arg)
{
    redisContext *c = arg;
    redisReply *r = redisCommand(c, "SUBSCRIBE %s", OW_CHAN_DELTAS);
    if (r) freeReplyObject(r);
    while (!done) {
        if (redisGetReply(c, (void **)&r) != REDIS_OK) break;
        int64_t now = ow_clock_mono_us();
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[2]->str) {
            cJSON *j = cJSON_Parse(r->element[2]->str);
            const cJSON *set = cJSON_GetObjectItemCaseSensitive(j, "set");
            const cJSON *last = cJSON_GetObjectItemCaseSensitive(set, "stream_last");
            if (cJSON_IsString(last)) {
                uint64_t ms, seq;
                parse_id(last->valuestring, &ms, &seq);
                pthread_mutex_lock(&mu);
                while (first_unseen < nlog &&
                       (log_[first_unseen].ms < ms ||
                        (log_[first_unseen].ms == ms && log_[first_unseen].seq <= seq)))
                    log_[first_unseen++].seen = now;
                pthread_mutex_unlock(&mu);
            }
            cJSON_Delete(j);
        }
        freeReplyObject(r);
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int rate = argc > 1 ? atoi(argv[1]) : 20000, secs = argc > 2 ? atoi(argv[2]) : 10;
    ow_config cfg;
    ow_err err;
    ow_redis_env env;
    if (ow_config_load(&cfg, NULL, &err) || !cfg.redis.url[0] ||
        ow_redis_env_open(&cfg, &env, &err)) {
        fprintf(stderr, "latency: set OPSWALL_REDIS_URL to the engine's Redis (%s)\n", err.msg);
        return 2;
    }
    redisContext *pub = ow_redis_connect(&env, &err), *sub = ow_redis_connect(&env, &err);
    if (!pub || !sub || ow_functions_load(pub, &err)) {
        fprintf(stderr, "latency: %s\n", err.msg);
        return 1;
    }
    pthread_t th;
    pthread_create(&th, NULL, subscriber, sub);
    const int tick_ms = 5, per_tick = rate * tick_ms / 1000;
    cfg.ingest.dedup_window_ms = 600000;
    ow_batch batch;
    ow_batch_init(&batch);
    char line[400];
    int64_t start = ow_clock_mono_us();
    long n = 0;
    for (int tick = 0; tick < secs * 1000 / tick_ms; tick++) {
        int64_t due = start + (int64_t)tick * tick_ms * 1000;
        while (ow_clock_mono_us() < due)
            ow_sleep_ms(1);
        int64_t wall = ow_clock_wall_ms();
        char ts[64];
        time_t t = (time_t)(wall / 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
        ow_batch_start(&batch, &cfg);
        for (int i = 0; i < per_tick; i++) {
            char id[32];
            snprintf(id, sizeof id, "lat-%ld", n + i);
            int len = snprintf(line, sizeof line,
                               "{\"v\":1,\"id\":\"%s\",\"ts\":\"%s.%03dZ\",\"type\":"
                               "\"order.created\",\"order_id\":\"L%ld\",\"priority\":\"general\","
                               "\"category\":\"drain\",\"region\":\"north\"}",
                               id, ts, (int)(wall % 1000), n + i);
            ow_batch_add_event(&batch, id, line, (size_t)len);
        }
        size_t cmdlen;
        const char *cmd = ow_batch_command(&batch, &cmdlen);
        redisReply *r = NULL;
        if (cmd && redisAppendFormattedCommand(pub, cmd, cmdlen) == REDIS_OK)
            redisGetReply(pub, (void **)&r);
        int64_t appended = ow_clock_mono_us();
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            fprintf(stderr, "latency: append failed\n");
            return 1;
        }
        pthread_mutex_lock(&mu);
        for (size_t i = 0; i < r->elements; i++) {
            if (r->element[i]->type != REDIS_REPLY_STRING) continue;
            if (nlog == caplog) {
                caplog = caplog ? caplog * 2 : 65536;
                log_ = realloc(log_, caplog * sizeof *log_);
            }
            sent *s = &log_[nlog++];
            parse_id(r->element[i]->str, &s->ms, &s->seq);
            s->appended = appended, s->seen = 0;
        }
        pthread_mutex_unlock(&mu);
        freeReplyObject(r);
        n += per_tick;
    }
    ow_sleep_ms(3000); /* let the tail show up */
    done = 1;
    pthread_mutex_lock(&mu);
    int64_t *lat = malloc((nlog + 1) * sizeof *lat);
    size_t m = 0, missing = 0;
    for (size_t i = 0; i < nlog; i++) {
        if (log_[i].seen)
            lat[m++] = log_[i].seen - log_[i].appended;
        else
            missing++;
    }
    pthread_mutex_unlock(&mu);
    qsort(lat, m, sizeof *lat, cmp_i64);
    double secs_run = (double)(ow_clock_mono_us() - start) / 1e6 - 3.0;
    printf(
        "{\"bench\":\"engine.latency\",\"rate\":%d,\"events\":%zu,\"achieved_per_s\":%.0f,"
        "\"missing\":%zu,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f,\"target_p99_ms\":50}\n",
        rate, nlog, (double)nlog / secs_run, missing, m ? lat[m / 2] / 1e3 : 0.0,
        m ? lat[m * 99 / 100] / 1e3 : 0.0, m ? lat[m - 1] / 1e3 : 0.0);
    fflush(stdout);
    _exit(0); /* the subscriber is blocked in a read: leave without joining it */
}

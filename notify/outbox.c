#include "outbox.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jsonw.h"
#include "timefmt.h"

#define NEVER INT64_MAX

static const char *const state_names[] = {"queued",    "sending", "retry",
                                          "delivered", "dead",    "unknown"};

const char *ow_send_state_name(ow_send_state s)
{
    return s >= 0 && s <= OW_SEND_UNKNOWN ? state_names[s] : "?";
}

struct ow_outbox {
    const ow_nconfig *cfg;
    ow_send **v; /* creation order */
    size_t n, cap;
    int keep;
    uint64_t rng, next_order;
    bool busy[OW_RECEIVERS_MAX];
    int64_t pace_ms[OW_RECEIVERS_MAX]; /* earliest next start per receiver */
    ow_outbox_stats st;
};

ow_outbox *ow_outbox_new(const ow_nconfig *cfg, uint64_t seed, int keep)
{
    ow_outbox *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->cfg = cfg;
    o->rng = seed | 1;
    o->keep = keep;
    return o;
}

static void send_free(ow_send *s)
{
    if (!s) return;
    ow_notice_fini(&s->n);
    free(s);
}

void ow_outbox_free(ow_outbox *o)
{
    if (!o) return;
    for (size_t i = 0; i < o->n; i++)
        send_free(o->v[i]);
    free(o->v);
    free(o);
}

static bool finished(const ow_send *s)
{
    return s->state >= OW_SEND_DELIVERED;
}

/* An error text into last_error: bytes that are not UTF-8 (a receiver's binary answer, a
 * character cut by the size) become '?', so the record stays JSON text that loads back. */
static void set_error(ow_send *s, const char *text)
{
    snprintf(s->last_error, sizeof s->last_error, "%s", text);
    size_t bad;
    while (!ow_json_utf8_valid(s->last_error, strlen(s->last_error), &bad))
        s->last_error[bad] = '?';
}

static void digest(ow_send *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *b = s->n.body ? s->n.body : "";
    unsigned char d[SHA256_DIGEST_LENGTH];
    s->body_bytes = strlen(b);
    SHA256((const unsigned char *)b, s->body_bytes, d);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        s->body_sha256[2 * i] = hex[d[i] >> 4];
        s->body_sha256[2 * i + 1] = hex[d[i] & 15];
    }
    s->body_sha256[64] = '\0';
}

/* A finished send is never sent again: its body (the largest part, up to OW_RENDER_BODY_MAX) goes;
 * its length and digest stay. */
static void drop_body(ow_send *s)
{
    free(s->n.body);
    s->n.body = NULL;
}

static ow_send *push(ow_outbox *o, ow_send *s)
{
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        ow_send **v = realloc(o->v, cap * sizeof *v);
        if (!v) return NULL;
        o->v = v;
        o->cap = cap;
    }
    s->order = o->next_order++;
    o->v[o->n++] = s;
    return s;
}

ow_send *ow_outbox_add(ow_outbox *o, ow_notice *n, int64_t now_ms)
{
    ow_send *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->n = *n;
    if (s->n.count < s->n.nalerts) s->n.count = s->n.nalerts;
    digest(s);
    s->state = OW_SEND_QUEUED;
    s->created_ms = s->updated_ms = s->next_ms = now_ms;
    if (!push(o, s)) {
        free(s);
        return NULL;
    }
    memset(n, 0, sizeof *n);
    return s;
}

static bool startable(const ow_outbox *o, const ow_send *s)
{
    return (s->state == OW_SEND_QUEUED || s->state == OW_SEND_RETRY) && !o->busy[s->n.receiver];
}

ow_send *ow_outbox_start(ow_outbox *o, int64_t now_ms)
{
    for (size_t i = 0; i < o->n; i++) {
        ow_send *s = o->v[i];
        if (!startable(o, s) || s->next_ms > now_ms || o->pace_ms[s->n.receiver] > now_ms) continue;
        const ow_receiver *rx = &o->cfg->receivers[s->n.receiver];
        o->busy[s->n.receiver] = true;
        o->pace_ms[s->n.receiver] = rx->rate_per_min ? now_ms + 60000 / rx->rate_per_min : 0;
        s->state = OW_SEND_SENDING;
        s->attempts++;
        s->updated_ms = now_ms;
        return s;
    }
    return NULL;
}

/* xorshift64*: the jitter's random source (seeded by the edge). */
static uint64_t next_rand(ow_outbox *o)
{
    o->rng ^= o->rng >> 12;
    o->rng ^= o->rng << 25;
    o->rng ^= o->rng >> 27;
    return o->rng * UINT64_C(2685821657736338717);
}

void ow_outbox_done(ow_outbox *o, ow_send *s, bool ok, bool retryable, int status,
                    const char *error, int64_t now_ms)
{
    const ow_receiver *rx = &o->cfg->receivers[s->n.receiver];
    o->busy[s->n.receiver] = false;
    s->updated_ms = now_ms;
    s->last_status = status;
    set_error(s, ok ? "" : error ? error : "failed");
    if (ok) {
        s->state = OW_SEND_DELIVERED;
        o->st.delivered++;
    } else if (!retryable || s->attempts >= rx->attempts) {
        s->state = OW_SEND_DEAD;
        o->st.dead++;
    } else {
        int64_t d = rx->backoff_ms;
        for (int i = 1; i < s->attempts && d < rx->backoff_max_ms; i++)
            d *= 2;
        if (d > rx->backoff_max_ms) d = rx->backoff_max_ms;
        int64_t half = d / 2;
        d = half + (int64_t)(next_rand(o) % (uint64_t)(d - half + 1));
        s->state = OW_SEND_RETRY;
        s->next_ms = now_ms + d;
        o->st.retries++;
    }
    if (finished(s)) drop_body(s);
}

int64_t ow_outbox_next_ms(const ow_outbox *o, int64_t now_ms)
{
    int64_t next = NEVER;
    for (size_t i = 0; i < o->n; i++) {
        const ow_send *s = o->v[i];
        if (!startable(o, s)) continue;
        int64_t t = s->next_ms;
        if (o->pace_ms[s->n.receiver] > t) t = o->pace_ms[s->n.receiver];
        if (t < next) next = t;
    }
    return next < now_ms ? now_ms : next;
}

void ow_outbox_trim(ow_outbox *o, void (*fn)(const char *id, void *arg), void *arg)
{
    size_t done = 0;
    for (size_t i = 0; i < o->n; i++)
        done += finished(o->v[i]);
    if (done <= (size_t)o->keep) return;
    size_t drop = done - (size_t)o->keep, k = 0;
    for (size_t i = 0; i < o->n; i++) {
        if (drop && finished(o->v[i])) {
            if (fn) fn(o->v[i]->n.id, arg);
            send_free(o->v[i]);
            drop--;
            continue;
        }
        o->v[k++] = o->v[i];
    }
    o->n = k;
}

char *ow_send_format(const ow_outbox *o, const ow_send *s)
{
    char c[OW_TIME_TEXT_MAX], u[OW_TIME_TEXT_MAX], nx[OW_TIME_TEXT_MAX];
    ow_time_format(s->created_ms, c);
    ow_time_format(s->updated_ms, u);
    ow_time_format(s->next_ms, nx);
    ow_jsonw w;
    ow_jsonw_init(&w);
    ow_jsonw_open(&w);
    ow_jsonw_key(&w, "id");
    ow_jsonw_str(&w, s->n.id);
    ow_jsonw_key(&w, "receiver");
    ow_jsonw_str(&w, o->cfg->receivers[s->n.receiver].name);
    ow_jsonw_key(&w, "state");
    ow_jsonw_str(&w, ow_send_state_name(s->state));
    ow_jsonw_key(&w, "resolved");
    ow_jsonw_raw(&w, s->n.resolved ? "true" : "false");
    ow_jsonw_key(&w, "group_key");
    ow_jsonw_str(&w, s->n.group_key ? s->n.group_key : "");
    ow_jsonw_key(&w, "alerts");
    ow_jsonw_raw(&w, "[");
    for (int i = 0; i < s->n.nalerts; i++) {
        if (i) ow_jsonw_raw(&w, ",");
        ow_jsonw_str(&w, s->n.alert_ids[i]);
    }
    ow_jsonw_raw(&w, "]");
    ow_jsonw_key(&w, "count");
    ow_jsonw_int(&w, s->n.count);
    ow_jsonw_key(&w, "attempts");
    ow_jsonw_int(&w, s->attempts);
    ow_jsonw_key(&w, "created_at");
    ow_jsonw_str(&w, c);
    ow_jsonw_key(&w, "created_ms");
    ow_jsonw_int(&w, s->created_ms);
    ow_jsonw_key(&w, "updated_at");
    ow_jsonw_str(&w, u);
    ow_jsonw_key(&w, "next_at");
    ow_jsonw_str(&w, nx);
    ow_jsonw_key(&w, "next_ms");
    ow_jsonw_int(&w, s->next_ms);
    ow_jsonw_key(&w, "last_status");
    ow_jsonw_int(&w, s->last_status);
    ow_jsonw_key(&w, "last_error");
    ow_jsonw_str(&w, s->last_error);
    ow_jsonw_key(&w, "text");
    ow_jsonw_str(&w, s->n.text ? s->n.text : "");
    ow_jsonw_key(&w, "body");
    ow_jsonw_str(&w, s->n.body ? s->n.body : "");
    ow_jsonw_key(&w, "body_bytes");
    ow_jsonw_int(&w, (int64_t)s->body_bytes);
    ow_jsonw_key(&w, "body_sha256");
    ow_jsonw_str(&w, s->body_sha256);
    ow_jsonw_close(&w);
    return ow_jsonw_take(&w);
}

static int load_fail(ow_err *err, const char *what)
{
    return ow_err_set(err, OW_EINVAL, "stored notification record: %s", what);
}

static char *dup_member(const cJSON *root, const char *key)
{
    const cJSON *v = ow_json_get(root, key);
    return cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
}

int ow_outbox_load(ow_outbox *o, const char *json, size_t len, ow_send **out, ow_err *err)
{
    if (out) *out = NULL;
    ow_err jerr;
    cJSON *root = ow_json_parse(json, len, 4, &jerr);
    if (!root) return ow_err_set(err, OW_EINVAL, "stored notification record: %s", jerr.msg);
    ow_send *s = calloc(1, sizeof *s);
    int rc = s ? OW_OK : OW_ENOMEM;
    const cJSON *id = ow_json_get(root, "id"), *rx = ow_json_get(root, "receiver"),
                *state = ow_json_get(root, "state"), *alerts = ow_json_get(root, "alerts"),
                *err_text = ow_json_get(root, "last_error");
    int64_t attempts = 0, created = 0, next = 0, status = 0, count = -1, bytes = -1;
    if (!rc &&
        (!cJSON_IsString(id) || !id->valuestring[0] || strlen(id->valuestring) >= sizeof s->n.id))
        rc = load_fail(err, "bad id");
    if (!rc &&
        (!cJSON_IsString(rx) || (s->n.receiver = ow_nconfig_receiver(o->cfg, rx->valuestring)) < 0))
        rc = load_fail(err, "its receiver is not in the configuration any more");
    int st = -1;
    for (int i = 0; !rc && i <= OW_SEND_UNKNOWN; i++)
        if (cJSON_IsString(state) && strcmp(state->valuestring, state_names[i]) == 0) st = i;
    if (!rc && st < 0) rc = load_fail(err, "bad state");
    if (!rc &&
        (!ow_json_int(ow_json_get(root, "attempts"), 0, 1000, &attempts) ||
         !ow_json_int(ow_json_get(root, "created_ms"), INT64_MIN, INT64_MAX, &created) ||
         !ow_json_int(ow_json_get(root, "next_ms"), INT64_MIN, INT64_MAX, &next) ||
         !ow_json_int(ow_json_get(root, "last_status"), -100000, 100000, &status) ||
         !cJSON_IsArray(alerts) || !cJSON_IsString(err_text) ||
         !cJSON_IsString(ow_json_get(root, "group_key")) ||
         !cJSON_IsString(ow_json_get(root, "text")) || !cJSON_IsString(ow_json_get(root, "body"))))
        rc = load_fail(err, "missing members");
    /* count, body_bytes, body_sha256: absent in records of earlier versions */
    const cJSON *cnt = ow_json_get(root, "count"), *bb = ow_json_get(root, "body_bytes"),
                *sha = ow_json_get(root, "body_sha256");
    if (!rc && ((cnt && !ow_json_int(cnt, 0, INT32_MAX, &count)) ||
                (bb && !ow_json_int(bb, 0, INT64_MAX, &bytes)) ||
                (sha && (!cJSON_IsString(sha) || strlen(sha->valuestring) != 64 ||
                         strspn(sha->valuestring, "0123456789abcdef") != 64))))
        rc = load_fail(err, "bad count, body_bytes or body_sha256");
    if (!rc) {
        snprintf(s->n.id, sizeof s->n.id, "%s", id->valuestring);
        s->n.resolved = cJSON_IsTrue(ow_json_get(root, "resolved"));
        s->n.group_key = dup_member(root, "group_key");
        s->n.text = dup_member(root, "text");
        s->n.body = dup_member(root, "body");
        int na = cJSON_GetArraySize(alerts);
        s->n.alert_ids = calloc((size_t)na + 1, sizeof *s->n.alert_ids);
        if (!s->n.group_key || !s->n.text || !s->n.body || !s->n.alert_ids) rc = OW_ENOMEM;
        for (const cJSON *a = alerts->child; !rc && a; a = a->next) {
            if (!cJSON_IsString(a))
                rc = load_fail(err, "bad alert id");
            else if (!(s->n.alert_ids[s->n.nalerts++] = strdup(a->valuestring)))
                rc = OW_ENOMEM;
        }
    }
    if (!rc) {
        s->state = (ow_send_state)st;
        s->attempts = (int)attempts;
        s->created_ms = s->updated_ms = created;
        s->next_ms = next;
        s->last_status = (int)status;
        set_error(s, err_text->valuestring);
        s->n.at_ms = created;
        s->n.count = count >= s->n.nalerts ? (int)count : s->n.nalerts;
        /* the digest of the body held, or (a finished record, "body":"") the one stored */
        if (s->n.body[0] || !sha || bytes < 0) {
            digest(s);
        } else {
            s->body_bytes = (size_t)bytes;
            snprintf(s->body_sha256, sizeof s->body_sha256, "%s", sha->valuestring);
        }
        if (s->state == OW_SEND_SENDING) {
            /* in flight when the last run stopped: the receiver may have it */
            if (o->cfg->receivers[s->n.receiver].idempotent) {
                s->state = OW_SEND_RETRY;
            } else {
                s->state = OW_SEND_UNKNOWN;
                snprintf(s->last_error, sizeof s->last_error,
                         "outcome unknown: the delivering process stopped during attempt %d; "
                         "not retried (the receiver is not idempotent)",
                         s->attempts);
                o->st.unknown++;
            }
        }
        if (finished(s)) drop_body(s);
        if (!push(o, s)) rc = OW_ENOMEM;
    }
    cJSON_Delete(root);
    if (rc) {
        if (rc == OW_ENOMEM) ow_err_set(err, OW_ENOMEM, "out of memory");
        send_free(s);
        return rc;
    }
    if (out) *out = s;
    return OW_OK;
}

void ow_outbox_each(const ow_outbox *o, int64_t since_ms, bool (*fn)(const ow_send *s, void *arg),
                    void *arg)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->v[i]->created_ms >= since_ms && !fn(o->v[i], arg)) return;
}

ow_outbox_stats ow_outbox_stats_get(const ow_outbox *o)
{
    ow_outbox_stats st = o->st;
    st.waiting = st.in_flight = 0;
    for (size_t i = 0; i < o->n; i++) {
        st.waiting += o->v[i]->state == OW_SEND_QUEUED || o->v[i]->state == OW_SEND_RETRY;
        st.in_flight += o->v[i]->state == OW_SEND_SENDING;
    }
    return st;
}

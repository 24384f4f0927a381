#include "batch.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "keys.h"

#define HEADER_ROOM 24 /* "*<argc>\r\n" goes here once the count is known */

void ow_batch_init(ow_batch *b)
{
    memset(b, 0, sizeof *b);
    ow_buf_init(&b->buf);
}

void ow_batch_fini(ow_batch *b)
{
    ow_buf_fini(&b->buf);
    EVP_MD_CTX_free(b->sha);
    EVP_MD_free(b->sha256);
    b->sha = NULL;
    b->sha256 = NULL;
}

/* A fetched digest and a reused context cost ~180 ns per id; OpenSSL 3's one-shot SHA256() looks
 * the algorithm up on every call (~800 ns), which would be half of ingest's own time per event. */
void ow_batch_id_key(ow_batch *b, const char *id, unsigned char out[OW_ID_DIGEST_BYTES])
{
    size_t n = strlen(id);
    unsigned char full[SHA256_DIGEST_LENGTH];
    if (!b->sha256) {
        b->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
        if (b->sha256 && !b->sha) b->sha = EVP_MD_CTX_new();
    }
    unsigned int len = 0;
    if (!b->sha || !EVP_DigestInit_ex2(b->sha, b->sha256, NULL) ||
        !EVP_DigestUpdate(b->sha, id, n) || !EVP_DigestFinal_ex(b->sha, full, &len))
        SHA256((const unsigned char *)id, n, full); /* the same digest, the slow way */
    memcpy(out, full, OW_ID_DIGEST_BYTES);
}

/* Decimal digits of v at the end of out[0..24); returns where they start. (snprintf was a tenth
 * of ingest's time: every argument needs a length.) */
static char *digits(uint64_t v, char *end)
{
    char *p = end;
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    return p;
}

static void arg(ow_batch *b, const char *s, size_t n)
{
    char head[32], *end = head + sizeof head - 2;
    char *p = digits(n, end);
    *--p = '$';
    end[0] = '\r', end[1] = '\n';
    ow_buf_put(&b->buf, p, (size_t)(end + 2 - p));
    ow_buf_put(&b->buf, s, n);
    ow_buf_put(&b->buf, "\r\n", 2);
    b->args++;
}

static void arg_str(ow_batch *b, const char *s)
{
    arg(b, s, strlen(s));
}

static void arg_int(ow_batch *b, int64_t v)
{
    char num[24], *end = num + sizeof num;
    char *p = digits(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, end);
    if (v < 0) *--p = '-';
    arg(b, p, (size_t)(end - p));
}

void ow_batch_start(ow_batch *b, const ow_config *cfg)
{
    b->buf.n = 0;
    b->buf.oom = false;
    b->items = b->events = b->args = 0;
    static const char room[HEADER_ROOM] = {0};
    ow_buf_put(&b->buf, room, sizeof room);
    int64_t buckets = cfg->ingest.dedup_buckets;
    int64_t bucket_ms = cfg->ingest.dedup_window_ms / buckets;
    arg_str(b, "FCALL");
    arg_str(b, OW_FUNCTION_INGEST);
    arg_str(b, "3");
    arg_str(b, OW_KEY_EVENTS);
    arg_str(b, OW_KEY_DEDUP_PREFIX);
    arg_str(b, OW_KEY_REJECTS);
    arg_int(b, bucket_ms > 0 ? bucket_ms : 1);
    arg_int(b, buckets);
    arg_int(b, cfg->streams.events_maxlen);
    arg_int(b, cfg->streams.rejects_maxlen);
}

void ow_batch_add_event(ow_batch *b, const char *id, const char *raw, size_t len)
{
    unsigned char key[OW_ID_DIGEST_BYTES];
    ow_batch_id_key(b, id, key);
    arg(b, (const char *)key,
        sizeof key); /* never empty: an empty first argument starts a reject */
    arg(b, raw, len);
    b->items++;
    b->events++;
}

void ow_batch_add_reject(ow_batch *b, const char *reason, const char *source, int64_t pos,
                         const char *raw, size_t len)
{
    arg(b, "", 0);
    arg_str(b, reason);
    arg_str(b, source);
    arg_int(b, pos);
    arg(b, raw, len);
    b->items++;
}

const char *ow_batch_command(ow_batch *b, size_t *len)
{
    if (b->buf.oom || b->buf.n < HEADER_ROOM) return NULL;
    char head[HEADER_ROOM];
    int h = snprintf(head, sizeof head, "*%zu\r\n", b->args);
    char *start = b->buf.p + HEADER_ROOM - h;
    memcpy(start, head, (size_t)h);
    *len = b->buf.n - (HEADER_ROOM - (size_t)h);
    return start;
}

int ow_batch_reply_check(const redisReply *r, size_t n, ow_err *err)
{
    if (!r) return ow_err_set(err, OW_EREDIS, "no reply (connection lost)");
    if (r->type == REDIS_REPLY_ERROR)
        return ow_err_set(err, OW_EREDIS, "Redis refused %zu items: %.*s", n, (int)r->len, r->str);
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n)
        return ow_err_set(err, OW_EREDIS, "unexpected reply to %zu items (type %d, %zu elements)",
                          n, r->type, r->type == REDIS_REPLY_ARRAY ? r->elements : 0);
    for (size_t i = 0; i < n; i++) {
        int t = r->element[i]->type;
        if (t != REDIS_REPLY_STRING && t != REDIS_REPLY_INTEGER)
            return ow_err_set(err, OW_EREDIS, "unexpected reply for item %zu (type %d)", i, t);
    }
    return OW_OK;
}

bool ow_batch_reply_item(const redisReply *r, size_t i, const char **id)
{
    const redisReply *e = r->element[i];
    if (e->type != REDIS_REPLY_STRING) return false;
    *id = e->str;
    return true;
}

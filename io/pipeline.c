#include "pipeline.h"

#include <errno.h>
#include <hiredis/sds.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fence.h"
#include "redis.h"

/* The skipping reader: every reply object is this sentinel, nothing is allocated. Errors are
 * copied out (the reader's privdata is the pipeline). */
static char sentinel;

static void *skip_string(const redisReadTask *task, char *str, size_t len)
{
    ow_pipeline *p = task->privdata;
    if (task->type == REDIS_REPLY_ERROR && p && !p->failed) {
        p->failed = true;
        snprintf(p->error, sizeof p->error, "%.*s", (int)(len < 200 ? len : 200), str);
    }
    return &sentinel;
}

static void *skip_array(const redisReadTask *task, int elements)
{
    (void)task, (void)elements;
    return &sentinel;
}

static void *skip_integer(const redisReadTask *task, long long value)
{
    (void)task, (void)value;
    return &sentinel;
}

static void *skip_nil(const redisReadTask *task)
{
    (void)task;
    return &sentinel;
}

static void skip_free(void *obj)
{
    (void)obj;
}

static redisReplyObjectFunctions skip_fns = {skip_string, skip_array, skip_integer, skip_nil,
                                             skip_free};

/* The arena reader: reply objects carved from the pipeline's blocks, linked into their parent
 * array as hiredis's own functions do; freeing is resetting the blocks. */
#define BLOCK_MIN (256 * 1024)

static void *arena_alloc(ow_pipeline *p, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (p->nblocks) {
        ow_pipeline_block *b = &p->blocks[p->nblocks - 1];
        if (b->cap - b->used >= n) {
            void *at = b->p + b->used;
            b->used += n;
            return at;
        }
    }
    /* the next block: a kept one when large enough, else a new one in its place */
    if (p->nblocks == p->ncap) {
        size_t cap = p->ncap ? p->ncap * 2 : 8;
        ow_pipeline_block *v = realloc(p->blocks, cap * sizeof *v);
        if (!v) return NULL;
        memset(v + p->ncap, 0, (cap - p->ncap) * sizeof *v);
        p->blocks = v;
        p->ncap = cap;
    }
    ow_pipeline_block *b = &p->blocks[p->nblocks];
    if (b->cap < n) {
        size_t cap = n > BLOCK_MIN ? n : BLOCK_MIN;
        char *m = malloc(cap);
        if (!m) return NULL;
        free(b->p);
        b->p = m;
        b->cap = cap;
    }
    p->nblocks++;
    b->used = n;
    return b->p;
}

static void arena_reset(ow_pipeline *p)
{
    for (size_t i = 0; i < p->nblocks; i++)
        p->blocks[i].used = 0;
    p->nblocks = 0;
}

static redisReply *arena_reply(const redisReadTask *task, int type)
{
    ow_pipeline *p = task->privdata;
    redisReply *r = arena_alloc(p, sizeof *r);
    if (!r) {
        p->oom = true;
        return NULL;
    }
    memset(r, 0, sizeof *r);
    r->type = type;
    if (task->parent) {
        redisReply *parent = task->parent->obj;
        parent->element[task->idx] = r;
    }
    return r;
}

static void *arena_string(const redisReadTask *task, char *str, size_t len)
{
    ow_pipeline *p = task->privdata;
    char *copy = arena_alloc(p, len + 1);
    redisReply *r = copy ? arena_reply(task, task->type) : NULL;
    if (!r) {
        p->oom = true;
        return NULL;
    }
    memcpy(copy, str, len);
    copy[len] = '\0';
    r->str = copy;
    r->len = len;
    return r;
}

static void *arena_array(const redisReadTask *task, int elements)
{
    ow_pipeline *p = task->privdata;
    if (elements > OW_REDIS_MAX_ELEMENTS) return NULL; /* as ow_redis_reader_cap: io/redis.h */
    redisReply *r = arena_reply(task, REDIS_REPLY_ARRAY);
    if (!r) return NULL;
    if (elements > 0) {
        r->element = arena_alloc(p, (size_t)elements * sizeof *r->element);
        if (!r->element) {
            p->oom = true;
            return NULL;
        }
        memset(r->element, 0, (size_t)elements * sizeof *r->element);
    }
    r->elements = elements > 0 ? (size_t)elements : 0;
    return r;
}

static void *arena_integer(const redisReadTask *task, long long value)
{
    redisReply *r = arena_reply(task, REDIS_REPLY_INTEGER);
    if (r) r->integer = value;
    return r;
}

static void *arena_nil(const redisReadTask *task)
{
    return arena_reply(task, REDIS_REPLY_NIL);
}

static redisReplyObjectFunctions arena_fns = {arena_string, arena_array, arena_integer, arena_nil,
                                              skip_free};

void ow_pipeline_init(ow_pipeline *p, redisContext *c)
{
    memset(p, 0, sizeof *p);
    p->c = c;
    p->default_fn = c->reader->fn;
    p->push_at = OW_PIPELINE_PUSH_BYTES;
    ow_buf_init(&p->cmd);
}

void ow_pipeline_fini(ow_pipeline *p)
{
    ow_buf_fini(&p->cmd);
    for (size_t i = 0; i < p->ncap; i++)
        free(p->blocks[i].p);
    free(p->blocks);
    p->blocks = NULL;
    p->nblocks = p->ncap = 0;
}

static void put_count(ow_buf *b, char tag, size_t n)
{
    char tmp[24];
    int k = (int)sizeof tmp;
    tmp[--k] = '\n';
    tmp[--k] = '\r';
    do
        tmp[--k] = (char)('0' + n % 10), n /= 10;
    while (n);
    tmp[--k] = tag;
    ow_buf_put(b, tmp + k, sizeof tmp - (size_t)k);
}

static void put_arg(ow_buf *b, const char *s, size_t n)
{
    put_count(b, '$', n);
    ow_buf_put(b, s, n);
    ow_buf_put(b, "\r\n", 2);
}

static void format_raw(ow_pipeline *p, int argc, const char *const *argv, const size_t *lens)
{
    put_count(&p->cmd, '*', (size_t)argc);
    for (int i = 0; i < argc; i++) {
        size_t n = lens ? lens[i] : strlen(argv[i]);
        put_count(&p->cmd, '$', n);
        ow_buf_put(&p->cmd, argv[i], n);
        ow_buf_put(&p->cmd, "\r\n", 2);
    }
}

static void format(ow_pipeline *p, int argc, const char *const *argv, const size_t *lens)
{
    if (!p->fence_key) {
        format_raw(p, argc, argv, lens);
        return;
    }
    put_count(&p->cmd, '*', (size_t)argc + 5);
    put_arg(&p->cmd, "FCALL", 5);
    put_arg(&p->cmd, OW_FENCE_FUNCTION, strlen(OW_FENCE_FUNCTION));
    put_arg(&p->cmd, "1", 1);
    put_arg(&p->cmd, p->fence_key, strlen(p->fence_key));
    put_arg(&p->cmd, p->fence_token, strlen(p->fence_token));
    for (int i = 0; i < argc; i++)
        put_arg(&p->cmd, argv[i], lens ? lens[i] : strlen(argv[i]));
}

void ow_pipeline_fence(ow_pipeline *p, const char *lease_key, const char *token)
{
    p->fence_key = lease_key;
    p->fence_token = token;
}

void ow_pipeline_write(ow_pipeline *p, int argc, const char *const *argv, const size_t *lens)
{
    format(p, argc, argv, lens);
    if (p->reading)
        p->behind++;
    else
        p->ahead++;
    if (p->cmd.n - p->sent >= p->push_at) {
        ow_err ignored; /* a broken socket is reported by the next blocking flush or receive */
        (void)ow_pipeline_push(p, &ignored);
    }
}

void ow_pipeline_read_cmd(ow_pipeline *p, int argc, const char *const *argv, const size_t *lens)
{
    format(p, argc, argv, lens);
    p->building++;
}

void ow_pipeline_read_raw(ow_pipeline *p, int argc, const char *const *argv, const size_t *lens)
{
    format_raw(p, argc, argv, lens);
    p->building++;
}

void ow_pipeline_read_end(ow_pipeline *p)
{
    p->read_end = p->cmd.n;
    p->reading = p->building;
    p->building = 0;
}

bool ow_pipeline_read_outstanding(const ow_pipeline *p)
{
    return p->reading > 0;
}

int ow_pipeline_pending(const ow_pipeline *p)
{
    return p->ahead + p->behind;
}

/* Put cmd.p[sent..upto) on the socket: all of it (block) or what the socket takes now. */
static int send_upto(ow_pipeline *p, size_t upto, bool block, ow_err *err)
{
    if (p->cmd.oom) return ow_err_set(err, OW_ENOMEM, "redis pipeline: out of memory");
    if (sdslen(p->c->obuf) != 0) {
        /* hiredis has bytes of its own queued (a command sent around the pipeline): they go
         * first, so ours follow them through hiredis's buffer, all of it, blocking */
        if (p->cmd.n > p->sent &&
            redisAppendFormattedCommand(p->c, p->cmd.p + p->sent, p->cmd.n - p->sent) != REDIS_OK)
            return ow_err_set(err, OW_ENOMEM, "redis pipeline: out of memory");
        p->cmd.n = p->sent = p->read_end = 0;
        int done = 0;
        while (!done)
            if (redisBufferWrite(p->c, &done) != REDIS_OK)
                return ow_err_set(err, OW_EREDIS, "writing to redis: %s", p->c->errstr);
        return OW_OK;
    }
    /* straight to the socket, not through hiredis's output buffer (one copy less) */
    int flags = MSG_NOSIGNAL | (block ? 0 : MSG_DONTWAIT);
    while (p->sent < upto) {
        ssize_t w = send(p->c->fd, p->cmd.p + p->sent, upto - p->sent, flags);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && !block && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (w <= 0)
            return ow_err_set(err, OW_EREDIS, "writing to redis: %s",
                              w < 0 ? strerror(errno) : "connection closed");
        p->sent += (size_t)w;
    }
    if (p->sent >= p->read_end) p->read_end = 0;
    if (p->sent == p->cmd.n) {
        p->cmd.n = p->sent = 0;
    } else if (p->sent >= OW_PIPELINE_PUSH_BYTES && p->sent * 2 >= p->cmd.n) {
        /* mostly sent: move the rest to the front (at most half the buffer is copied) */
        memmove(p->cmd.p, p->cmd.p + p->sent, p->cmd.n - p->sent + 1);
        p->cmd.n -= p->sent;
        if (p->read_end) p->read_end -= p->sent;
        p->sent = 0;
    }
    p->push_at = p->cmd.n - p->sent + OW_PIPELINE_PUSH_BYTES;
    return OW_OK;
}

int ow_pipeline_flush(ow_pipeline *p, ow_err *err)
{
    return send_upto(p, p->cmd.n, true, err);
}

int ow_pipeline_push(ow_pipeline *p, ow_err *err)
{
    return send_upto(p, p->cmd.n, false, err);
}

/* Read and drop `n` replies with the skipping reader. */
static int skip(ow_pipeline *p, int n, ow_err *err)
{
    if (n <= 0) return OW_OK;
    p->c->reader->fn = &skip_fns;
    p->c->reader->privdata = p;
    int rc = OW_OK;
    for (int i = 0; i < n; i++) {
        void *rep;
        if (redisGetReply(p->c, &rep) != REDIS_OK) {
            rc = ow_err_set(err, OW_EREDIS, "reading from redis: %s", p->c->errstr);
            break;
        }
    }
    /* a reply cut by an I/O error is not hiredis's to free (redisFree would) */
    if (rc) p->c->reader->reply = NULL;
    p->c->reader->fn = p->default_fn;
    p->c->reader->privdata = NULL;
    return rc;
}

static int take_error(ow_pipeline *p, ow_err *err)
{
    if (!p->failed) return OW_OK;
    p->failed = false;
    return ow_err_set(err, OW_EREDIS, "redis refused a write: %s", p->error);
}

int ow_pipeline_receive(ow_pipeline *p, redisReply **out, int n, ow_err *err)
{
    for (int k = 0; k < n; k++)
        out[k] = NULL;
    /* only the read and what precedes it must be sent: writes queued after it can go while
     * the caller works on the read's replies */
    int rc = p->read_end ? send_upto(p, p->read_end, true, err) : OW_OK;
    if (!rc) rc = skip(p, p->ahead, err);
    if (rc) return rc;
    int want = p->reading;
    p->ahead = p->behind;
    p->behind = 0;
    p->reading = 0;
    arena_reset(p);
    p->oom = false;
    p->c->reader->fn = &arena_fns;
    p->c->reader->privdata = p;
    for (int i = 0; i < want && !rc; i++) {
        void *rep = NULL;
        if (redisGetReply(p->c, &rep) != REDIS_OK || !rep)
            rc = p->oom ? ow_err_set(err, OW_ENOMEM, "redis reply: out of memory")
                        : ow_err_set(err, OW_EREDIS, "reading from redis: %s", p->c->errstr);
        else if (i < n)
            out[i] = rep;
    }
    if (rc) {
        p->c->reader->reply = NULL; /* the arena's, not hiredis's to free */
        for (int k = 0; k < n; k++)
            out[k] = NULL;
    }
    p->c->reader->fn = p->default_fn;
    p->c->reader->privdata = NULL;
    return rc ? rc : take_error(p, err);
}

int ow_pipeline_settle(ow_pipeline *p, ow_err *err)
{
    int rc = ow_pipeline_flush(p, err);
    if (!rc) rc = skip(p, p->ahead, err);
    if (rc) return rc;
    p->ahead = 0;
    return take_error(p, err);
}

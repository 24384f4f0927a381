#include "source.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "files.h"
#include "keys.h"
#include "log.h"

#define SNAPSHOT_MAX_BYTES (16 * 1024 * 1024)

/* What one read found. */
typedef enum {
    READ_NEW,       /* a new valid snapshot in `view` */
    READ_SAME,      /* the same text as last time */
    READ_NONE,      /* reachable, but no snapshot there yet */
    READ_BAD,       /* reachable, but the snapshot did not parse: keep the last one */
    READ_LINK_DOWN, /* Redis unreachable / file unreadable */
} read_result;

struct ow_source {
    bool is_file;
    char path[PATH_MAX];
    ow_redis_env env;
    int64_t poll_ms;

    /* worker-owned (or caller-owned in ow_source_fetch mode) */
    redisContext *redis;
    char *last_text;
    struct stat file_stat;
    bool file_seen;

    pthread_mutex_t lock; /* guards state, stop */
    pthread_cond_t wake;
    bool stop, started;
    pthread_t thread;
    ow_source_state state;
    ow_scene *pending; /* the newest scene, until ow_source_take_scene */
    ow_source_notify_fn notify;
    void *user;
};

const char *ow_link_name(ow_link link)
{
    switch (link) {
    case OW_LINK_FILE: return "file";
    case OW_LINK_CONNECTING: return "connecting";
    case OW_LINK_CONNECTED: return "connected";
    case OW_LINK_RECONNECTING: return "reconnecting";
    }
    return "?";
}

static int source_alloc(ow_source **out, ow_err *err)
{
    ow_source *s = calloc(1, sizeof *s);
    if (!s) return ow_err_set(err, OW_ENOMEM, "out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    *out = s;
    return OW_OK;
}

int ow_source_new_redis(const ow_redis_env *env, int64_t poll_ms, ow_source **out, ow_err *err)
{
    int rc = source_alloc(out, err);
    if (rc) return rc;
    (*out)->env = *env;
    (*out)->env.server_pid = 0; /* the caller owns the private server, not the source */
    (*out)->poll_ms = poll_ms;
    (*out)->state.link = OW_LINK_CONNECTING;
    return OW_OK;
}

int ow_source_new_file(const char *path, int64_t poll_ms, ow_source **out, ow_err *err)
{
    int rc = source_alloc(out, err);
    if (rc) return rc;
    (*out)->is_file = true;
    snprintf((*out)->path, sizeof(*out)->path, "%s", path);
    (*out)->poll_ms = poll_ms;
    (*out)->state.link = OW_LINK_FILE;
    return OW_OK;
}

/* ---- one read (no lock held: touches only worker-owned fields) ------------------------------ */

/* Parse `text` unless it is what we parsed last time. Takes ownership of text. */
static read_result consider(ow_source *s, char *text, size_t len, ow_scene **scene, ow_err *err)
{
    if (s->last_text && strcmp(s->last_text, text) == 0) {
        free(text);
        return READ_SAME;
    }
    free(s->last_text);
    s->last_text = text; /* remembered even when bad, so a bad text is reported once */
    if (!(*scene = ow_scene_parse(text, len, err))) return READ_BAD;
    if ((*scene)->bad[0])
        ow_warn("snapshot #%" PRId64 ": members refused as malformed (shown as no data): %s",
                (*scene)->core.seq, (*scene)->bad);
    return READ_NEW;
}

static read_result read_file(ow_source *s, ow_scene **view, ow_err *err)
{
    struct stat st;
    if (stat(s->path, &st) != 0) {
        ow_err_set(err, OW_EIO, "%s: %s", s->path, strerror(errno));
        s->file_seen = false;
        return READ_LINK_DOWN;
    }
    if (s->file_seen && st.st_size == s->file_stat.st_size &&
        st.st_mtim.tv_sec == s->file_stat.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == s->file_stat.st_mtim.tv_nsec)
        return READ_SAME;
    char *text;
    size_t len;
    if (ow_file_read(s->path, SNAPSHOT_MAX_BYTES, &text, &len, err) != OW_OK) return READ_LINK_DOWN;
    s->file_stat = st;
    s->file_seen = true;
    read_result r = consider(s, text, len, view, err);
    if (r == READ_BAD) ow_err_prefix(err, "%s", s->path);
    return r;
}

static read_result read_redis(ow_source *s, ow_scene **view, ow_err *err)
{
    if (!s->redis && !(s->redis = ow_redis_connect(&s->env, err))) return READ_LINK_DOWN;
    redisReply *r = ow_redis_cmd(s->redis, err, "GET " OW_KEY_SNAPSHOT, "GET %s", OW_KEY_SNAPSHOT);
    if (!r) {
        if (!s->redis->err) return READ_BAD; /* an error reply, e.g. WRONGTYPE */
        redisFree(s->redis);
        s->redis = NULL;
        return READ_LINK_DOWN;
    }
    read_result res;
    if (r->type == REDIS_REPLY_NIL) {
        ow_err_set(err, OW_ENOTFOUND,
                   "no snapshot at %s yet (is opswall-engine running against %s?)", OW_KEY_SNAPSHOT,
                   s->env.desc);
        res = READ_NONE;
    } else if (r->type != REDIS_REPLY_STRING) {
        ow_err_set(err, OW_EINVAL, "%s: expected a string, got reply type %d", OW_KEY_SNAPSHOT,
                   r->type);
        res = READ_BAD;
    } else {
        char *text = malloc(r->len + 1);
        if (!text) {
            ow_err_set(err, OW_ENOMEM, "out of memory");
            res = READ_BAD;
        } else {
            memcpy(text, r->str, r->len);
            text[r->len] = '\0';
            res = consider(s, text, r->len, view, err);
        }
    }
    freeReplyObject(r);
    return res;
}

/* ---- applying a read to the shared state (lock held) ---------------------------------------- */

static bool apply(ow_source *s, read_result r, ow_scene *scene, const ow_err *err)
{
    ow_source_state *st = &s->state;
    const ow_link before = st->link;
    const bool was_failing = st->failures > 0;
    bool changed = false;
    if (r == READ_LINK_DOWN) {
        st->failures++;
        if (!s->is_file) st->link = OW_LINK_RECONNECTING;
    } else {
        if (!s->is_file) st->link = OW_LINK_CONNECTED;
        if (before == OW_LINK_RECONNECTING)
            ow_info("Redis at %s is back after %d failed attempt%s", s->env.desc, st->failures,
                    st->failures == 1 ? "" : "s");
        st->failures = 0;
    }
    if (r == READ_NEW) {
        st->view = scene->core;
        st->have = true;
        ow_scene_free(s->pending); /* never taken: the reader only wants the newest */
        s->pending = scene;
        changed = true;
    }
    const char *msg = r == READ_NEW || r == READ_SAME ? "" : err->msg;
    if (strcmp(msg, st->problem) != 0) {
        if (msg[0] && r == READ_LINK_DOWN && before != OW_LINK_RECONNECTING && !s->is_file)
            ow_warn("%s; %s, retrying with backoff (up to %d ms)", msg,
                    st->have ? "keeping the last snapshot (shown as stale)" : "no data yet",
                    OW_SOURCE_BACKOFF_MAX_MS);
        else if (msg[0] && st->failures <= 1)
            ow_warn("%s", msg);
        snprintf(st->problem, sizeof st->problem, "%s", msg);
    }
    if (st->link != before || (st->failures > 0) != was_failing) changed = true;
    if (changed) st->changes++;
    return changed;
}

static bool step(ow_source *s)
{
    ow_scene *scene = NULL;
    ow_err err;
    ow_err_clear(&err);
    read_result r = s->is_file ? read_file(s, &scene, &err) : read_redis(s, &scene, &err);
    pthread_mutex_lock(&s->lock);
    bool changed = apply(s, r, scene, &err);
    pthread_mutex_unlock(&s->lock);
    return changed;
}

int ow_source_fetch(ow_source *s, ow_err *err)
{
    step(s);
    ow_source_state st;
    ow_source_get(s, &st);
    if (st.have) return OW_OK;
    return ow_err_set(err, OW_ENOTFOUND, "%s", st.problem[0] ? st.problem : "no snapshot");
}

/* ---- the worker ----------------------------------------------------------------------------- */

static int64_t next_delay_ms(const ow_source *s)
{
    /* poll, then 2×, 4×, … up to the cap (never below poll) while attempts keep failing */
    int64_t d = s->poll_ms;
    for (int i = 0; i < s->state.failures && d < OW_SOURCE_BACKOFF_MAX_MS; i++)
        d *= 2;
    if (d > OW_SOURCE_BACKOFF_MAX_MS)
        d = s->poll_ms > OW_SOURCE_BACKOFF_MAX_MS ? s->poll_ms : OW_SOURCE_BACKOFF_MAX_MS;
    return d;
}

static void *worker(void *arg)
{
    ow_source *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        pthread_mutex_unlock(&s->lock);
        if (step(s) && s->notify) s->notify(s->user);
        pthread_mutex_lock(&s->lock);
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        int64_t ns = until.tv_nsec + next_delay_ms(s) * 1000000;
        until.tv_sec += (time_t)(ns / 1000000000);
        until.tv_nsec = (long)(ns % 1000000000);
        while (!s->stop && pthread_cond_timedwait(&s->wake, &s->lock, &until) != ETIMEDOUT) {
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int ow_source_start(ow_source *s, ow_source_notify_fn notify, void *user, ow_err *err)
{
    s->notify = notify;
    s->user = user;
    /* The worker blocks every signal so SIGINT/SIGTERM always reach the main thread's loop. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&s->thread, NULL, worker, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) return ow_err_set(err, OW_EIO, "cannot start the source thread: %s", strerror(rc));
    s->started = true;
    return OW_OK;
}

void ow_source_get(ow_source *s, ow_source_state *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->state;
    pthread_mutex_unlock(&s->lock);
}

ow_scene *ow_source_take_scene(ow_source *s)
{
    pthread_mutex_lock(&s->lock);
    ow_scene *scene = s->pending;
    s->pending = NULL;
    pthread_mutex_unlock(&s->lock);
    return scene;
}

void ow_source_free(ow_source *s)
{
    if (!s) return;
    if (s->started) {
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    if (s->redis) redisFree(s->redis);
    free(s->last_text);
    ow_scene_free(s->pending);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

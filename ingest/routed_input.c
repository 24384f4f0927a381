#include "routed_input.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cluster.h"
#include "files.h"
#include "keys.h"
#include "lineframe.h"
#include "log.h"
#include "partition.h"
#include "router.h"
#include "signals.h"

#define CHUNK    65536
#define PAUSE_MS 50 /* input quiet this long: flush what is queued */

typedef struct input {
    const char *name;
    int fd;
    gzFile gz;
} input;

/* Read up to n bytes; 0 at the end; -1 error; -2 nothing within PAUSE_MS (only with `poll_first`).
 */
static ssize_t read_some(input *in, char *buf, size_t n, bool poll_first)
{
    if (in->gz) {
        int got = gzread(in->gz, buf, (unsigned)n);
        return got < 0 ? -1 : got;
    }
    if (poll_first) {
        struct pollfd p = {.fd = in->fd, .events = POLLIN};
        int pr = poll(&p, 1, PAUSE_MS);
        if (pr == 0) return -2;
        if (pr < 0) return errno == EINTR ? -2 : -1;
    }
    for (;;) {
        ssize_t got = read(in->fd, buf, n);
        if (got >= 0 || errno != EINTR) return got;
        if (ow_stop_requested) return 0;
    }
}

static int take_line(ow_router *rt, const ow_line *l, const char *name, ow_event *ev, ow_err *err)
{
    if (l->total == 0) return OW_OK;
    char reason[OW_ERR_MSG_MAX + 96];
    ow_err perr;
    if (l->total > l->len) {
        snprintf(reason, sizeof reason,
                 "line %" PRId64 ": event is %zu bytes: the limit is %d bytes (64 KiB)", l->lineno,
                 l->total, OW_EVENT_MAX_BYTES);
    } else if (ow_event_parse(l->text, l->len, ev, &perr) == OW_OK) {
        return ow_router_add(rt, ev, l->text, l->len, err);
    } else {
        snprintf(reason, sizeof reason, "line %" PRId64 ": %s", l->lineno, perr.msg);
    }
    return ow_router_reject(rt, reason, name, l->lineno, l->text, l->len, err);
}

static int read_input(ow_router *rt, input *in, ow_event *ev, ow_err *err)
{
    ow_lineframe f;
    if (ow_lineframe_init(&f, OW_EVENT_MAX_BYTES))
        return ow_err_set(err, OW_ENOMEM, "out of memory");
    char *buf = malloc(CHUNK);
    int rc = buf ? OW_OK : ow_err_set(err, OW_ENOMEM, "out of memory");
    ow_line l;
    while (!rc && !ow_stop_requested) {
        ssize_t got = read_some(in, buf, CHUNK, ow_router_queued(rt) > 0);
        if (got == -2) {
            rc = ow_router_flush(rt, err);
            continue;
        }
        if (got < 0) {
            rc = ow_err_set(err, OW_EIO, "%s: read failed: %s", in->name, strerror(errno));
            break;
        }
        if (got == 0) {
            if (ow_lineframe_finish(&f, &l)) rc = take_line(rt, &l, in->name, ev, err);
            break;
        }
        ow_lineframe_feed(&f, buf, (size_t)got);
        while (!rc && ow_lineframe_next(&f, &l))
            rc = take_line(rt, &l, in->name, ev, err);
    }
    if (!rc) rc = ow_router_flush(rt, err);
    if (!rc) ow_info("%s: %" PRId64 " lines read and in Redis", in->name, f.lineno);
    free(buf);
    ow_lineframe_fini(&f);
    return rc;
}

static int open_input(input *in, const char *name, ow_err *err)
{
    in->name = strcmp(name, "-") == 0 ? "stdin" : name;
    in->gz = NULL;
    in->fd = strcmp(name, "-") == 0 ? 0 : open(name, O_RDONLY | O_CLOEXEC);
    if (in->fd < 0) return ow_err_set(err, OW_EIO, "%s: cannot open: %s", name, strerror(errno));
    size_t n = strlen(name);
    if (n > 3 && strcmp(name + n - 3, ".gz") == 0) {
        in->gz = gzdopen(in->fd, "rb");
        if (!in->gz) {
            close(in->fd);
            return ow_err_set(err, OW_ENOMEM, "%s: cannot start decompressing", name);
        }
    }
    return OW_OK;
}

static void close_input(input *in)
{
    if (in->gz)
        gzclose(in->gz); /* closes the fd too */
    else if (in->fd > 0)
        close(in->fd);
}

int ow_routed_open(const ow_config *cfg, const ow_redis_env *env, ow_cluster **out,
                   ow_partition_table *t)
{
    ow_err err;
    ow_cluster *c = NULL;
    *out = NULL;
    if (ow_cluster_open_env(env, cfg, &c, &err)) {
        if (cfg->cluster.partitions <= 1) return 0; /* the single-node path reports it */
        ow_error("%s", err.msg);
        return -1;
    }
    if (cfg->cluster.partitions <= 1 && !ow_cluster_enabled(c)) {
        ow_cluster_free(c);
        return 0;
    }
    if (ow_partition_load(cfg, t, &err)) {
        ow_cluster_free(c);
        ow_error("%s", err.msg);
        return -2;
    }
    ow_info("routing to %d partitions on %s (shared stream %s)", t->n,
            ow_cluster_enabled(c) ? "a Redis Cluster" : "one Redis", OW_KEY_SHARED);
    *out = c;
    return 1;
}

int ow_routed_input_run(const ow_config *cfg, ow_cluster *c, const ow_partition_table *t,
                        const char *const *files, int nfiles)
{
    ow_err err;
    int status = 1;
    ow_event *ev = malloc(sizeof *ev);
    ow_router *rt = ev ? ow_router_new(c, cfg, t, &err) : NULL;
    if (!ev) ow_err_set(&err, OW_ENOMEM, "out of memory");
    int rc = rt ? OW_OK : err.code ? err.code : OW_ENOMEM;
    for (int i = 0; i < nfiles && !rc && !ow_stop_requested; i++) {
        input in;
        if ((rc = open_input(&in, files[i], &err))) break;
        rc = read_input(rt, &in, ev, &err);
        close_input(&in);
    }
    if (!rc && !ow_stop_requested) rc = ow_router_finish(rt, &err);
    if (rt) {
        const ow_router_stats *st = ow_router_stats_get(rt);
        char parts[256] = "";
        size_t w = 0;
        for (int p = 0; p < t->n && p < 64 && w < sizeof parts - 24; p++)
            w += (size_t)snprintf(parts + w, sizeof parts - w, "%s%" PRId64, p ? "/" : "",
                                  st->per_partition[p]);
        ow_info("%" PRId64 " accepted (%" PRId64 " shared, by partition %s), %" PRId64
                " duplicates, %" PRId64 " rejected, %" PRId64 " parked for their order (%" PRId64
                " still waiting in " OW_KEY_UNROUTED "), %" PRId64
                " parked events sent on, %" PRId64 " rounds resent for replica acks",
                st->accepted, st->shared, parts, st->duplicates, st->rejected, st->parked_total,
                st->parked_now, st->drained, st->resends);
    }
    if (rc)
        ow_error("%s", err.msg);
    else if (!ow_stop_requested)
        status = 0;
    ow_router_free(rt);
    free(ev);
    return status;
}

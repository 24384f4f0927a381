#include "redis.h"

#include "cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "files.h"
#include "log.h"

static const char *const fix_hint =
    "set redis.url in the config or OPSWALL_REDIS_URL (redis://host:port or unix:///path), "
    "or leave it empty to let opswall start its own redis-server";

static int mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0700) && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

static redisContext *connect_target(const ow_redis_target *t, int64_t timeout_ms)
{
    struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
    redisContext *c = t->is_unix ? redisConnectUnixWithTimeout(t->path, tv)
                                 : redisConnectWithTimeout(t->host, t->port, tv);
    if (c && !c->err) redisSetTimeout(c, tv);
    if (c && !c->err) ow_redis_reader_cap(c->reader);
    return c;
}

static bool pings(const ow_redis_target *t, int64_t timeout_ms)
{
    redisContext *c = connect_target(t, timeout_ms);
    bool ok = false;
    if (c && !c->err) {
        redisReply *r = redisCommand(c, "PING");
        /* a password-protected server answers NOAUTH: it is alive all the same */
        ok = r && (r->type == REDIS_REPLY_STATUS ||
                   (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOAUTH", 6) == 0));
        if (r) freeReplyObject(r);
    }
    if (c) redisFree(c);
    return ok;
}

redisReply *ow_redis_cmd(redisContext *c, ow_err *err, const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (!r) {
        ow_err_set(err, OW_EREDIS, "%s: %s", what, c->errstr[0] ? c->errstr : "no reply");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        ow_err_set(err, OW_EREDIS, "%s: %s", what, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

redisContext *ow_redis_connect(const ow_redis_env *env, ow_err *err)
{
    redisContext *c = connect_target(&env->target, env->timeout_ms);
    if (!c || c->err) {
        ow_err_set(err, OW_EREDIS, "cannot reach Redis at %s: %s; %s", env->desc,
                   c ? c->errstr : "out of memory", fix_hint);
        if (c) redisFree(c);
        return NULL;
    }
    const ow_redis_target *t = &env->target;
    redisReply *r = NULL;
    if (t->password[0]) {
        r = t->user[0] ? redisCommand(c, "AUTH %s %s", t->user, t->password)
                       : redisCommand(c, "AUTH %s", t->password);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            ow_err_set(err, OW_EAUTH,
                       "Redis at %s refused the login: %s; check the user and "
                       "password in the redis url",
                       env->desc, r ? r->str : c->errstr);
            goto fail;
        }
        freeReplyObject(r);
    }
    if (t->db) {
        r = redisCommand(c, "SELECT %d", t->db);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            ow_err_set(err, OW_EREDIS, "Redis at %s: SELECT %d failed: %s", env->desc, t->db,
                       r ? r->str : c->errstr);
            goto fail;
        }
        freeReplyObject(r);
    }
    r = redisCommand(c, "PING");
    if (!r || r->type == REDIS_REPLY_ERROR) {
        ow_err_set(err, OW_EREDIS, "Redis at %s does not answer PING: %s; %s", env->desc,
                   r ? r->str : c->errstr, fix_hint);
        goto fail;
    }
    freeReplyObject(r);
    return c;
fail:
    if (r) freeReplyObject(r);
    redisFree(c);
    return NULL;
}

void ow_redis_stop_pid(pid_t pid)
{
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int64_t deadline = ow_clock_mono_ms() + 5000;
    int status;
    while (ow_clock_mono_ms() < deadline) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid || (w < 0 && errno == ECHILD)) return;
        ow_sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

/* The last lines of redis.log, to explain why a private server did not start. */
static void log_tail(const char *dir, char *out, size_t n)
{
    char path[PATH_MAX], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/redis.log", dir);
    out[0] = '\0';
    if (ow_file_read(path, 1 << 20, &text, &len, NULL)) return;
    const char *p = len > n - 1 ? text + len - (n - 1) : text;
    snprintf(out, n, "%s", p);
    for (char *q = out; *q; q++)
        if (*q == '\n') *q = ' ';
    free(text);
}

pid_t ow_redis_spawn(const char *server_bin, const char *dir, bool aof, int64_t timeout_ms,
                     ow_err *err)
{
    char sock[PATH_MAX], logf[PATH_MAX];
    if (mkdir_p(dir))
        return ow_err_set(err, OW_EIO, "cannot create Redis data dir %s: %s", dir, strerror(errno));
    int n = snprintf(sock, sizeof sock, "%s/redis.sock", dir);
    if (n < 0 || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return ow_err_set(err, OW_ERANGE,
                          "socket path %s is longer than 107 bytes: choose a "
                          "shorter redis.data_dir",
                          sock);
    snprintf(logf, sizeof logf, "%s/redis.log", dir);
    unlink(sock);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return ow_err_set(err, OW_EIO, "fork: %s", strerror(errno));
    if (pid == 0) {
        /* Dies with the process that started it, even on kill -9 of that process. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);
        setpgid(0, 0); /* Ctrl-C goes to the parent, which then stops us in order */
        execlp(server_bin, server_bin, "--port", "0", "--unixsocket", sock, "--unixsocketperm",
               "700", "--dir", dir, "--appendonly", aof ? "yes" : "no", "--appendfsync", "everysec",
               "--save", "", "--daemonize", "no", "--logfile", logf, "--pidfile", "", (char *)NULL);
        fprintf(stderr, "opswall: cannot run %s: %s (install redis-server)\n", server_bin,
                strerror(errno));
        _exit(127);
    }
    ow_redis_target t = {.is_unix = true};
    snprintf(t.path, sizeof t.path, "%s", sock);
    int64_t deadline = ow_clock_mono_ms() + timeout_ms;
    for (;;) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            char tail[300];
            log_tail(dir, tail, sizeof tail);
            return ow_err_set(err, OW_EIO, "%s exited before answering (status %d)%s%s", server_bin,
                              WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                              tail[0] ? "; redis.log: " : "", tail);
        }
        if (pings(&t, 500)) return pid;
        if (ow_clock_mono_ms() > deadline) {
            ow_redis_stop_pid(pid);
            return ow_err_set(err, OW_ETIMEOUT, "%s did not answer on %s within %lld ms",
                              server_bin, sock, (long long)timeout_ms);
        }
        ow_sleep_ms(20);
    }
}

int ow_redis_env_open(const ow_config *cfg, ow_redis_env *env, ow_err *err)
{
    memset(env, 0, sizeof *env);
    env->timeout_ms = cfg->redis.timeout_ms;
    if (cfg->redis.url[0] && strchr(cfg->redis.url, ',')) {
        /* several seeds of a Redis Cluster (io/cluster.h): the first that answers; the cluster
         * client keeps all of them for later map reloads */
        ow_redis_target seeds[OW_CLUSTER_SEEDS_MAX];
        int n = ow_cluster_parse_urls(cfg->redis.url, seeds, err);
        if (n < 0) return n;
        env->target = seeds[0];
        for (int i = 0; i < n; i++)
            if (pings(&seeds[i], 500)) {
                env->target = seeds[i];
                break;
            }
        ow_redis_target_describe(&env->target, env->desc, sizeof env->desc);
        return OW_OK;
    }
    if (cfg->redis.url[0]) {
        int rc = ow_redis_url_parse(cfg->redis.url, &env->target, err);
        if (rc) return rc;
        ow_redis_target_describe(&env->target, env->desc, sizeof env->desc);
        return OW_OK;
    }
    ow_config_path(cfg, cfg->redis.data_dir, env->data_dir, sizeof env->data_dir);
    if (mkdir_p(env->data_dir))
        return ow_err_set(err, OW_EIO, "cannot create redis.data_dir %s: %s", env->data_dir,
                          strerror(errno));
    char real[PATH_MAX];
    if (realpath(env->data_dir, real)) snprintf(env->data_dir, sizeof env->data_dir, "%s", real);
    env->target.is_unix = true;
    snprintf(env->target.path, sizeof env->target.path, "%s/redis.sock", env->data_dir);
    ow_redis_target_describe(&env->target, env->desc, sizeof env->desc);
    if (pings(&env->target, 500)) {
        ow_info("using the private Redis already running at %s", env->desc);
        return OW_OK;
    }
    char bin[PATH_MAX];
    snprintf(bin, sizeof bin, "%s", cfg->redis.server);
    pid_t pid = ow_redis_spawn(bin, env->data_dir, true, cfg->redis.start_timeout_ms, err);
    if (pid < 0) {
        ow_err_prefix(err, "starting a private Redis in %s", env->data_dir);
        return err ? err->code : OW_EIO;
    }
    env->server_pid = pid;
    ow_info("started a private Redis (pid %d) at %s", (int)pid, env->desc);
    return OW_OK;
}

void ow_redis_env_close(ow_redis_env *env)
{
    if (env->server_pid > 0) {
        ow_info("stopping the private Redis (pid %d)", (int)env->server_pid);
        ow_redis_stop_pid(env->server_pid);
        env->server_pid = 0;
    }
}

int ow_redis_function_load(redisContext *c, const char *library, const char *what, ow_err *err)
{
    redisReply *r = ow_redis_cmd(c, err, what, "FUNCTION LOAD REPLACE %s", library);
    if (!r) return OW_EREDIS;
    freeReplyObject(r);
    return OW_OK;
}

/*
 * opswall-run — starts the whole of opswall on one machine and stops it again:
 * the private Redis (unless redis.url is set), engine, feed, wallboard, delivery (opswall-notify),
 * and ingest fed by the simulator (or by an event file). Children die with it (PR_SET_PDEATHSIG); a
 * child that exits on its own is restarted with backoff. Ctrl-C stops everything in order, Redis
 * last.
 *
 *   opswall-run [--config PATH] [--events FILE | --scenario NAME --speed F --seed N
 *               --orders-per-hour N --techs N] [--no-wallboard] [--no-feed] [--no-notify]
 * [--no-sim]
 *               [--for DURATION]
 *   opswall-run --city NAME [--speed F]     a real city's history replayed at F× (default 300):
 *               config/NAME.json names the city's regions, CSV export and mapping; the replay
 *               gets its own private Redis (var/replay-NAME, emptied first) so it starts clean.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "files.h"
#include "keys.h"
#include "log.h"
#include "redis.h"
#include "signals.h"
#include "timefmt.h"

#define MAX_ARGS 24

typedef struct child {
    const char *name;
    char path[PATH_MAX]; /* the program, beside opswall-run */
    const char *argv[MAX_ARGS];
    int argc;
    int in_fd, out_fd; /* -1 = inherit */
    bool restart;      /* restart when it exits on its own */
    pid_t pid;
    int64_t next_start_ms;
    int64_t backoff_ms;
    int64_t started_ms; /* monotonic, when the running instance was started */
} child;

static char bindir[PATH_MAX];

static void child_arg(child *c, const char *arg)
{
    if (c->argc < MAX_ARGS - 1) c->argv[c->argc++] = arg; /* argv stays NULL-terminated */
}

/* The next child: `program` from bindir, with --config when one was given. */
static child *child_add(child *kids, int *nk, const char *name, const char *program, bool restart,
                        const char *config)
{
    child *c = &kids[(*nk)++];
    *c = (child){.name = name, .in_fd = -1, .out_fd = -1, .restart = restart};
    snprintf(c->path, sizeof c->path, "%s/%s", bindir, program);
    child_arg(c, c->path);
    if (config[0]) child_arg(c, "--config"), child_arg(c, config);
    return c;
}

static pid_t start(child *c)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        ow_error("fork %s: %s", c->name, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);
        setpgid(0, 0); /* Ctrl-C reaches the supervisor only; it stops children in order */
        if (c->in_fd >= 0) dup2(c->in_fd, 0);
        if (c->out_fd >= 0) dup2(c->out_fd, 1);
        for (int fd = 3; fd < 256; fd++)
            close(fd);
        execv(c->argv[0], (char *const *)c->argv);
        fprintf(stderr, "opswall-run: cannot run %s: %s (build it first: cmake --build build)\n",
                c->argv[0], strerror(errno));
        _exit(127);
    }
    c->pid = pid;
    c->started_ms = ow_clock_mono_ms();
    ow_info("started %s (pid %d)", c->name, (int)pid);
    return pid;
}

static void stop_all(child *kids, int n)
{
    /* producers first, so nothing is half-written; then consumers */
    for (int i = 0; i < n; i++)
        if (kids[i].pid > 0) kill(kids[i].pid, SIGTERM);
    int64_t deadline = ow_clock_mono_ms() + 5000;
    for (int i = 0; i < n; i++) {
        while (kids[i].pid > 0) {
            int st;
            pid_t w = waitpid(kids[i].pid, &st, WNOHANG);
            if (w == kids[i].pid || (w < 0 && errno == ECHILD)) {
                kids[i].pid = 0;
            } else if (ow_clock_mono_ms() > deadline) {
                kill(kids[i].pid, SIGKILL);
                waitpid(kids[i].pid, &st, 0);
                kids[i].pid = 0;
            } else {
                ow_sleep_ms(20);
            }
        }
    }
}

/* A replay needs an empty database: the private one of the replay is emptied; a Redis of the
 * user's (redis.url) must already hold no events, or the replay would mix with them. */
static int replay_reset(const ow_config *cfg, const ow_redis_env *env, ow_err *err)
{
    redisContext *rc = ow_redis_connect(env, err);
    if (!rc) return OW_EREDIS;
    redisReply *r = cfg->redis.url[0] ? ow_redis_cmd(rc, err, "EXISTS", "EXISTS %s", OW_KEY_EVENTS)
                                      : ow_redis_cmd(rc, err, "FLUSHDB", "FLUSHDB");
    int status = r ? OW_OK : OW_EREDIS;
    if (r && cfg->redis.url[0] && r->type == REDIS_REPLY_INTEGER && r->integer)
        status = ow_err_set(err, OW_EINVAL,
                            "%s: this Redis already holds events (%s); a replay needs an empty "
                            "database: point redis.url at another one, or leave it empty",
                            cfg->redis.url, OW_KEY_EVENTS);
    if (r) freeReplyObject(r);
    redisFree(rc);
    return status;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: opswall-run [--config PATH] [--events FILE | --scenario NAME] [--speed F]\n"
            "                   [--seed N] [--orders-per-hour N] [--techs N]\n"
            "                   [--no-wallboard] [--no-feed] [--no-notify] [--no-sim] [--for 10m]\n"
            "       opswall-run --city NAME [--speed F]   (e.g. --city la311 --speed 300)\n");
}

/* A city's history is shown in its own time: the wallboard's clock and the replayed span read
 * local time, so the children get the export's zone (the mapping's time_zone) as TZ. Everything
 * else in opswall keeps UTC or names its zone; a mapping without a readable zone changes nothing
 * (the import itself reports the mapping's errors). */
static void city_zone(const char *mapping_path)
{
    char *text = NULL;
    size_t len = 0;
    ow_err err;
    if (ow_file_read(mapping_path, 1 << 20, &text, &len, &err)) return;
    cJSON *root = cJSON_ParseWithLength(text, len);
    const cJSON *tz = cJSON_GetObjectItemCaseSensitive(root, "time_zone");
    if (cJSON_IsString(tz) && tz->valuestring[0] && !strchr(tz->valuestring, '.')) {
        setenv("TZ", tz->valuestring, 1);
        ow_info("the screens show %s time", tz->valuestring);
    }
    cJSON_Delete(root);
    free(text);
}

int main(int argc, char **argv)
{
    ow_log_init("run", OW_LOG_INFO);
    const char *events = NULL, *scenario = "normal", *speed = NULL, *seed = "1", *run_for = NULL;
    const char *orders_per_hour = "240", *techs = "60", *city = NULL;
    bool wallboard = true, feed = true, sim = true, notify = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (!strcmp(a, "--config") && more)
            i++;
        else if (!strcmp(a, "--events") && more)
            events = argv[++i];
        else if (!strcmp(a, "--city") && more)
            city = argv[++i];
        else if (!strcmp(a, "--scenario") && more)
            scenario = argv[++i];
        else if (!strcmp(a, "--speed") && more)
            speed = argv[++i];
        else if (!strcmp(a, "--seed") && more)
            seed = argv[++i];
        else if (!strcmp(a, "--for") && more)
            run_for = argv[++i];
        else if (!strcmp(a, "--orders-per-hour") && more)
            orders_per_hour = argv[++i];
        else if (!strcmp(a, "--techs") && more)
            techs = argv[++i];
        else if (!strcmp(a, "--no-wallboard"))
            wallboard = false;
        else if (!strcmp(a, "--no-feed"))
            feed = false;
        else if (!strcmp(a, "--no-notify"))
            notify = false;
        else if (!strcmp(a, "--no-sim"))
            sim = false;
        else {
            usage();
            return strcmp(a, "--help") ? 2 : 0;
        }
    }
    ow_err err;
    ow_config cfg;
    const char *config_path = ow_args_config(argc, argv);
    char city_config[PATH_MAX];
    if (city) {
        for (const char *ch = city; *ch; ch++)
            if (!((*ch >= 'a' && *ch <= 'z') || (*ch >= '0' && *ch <= '9') || *ch == '_')) {
                ow_error("--city: expected a name like la311 (a-z, 0-9, _), got \"%s\"", city);
                return 2;
            }
        if (!config_path) {
            snprintf(city_config, sizeof city_config, "%s/config/%s.json", OPSWALL_SOURCE_DIR,
                     city);
            config_path = city_config;
        }
        if (!speed) speed = "300";
    }
    if (ow_config_load(&cfg, config_path, &err)) {
        ow_error("%s", err.msg);
        return 2;
    }
    char csv_path[PATH_MAX], mapping_path[PATH_MAX];
    if (city) {
        if (!cfg.city.csv[0] || !cfg.city.mapping[0]) {
            ow_error("%s: city.csv and city.mapping: a real city needs its CSV export and its "
                     "column mapping",
                     config_path);
            return 2;
        }
        ow_config_path(&cfg, cfg.city.csv, csv_path, sizeof csv_path);
        ow_config_path(&cfg, cfg.city.mapping, mapping_path, sizeof mapping_path);
        if (!cfg.redis.url[0]) /* a private server of its own: the replay starts from nothing */
            snprintf(cfg.redis.data_dir, sizeof cfg.redis.data_dir, "var/replay-%s", city);
        city_zone(mapping_path);
    }
    int64_t run_for_ms = 0;
    if (run_for && ow_duration_parse(run_for, &run_for_ms, &err)) {
        ow_error("--for: %s", err.msg);
        return 2;
    }
    ssize_t n = readlink("/proc/self/exe", bindir, sizeof bindir - 1);
    if (n <= 0) {
        ow_error("cannot find my own directory: %s", strerror(errno));
        return 1;
    }
    bindir[n] = '\0';
    *strrchr(bindir, '/') = '\0';

    ow_signals_install();

    ow_redis_env env;
    if (ow_redis_env_open(&cfg, &env, &err)) {
        ow_error("%s", err.msg);
        return 1;
    }
    if (city && replay_reset(&cfg, &env, &err)) {
        ow_error("%s", err.msg);
        ow_redis_env_close(&env);
        return 1;
    }
    if (!cfg.redis.url[0]) {
        char url[PATH_MAX + 16];
        snprintf(url, sizeof url, "unix://%s", env.target.path);
        setenv("OPSWALL_REDIS_URL", url, 1); /* children share this private server */
    }

    char cfgabs[PATH_MAX] = "";
    if (config_path && !realpath(config_path, cfgabs)) cfgabs[0] = '\0';
    child kids[7];
    int nk = 0;
    child *c = child_add(kids, &nk, "engine", "opswall-engine", true, cfgabs);
    /* simulated time running faster than the wall clock, or an old file: SLA clocks follow the
     * events' own time (DESIGN §2), not the wall clock */
    if (city)
        child_arg(c, "--clock"), child_arg(c, "speed"); /* N× replay: the feeder's clock */
    else if (speed || events)
        child_arg(c, "--clock"), child_arg(c, "event");
    if (feed) child_add(kids, &nk, "feed", "opswall-feed", true, cfgabs);
    if (wallboard) child_add(kids, &nk, "wallboard", "opswall-wallboard", true, cfgabs);
    if (notify) child_add(kids, &nk, "notify", "opswall-notify", true, cfgabs);
    int pipefd[2] = {-1, -1};
    if (city) {
        c = child_add(kids, &nk, "ingest", "opswall-ingest", false, cfgabs);
        child_arg(c, "--csv"), child_arg(c, mapping_path), child_arg(c, csv_path);
        child_arg(c, "--speed"), child_arg(c, speed);
    } else if (events) {
        c = child_add(kids, &nk, "ingest", "opswall-ingest", false, cfgabs);
        child_arg(c, events);
    } else if (sim) {
        if (pipe(pipefd)) {
            ow_error("pipe: %s", strerror(errno));
            return 1;
        }
        c = child_add(kids, &nk, "simulator", "opswall-sim", false, "");
        child_arg(c, "--scenario"), child_arg(c, scenario);
        child_arg(c, "--seed"), child_arg(c, seed);
        if (speed)
            child_arg(c, "--speed"), child_arg(c, speed);
        else
            child_arg(c, "--realtime");
        /* a demo should move: a busy command center's rate, not the quiet default */
        child_arg(c, "--orders-per-hour"), child_arg(c, orders_per_hour);
        child_arg(c, "--techs"), child_arg(c, techs);
        c->out_fd = pipefd[1];
        c = child_add(kids, &nk, "ingest", "opswall-ingest", false, cfgabs);
        child_arg(c, "-");
        c->in_fd = pipefd[0];
    }
    for (int i = 0; i < nk; i++)
        start(&kids[i]);
    if (pipefd[0] >= 0) close(pipefd[0]), close(pipefd[1]);
    if (feed) {
        char host[80];
        snprintf(host, sizeof host, "%s",
                 strcmp(cfg.feed.listen, "0.0.0.0") ? cfg.feed.listen : "127.0.0.1");
        printf("opswall is running. Viewer: http://%s:%lld/   (Ctrl-C stops everything)\n", host,
               (long long)cfg.feed.port);
        if (notify)
            printf("Delivery API (silences, notification records): http://%s:%lld/api/v1/"
                   "notifications\n",
                   strcmp(cfg.notify.listen, "0.0.0.0") ? cfg.notify.listen : "127.0.0.1",
                   (long long)cfg.notify.port);
        fflush(stdout);
    }

    int64_t deadline = run_for_ms ? ow_clock_mono_ms() + run_for_ms : 0;
    while (!ow_stop_requested && (!deadline || ow_clock_mono_ms() < deadline)) {
        int st;
        pid_t pid = waitpid(-1, &st, WNOHANG);
        for (int i = 0; pid > 0 && i < nk; i++) {
            if (kids[i].pid != pid) continue;
            kids[i].pid = 0;
            bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
            if (!kids[i].restart) {
                ow_info("%s finished (%s)", kids[i].name, ok ? "ok" : "failed");
            } else {
                /* A child that ran a while was healthy: its next crash is a new incident and
                 * gets the short delay again. Only a crash loop backs off to 30 s, so one
                 * kill -9 after many earlier ones still comes back within a second. */
                if (ow_clock_mono_ms() - kids[i].started_ms >= 5000) kids[i].backoff_ms = 0;
                kids[i].backoff_ms = kids[i].backoff_ms ? kids[i].backoff_ms * 2 : 500;
                if (kids[i].backoff_ms > 30000) kids[i].backoff_ms = 30000;
                kids[i].next_start_ms = ow_clock_mono_ms() + kids[i].backoff_ms;
                ow_warn("%s exited (%s %d); restarting in %lld ms", kids[i].name,
                        WIFEXITED(st) ? "status" : "signal",
                        WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
                        (long long)kids[i].backoff_ms);
            }
        }
        for (int i = 0; i < nk; i++)
            if (kids[i].restart && kids[i].pid == 0 && ow_clock_mono_ms() >= kids[i].next_start_ms)
                start(&kids[i]);
        ow_sleep_ms(100);
    }
    ow_info("stopping");
    stop_all(kids, nk);
    ow_redis_env_close(&env);
    return 0;
}

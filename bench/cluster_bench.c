/*
 * cluster_bench — Redis write throughput with 1, 2 and 3 partitions on a Redis Cluster, through
 * io/cluster.c (issue 12, item 8's first numbers). Run by bench/cluster.sh, which starts the
 * cluster and measures redis-benchmark against one node in the same run.
 *
 * The partitions are first placed on distinct masters (io/reshard.h). For k = 1, 2, 3 it writes
 * EVENTS stream entries (XADD MAXLEN ~ of a PAYLOAD-byte field, the size of an average event)
 * round-robin over partitions 0..k-1, pipelined: BATCH commands per partition per round trip,
 * every master written before any is read. It prints one JSON line per k with events/s, the CPU
 * seconds of the client and of each redis-server (from /proc), events per CPU second, and the
 * growth of used_memory per entry on the masters (for the memory projection in docs/scaling.md).
 *
 * With WAIT = n > 0 every round trip also waits for n replicas per node (ow_cluster_batch_wait):
 * the durability trade-off of docs/scaling.md §6, measured as throughput and as the time of one
 * round trip (p50, p99).
 *
 * Usage: cluster_bench CLUSTER_DIR HOST:PORT [EVENTS] [PAYLOAD] [BATCH] [WAIT]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "cluster.h"
#include "keys.h"
#include "partition.h"
#include "reshard.h"

static const char *dir;

/* utime + stime of the redis-server on `port`, seconds (its pid file is DIR/<port>/pid). */
static double server_cpu(int port)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%d/pid", dir, port);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld", &pid) != 1) pid = 0;
    fclose(f);
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (!f) return 0;
    char buf[2048];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* fields after the ")" of the command name: state is field 3; utime 14, stime 15 */
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return 0;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static long long used_memory(ow_cluster *c, int node)
{
    ow_err err;
    redisContext *ctx = ow_cluster_node_context(c, node, &err);
    if (!ctx) return 0;
    redisReply *r = redisCommand(ctx, "INFO memory");
    long long v = 0;
    const char *p = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "used_memory:") : NULL;
    if (p) v = atoll(p + 12);
    if (r) freeReplyObject(r);
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: cluster_bench CLUSTER_DIR HOST:PORT [EVENTS] [PAYLOAD] [BATCH]\n");
        return 2;
    }
    dir = argv[1];
    long events = argc > 3 ? atol(argv[3]) : 600000;
    int payload = argc > 4 ? atoi(argv[4]) : 295;
    int batch = argc > 5 ? atoi(argv[5]) : 256;
    int wait = argc > 6 ? atoi(argv[6]) : 0;
    if (events < 1000 || payload < 1 || batch < 1) return 2;
    ow_redis_target seed;
    memset(&seed, 0, sizeof seed);
    if (ow_slotmap_parse_addr(argv[2], seed.host, sizeof seed.host, &seed.port)) return 2;
    ow_cluster_opts opts = {.timeout_ms = 10000, .retry_for_ms = 15000};
    ow_cluster *c;
    ow_err err;
    if (ow_cluster_open(&seed, 1, &opts, &c, &err)) {
        fprintf(stderr, "cluster_bench: %s\n", err.msg);
        return 1;
    }
    int moves;
    if (ow_reshard_place(c, 3, &moves, &err)) {
        fprintf(stderr, "cluster_bench: %s\n", err.msg);
        return 1;
    }
    char *pay = malloc((size_t)payload + 1);
    memset(pay, 'x', (size_t)payload);
    pay[payload] = '\0';
    char keys[3][64];
    for (int p = 0; p < 3; p++)
        ow_partition_rekey(keys[p], sizeof keys[p], p, OW_KEY_EVENTS);
    double rate1 = 0;
    ow_cluster_batch *b = ow_cluster_batch_new();
    if (wait > 0) ow_cluster_batch_wait(b, wait, 1000);
    size_t cap = (size_t)(events / batch + 2);
    double *rtt = malloc(cap * sizeof *rtt);
    for (int k = 1; k <= 3; k++) {
        size_t nrtt = 0;
        int unacked = 0;
        const ow_slotmap *m = ow_cluster_map(c);
        int node[3], port[3];
        for (int p = 0; p < 3; p++) {
            node[p] = m->owner[ow_partition_slot(p)];
            port[p] = m->nodes[node[p]].port;
            redisReply *r = ow_cluster_cmd(c, &err, "DEL", keys[p], "DEL %s", keys[p]);
            if (r) freeReplyObject(r);
        }
        long long mem0 = 0;
        double srv0 = 0;
        for (int p = 0; p < k; p++)
            mem0 += used_memory(c, node[p]), srv0 += server_cpu(port[p]);
        double cli0 = self_cpu();
        int64_t t0 = ow_clock_mono_us();
        long written = 0;
        while (written < events) {
            ow_cluster_batch_reset(b);
            for (int j = 0; j < batch * k && written + j < events; j++) {
                int p = j % k;
                ow_cluster_batch_addf(b, keys[p], "XADD %s MAXLEN ~ 2000000 * d %s", keys[p], pay);
            }
            int n = ow_cluster_batch_count(b);
            int64_t b0 = ow_clock_mono_us();
            if (ow_cluster_batch_exec(c, b, &err)) {
                fprintf(stderr, "cluster_bench: %s\n", err.msg);
                return 1;
            }
            if (nrtt < cap) rtt[nrtt++] = (double)(ow_clock_mono_us() - b0) / 1000.0;
            if (wait > 0)
                for (int j = 0; j < n; j++)
                    unacked += ow_cluster_batch_acked(b, j) < wait;
            written += n;
        }
        double secs = (double)(ow_clock_mono_us() - t0) / 1e6;
        double cli = self_cpu() - cli0, srv = -srv0;
        long long mem1 = 0;
        for (int p = 0; p < k; p++)
            mem1 += used_memory(c, node[p]), srv += server_cpu(port[p]);
        double rate = (double)written / secs;
        if (k == 1) rate1 = rate;
        qsort(rtt, nrtt, sizeof *rtt, by_value);
        printf("{\"bench\":\"cluster.xadd\",\"partitions\":%d,\"masters\":%d,\"events\":%ld,"
               "\"payload_bytes\":%d,\"batch_per_partition\":%d,\"wait_replicas\":%d,"
               "\"seconds\":%.2f,\"per_s\":%.0f,\"scaling_vs_1\":%.2f,\"round_trip_ms_p50\":%.2f,"
               "\"round_trip_ms_p99\":%.2f,\"unacknowledged\":%d,\"client_cpu_s\":%.2f,"
               "\"servers_cpu_s\":%.2f,\"per_cpu_s\":%.0f,\"bytes_per_entry\":%.0f,"
               "\"cores\":%ld}\n",
               k, k, written, payload, batch, wait, secs, rate, rate / rate1,
               nrtt ? rtt[nrtt / 2] : 0.0, nrtt ? rtt[nrtt * 99 / 100] : 0.0, unacked, cli, srv,
               (double)written / (cli + srv), (double)(mem1 - mem0) / (double)written,
               sysconf(_SC_NPROCESSORS_ONLN));
        fflush(stdout);
    }
    for (int p = 0; p < 3; p++) {
        redisReply *r = ow_cluster_cmd(c, &err, "DEL", keys[p], "DEL %s", keys[p]);
        if (r) freeReplyObject(r);
    }
    ow_cluster_batch_free(b);
    ow_cluster_free(c);
    free(rtt);
    free(pay);
    return 0;
}

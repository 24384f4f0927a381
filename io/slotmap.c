#include "slotmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ow_slotmap_init(ow_slotmap *m)
{
    m->nnodes = 0;
    memset(m->owner, 0xff, sizeof m->owner); /* every int16_t is -1 */
}

static const char *type_name(const redisReply *r)
{
    if (!r) return "nothing";
    switch (r->type) {
    case REDIS_REPLY_STRING: return "string";
    case REDIS_REPLY_ARRAY: return "array";
    case REDIS_REPLY_INTEGER: return "integer";
    case REDIS_REPLY_NIL: return "nil";
    case REDIS_REPLY_STATUS: return "status";
    case REDIS_REPLY_ERROR: return "error";
    default: return "unknown type";
    }
}

static bool is_str(const redisReply *r)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

static bool is_int(const redisReply *r, long long lo, long long hi, long long *out)
{
    if (!r || r->type != REDIS_REPLY_INTEGER || r->integer < lo || r->integer > hi) return false;
    *out = r->integer;
    return true;
}

static bool str_is(const redisReply *r, const char *s)
{
    return is_str(r) && r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

int ow_slotmap_add_node(ow_slotmap *m, const char *host, int port, bool master)
{
    for (int i = 0; i < m->nnodes; i++)
        if (m->nodes[i].port == port && strcmp(m->nodes[i].host, host) == 0) {
            if (master) m->nodes[i].master = true, m->nodes[i].replica_of = -1;
            return i;
        }
    size_t hl = strlen(host);
    if (m->nnodes >= OW_SLOTMAP_NODES_MAX || hl == 0 || hl >= OW_SLOTMAP_HOST_BUF) return -1;
    ow_slotmap_node *n = &m->nodes[m->nnodes];
    memset(n, 0, sizeof *n);
    memcpy(n->host, host, hl + 1);
    n->port = port;
    n->master = master;
    n->healthy = true;
    n->replica_of = -1;
    return m->nnodes++;
}

/* A host string from a reply: 1..255 bytes, no NUL, not "?" (unknown endpoint). */
static bool host_of(const redisReply *r, char *out)
{
    if (!is_str(r) || r->len == 0 || r->len >= OW_SLOTMAP_HOST_BUF ||
        memchr(r->str, '\0', r->len) || (r->len == 1 && r->str[0] == '?'))
        return false;
    memcpy(out, r->str, r->len);
    out[r->len] = '\0';
    return true;
}

/* Give slots [lo, hi] to node index `node`; a slot already given to another master is an error. */
static int claim(ow_slotmap *m, long long lo, long long hi, int node, const char *where,
                 ow_err *err)
{
    for (long long s = lo; s <= hi; s++) {
        if (m->owner[s] >= 0 && m->owner[s] != node)
            return ow_err_set(err, OW_EINVAL,
                              "%s: slot %lld is claimed by two masters (%s:%d and "
                              "%s:%d)",
                              where, s, m->nodes[m->owner[s]].host, m->nodes[m->owner[s]].port,
                              m->nodes[node].host, m->nodes[node].port);
        m->owner[s] = (int16_t)node;
    }
    return OW_OK;
}

/* ---- CLUSTER SHARDS: [ ["slots", [lo, hi, ...], "nodes", [ [k, v, ...], ... ]], ... ] ---- */

typedef struct {
    char host[OW_SLOTMAP_HOST_BUF];
    char ip[OW_SLOTMAP_HOST_BUF];
    char id[48];
    long long port;
    bool master, healthy, has_port, has_role;
} shard_node;

static int decode_node(const redisReply *r, shard_node *n, const char *where, ow_err *err)
{
    memset(n, 0, sizeof *n);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements % 2)
        return ow_err_set(err, OW_EINVAL, "%s: expected an array of field, value pairs, got %s",
                          where, type_name(r));
    for (size_t i = 0; i < r->elements; i += 2) {
        const redisReply *k = r->element[i], *v = r->element[i + 1];
        if (!is_str(k))
            return ow_err_set(err, OW_EINVAL, "%s: field name %zu: expected a string, got %s",
                              where, i / 2, type_name(k));
        if (str_is(k, "port")) {
            if (!is_int(v, 1, 65535, &n->port))
                return ow_err_set(err, OW_EINVAL,
                                  "%s: \"port\": expected an integer from 1 to 65535, got %s",
                                  where, type_name(v));
            n->has_port = true;
        } else if (str_is(k, "ip") || str_is(k, "endpoint")) {
            char *dst = str_is(k, "ip") ? n->ip : n->host;
            /* "?" or "" mean unknown: leave it empty and let the other field speak */
            if (!is_str(v))
                return ow_err_set(err, OW_EINVAL, "%s: \"%s\": expected a string, got %s", where,
                                  k->str, type_name(v));
            if (!host_of(v, dst)) dst[0] = '\0';
        } else if (str_is(k, "id")) {
            if (!is_str(v) || v->len >= sizeof n->id || memchr(v->str, '\0', v->len))
                return ow_err_set(err, OW_EINVAL, "%s: \"id\": expected a node id, got %s", where,
                                  type_name(v));
            memcpy(n->id, v->str, v->len);
            n->id[v->len] = '\0';
        } else if (str_is(k, "role")) {
            if (!str_is(v, "master") && !str_is(v, "replica"))
                return ow_err_set(err, OW_EINVAL,
                                  "%s: \"role\": expected \"master\" or \"replica\", got %s", where,
                                  type_name(v));
            n->master = str_is(v, "master");
            n->has_role = true;
        } else if (str_is(k, "health")) {
            if (!is_str(v))
                return ow_err_set(err, OW_EINVAL, "%s: \"health\": expected a string, got %s",
                                  where, type_name(v));
            n->healthy = str_is(v, "online");
        }
        /* other fields (hostname, tls-port, replication-offset, ...) are not needed */
    }
    if (!n->has_port || !n->has_role)
        return ow_err_set(err, OW_EINVAL, "%s: missing \"%s\"", where,
                          n->has_port ? "role" : "port");
    if (!n->host[0]) memcpy(n->host, n->ip, sizeof n->host);
    if (!n->host[0])
        return ow_err_set(err, OW_EINVAL, "%s: neither \"endpoint\" nor \"ip\" gives an address",
                          where);
    return OW_OK;
}

static int decode_shard(ow_slotmap *m, const redisReply *sh, size_t si, ow_err *err)
{
    char where[96];
    snprintf(where, sizeof where, "CLUSTER SHARDS: shard %zu", si);
    if (!sh || sh->type != REDIS_REPLY_ARRAY || sh->elements % 2)
        return ow_err_set(err, OW_EINVAL, "%s: expected an array of field, value pairs, got %s",
                          where, type_name(sh));
    const redisReply *slots = NULL, *nodes = NULL;
    for (size_t i = 0; i < sh->elements; i += 2) {
        if (str_is(sh->element[i], "slots")) slots = sh->element[i + 1];
        if (str_is(sh->element[i], "nodes")) nodes = sh->element[i + 1];
    }
    if (!slots || slots->type != REDIS_REPLY_ARRAY || slots->elements % 2)
        return ow_err_set(err, OW_EINVAL,
                          "%s: \"slots\": expected an array of start, end pairs, "
                          "got %s",
                          where, type_name(slots));
    if (!nodes || nodes->type != REDIS_REPLY_ARRAY)
        return ow_err_set(err, OW_EINVAL, "%s: \"nodes\": expected an array, got %s", where,
                          type_name(nodes));
    int master = -1, members[OW_SLOTMAP_NODES_MAX], nmembers = 0;
    for (size_t i = 0; i < nodes->elements; i++) {
        char nwhere[128];
        snprintf(nwhere, sizeof nwhere, "%s: node %zu", where, i);
        shard_node n;
        int rc = decode_node(nodes->element[i], &n, nwhere, err);
        if (rc) return rc;
        int idx = ow_slotmap_add_node(m, n.host, (int)n.port, n.master);
        if (idx < 0)
            return ow_err_set(err, OW_ETOOBIG, "%s: more than %d nodes", nwhere,
                              OW_SLOTMAP_NODES_MAX);
        memcpy(m->nodes[idx].id, n.id, sizeof n.id);
        m->nodes[idx].healthy = n.healthy;
        if (nmembers < OW_SLOTMAP_NODES_MAX) members[nmembers++] = idx;
        if (n.master) {
            if (master >= 0 && master != idx)
                return ow_err_set(err, OW_EINVAL, "%s: two masters (%s:%d and %s:%d)", where,
                                  m->nodes[master].host, m->nodes[master].port, n.host,
                                  (int)n.port);
            master = idx;
        }
    }
    if (slots->elements && master < 0)
        return ow_err_set(err, OW_EINVAL, "%s: has slots but no master", where);
    for (int i = 0; i < nmembers; i++)
        if (!m->nodes[members[i]].master) m->nodes[members[i]].replica_of = master;
    for (size_t i = 0; i < slots->elements; i += 2) {
        long long lo, hi;
        if (!is_int(slots->element[i], 0, OW_CLUSTER_SLOTS - 1, &lo) ||
            !is_int(slots->element[i + 1], 0, OW_CLUSTER_SLOTS - 1, &hi) || lo > hi)
            return ow_err_set(err, OW_EINVAL,
                              "%s: \"slots\" pair %zu: expected start <= end, "
                              "both integers from 0 to 16383",
                              where, i / 2);
        int rc = claim(m, lo, hi, master, where, err);
        if (rc) return rc;
    }
    return OW_OK;
}

int ow_slotmap_from_shards(ow_slotmap *m, const redisReply *r, ow_err *err)
{
    ow_slotmap_init(m);
    int rc = OW_OK;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        rc = ow_err_set(err, OW_EINVAL, "CLUSTER SHARDS: expected an array of shards, got %s",
                        type_name(r));
    for (size_t i = 0; !rc && i < r->elements; i++)
        rc = decode_shard(m, r->element[i], i, err);
    if (rc) ow_slotmap_init(m);
    return rc;
}

/* ---- CLUSTER SLOTS: [ [lo, hi, [ip, port, id, ...], [replica...], ...], ... ] ---- */

static int slots_node(ow_slotmap *m, const redisReply *r, bool master, const char *where,
                      ow_err *err)
{
    char host[OW_SLOTMAP_HOST_BUF];
    long long port;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2)
        return ow_err_set(err, OW_EINVAL, "%s: expected [ip, port, ...], got %s", where,
                          type_name(r));
    if (!host_of(r->element[0], host))
        return ow_err_set(err, OW_EINVAL, "%s: ip: expected a host of 1 to 255 bytes, got %s",
                          where, type_name(r->element[0]));
    if (!is_int(r->element[1], 1, 65535, &port))
        return ow_err_set(err, OW_EINVAL, "%s: port: expected an integer from 1 to 65535, got %s",
                          where, type_name(r->element[1]));
    int idx = ow_slotmap_add_node(m, host, (int)port, master);
    if (idx < 0)
        return ow_err_set(err, OW_ETOOBIG, "%s: more than %d nodes", where, OW_SLOTMAP_NODES_MAX);
    const redisReply *id = r->elements > 2 ? r->element[2] : NULL;
    if (is_str(id) && id->len < sizeof m->nodes[idx].id && !memchr(id->str, '\0', id->len)) {
        memcpy(m->nodes[idx].id, id->str, id->len);
        m->nodes[idx].id[id->len] = '\0';
    }
    return idx;
}

int ow_slotmap_from_slots(ow_slotmap *m, const redisReply *r, ow_err *err)
{
    ow_slotmap_init(m);
    int rc = OW_OK;
    if (!r || r->type != REDIS_REPLY_ARRAY)
        rc = ow_err_set(err, OW_EINVAL, "CLUSTER SLOTS: expected an array of ranges, got %s",
                        type_name(r));
    for (size_t i = 0; !rc && i < r->elements; i++) {
        const redisReply *e = r->element[i];
        char where[96];
        snprintf(where, sizeof where, "CLUSTER SLOTS: range %zu", i);
        long long lo, hi;
        if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 3) {
            rc = ow_err_set(err, OW_EINVAL,
                            "%s: expected [start, end, master, replicas...], got "
                            "%s",
                            where, type_name(e));
            break;
        }
        if (!is_int(e->element[0], 0, OW_CLUSTER_SLOTS - 1, &lo) ||
            !is_int(e->element[1], 0, OW_CLUSTER_SLOTS - 1, &hi) || lo > hi) {
            rc = ow_err_set(err, OW_EINVAL,
                            "%s: expected start <= end, both integers from 0 to "
                            "16383",
                            where);
            break;
        }
        int master = -1;
        for (size_t k = 2; k < e->elements; k++) {
            char nwhere[128];
            snprintf(nwhere, sizeof nwhere, "%s: node %zu", where, k - 2);
            int idx = slots_node(m, e->element[k], k == 2, nwhere, err);
            if (idx < 0) {
                rc = idx;
                break;
            }
            if (k == 2)
                master = idx;
            else if (!m->nodes[idx].master)
                m->nodes[idx].replica_of = master;
        }
        if (!rc) rc = claim(m, lo, hi, master, where, err);
    }
    if (rc) ow_slotmap_init(m);
    return rc;
}

int ow_slotmap_parse_addr(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= hostlen) return OW_EINVAL;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || p < 1 || p > 65535) return OW_EINVAL;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (int)p;
    return OW_OK;
}

int ow_slotmap_replicas(const ow_slotmap *m, int master)
{
    int n = 0;
    for (int i = 0; i < m->nnodes; i++)
        n += m->nodes[i].replica_of == master && master >= 0;
    return n;
}

int ow_slotmap_covered(const ow_slotmap *m, int *masters)
{
    int covered = 0, distinct = 0;
    bool seen[OW_SLOTMAP_NODES_MAX] = {false};
    for (int s = 0; s < OW_CLUSTER_SLOTS; s++) {
        int o = m->owner[s];
        if (o < 0) continue;
        covered++;
        if (!seen[o]) seen[o] = true, distinct++;
    }
    if (masters) *masters = distinct;
    return covered;
}

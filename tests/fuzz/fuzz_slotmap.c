/*
 * fuzz_slotmap — the CLUSTER SHARDS / CLUSTER SLOTS decoders (io/slotmap.c) on reply trees built
 * from the fuzz bytes by hiredis' own RESP reader, the path a node's answer takes.
 *
 * Oracles: on success every slot's owner is -1 or a master of the map, every node has a
 * terminated, non-empty host and a port in range; on error the message is set and the map is
 * empty. MOVED/ASK address parsing is run on the same bytes.
 */
#include <hiredis/hiredis.h>
#include <string.h>

#include "fuzz_common.h"
#include "slotmap.h"
#include "reader.h"

static void check_map(const ow_slotmap *m, int rc, const ow_err *err)
{
    if (rc != OW_OK) {
        fuzz_require(err->code == rc && err->msg[0], "error with message");
        static ow_slotmap empty;
        if (empty.owner[0] == 0) ow_slotmap_init(&empty);
        fuzz_require(m->nnodes == 0 && memcmp(m->owner, empty.owner, sizeof m->owner) == 0,
                     "empty after error");
        return;
    }
    fuzz_require(m->nnodes >= 0 && m->nnodes <= OW_SLOTMAP_NODES_MAX, "node count");
    for (int i = 0; i < m->nnodes; i++) {
        const ow_slotmap_node *n = &m->nodes[i];
        fuzz_require(memchr(n->host, '\0', sizeof n->host) && n->host[0], "host set");
        fuzz_require(memchr(n->id, '\0', sizeof n->id) != NULL, "id terminated");
        fuzz_require(n->port >= 1 && n->port <= 65535, "port range");
        fuzz_require(n->replica_of >= -1 && n->replica_of < m->nnodes, "replica_of index");
        fuzz_require(n->replica_of < 0 || (!n->master && m->nodes[n->replica_of].master),
                     "a replica of a master");
    }
    for (int s = 0; s < OW_CLUSTER_SLOTS; s++) {
        int o = m->owner[s];
        fuzz_require(o >= -1 && o < m->nnodes, "owner index");
        fuzz_require(o < 0 || m->nodes[o].master, "owner is a master");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ow_slotmap map; /* 330 KB: not on the stack */
    redisReader *rd = redisReaderCreate();
    if (!rd) return 0;
    ow_redis_reader_cap(rd); /* as every connection of opswall's: io/redis.h */
    if (redisReaderFeed(rd, (const char *)data, size) == REDIS_OK) {
        void *reply = NULL;
        while (redisReaderGetReply(rd, &reply) == REDIS_OK && reply) {
            ow_err err;
            ow_err_clear(&err);
            check_map(&map, ow_slotmap_from_shards(&map, reply, &err), &err);
            ow_err_clear(&err);
            check_map(&map, ow_slotmap_from_slots(&map, reply, &err), &err);
            freeReplyObject(reply);
            reply = NULL;
        }
    }
    redisReaderFree(rd);

    char text[300], host[OW_SLOTMAP_HOST_BUF];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    int port = 0;
    if (ow_slotmap_parse_addr(text, host, sizeof host, &port) == OW_OK)
        fuzz_require(port >= 1 && port <= 65535 && memchr(host, '\0', sizeof host), "address");
    return 0;
}

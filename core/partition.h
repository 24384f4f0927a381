/*
 * partition — which partition a region belongs to, and the Redis keys of any partition.
 *
 * opswall splits its work by region into N partitions (config `cluster.partitions`, 1 on a single
 * Redis). Every key of partition p carries the hash tag "{p<p>}" ("ops:{p3}:events"), so all of a
 * partition's keys sit in one Redis Cluster slot: multi-key scripts (ingest's dedup + XADD) stay
 * atomic, and a single node is the same layout with one partition — moving to a cluster needs no
 * renaming. core/keys.h's OW_KEY(name) macros are partition 0's keys, spelled at compile time.
 *
 * A region's partition is its entry in the table file named by `cluster.regions` when it is
 * listed there, otherwise a stable hash: FNV-1a (32 bit) of the region's UTF-8 bytes, modulo N.
 * The hash is frozen (tests pin its values): changing it would move regions between partitions.
 *
 * The table file is one JSON object, region → partition number: {"north": 0, "harbour": 2}.
 * Parsing is strict and names the file and the region in every message.
 *
 * Pure: text in, no file reads (io/files.h reads the file).
 */
#ifndef OW_PARTITION_H
#define OW_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "event.h"

#define OW_PARTITIONS_MAX        1024 /* cluster.partitions upper bound */
#define OW_PARTITION_REGIONS_MAX 4096 /* entries in a table file */
#define OW_PARTITION_KEY_MAX     512  /* longest key ow_partition_key builds, bytes with NUL */

typedef struct ow_partition_entry {
    char region[OW_NAME_BUF];
    int partition;
} ow_partition_entry;

/* A region → partition table. Fill with ow_partition_table_init or _parse; free with _fini. */
typedef struct ow_partition_table {
    int n;                 /* number of partitions, 1..OW_PARTITIONS_MAX */
    ow_partition_entry *v; /* explicit entries, sorted by region (bytewise); owned */
    int nv;
} ow_partition_table;

/* A table with no explicit entries: every region goes by the hash. n is clamped to 1..MAX. */
void ow_partition_table_init(ow_partition_table *t, int n);

/* Parse a table file's text for n partitions over an initialised table. `source` (the file name)
 * prefixes messages, e.g.
 *   config/partitions.json: "harbour": expected a partition from 0 to 2, got 3
 * On error the table is left with no explicit entries. */
int ow_partition_table_parse(ow_partition_table *t, int n, const char *text, size_t len,
                             const char *source, ow_err *err);

void ow_partition_table_fini(ow_partition_table *t);

/* The partition (0..n-1) of a region: its table entry, else the hash. "" hashes like any name. */
int ow_partition_of(const ow_partition_table *t, const char *region);

/* FNV-1a, 32 bit, of n bytes: the frozen default placement (value % partitions). */
uint32_t ow_partition_hash(const char *s, size_t n);

/* Build "ops:{p<partition>}:<name>" into out[n]. name may itself end in a prefix the caller
 * completes ("seen:"). Returns the key's length, or OW_ETOOBIG when it does not fit and
 * OW_EINVAL for a partition outside 0..OW_PARTITIONS_MAX-1 (out is then ""). */
int ow_partition_key(char *out, size_t n, int partition, const char *name);

/* The same key of another partition: key0 is a partition-0 key of core/keys.h ("ops:{p0}:..."),
 * out[n] gets it with the tag of `partition`. Returns the length, OW_ETOOBIG, or OW_EINVAL when
 * key0 does not start with "ops:{p0}:" or the partition is out of range (out is then ""). */
int ow_partition_rekey(char *out, size_t n, int partition, const char *key0);

/* The hash tag of a partition, "{p3}", into out[n] (n >= 16). */
void ow_partition_tag(char *out, size_t n, int partition);

/* Parse a set of partitions for n partitions ("0,2"; "" = all) into want[n] (true = in the set).
 * Errors name the setting engine.partitions, e.g.
 *   engine.partitions: "4": expected partition numbers from 0 to 2 separated by commas */
int ow_partition_set_parse(const char *text, int n, bool *want, ow_err *err);

/* The Redis Cluster slot every key of the partition maps to. */
int ow_partition_slot(int partition);

#endif

/*
 * reader — hiredis readers with opswall's bounds on what a reply may make them allocate.
 */
#ifndef OW_READER_H
#define OW_READER_H

#include <hiredis/hiredis.h>

/* The most elements one reply may declare for an array. hiredis 0.14 allocates what a multi-bulk
 * header says before any element arrives: "*444444440" from a broken or hostile server is a
 * 3.5 GB calloc (the slot-map fuzzer found it). The largest real reply is notify's HGETALL of the
 * alerts it holds, two elements per alert: 1.6 M for the 819,449 open alerts of the 200,000-order
 * storm (README, analytics); the bound is ten times that (a 134 MB array at most). A larger
 * header fails the reply as hiredis fails an allocation ("Out of memory"): the connection is
 * dropped and made again. */
#define OW_REDIS_MAX_ELEMENTS (1 << 24)

/* Put that bound on reader r (a context's c->reader, an async context's ac->c.reader, a bare
 * redisReaderCreate()): its default reply functions become the same functions with the array
 * size checked. A reader whose functions are not hiredis's defaults is left as it is. Thread-safe.
 */
void ow_redis_reader_cap(redisReader *r);

#endif

#include "reader.h"

#include <pthread.h>

/* hiredis's default reply functions, and the same with the array bound (ow_redis_reader_cap) */
static const redisReplyObjectFunctions *default_fns;
static redisReplyObjectFunctions capped_fns;
static pthread_once_t capped_once = PTHREAD_ONCE_INIT;

static void *capped_array(const redisReadTask *task, int elements)
{
    if (elements > OW_REDIS_MAX_ELEMENTS) return NULL; /* hiredis: "Out of memory", reader fails */
    return default_fns->createArray(task, elements);
}

static void capped_init(void)
{
    redisReader *r = redisReaderCreate(); /* the defaults are hiredis's own static table */
    if (!r) return;
    default_fns = r->fn;
    capped_fns = *r->fn;
    capped_fns.createArray = capped_array;
    redisReaderFree(r);
}

void ow_redis_reader_cap(redisReader *r)
{
    pthread_once(&capped_once, capped_init);
    if (r && default_fns && r->fn == default_fns) r->fn = &capped_fns;
}

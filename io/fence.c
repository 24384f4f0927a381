#include "fence.h"

#include <string.h>

#include "redis.h"

/* The allowed commands are the engine's writes and its group read (XREADGROUP moves the group's
 * position: a stale engine must not take entries the new holder would then never see). */
static const char library[] =
    "#!lua name=" OW_FENCE_LIBRARY "\n"
    "local allowed = {XADD = true, XTRIM = true, XACK = true, SET = true, PUBLISH = true,\n"
    "                 XREADGROUP = true, XREAD = true}\n"
    "local function ow_fenced(keys, args)\n"
    "  if redis.call('GET', keys[1]) ~= args[1] then\n"
    "    return redis.error_reply('FENCED ' .. keys[1] .. ' is no longer held by this engine')\n"
    "  end\n"
    "  local cmd = args[2] and string.upper(args[2])\n"
    "  if not allowed[cmd] then\n"
    "    return redis.error_reply('ERR " OW_FENCE_FUNCTION ": command not allowed: ' .. "
    "tostring(args[2]))\n"
    "  end\n"
    "  return redis.call(unpack(args, 2))\n"
    "end\n"
    "redis.register_function('" OW_FENCE_FUNCTION "', ow_fenced)\n"
    /* the lease's compare-and-act steps (io/lease.c): Functions, so the ACL needs no EVAL */
    "redis.register_function('" OW_FENCE_LEASE_RENEW "', function(keys, args)\n"
    "  if redis.call('GET', keys[1]) == args[1] then\n"
    "    return redis.call('PEXPIRE', keys[1], args[2])\n"
    "  end\n"
    "  return 0\n"
    "end)\n"
    "redis.register_function('" OW_FENCE_LEASE_RELEASE "', function(keys, args)\n"
    "  if redis.call('GET', keys[1]) == args[1] then return redis.call('DEL', keys[1]) end\n"
    "  return 0\n"
    "end)\n";

const char *ow_fence_library(void)
{
    return library;
}

int ow_fence_load(redisContext *c, ow_err *err)
{
    return ow_redis_function_load(c, library, "loading the fencing Redis Function", err);
}

int ow_fence_load_all(ow_cluster *c, ow_err *err)
{
    return ow_cluster_function_load(c, library, "loading the fencing Redis Function", err);
}

bool ow_fence_refused(const char *msg)
{
    return msg && strstr(msg, "FENCED ") != NULL;
}

#include "fence.h"

#include <string.h>

#include "redis.h"

/* The allowed commands are the engine's writes and its group read (XREADGROUP moves the group's
 * position: a stale engine must not take entries the new holder would then never see). */
static const char library[] =
    "#!lua name=" OW_FENCE_LIBRARY "\n"
    "local allowed = {XADD = true, XACK = true, SET = true, PUBLISH = true, XREADGROUP = true,\n"
    "                 XREAD = true}\n"
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
    "redis.register_function('" OW_FENCE_FUNCTION "', ow_fenced)\n";

const char *ow_fence_library(void)
{
    return library;
}

int ow_fence_load(redisContext *c, ow_err *err)
{
    redisReply *r = ow_redis_cmd(c, err, "loading the fencing Redis Function",
                                 "FUNCTION LOAD REPLACE %s", library);
    if (!r) return OW_EREDIS;
    freeReplyObject(r);
    return OW_OK;
}

bool ow_fence_refused(const char *msg)
{
    return msg && strstr(msg, "FENCED ") != NULL;
}

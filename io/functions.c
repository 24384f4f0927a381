#include "functions.h"

#include "keys.h"
#include "redis.h"

static const char library[] =
    "#!lua name=" OW_FUNCTION_LIBRARY "\n"
    "local function ow_append(keys, args)\n"
    "  local out = {}\n"
    "  for i = 2, #keys do\n"
    "    local a = 3 + (i - 2) * 3\n"
    "    if redis.call('SET', keys[i], '1', 'NX', 'PX', args[1]) then\n"
    "      out[#out + 1] = redis.call('XADD', keys[1], 'MAXLEN', '~', args[2], '*',\n"
    "                                 'ts', args[a], 'type', args[a + 1], 'd', args[a + 2])\n"
    "    else\n"
    "      out[#out + 1] = false\n"
    "    end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "redis.register_function('" OW_FUNCTION_APPEND "', ow_append)\n";

int ow_functions_load(redisContext *c, ow_err *err)
{
    redisReply *r = ow_redis_cmd(c, err, "loading opswall's Redis Functions (needs Redis >= 7)",
                                 "FUNCTION LOAD REPLACE %s", library);
    if (!r) return OW_EREDIS;
    freeReplyObject(r);
    return OW_OK;
}

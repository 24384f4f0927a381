#include "route_library.h"

#include "keys.h"

/* One SET NX per event rather than ow_ingest's bucketed sets: a routed call holds the events of
 * one partition only, and a key per id needs no clock agreement between the masters. */
static const char library[] =
    "#!lua name=" OW_ROUTE_LIBRARY "\n"
    "local function ow_append(keys, args)\n"
    "  local out, k = {}, 0\n"
    "  for i = 3, #args, 4 do\n"
    "    k = k + 1\n"
    "    local id, raw, wm, sseq = args[i], args[i + 1], args[i + 2], args[i + 3]\n"
    "    if id == '' then\n"
    "      out[k] = redis.call('XADD', keys[1], 'MAXLEN', '~', args[2], '*', 'tick', wm, 'sseq', "
    "sseq)\n"
    "    elseif redis.call('SET', keys[2] .. id, '1', 'NX', 'PX', args[1]) then\n"
    "      if keys[3] then\n"
    "        local n = redis.call('INCR', keys[3])\n"
    "        redis.call('XADD', keys[1], 'MAXLEN', '~', args[2], '*', 'd', raw, 'wm', wm, 'sseq', "
    "sseq, 'n', n)\n"
    "        out[k] = n\n"
    "      else\n"
    "        out[k] = redis.call('XADD', keys[1], 'MAXLEN', '~', args[2], '*', 'd', raw, 'wm', wm, "
    "'sseq', sseq)\n"
    "      end\n"
    "    else\n"
    "      out[k] = 0\n"
    "    end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "local function ow_park(keys, args)\n"
    "  local out, k = {}, 0\n"
    "  for i = 2, #args, 3 do\n"
    "    k = k + 1\n"
    "    if redis.call('SET', keys[2] .. args[i], '1', 'NX', 'PX', args[1]) then\n"
    "      out[k] = redis.call('XADD', keys[1], '*', 'id', args[i], 'key', args[i + 1], 'd', "
    "args[i + 2])\n"
    "    else\n"
    "      out[k] = 0\n"
    "    end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "redis.register_function('" OW_FUNCTION_APPEND "', ow_append)\n"
    "redis.register_function('" OW_FUNCTION_PARK "', ow_park)\n";

const char *ow_route_library(void)
{
    return library;
}

int ow_route_library_load(ow_cluster *c, ow_err *err)
{
    return ow_cluster_function_load(c, library, "loading the routed-ingest Redis Function", err);
}

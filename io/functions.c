#include "functions.h"

#include "keys.h"
#include "redis.h"

/* ow_ingest checks every event id of a batch against the de-dup buckets with one SMISMEMBER per
 * bucket (newest first, only for the ids still unseen), XADDs the new events and records their
 * ids with one SADD: a few calls per batch instead of a SET per event, which is what makes
 * exactly-once affordable (TOOLCHAIN.md: ~4 µs per event instead of ~7 µs plus a key each).
 * Buckets are numbered by Redis's own clock, so ingest processes on different machines agree.
 * The stream is trimmed (MAXLEN ~) once per call rather than per XADD: the same bound, fewer
 * arguments per event. */
static const char library[] =
    "#!lua name=" OW_FUNCTION_LIBRARY "\n"
    "local function ow_ingest(keys, args)\n"
    "  local bucket_ms, nb = tonumber(args[1]), tonumber(args[2])\n"
    "  local t = redis.call('TIME')\n"
    "  local cur = math.floor((tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) / "
    "bucket_ms)\n"
    "  local out, ids, at, raw, inbatch = {}, {}, {}, {}, {}\n"
    "  local k, i = 0, 5\n"
    "  while i <= #args do\n"
    "    k = k + 1\n"
    "    if args[i] == 'e' then\n"
    "      local id = args[i + 1]\n"
    "      if inbatch[id] then out[k] = 0 else\n"
    "        inbatch[id] = true\n"
    "        ids[#ids + 1] = id; at[#at + 1] = k; raw[#raw + 1] = args[i + 2]\n"
    "      end\n"
    "      i = i + 3\n"
    "    else\n"
    "      out[k] = redis.call('XADD', keys[3], 'MAXLEN', '~', args[4], '*', 'reason', args[i + "
    "1],\n"
    "                          'source', args[i + 2], 'pos', args[i + 3], 'raw', args[i + 4])\n"
    "      i = i + 5\n"
    "    end\n"
    "  end\n"
    "  for b = cur, cur - nb, -1 do\n"
    "    if #ids == 0 then break end\n"
    "    local key = keys[2] .. b\n"
    "    if redis.call('EXISTS', key) == 1 then\n"
    "      local seen = redis.call('SMISMEMBER', key, unpack(ids))\n"
    "      local ids2, at2, raw2 = {}, {}, {}\n"
    "      for j = 1, #ids do\n"
    "        if seen[j] == 1 then out[at[j]] = 0 else\n"
    "          ids2[#ids2 + 1] = ids[j]; at2[#at2 + 1] = at[j]; raw2[#raw2 + 1] = raw[j]\n"
    "        end\n"
    "      end\n"
    "      ids, at, raw = ids2, at2, raw2\n"
    "    end\n"
    "  end\n"
    "  if #ids > 0 then\n"
    "    for j = 1, #ids do\n"
    "      out[at[j]] = redis.call('XADD', keys[1], '*', 'd', raw[j])\n"
    "    end\n"
    "    redis.call('XTRIM', keys[1], 'MAXLEN', '~', args[3])\n"
    "    local key = keys[2] .. cur\n"
    "    redis.call('SADD', key, unpack(ids))\n"
    "    redis.call('PEXPIRE', key, bucket_ms * (nb + 1), 'NX')\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "redis.register_function('" OW_FUNCTION_INGEST "', ow_ingest)\n";

const char *ow_functions_library(void)
{
    return library;
}

int ow_functions_load(redisContext *c, ow_err *err)
{
    redisReply *r = ow_redis_cmd(c, err, "loading opswall's Redis Functions (needs Redis >= 7)",
                                 "FUNCTION LOAD REPLACE %s", library);
    if (!r) return OW_EREDIS;
    freeReplyObject(r);
    return OW_OK;
}

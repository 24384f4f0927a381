#include "functions.h"

#include "keys.h"
#include "redis.h"

/* ow_ingest checks every event id of a batch against the de-dup buckets with one SMISMEMBER per
 * bucket (newest first, only for the ids still unseen), XADDs the new events and records their
 * ids with one SADD: a few calls per batch instead of a SET per event, which is what makes
 * exactly-once affordable (TOOLCHAIN.md: ~4 µs per event instead of ~7 µs plus a key each).
 * Buckets are numbered by Redis's own clock, so ingest processes on different machines agree.
 * The stream is trimmed (MAXLEN ~) once per call rather than per XADD: the same bound, fewer
 * arguments per event.
 *
 * Per event the work outside the XADD and the two set operations is what the 2x budget against a
 * plain XADD is spent on (docs/ingest.md, "Throughput"), so: an event is two arguments (no kind
 * marker: an empty id, which no valid event has, starts a reject); the ids still unseen are kept
 * as positions into ARGV and compacted in place after each bucket (no new tables per bucket); and
 * the same id twice in one call is found by the SADD's count (it adds fewer than it was given,
 * none being in a bucket), so the table of ids that finds which is built only then — it was ~6 %
 * of Redis's instructions per event when built for every call.
 * Order: one XADD comes before the SADD. It is the one that fails if the stream key holds
 * another type; once it succeeded no later XADD of the call can fail (a function's writes after
 * its first are not refused for memory), so an id is never recorded without its event. */
static const char library[] =
    "#!lua name=" OW_FUNCTION_LIBRARY "\n"
    "local function ow_ingest(keys, args)\n"
    "  local bucket_ms, nb = tonumber(args[1]), tonumber(args[2])\n"
    "  local t = redis.call('TIME')\n"
    "  local cur = math.floor((tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) / "
    "bucket_ms)\n"
    "  local out, ids, ks, at = {}, {}, {}, {}\n"
    "  local n, k, i, na = 0, 0, 5, #args\n"
    "  while i <= na do\n"
    "    k = k + 1\n"
    "    local id = args[i]\n"
    "    if id ~= '' then\n"
    "      out[k] = 0\n"
    "      n = n + 1; ids[n] = id; ks[n] = k; at[n] = i + 1\n"
    "      i = i + 2\n"
    "    else\n"
    "      out[k] = redis.call('XADD', keys[3], 'MAXLEN', '~', args[4], '*', 'reason', args[i + "
    "1],\n"
    "                          'source', args[i + 2], 'pos', args[i + 3], 'raw', args[i + 4])\n"
    "      i = i + 5\n"
    "    end\n"
    "  end\n"
    "  for b = cur, cur - nb, -1 do\n"
    "    if n == 0 then break end\n"
    "    local key = keys[2] .. b\n"
    "    if redis.call('EXISTS', key) == 1 then\n"
    "      local seen, m = redis.call('SMISMEMBER', key, unpack(ids, 1, n)), 0\n"
    "      for j = 1, n do\n"
    "        if seen[j] == 0 then\n"
    "          m = m + 1; ids[m] = ids[j]; ks[m] = ks[j]; at[m] = at[j]\n"
    "        end\n"
    "      end\n"
    "      n = m\n"
    "    end\n"
    "  end\n"
    "  if n > 0 then\n"
    "    local ev, key = keys[1], keys[2] .. cur\n"
    "    out[ks[1]] = redis.call('XADD', ev, '*', 'd', args[at[1]])\n"
    "    if redis.call('SADD', key, unpack(ids, 1, n)) == n then\n"
    "      for j = 2, n do\n"
    "        out[ks[j]] = redis.call('XADD', ev, '*', 'd', args[at[j]])\n"
    "      end\n"
    "    else\n"
    "      local once = {[ids[1]] = true}\n"
    "      for j = 2, n do\n"
    "        local id = ids[j]\n"
    "        if not once[id] then\n"
    "          once[id] = true\n"
    "          out[ks[j]] = redis.call('XADD', ev, '*', 'd', args[at[j]])\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "    redis.call('PEXPIRE', key, bucket_ms * (nb + 1), 'NX')\n"
    "    redis.call('XTRIM', ev, 'MAXLEN', '~', args[3])\n"
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
    return ow_redis_function_load(c, library,
                                  "loading opswall's Redis Functions (needs Redis >= 7)", err);
}

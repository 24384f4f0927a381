#!/usr/bin/env bash
# Soak (issue 9): every part up for a long time at 10× a normal day's traffic with 1,000 viewers.
#
#   scripts/soak.sh [--minutes 30] [--warmup 1200] [--viewers 1000] [--factor 10] [--bin build/bin]
#
# A normal day is opswall-run's default: 240 new orders an hour, 60 technicians. 10× its traffic
# is that day played at 10× speed (opswall-run --speed 10: ten times the events per second, the
# engine on the event clock), as load tests of a day's volume do. The soak runs opswall-run
# (private Redis, engine, feed, wallboard offscreen, the simulator into ingest), connects VIEWERS
# websocket viewers to the feed with bench/feed_load (bin/feed_load), and samples each process at
# the end of the warm-up (the open orders of a day start at zero and fill up for about three
# simulated hours; --warmup 1200 at 10× is 3.3 simulated hours) and again MINUTES later, at the end:
# resident memory (VmRSS, KiB), open file descriptors, and the lag (stream entries not yet
# delivered to the engine, entries delivered but not acknowledged, how long ago the feed received
# the last snapshot), with the open orders for context. Prints one JSON line: {"start":{...},"end":{...},"viewers":{...},
# "flat":true|false,...}; exits 1 when a figure is not flat (RSS grown by more than 20 % + 16 MiB,
# more than 8 descriptors more, more than 5 s of lag at the end) or a viewer was lost.
# Every bounded store is given a cap the run reaches during the warm-up (the streams' MAXLEN, the
# notification log): flat means bounded, and a cap of millions of entries would still be filling
# at the end of half an hour. Not part of scripts/test.sh (it takes warm-up + MINUTES). Traffic
# stays on 127.0.0.1.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
minutes=30 warm=1200 viewers=1000 factor=10 BIN=$SRC/build/bin
while [ $# -gt 0 ]; do
  case $1 in
  --minutes) minutes=$2; shift 2 ;;
  --viewers) viewers=$2; shift 2 ;;
  --warmup) warm=$2; shift 2 ;;
  --factor) factor=$2; shift 2 ;;
  --bin) BIN=$(cd "$2" && pwd); shift 2 ;;
  -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
  *) echo "soak.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$minutes$viewers$factor$warm" in *[!0-9]*) echo "soak.sh: numbers expected" >&2; exit 2 ;; esac
for p in opswall-run opswall-engine opswall-feed opswall-wallboard opswall-ingest opswall-sim feed_load; do
  [ -x "$BIN/$p" ] || { echo "soak.sh: $BIN/$p missing: build first (scripts/build.sh plain)" >&2; exit 2; }
done
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
secs=$((warm + minutes * 60)) # the whole run
tmp=$(mktemp -d /tmp/ow-soak.XXXXXX)
RUN= VIEW=
cleanup() {
  set +e # the verdict stands, whatever a kill below returns
  [ -n "$VIEW" ] && kill -- "-$VIEW" 2>/dev/null # the group: feed_load's --procs children too
  if [ -n "$RUN" ]; then
    kill -INT "$RUN" 2>/dev/null
    for _ in $(seq 150); do kill -0 "$RUN" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$RUN" 2>/dev/null
  fi
  [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
token=soak-$RANDOM$RANDOM
mkdir -p "$tmp/config"
python3 - "$SRC" "$tmp" "$port" "$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)" <<'PY'
import json, sys
src, tmp, port, sha = sys.argv[1:5]
c = json.load(open(src + "/config/opswall.json"))
c["redis"]["data_dir"] = tmp + "/data"
c["feed"]["port"] = int(port)
c["feed"]["web_root"] = src + "/assets/web"
c["wallboard"]["font"] = src + "/assets/fonts/DejaVuSans.ttf"
c["wallboard"]["layout"] = src + "/config/wallboard/default.json"
c["city"]["regions"] = src + "/assets/cities/sample/regions.geojson"
# notify is one of the parts: its routing file by absolute path (a relative one is read from the
# config file's directory, here tmp/config) and any free port for its API (the machine is shared)
c["notify"]["config"] = src + "/config/notify.json"
c["notify"]["port"] = 0
# caps the warm-up reaches (see above): about a quarter of an hour of the run's events, ten minutes
# of its alerts, the last 100 notifications
c["streams"]["events_maxlen"] = 5000
c["streams"]["rejects_maxlen"] = 5000
c["notify"]["log_keep"] = 100
c["notify"]["stream_maxlen"] = 1000
c.setdefault("access", {})["tokens"] = [{"name": "soak", "role": "viewer", "sha256": sha}]
json.dump(c, open(tmp + "/config/opswall.json", "w"), indent=2)
PY
unset OPSWALL_REDIS_URL OPSWALL_DATA_DIR OPSWALL_FEED_PORT DISPLAY WAYLAND_DISPLAY SDL_VIDEODRIVER
"$BIN/opswall-run" --config "$tmp/config/opswall.json" --speed "$factor" --orders-per-hour 240 \
  --techs 60 --seed 99 > "$tmp/run.out" 2> "$tmp/run.log" &
RUN=$!
sock=$tmp/data/redis.sock
for _ in $(seq 300); do
  curl -sf "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"status": *"ok"' && break
  sleep 0.1
done
# in a process group of its own (setsid), so that the cleanup ends its worker processes too
setsid "$BIN/feed_load" view --port "$port" --token "$token" --clients "$viewers" --procs 2 \
  --seconds "$secs" --warmup 10 > "$tmp/view.out" 2> "$tmp/view.err" &
VIEW=$!

# sample: one JSON object with, per process, rss_kb and fds; the lag figures; the counts
sample() {
  python3 - "$RUN" "$sock" "$port" <<'PY'
import json, os, subprocess, sys, time, urllib.request
run, sock, port = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = {"t": round(time.time(), 1), "procs": {}}
def kids(pid):
    try:
        return [int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []
pids = {"run": run}
for k in kids(run):
    try:
        name = os.path.basename(open(f"/proc/{k}/cmdline").read().split("\0")[0])
    except OSError:
        continue
    if not name.startswith("opswall-"):
        continue  # the private redis-server (its title is rewritten): sampled below
    pids[name.replace("opswall-", "")] = k
for name, pid in pids.items():
    try:
        rss = next(int(l.split()[1]) for l in open(f"/proc/{pid}/status") if l.startswith("VmRSS"))
        out["procs"][name] = {"pid": pid, "rss_kb": rss, "fds": len(os.listdir(f"/proc/{pid}/fd"))}
    except (OSError, StopIteration):
        pass
def rc(*a):
    return subprocess.run(["redis-cli", "-s", sock, "--raw", *a], capture_output=True, text=True).stdout
info = rc("info", "memory") + rc("info", "server")
for l in info.splitlines():
    if l.startswith("used_memory:"): out["redis_used_memory"] = int(l.split(":")[1])
    if l.startswith("process_id:"):
        rp = int(l.split(":")[1])
        out["procs"]["redis"] = {"pid": rp, "rss_kb": next(int(x.split()[1]) for x in open(f"/proc/{rp}/status") if x.startswith("VmRSS")), "fds": len(os.listdir(f"/proc/{rp}/fd"))}
out["events"] = int(rc("xlen", "ops:{p0}:events") or 0)
out["alerts"] = int(rc("xlen", "ops:{p0}:alerts") or 0)
g = rc("xinfo", "groups", "ops:{p0}:events").split("\n")
kv = dict(zip(g[0::2], g[1::2]))
out["lag_entries"] = int(kv.get("lag") or 0)  # in the stream, not yet delivered to the engine
out["pending_entries"] = int(kv.get("pending") or 0)  # 0: the engine reads with NOACK
snap = json.loads(rc("get", "ops:{p0}:snapshot") or "{}")
out["events_applied"] = snap.get("events_applied")
out["open_orders"] = (snap.get("open") or {}).get("total")
out["snapshot_seq"] = snap.get("seq")
try:
    h = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5))
    out["feed_clients"] = h.get("clients")
    out["feed_received_ago_ms"] = h.get("snapshot", {}).get("received_ago_ms")
    out["feed_status"] = h.get("status")
except Exception as e:
    out["feed_error"] = str(e)
print(json.dumps(out))
PY
}
sleep "$warm"
sample > "$tmp/start.json"
echo "soak: started, $viewers viewers, ${minutes} min at ${factor}x; start: $(cat "$tmp/start.json")" >&2
end=$((SECONDS + secs - warm - 5))
while [ $SECONDS -lt "$end" ]; do
  kill -0 "$RUN" 2>/dev/null || { echo "soak: opswall-run died" >&2; break; }
  sleep 5
done
sample > "$tmp/end.json"
wait "$VIEW" || true
VIEW=
if python3 - "$tmp/start.json" "$tmp/end.json" "$tmp/view.out" "$minutes" "$viewers" "$factor" "$tmp/run.log" <<'PY'
import json, sys
s, e = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
try:
    v = json.loads(open(sys.argv[3]).read().strip().splitlines()[-1])
except Exception:
    v = {"error": "no viewer result"}
restarts = sum(1 for l in open(sys.argv[7]) if "restarting in" in l)
bad = []
# all parts up: each was running at the start and none was ever restarted
for name in ("engine", "feed", "wallboard", "notify", "ingest", "sim", "redis"):
    if name not in s["procs"]: bad.append(f"{name} not running at the start")
if restarts: bad.append(f"{restarts} restarts by opswall-run (see its log)")
for name, p in s["procs"].items():
    q = e["procs"].get(name)
    if not q:
        bad.append(f"{name} gone"); continue
    if q["pid"] != p["pid"]: bad.append(f"{name} restarted")
    if q["rss_kb"] > p["rss_kb"] * 1.2 + 16384: bad.append(f"{name} rss {p['rss_kb']}->{q['rss_kb']} KiB")
    if q["fds"] > p["fds"] + 8: bad.append(f"{name} fds {p['fds']}->{q['fds']}")
if (e.get("feed_received_ago_ms") or 1e9) > 5000: bad.append(f"feed's snapshot {e.get('feed_received_ago_ms')} ms old")
if e.get("snapshot_seq") == s.get("snapshot_seq"): bad.append("engine stopped publishing")
if e.get("lag_entries", 1e9) + e.get("pending_entries", 0) > 5000: bad.append("engine behind")
if (e.get("feed_clients") or 0) < int(sys.argv[5]): bad.append(f"viewers connected at the end: {e.get('feed_clients')}")
print(json.dumps({"soak": True, "minutes": int(sys.argv[4]), "viewers": int(sys.argv[5]),
                  "factor": int(sys.argv[6]), "start": s, "end": e, "viewer_result": v,
                  "restarts": restarts, "flat": not bad, "problems": bad}))
sys.exit(1 if bad else 0)
PY
then st=0; else st=$?; fi
# a failed verdict: the first errors and restarts of the run's log (the directory is removed)
[ "$st" = 0 ] || grep -m 8 -E " error: | restarting in " "$tmp/run.log" >&2 || true
exit "$st"

#!/usr/bin/env bash
# Soak (issue 9): every part up for a long time at a multiple of a normal day's traffic with 1,000
# viewers, and the proof that nothing grows with time at a constant load.
#
#   scripts/soak.sh [--minutes 30] [--warmup 1800] [--viewers 1000] [--factor 48] [--bin build/bin]
#
# A normal day is opswall-run's default: 240 new orders an hour (shaped over the day: night 0.1×,
# late morning 1.8×), 60 technicians on shifts. FACTOR× its traffic is that day played at FACTOR×
# speed (opswall-run --speed F: F times the events per second, the engine on the event clock).
# The default 48 is 4.8 times the issue's 10× and makes the 30 measured minutes exactly one
# simulated day: the start and the end are the same time of day, one day apart, so the load (the
# open orders, the open alerts) is the same at both samples and "flat" means "does not grow with
# time". At 10× the 30 minutes are five simulated hours of a rising morning (1,288 → 2,285 open
# orders in the run of 2026-11-24 03:45): everything that holds open orders grows, leak or not.
# The open orders of the first day start at zero; from the second day on they repeat within a few
# per cent at the same time of day (`opswall-sim --duration 72h`: 2,556 / 2,658 / 2,706 at
# midnight). --warmup 1800 at 48× is a simulated day: the start sample is at 08:00 of day 2, the
# end at 08:00 of day 3 (the run of 2026-11-24 05:45 used 1200: midnight to midnight).
#
# The soak runs opswall-run (private Redis, engine, feed, wallboard offscreen, notify, the
# simulator into ingest), connects VIEWERS websocket viewers to the feed with bench/feed_load
# (bin/feed_load), and samples at the end of the warm-up and again MINUTES later: per process the
# resident memory (VmRSS, KiB) and open file descriptors; the lag (stream entries not yet delivered
# to the engine and to notify, delivered but not acknowledged, the age of the feed's snapshot);
# the load (open orders, the engine's open alerts, the alerts notify holds, the simulated time);
# Redis' memory by key family (MEMORY USAGE), its fragmentation, client output buffers and AOF
# buffer; and each process' RSS per open order and per open alert (the normalised figures: a part
# whose memory follows the load shows a constant ratio); the feed's queue drops and resyncs (why a
# viewer got a snapshot after its first). Prints one JSON line:
# {"start":{...},"end":{...},"viewer_result":{...},"flat":true|false,"problems":[...]}; exits 1
# when a figure is not flat (RSS grown by more than 20 % + 16 MiB, more than 8 descriptors more,
# more than 5 s of lag at the end, orders known to the engine grown by more than 20 % + 500) or a
# viewer was lost.
# Every bounded store is given a cap the run reaches during the warm-up (the streams' MAXLEN, the
# notification log, the de-dup window): flat means bounded, and a cap of millions of entries or a
# day's de-dup window would still be filling at the end of half an hour. The model's own store,
# the closed orders it remembers (engine.closed_retention, 8 days by default: 4 hours of warm-up at
# 48x), is set to 6 simulated hours (7.5 real minutes), with flags.repeat_visit.window, which
# must not be longer, at 6h too: the orders known then plateau about 6 simulated hours after the
# start plus an order's lifetime, well within the warm-up's simulated day. Not part of
# scripts/test.sh (it takes warm-up + MINUTES). Traffic stays on 127.0.0.1.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
minutes=30 warm=1800 viewers=1000 factor=48 BIN=$SRC/build/bin
while [ $# -gt 0 ]; do
  case $1 in
  --minutes) minutes=$2; shift 2 ;;
  --viewers) viewers=$2; shift 2 ;;
  --warmup) warm=$2; shift 2 ;;
  --factor) factor=$2; shift 2 ;;
  --bin) BIN=$(cd "$2" && pwd); shift 2 ;;
  -h | --help) sed -n '2,40p' "$0"; exit 0 ;;
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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
port=$(free_port) nport=$(free_port) # the feed's and notify's (its /healthz: the alerts it holds)
token=soak-$RANDOM$RANDOM
mkdir -p "$tmp/config"
python3 - "$SRC" "$tmp" "$port" "$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)" "$nport" <<'PY'
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
c["notify"]["port"] = int(sys.argv[5])
# caps the warm-up reaches (see above): a few minutes of the run's events and alerts, the last 100
# notifications (the smallest caps the settings allow: the city sends 3 to 5 messages a minute at
# 48x, 86 by the end of a 20-minute warm-up, and a stream capped at 1,000 was still filling at the
# end of the run of 2026-11-24 05:45), 10 to 12.5 minutes of event ids for the de-dup
c["streams"]["events_maxlen"] = 5000
c["streams"]["rejects_maxlen"] = 5000
c["notify"]["log_keep"] = 100
c["notify"]["stream_maxlen"] = 100
# the de-dup window (a day by default: its sets would grow all through the run) down to 10 minutes
c["ingest"]["dedup_window"] = "10m"
# closed orders forgotten after 6 simulated hours (7.5 min at 48x) instead of 8 days, so the
# model plateaus within the warm-up; the repeat-visit window may not exceed the retention
c["engine"]["closed_retention"] = "6h"
c["flags"]["repeat_visit"]["window"] = "6h"
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
  python3 - "$RUN" "$sock" "$port" "$nport" <<'PY'
import json, os, re, subprocess, sys, time, urllib.request
run, sock, port, nport = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
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
def num(x):
    try:
        return int(x)
    except ValueError:
        return float(x)
m = dict(l.split(":", 1) for l in rc("info", "memory").splitlines() if ":" in l)
out["redis_memory"] = {k: num(m[k]) for k in ("used_memory", "used_memory_rss", "mem_fragmentation_ratio", "mem_clients_normal", "mem_aof_buffer", "used_memory_scripts") if k in m}
cl = rc("client", "list")
out["redis_memory"]["client_omem_max"] = max([int(x) for x in re.findall(r"omem=(\d+)", cl)] or [0])
out["redis_memory"]["client_qbuf_max"] = max([int(x) for x in re.findall(r" qbuf=(\d+)", cl)] or [0])
# memory by key family: ids and numbers folded ("ops:{p0}:dedup:#"); [keys, bytes]
fam = {}
for k in rc("--scan").split():
    f = re.sub(r"\d+", "#", k)
    u = rc("memory", "usage", k, "samples", "0").strip()
    c = fam.setdefault(f, [0, 0])
    c[0] += 1
    c[1] += int(u or 0)
out["redis_keys"] = dict(sorted(fam.items(), key=lambda x: -x[1][1]))
# Redis' data directory on disk (the AOF: rewritten by Redis when it doubles, so bounded too)
dd = os.path.dirname(sock)
def size(f):
    try:
        return os.path.getsize(f)
    except OSError:
        return 0  # a rewrite's temporary file, gone since
out["redis_data_kb"] = sum(size(os.path.join(r, f)) for r, _, fs in os.walk(dd) for f in fs) // 1024
out["events"] = int(rc("xlen", "ops:{p0}:events") or 0)
out["alerts"] = int(rc("xlen", "ops:{p0}:alerts") or 0)
# every consumer group of every stream: entries not yet delivered (lag) and delivered but not
# acknowledged (pending: a group that never acknowledged would grow it without bound)
out["stream_groups"] = {}
for st in ("events", "alerts", "alert_changes", "acks", "requests"):
    g = rc("xinfo", "groups", f"ops:{{p0}}:{st}").split("\n")
    for i, w in enumerate(g):
        if w == "name":
            kv = dict(zip(g[i:i + 12:2], g[i + 1:i + 12:2]))
            out["stream_groups"][f"{st}/{kv['name']}"] = {"lag": int(kv.get("lag") or 0), "pending": int(kv.get("pending") or 0)}
eg = out["stream_groups"].get("events/engine", {})
out["lag_entries"] = eg.get("lag", 0)  # in the stream, not yet delivered to the engine
out["pending_entries"] = eg.get("pending", 0)  # 0: the engine reads with NOACK
snap = json.loads(rc("get", "ops:{p0}:snapshot") or "{}")
out["events_applied"] = snap.get("events_applied")
out["open_orders"] = (snap.get("open") or {}).get("total")
out["orders_known"] = snap.get("orders_known")  # open + ended within engine.closed_retention
out["open_alerts"] = sum((snap.get("alerts") or {}).get("open_by_level") or [0])
out["sim_now"] = snap.get("now")
out["snapshot_seq"] = snap.get("seq")
try:
    h = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5))
    out["feed_clients"] = h.get("clients")
    out["feed_received_ago_ms"] = h.get("snapshot", {}).get("received_ago_ms")
    out["feed_status"] = h.get("status")
except Exception as e:
    out["feed_error"] = str(e)
try:  # why a viewer got a snapshot after its first: a slow client's collapse, or a resync
    m = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    want = {"opswall_feed_queue_drops_total": "feed_queue_drops", "opswall_feed_resyncs_total": "feed_resyncs"}
    for line in m.splitlines():
        name, _, value = line.partition(" ")
        if name in want:
            out[want[name]] = int(float(value))
except Exception as e:
    out["feed_metrics_error"] = str(e)
try:
    h = json.load(urllib.request.urlopen(f"http://127.0.0.1:{nport}/healthz", timeout=5))
    out["notify"] = {k: h.get(k) for k in ("alerts", "groups", "waiting", "in_flight", "delivered", "dead")}
except Exception as e:
    out["notify_error"] = str(e)
# normalised: KiB of each process (and of Redis' used memory) per open order and per open alert
oo, oa = out["open_orders"] or 0, out["open_alerts"] or 0
out["kib_per_open_order"] = {n: round(p["rss_kb"] / oo, 3) for n, p in out["procs"].items()} if oo else {}
out["kib_per_open_alert"] = {n: round(p["rss_kb"] / oa, 3) for n, p in out["procs"].items()} if oa else {}
if oo:
    out["kib_per_open_order"]["redis_used_memory"] = round(out["redis_used_memory"] / 1024 / oo, 3)
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
# the model forgets ended orders (engine.closed_retention): at the same load it knows as many
if (e.get("orders_known") or 0) > (s.get("orders_known") or 0) * 1.2 + 500:
    bad.append(f"engine knows {s.get('orders_known')} -> {e.get('orders_known')} orders")
if (e.get("feed_received_ago_ms") or 1e9) > 5000: bad.append(f"feed's snapshot {e.get('feed_received_ago_ms')} ms old")
if e.get("snapshot_seq") == s.get("snapshot_seq"): bad.append("engine stopped publishing")
if e.get("lag_entries", 1e9) + e.get("pending_entries", 0) > 5000: bad.append("engine behind")
if (e.get("feed_clients") or 0) < int(sys.argv[5]): bad.append(f"viewers connected at the end: {e.get('feed_clients')}")
for g, q in (e.get("stream_groups") or {}).items():
    if q["lag"] + q["pending"] > 5000: bad.append(f"consumer group {g} behind: {q}")
# notify holds the open alerts and, per group, those of its last message: not every alert ever
if (e.get("notify") or {}).get("alerts", 0) > 2 * (e.get("open_alerts") or 0) + 1000:
    bad.append(f"notify holds {e['notify']['alerts']} alerts for {e.get('open_alerts')} open")
# a human summary on stderr (the JSON line on stdout has it all)
def mib(k): return f"{k / 1024:.1f}"
for name in sorted(s["procs"]):
    p, q = s["procs"][name], e["procs"].get(name, {})
    print(f"soak: {name:9} rss {mib(p['rss_kb'])} -> {mib(q.get('rss_kb', 0))} MiB, fds {p['fds']} -> {q.get('fds')}, "
          f"KiB per open order {s['kib_per_open_order'].get(name)} -> {e['kib_per_open_order'].get(name)}", file=sys.stderr)
print(f"soak: redis used_memory {mib(s['redis_used_memory'] / 1024)} -> {mib(e['redis_used_memory'] / 1024)} MiB; "
      f"open orders {s.get('open_orders')} -> {e.get('open_orders')}, "
      f"orders known {s.get('orders_known')} -> {e.get('orders_known')}, open alerts {s.get('open_alerts')} -> {e.get('open_alerts')}, "
      f"notify holds {(s.get('notify') or {}).get('alerts')} -> {(e.get('notify') or {}).get('alerts')}; "
      f"simulated {s.get('sim_now')} -> {e.get('sim_now')}", file=sys.stderr)
print(f"soak: feed queue drops {s.get('feed_queue_drops')} -> {e.get('feed_queue_drops')}, resyncs "
      f"{s.get('feed_resyncs')} -> {e.get('feed_resyncs')}; viewers' snapshots after their first "
      f"{v.get('extra_snapshots')}", file=sys.stderr)
print(json.dumps({"soak": True, "minutes": int(sys.argv[4]), "viewers": int(sys.argv[5]),
                  "factor": int(sys.argv[6]), "start": s, "end": e, "viewer_result": v,
                  "restarts": restarts, "flat": not bad, "problems": bad}))
sys.exit(1 if bad else 0)
PY
then st=0; else st=$?; fi
# a failed verdict: the first errors and restarts of the run's log (the directory is removed)
[ "$st" = 0 ] || grep -m 8 -E " error: | restarting in " "$tmp/run.log" >&2 || true
exit "$st"

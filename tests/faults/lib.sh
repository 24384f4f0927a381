# Helpers shared by the fault tests (bash, sourced after tests/integration/lib.sh).
# faults_config DIR [PORT]: writes DIR/config/opswall.json from config/opswall.json with every path
# absolute, the private Redis in DIR/data and the feed on PORT; sets CFG.
faults_config() {
  local dir=$1 port=${2:-0}
  mkdir -p "$dir/config"
  python3 - "$SRC/config/opswall.json" "$dir/config/opswall.json" "$dir/data" "$port" "$SRC" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
src = sys.argv[5]
c["redis"]["data_dir"] = sys.argv[3]
c["feed"]["port"] = int(sys.argv[4])
c["feed"]["web_root"] = src + "/assets/web"
c["wallboard"]["font"] = src + "/assets/fonts/DejaVuSans.ttf"
c["wallboard"]["layout"] = src + "/config/wallboard/default.json"
c["city"]["regions"] = src + "/assets/cities/sample/regions.geojson"
if "notify" in c:  # opswall-run starts delivery too: its routing file, and a port of its own
    c["notify"]["config"] = src + "/config/notify.json"
    c["notify"]["port"] = 0
c["engine"]["checkpoint_interval"] = "1s"
c["redis"]["timeout"] = "1s"
json.dump(c, open(sys.argv[2], "w"), indent=2)
PY
  CFG=$dir/config/opswall.json
}

# snap_field SOCK FIELD: a top-level number of the snapshot in Redis (empty when none yet).
snap_field() {
  redis-cli -s "$1" --raw get 'ops:{p0}:snapshot' 2>/dev/null |
    python3 -c "import json,sys; print(json.load(sys.stdin).get('$2', ''))" 2>/dev/null || true
}

# compare_alerts SOCK BIN CFG TMP: every event of the stream applied once (events_applied equals
# XLEN) and the alerts in ops:{p0}:alerts — ids unique — equal to a batch `opswall-engine --replay`
# of the same stream. Prints the counts; returns non-zero on a difference.
compare_alerts() {
  local sock=$1 bin=$2 cfg=$3 dir=$4
  redis-cli -s "$sock" --raw xrange 'ops:{p0}:events' - + | awk 'prev=="d"{print} {prev=$0}' > "$dir/stream.ndjson"
  "$bin/opswall-engine" --config "$cfg" --replay "$dir/stream.ndjson" > "$dir/reference.json" 2> "$dir/replay.log"
  redis-cli -s "$sock" --raw xrange 'ops:{p0}:alerts' - + | awk 'prev=="d"{print} {prev=$0}' > "$dir/alerts.ndjson"
  python3 - "$dir/reference.json" "$dir/alerts.ndjson" <<'PY'
import json, sys
ref = json.load(open(sys.argv[1]))
live = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
ids = [a["id"] for a in live]
r = {(a["id"], a["at"]) for a in ref["alerts"]}
l = {(a["id"], a["at"]) for a in live}
print(f"alerts: reference {len(ref['alerts'])}, live {len(live)}, distinct ids {len(set(ids))}, "
      f"lost {len(r - l)}, extra {len(l - r)}")
if len(ids) != len(set(ids)) or r != l:
    print("lost:", sorted(r - l)[:5], "extra:", sorted(l - r)[:5])
    sys.exit(1)
PY
}

# all_applied SOCK: the engine has applied every entry of the stream.
all_applied() {
  local n applied
  n=$(redis-cli -s "$1" xlen 'ops:{p0}:events')
  applied=$(snap_field "$1" events_applied)
  [ -n "$applied" ] && [ "$applied" = "$n" ]
}

# back_within SECS WHAT CMD...: after a kill, wait (wait_for) until CMD says the process works
# again; timed from T0 (date +%s%N, set by the caller just before the kill). Counts FAULT_BACKS
# and the slowest FAULT_SLOWEST_MS, prints how long it took, or fails the check.
FAULT_BACKS=0 FAULT_SLOWEST_MS=0
back_within() {
  local secs=$1 what=$2 ms
  shift 2
  if wait_for "$secs" "$@"; then
    ms=$((($(date +%s%N) - T0) / 1000000))
    FAULT_BACKS=$((FAULT_BACKS + 1))
    [ "$ms" -gt "$FAULT_SLOWEST_MS" ] && FAULT_SLOWEST_MS=$ms
    echo "     $what, back in $ms ms"
  else
    fail "$what: not back within $secs s"
  fi
}

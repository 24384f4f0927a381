#!/usr/bin/env bash
# opswall-report (issue 5): a daily and a weekly report of simulated days, from a file and from
# the Redis event log. report.json must be valid and its numbers must equal what an independent
# calculation (Python, below, straight from the events) gives; report.html must be a well-formed,
# self-contained page whose charts are real PNG pictures.
. "$(dirname "$0")/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/ow-report.XXXXXX)
cleanup() { [ -n "${REDIS_PID:-}" ] && stop_pid "$REDIS_PID"; rm -rf "$tmp"; }
trap cleanup EXIT

# three busy days; no late lines (the previous period is taken when the log reaches the period's
# start, so a line delivered after that is not in it — the check below would have to replay
# that), some duplicated lines (same id: counted once)
"$BIN/opswall-sim" --seed 5 --duration 72h --orders-per-hour 20 --late-fraction 0 \
  --dup-fraction 0.01 --out "$tmp/events.ndjson"

"$BIN/opswall-report" --events "$tmp/events.ndjson" --day 2026-11-23 --out "$tmp/day" 2> "$tmp/day.log"
check "daily report written" test -s "$tmp/day/report.json" -a -s "$tmp/day/report.html"
"$BIN/opswall-report" --events "$tmp/events.ndjson" --week 2026-11-22 --out "$tmp/week" 2> "$tmp/week.log"
check "weekly report written" test -s "$tmp/week/report.json" -a -s "$tmp/week/report.html"
"$BIN/opswall-report" --events "$tmp/events.ndjson" --out "$tmp/last" 2> "$tmp/last.log"
check "default period: the last whole local day" \
  test "$(json_get "$tmp/last/report.json" '["period"]["start"]')" = "2026-11-23T16:00:00.000Z"

cat > "$tmp/check.py" <<'PY'
import base64, html.parser, json, math, sys
from datetime import datetime, timezone

events_path, report_path, html_path = sys.argv[1:4]
rep = json.load(open(report_path))

def ms(t):
    return int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)

start, end = ms(rep["period"]["start"]), ms(rep["period"]["end"])
pstart, pend = ms(rep["previous"]["start"]), ms(rep["previous"]["end"])
seen, evs = set(), []
for line in open(events_path):
    e = json.loads(line)
    if e["id"] in seen:
        continue  # a duplicated line: the engine's model ignores the identical instant
    seen.add(e["id"])
    e["t"] = ms(e["ts"])
    evs.append(e)

def period_events(lo, hi):
    """The events the report had seen for a period: for the current one every event before its
    end; for the previous one those before the first event at or after its end."""
    out = []
    for e in evs:
        if e["t"] >= hi:
            if hi == pend:
                break
            continue
        out.append(e)
    return out

def figures(lo, hi):
    orders, complaints = {}, {}
    resolved, callbacks = set(), {}
    for e in period_events(lo, hi):
        ty = e["type"]
        if ty.startswith("order."):
            o = orders.setdefault(e["order_id"], {"created": None, "acc": None, "disp": None, "term": None})
            t = e["t"]
            if ty == "order.created" and (o["created"] is None or t < o["created"]):
                o["created"] = t
            if ty == "order.accepted" and (o["acc"] is None or t < o["acc"]):
                o["acc"] = t
            if ty == "order.dispatched" and (o["disp"] is None or t < o["disp"]):
                o["disp"] = t
            if ty in ("order.closed", "order.cancelled") and (o["term"] is None or t < o["term"]):
                o["term"] = t
            if ty == "order.resolved":
                resolved.add((e["order_id"], t, e.get("tech_id"), e.get("first_visit_fix")))
            if ty == "order.callback":
                callbacks.setdefault((e["order_id"], t), e)
        if ty == "complaint.created":
            c = complaints.get(e["complaint_id"])
            if c is None or e["t"] < c:
                complaints[e["complaint_id"]] = e["t"]
    inp = lambda t: t is not None and lo <= t < hi
    f = {}
    f["created"] = sum(1 for o in orders.values() if inp(o["created"]))
    res = [r for r in resolved if inp(r[1])]
    f["resolved"] = len(res)
    said = [r for r in res if r[3] is not None]
    f["first_visit_fix_pct"] = 100 * sum(1 for r in said if r[3]) / len(said) if said else None
    f["complaints"] = sum(1 for t in complaints.values() if inp(t))
    f["complaint_rate_pct"] = 100 * f["complaints"] / f["created"] if f["created"] else None
    cbs = [c for (k, c) in callbacks.items() if inp(k[1])]
    f["csat"] = 20 * sum(c["score"] for c in cbs) / len(cbs) if cbs else None
    nps = [c["nps"] for c in cbs if "nps" in c]
    f["nps"] = 100 * (sum(1 for n in nps if n >= 9) - sum(1 for n in nps if n <= 6)) / len(nps) if nps else None
    for name, key in (("response", "acc"), ("dispatch", "disp")):
        d = []
        for o in orders.values():
            stop = o[key]
            # the stage counts when it ended by its own event, not cut short by a close or cancel
            if o["created"] is None or stop is None or not inp(stop):
                continue
            if o["term"] is not None and o["term"] <= stop:
                continue
            d.append(max(0, stop - o["created"]) / 1000)
        d.sort()
        f[name + "_n"] = len(d)
        f[name + "_mean_s"] = sum(d) / len(d) if d else None
        f[name + "_p90_s"] = d[max(1, math.ceil(0.9 * len(d))) - 1] if d else None
    return f

bad = 0
def same(what, got, want, rel=0.0, absol=0.051):
    global bad
    if want is None or got is None:
        ok = want is None and got is None
    else:
        ok = abs(got - want) <= max(absol, rel * abs(want))
    if not ok:
        bad += 1
        print(f"  {what}: report {got}, events {want}")

for label, lo, hi, blk in (("current", start, end, rep["kpi"]["overall"]["current"]),
                           ("previous", pstart, pend, rep["kpi"]["overall"]["previous"])):
    f = figures(lo, hi)
    print(f"{label}: {f['created']} created, {f['resolved']} resolved, {f['response_n']} responses")
    for k in ("created", "resolved"):
        same(f"{label} {k}", blk[k], f[k])
    for k in ("first_visit_fix_pct", "complaint_rate_pct", "csat", "nps"):
        same(f"{label} {k}", blk[k], None if f[k] is None else round(f[k], 1))
    for k in ("response_mean_s", "dispatch_mean_s"):
        same(f"{label} {k}", blk[k], None if f[k] is None else round(f[k]), absol=0.51)
    for k in ("response_p90_s", "dispatch_p90_s"):  # the sketch: within 1 %
        same(f"{label} {k}", blk[k], f[k], rel=0.01, absol=1)

# the page: well-formed, self-contained, every chart a PNG
class Page(html.parser.HTMLParser):
    void = {"meta", "img", "br", "hr", "link", "input"}
    def __init__(self):
        super().__init__()
        self.stack, self.imgs, self.errors, self.external = [], [], 0, 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag in ("script", "link") or (tag == "img" and not a.get("src", "").startswith("data:")):
            self.external += 1
        if tag not in self.void and not (tag in ("td", "th", "tr") and False):
            self.stack.append(tag)
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors += 1
        else:
            self.stack.pop()
p = Page()
p.feed(open(html_path, encoding="utf-8").read())
if p.errors or p.stack:
    bad += 1
    print("  html: unbalanced tags", p.errors, p.stack)
if p.external:
    bad += 1
    print("  html: refers to outside resources")
pngs = [base64.b64decode(s.split(",", 1)[1]) for s in p.imgs if s.startswith("data:image/png;base64,")]
if len(pngs) != 5 or any(not b.startswith(b"\x89PNG\r\n\x1a\n") or len(b) < 2000 for b in pngs):
    bad += 1
    print("  html: expected 5 embedded PNG charts, got", len(pngs))
print("mismatches:", bad)
sys.exit(1 if bad else 0)
PY
check "daily report: numbers equal the events, page well-formed" \
  python3 "$tmp/check.py" "$tmp/events.ndjson" "$tmp/day/report.json" "$tmp/day/report.html"
check "weekly report: numbers equal the events, page well-formed" \
  python3 "$tmp/check.py" "$tmp/events.ndjson" "$tmp/week/report.json" "$tmp/week/report.html"
check "charts saved beside the page" test -s "$tmp/day/chart-sla.png"

# the same daily report from the Redis event log
start_redis "$tmp/redis"
export OPSWALL_REDIS_URL="unix://$tmp/redis/redis.sock"
"$BIN/opswall-ingest" "$tmp/events.ndjson" 2> "$tmp/ingest.log"
"$BIN/opswall-report" --redis --day 2026-11-23 --out "$tmp/redis-day" 2> "$tmp/redis-day.log"
# the file has duplicated lines that ingest drops, so only events_applied may differ
same_report() {
  python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
a.pop("events_applied"); b.pop("events_applied")
sys.exit(0 if a == b else 1)
PY
}
check "from Redis: the same report as from the file" same_report "$tmp/day/report.json" "$tmp/redis-day/report.json"

# a day in the city's real zone when the clocks fall back: Los Angeles, Sunday 1 November 2026 is
# 25 hours long (00:00 PDT = 07:00Z to 00:00 PST = 08:00Z) and its hour 01 comes twice
# (paths in a config are read from the folder above its own: the copy sits beside the assets)
mkdir -p "$tmp/la/config" && ln -s "$SRC/assets" "$tmp/la/assets"
python3 - "$SRC/config/opswall.json" "$tmp/la/config/opswall.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["analytics"]["time_zone"] = "America/Los_Angeles"
json.dump(c, open(sys.argv[2], "w"))
PY
"$BIN/opswall-sim" --seed 6 --start 2026-10-31T00:00:00-07:00 --duration 72h --orders-per-hour 20 \
  --late-fraction 0 --dup-fraction 0 --out "$tmp/dst.ndjson"
"$BIN/opswall-report" --config "$tmp/la/config/opswall.json" --events "$tmp/dst.ndjson" --day 2026-11-01 \
  --out "$tmp/dst" 2> "$tmp/dst.log"
dst_day() {
  python3 - "$tmp/dst.ndjson" "$tmp/dst/report.json" <<'PY'
import json, sys
from datetime import datetime
rep = json.load(open(sys.argv[2]))
p, s = rep["period"], rep["series"]
ms = lambda t: int(datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp() * 1000)
created = sum(1 for l in open(sys.argv[1]) for e in [json.loads(l)]
              if e["type"] == "order.created" and ms(p["start"]) <= ms(e["ts"]) < ms(p["end"]))
ok = (p["start"] == "2026-11-01T07:00:00.000Z" and p["end"] == "2026-11-02T08:00:00.000Z"
      and rep["previous"]["start"] == "2026-10-31T07:00:00.000Z"
      and len(s["labels"]) == 25 and s["labels"][:4] == ["00", "01", "01", "02"]
      and s["labels"][-1] == "23" and sum(s["created"]) == created and created > 0)
print(p, s["labels"], sum(s["created"]), created)
sys.exit(0 if ok else 1)
PY
}
check "a 25-hour local day when the clocks fall back (the city's zone)" dst_day

"$BIN/opswall-report" --events "$tmp/events.ndjson" --day 2026-13-40 2> "$tmp/bad.log" || true
check "a bad date is refused with a message" grep -q "expected a date like" "$tmp/bad.log"
finish

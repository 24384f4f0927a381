#!/usr/bin/env bash
# The real city's import (issue 11 item 4) and the CSV source's bad inputs, against a real Redis.
# Every count the importer prints is checked against a count of the CSV made here, independently,
# with Python's csv module and the documented rules (docs/csv-import.md) — not against an earlier
# run of the program. Then: a second import adds nothing (de-duplication), and each kind of bad
# input gets one message naming the file, the row or feature and the field, with nothing
# half-imported.
#   city_import.sh BIN_DIR
. "$(dirname "$0")/lib.sh"
BIN=$1
SRC=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
trap 'stop_pid ${REDIS_PID:-0}; rm -rf "$TMP"' EXIT
start_redis "$TMP/r"
export OPSWALL_REDIS_URL="unix://$TMP/r/redis.sock"
R() { redis-cli -s "$TMP/r/redis.sock" "$@"; }
CSV=$SRC/assets/cities/la311/MyLA311_Service_Request_Data_2017_Subset.csv
MAP=$SRC/config/mappings/la311.json
CFG=$SRC/config/la311.json

# --- 1. the whole real file ------------------------------------------------------------------
"$BIN/opswall-ingest" --config "$CFG" --csv "$MAP" "$CSV" >"$TMP/summary.json" 2>"$TMP/err.txt" ||
  { cat "$TMP/err.txt"; fail "import of the real file"; }
R XRANGE 'ops:{p0}:rejects' - + >"$TMP/rejects.txt"
python3 - "$CSV" "$TMP/summary.json" "$(R XLEN 'ops:{p0}:events')" "$TMP/rejects.txt" <<'EOF' >"$TMP/check.txt"
import csv, datetime, json, sys, collections
path, summary, xlen, rejects = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3]), open(sys.argv[4]).read()
fmt = '%m/%d/%Y %I:%M:%S %p'
outcome_of = {'Closed': 'closed', 'Referred Out': 'closed', 'Cancelled': 'cancelled', 'Open': 'open'}
rows = rejected = events = 0
rejected_rows = set()
outcomes = collections.Counter()
district = collections.defaultdict(collections.Counter)
with open(path, newline='', encoding='utf-8-sig') as f:
    for i, r in enumerate(csv.DictReader(f), start=1):
        rows += 1
        has_geo = r['Latitude'] != '' and r['Longitude'] != ''
        created = datetime.datetime.strptime(r['CreatedDate'], fmt)
        closed = datetime.datetime.strptime(r['ClosedDate'], fmt) if r['ClosedDate'] else None
        out = outcome_of[r['Status']]
        # the rules: no district and no point to locate one; closed before created
        if (r['CD'] == '' and not has_geo) or (out != 'open' and closed < created):
            rejected += 1
            rejected_rows.add(i)
            continue
        assert r['CD'] != '', 'a row that needs the polygon lookup: this check does not cover it'
        d = district[r['CD']]
        d['rows'] += 1
        d['no_coords'] += not has_geo
        d[out] += 1
        outcomes[out] += 1
        events += {'open': 1, 'closed': 3, 'cancelled': 2}[out]
problems = []
def same(what, want, got):
    if want != got: problems.append(f'{what}: the CSV says {want}, the importer {got}')
same('rows', rows, summary['rows'])
same('rejected', rejected, summary['rejected'])
same('imported', rows - rejected, summary['imported'])
same('events', events, summary['events'])
same('events appended (XLEN ops:{p0}:events)', events, xlen)
same('appended', events, summary['appended'])
for o in ('open', 'closed', 'cancelled'):
    same(f'outcome {o}', outcomes[o], summary['outcomes'][o])
same('districts', sorted(district), sorted(k for k in summary['regions'] if k != '(rejected)'))
for cd, want in district.items():
    got = summary['regions'].get(cd, {})
    for k in ('rows', 'no_coords', 'open', 'closed', 'cancelled'):
        same(f'district {cd} {k}', want[k], got.get(k))
import re
got_rows = {int(m) for m in re.findall(r'^pos\n(\d+)$', rejects, re.M)}
same('rejected row numbers in ops:{p0}:rejects', sorted(rejected_rows), sorted(got_rows))
print(f'{rows} rows, {rejected} rejected, {events} events, {len(district)} districts')
print('\n'.join(problems) if problems else 'OK')
EOF
cat "$TMP/check.txt"
check "every count of the import agrees with an independent count of the CSV" \
  test "$(tail -1 "$TMP/check.txt")" = OK
check "rejects name the file, the row, the line and the column" \
  grep -q 'MyLA311_Service_Request_Data_2017_Subset.csv: row 1014 (line 1015): ClosedDate: 12/30/2017 12:00:00 AM is before CreatedDate 12/30/2017 05:16:06 PM' "$TMP/rejects.txt"
check "a row without district and coordinates is rejected with the reason" \
  grep -q 'row 833 (line 834): CD: empty, and the row has no coordinates' "$TMP/rejects.txt"

# --- 2. again: nothing new --------------------------------------------------------------------
before=$(R XLEN 'ops:{p0}:events')
"$BIN/opswall-ingest" --config "$CFG" --csv "$MAP" "$CSV" >"$TMP/again.json" 2>/dev/null
check "a second import appends nothing (every event a duplicate)" \
  test "$(R XLEN 'ops:{p0}:events')" = "$before" -a "$(json_get "$TMP/again.json" '["duplicates"]')" = "$before"

# --- 3. bad input: one clear message each, nothing half-imported -------------------------------
bad_case() { # bad_case NAME EXPECTED_TEXT -- command...: fails, names the problem, appends nothing
  local name=$1 want=$2; shift 3
  R FLUSHDB >/dev/null
  if "$@" >"$TMP/out.txt" 2>&1; then fail "$name: the import should fail"; return; fi
  check "$name: the message names it ($want)" grep -qF "$want" "$TMP/out.txt"
  check "$name: nothing imported" test "$(R XLEN 'ops:{p0}:events')" = 0
}
sed 's/"closed": "ClosedDate"/"closed": "ClosedDat"/' "$MAP" >"$TMP/map-missing.json"
bad_case "mapping names a missing column" \
  "MyLA311_Service_Request_Data_2017_Subset.csv: header: no column \"ClosedDat\" (named by $TMP/map-missing.json: columns.closed)" -- \
  "$BIN/opswall-ingest" --config "$CFG" --csv "$TMP/map-missing.json" "$CSV"

# GeoJSON variants made from the real file: an unclosed ring, a feature without its name
python3 - "$SRC/assets/cities/la311/la-city-council-districts-2012.json" "$TMP" <<'EOF'
import json, sys
g = json.load(open(sys.argv[1]))
a = json.loads(json.dumps(g)); ring = a['features'][2]['geometry']['coordinates'][0][0]; ring[-1] = [ring[-1][0] + 0.01, ring[-1][1]]
json.dump(a, open(sys.argv[2] + '/unclosed.json', 'w'))
b = json.loads(json.dumps(g)); del b['features'][4]['properties']['name']
json.dump(b, open(sys.argv[2] + '/noname.json', 'w'))
EOF
for v in unclosed noname; do
  python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c['city']['regions']=sys.argv[2]; json.dump(c, open(sys.argv[3],'w'))" \
    "$CFG" "$TMP/$v.json" "$TMP/cfg-$v.json"
done
bad_case "GeoJSON with an unclosed ring" "$TMP/unclosed.json: features[2]" -- \
  "$BIN/opswall-ingest" --config "$TMP/cfg-unclosed.json" --csv "$MAP" "$CSV"
check "  ... and the message says what is wrong with the ring" grep -qi "clos" "$TMP/out.txt"
bad_case "GeoJSON feature without the name property" "$TMP/noname.json: features[4]" -- \
  "$BIN/opswall-ingest" --config "$TMP/cfg-noname.json" --csv "$MAP" "$CSV"
check "  ... and the message names the property" grep -q "properties.name" "$TMP/out.txt"

# a date in another format and a district no polygon has: those rows alone are rejected, whole
python3 - "$CSV" "$TMP/variant.csv" <<'EOF'
import csv, io, sys
lines = open(sys.argv[1], encoding='utf-8').read().split('\n')
head = next(csv.reader([lines[0]]))
def edit(n, col, value):  # rewrite data row n with one field changed
    f = next(csv.reader([lines[n]])); f[head.index(col)] = value
    out = io.StringIO(); csv.writer(out, lineterminator='').writerow(f); lines[n] = out.getvalue()
edit(3, 'CreatedDate', '2017-12-31 23:53:39')
edit(4, 'CD', '16')
open(sys.argv[2], 'w', encoding='utf-8').write('\n'.join(lines))
EOF
R FLUSHDB >/dev/null
"$BIN/opswall-ingest" --config "$CFG" --csv "$MAP" "$TMP/variant.csv" >"$TMP/variant.json" 2>"$TMP/variant.err"
check "a date in another format: that row is rejected, naming row, line and column" \
  grep -qF 'variant.csv: row 3 (line 4): CreatedDate: expected a time like "%m/%d/%Y %I:%M:%S %p", got "2017-12-31 23:53:39"' "$TMP/variant.err"
check "a district no polygon has: that row is rejected, naming the value" \
  grep -qF "variant.csv: row 4 (line 5): CD: no region of the city's GeoJSON has this name: \"16\"" "$TMP/variant.err"
check "those rows leave no event behind (order 1-870693641 and 1-870703871 absent)" \
  test -z "$(R XRANGE 'ops:{p0}:events' - + | grep -E '1-870693641|1-870703871' || true)"
check "the other rows are imported" \
  test "$(json_get "$TMP/variant.json" '["rejected"]')" = 18 -a "$(json_get "$TMP/variant.json" '["imported"]')" = 9981

# --- 4. the 311-style mapping and its test export (BOM, CRLF, quotes, a blank line, a repeat) ---
R FLUSHDB >/dev/null
"$BIN/opswall-ingest" --csv "$SRC/config/mappings/311.json" "$SRC/tests/data/311_sample.csv" >"$TMP/311.json" 2>"$TMP/311.err"
check "311 sample: 13 rows, 9 imported, 4 rejected, 1 blank line" \
  test "$(python3 -c "import json; d=json.load(open('$TMP/311.json')); print(d['rows'], d['imported'], d['rejected'], d['blank_lines'])")" = "13 9 4 1"
check "311 sample: the repeated row's events are duplicates (20 made, 17 appended)" \
  test "$(R XLEN 'ops:{p0}:events')" = 17 -a "$(json_get "$TMP/311.json" '["duplicates"]')" = 3
check "311 sample: Unspecified borough located by polygon (north)" \
  test "$(json_get "$TMP/311.json" '["regions"]["north"]["located_by_polygon"]')" = 1
check "311 sample: the quoted line break kept in a field moves line numbers (row 5 is line 7)" \
  grep -q 'row 5 (line 7): Created Date: expected a time' "$TMP/311.err"
finish

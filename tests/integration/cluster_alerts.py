#!/usr/bin/env python3
"""Alerts of a deployment, read with redis-cli, for the cluster pipeline tests (issue 12).

  cluster_alerts.py consumed ARGS...    exit 0 when every partition's engine has applied its
                                        stream's last entry (its snapshot's stream_last) and
                                        its group has delivered it with none pending
  cluster_alerts.py dump OUT ARGS...    every raise of every partition's alert stream, as JSON
  cluster_alerts.py compare ONE CLU     equality of two dumps (docs/scaling.md §4-5)
  cluster_alerts.py identical A B       every alert of A is in B and the reverse (id, instant,
                                        level, partition), none twice: the same deployment twice
  cluster_alerts.py fromreplay OUT FILE a dump from `opswall-engine --replay` output
  cluster_alerts.py master_of KEY ARGS... the port of the master serving KEY
  cluster_alerts.py events SENT ARGS... every event id of SENT (NDJSON) is in exactly one stream

ARGS: the redis-cli connection arguments (-s SOCK, or -c -p PORT) then the number of partitions.
"""
import collections, json, subprocess, sys

APPROXIMATE = {  # docs/scaling.md §4: what a partitioned deployment does not decide like one node
    # none left: every flag is decided as on one node (docs/scaling.md §4)
}
# exact through the shared stream's compact records (core/xrecord.h and engine/crossfacts.h for
# the pair and cluster flags, core/holding.h and engine/holdings.h for the technician flags):
# required equal with the other flags, and shown one by one
EXACT_CROSS = ("duplicate_dispatch", "repeat_visit", "complaint_cluster", "overload", "stale_technician")


def cli(conn, *args):
    r = subprocess.run(["redis-cli", *conn, "--raw", *args], capture_output=True, text=True)
    return r.stdout.split("\n")


def split(argv):
    return argv[:-1], int(argv[-1])


def consumed(conn, n):
    for p in range(n):
        key = "ops:{p%d}:events" % p
        info = cli(conn, "XINFO", "STREAM", key)
        if "last-generated-id" not in info:
            return False
        last = info[info.index("last-generated-id") + 1]
        groups = cli(conn, "XINFO", "GROUPS", key)
        if "last-delivered-id" not in groups:
            return False
        if groups[groups.index("last-delivered-id") + 1] != last:
            return False
        if groups[groups.index("pending") + 1] != "0":
            return False
        # the engine reads with NOACK (engine/runner.c send_read): delivered is not applied.
        # Its snapshot names the last entry applied, and the alerts of that entry were written
        # before the snapshot on the same connection
        snap = cli(conn, "GET", "ops:{p%d}:snapshot" % p)[0]
        try:
            if json.loads(snap).get("stream_last") != last:
                return False
        except ValueError:
            return False
    return True


def dump(out, conn, n):
    alerts = []
    for p in range(n):
        for line in cli(conn, "XRANGE", "ops:{p%d}:alerts" % p, "-", "+"):
            if line.startswith("{"):
                a = json.loads(line)
                alerts.append({"id": a["id"], "at": a["at"], "level": a["level"],
                               "kind": a["kind"], "flag": a.get("flag"), "partition": p})
    json.dump(alerts, open(out, "w"))
    print(len(alerts), "alerts")


def compare(one_path, clu_path):
    one, clu = json.load(open(one_path)), json.load(open(clu_path))
    key = lambda a: (a["id"], a["at"], a["level"])
    ok = True
    doubled = [k for k, c in collections.Counter(key(a) for a in clu).items() if c > 1]
    doubled += [k for k, c in collections.Counter(a["id"] for a in clu).items() if c > 1]
    print("doubled in the cluster:", len(doubled), doubled[:5])
    ok &= not doubled
    groups = {"sla": lambda a: a["kind"] == "sla",
              "exact flags": lambda a: a["kind"] == "flag" and a["flag"] not in APPROXIMATE}
    for name, sel in groups.items():
        a = sorted(key(x) for x in one if sel(x))
        b = sorted(key(x) for x in clu if sel(x))
        same = a == b
        ok &= same and len(a) > 0
        print("%s: one node %d, cluster %d, %s" % (name, len(a), len(b), "equal" if same else "DIFFERENT"))
        if not same:
            print("  only one node:", sorted(set(a) - set(b))[:10])
            print("  only cluster:", sorted(set(b) - set(a))[:10])
    for flag in EXACT_CROSS:
        a = sorted(key(x) for x in one if x["kind"] == "flag" and x["flag"] == flag)
        b = sorted(key(x) for x in clu if x["kind"] == "flag" and x["flag"] == flag)
        print("%s: one node %d, cluster %d, %s" % (flag, len(a), len(b), "equal" if a == b else "DIFFERENT"))
    for flag, why in APPROXIMATE.items():
        a = {key(x) for x in one if x["flag"] == flag}
        b = {key(x) for x in clu if x["flag"] == flag}
        print("approximate %s (%s): one node %d, cluster %d, in both %d" % (flag, why, len(a), len(b), len(a & b)))
    return ok


def identical(a_path, b_path):
    a, b = json.load(open(a_path)), json.load(open(b_path))
    key = lambda x: (x["id"], x["at"], x["level"], x["partition"])
    ka, kb = collections.Counter(key(x) for x in a), collections.Counter(key(x) for x in b)
    doubled = [k for k, c in kb.items() if c > 1] + [k for k, c in ka.items() if c > 1]
    print("alerts: %d and %d; doubled %d %s; only in the first %s; only in the second %s"
          % (len(a), len(b), len(doubled), doubled[:5], sorted(set(ka) - set(kb))[:5],
             sorted(set(kb) - set(ka))[:5]))
    return len(a) > 0 and not doubled and ka == kb


def fromreplay(out, path):
    alerts = [{"id": a["id"], "at": a["at"], "level": a["level"], "kind": a["kind"],
               "flag": a.get("flag"), "partition": 0} for a in json.load(open(path))["alerts"]]
    json.dump(alerts, open(out, "w"))
    print(len(alerts), "alerts")


def master_of(key, conn):
    slot = int(cli(conn, "CLUSTER", "KEYSLOT", key)[0])
    for line in cli(conn, "CLUSTER", "NODES"):
        f = line.split()
        if len(f) < 9 or "master" not in f[2] or "fail" in f[2]:
            continue
        for r in f[8:]:
            if r.startswith("["):
                continue
            lo, _, hi = r.partition("-")
            if int(lo) <= slot <= int(hi or lo):
                print(f[1].split("@")[0].split(":")[1])
                return 0
    return 1


def events(sent, conn, n):
    ids = set()
    for line in open(sent):
        try:
            ids.add(json.loads(line)["id"])
        except (ValueError, KeyError):
            pass
    seen = collections.Counter()
    records = collections.Counter()  # compact records on the shared stream, by kind
    # parked events (waiting for their order's route) are in Redis too, and must not be elsewhere
    streams = ["ops:{p%d}:events" % p for p in range(n)] + ["ops:{g}:shared", "ops:{g}:unrouted"]
    for s in streams:
        lines = cli(conn, "XRANGE", s, "-", "+")
        for i, line in enumerate(lines):
            # a compact record (core/xrecord.h "[...]", core/holding.h "H\t...") is not an event
            if line == "d" and i + 1 < len(lines):
                if lines[i + 1].startswith("H\t"):
                    records["holding"] += 1
                    continue
                d = json.loads(lines[i + 1])
                if isinstance(d, list):
                    records["cross-partition"] += 1
                else:
                    seen[d["id"]] += 1
    rejected = set()
    for line in cli(conn, "XRANGE", "ops:{p0}:rejects", "-", "+"):
        if line.startswith("{"):
            try:
                rejected.add(json.loads(line)["id"])
            except (ValueError, KeyError):
                pass
    lost = ids - set(seen) - rejected
    doubled = [k for k, c in seen.items() if c > 1]
    # a record has no id of its own (its de-dup id is derived from its event's): only counted
    print("sent %d distinct ids; in the streams %d (and %d cross-partition, %d holding records); "
          "rejected %d; lost %d %s; doubled %d %s"
          % (len(ids), len(seen), records["cross-partition"], records["holding"], len(rejected),
             len(lost), sorted(lost)[:5],
             len(doubled), doubled[:5]))
    return 0 if not lost and not doubled else 1


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "fromreplay":
        fromreplay(sys.argv[2], sys.argv[3])
        sys.exit(0)
    if cmd == "master_of":
        sys.exit(master_of(sys.argv[2], sys.argv[3:]))
    if cmd == "events":
        sys.exit(events(sys.argv[2], *split(sys.argv[3:])))
    if cmd == "consumed":
        sys.exit(0 if consumed(*split(sys.argv[2:])) else 1)
    if cmd == "dump":
        dump(sys.argv[2], *split(sys.argv[3:]))
        sys.exit(0)
    if cmd == "identical":
        sys.exit(0 if identical(sys.argv[2], sys.argv[3]) else 1)
    if cmd == "compare":
        sys.exit(0 if compare(sys.argv[2], sys.argv[3]) else 1)
    sys.exit(__doc__)

#!/usr/bin/env python3
"""Alert stream entries in the engine's format, as redis-cli --pipe input (RESP).

    notify_xadd.py raise REGION LEVEL CATEGORY -- NAME...   XADD ops:{p0}:alerts, one per NAME
    notify_xadd.py resolve - - - -- NAME...                 XADD ops:{p0}:alert_changes (resolve)

NAME is an order id; the alert is its dispatch stage at 100 % of a 5-minute target, at now.
"""
import json
import sys
import time

op, region, level, category, sep, *names = sys.argv[1:]
assert sep == "--"
now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
out = []
for name in names:
    aid = f"sla:{name}:dispatch:1:100"
    if op == "raise":
        d = {"id": aid, "kind": "sla", "level": int(level), "at": now, "region": region,
             "stage": "dispatch", "order_id": name, "pct": 100, "target_s": 300}
        if category:
            d["category"] = category
        key = "ops:{p0}:alerts"
    else:
        d = {"id": aid, "kind": "sla", "level": 2, "at": now, "region": "", "stage": "dispatch",
             "order_id": name, "pct": 100, "target_s": 300, "op": "resolve"}
        key = "ops:{p0}:alert_changes"
    args = ["XADD", key, "*", "id", aid, "d", json.dumps(d, ensure_ascii=False)]
    out.append(f"*{len(args)}\r\n" + "".join(f"${len(a.encode())}\r\n{a}\r\n" for a in args))
sys.stdout.write("".join(out))

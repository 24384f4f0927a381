#!/usr/bin/env python3
"""An HTTP producer for ingest's POST /api/v1/events, for tests: sends N order.created events
(ids PREFIX-1..PREFIX-N) in requests of BATCH at RATE events per second. A request answered 503
is sent again after its Retry-After; one whose connection fails is sent again at once (ingest's
de-duplication makes that safe). Writes the ids answered "accepted" or "duplicate" to OUT.
Exits 0 when every event was answered safe within the deadline.

  ingest_http_producer.py HOST PORT N RATE BATCH PREFIX OUT
"""
import http.client, json, sys, time

host, port, n, rate, batch, prefix, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
line = lambda i: ('{"v":1,"id":"%s-%d","ts":"2026-11-22T09:00:00.000+08:00","type":"order.created",'
                  '"order_id":"%s-o%d","priority":"general","category":"drain","region":"north"}\n') % (prefix, i, prefix, i)
safe, retries, start = set(), {"503": 0, "conn": 0}, time.time()
deadline = start + 120
for first in range(1, n + 1, batch):
    body = "".join(line(i) for i in range(first, min(n, first + batch - 1) + 1)).encode()
    due = start + (first - 1) / rate
    if due > time.time():
        time.sleep(due - time.time())
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection(host, port, timeout=60)
            c.request("POST", "/api/v1/events", body)
            r = c.getresponse()
            data = r.read()
            c.close()
        except (OSError, http.client.HTTPException):
            retries["conn"] += 1
            time.sleep(0.2)
            continue
        if r.status == 503:
            retries["503"] += 1
            time.sleep(float(r.getheader("Retry-After", "1")))
            continue
        ans = json.loads(data)
        safe.update(a["id"] for a in ans["results"] if a["result"] in ("accepted", "duplicate"))
        break
with open(out, "w") as f:
    f.write("".join(x + "\n" for x in sorted(safe)))
print(json.dumps({"sent": n, "safe": len(safe), "retries": retries, "seconds": round(time.time() - start, 2)}))
sys.exit(0 if len(safe) == n else 1)

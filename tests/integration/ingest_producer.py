#!/usr/bin/env python3
"""A producer for ingest's TCP listener, for tests: sends N order.created events with ids
PREFIX-1..PREFIX-N at RATE per second, reads the answer line of each, and writes the ids answered
"accepted" or "duplicate" (safe in Redis) to OUT, one per line. Exits 0 when every event was
answered safe within the deadline, 1 otherwise (printing what is missing).

  ingest_producer.py HOST PORT N RATE PREFIX OUT [--bad K]   (--bad: every K-th line is invalid)
"""
import json, socket, sys, threading, time

host, port, n, rate, prefix, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
bad = int(sys.argv[8]) if len(sys.argv) > 8 and sys.argv[7] == "--bad" else 0

def line(i):
    if bad and i % bad == 0:
        return '{"v":1,"id":"%s-%d","type":"order.created"}\n' % (prefix, i)  # no ts: rejected
    return ('{"v":1,"id":"%s-%d","ts":"2026-11-22T09:00:00.000+08:00","type":"order.created",'
            '"order_id":"%s-o%d","priority":"general","category":"drain","region":"north"}\n') % (prefix, i, prefix, i)

sock = socket.create_connection((host, port), timeout=120)
answers = {}
errors = []

def reader():
    buf = b""
    f = sock.makefile("rb")
    for raw in f:
        try:
            a = json.loads(raw)
        except ValueError:
            errors.append("not JSON: %r" % raw[:200])
            continue
        answers[a["line"]] = a
    # EOF

t = threading.Thread(target=reader, daemon=True)
t.start()
start = time.time()
chunk = max(1, int(rate / 100))
i = 1
while i <= n:
    due = start + (i - 1) / rate
    d = due - time.time()
    if d > 0:
        time.sleep(d)
    data = "".join(line(k) for k in range(i, min(n, i + chunk - 1) + 1))
    sock.sendall(data.encode())
    i += chunk
deadline = time.time() + 90
while len(answers) < n and time.time() < deadline:
    time.sleep(0.05)
sock.shutdown(socket.SHUT_WR)
safe = [a["id"] for a in answers.values() if a["result"] in ("accepted", "duplicate")]
rejected = [a for a in answers.values() if a["result"] == "rejected"]
with open(out, "w") as f:
    f.write("".join(x + "\n" for x in safe))
order_ok = all(a["line"] == k for k, a in answers.items())
print(json.dumps({"sent": n, "answered": len(answers), "safe": len(safe), "rejected": len(rejected),
                  "errors": errors[:3], "seconds": round(time.time() - start, 2)}))
want_rejected = (n // bad) if bad else 0
ok = len(answers) == n and len(rejected) == want_rejected and not errors and order_ok
sys.exit(0 if ok else 1)

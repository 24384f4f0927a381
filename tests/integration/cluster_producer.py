#!/usr/bin/env python3
"""A producer for routed ingest's listeners, for the cluster tests: sends the NDJSON lines of
FILE at RATE lines per second over TCP (one connection, one answer line per line) or HTTP
(POST /api/v1/events in batches of 50 lines; a 503 or a lost connection: the same batch again
after Retry-After, as docs/ingest.md asks of producers), and writes the lines answered "accepted"
or "duplicate" (safe in Redis) to OUT. Exits 0 when every line was answered (safe or rejected)
within the deadline, 1 otherwise.

  cluster_producer.py tcp|http HOST PORT FILE RATE OUT
"""
import http.client, json, socket, sys, threading, time

mode, host, port, path, rate, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), sys.argv[6]
lines = [l for l in open(path, encoding="utf-8") if l.strip()]
safe, answered, busy = [], 0, 0
start = time.time()


def pace(i):
    d = start + i / rate - time.time()
    if d > 0:
        time.sleep(d)


if mode == "tcp":
    sock = socket.create_connection((host, port), timeout=120)
    answers = {}

    def reader():
        for raw in sock.makefile("rb"):
            a = json.loads(raw)
            answers[a["line"]] = a

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    step = max(1, int(rate / 50))
    for i in range(0, len(lines), step):
        pace(i)
        sock.sendall("".join(lines[i:i + step]).encode())
    deadline = time.time() + 120
    while len(answers) < len(lines) and time.time() < deadline:
        time.sleep(0.05)
    sock.shutdown(socket.SHUT_WR)
    answered = len(answers)
    safe = [lines[k - 1] for k, a in sorted(answers.items()) if a["result"] in ("accepted", "duplicate")]
else:
    step = 50
    for i in range(0, len(lines), step):
        pace(i)
        body = "".join(lines[i:i + step]).encode()
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection(host, port, timeout=60)
                c.request("POST", "/api/v1/events", body, {"Content-Type": "application/x-ndjson"})
                r = c.getresponse()
                data = r.read()
                c.close()
            except (OSError, http.client.HTTPException):
                time.sleep(0.5)
                continue
            if r.status == 503:
                busy += 1
                time.sleep(float(r.getheader("Retry-After") or 1))
                continue
            res = json.loads(data)["results"]
            for k, a in enumerate(res):
                answered += 1
                if a["result"] in ("accepted", "duplicate"):
                    safe.append(lines[i + k])
            break
with open(out, "w", encoding="utf-8") as f:
    f.write("".join(safe))
print(json.dumps({"mode": mode, "sent": len(lines), "answered": answered, "safe": len(safe),
                  "busy_503": busy, "seconds": round(time.time() - start, 2)}))
sys.exit(0 if answered == len(lines) else 1)

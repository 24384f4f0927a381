#!/usr/bin/env python3
"""A producer that survives ingest being killed, for tests/faults/ingest_kill.sh.

  ingest_kill_producer.py tcp|http HOST PORT N RATE PREFIX OUT [--bad K] [--batch B]

Sends N order.created events with ids PREFIX-1..PREFIX-N at RATE per second (every K-th line
invalid: no "ts", so ingest rejects it) to ingest's TCP listener (one answer line per line) or its
HTTP endpoint (requests of B lines). When the connection drops — ingest was killed — it connects
again and sends once more every line it has no final answer for (accepted, duplicate or
rejected): the resends a real producer makes, which ingest's de-duplication must absorb. It does
not give up before its deadline (60 s), so a listener that is down for a while is waited for.

Writes OUT as JSON: "answers" {id: {"result", "stream_id"|"reject_id"}} (the final answer the
producer saw for each id), "valid" and "invalid" (the ids sent), and counts of connections,
drops and resent lines. Exits 0 when every line got a final answer before the deadline.
"""
import http.client, json, socket, sys, threading, time

mode, host, port, n, rate, prefix, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6], sys.argv[7]
opts = dict(zip(sys.argv[8::2], sys.argv[9::2]))
bad = int(opts.get("--bad", 0))
batch = int(opts.get("--batch", 25))
FINAL = ("accepted", "duplicate", "rejected")


def invalid(i):
    return bad and i % bad == 0


def line(i):
    if invalid(i):
        return '{"v":1,"id":"%s-%d","type":"order.created"}\n' % (prefix, i)
    return ('{"v":1,"id":"%s-%d","ts":"2026-11-22T09:00:00.000+08:00","type":"order.created",'
            '"order_id":"%s-o%d","priority":"general","category":"drain","region":"north"}\n') % (prefix, i, prefix, i)


start = time.time()
deadline = start + 60
answers = {}  # index -> final answer
stats = {"connections": 0, "drops": 0, "resent": 0, "abandoned": 0, "http_503": 0, "http_429": 0}


def record(i, a):
    if a.get("result") in FINAL:
        answers[i] = a
    elif a.get("result") == "abandoned":
        stats["abandoned"] += 1


def pace(i):
    """Sleep until new line i is due (resends are not paced: they are owed already)."""
    d = start + (i - 1) / rate - time.time()
    if d > 0:
        time.sleep(d)


def connect():
    while time.time() < deadline:
        try:
            s = socket.create_connection((host, port), timeout=5)
            stats["connections"] += 1
            return s
        except OSError:
            time.sleep(0.05)
    return None


def run_tcp():
    todo = list(range(1, n + 1))  # lines without a final answer, in order
    sent_before = set()
    while todo and time.time() < deadline:
        s = connect()
        if s is None:
            break
        s.settimeout(None)
        on_conn = []  # the index of each line sent on this connection (answer "line" is 1-based)
        closed = threading.Event()

        def reader(sock=s, lines=on_conn, done=closed):
            try:
                for raw in sock.makefile("rb"):
                    a = json.loads(raw)
                    record(lines[a["line"] - 1], a)
            except (OSError, ValueError):
                pass
            done.set()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            for i in todo:
                if i in sent_before:
                    stats["resent"] += 1
                else:
                    pace(i)
                sent_before.add(i)
                on_conn.append(i)
                s.sendall(line(i).encode())
                if closed.is_set():
                    break
            # everything sent: wait for the answers, or for the connection to drop
            while not closed.is_set() and any(i not in answers for i in on_conn) and time.time() < deadline:
                closed.wait(0.05)
        except OSError:
            pass
        if closed.is_set() or any(i not in answers for i in on_conn):
            stats["drops"] += 1
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()
        t.join(2)
        todo = [i for i in todo if i not in answers]


def run_http():
    for first in range(1, n + 1, batch):
        idx = list(range(first, min(n, first + batch - 1) + 1))
        pace(first)
        tries = 0
        while time.time() < deadline:
            body = "".join(line(i) for i in idx).encode()
            tries += 1
            if tries > 1:
                stats["resent"] += len(idx)
            try:
                c = http.client.HTTPConnection(host, port, timeout=10)
                c.request("POST", "/api/v1/events", body)
                stats["connections"] += 1
                r = c.getresponse()
                data = r.read()
                c.close()
            except (OSError, http.client.HTTPException):
                stats["drops"] += 1
                time.sleep(0.05)
                continue
            if r.status in (429, 503):
                stats["http_%d" % r.status] += 1
                time.sleep(float(r.getheader("Retry-After", "1")))
                continue
            if r.status != 200:
                raise SystemExit("HTTP %d: %r" % (r.status, data[:300]))
            for a in json.loads(data)["results"]:
                record(idx[a["line"] - 1], a)
            idx = [i for i in idx if i not in answers]  # abandoned ones: send those again
            if not idx:
                break


(run_tcp if mode == "tcp" else run_http)()
res = {"answers": {"%s-%d" % (prefix, i): a for i, a in answers.items()},
       "valid": ["%s-%d" % (prefix, i) for i in range(1, n + 1) if not invalid(i)],
       "invalid": ["%s-%d" % (prefix, i) for i in range(1, n + 1) if invalid(i)],
       "stats": dict(stats, sent=n, answered=len(answers), seconds=round(time.time() - start, 2))}
json.dump(res, open(out, "w"))
print(json.dumps({"mode": mode, **res["stats"]}))
sys.exit(0 if len(answers) == n else 1)

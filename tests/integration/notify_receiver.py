#!/usr/bin/env python3
"""A webhook receiver for opswall-notify's tests: records exactly what arrives, can fail or hang.

    notify_receiver.py PORT DIR [--fail NAME=N ...] [--hang NAME ...] [--robot NAME ...]
                       [--slow NAME=S ...] [--tls CERT,KEY]

Every POST to /NAME is appended to DIR/NAME.ndjson as one JSON line:
    {"n": <attempt number for NAME>, "status": <answer>, "id": <X-Opswall-Notification-Id>,
     "body": <the JSON body>, "t": <time.time()>}
--fail NAME=N answers the first N requests to /NAME with 500; --hang NAME never answers /NAME
(the line is written with status 0 when the request arrives); --slow NAME=S waits S seconds before answering /NAME; --robot NAME answers like a
DingTalk/WeCom robot ({"errcode":0,"errmsg":"ok"}). Everything else is answered 200 {"ok":true}.
--tls serves https with that certificate. Writes DIR/ready once listening. Stops on SIGTERM.
"""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, out = int(sys.argv[1]), sys.argv[2]
fail, hang, robot, slow, tls = {}, set(), set(), {}, None
args = sys.argv[3:]
while args:
    opt, val = args[0], args[1]
    args = args[2:]
    if opt == "--fail":
        name, n = val.split("=")
        fail[name] = int(n)
    elif opt == "--hang":
        hang.add(val)
    elif opt == "--slow":
        name, secs = val.split("=")
        slow[name] = float(secs)
    elif opt == "--tls":
        tls = val.split(",")
    elif opt == "--robot":
        robot.add(val)
counts = {}
lock = threading.Lock()


def record(name, entry):
    with lock, open(os.path.join(out, name + ".ndjson"), "a") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        name = self.path.strip("/").split("?")[0] or "root"
        length = int(self.headers.get("content-length", "0"))
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsable": raw.decode("utf-8", "replace")}
        with lock:
            counts[name] = counts.get(name, 0) + 1
            n = counts[name]
        nid = self.headers.get("x-opswall-notification-id")
        if name in hang:
            record(name, {"n": n, "status": 0, "id": nid, "body": body, "t": time.time()})
            time.sleep(3600)
            return
        time.sleep(slow.get(name, 0))
        status = 500 if n <= fail.get(name, 0) else 200
        answer = {"errcode": 0, "errmsg": "ok"} if name in robot else {"ok": status == 200}
        record(name, {"n": n, "status": status, "id": nid, "body": body, "t": time.time()})
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True


srv = Server(("127.0.0.1", port), Handler)
if tls:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls[0], tls[1])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
open(os.path.join(out, "ready"), "w").close()
srv.serve_forever()

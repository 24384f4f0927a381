#!/usr/bin/env python3
"""A websocket viewer with a tiny receive buffer that stops reading after its snapshot, so the
feed's next message does not fit in its socket (run by feed_threads.sh).

    ws_slow_reader.py HOST PORT TOKEN PAD GO_FILE [EXTENSIONS]

Connects to /api/v1/live with SO_RCVBUF 4 KB (offering EXTENSIONS as Sec-WebSocket-Extensions when
given), reads the snapshot, prints "ready", then reads nothing until GO_FILE exists; then reads
frames until the delta seq 2 and checks it arrived whole (its padding is PAD bytes). Frames with
RSV1 are inflated (RFC 7692) only when the server accepted permessage-deflate; one without that
acceptance is an error. When the server says server_no_context_takeover, each message is
inflated by a fresh inflater (the promise: no frame refers to an earlier one), else by one for
the connection. Prints "ok BYTES pmd|plain COMPRESSED_FRAMES [fresh]" and exits 0, or a reason
and exits 1."""
import base64
import json
import os
import socket
import sys
import time
import zlib


def frames(sock):
    """Yield (rsv1, opcode, payload) of the server's frames (unmasked, RFC 6455 §5.2)."""
    buf = b""

    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk

    while True:
        need(2)
        rsv1, op, ln = bool(buf[0] & 0x40), buf[0] & 0x0F, buf[1] & 0x7F
        hdr = 2
        if ln == 126:
            need(4)
            ln, hdr = int.from_bytes(buf[2:4], "big"), 4
        elif ln == 127:
            need(10)
            ln, hdr = int.from_bytes(buf[2:10], "big"), 10
        need(hdr + ln)
        payload, buf = buf[hdr:hdr + ln], buf[hdr + ln:]
        yield rsv1, op, payload


def upgrade(host, port, token, ext="", rcvbuf=0):
    """Connect to /api/v1/live and upgrade; returns (socket, response head). rcvbuf: SO_RCVBUF set
    before connecting (the TCP window stays that small). Exits on a refusal."""
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /api/v1/live?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               f"Sec-WebSocket-Version: 13\r\n"
               + (f"Sec-WebSocket-Extensions: {ext}\r\n" if ext else "") + "\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        c = s.recv(1)
        if not c:
            sys.exit("closed during the upgrade")
        head += c
    if b" 101 " not in head.split(b"\r\n")[0]:
        sys.exit("upgrade refused: " + head.decode(errors="replace"))
    return s, head


def main():
    host, port, token, pad, go = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
    ext = sys.argv[6] if len(sys.argv) > 6 else ""
    s, head = upgrade(host, port, token, ext, rcvbuf=4096)
    ext_line = [ln for ln in head.lower().split(b"\r\n") if ln.startswith(b"sec-websocket-extensions:")]
    pmd = any(b"permessage-deflate" in ln for ln in ext_line)
    fresh = any(b"server_no_context_takeover" in ln for ln in ext_line)
    inflater = zlib.decompressobj(-15)
    compressed = 0

    def messages():
        nonlocal compressed, inflater
        for rsv1, op, p in frames(s):
            if op >= 8:
                continue  # control frames: the feed's keep-alive pings
            if rsv1:
                if not pmd:
                    sys.exit("a compressed frame without permessage-deflate negotiated")
                compressed += 1
                if fresh:
                    inflater = zlib.decompressobj(-15)
                p = inflater.decompress(p + b"\x00\x00\xff\xff")
            yield p

    it = messages()
    p = next(it)
    if json.loads(p).get("type") != "snapshot":
        sys.exit("first message is not the snapshot")
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.05)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)  # now read quickly
    for p in it:
        m = json.loads(p)
        if m.get("type") == "delta" and m.get("seq") == 2:
            got = len(m["set"]["pad"])
            if got != pad:
                sys.exit(f"delta padding {got} bytes, not {pad}")
            print(f"ok {len(p)} {'pmd' if pmd else 'plain'} {compressed}{' fresh' if fresh else ''}",
                  flush=True)
            return
    sys.exit("no delta seq 2")


if __name__ == "__main__":
    main()

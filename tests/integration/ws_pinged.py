#!/usr/bin/env python3
"""A websocket viewer that counts the feed's keep-alive pings (run by feed_keepalive.sh).

    ws_pinged.py HOST PORT TOKEN answer|mute SECONDS

Connects to /api/v1/live and reads for SECONDS. "answer" replies to every ping with a pong (as
browsers do); "mute" reads everything and answers nothing. Prints "open PINGS" when the
connection is still open at the end, "closed PINGS SECONDS_OPEN" when the feed closed it."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ws_slow_reader import frames, upgrade  # noqa: E402


def pong(payload):
    """A client's pong frame: FIN + opcode 10, masked (RFC 6455 §5.3)."""
    mask = os.urandom(4)
    return bytes([0x8A, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def main():
    host, port, token, mode, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
    s, _ = upgrade(host, port, token)
    start = time.monotonic()
    pings = 0
    it = frames(s)
    while True:
        left = secs - (time.monotonic() - start)
        if left <= 0:
            break
        s.settimeout(left)  # the generator's recv waits at most until the end
        try:
            _, op, payload = next(it)
        except TimeoutError:
            break
        except (EOFError, ConnectionError):
            print(f"closed {pings} {time.monotonic() - start:.1f}", flush=True)
            return
        if op == 9:
            pings += 1
            if mode == "answer":
                s.sendall(pong(payload))
    print(f"open {pings}", flush=True)


if __name__ == "__main__":
    main()

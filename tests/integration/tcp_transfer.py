#!/usr/bin/env python3
"""Checked TCP transfer: `recv PORT` listens and prints the SHA-256 and byte
count of what it received; `send HOST PORT BYTES SEED` sends deterministic
pseudo-random bytes and prints their SHA-256 and count. Both stop on a
deadline so a broken tunnel fails the test instead of hanging it."""
import hashlib
import socket
import sys
import time

DEADLINE_S = 120


def stream(nbytes, seed):
    # SHAKE-256 in counter mode, 64 KiB per call: deterministic,
    # incompressible, and fast enough (hundreds of MB/s) for 1 GB transfers.
    counter = 0
    sent = 0
    while sent < nbytes:
        chunk = hashlib.shake_256(seed.encode() + counter.to_bytes(8, "big")).digest(min(65536, nbytes - sent))
        counter += 1
        sent += len(chunk)
        yield chunk


def recv(port):
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("::", port))
    srv.listen(1)
    srv.settimeout(DEADLINE_S)
    conn, _ = srv.accept()
    conn.settimeout(30)
    h = hashlib.sha256()
    total = 0
    start = time.monotonic()
    while time.monotonic() - start < DEADLINE_S:
        data = conn.recv(1 << 20)
        if not data:
            break
        h.update(data)
        total += len(data)
    print(h.hexdigest(), total, flush=True)


def send(host, port, nbytes, seed):
    s = socket.create_connection((host, port), timeout=30)
    h = hashlib.sha256()
    start = time.monotonic()
    for chunk in stream(nbytes, seed):
        s.sendall(chunk)
        h.update(chunk)
        if time.monotonic() - start > DEADLINE_S:
            break
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    elapsed = time.monotonic() - start
    print(h.hexdigest(), nbytes, f"{nbytes * 8 / elapsed / 1e6:.0f}Mbit/s", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "recv":
        recv(int(sys.argv[2]))
    else:
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])

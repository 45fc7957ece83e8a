#!/usr/bin/env python3
"""Start-up pinger for bench/tunnel_bench.sh, run inside a namespace:

    start_pinger.py ADDR DEV OUT

One process with one raw ICMP socket, so it measures without taking the
CPU the daemon under test needs: the shell loop it replaces forked `ip route
get` every millisecond and kept a core of the 2-core machine busy while the
daemon started. Every 2 ms it reads /proc/net/route until the main table
routes ADDR through DEV, then sends an echo request every 2 ms (the socket
bound to DEV, so nothing goes elsewhere); the first is sequence 1. Binding
alone is not the start: a socket bound to a device may send as soon as the
device is up, before its queueing discipline is attached (the kernel drops
that packet), where routed traffic waits for the route, which comes after.
It stops after 50 replies, 50 sent with no reply for 2 s, or 15 s in all.

OUT gets 'route <ns since the epoch>' when the first request left, then a
line per reply in ping -D's form ('[<epoch s>] 64 bytes from ADDR:
icmp_seq=N ...') so the bench reads both alike.
"""
import errno
import os
import select
import socket
import struct
import sys
import time

INTERVAL = 0.002
WANT = 50


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def echo_request(ident: int, seq: int) -> bytes:
    payload = b"zeqbench" + bytes(48)
    head = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    return struct.pack("!BBHHH", 8, 0, checksum(head + payload), ident, seq) + payload


def routed_through(addr: str, dev: str) -> bool:
    """Whether the main table has a route for addr through dev."""
    target = struct.unpack("<I", socket.inet_aton(addr))[0]  # /proc/net/route is host order
    with open("/proc/net/route") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[0] == dev and target & int(fields[7], 16) == int(fields[1], 16):
                return True
    return False


def main() -> int:
    addr, dev, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
    ident = os.getpid() & 0xFFFF
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.setblocking(False)
    out = open(out_path, "w", buffering=1)
    print("polling", flush=True)  # the bench execs the daemon after this
    deadline = time.monotonic() + 15
    bound = False
    seq = 0
    replies = set()
    last_sent = None
    next_send = time.monotonic()
    while time.monotonic() < deadline and len(replies) < WANT:
        now = time.monotonic()
        if seq >= WANT and last_sent is not None and now - last_sent > 2:
            break
        if now >= next_send and seq < WANT:
            next_send = now + INTERVAL
            try:
                if not bound:
                    if not routed_through(addr, dev):
                        continue
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
                    bound = True
                sock.sendto(echo_request(ident, seq + 1), (addr, 0))
                seq += 1
                last_sent = now
                if seq == 1:
                    out.write(f"route {time.time_ns()}\n")
            except OSError as e:
                if e.errno not in (errno.ENODEV, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENOBUFS,
                                   errno.EINVAL, errno.ENXIO, errno.EPERM):
                    raise
        ready, _, _ = select.select([sock], [], [], max(0.0, min(next_send, deadline) - time.monotonic()))
        while ready:
            try:
                packet, (src, _) = sock.recvfrom(2048)
            except BlockingIOError:
                break
            t = time.time()
            ihl = (packet[0] & 0x0F) * 4
            if len(packet) < ihl + 8 or src != addr:
                continue
            kind, _, _, rid, rseq = struct.unpack("!BBHHH", packet[ihl:ihl + 8])
            if kind == 0 and rid == ident and rseq not in replies:
                replies.add(rseq)
                out.write(f"[{t:.6f}] {len(packet) - ihl} bytes from {addr}: icmp_seq={rseq}\n")
    if seq == 0:
        out.write(f"no route to {addr} via {dev} within 15 s\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

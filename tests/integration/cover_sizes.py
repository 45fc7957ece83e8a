#!/usr/bin/env python3
"""Reads an underlay capture (pcap) of zeqvpn traffic split into periods by
packet time, and checks what an observer could learn from it: every data
message (type 0x04) has the same header layout (type, three zero bytes, a
receiver index of the session) and a size the padding policy allows; with
--equal, the size histograms of all periods are the same. Prints the
histograms. Usage: cover_sizes.py PCAP PORT ALLOWED_SIZES T_SPLIT [--equal]
(ALLOWED_SIZES comma-separated UDP payload sizes; T_SPLIT the capture time in
seconds that separates the quiet period from the busy one)."""
import struct
import sys
from collections import Counter

from pcap_check import packets





def udp_payloads(path, port):
    for linktype, frame, ts in packets(path):
        if linktype != 1:
            continue
        ethertype = struct.unpack("!H", frame[12:14])[0]
        ip = frame[14:]
        if ethertype == 0x0800:
            proto, hl = ip[9], (ip[0] & 0x0F) * 4
        elif ethertype == 0x86DD:
            proto, hl = ip[6], 40
        else:
            continue
        if proto != 17:
            continue
        sport, dport = struct.unpack("!HH", ip[hl:hl + 4])
        if port in (sport, dport):
            yield ts, ip[hl + 8:]


def main():
    path, port = sys.argv[1], int(sys.argv[2])
    allowed = {int(s) for s in sys.argv[3].split(",")}
    split = float(sys.argv[4])
    equal = "--equal" in sys.argv
    periods = [Counter(), Counter()]
    indices = set()
    errors = []
    for ts, payload in udp_payloads(path, port):
        if not payload or payload[0] in (1, 2):
            continue  # handshakes: fixed sizes of their own
        if payload[0] != 4 or payload[1:4] != b"\0\0\0":
            errors.append(f"a packet with header {payload[:4].hex()} is not a data message")
            continue
        indices.add(payload[4:8])
        if len(payload) not in allowed:
            errors.append(f"data message of {len(payload)} bytes, outside the policy's sizes")
        periods[0 if ts < split else 1][len(payload)] += 1
    quiet, busy = periods
    print("quiet period sizes:", dict(sorted(quiet.items())))
    print("busy period sizes: ", dict(sorted(busy.items())))
    print("receiver indices:", len(indices))
    if sum(quiet.values()) < 10 or sum(busy.values()) < 10:
        errors.append("too few data messages captured to judge")
    if equal and set(quiet) != set(busy):
        errors.append("the size histograms of the quiet and busy periods differ")
    for e in sorted(set(errors)):
        print("FAIL:", e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Checks an underlay capture (pcap, Ethernet link type): every packet is UDP
between the two zeqvpn ports, every UDP payload starts with a zeqvpn message
type (0x01, 0x02 or 0x04) with its exact size rules, and no plaintext marker
appears anywhere. Prints counts per type; exits 1 on any violation."""
import struct
import sys


def packets(path):
    """Yields (link type, frame, capture time in seconds) for each packet."""
    with open(path, "rb") as f:
        header = f.read(24)
        magic = struct.unpack("<I", header[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        linktype = struct.unpack(endian + "I", header[20:24])[0]
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, incl, _ = struct.unpack(endian + "IIII", rec)
            yield linktype, f.read(incl), sec + frac / (1e9 if nano else 1e6)


def main():
    path, port, markers = sys.argv[1], int(sys.argv[2]), [m.encode() for m in sys.argv[3:]]
    counts = {}
    errors = []
    for linktype, frame, _ in packets(path):
        if linktype == 1:  # Ethernet
            ethertype = struct.unpack("!H", frame[12:14])[0]
            ip = frame[14:]
        elif linktype == 113:  # Linux cooked capture
            ethertype = struct.unpack("!H", frame[14:16])[0]
            ip = frame[16:]
        else:
            errors.append(f"unexpected link type {linktype}")
            break
        for m in markers:
            if m in frame:
                errors.append(f"plaintext marker {m!r} seen on the underlay")
        if ethertype == 0x0806:
            counts["arp"] = counts.get("arp", 0) + 1
            continue
        if ethertype == 0x86DD and len(ip) > 48 and (ip[6] == 58 or (ip[6] == 0 and ip[40] == 58)):
            icmp = ip[40:] if ip[6] == 58 else ip[40 + (ip[41] + 1) * 8 :]
            if icmp and icmp[0] == 1:  # destination unreachable: must quote our own UDP
                counts["icmp-unreachable"] = counts.get("icmp-unreachable", 0) + 1
            else:  # neighbour discovery and MLD
                counts["icmpv6-nd/mld"] = counts.get("icmpv6-nd/mld", 0) + 1
            continue
        if ethertype == 0x0800 and ip[9] == 1 and ip[(ip[0] & 0x0F) * 4] == 3:
            # A port-unreachable from a peer that was not listening yet quotes
            # our own ciphertext packet; the marker check above still applies.
            counts["icmp-unreachable"] = counts.get("icmp-unreachable", 0) + 1
            continue
        if ethertype == 0x0800:
            proto, hl = ip[9], (ip[0] & 0x0F) * 4
        elif ethertype == 0x86DD:
            proto, hl = ip[6], 40
        else:
            errors.append(f"unexpected ethertype {ethertype:#x}")
            continue
        if proto != 17:
            errors.append(f"non-UDP IP packet (protocol {proto}) on the underlay")
            continue
        sport, dport, ulen = struct.unpack("!HHH", ip[hl : hl + 6])
        payload = ip[hl + 8 : hl + ulen]
        if port not in (sport, dport):
            errors.append(f"UDP {sport}->{dport} is not zeqvpn traffic")
            continue
        t = payload[0] if payload else -1
        if t == 1 and len(payload) == 177 or t == 2 and len(payload) == 133:
            pass
        elif t == 4 and len(payload) >= 36 and payload[1:4] == b"\0\0\0":
            pass
        else:
            errors.append(f"UDP payload type {t} length {len(payload)} is not a zeqvpn message")
            continue
        counts[f"type{t:#04x}"] = counts.get(f"type{t:#04x}", 0) + 1
    print("captured:", ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    for e in errors[:10]:
        print("violation:", e)
    if errors:
        sys.exit(1)
    if not counts.get("type0x01") or not counts.get("type0x04"):
        print("violation: capture lacks handshake or data messages")
        sys.exit(1)


if __name__ == "__main__":
    main()

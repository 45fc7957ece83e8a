#!/usr/bin/python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/TARGET/).

Deterministic: the handshake and data seeds are the shared vectors
(tests/data/zeqvpn-vectors.json) and messages built from the same keys by
the independent PROTOCOL.md implementation of the netns tests
(tests/integration/zeqwire.py), including valid Noise carrying the payloads
the C++ side must refuse (unknown version, bad ZID, wrong peer, clock
drift), which no fuzzer reaches through AES-GCM by itself. Run it again after
changing the vectors; it rewrites the same files.

    python3 tests/fuzz/make_corpus.py
"""

import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import zeqwire  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

V = json.load(open(os.path.join(HERE, "..", "data", "zeqvpn-vectors.json")))
H = bytes.fromhex
MESH = H(V["mesh_secret"])
Z = V["zeqond"]
I_PRIV = X25519PrivateKey.from_private_bytes(H(V["initiator"]["static_private"]))
R_PRIV = X25519PrivateKey.from_private_bytes(H(V["responder"]["static_private"]))
R_PUB = H(V["responder"]["static_public"])
OTHER_PRIV = X25519PrivateKey.from_private_bytes(bytes(range(0x61, 0x81)))  # not a configured peer


def eph(side):
    return X25519PrivateKey.from_private_bytes(H(V[side]["ephemeral_private"]))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def with_payload(make):
    """Runs make() with zeqwire.make_payload replaced, for payloads a correct
    sender never writes."""
    def wrap(payload_fn):
        saved = zeqwire.make_payload
        zeqwire.make_payload = payload_fn
        try:
            return make()
        finally:
            zeqwire.make_payload = saved
    return wrap


def initiator(static=I_PRIV, zeqond=Z):
    return zeqwire.Initiator(static, R_PUB, MESH, eph("initiator"), H(V["initiator"]["nonce"]),
                             V["initiator"]["sender_index"], zeqond)


def handshake_seeds():
    t = "handshake_initiation"
    write(t, "vector_init", H(V["handshake_init"]))
    write(t, "unknown_initiator", initiator(OTHER_PRIV).write_init())
    write(t, "clock_drift", initiator(zeqond=Z + 5).write_init())
    bad_version = lambda zid, z, n: bytes([2]) + zid + struct.pack(">Q", z) + n
    write(t, "payload_version_2", with_payload(lambda: initiator().write_init())(bad_version))
    bad_zid = lambda zid, z, n: bytes([1]) + b"zeq-XYZ!\x00\xff" + zid[10:] + struct.pack(">Q", z) + n
    write(t, "payload_bad_zid", with_payload(lambda: initiator().write_init())(bad_zid))

    t = "handshake_response"
    write(t, "vector_response", H(V["handshake_response"]))

    def response(zeqond=Z, zid=None, payload_fn=None):
        m1 = initiator().write_init()
        r = zeqwire.Responder(R_PRIV, MESH, eph("responder"), H(V["responder"]["nonce"]),
                              V["responder"]["sender_index"], zeqond)
        if zid:  # valid Noise from the right key, naming another node in the payload
            r.zid = zid
        if payload_fn:
            return with_payload(lambda: r.read_init_write_response(m1)[0])(payload_fn)
        return r.read_init_write_response(m1)[0]

    write(t, "clock_drift", response(zeqond=Z + 5))
    write(t, "wrong_peer_zid", response(zid=zeqwire.zid_of(zeqwire.pub_bytes(OTHER_PRIV))))
    write(t, "payload_version_2", response(payload_fn=bad_version))
    write(t, "payload_bad_zid", response(payload_fn=bad_zid))


def seal(key, receiver, counter, plaintext, zeqond=Z):
    header = bytes([4, 0, 0, 0]) + struct.pack(">I", receiver)
    iv = struct.pack(">IQ", zeqond & 0xffffffff, counter)
    ct = AESGCM(key).encrypt(iv, plaintext, header)
    return header + iv + ct[-16:] + ct[:-16]


def pad16(b):
    return b + bytes(-len(b) % 16)


DNS_OFFERS = {
    "dns_offer_v4": bytes([1, 1, 1, 4, 10, 77, 0, 1]),
    "dns_offer_v6": bytes([1, 1, 1, 6]) + H("fd770000000000000000000000000001"),
    "dns_offer_four": bytes([1, 1, 4, 4, 10, 77, 0, 1, 6]) + H("fd770000000000000000000000000053")
                      + bytes([4, 192, 0, 2, 53, 4, 198, 51, 100, 53]),
}


def data_seeds():
    t = "data_message"
    write(t, "vector_data_i2r", H(V["data_i2r_counter0"]["message"]))
    write(t, "vector_keepalive_r2i", H(V["keepalive_r2i_counter0"]["message"]))
    key = H(V["key_i2r"])
    receiver = V["responder"]["sender_index"]
    ipv6 = H("6000000000083a40fd770000000000000000000000000001fd77000000000000000000000000000280000000"
             "00010001")
    write(t, "ipv6_echo_padded", seal(key, receiver, 1, pad16(ipv6)))
    write(t, "cover", seal(key, receiver, 2, bytes([0]) + bytes(range(1, 48))))
    write(t, "dns_offer", seal(key, receiver, 3, pad16(DNS_OFFERS["dns_offer_four"])))
    write(t, "keepalive_counter_high", seal(key, receiver, 20000, b""))

    t = "control_message"
    for name, body in DNS_OFFERS.items():
        write(t, name, body)
    write(t, "dns_offer_v4_padded", pad16(DNS_OFFERS["dns_offer_v4"]))
    write(t, "exit_offer_both", bytes([1, 2, 3]))
    write(t, "exit_offer_v4_padded", pad16(bytes([1, 2, 1])))


CONTROL_REQUESTS = {
    "status": '{"v":1,"id":7,"cmd":"status","args":{}}',
    "peers_json": '{"v":1,"id":"a-1","cmd":"peers"}',
    "down_peer": '{"v":1,"id":3,"cmd":"down","args":{"peer":"beta"}}',
    "tunnels_limit": '{"v":1,"id":9,"cmd":"tunnels","args":{"limit":100,"peer":"zeq-445713479455"}}',
    "cover_on": '{"v":1,"id":null,"cmd":"cover","args":{"action":"on","peer":"b\\u00e9ta\\ud83d\\ude00"}}',
    "old_version": '{"v":2,"id":[1,{"x":true}],"cmd":"status"}',
    "numbers": '{"v":1.0e0,"id":-1.5e300,"cmd":"metrics","args":{"n":18446744073709551615}}',
    "nul_then_garbage": '{"v":1,"cmd":"status"}\x00garbage',
    "spaces": ' \t{ "v" : 1 , "cmd" : "killswitch" , "args" : { "action" : "status" } } \r',
}

MINIMAL_CONFIG = """interface:
  addresses: [10.77.0.1/24]
peers:
  - public_key: B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=
    allowed_ips: [10.77.0.2/32]
"""

FLOW_CONFIG = """{interface: {name: zq1, addresses: ["fd77::1/64"], listen_port: 1, mtu: 1280, workers: 2},
 kill_switch: always, allow_lan: false, fwmark: 23, cover: constant, padding: buckets,
 dns: {offer: 10.77.0.53/32}, log_level: debug,
 peers: [{name: a, public_key: 07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c,
          endpoint: "[fd00::2]:51820", allowed_ips: [0.0.0.0/0, "::/0"], cover: probabilistic,
          padding: mtu, billing: {unit: zeqond, price: 3}}]}
"""

ANCHOR_CONFIG = """interface: &i
  addresses: [10.77.0.1/24]
  listen_port: 51820
peers:
  - &p
    name: one
    public_key: B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=
    allowed_ips: [10.77.0.2/32]
    persistent_keepalive: 25
  - <<: *p
    name: two
"""


# resolv.conf as zeqvpnd reads it at start (dns/name_servers.hpp).
RESOLV_CONF_SEEDS = {
    # more servers than MAX_NAME_SERVERS, IPv4 and IPv6
    'many': "".join("nameserver %s\n" % a for a in (
        "1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4", "9.9.9.9", "149.112.112.112",
        "2606:4700:4700::1111", "2606:4700:4700::1001", "2001:4860:4860::8888")),
    'network_manager': '# Generated by NetworkManager\nsearch lan example.org\nnameserver 192.168.1.1\nnameserver 2001:db8::53\noptions edns0 trust-ad\n',
    'odd_lines': '; a comment\n#nameserver 10.0.0.1\nnameserver\t10.9.9.9 # trailing\nnameserver fe80::1%eth0\nnameserver 1.2.3.4/8\nnameserver   198.51.100.53;x\r\nnameserver\n',
    'resolved_stub': 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n',
}


# What clients send the metrics endpoint (daemon/metrics_http_server.hpp).
# The fuzz target reads the first byte as how the bytes are split (0: not).
METRICS_HTTP_SEEDS = {
    'prometheus': (0, 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9586\r\nUser-Agent: Prometheus/2.42.0\r\n'
                      'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n'
                      'Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n'),
    'curl_split_3': (3, 'GET /metrics HTTP/1.1\r\nHost: [::1]:9586\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n'),
    'pipelined': (0, 'GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n'
                     'GET / HTTP/1.1\r\n\r\nHEAD /metrics HTTP/1.1\r\n\r\nGET /metrics HTTP/1.0\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n'),
    'http10_keep_alive': (1, 'GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n'),
    'body_chunked': (0, 'GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'),
    'body_length': (7, 'POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello'),
    'long_header': (0, 'GET /metrics HTTP/1.1\r\nX-Pad: ' + 'a' * 9000 + '\r\n\r\n'),
    'version_2': (0, 'GET /metrics HTTP/2.0\r\n\r\n'),
    'folded_and_odd': (2, 'GET /metrics HTTP/1.1\r\nX-A: one\r\n two\r\nContent-Length: 0\r\nContent-Length: 0\r\n'
                          'Connection: keep-alive, Upgrade\r\nUpgrade: h2c\r\n\r\n'),
    'half': (0, 'GET /metr'),
}


def text_seeds():
    for name, (split, text) in METRICS_HTTP_SEEDS.items():
        write("metrics_http", name, bytes([split]) + text.encode())
    for name, line in CONTROL_REQUESTS.items():
        write("control_request", name, line.encode())
    write("config", "example", open(os.path.join(HERE, "..", "..", "examples", "zeqvpn.yaml"), "rb").read())
    write("config", "minimal", MINIMAL_CONFIG.encode())
    write("config", "flow_style", FLOW_CONFIG.encode())
    write("config", "anchors", ANCHOR_CONFIG.encode())
    for name, text in RESOLV_CONF_SEEDS.items():
        write("resolv_conf", name, text.encode())


# Relay wire messages (protocol/relay_messages.hpp, docs/protocol.md
# "Relays"), written from the docs: the in-tunnel control messages
# 0x10..0x19, a usage receipt signed with RECEIPT_SEED (the fuzz target
# re-signs with the same key, Ed25519 being deterministic), and RelayData
# tagged with key_i2r (fixed_keys.hpp KEY_I2R_HEX): GMAC = AES-256-GCM with
# an empty plaintext, nonce be32(0) || be64(counter), AAD header || carried.
RECEIPT_SEED = bytes(range(0x40, 0x60))
RELAY_ZIDS = (b"zeq-b097557f7185", b"zeq-445713479455", b"zeq-0123456789ab")


def usage_receipt(channel=0x000102, opened_z=Z, zeqond=Z + 13, up=123456, down=654321, unit=0, price=250):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.from_private_bytes(RECEIPT_SEED)
    body = (b"ZQU1" + b"".join(RELAY_ZIDS) + struct.pack(">IQQQQBQ", channel, opened_z, zeqond, up, down, unit, price)
            + key.public_key().public_bytes_raw())
    return body + key.sign(b"zeqvpn/receipt/v1" + body)


def relay_data(key, channel, receiver, counter, carried):
    header = bytes([0x10]) + struct.pack(">I", channel)[1:] + struct.pack(">IQ", receiver, counter)
    tag = AESGCM(key).encrypt(struct.pack(">IQ", 0, counter), b"", header + carried)
    return header + tag + carried


def relay_seeds():
    t = "relay_messages"
    c = lambda typ, body: bytes([1, typ]) + body
    zid = RELAY_ZIDS
    write(t, "open", c(0x10, struct.pack(">I", 1) + zid[2]))
    write(t, "offer", c(0x11, struct.pack(">I", 0x000102) + zid[1]))
    write(t, "accept", c(0x12, struct.pack(">I", 0xabcdef)))
    write(t, "decline", c(0x13, struct.pack(">IB", 5, 2)))
    write(t, "opened", c(0x14, struct.pack(">IIBQ", 1, 0xfffffe, 1, 3)))
    write(t, "refused", c(0x15, struct.pack(">IB", 7, 3)))
    write(t, "close_padded", pad16(c(0x16, struct.pack(">IB", 0xffffff, 6))))
    write(t, "ping", c(0x17, struct.pack(">Q", 0x8000000000000001)))
    write(t, "pong", c(0x18, struct.pack(">QBQB", 3, 0, 250, 9) + b"eu-west.1"))
    write(t, "pong_empty_region_padded", pad16(c(0x18, struct.pack(">QBQB", 5, 1, 0, 0))))
    write(t, "receipt", c(0x19, usage_receipt()))
    write(t, "usage_receipt", usage_receipt(unit=1, price=2))
    key = H(V["key_i2r"])
    write(t, "relay_data", relay_data(key, 0x000102, 0x11223344, 7, H(V["data_i2r_counter0"]["message"])))
    write(t, "relay_data_one_byte", relay_data(key, 0xffffff, 0, 2**64 - 1, b"\x04"))


def icmp_ipv4(total, proto, df=True, src="192.168.5.7", dst="10.77.0.2", options=0, frag=0, first_byte=None):
    hl = 20 + options
    flags = (0x4000 if df else 0) | frag
    h = struct.pack(">BBHHHBBH4s4s", 0x40 | hl // 4, 0, total, 0x1234, flags, 64, proto, 0,
                    bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    body = bytes([1] * options) + bytes((i * 7) & 0xff for i in range(total - hl))
    if first_byte is not None:
        body = body[:options] + bytes([first_byte]) + body[options + 1:]
    return h + body


def icmp_ipv6(total, nh, src=b"\xfd\x77" + bytes(13) + b"\x01", dst=b"\xfd\x77" + bytes(13) + b"\x02", ext=b""):
    return struct.pack(">IHBB16s16s", 0x60000000, total - 40, nh, 64, src, dst) + ext + \
        bytes((i * 5) & 0xff for i in range(total - 40 - len(ext)))


def icmp_seeds():
    """tests/fuzz/icmp_too_big_fuzz.cpp: MTU (2 bytes), room (1 byte: 0 is
    the full room), then a packet from the TUN."""
    t = "icmp_too_big"
    full, mtu1416, mtu1384 = b"\x00", struct.pack(">H", 1416), struct.pack(">H", 1384)
    write(t, "v4_tcp_df", mtu1416 + full + icmp_ipv4(1500, 6))
    write(t, "v4_udp_no_df", mtu1416 + full + icmp_ipv4(1500, 17, df=False))
    write(t, "v4_options_small_room", mtu1384 + b"\x10" + icmp_ipv4(1420, 17, options=40))
    write(t, "v4_echo", mtu1384 + full + icmp_ipv4(1420, 1, first_byte=8))
    write(t, "v4_icmp_error", mtu1384 + full + icmp_ipv4(1420, 1, first_byte=3))
    write(t, "v4_later_fragment", mtu1384 + full + icmp_ipv4(1420, 17, frag=185))
    write(t, "v4_short", struct.pack(">H", 100) + full + icmp_ipv4(129, 17))
    write(t, "v6_tcp", mtu1384 + full + icmp_ipv6(1500, 6))
    hbh = bytes([44, 0, 1, 4, 0, 0, 0, 0])
    frag = bytes([58, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef])
    write(t, "v6_hbh_fragment_icmp", mtu1384 + full + icmp_ipv6(1500, 0, ext=hbh + frag + bytes([128])))
    write(t, "v6_icmp_error", mtu1384 + full + icmp_ipv6(1500, 58, ext=bytes([1])))
    write(t, "v6_small_room", mtu1384 + b"\x10" + icmp_ipv6(1440, 17))
    write(t, "v6_short", struct.pack(">H", 1280) + full + icmp_ipv6(1281, 17))


def frame(datagram):
    return struct.pack(">H", len(datagram)) + datagram


def stream_seeds():
    """Relay over TCP: a cut byte, then a stream of framed datagrams."""
    t = "stream_framing"
    data = bytes([4, 0, 0, 0]) + bytes(range(60))
    write(t, "one_frame_whole", b"\x00" + frame(data))
    write(t, "frames_small_reads", b"\x01" + frame(data) + frame(b"\x10" + bytes(40)) + frame(b"\x01" * 148))
    write(t, "partial_tail", b"\x03" + frame(data) + frame(bytes(100))[:50])
    write(t, "zero_length", b"\x02" + frame(data) + b"\x00\x00" + frame(data))
    write(t, "over_maximum", b"\x05" + frame(data) + b"\xff\xd0" + bytes(10))
    write(t, "max_frame", b"\x40" + frame(bytes(65535 - 8 - 40)))
    write(t, "one_header_byte", b"\x07\x00")


if __name__ == "__main__":
    handshake_seeds()
    data_seeds()
    text_seeds()
    relay_seeds()
    icmp_seeds()
    stream_seeds()

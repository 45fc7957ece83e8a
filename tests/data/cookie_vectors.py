#!/usr/bin/python3
"""Writes cookie-vectors.json: a cookie, mac2 and a cookie reply computed by
the Python implementation (tests/integration/zeqwire.py), which
tests/unit/cookie_test.cpp holds the C++ code to byte for byte. The
initiation is message 1 of zeqvpn-vectors.json; the secret and nonce are
fixed. Run: python3 tests/data/cookie_vectors.py > tests/data/cookie-vectors.json
"""
import ipaddress
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import zeqwire  # noqa: E402

v = json.load(open(os.path.join(HERE, "zeqvpn-vectors.json")))
responder_public = bytes.fromhex(v["responder"]["static_public"])
initiation = bytes.fromhex(v["handshake_init"])
secret = bytes(range(0x40, 0x60))
address = ipaddress.IPv6Address("::ffff:198.51.100.7").packed
cookie = zeqwire.make_cookie(secret, address, 51820)
nonce = bytes(range(0xa0, 0xac))
receiver_index = int.from_bytes(initiation[4:8], "big")
reply = zeqwire.cookie_reply(responder_public, receiver_index, initiation[-16:], cookie, nonce)
assert zeqwire.open_cookie_reply(responder_public, initiation[-16:], reply) == cookie
json.dump({
    "description": "zeqvpn cookie reply and mac2 (docs/protocol.md), from tests/data/cookie_vectors.py",
    "responder_static_public": responder_public.hex(),
    "cookie_secret": secret.hex(),
    "sender": "198.51.100.7:51820",
    "sender_other_port": "198.51.100.7:51821",
    "cookie": cookie.hex(),
    "initiation": initiation.hex(),
    "initiation_with_mac2": (initiation + zeqwire.mac2(cookie, initiation)).hex(),
    "reply_nonce": nonce.hex(),
    "cookie_reply": reply.hex(),
}, sys.stdout, indent=2)
print()

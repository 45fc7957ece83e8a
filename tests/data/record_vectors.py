#!/usr/bin/python3
"""Writes record-vectors.json: directory records (docs/protocol.md "Directory
records") computed by this independent implementation (python3-cryptography's
Ed25519; nothing of the C++ code), for the CA, node key, certificates and
revocation list of cert-vectors.json. tests/unit/directory_record_test.cpp
and record_store_test.cpp hold the C++ code to it byte for byte. Every key
is fixed (Ed25519 signatures are deterministic), so the output is the same
on every run.

Run: python3 tests/data/record_vectors.py > tests/data/record-vectors.json
     python3 tests/data/record_vectors.py --corpus tests/fuzz/corpus/directory_record > /dev/null
(the second also writes each record, binary, as a fuzz seed).
"""
import argparse
import hashlib
import ipaddress
import json
import os
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

HERE = os.path.dirname(os.path.abspath(__file__))
CERTS = json.load(open(os.path.join(HERE, "cert-vectors.json")))
H = bytes.fromhex

NODE_SIGNING_SEED = H(CERTS["node"]["signing_seed"])
NOT_BEFORE = CERTS["certificates"][0]["not_before_z"]
DOMAIN = b"zeqvpn/record/v1"
MAX_NODE_RECORD_BYTES = 2048


def endpoint(e):
    ip = ipaddress.ip_address(e["address"])
    assert 0 < e["port"] < 65536
    return bytes([ip.version]) + ip.packed + struct.pack(">HB", e["port"], 1 if e["reported"] else 0)


def node_record(r):
    cert = H(CERTS["certificates"][r["certificate"]]["encoded"])
    eps = r["endpoints"]
    assert len(eps) <= 16
    # Listening endpoints first, then reported ones; no address:port twice.
    assert [e["reported"] for e in eps] == sorted(e["reported"] for e in eps)
    assert len({(e["address"], e["port"]) for e in eps}) == len(eps)
    body = b"ZQD\x01\x01" + struct.pack(">H", len(cert)) + cert
    body += bytes([len(eps)]) + b"".join(endpoint(e) for e in eps)
    body += (b"\x01" + struct.pack(">H", r["relay_port"])) if r["relay_port"] else b"\x00"
    assert r["sequence"] >= 1
    body += struct.pack(">QQ", r["sequence"], r["made_z"])
    out = body + Ed25519PrivateKey.from_private_bytes(NODE_SIGNING_SEED).sign(DOMAIN + body)
    assert len(out) <= MAX_NODE_RECORD_BYTES
    return out


def revocation_list_record(encoded_list):
    return b"ZQD\x01\x02" + struct.pack(">I", len(encoded_list)) + encoded_list


def digest_hash(records, lists):
    """be32(n) n x (zid(16) sequence(8)) be32(m) m x (issuer(32) serial(8)), sorted."""
    out = struct.pack(">I", len(records))
    for zid, seq in sorted(records):
        assert len(zid) == 16
        out += zid.encode() + struct.pack(">Q", seq)
    out += struct.pack(">I", len(lists))
    for issuer, serial in sorted(lists):
        out += issuer + struct.pack(">Q", serial)
    return hashlib.sha256(out).hexdigest()


records = [
    {
        "description": "alpha: two listening endpoints (IPv4, IPv6) and one a peer reported; no relay",
        "certificate": 0,
        "endpoints": [
            {"address": "192.0.2.10", "port": 51820, "reported": False},
            {"address": "2001:db8::10", "port": 51820, "reported": False},
            {"address": "198.51.100.7", "port": 40001, "reported": True},
        ],
        "relay_port": 0,
        "sequence": 1,
        "made_z": NOT_BEFORE + 500,
    },
    {
        "description": "relay-1.eu_west (node and relay roles): one IPv6 endpoint, relay offered on port 3478",
        "certificate": 1,
        "endpoints": [{"address": "2001:db8:1::2", "port": 443, "reported": False}],
        "relay_port": 3478,
        "sequence": 1234567890123,
        "made_z": NOT_BEFORE + 600,
    },
    {
        "description": "alpha again, newer (sequence 2): no endpoints",
        "certificate": 0,
        "endpoints": [],
        "relay_port": 0,
        "sequence": 2,
        "made_z": NOT_BEFORE + 700,
    },
]
for r in records:
    encoded = node_record(r)
    r["zid"] = CERTS["certificates"][r["certificate"]]["zid"]
    r["encoded"] = encoded.hex()
    r["size"] = len(encoded)

crl = CERTS["revocation_list"]
crl_record = revocation_list_record(H(crl["encoded"]))
ca_fingerprint = H(CERTS["ca"]["fingerprint"])

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--corpus", help="also write each record as a file into this folder (fuzz seeds)")
args = parser.parse_args()
if args.corpus:
    os.makedirs(args.corpus, exist_ok=True)
    seeds = {"node_%d" % i: H(r["encoded"]) for i, r in enumerate(records)}
    seeds["revocation_list"] = crl_record
    for name, data in seeds.items():
        with open(os.path.join(args.corpus, name), "wb") as f:
            f.write(data)

json.dump({
    "description": "zeqvpn directory records (docs/protocol.md \"Directory records\"), from tests/data/record_vectors.py; "
                   "CA, node key and certificates of cert-vectors.json",
    "signing_seed": CERTS["node"]["signing_seed"],
    "node_records": records,
    "revocation_list_record": {
        "description": "the revocation list of cert-vectors.json (serial 7): it revokes both certificates, "
                       "alpha by its X25519 key and relay-1.eu_west by its fingerprint",
        "serial": crl["serial"],
        "encoded": crl_record.hex(),
    },
    "digests": [
        {
            "description": "node records 0 and 1 held, no revocation list",
            "hash": digest_hash([(records[0]["zid"], records[0]["sequence"]),
                                 (records[1]["zid"], records[1]["sequence"])], []),
        },
        {
            "description": "then the revocation list record: both node records dropped, the list held",
            "hash": digest_hash([], [(ca_fingerprint, crl["serial"])]),
        },
        {
            "description": "nothing held",
            "hash": digest_hash([], []),
        },
    ],
}, sys.stdout, indent=2)
print()

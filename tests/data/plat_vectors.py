#!/usr/bin/python3
"""Writes plat-vectors.json: PLAT chains and directory sync messages
(docs/protocol.md "Directory sync (gossip) and PLAT ticks") computed by this
independent implementation (Python's hmac and hashlib, python3-cryptography's
Ed25519 for one revocation list; nothing of the C++ code).
tests/unit/plat_chain_test.cpp and directory_messages_test.cpp hold the C++
code to it byte for byte. Every key is fixed, so the output is the same on
every run.

    plat_n = HMAC-SHA256(secret, plat_{n-1} || be64(zeqond) || sync_uid || digest_hash)
    plat_0 = 32 zero bytes

Run: python3 tests/data/plat_vectors.py > tests/data/plat-vectors.json
     python3 tests/data/plat_vectors.py --corpus tests/fuzz/corpus/directory_messages > /dev/null
(the second also writes the messages, binary, as seeds of the
directory_messages fuzz target: byte 0 is the target's mode, 0 for one
message, 1 for a sequence of be16-length-prefixed messages).
"""
import argparse
import hashlib
import hmac
import json
import os
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))
CERTS = json.load(open(os.path.join(HERE, "cert-vectors.json")))
RECORDS = json.load(open(os.path.join(HERE, "record-vectors.json")))
H = bytes.fromhex

CONTROL = 0x01
DIGEST, PULL, RECORDS_TYPE = 0x03, 0x04, 0x05
BODY_MAX = 1200
PAGE_ENTRIES, PAGE_LISTS = 40, 3
PULL_ZIDS, PULL_LISTS = 64, 3
WHOLE_MAX = BODY_MAX - 4
FRAGMENT_BYTES = BODY_MAX - 9
PLAT_0 = bytes(32)


def plat_next(secret, prev, zeqond, uid, digest_hash):
    assert len(prev) == 32 and len(digest_hash) == 32 and 0 < len(uid) <= 64 and len(secret) >= 16
    return hmac.new(secret, prev + struct.pack(">Q", zeqond) + uid + digest_hash, hashlib.sha256).digest()


def chain(secret, uid, ticks):
    out, prev = [], PLAT_0
    for zeqond, digest_hash in ticks:
        prev = plat_next(secret, prev, zeqond, uid, digest_hash)
        out.append({"zeqond": zeqond, "digest_hash": digest_hash.hex(), "plat": prev.hex()})
    return out


def digest_page(zeqond, record_count, digest_hash, plat, page, pages, entries, lists):
    assert len(entries) <= PAGE_ENTRIES and len(lists) <= PAGE_LISTS
    assert [z for z, _ in entries] == sorted({z for z, _ in entries})
    assert [i for i, _ in lists] == sorted({i for i, _ in lists})
    assert (pages == 0) == (len(entries) + len(lists) == 0) and (pages == 0 or page < pages)
    body = struct.pack(">QI", zeqond, record_count) + digest_hash
    body += (b"\x01" + plat) if plat else b"\x00"
    body += struct.pack(">HH", page, pages)
    body += bytes([len(entries)]) + b"".join(z.encode() + struct.pack(">Q", s) for z, s in entries)
    body += bytes([len(lists)]) + b"".join(i + struct.pack(">Q", s) for i, s in lists)
    assert len(body) <= BODY_MAX
    return bytes([CONTROL, DIGEST]) + body


def pull(zids, issuers):
    assert 0 < len(zids) + len(issuers) and len(zids) <= PULL_ZIDS and len(issuers) <= PULL_LISTS
    assert zids == sorted(set(zids)) and issuers == sorted(set(issuers))
    body = bytes([len(zids)]) + b"".join(z.encode() for z in zids)
    body += bytes([len(issuers)]) + b"".join(issuers)
    return bytes([CONTROL, PULL]) + body


def records_whole(records):
    body = b"\x00" + bytes([len(records)]) + b"".join(struct.pack(">H", len(r)) + r for r in records)
    assert 0 < len(records) < 256 and len(body) <= BODY_MAX
    return bytes([CONTROL, RECORDS_TYPE]) + body


def records_fragments(record_id, record):
    assert WHOLE_MAX < len(record) <= 255 * FRAGMENT_BYTES
    pieces = [record[i:i + FRAGMENT_BYTES] for i in range(0, len(record), FRAGMENT_BYTES)]
    return [bytes([CONTROL, RECORDS_TYPE]) + b"\x01" + struct.pack(">IBBH", record_id, i, len(pieces), len(p)) + p
            for i, p in enumerate(pieces)]


def revocation_list(ca_seed, serial, issued_z, certificates, keys):
    """As tests/data/cert_vectors.py writes it."""
    ca_public = Ed25519PrivateKey.from_private_bytes(ca_seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    entries = sorted([(1, d) for d in certificates] + [(2, k) for k in keys])
    body = b"ZQR\x01" + hashlib.sha256(ca_public).digest()
    body += struct.pack(">QQI", serial, issued_z, len(entries))
    body += b"".join(bytes([kind]) + value for kind, value in entries)
    return body + Ed25519PrivateKey.from_private_bytes(ca_seed).sign(b"zeqvpn/crl/v1" + body)


SECRET = bytes(range(0x41, 0x61))
UID = b"example-sync-group"
Z0 = 2310168000
HASHES = [H(d["hash"]) for d in RECORDS["digests"]]

chains = [
    {
        "description": "four ticks two Zeqonds apart, the digest hashes of record-vectors.json",
        "secret": SECRET.hex(), "sync_uid": UID.hex(),
        "ticks": chain(SECRET, UID, [(Z0, HASHES[0]), (Z0 + 2, HASHES[0]), (Z0 + 4, HASHES[1]), (Z0 + 6, HASHES[2])]),
    },
    {
        "description": "the same ticks in another sync group (other uid, same secret): no value in common",
        "secret": SECRET.hex(), "sync_uid": b"another-group".hex(),
        "ticks": chain(SECRET, b"another-group", [(Z0, HASHES[0]), (Z0 + 2, HASHES[0]), (Z0 + 4, HASHES[1]), (Z0 + 6, HASHES[2])]),
    },
    {
        "description": "a 16-byte secret and a 1-byte uid at the ends of the Zeqond range",
        "secret": bytes(range(0xa0, 0xb0)).hex(), "sync_uid": b"g".hex(),
        "ticks": chain(bytes(range(0xa0, 0xb0)), b"g", [(0, bytes(32)), (1, b"\xff" * 32), (2**64 - 1, HASHES[0])]),
    },
]
assert not {t["plat"] for t in chains[0]["ticks"]} & {t["plat"] for t in chains[1]["ticks"]}

node_records = [H(r["encoded"]) for r in RECORDS["node_records"]]
list_record = H(RECORDS["revocation_list_record"]["encoded"])
ca_fingerprint = H(CERTS["ca"]["fingerprint"])
alpha, relay = RECORDS["node_records"][0]["zid"], RECORDS["node_records"][1]["zid"]
tick0 = chains[0]["ticks"][0]

digests = [
    {
        "description": "a summary: the sender holds what it believes the receiver holds; PLAT of chain 0 tick 0",
        "zeqond": Z0, "record_count": 3, "digest_hash": HASHES[0].hex(), "plat": tick0["plat"],
        "page": 0, "pages": 0, "entries": [], "lists": [],
    },
    {
        "description": "a whole digest in one page: two node records and the CA's revocation list, with a PLAT",
        "zeqond": Z0 + 2, "record_count": 3, "digest_hash": HASHES[0].hex(), "plat": chains[0]["ticks"][1]["plat"],
        "page": 0, "pages": 1,
        "entries": [[alpha, 1], [relay, 1234567890123]], "lists": [[ca_fingerprint.hex(), 7]],
    },
    {
        "description": "page 1 of 3 of a bigger digest, full (40 entries), no PLAT (no sync secret)",
        "zeqond": Z0 + 4, "record_count": 100, "digest_hash": HASHES[1].hex(), "plat": None,
        "page": 1, "pages": 3,
        "entries": [["zeq-%012x" % (0x100000 + 7 * i), i + 1] for i in range(40)], "lists": [],
    },
]
for d in digests:
    d["encoded"] = digest_page(d["zeqond"], d["record_count"], H(d["digest_hash"]), H(d["plat"]) if d["plat"] else None,
                               d["page"], d["pages"], [(z, s) for z, s in d["entries"]],
                               [(H(i), s) for i, s in d["lists"]]).hex()

pulls = [
    {"description": "two node records and a revocation list",
     "zids": sorted([alpha, relay]), "issuers": [ca_fingerprint.hex()]},
    {"description": "one node record", "zids": [relay], "issuers": []},
]
for p in pulls:
    p["encoded"] = pull(p["zids"], [H(i) for i in p["issuers"]]).hex()

# A revocation list too big for one message: serial 8 (above the vector
# list's 7), 60 certificate fingerprints, none of the vector nodes.
big_list = revocation_list(H(CERTS["ca"]["seed"]), 8, CERTS["revocation_list"]["issued_z"] + 10,
                           [hashlib.sha256(b"revoked %d" % i).digest() for i in range(60)], [])
big_list_record = b"ZQD\x01\x02" + struct.pack(">I", len(big_list)) + big_list
fragments = records_fragments(7, big_list_record)
assert len(fragments) == 2

records_messages = {
    "whole": {"description": "vector node records 0 and 1, whole", "records": [0, 1],
              "encoded": records_whole(node_records[:2]).hex()},
    "fragmented": {"description": "a revocation list record of %d bytes (serial 8, 60 entries, signed by the vector CA) "
                                  "as record 7 in two fragments" % len(big_list_record),
                   "record_id": 7, "record": big_list_record.hex(), "serial": 8,
                   "fragments": [f.hex() for f in fragments]},
}

out = {
    "description": "PLAT chains and directory sync messages (docs/protocol.md \"Directory sync (gossip) and PLAT ticks\"), "
                   "from tests/data/plat_vectors.py",
    "plat_0": PLAT_0.hex(),
    "chains": chains,
    "digest_pages": digests,
    "pulls": pulls,
    "records": records_messages,
    "zeqond": Z0,
}

parser = argparse.ArgumentParser()
parser.add_argument("--corpus", help="also write the fuzz seeds into this directory")
args = parser.parse_args()
if args.corpus:
    os.makedirs(args.corpus, exist_ok=True)

    def seed(name, data):
        with open(os.path.join(args.corpus, name), "wb") as f:
            f.write(data)

    def frames(messages, step=1):
        return bytes([1 | (step << 1)]) + b"".join(struct.pack(">H", len(m)) + m for m in messages)

    for i, d in enumerate(digests):
        seed("digest_%d" % i, b"\x00" + H(d["encoded"]))
    for i, p in enumerate(pulls):
        seed("pull_%d" % i, b"\x00" + H(p["encoded"]))
    seed("records_whole", b"\x00" + H(records_messages["whole"]["encoded"]))
    seed("records_fragment_0", b"\x00" + fragments[0])
    seed("records_padded", b"\x00" + H(records_messages["whole"]["encoded"]) + bytes(14))
    # A conversation: the peer's digest (PLAT chain 0), its records (whole
    # and fragmented), then its pull for what this node now holds.
    seed("sequence_sync", frames([H(digests[1]["encoded"]), H(records_messages["whole"]["encoded"])] + fragments +
                                 [H(pulls[0]["encoded"])]))
    seed("sequence_ticks", frames([digest_page(t["zeqond"], 3, H(t["digest_hash"]), H(t["plat"]), 0, 0, [], [])
                                   for t in chains[0]["ticks"]], step=2))

json.dump(out, sys.stdout, indent=2)
print()

#!/usr/bin/python3
"""Writes cert-vectors.json: mesh certificates, a revocation list, CA key
encodings and their armour, computed by this independent implementation of
docs/protocol.md "Mesh certificates" (python3-cryptography's Ed25519, X25519
and HKDF; nothing of the C++ code). tests/unit/certificate_test.cpp holds
the C++ code to it byte for byte. Every key is fixed (Ed25519 signatures are
deterministic), so the output is the same on every run.

Run: python3 tests/data/cert_vectors.py > tests/data/cert-vectors.json
"""
import base64
import hashlib
import ipaddress
import json
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def ed25519_public(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(*RAW)


def ed25519_sign(seed, message):
    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


def x25519_public(private):
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes(*RAW)


def zid(public):
    return "zeq-" + hashlib.sha256(public).hexdigest()[:12]


def node_signing_seed(x25519_private):
    """HKDF-SHA256, empty salt, ikm = the X25519 private key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=b"zeqvpn/signing/v1").derive(x25519_private)


def text(s):
    b = s.encode("ascii")
    assert len(b) < 256
    return bytes([len(b)]) + b


def prefix(p):
    net = ipaddress.ip_interface(p)
    return bytes([net.version]) + net.ip.packed + bytes([net.network.prefixlen])


def cert_body(c, ca_public):
    out = b"ZQC\x01" + text(c["name"])
    assert len(c["zid"]) == 16
    out += c["zid"].encode() + bytes.fromhex(c["x25519_public"]) + bytes.fromhex(c["signing_public"])
    out += bytes([len(c["addresses"])]) + b"".join(prefix(p) for p in c["addresses"])
    for p in c["allowed_ips"]:
        assert ipaddress.ip_network(p, strict=True)  # host bits zero
    out += bytes([len(c["allowed_ips"])]) + b"".join(prefix(p) for p in c["allowed_ips"])
    out += bytes([c["roles"]])
    out += bytes([len(c["groups"])]) + b"".join(text(g) for g in c["groups"])
    out += text(c["owner"]) if c["owner"] else b"\x00"
    out += struct.pack(">QQ", c["not_before_z"], c["not_after_z"])
    out += hashlib.sha256(ca_public).digest()
    return out


def sign_cert(c, ca_seed):
    body = cert_body(c, ed25519_public(ca_seed))
    return body + ed25519_sign(ca_seed, b"zeqvpn/cert/v1" + body)


def revocation_list(ca_seed, serial, issued_z, certificates, keys):
    entries = sorted([(1, d) for d in certificates] + [(2, k) for k in keys])
    body = b"ZQR\x01" + hashlib.sha256(ed25519_public(ca_seed)).digest()
    body += struct.pack(">QQI", serial, issued_z, len(entries))
    body += b"".join(bytes([kind]) + value for kind, value in entries)
    return body + ed25519_sign(ca_seed, b"zeqvpn/crl/v1" + body)


def ca_key(name, key):
    return b"\x01" + text(name) + key


def armor(kind, data):
    b64 = base64.b64encode(data).decode()
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    return "".join(x + "\n" for x in
                   ["-----BEGIN ZEQVPN %s-----" % kind] + lines + ["-----END ZEQVPN %s-----" % kind])


CA_SEED = bytes(range(0x01, 0x21))
CA_NAME = "example-mesh-ca"
CA_PUBLIC = ed25519_public(CA_SEED)
NODE_PRIVATE = bytes(range(0x21, 0x41))
NODE_PUBLIC = x25519_public(NODE_PRIVATE)
NODE_SIGNING_SEED = node_signing_seed(NODE_PRIVATE)
NODE_SIGNING_PUBLIC = ed25519_public(NODE_SIGNING_SEED)
OTHER_PUBLIC = x25519_public(bytes(range(0x61, 0x81)))
# Zeqond 2310167300 is 2026-11-18 11:06:32 UTC; 365 days are 40586873 Zeqonds (rounded up).
NOT_BEFORE = 2310167300
NOT_AFTER = NOT_BEFORE + 40586873

certificates = [
    {
        "description": "one IPv4 address, no allowed_ips, node role, no groups, no owner",
        "name": "alpha",
        "zid": zid(NODE_PUBLIC),
        "x25519_public": NODE_PUBLIC.hex(),
        "signing_public": NODE_SIGNING_PUBLIC.hex(),
        "addresses": ["10.77.0.1/24"],
        "allowed_ips": [],
        "roles": 1,
        "groups": [],
        "owner": "",
        "not_before_z": NOT_BEFORE,
        "not_after_z": NOT_AFTER,
    },
    {
        "description": "both families, allowed_ips, node and relay, groups, an owner, lists in their given order",
        "name": "relay-1.eu_west",
        "zid": zid(OTHER_PUBLIC),
        "x25519_public": OTHER_PUBLIC.hex(),
        "signing_public": NODE_SIGNING_PUBLIC.hex(),
        "addresses": ["fd77::2/64", "10.77.0.2/24"],
        "allowed_ips": ["10.77.0.2/32", "fd77::2/128", "192.168.10.0/24", "0.0.0.0/0"],
        "roles": 3,
        "groups": ["ops", "eu-west.1", "Relays_A"],
        "owner": "zeq-0123456789ab",
        "not_before_z": 1,
        "not_after_z": 2 ** 64 - 1,
    },
]
for c in certificates:
    encoded = sign_cert(c, CA_SEED)
    assert len(encoded) <= 1000  # MAX_CERTIFICATE_BYTES
    c["encoded"] = encoded.hex()
    c["fingerprint"] = hashlib.sha256(encoded).hexdigest()
    c["armor"] = armor("CERTIFICATE", encoded)

crl_certs = [bytes.fromhex(certificates[1]["fingerprint"]), hashlib.sha256(b"some other certificate").digest()]
crl_keys = [NODE_PUBLIC, OTHER_PUBLIC]
crl = revocation_list(CA_SEED, 7, NOT_BEFORE + 1000, crl_certs, crl_keys)

json.dump({
    "description": "zeqvpn mesh certificates (docs/protocol.md \"Mesh certificates\"), from tests/data/cert_vectors.py",
    "ca": {
        "name": CA_NAME,
        "seed": CA_SEED.hex(),
        "public": CA_PUBLIC.hex(),
        "fingerprint": hashlib.sha256(CA_PUBLIC).hexdigest(),
        "public_encoded": ca_key(CA_NAME, CA_PUBLIC).hex(),
        "private_encoded": ca_key(CA_NAME, CA_SEED).hex(),
        "public_armor": armor("CA PUBLIC KEY", ca_key(CA_NAME, CA_PUBLIC)),
    },
    "node": {
        "x25519_private": NODE_PRIVATE.hex(),
        "x25519_public": NODE_PUBLIC.hex(),
        "signing_seed": NODE_SIGNING_SEED.hex(),
        "signing_public": NODE_SIGNING_PUBLIC.hex(),
    },
    "certificates": certificates,
    "revocation_list": {
        "serial": 7,
        "issued_z": NOT_BEFORE + 1000,
        "certificates": [d.hex() for d in crl_certs],
        "keys": [k.hex() for k in crl_keys],
        "encoded": crl.hex(),
        "armor": armor("REVOCATION LIST", crl),
        "revokes_certificates": [True, True],
    },
}, sys.stdout, indent=2)
print()

#!/usr/bin/python3
"""zeqpeer: an independent zeqvpn initiator, used as a test peer.

Written from shared/design/PROTOCOL.md (wire protocol v1) alone, not ported
from the C++ code, so that a misreading shared by the daemon's sender and
receiver shows up as a disagreement here. It implements:

  * Noise_IKpsk2_25519_AESGCM_SHA256 with prologue "zeqvpn/1", MixKey(e)
    after every e token (psk mode), psk(A,B) from the mesh secret,
  * HandshakeInit (0x01, 177 bytes) and HandshakeResponse (0x02, 133 bytes)
    with the 57-byte payload and mac1,
  * K_mesh and the data keys key_i2r / key_r2i (section 4.3),
  * data messages (0x04): iv = be32(Z mod 2^32) || be64(counter), the tag
    BEFORE the ciphertext on the wire, AAD = the 8 header bytes, plaintext
    zero-padded to a multiple of 16.

Modes:

  zeqpeer.py --selftest [--vectors FILE]
      Rebuild every byte of tests/data/zeqvpn-vectors.json (both handshake
      messages, psk, K_mesh, both data keys, the data message, the keepalive)
      and exit 1 on any mismatch. The responder half needed to rebuild
      message 2 exists only for this.

  zeqpeer.py rounds KEYFILE PEER_PUB ENDPOINT INNER PEER_INNER [ROUNDS [ECHOES]]
      KEYFILE: our base64 X25519 private key (as `zeqvpnctl genkey` writes);
      PEER_PUB: the responder's base64 public key; ENDPOINT: its ip:port;
      INNER / PEER_INNER: our and its tunnel IPv4 addresses. The mesh secret
      (hex) comes from --mesh or the ZEQ_MESH_SECRET environment variable.
      Each round is a fresh handshake, as a restarted node would make one,
      immediately followed by ECHOES ICMP echo requests (no keepalive first),
      then the replies are read for --wait seconds. One line per round, then
      a JSON summary line. Exit 0: every echo answered; 1: a reply lost;
      2: usage or handshake error. With --src ADDR the echo requests carry a
      forged inner source; with --expect-none, exit 0 only if NO reply came.

Runs with Debian's /usr/bin/python3 and python3-cryptography (38); no other
third-party module.
"""

import argparse
import base64
import hashlib
import hmac
import ipaddress
import json
import os
import select
import socket
import struct
import sys
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import (X25519PrivateKey,
                                                              X25519PublicKey)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# ---------------------------------------------------------------- constants

TAU_ZQ_US = 777_000                  # one Zeqond in microseconds (PROTOCOL 1)
PROTOCOL_NAME = b"Noise_IKpsk2_25519_AESGCM_SHA256"
PROLOGUE = b"zeqvpn/1"
PAYLOAD_VERSION = 0x01
PAYLOAD_LEN = 57                     # 1 + 16 + 8 + 32
TYPE_INIT, TYPE_RESPONSE, TYPE_DATA = 0x01, 0x02, 0x04
INIT_LEN, RESPONSE_LEN = 177, 133
DATA_HEADER_LEN = 8                  # type, 3 zero bytes, receiver_index
DATA_OVERHEAD = DATA_HEADER_LEN + 12 + 16
REPLAY_WINDOW = 8192                 # PROTOCOL 5: "at least 8192 counters"
DRIFT = 1                            # |z - Z(now)| <= 1


def zeqond_now():
    """Z(t) = floor(unix_time_us / 777000), in integers only."""
    return (time.time_ns() // 1000) // TAU_ZQ_US


def sha256(data):
    return hashlib.sha256(data).digest()


def hmac256(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def zid_of(public_key):
    """Key-file identity: "zeq-" + hex(SHA256(public_key))[0:12], 16 ASCII bytes."""
    return ("zeq-" + hashlib.sha256(public_key).hexdigest()[:12]).encode()


def pub_bytes(private):
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def dh(private, public_raw):
    return private.exchange(X25519PublicKey.from_public_bytes(public_raw))


# --------------------------------------------------------- mesh-derived keys

def pair_psk(mesh, zid_a, zid_b):
    """psk(A,B) = HMAC(mesh, "zeqvpn/psk/v1" || zid_A || zid_B); A initiates."""
    return hmac256(mesh, b"zeqvpn/psk/v1" + zid_a + zid_b)


def k_mesh(mesh, zid_a, zid_b, nonce_a, nonce_b, zeqond_a):
    """K_mesh = HMAC(mesh, zid_A || zid_B || nonce_A || nonce_B || be64(zeqond_A))."""
    return hmac256(mesh, zid_a + zid_b + nonce_a + nonce_b + struct.pack(">Q", zeqond_a))


def data_keys(kmesh, k1, k2):
    """Section 4.3: RFC 5869 HKDF, salt K_mesh, ikm the Noise Split() keys."""
    def hkdf(ikm, info):
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=kmesh, info=info).derive(ikm)
    return hkdf(k1, b"zeqvpn/data/i2r"), hkdf(k2, b"zeqvpn/data/r2i")


def mac1(receiver_static_public, preceding):
    """mac1 = HMAC(SHA256("zeqvpn/mac1" || receiver_static_public), preceding)[0:16]."""
    return hmac256(sha256(b"zeqvpn/mac1" + receiver_static_public), preceding)[:16]


def make_payload(zid, zeqond, nonce):
    return bytes([PAYLOAD_VERSION]) + zid + struct.pack(">Q", zeqond) + nonce


def parse_payload(payload):
    """Returns (zid, zeqond, nonce) or raises ValueError."""
    if len(payload) != PAYLOAD_LEN or payload[0] != PAYLOAD_VERSION:
        raise ValueError("bad payload version or length")
    zid = payload[1:17]
    if not zid.startswith(b"zeq-"):
        raise ValueError("bad payload zid")
    return zid, struct.unpack(">Q", payload[17:25])[0], payload[25:57]


# ------------------------------------------------------------------- Noise

def noise_hkdf(chaining_key, ikm, outputs):
    """Noise HKDF (spec section 4.3): HMAC chain, 2 or 3 outputs of 32 bytes."""
    temp = hmac256(chaining_key, ikm)
    out, prev = [], b""
    for i in range(1, outputs + 1):
        prev = hmac256(temp, prev + bytes([i]))
        out.append(prev)
    return out


class SymmetricState:
    """Noise SymmetricState + CipherState for AESGCM/SHA256 (spec section 5)."""

    def __init__(self):
        # The protocol name is exactly HASHLEN (32) bytes, so h = name, unhashed.
        assert len(PROTOCOL_NAME) == 32
        self.h = PROTOCOL_NAME
        self.ck = PROTOCOL_NAME
        self.k = None
        self.n = 0

    def mix_hash(self, data):
        self.h = sha256(self.h + data)

    def mix_key(self, ikm):
        self.ck, temp_k = noise_hkdf(self.ck, ikm, 2)
        self.k, self.n = temp_k, 0

    def mix_key_and_hash(self, ikm):
        self.ck, temp_h, temp_k = noise_hkdf(self.ck, ikm, 3)
        self.mix_hash(temp_h)
        self.k, self.n = temp_k, 0

    def _nonce(self):
        # AESGCM nonce in Noise: 32 zero bits then the 64-bit counter, big-endian.
        return b"\x00" * 4 + struct.pack(">Q", self.n)

    def encrypt_and_hash(self, plaintext):
        if self.k is None:           # never happens in IKpsk2, kept for spec fidelity
            ct = plaintext
        else:
            ct = AESGCM(self.k).encrypt(self._nonce(), plaintext, self.h)
            self.n += 1
        self.mix_hash(ct)
        return ct

    def decrypt_and_hash(self, ciphertext):
        if self.k is None:
            pt = ciphertext
        else:
            pt = AESGCM(self.k).decrypt(self._nonce(), ciphertext, self.h)  # InvalidTag
            self.n += 1
        self.mix_hash(ciphertext)
        return pt

    def split(self):
        k1, k2 = noise_hkdf(self.ck, b"", 2)
        return k1, k2


def _initial_state(responder_static_public):
    ss = SymmetricState()
    ss.mix_hash(PROLOGUE)
    # IK pre-message pattern "<- s": the responder's static key is known.
    ss.mix_hash(responder_static_public)
    return ss


class Initiator:
    """One handshake attempt, initiator side: write message 1, read message 2."""

    def __init__(self, static_private, responder_public, mesh,
                 ephemeral_private=None, nonce=None, sender_index=None, zeqond=None):
        self.s = static_private
        self.s_pub = pub_bytes(static_private)
        self.rs = responder_public
        self.mesh = mesh
        self.zid = zid_of(self.s_pub)
        self.peer_zid = zid_of(responder_public)
        # Fresh per attempt unless fixed (selftest): a restarted node has no state.
        self.e = ephemeral_private or X25519PrivateKey.generate()
        self.nonce = nonce if nonce is not None else os.urandom(32)
        self.sender_index = (sender_index if sender_index is not None
                             else struct.unpack(">I", os.urandom(4))[0])
        self.zeqond = zeqond if zeqond is not None else zeqond_now()
        self.psk = pair_psk(mesh, self.zid, self.peer_zid)
        self.ss = None

    def write_init(self):
        ss = _initial_state(self.rs)
        e_pub = pub_bytes(self.e)
        # -> e, es, s, ss
        ss.mix_hash(e_pub)
        ss.mix_key(e_pub)            # psk mode: MixKey(e) after MixHash(e)
        ss.mix_key(dh(self.e, self.rs))
        enc_s = ss.encrypt_and_hash(self.s_pub)
        ss.mix_key(dh(self.s, self.rs))
        enc_payload = ss.encrypt_and_hash(make_payload(self.zid, self.zeqond, self.nonce))
        msg = (bytes([TYPE_INIT, 0, 0, 0]) + struct.pack(">I", self.sender_index)
               + e_pub + enc_s + enc_payload)
        msg += mac1(self.rs, msg)
        assert len(msg) == INIT_LEN
        self.ss = ss
        return msg

    def read_response(self, msg, now_zeqond=None, check_clock=True):
        """Validates message 2 and returns a Session, or raises ValueError.

        Works on a copy of the Noise state so that a forged or stray response
        does not spoil the handshake in flight."""
        if len(msg) != RESPONSE_LEN or msg[0] != TYPE_RESPONSE or msg[1:4] != b"\0\0\0":
            raise ValueError("not a HandshakeResponse")
        responder_index, receiver_index = struct.unpack(">II", msg[4:12])
        if receiver_index != self.sender_index:
            raise ValueError("response for another handshake")
        if not hmac.compare_digest(msg[-16:], mac1(self.s_pub, msg[:-16])):
            raise ValueError("bad mac1")
        ss = SymmetricState()
        ss.h, ss.ck, ss.k, ss.n = self.ss.h, self.ss.ck, self.ss.k, self.ss.n
        re = msg[12:44]
        # <- e, ee, se, psk
        ss.mix_hash(re)
        ss.mix_key(re)
        ss.mix_key(dh(self.e, re))
        ss.mix_key(dh(self.s, re))
        ss.mix_key_and_hash(self.psk)
        try:
            payload = ss.decrypt_and_hash(msg[44:117])
        except InvalidTag:
            raise ValueError("Noise decryption failed (wrong key or mesh secret)")
        zid_b, zeqond_b, nonce_b = parse_payload(payload)
        if zid_b != self.peer_zid:
            raise ValueError("response payload ZID is not the peer we called")
        if check_clock:
            now = zeqond_now() if now_zeqond is None else now_zeqond
            if abs(zeqond_b - now) > DRIFT:
                raise ValueError("response Zeqond outside the drift tolerance")
        k1, k2 = ss.split()
        kmesh = k_mesh(self.mesh, self.zid, self.peer_zid, self.nonce, nonce_b, self.zeqond)
        key_i2r, key_r2i = data_keys(kmesh, k1, k2)
        return Session(self.sender_index, responder_index, key_i2r, key_r2i, kmesh)


class Responder:
    """Responder side, only what the selftest needs to rebuild message 2."""

    def __init__(self, static_private, mesh, ephemeral_private, nonce, sender_index, zeqond):
        self.s = static_private
        self.s_pub = pub_bytes(static_private)
        self.mesh = mesh
        self.zid = zid_of(self.s_pub)
        self.e, self.nonce, self.sender_index, self.zeqond = (
            ephemeral_private, nonce, sender_index, zeqond)

    def read_init_write_response(self, msg):
        assert len(msg) == INIT_LEN and msg[0] == TYPE_INIT
        assert hmac.compare_digest(msg[-16:], mac1(self.s_pub, msg[:-16]))
        initiator_index = struct.unpack(">I", msg[4:8])[0]
        ss = _initial_state(self.s_pub)
        re = msg[8:40]
        ss.mix_hash(re)
        ss.mix_key(re)
        ss.mix_key(dh(self.s, re))
        rs = ss.decrypt_and_hash(msg[40:88])
        ss.mix_key(dh(self.s, rs))
        zid_a, zeqond_a, nonce_a = parse_payload(ss.decrypt_and_hash(msg[88:161]))
        assert zid_a == zid_of(rs)
        # The responder learns zid_A only now, so psk(A,B) is computed here.
        psk = pair_psk(self.mesh, zid_a, self.zid)
        e_pub = pub_bytes(self.e)
        ss.mix_hash(e_pub)
        ss.mix_key(e_pub)
        ss.mix_key(dh(self.e, re))
        ss.mix_key(dh(self.e, rs))
        ss.mix_key_and_hash(psk)
        enc_payload = ss.encrypt_and_hash(make_payload(self.zid, self.zeqond, self.nonce))
        out = (bytes([TYPE_RESPONSE, 0, 0, 0])
               + struct.pack(">II", self.sender_index, initiator_index)
               + e_pub + enc_payload)
        out += mac1(rs, out)
        assert len(out) == RESPONSE_LEN
        k1, k2 = ss.split()
        kmesh = k_mesh(self.mesh, zid_a, self.zid, nonce_a, self.nonce, zeqond_a)
        key_i2r, key_r2i = data_keys(kmesh, k1, k2)
        return out, psk, Session(self.sender_index, initiator_index, key_r2i, key_i2r, kmesh)


# ------------------------------------------------------------- data plane

class Session:
    """Transport keys of one handshake. our_index is the index we chose (data
    TO us carries it), peer_index the one the peer chose (data we send carries
    it)."""

    def __init__(self, our_index, peer_index, send_key, recv_key, kmesh):
        self.our_index = our_index
        self.peer_index = peer_index
        self.send_key = send_key
        self.recv_key = recv_key
        self.kmesh = kmesh
        self.send_counter = 0
        self.replay = ReplayWindow()

    def seal(self, plaintext, zeqond=None, pad=True):
        if pad and plaintext:
            # Zero padding to a multiple of 16; the receiver trims by IP length.
            plaintext = plaintext + b"\0" * (-len(plaintext) % 16)
        z = zeqond_now() if zeqond is None else zeqond
        header = bytes([TYPE_DATA, 0, 0, 0]) + struct.pack(">I", self.peer_index)
        iv = struct.pack(">IQ", z % (1 << 32), self.send_counter)
        self.send_counter += 1
        sealed = AESGCM(self.send_key).encrypt(iv, plaintext, header)
        ct, tag = sealed[:-16], sealed[-16:]
        # HITE layout: the tag goes BEFORE the ciphertext on the wire.
        return header + iv + tag + ct

    def open(self, msg):
        """Returns the plaintext, or raises ValueError (with a reason)."""
        if len(msg) < DATA_OVERHEAD or msg[0] != TYPE_DATA or msg[1:4] != b"\0\0\0":
            raise ValueError("malformed")
        if struct.unpack(">I", msg[4:8])[0] != self.our_index:
            raise ValueError("unknown_index")
        iv, tag, ct = msg[8:20], msg[20:36], msg[36:]
        counter = struct.unpack(">Q", iv[4:12])[0]
        if not self.replay.check(counter):
            raise ValueError("replay")
        try:
            pt = AESGCM(self.recv_key).decrypt(iv, ct + tag, msg[:8])
        except InvalidTag:
            raise ValueError("bad_tag")
        # Only an authenticated counter may move the window.
        self.replay.update(counter)
        return pt


class ReplayWindow:
    """Sliding window over the last REPLAY_WINDOW counters (RFC 6479 in spirit;
    a plain set is enough for a test peer's packet rates)."""

    def __init__(self):
        self.highest = -1
        self.seen = set()

    def check(self, counter):
        if counter > self.highest:
            return True
        if counter <= self.highest - REPLAY_WINDOW:
            return False
        return counter not in self.seen

    def update(self, counter):
        self.seen.add(counter)
        if counter > self.highest:
            self.highest = counter
            floor = self.highest - REPLAY_WINDOW
            if len(self.seen) > 2 * REPLAY_WINDOW:
                self.seen = {c for c in self.seen if c > floor}


# ------------------------------------------------------------------- IPv4 / ICMP

def inet_checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f">{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icmp_echo_request(src, dst, ident, seq, payload):
    icmp = struct.pack(">BBHHH", 8, 0, 0, ident, seq) + payload
    icmp = icmp[:2] + struct.pack(">H", inet_checksum(icmp)) + icmp[4:]
    total = 20 + len(icmp)
    hdr = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, seq & 0xFFFF, 0, 64, 1, 0,
                      src.packed, dst.packed)
    hdr = hdr[:10] + struct.pack(">H", inet_checksum(hdr)) + hdr[12:]
    return hdr + icmp


def parse_echo_reply(packet):
    """Trims a (padded) plaintext to the IPv4 length; returns
    (src, dst, ident, seq) for an ICMP echo reply, else None."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return None
    ihl = (packet[0] & 0x0F) * 4
    total = struct.unpack(">H", packet[2:4])[0]
    if ihl < 20 or total < ihl + 8 or total > len(packet):
        return None
    packet = packet[:total]
    if packet[9] != 1 or inet_checksum(packet[:ihl]) != 0:
        return None
    icmp = packet[ihl:]
    if icmp[0] != 0 or inet_checksum(icmp) != 0:
        return None
    ident, seq = struct.unpack(">HH", icmp[4:8])
    return (ipaddress.IPv4Address(packet[12:16]), ipaddress.IPv4Address(packet[16:20]),
            ident, seq)


# ------------------------------------------------------------------- selftest

def selftest(path):
    with open(path) as f:
        v = json.load(f)
    h = bytes.fromhex
    mesh = h(v["mesh_secret"])
    zeqond = v["zeqond"]
    failures = []

    def check(name, got, want):
        if got != want:
            failures.append(name)
            print(f"MISMATCH {name}:\n  got  {got.hex() if isinstance(got, bytes) else got}\n"
                  f"  want {want.hex() if isinstance(want, bytes) else want}")
        else:
            print(f"ok {name}")

    check("zeqond", (v["unix_time_us"] // TAU_ZQ_US), zeqond)
    vi, vr = v["initiator"], v["responder"]
    i_s = X25519PrivateKey.from_private_bytes(h(vi["static_private"]))
    r_s = X25519PrivateKey.from_private_bytes(h(vr["static_private"]))
    check("initiator.static_public", pub_bytes(i_s), h(vi["static_public"]))
    check("responder.static_public", pub_bytes(r_s), h(vr["static_public"]))
    check("initiator.zid", zid_of(pub_bytes(i_s)), vi["zid"].encode())
    check("responder.zid", zid_of(pub_bytes(r_s)), vr["zid"].encode())

    ini = Initiator(i_s, pub_bytes(r_s), mesh,
                    ephemeral_private=X25519PrivateKey.from_private_bytes(h(vi["ephemeral_private"])),
                    nonce=h(vi["nonce"]), sender_index=vi["sender_index"], zeqond=zeqond)
    check("psk", ini.psk, h(v["psk"]))
    msg1 = ini.write_init()
    check("handshake_init", msg1, h(v["handshake_init"]))

    resp = Responder(r_s, mesh, X25519PrivateKey.from_private_bytes(h(vr["ephemeral_private"])),
                     h(vr["nonce"]), vr["sender_index"], zeqond)
    msg2, r_psk, r_sess = resp.read_init_write_response(h(v["handshake_init"]))
    check("psk (responder)", r_psk, h(v["psk"]))
    check("handshake_response", msg2, h(v["handshake_response"]))

    # The initiator reads the vector's message 2 (not ours) with the clock at
    # unix_time_us, as a node fed the vectors must.
    try:
        sess = ini.read_response(h(v["handshake_response"]), now_zeqond=zeqond)
    except ValueError as exc:
        print(f"MISMATCH initiator cannot read handshake_response: {exc}")
        return 1
    check("k_mesh", sess.kmesh, h(v["k_mesh"]))
    check("key_i2r", sess.send_key, h(v["key_i2r"]))
    check("key_r2i", sess.recv_key, h(v["key_r2i"]))
    check("key_i2r (responder)", r_sess.recv_key, h(v["key_i2r"]))
    check("key_r2i (responder)", r_sess.send_key, h(v["key_r2i"]))

    d = v["data_i2r_counter0"]
    plaintext = h(d["plaintext"])
    # The vector's plaintext is already padded (58-byte IP packet -> 64).
    check("data_i2r_counter0.message", sess.seal(plaintext, zeqond=zeqond), h(d["message"]))
    try:
        check("data_i2r_counter0 (responder opens)", r_sess.open(h(d["message"])), plaintext)
    except ValueError as exc:
        check("data_i2r_counter0 (responder opens)", str(exc), "plaintext")
    ip_len = struct.unpack(">H", plaintext[2:4])[0]
    check("data_i2r_counter0 padded from IP length", len(plaintext), ip_len + (-ip_len % 16))

    ka = h(v["keepalive_r2i_counter0"]["message"])
    check("keepalive_r2i_counter0.message", r_sess.seal(b"", zeqond=zeqond), ka)
    try:
        check("keepalive_r2i_counter0 (initiator opens)", sess.open(ka), b"")
    except ValueError as exc:
        check("keepalive_r2i_counter0 (initiator opens)", str(exc), "empty plaintext")
    # The same datagram again must be refused by the replay window.
    try:
        sess.open(ka)
        check("keepalive replay refused", "accepted", "refused")
    except ValueError:
        check("keepalive replay refused", "refused", "refused")

    if failures:
        print(f"selftest FAILED: {len(failures)} mismatch(es): {', '.join(failures)}")
        return 1
    print("selftest passed")
    return 0


# ------------------------------------------------------------------- rounds

def datagrams(sock, seconds):
    """Yields the datagrams that arrive on sock within `seconds` from now."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        readable, _, _ = select.select([sock], [], [], left)
        if not readable:
            return
        yield sock.recvfrom(2048)[0]


class Peer:
    def __init__(self, args):
        with open(args.keyfile) as f:
            self.s = X25519PrivateKey.from_private_bytes(_b64key(f.read().strip(), "key file"))
        self.rs = _b64key(args.peer_pub, "PEER_PUB")
        mesh_hex = args.mesh or os.environ.get("ZEQ_MESH_SECRET", "")
        try:
            self.mesh = bytes.fromhex(mesh_hex)
        except ValueError:
            raise UsageError("mesh secret is not hex")
        if len(self.mesh) < 32:
            raise UsageError("mesh secret missing or shorter than 32 bytes (--mesh or ZEQ_MESH_SECRET)")
        host, _, port = args.endpoint.rpartition(":")
        try:
            self.endpoint = (str(ipaddress.ip_address(host.strip("[]"))), int(port))
        except ValueError:
            raise UsageError(f"bad endpoint {args.endpoint!r}")
        self.family = socket.AF_INET6 if ":" in self.endpoint[0] else socket.AF_INET
        self.inner = ipaddress.IPv4Address(args.inner)
        self.peer_inner = ipaddress.IPv4Address(args.peer_inner)
        self.src = ipaddress.IPv4Address(args.src) if args.src else self.inner
        self.args = args
        # Sessions of earlier rounds by our index, to tell "old session" from
        # junk; never used to accept anything.
        self.old_sessions = {}
        self.ident_base = os.getpid() & 0xFFFF

    def handshake(self, sock):
        """Fresh handshake with one retry (a new attempt, as HANDSHAKE_RETRY
        does: a resent identical message would be refused as a replay).
        Returns (session, foreign_during_handshake)."""
        foreign = 0
        attempts = 2
        per_attempt = self.args.handshake_timeout / attempts
        for _ in range(attempts):
            ini = Initiator(self.s, self.rs, self.mesh)
            sock.sendto(ini.write_init(), self.endpoint)
            for data in datagrams(sock, per_attempt):
                if data[:1] == bytes([TYPE_RESPONSE]):
                    try:
                        return ini.read_response(data), foreign
                    except ValueError as exc:
                        print(f"  ignored response: {exc}", file=sys.stderr)
                foreign += 1
        raise HandshakeError(f"no valid HandshakeResponse within {self.args.handshake_timeout:.1f} s")

    def round(self, number, sock):
        t0 = time.monotonic()
        sess, foreign = self.handshake(sock)
        t_hs = time.monotonic() - t0
        ident = (self.ident_base + number) & 0xFFFF
        # Echo requests go out back to back, the first data message under the
        # new key: this is what a restarted node's first packets look like.
        expected = set()
        for i in range(self.args.echoes):
            seq = number * 100 + i
            body = f"zeqpeer r{number} e{i}".encode().ljust(32, b".")
            pkt = icmp_echo_request(self.src, self.peer_inner, ident, seq, body)
            sock.sendto(sess.seal(pkt), self.endpoint)
            expected.add(seq)
        got = set()
        stats = {"foreign_old": 0, "foreign_other": 0, "reply_under_old": 0,
                 "keepalive": 0, "other": 0, "replay": 0}
        foreign_old_idx = set()
        for data in datagrams(sock, self.args.wait):
            try:
                pt = sess.open(data)
            except ValueError as exc:
                if str(exc) == "replay":
                    stats["replay"] += 1
                    continue
                # Not this round's session: an older session's index, or junk.
                idx = struct.unpack(">I", data[4:8])[0] if len(data) >= 8 else None
                if data[:1] == bytes([TYPE_DATA]) and idx in self.old_sessions:
                    stats["foreign_old"] += 1
                    old_round, old_sess = self.old_sessions[idx]
                    foreign_old_idx.add(f"r{old_round}")
                    # Diagnosis only: a reply to THIS round's echo sealed under
                    # an older session is the responder answering on the wrong
                    # key. A restarted node no longer has that key, so it still
                    # counts as lost.
                    try:
                        old = parse_echo_reply(old_sess.open(data))
                    except ValueError:
                        old = None
                    if old and old[2] == ident and old[3] in expected:
                        stats["reply_under_old"] += 1
                else:
                    stats["foreign_other"] += 1
                continue
            if not pt:
                stats["keepalive"] += 1
                continue
            reply = parse_echo_reply(pt)
            if (reply and reply[0] == self.peer_inner and reply[1] == self.src
                    and reply[2] == ident and reply[3] in expected):
                got.add(reply[3])
                # Stop early once everything is in, unless we expect nothing.
                if got == expected and not self.args.expect_none:
                    break
            else:
                stats["other"] += 1
        # Remember a few sessions back, for the diagnosis above only.
        self.old_sessions[sess.our_index] = (number, sess)
        while len(self.old_sessions) > 4:
            del self.old_sessions[next(iter(self.old_sessions))]
        foreign += stats["foreign_old"] + stats["foreign_other"]
        lost = len(expected) - len(got)
        detail = ""
        if stats["foreign_old"]:
            detail = (f" (old-session datagrams from {','.join(sorted(foreign_old_idx))},"
                      f" {stats['reply_under_old']} of them replies to this round's echoes)")
        print(f"round {number:3d}: handshake {t_hs * 1000:6.1f} ms idx {sess.our_index:08x}"
              f" sent {len(expected)} replies {len(got)} lost {lost} foreign {foreign}"
              f" keepalive {stats['keepalive']} replay {stats['replay']} other {stats['other']}"
              f"{detail}", flush=True)
        return len(expected), len(got), lost, foreign, stats["reply_under_old"]

    def run(self):
        totals = {"rounds": 0, "sent": 0, "replies": 0, "lost": 0, "foreign": 0,
                  "rounds_lossy": 0, "replies_under_old_session": 0}
        for n in range(1, self.args.rounds + 1):
            # A new socket (new source port) per round: a restarted node.
            with socket.socket(self.family, socket.SOCK_DGRAM) as sock:
                sent, replies, lost, foreign, under_old = self.round(n, sock)
            totals["rounds"] += 1
            totals["sent"] += sent
            totals["replies"] += replies
            totals["lost"] += lost
            totals["foreign"] += foreign
            totals["replies_under_old_session"] += under_old
            totals["rounds_lossy"] += 1 if lost else 0
        print(json.dumps(totals), flush=True)
        if self.args.expect_none:
            return 0 if totals["replies"] == 0 else 1
        return 0 if totals["lost"] == 0 else 1


class UsageError(Exception):
    pass


class HandshakeError(Exception):
    pass


def _b64key(text, what):
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise UsageError(f"{what}: not a base64 32-byte X25519 key")
    return raw


def main(argv):
    default_vectors = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "..", "data", "zeqvpn-vectors.json")
    p = argparse.ArgumentParser(description="independent zeqvpn initiator (test peer)")
    p.add_argument("--selftest", action="store_true", help="check against the vectors")
    p.add_argument("--vectors", default=default_vectors)
    p.add_argument("--mesh", help="mesh secret, hex (default: $ZEQ_MESH_SECRET)")
    p.add_argument("--src", help="inner source address of the echo requests (spoofing test)")
    p.add_argument("--expect-none", action="store_true",
                   help="exit 0 only if no reply arrived")
    p.add_argument("--wait", type=float, default=2.0, help="seconds to read replies per round")
    p.add_argument("--handshake-timeout", type=float, default=3.0,
                   help="seconds for the handshake, split over two attempts")
    p.add_argument("mode", nargs="?", choices=["rounds"])
    p.add_argument("keyfile", nargs="?")
    p.add_argument("peer_pub", nargs="?")
    p.add_argument("endpoint", nargs="?")
    p.add_argument("inner", nargs="?")
    p.add_argument("peer_inner", nargs="?")
    p.add_argument("rounds", nargs="?", type=int, default=20)
    p.add_argument("echoes", nargs="?", type=int, default=5)
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    if args.selftest:
        return selftest(args.vectors)
    if args.mode != "rounds" or not args.peer_inner:
        p.print_usage(sys.stderr)
        return 2
    if not (1 <= args.rounds <= 10000 and 1 <= args.echoes <= 99):
        print("zeqpeer: rounds must be 1..10000 and echoes 1..99", file=sys.stderr)
        return 2
    try:
        return Peer(args).run()
    except (UsageError, OSError, ValueError) as exc:
        print(f"zeqpeer: {exc}", file=sys.stderr)
        return 2
    except HandshakeError as exc:
        print(f"zeqpeer: handshake failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

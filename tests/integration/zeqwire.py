#!/usr/bin/python3
"""zeqwire: PROTOCOL.md (wire protocol v1) in Python, for zeqpeer.py.

Written from shared/design/PROTOCOL.md alone, not ported from the C++ code,
so that a misreading shared by the daemon's sender and receiver shows up as
a disagreement: Noise_IKpsk2_25519_AESGCM_SHA256 with the zeqvpn prologue,
psk and payload, mac1, the two handshake messages, K_mesh and the data keys,
data messages with the tag before the ciphertext, a replay window, and just
enough IPv4/ICMP to ping through a tunnel. Debian's python3-cryptography.
"""

import hashlib
import hmac
import ipaddress
import os
import struct
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



# ------------------------------------------- cookie reply and mac2 (type 0x03)
# From docs/protocol.md "Cookie reply and mac2".

COOKIE_REPLY_LEN = 52                # type, 3 zero, receiver_index, nonce 12, tag 16, cookie 16
MAC2_LEN = 16


def cookie_key(static_public):
    """Key of cookie replies from the holder of static_public."""
    return sha256(b"zeqvpn/cookie" + static_public)


def make_cookie(secret, address16, port):
    """HMAC(secret, address(16, IPv4 v4-mapped) || be16(port))[0:16]."""
    return hmac256(secret, address16 + struct.pack(">H", port))[:16]


def mac2(cookie, preceding):
    """mac2 = HMAC(cookie, every byte before it, mac1 included)[0:16]."""
    return hmac256(cookie, preceding)[:16]


def cookie_reply(responder_static_public, receiver_index, mac1_bytes, cookie, nonce):
    """The responder's answer to a handshake message it will not run while under load."""
    sealed = AESGCM(cookie_key(responder_static_public)).encrypt(nonce, cookie, mac1_bytes)
    return bytes([0x03, 0, 0, 0]) + struct.pack(">I", receiver_index) + nonce + sealed[16:] + sealed[:16]


def open_cookie_reply(responder_static_public, mac1_bytes, reply):
    """The cookie in a reply to the message whose mac1 is given, or None."""
    if len(reply) != COOKIE_REPLY_LEN or reply[0] != 0x03:
        return None
    nonce, tag, ct = reply[8:20], reply[20:36], reply[36:52]
    try:
        return AESGCM(cookie_key(responder_static_public)).decrypt(nonce, ct + tag, mac1_bytes)
    except InvalidTag:
        return None

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


# ------------------------------------------- directory messages (0x03..0x05)
# From docs/protocol.md "Directory sync (gossip) and PLAT ticks": in-tunnel
# control messages, plaintext 0x01 || type || body, the body at most 1200
# bytes, zero-padded like an IP packet (Session.seal pads). Only what a test
# peer sends: Records (0x05), whole or one fragment.

PLAINTEXT_CONTROL = 0x01
DIRECTORY_DIGEST, DIRECTORY_PULL, DIRECTORY_RECORDS = 0x03, 0x04, 0x05
DIRECTORY_BODY_MAX = 1200
RECORD_WHOLE_MAX = DIRECTORY_BODY_MAX - 4      # form, n, len(2)
RECORD_FRAGMENT_BYTES = DIRECTORY_BODY_MAX - 9  # form, id(4), fragment, fragments, len(2)


def directory_message(kind, body):
    return bytes([PLAINTEXT_CONTROL, kind]) + body


def records_whole(records):
    """Records, form 00: n(1) || n x (be16(len) || record); the body <= 1200."""
    body = bytes([0x00, len(records)]) + b"".join(struct.pack(">H", len(r)) + r for r in records)
    if not 1 <= len(records) <= 255 or len(body) > DIRECTORY_BODY_MAX or not all(records):
        raise ValueError("records do not fit one whole-form Records message")
    return directory_message(DIRECTORY_RECORDS, body)


def records_fragments(record_id, record):
    """Records, form 01: the fragments of a record longer than RECORD_WHOLE_MAX."""
    if not RECORD_WHOLE_MAX < len(record) <= 255 * RECORD_FRAGMENT_BYTES:
        raise ValueError("a record of this size is sent whole or not at all")
    pieces = [record[i:i + RECORD_FRAGMENT_BYTES] for i in range(0, len(record), RECORD_FRAGMENT_BYTES)]
    return [directory_message(DIRECTORY_RECORDS, bytes([0x01]) + struct.pack(">IBBH", record_id, i, len(pieces), len(p)) + p)
            for i, p in enumerate(pieces)]


def pack_records(records, per_message=0):
    """Records messages for a list of records: whole ones packed greedily
    (at most per_message each when given), longer ones in fragments."""
    out, batch, size, rid = [], [], 2, 1
    for r in records:
        if len(r) > RECORD_WHOLE_MAX:
            out += records_fragments(rid, r)
            rid += 1
            continue
        if batch and (size + 2 + len(r) > DIRECTORY_BODY_MAX or len(batch) == (per_message or 255)):
            out.append(records_whole(batch))
            batch, size = [], 2
        batch.append(r)
        size += 2 + len(r)
    if batch:
        out.append(records_whole(batch))
    return out


def read_record_stream(path):
    """directory_records_gen --out FILE: be32(len) || record, repeated."""
    with open(path, "rb") as f:
        data = f.read()
    records, i = [], 0
    while i + 4 <= len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        records.append(data[i + 4:i + 4 + n])
        i += 4 + n
    if i != len(data):
        raise ValueError(f"{path}: a record runs past the end")
    return records


def malformed_directory_messages():
    """Directory messages every receiver must refuse as malformed (each one
    counted once): cut short, a count or form out of range, one type's body
    under another type, bytes in the padding."""
    summary = (struct.pack(">QI", 1, 1) + b"\x11" * 32 + b"\x00" + struct.pack(">HH", 0, 0) + b"\x00\x00")
    return [
        directory_message(DIRECTORY_RECORDS, b""),                       # no form byte
        directory_message(DIRECTORY_RECORDS, b"\x00"),                   # whole form, no n
        directory_message(DIRECTORY_RECORDS, b"\x00\x00"),               # n = 0
        directory_message(DIRECTORY_RECORDS, b"\x00\x01\x00\x40ZQD"),    # len 64, 3 bytes follow
        directory_message(DIRECTORY_RECORDS, b"\x07\x01\x00\x01Z"),      # form 7
        directory_message(DIRECTORY_RECORDS, b"\x01" + struct.pack(">IBBH", 9, 0, 1, 1) + b"Z"),  # 1 fragment
        directory_message(DIRECTORY_DIGEST, struct.pack(">Q", 1)),       # digest cut after its Zeqond
        directory_message(DIRECTORY_DIGEST, b"\x00\x01\x00\x01Z"),      # a Records body as a digest
        directory_message(DIRECTORY_PULL, b"\x00\x00"),                 # pull of nothing
        directory_message(DIRECTORY_PULL, summary),                     # a digest body as a pull
        directory_message(DIRECTORY_RECORDS, b"\x00\x01\x00\x01Z" + b"\x00\x00\x01"),  # not zero after the body
    ]

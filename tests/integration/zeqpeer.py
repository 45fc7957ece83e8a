#!/usr/bin/python3
"""zeqpeer: an independent zeqvpn initiator, used as a test peer.

Written from shared/design/PROTOCOL.md (wire protocol v1) alone, not ported
from the C++ code, so that a misreading shared by the daemon's sender and
receiver shows up as a disagreement here. The protocol is zeqwire.py:

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

  zeqpeer.py flood-records KEYFILE PEER_PUB ENDPOINT --records FILE
             [--per-message K] [--rate R] [--malformed]
      A hostile directory peer (docs/protocol.md "Directory sync"): one
      handshake, a keepalive (key confirmation), then every record of FILE
      (directory_records_gen --out) in Records messages (0x05) inside the
      tunnel, K whole records a message (0: as many as fit), R records a
      second (0: as fast as it can). It reads what the responder sends as it
      goes and handshakes again before REKEY_AFTER, so the tunnel stays up.
      With --malformed, after a pause, zeqwire's malformed directory
      messages. One JSON line: what was sent. Exit 0 when all of it went out.

Runs with Debian's /usr/bin/python3 and python3-cryptography (38); no other
third-party module.
"""

import argparse
import base64
import ipaddress
import json
import os
import select
import socket
import struct
import sys
import time

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from zeqwire import (  # the protocol itself, written from PROTOCOL.md
    Initiator,
    malformed_directory_messages,
    pack_records,
    read_record_stream,
    Responder,
    TAU_ZQ_US,
    TYPE_DATA,
    TYPE_RESPONSE,
    icmp_echo_request,
    parse_echo_reply,
    pub_bytes,
    zid_of,
)


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
        # flood-records sends no IP packets: no tunnel addresses.
        self.inner = ipaddress.IPv4Address(args.inner) if args.inner else None
        self.peer_inner = ipaddress.IPv4Address(args.peer_inner) if args.peer_inner else None
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


# ------------------------------------------------------------------- flood

class Flooder(Peer):
    # Well before REKEY_AFTER (60 Zeqonds, 46.6 s): a new handshake, as a
    # node's initiator does, so the responder never has to call us.
    REHANDSHAKE_S = 40.0

    def run(self):
        records = read_record_stream(self.args.records)
        messages = pack_records(records, self.args.per_message)
        info = {"records": len(records), "messages": len(messages), "handshakes": 0,
                "received": 0, "malformed": 0}
        with socket.socket(self.family, socket.SOCK_DGRAM) as sock:
            sess = self.new_session(sock, info)
            t0 = time.monotonic()
            for n, msg in enumerate(messages):
                if time.monotonic() - sess.t0 > self.REHANDSHAKE_S:
                    sess = self.new_session(sock, info)
                sock.sendto(sess.seal(msg), self.endpoint)
                if n % 64 == 63:
                    info["received"] += self.drain(sock)
                if self.args.rate:
                    # Records so far at R a second: sleep off any lead.
                    ahead = t0 + (n + 1) * len(records) / len(messages) / self.args.rate - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
            info["seconds"] = round(time.monotonic() - t0, 3)
            if self.args.malformed:
                # After the flood has been read, so none of these waits in a
                # queue behind it.
                time.sleep(1.0)
                for msg in malformed_directory_messages():
                    sock.sendto(sess.seal(msg), self.endpoint)
                    info["malformed"] += 1
                    time.sleep(0.01)
            info["received"] += self.drain(sock)
        print(json.dumps(info), flush=True)
        return 0

    def new_session(self, sock, info):
        sess, _ = self.handshake(sock)
        sess.t0 = time.monotonic()
        info["handshakes"] += 1
        # Key confirmation: the responder sends nothing under the new key
        # until a data message from us authenticates under it.
        sock.sendto(sess.seal(b""), self.endpoint)
        return sess

    @staticmethod
    def drain(sock):
        n = 0
        while select.select([sock], [], [], 0)[0]:
            sock.recvfrom(2048)
            n += 1
        return n


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
    p.add_argument("--records", help="flood-records: directory_records_gen --out FILE")
    p.add_argument("--per-message", type=int, default=1,
                   help="flood-records: whole records per message (0: as many as fit)")
    p.add_argument("--rate", type=float, default=0, help="flood-records: records a second (0: unlimited)")
    p.add_argument("--malformed", action="store_true",
                   help="flood-records: then send malformed directory messages")
    p.add_argument("mode", nargs="?", choices=["rounds", "flood-records"])
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
    if args.mode == "flood-records":
        if not args.endpoint or not args.records or not 0 <= args.per_message <= 255:
            p.print_usage(sys.stderr)
            return 2
        return run_reporting(Flooder, args)
    if args.mode != "rounds" or not args.peer_inner:
        p.print_usage(sys.stderr)
        return 2
    if not (1 <= args.rounds <= 10000 and 1 <= args.echoes <= 99):
        print("zeqpeer: rounds must be 1..10000 and echoes 1..99", file=sys.stderr)
        return 2
    return run_reporting(Peer, args)


def run_reporting(mode, args):
    """Runs a mode's class; usage, socket and handshake errors exit 2 with one line."""
    try:
        return mode(args).run()
    except (UsageError, OSError, ValueError) as exc:
        print(f"zeqpeer: {exc}", file=sys.stderr)
        return 2
    except HandshakeError as exc:
        print(f"zeqpeer: handshake failed: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

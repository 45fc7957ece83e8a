#!/usr/bin/env python3
"""Soak sampler: once a Zeqond (0.777 s), one CSV row per zeqvpnd.

Usage: soak_sampler.py RESULTS_DIR T0 NODE:SOCKET... (run by bench/soak.sh;
T0 is the run's start in seconds since the epoch, so that the sample times
line up with the events soak.sh writes)

For each NODE it reads RESULTS_DIR/NODE.pid ("INCARNATION PID", rewritten by
soak.sh whenever it restarts the node; "INCARNATION -" while the node is
down), then the process's VmRSS, Threads and open fds from /proc, and the
daemon's own counters from one `status` request on its control socket (the
newline-delimited JSON protocol of docs/control.md). It is one long-lived
process rather than a zeqvpnctl + parser per sample so that sampling costs
next to nothing on a machine whose cores the soak is meant to share.

Maps (drops and handshake rejects by reason) are written as "reason=n;..."
so that a reason added to the daemon later needs no change here. It stops
when RESULTS_DIR/stop appears or when soak.sh (its parent) is gone.
"""
import csv
import json
import os
import socket
import sys
import time

ZEQOND_S = 0.777
FIELDS = [
    "t_s", "node", "incarnation", "pid", "alive", "rss_kb", "fds", "threads",
    "answered", "peer_state", "handshakes_completed", "handshakes_rejected",
    "peer_handshakes", "peer_rekeys", "rx_bytes", "tx_bytes",
    "cover_tx_packets", "cover_rx_packets", "drops_total", "drops",
]


def proc_status(pid):
    """VmRSS (kB) and Threads of PID, or None when it is gone."""
    rss = threads = None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("Threads:"):
                    threads = int(line.split()[1])
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, ProcessLookupError):
        return None
    return rss, threads, fds


def control_status(path):
    """The `status` result from the control socket, or None (no answer in 2 s)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2.0)
            s.connect(path)
            s.sendall(b'{"v":1,"id":1,"cmd":"status"}\n')
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        reply = json.loads(buf)
        return reply["result"] if reply.get("ok") else None
    except (OSError, ValueError, KeyError):
        return None


def as_map(d):
    return ";".join(f"{k}={v}" for k, v in sorted((d or {}).items()))


def read_pid_file(path):
    try:
        with open(path) as f:
            inc, pid = f.read().split()
        return int(inc), (None if pid == "-" else int(pid))
    except (OSError, ValueError):
        return None, None


def sample(t, node, sock, results):
    inc, pid = read_pid_file(os.path.join(results, f"{node}.pid"))
    row = dict.fromkeys(FIELDS, "")
    row.update(t_s=f"{t:.3f}", node=node, incarnation=inc if inc is not None else "",
               pid=pid or "", alive=0)
    ps = proc_status(pid) if pid else None
    if ps is None or ps[0] is None:  # gone, or a zombie (no VmRSS) not yet reaped
        return row
    row.update(alive=1, rss_kb=ps[0], threads=ps[1], fds=ps[2])
    st = control_status(sock)
    if st is None:
        return row
    hs = st.get("handshakes", {})
    drops = st.get("drops", {})
    peer = (st.get("peers") or [{}])[0]  # the soak pair has one peer each
    cover = peer.get("cover", {})
    row.update(
        answered=1, peer_state=peer.get("state", ""),
        handshakes_completed=hs.get("completed", ""),
        handshakes_rejected=as_map(hs.get("rejected")),
        peer_handshakes=peer.get("handshakes", ""), peer_rekeys=peer.get("rekeys", ""),
        rx_bytes=peer.get("rx_bytes", ""), tx_bytes=peer.get("tx_bytes", ""),
        cover_tx_packets=cover.get("tx_packets", ""), cover_rx_packets=cover.get("rx_packets", ""),
        drops_total=sum(drops.values()), drops=as_map(drops))
    return row


def main():
    results, t_epoch = sys.argv[1], float(sys.argv[2])
    nodes = [a.split(":", 1) for a in sys.argv[3:]]
    parent = os.getppid()
    stop = os.path.join(results, "stop")
    with open(os.path.join(results, "samples.csv"), "w", newline="") as f:
        out = csv.DictWriter(f, FIELDS)
        out.writeheader()
        t0 = time.monotonic()
        tick = 0
        while not os.path.exists(stop) and os.getppid() == parent:
            t = time.time() - t_epoch
            for node, sock in nodes:
                out.writerow(sample(t, node, sock, results))
            f.flush()
            # Ticks on a fixed grid, so a slow sample does not stretch the run.
            tick += 1
            time.sleep(max(0.0, t0 + tick * ZEQOND_S - time.monotonic()))


if __name__ == "__main__":
    main()

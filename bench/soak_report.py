#!/usr/bin/env python3
"""Soak report: the trend of a bench/soak.sh run, and its functional verdict.

Usage: soak_report.py RESULTS_DIR PLANNED_SECONDS

Reads RESULTS_DIR/samples.csv (bench/soak_sampler.py), iperf.csv and
events.csv (soak.sh), problems.txt (what soak.sh itself saw go wrong), and
prints:
  - node A (never restarted, so it is the one a leak would show in): RSS at
    the end of the warm-up, min/max/end, the least-squares slope per hour and
    whether RSS stayed flat within 5 %; fds and threads start/end/max;
  - node B per incarnation (soak.sh restarts it): RSS, fds, threads;
  - handshakes, rekeys and drops by reason (A's totals, B's summed over its
    incarnations), iperf3 rounds and bytes, restarts and reloads.
It writes the same as RESULTS_DIR/summary.json and exits 1 when the run had a
functional problem: one from problems.txt, fds or threads growing (end >
start + slack) in a daemon that stayed up, no answer from a daemon's control
socket, or iperf3 moving no bytes at all. Speed is never a verdict.
"""
import csv
import json
import os
import sys
from collections import defaultdict

FLAT_PCT = 5.0      # the soak's bar: A's RSS within 5 % over the run
FD_SLACK = 10       # fds at the end may exceed the start by this many
THREAD_SLACK = 2    # threads likewise (the data plane's workers are fixed)
WARMUP_MAX_S = 120  # warm-up: the first 2 minutes, or 10 % of a shorter run


def parse_map(text):
    out = {}
    for item in filter(None, (text or "").split(";")):
        k, v = item.split("=", 1)
        out[k] = int(v)
    return out


def slope_per_hour(ts, ys):
    n = len(ts)
    if n < 2:
        return 0.0
    mt, my = sum(ts) / n, sum(ys) / n
    var = sum((t - mt) ** 2 for t in ts)
    return 0.0 if var == 0 else sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / var * 3600


def spread(rows, key):
    vals = [int(r[key]) for r in rows]
    return {"start": vals[0], "end": vals[-1], "min": min(vals), "max": max(vals)}


def load_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def node_a(rows, warmup_s, problems):
    alive = [r for r in rows if r["alive"] == "1"]
    steady = [r for r in alive if float(r["t_s"]) >= warmup_s] or alive
    if not steady:
        problems.append("node a: no sample of a running daemon at all")
        return None
    ts = [float(r["t_s"]) for r in steady]
    rss = spread(steady, "rss_kb")
    slope = slope_per_hour(ts, [int(r["rss_kb"]) for r in steady])
    span_h = (ts[-1] - ts[0]) / 3600
    band_pct = (rss["max"] - rss["min"]) / rss["start"] * 100
    drift_pct = abs(slope * span_h) / rss["start"] * 100
    # Where RSS moved: the largest rises between two samples (to match
    # against events.csv), and the second half's own slope, which tells a
    # one-time step (first reload, first restart) from steady growth.
    rises = sorted(((int(b["rss_kb"]) - int(p["rss_kb"]), float(b["t_s"]))
                    for p, b in zip(steady, steady[1:])), reverse=True)
    half = [r for r in steady if float(r["t_s"]) >= (ts[0] + ts[-1]) / 2]
    a = {
        "rss_largest_rises": [{"kb": kb, "at_s": round(t, 1)} for kb, t in rises[:3] if kb > 0],
        "rss_second_half": {"start": int(half[0]["rss_kb"]), "end": int(half[-1]["rss_kb"]),
                            "max": max(int(r["rss_kb"]) for r in half),
                            "slope_kb_per_h": round(slope_per_hour([float(r["t_s"]) for r in half],
                                                                   [int(r["rss_kb"]) for r in half]), 1)},
        "warmup_s": warmup_s, "samples": len(steady), "span_s": round(ts[-1] - ts[0], 1),
        "rss_kb": rss, "rss_slope_kb_per_h": round(slope, 1),
        "rss_band_pct": round(band_pct, 2), "rss_drift_pct": round(drift_pct, 2),
        "rss_flat": band_pct <= FLAT_PCT and drift_pct <= FLAT_PCT,
        "fds": spread(steady, "fds"), "threads": spread(steady, "threads"),
    }
    answered = [r for r in alive if r["answered"] == "1"]
    if not answered:
        problems.append("node a: its control socket never answered status")
    else:
        last = answered[-1]
        a.update(handshakes_completed=int(last["handshakes_completed"] or 0),
                 peer_rekeys=int(last["peer_rekeys"] or 0),
                 drops=parse_map(last["drops"]),
                 handshakes_rejected=parse_map(last["handshakes_rejected"]),
                 cover_tx_packets=int(last["cover_tx_packets"] or 0))
    growth_checks("node a", a, problems)
    return a


def growth_checks(name, d, problems):
    if d["fds"]["end"] > d["fds"]["start"] + FD_SLACK:
        problems.append(f"{name}: open fds grew from {d['fds']['start']} to {d['fds']['end']} "
                        f"(more than {FD_SLACK})")
    if d["threads"]["end"] > d["threads"]["start"] + THREAD_SLACK:
        problems.append(f"{name}: threads grew from {d['threads']['start']} to "
                        f"{d['threads']['end']} (more than {THREAD_SLACK})")


def node_b(rows, problems):
    by_inc = defaultdict(list)
    for r in rows:
        if r["alive"] == "1" and r["incarnation"]:
            by_inc[int(r["incarnation"])].append(r)
    incs = []
    for inc in sorted(by_inc):
        rs = by_inc[inc]
        answered = [r for r in rs if r["answered"] == "1"]
        last = answered[-1] if answered else None
        d = {
            "incarnation": inc, "pid": int(rs[0]["pid"]),
            "from_s": round(float(rs[0]["t_s"]), 1), "to_s": round(float(rs[-1]["t_s"]), 1),
            "rss_kb": spread(rs, "rss_kb"), "fds": spread(rs, "fds"), "threads": spread(rs, "threads"),
            "handshakes_completed": int(last["handshakes_completed"] or 0) if last else 0,
            "peer_rekeys": int(last["peer_rekeys"] or 0) if last else 0,
            "drops": parse_map(last["drops"]) if last else {},
            "handshakes_rejected": parse_map(last["handshakes_rejected"]) if last else {},
        }
        if not answered:
            problems.append(f"node b incarnation {inc}: its control socket never answered status")
        # The first fds sample can precede the daemon's last open of start-up.
        steady = rs[min(len(rs) - 1, 3):]
        growth_checks(f"node b incarnation {inc}",
                      {"fds": spread(steady, "fds"), "threads": spread(steady, "threads")}, problems)
        incs.append(d)
    return incs


def add_maps(*maps):
    out = defaultdict(int)
    for m in maps:
        for k, v in m.items():
            out[k] += v
    return dict(sorted(out.items()))


def nonzero(m):
    return ", ".join(f"{k} {v}" for k, v in m.items() if v) or "none"


def iperf_summary(rows, problems):
    total = sum(int(r["bytes"] or 0) for r in rows)
    moved = [r for r in rows if int(r["bytes"] or 0) > 0]
    secs = sum(float(r["seconds"] or 0) for r in moved)
    if total == 0:
        problems.append(f"iperf3 moved no bytes through the tunnel in {len(rows)} rounds")
    return {"rounds": len(rows), "rounds_with_bytes": len(moved), "bytes": total,
            "mean_mbit_s": round(total * 8 / secs / 1e6, 1) if secs else 0.0}


def fmt_kb(kb):
    return f"{kb / 1024:.1f} MiB"


def print_report(s):
    a = s["a"]
    print(f"\n=== zeqvpn soak: {s['planned_s'] / 60:.0f} min planned, {s['ran_s'] / 60:.1f} min ran; "
          f"results in {s['results']}")
    if a:
        r = a["rss_kb"]
        print(f"node a (long-lived), after a {a['warmup_s']:.0f} s warm-up, {a['samples']} samples "
              f"over {a['span_s']:.0f} s:")
        print(f"  RSS     start {fmt_kb(r['start'])}  min {fmt_kb(r['min'])}  max {fmt_kb(r['max'])}  "
              f"end {fmt_kb(r['end'])}")
        print(f"          slope {a['rss_slope_kb_per_h']:+.1f} kB/h ({a['rss_drift_pct']:.2f} % of start "
              f"over the run), band (max-min) {a['rss_band_pct']:.2f} % of start -> "
              f"{'FLAT' if a['rss_flat'] else 'NOT flat'} within {FLAT_PCT:.0f} %")
        if a["rss_largest_rises"]:
            print("          largest rises: " + ", ".join(f"+{x['kb']} kB at {x['at_s']:.0f} s"
                                                       for x in a["rss_largest_rises"]))
        h = a["rss_second_half"]
        print(f"          second half: {fmt_kb(h['start'])} -> {fmt_kb(h['end'])} (max {fmt_kb(h['max'])}), "
              f"slope {h['slope_kb_per_h']:+.1f} kB/h")
        for k in ("fds", "threads"):
            v = a[k]
            print(f"  {k:<7} start {v['start']}  end {v['end']}  max {v['max']}  min {v['min']}")
    for b in s["b"]:
        r = b["rss_kb"]
        print(f"node b #{b['incarnation']} (pid {b['pid']}, {b['from_s']:.0f}-{b['to_s']:.0f} s): "
              f"RSS {fmt_kb(r['start'])} -> {fmt_kb(r['end'])} (max {fmt_kb(r['max'])}), "
              f"fds {b['fds']['start']} -> {b['fds']['end']} (max {b['fds']['max']}), "
              f"threads {b['threads']['start']} -> {b['threads']['end']}, "
              f"handshakes {b['handshakes_completed']}, rekeys {b['peer_rekeys']}")
    print(f"handshakes completed: a {s['handshakes']['a']}, b {s['handshakes']['b']} (all incarnations); "
          f"rekeys counted: a {s['rekeys']['a']}, b {s['rekeys']['b']}")
    print(f"drops by reason, a: {nonzero(s['drops']['a'])}")
    print(f"drops by reason, b (sum of incarnations): {nonzero(s['drops']['b'])}")
    print(f"handshakes rejected: a {nonzero(s['rejected']['a'])}; b {nonzero(s['rejected']['b'])}")
    i = s["iperf"]
    print(f"iperf3: {i['rounds']} rounds, {i['rounds_with_bytes']} moved bytes, "
          f"{i['bytes'] / 1e9:.2f} GB in all, {i['mean_mbit_s']} Mbit/s mean while moving")
    print(f"events: {s['events']}")
    if s["problems"]:
        print("FUNCTIONAL PROBLEMS:")
        for p in s["problems"]:
            print(f"  - {p}")
    else:
        print("functional: ok (daemons up, fds and threads bounded, tunnel up at the end, bytes moved)")


def main():
    results, planned_s = sys.argv[1], float(sys.argv[2])
    problems = []
    if os.path.exists(os.path.join(results, "problems.txt")):
        with open(os.path.join(results, "problems.txt")) as f:
            problems += [line.strip() for line in f if line.strip()]
    rows = load_csv(os.path.join(results, "samples.csv"))
    warmup_s = min(WARMUP_MAX_S, planned_s * 0.1)
    a = node_a([r for r in rows if r["node"] == "a"], warmup_s, problems)
    b = node_b([r for r in rows if r["node"] == "b"], problems)
    events = defaultdict(int)
    for e in load_csv(os.path.join(results, "events.csv")):
        events[e["event"]] += 1
    s = {
        "results": results, "planned_s": planned_s,
        "ran_s": float(rows[-1]["t_s"]) if rows else 0.0,
        "a": a, "b": b,
        "handshakes": {"a": a.get("handshakes_completed", 0) if a else 0,
                       "b": sum(x["handshakes_completed"] for x in b)},
        "rekeys": {"a": a.get("peer_rekeys", 0) if a else 0, "b": sum(x["peer_rekeys"] for x in b)},
        "drops": {"a": a.get("drops", {}) if a else {}, "b": add_maps(*(x["drops"] for x in b))},
        "rejected": {"a": a.get("handshakes_rejected", {}) if a else {},
                     "b": add_maps(*(x["handshakes_rejected"] for x in b))},
        "iperf": iperf_summary(load_csv(os.path.join(results, "iperf.csv")), problems),
        "events": dict(sorted(events.items())),
        "problems": problems,
    }
    with open(os.path.join(results, "summary.json"), "w") as f:
        json.dump(s, f, indent=1)
    print_report(s)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()

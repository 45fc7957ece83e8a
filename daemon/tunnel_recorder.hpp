// Writes the vpn_tunnels lifecycle of every peer to the state store: a row
// opened (pending -> active) when a tunnel comes up, byte checkpoints while it
// runs, settlement when it goes down. A store error is logged and the tunnel
// carries on: accounting must never take the VPN down.
//
// Checkpoints run every Zeqond (the daemon's timer) so a crash loses at most
// about one Zeqond of counted bytes: only rows whose counters moved are
// written, all in one transaction; a signed usage_ledger row is added at most
// every LEDGER_EVERY_Z per tunnel so the ledger does not grow by a row per
// Zeqond. Commits wait for the disk (fsync) once every LEDGER_EVERY_Z and not
// in between: a killed process loses at most the last Zeqond, a power cut at
// most the last LEDGER_EVERY_Z Zeqonds. A failing checkpoint (a full disk) is logged once, retried every
// time, and its recovery logged once; the counters stay in memory meanwhile. The node reaches it
// through TunnelEvents; it keeps its own record of each open tunnel (row,
// and the byte counters when it opened). Control thread only.
#pragma once

#include <cstdint>
#include <vector>
#include <functional>
#include <map>
#include <string>

#include "core/clock.hpp"
#include "mesh/tunnel_events.hpp"
#include "store/tunnel_store.hpp"

namespace zeq {

// What the two recorders (TunnelRecorder here, RelayRecorder in
// relay_recorder.hpp for relayed pairs) do alike with their open rows.

// The byte counters of one open vpn_tunnels row as last written.
struct RowCounters {
  int64_t id = 0;            // the row
  uint64_t rx = 0, tx = 0;   // what it holds
  uint64_t ledger_z = 0;     // the last signed ledger row (at first: when the row opened)
  bool moved(uint64_t rx_now, uint64_t tx_now) const { return rx_now != rx || tx_now != tx; }
  // Inside the caller's transaction: writes moved counters, with a signed
  // checkpoint row when UsageCommits::LEDGER_EVERY_Z have passed since the
  // last one and the counters alone otherwise, and marks them written.
  Status write(TunnelStore& store, uint64_t rx_now, uint64_t tx_now, uint64_t z);
};

// The every-Zeqond commit of moved counters: one transaction, waiting for
// the disk once every LEDGER_EVERY_Z (see TunnelRecorder); a failure is
// logged once, retried every time, and its recovery logged once.
class UsageCommits {
 public:
  static constexpr uint64_t LEDGER_EVERY_Z = 13;
  // `usage` and `carriers` name what is written and what carries on in the
  // log lines ("tunnel usage", "tunnels").
  UsageCommits(TunnelStore& store, std::string usage, std::string carriers)
      : store_(store), usage_(std::move(usage)), carriers_(std::move(carriers)) {}
  // Runs `write` in one transaction at Zeqond z; false when the store
  // refused it (nothing of it stays then).
  bool commit(uint64_t z, const std::function<Status()>& write);

 private:
  TunnelStore& store_;
  std::string usage_, carriers_;
  uint64_t failed_ = 0;    // in a row; the first is logged, then silence until one works
  uint64_t synced_z_ = 0;  // the last commit made with a disk sync
};

class TunnelRecorder final : public TunnelEvents {
 public:
  // A signed checkpoint row per tunnel at most this often (Zeqonds); the
  // counters in vpn_tunnels are written every checkpoint.
  static constexpr uint64_t LEDGER_EVERY_Z = UsageCommits::LEDGER_EVERY_Z;
  // The billing terms of a peer by ZID, asked when its tunnel opens.
  using TermsOf = std::function<TunnelTerms(const std::string& zid)>;
  TunnelRecorder(TunnelStore& store, const Clock& clock, std::string local_zid, TermsOf terms_of);

  void tunnel_up(Peer& peer) override;
  void tunnel_down(Peer& peer, const char* reason) override;
  // Writes the byte counters of every open tunnel, and when each peer last
  // completed a handshake.
  // Returns false when the store refused the write.
  bool checkpoint();
  // Settles rows a crashed earlier run left active; returns how many.
  int settle_orphans();
  // The vpn_tunnels row of the peer's open tunnel; 0 when none is open.
  int64_t tunnel_id(const std::string& zid) const;

 private:
  // A tunnel between tunnel_up and tunnel_down (the node keeps the peer
  // alive until then). Its row records this tunnel's bytes, not the
  // peer's lifetime counters.
  struct OpenTunnel {
    const Peer* peer;
    uint64_t rx_base, tx_base;
    // What the row holds now (row.id is the row), and the handshake last
    // noted in peers.
    RowCounters row;
    int64_t handshake_written_us = 0;
  };
  // Writes one tunnel's moved counters (and handshake) inside the caller's
  // transaction and marks them written in `t`, a copy the caller keeps only
  // if the whole transaction commits.
  Status write_checkpoint(OpenTunnel& t, uint64_t z);
  static std::pair<uint64_t, uint64_t> tunnel_bytes(const OpenTunnel& t);

  TunnelStore& store_;
  const Clock& clock_;
  std::string local_zid_;
  TermsOf terms_of_;
  std::map<uint64_t, OpenTunnel> open_;  // by peer serial
  UsageCommits commits_;
};

}  // namespace zeq

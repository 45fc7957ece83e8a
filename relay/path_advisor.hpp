// What NAT traversal (nat_traversal.hpp) tells the relay client about a
// peer's direct path: keep its relay pair open as a standby while the
// punched direct path is in use (so a fallback costs no Open), and ask for
// a relay at once when the direct path died although a session is current.
#pragma once

namespace zeq {

class Peer;

class PathAdvisor {
 public:
  virtual ~PathAdvisor() = default;
  virtual bool keep_pair(const Peer& peer) const = 0;
  virtual bool direct_died(const Peer& peer) const = 0;
};

}  // namespace zeq

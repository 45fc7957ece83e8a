// Telling the NAT in front of a node from what others see (endpoint
// discovery, docs/protocol.md "NAT traversal"): each observer (a relay, or a
// peer answering a probe) reports the address:port our packets came from.
// Pure: the caller passes the observations and its own addresses.
#pragma once

#include <cstdint>
#include <vector>

#include "core/net_address.hpp"
#include "protocol/nat_messages.hpp"

namespace zeq {

// observed: the latest address:port each distinct observer saw (one entry
// per observer). local: this node's own endpoints (its addresses with the
// listen port).
//  - no observation: unknown;
//  - every observer saw one of our local endpoints: none (no NAT);
//  - observers on our side of the NAT (they saw a local endpoint) are left
//    out; of the others, two or more that saw one address:port:
//    endpoint-independent; any two that saw different ones: symmetric;
//  - a single outside observer: unknown (one view tells nothing about the
//    mapping to other destinations).
NatType classify_nat(const std::vector<UdpEndpoint>& observed, const std::vector<UdpEndpoint>& local);

// Whether two ends should try to punch: not when both are symmetric (each
// side's port to the other is unknowable; it would never meet).
bool punch_worthwhile(NatType ours, NatType theirs);

}  // namespace zeq

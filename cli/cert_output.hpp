// How `zeqvpnctl cert show` and `cert verify` print certificates and
// revocation lists: aligned text for people, JSON with --json, dates as
// Zeqonds and UTC.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "identity/certificate.hpp"

namespace zeq::ctl {

// "2026-11-18 11:06:32 UTC" for the start of Zeqond z ("after 9999-12-31"
// past what a calendar date shows); iso: "2026-11-18T11:06:32Z".
std::string zeqond_utc(uint64_t z, bool iso = false);
// "expires in 364 days", "expired 3 hours ago", "valid only in 2 days" at now_z.
std::string validity_summary(const CertificateBody& body, uint64_t now_z);

nlohmann::json certificate_json(const Certificate& cert, uint64_t now_z);
std::string format_certificate(const Certificate& cert, uint64_t now_z);
nlohmann::json revocation_list_json(const RevocationList& list);
std::string format_revocation_list(const RevocationList& list);

// One line saying why a certificate was refused ("expired at Zeqond ...
// (date), now is ...; have it renewed"), for `cert verify`; "" for kValid.
std::string verdict_reason(CertVerdict verdict, const Certificate& cert, const TrustStore& trust, uint64_t now_z);

}  // namespace zeq::ctl

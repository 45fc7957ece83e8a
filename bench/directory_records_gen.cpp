// directory_records_gen: signed mesh directory records in bulk, for
// bench/directory_bench.sh (a serving node's cache pre-filled with thousands
// of genuine records) and tests/integration/directory_forged.sh (a hostile
// peer's flood of forged ones). Not installed.
//
// Each record is a fresh node: an X25519 key, its signing key
// (node_signing_keypair), a certificate signed by the CA (name gen-N,
// address 10.80.x.y/32 unique per node, valid from now - 10 Zeqonds for a
// day), one endpoint in TEST-NET-1 (192.0.2.x, never routed: nothing is sent
// there unless a packet is routed to the node's tunnel address), sequence 1,
// made_z now, signed with the node's key.
//
//   directory_records_gen --ca-key CA_DIR/ca.key --count N
//       [--db PATH]           rows in directory_records of that state
//                             database (created and migrated as zeqvpnd does)
//       [--out FILE]          the records as one stream: be32(len) || bytes, ...
//       [--out-dir DIR]       one file per record, DIR/000001.zqd, ...
//       [--forge MODE]        none (default) or a forgery for the hostile test:
//                             bad-signature, bad-cert-signature, untrusted-ca,
//                             expired, future, truncated, garbage, or mix (the
//                             modes in turn, record i gets mode i mod 7)
//       [--check]             offers every record to a RecordStore trusting
//                             the CA and prints the verdicts (the forgery is
//                             refused for the reason it was made for)
//
// Prints one JSON line: {"count":N,"bytes":B,"modes":{...},"verdicts":{...}}.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "crypto/random.hpp"
#include "crypto/x25519.hpp"
#include "directory/record_store.hpp"
#include "identity/certificate.hpp"
#include "identity/zid.hpp"
#include "loader/certificate_files.hpp"
#include "protocol/directory_record.hpp"
#include "store/database.hpp"
#include "store/directory_cache.hpp"
#include "store/schema.hpp"

namespace {

using namespace zeq;

const std::vector<std::string> FORGE_MODES = {"bad-signature", "bad-cert-signature", "untrusted-ca", "expired",
                                              "future",        "truncated",          "garbage"};

struct Options {
  std::string ca_key, db, out, out_dir, forge = "none";
  size_t count = 0;
  bool check = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "directory_records_gen: %s\n"
               "usage: directory_records_gen --ca-key CA_DIR/ca.key --count N [--db PATH] [--out FILE] "
               "[--out-dir DIR] [--forge none|mix|%s] [--check]\n",
               why.c_str(), [] {
                 std::string s;
                 for (const auto& m : FORGE_MODES) s += (s.empty() ? "" : "|") + m;
                 return s;
               }().c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--ca-key") o.ca_key = value();
    else if (a == "--db") o.db = value();
    else if (a == "--out") o.out = value();
    else if (a == "--out-dir") o.out_dir = value();
    else if (a == "--forge") o.forge = value();
    else if (a == "--check") o.check = true;
    else if (a == "--count") {
      std::string v = value();
      char* end = nullptr;
      unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end || n == 0 || n > 65'000) usage("--count " + v + ": expected 1..65000");
      o.count = size_t(n);
    } else usage("unknown argument " + a);
  }
  if (o.ca_key.empty()) usage("--ca-key is required");
  if (o.count == 0) usage("--count is required");
  if (o.forge != "none" && o.forge != "mix") {
    bool known = false;
    for (const auto& m : FORGE_MODES) known |= m == o.forge;
    if (!known) usage("--forge " + o.forge + ": unknown mode");
  }
  if (o.db.empty() && o.out.empty() && o.out_dir.empty() && !o.check) usage("nothing to do: give --db, --out, --out-dir or --check");
  return o;
}

// One node's record, forged as `mode` says ("none": genuine).
Result<Bytes> make_record(size_t i, const std::string& mode, const Ed25519Keypair& ca, const Ed25519Keypair& other_ca,
                          const Digest32& ca_fp, const Digest32& other_fp, uint64_t now) {
  X25519Keypair node = x25519_generate();
  Ed25519Keypair signing = node_signing_keypair(node.private_key.span());
  CertificateBody b;
  b.name = "gen-" + std::to_string(i + 1);
  b.x25519_public = node.public_key;
  b.signing_public = signing.public_key;
  b.zid = zid_from_public_key(node.public_key);
  IpPrefix addr;
  addr.family = 4;
  addr.addr[0] = 10;
  addr.addr[1] = 80;
  addr.addr[2] = uint8_t(i / 254);
  addr.addr[3] = uint8_t(i % 254 + 1);
  addr.length = 32;
  b.addresses.push_back(addr);
  b.allowed_ips.push_back(addr);
  b.roles = CERT_ROLE_NODE;
  b.not_before_z = now - 10;
  b.not_after_z = now + RECORD_MAX_AGE_Z;
  b.issuer = ca_fp;
  const Ed25519Keypair* signer = &ca;
  if (mode == "untrusted-ca") {
    b.issuer = other_fp;
    signer = &other_ca;
  } else if (mode == "expired") {
    b.not_before_z = now - 2 * RECORD_MAX_AGE_Z;
    b.not_after_z = now - 100;
  }
  auto cert = sign_certificate(b, *signer);
  if (!cert) return cert.status();
  if (mode == "bad-cert-signature") {
    // The CA's signature is the certificate's last 64 bytes.
    cert->encoded[cert->encoded.size() - 1 - (i % 64)] ^= 0x01;
    cert->signature[63 - (i % 64)] ^= 0x01;
  }
  NodeRecord r;
  r.certificate = std::move(cert.value());
  RecordEndpoint ep;
  ep.family = 4;
  ep.address = {192, 0, 2, uint8_t(i % 254 + 1)};
  // TEST-NET-1 has 254 hosts; the port keeps every node's endpoint its own.
  ep.port = uint16_t(51820 + i / 254);
  r.endpoints.push_back(ep);
  r.sequence = 1;
  r.made_z = mode == "future" ? now + 1000 : now;
  auto rec = sign_node_record(std::move(r), signing);
  if (!rec) return rec.status();
  Bytes bytes = std::move(rec->encoded);
  if (mode == "bad-signature") {
    bytes[bytes.size() - 1 - (i % 64)] ^= 0x80;
  } else if (mode == "truncated") {
    // Anywhere from the bare header to one byte short.
    uint32_t r32 = 0;
    random_fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&r32), sizeof r32));
    bytes.resize(5 + r32 % (bytes.size() - 5));
  } else if (mode == "garbage") {
    // A node record's header, then noise of a record's usual size.
    uint32_t r32 = 0;
    random_fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&r32), sizeof r32));
    Bytes g(100 + r32 % 900);
    random_fill(g);
    const uint8_t header[] = {0x5a, 0x51, 0x44, 0x01, 0x01};
    std::memcpy(g.data(), header, sizeof header);
    bytes = std::move(g);
  }
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  auto ca = load_ca_private_key(o.ca_key);
  if (!ca) {
    std::fprintf(stderr, "directory_records_gen: %s\n", ca.message().c_str());
    return 1;
  }
  const CaPublicKey ca_pub = ca->public_key();
  const Ed25519Keypair other_ca = ed25519_generate();
  const CaPublicKey other_pub{"stranger", other_ca.public_key};
  const uint64_t now = SystemClock().zeqond();

  std::vector<Bytes> records;
  std::map<std::string, size_t> modes;
  records.reserve(o.count);
  size_t total = 0;
  for (size_t i = 0; i < o.count; ++i) {
    const std::string& mode = o.forge == "mix" ? FORGE_MODES[i % FORGE_MODES.size()] : o.forge;
    auto rec = make_record(i, mode, ca->key, other_ca, ca_pub.fingerprint(), other_pub.fingerprint(), now);
    if (!rec) {
      std::fprintf(stderr, "directory_records_gen: record %zu (%s): %s\n", i + 1, mode.c_str(), rec.message().c_str());
      return 1;
    }
    total += rec->size();
    ++modes[mode];
    records.push_back(std::move(rec.value()));
  }

  if (!o.db.empty()) {
    // As zeqvpnd opens its state database (daemon.cpp open_database):
    // Database::open, then the migrations. The vault is made by the daemon
    // at its first start with its own ZEQ_FIELD_KEY; directory rows need none.
    auto db = Database::open(o.db);
    if (!db) {
      std::fprintf(stderr, "directory_records_gen: %s\n", db.message().c_str());
      return 1;
    }
    if (Status s = migrate(*db); !s) {
      std::fprintf(stderr, "directory_records_gen: %s\n", s.message().c_str());
      return 1;
    }
    std::vector<CachedRecord> rows;
    rows.reserve(records.size());
    for (const auto& rec : records) {
      auto d = decode_directory_record(rec);
      if (!d) {
        std::fprintf(stderr, "directory_records_gen: --db takes decodable records (not --forge truncated/garbage/mix)\n");
        return 2;
      }
      rows.push_back({d->node.certificate.body.zid, d->node.sequence, rec, now, "generated"});
    }
    if (Status s = DirectoryCache(*db).save_records(rows); !s) {
      std::fprintf(stderr, "directory_records_gen: %s\n", s.message().c_str());
      return 1;
    }
  }
  if (!o.out.empty()) {
    std::ofstream f(o.out, std::ios::binary | std::ios::trunc);
    for (const auto& rec : records) {
      const uint8_t len[4] = {uint8_t(rec.size() >> 24), uint8_t(rec.size() >> 16), uint8_t(rec.size() >> 8),
                              uint8_t(rec.size())};
      f.write(reinterpret_cast<const char*>(len), 4);
      f.write(reinterpret_cast<const char*>(rec.data()), std::streamsize(rec.size()));
    }
    if (!f.flush()) {
      std::fprintf(stderr, "directory_records_gen: cannot write %s\n", o.out.c_str());
      return 1;
    }
  }
  if (!o.out_dir.empty()) {
    ::mkdir(o.out_dir.c_str(), 0755);
    for (size_t i = 0; i < records.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "/%06zu.zqd", i + 1);
      std::ofstream f(o.out_dir + name, std::ios::binary | std::ios::trunc);
      f.write(reinterpret_cast<const char*>(records[i].data()), std::streamsize(records[i].size()));
      if (!f.flush()) {
        std::fprintf(stderr, "directory_records_gen: cannot write %s%s\n", o.out_dir.c_str(), name);
        return 1;
      }
    }
  }

  std::string json = "{\"count\":" + std::to_string(records.size()) + ",\"bytes\":" + std::to_string(total) +
                     ",\"zeqond\":" + std::to_string(now) + ",\"modes\":{";
  bool first = true;
  for (const auto& [m, n] : modes) {
    json += std::string(first ? "" : ",") + "\"" + m + "\":" + std::to_string(n);
    first = false;
  }
  json += "}";
  if (o.check) {
    TrustStore trust;
    trust.add_ca(ca_pub);
    RecordStore store(trust, records.size() + 1);
    for (const auto& rec : records) (void)store.offer(rec, now, "check");
    json += ",\"verdicts\":{";
    first = true;
    for (size_t v = 0; v < OFFER_VERDICT_COUNT; ++v) {
      if (!store.count(OfferVerdict(v))) continue;
      json += std::string(first ? "" : ",") + "\"" + offer_verdict_name(OfferVerdict(v)) +
              "\":" + std::to_string(store.count(OfferVerdict(v)));
      first = false;
    }
    json += "}";
  }
  json += "}";
  std::printf("%s\n", json.c_str());
  return 0;
}

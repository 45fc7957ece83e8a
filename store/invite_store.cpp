#include "store/invite_store.hpp"

#include <set>

namespace zeq {

namespace {

int64_t col(uint64_t v) { return static_cast<int64_t>(v); }

constexpr const char* SELECT_INVITE =
    "SELECT id, name, roles, created_z, expires_z, state, changed_z, used_by_zid, address FROM mesh_invites ";

InviteRow read_row(const Statement& st) {
  InviteRow r;
  r.id = st.text(0);
  r.name = st.text(1);
  r.roles = uint8_t(st.int64(2));
  r.created_z = uint64_t(st.int64(3));
  r.expires_z = uint64_t(st.int64(4));
  r.state = st.text(5);
  r.changed_z = st.is_null(6) ? 0 : uint64_t(st.int64(6));
  r.used_by_zid = st.text(7);
  r.address = st.text(8);
  return r;
}

// network + offset (offset below 2^32), as a host prefix with the
// network's length.
IpPrefix nth_address(const IpPrefix& network, uint64_t offset) {
  IpPrefix p = network;
  const size_t n = p.address_bytes();
  uint64_t carry = offset;
  for (size_t i = n; i-- > 0 && carry;) {
    uint64_t sum = uint64_t(p.addr[i]) + (carry & 0xff);
    p.addr[i] = uint8_t(sum);
    carry = (carry >> 8) + (sum >> 8);
  }
  return p;
}

}  // namespace

std::string invite_secret_name(const std::string& id) { return "mesh.invite." + id + ".secret"; }

Status InviteStore::create(const InviteRow& row, ByteSpan secret, uint64_t now_z) {
  return db_.transaction([&]() -> Status {
    auto st = db_.prepare(
        "INSERT INTO mesh_invites (id, name, roles, created_z, expires_z, state) VALUES (?, ?, ?, ?, ?, 'open')");
    if (!st) return st.status();
    st->bind(1, std::string_view(row.id)).bind(2, std::string_view(row.name)).bind(3, int64_t(row.roles));
    st->bind(4, col(row.created_z)).bind(5, col(row.expires_z));
    if (Status s = st->done(); !s) return db_.error("recording invite " + row.id);
    return vault_.put(invite_secret_name(row.id), secret, {.purpose = "mesh.invite", .bound_zid = "", .expires_zeqond = 0},
                      "enrollment", now_z);
  });
}

Result<std::optional<InviteRow>> InviteStore::find(const std::string& id) {
  auto st = db_.prepare(std::string(SELECT_INVITE) + "WHERE id = ?");
  if (!st) return st.status();
  st->bind(1, std::string_view(id));
  if (st->step()) return std::optional<InviteRow>(read_row(*st));
  if (st->failed()) return db_.error("reading invite " + id);
  return std::optional<InviteRow>();
}

Result<std::vector<InviteRow>> InviteStore::list() {
  auto st = db_.prepare(std::string(SELECT_INVITE) + "ORDER BY created_z DESC, id");
  if (!st) return st.status();
  std::vector<InviteRow> rows;
  while (st->step()) rows.push_back(read_row(*st));
  if (st->failed()) return db_.error("listing invites");
  return rows;
}

Result<SecretBuffer> InviteStore::secret(const std::string& id, uint64_t now_z) {
  return vault_.get(invite_secret_name(id), "enrollment", now_z);
}

Result<InviteRow> InviteStore::revoke(const std::string& key, uint64_t now_z) {
  std::optional<InviteRow> found;
  Status s = db_.transaction([&]() -> Status {
    auto rows = list();
    if (!rows) return rows.status();
    std::vector<InviteRow> match;
    for (const auto& r : *rows)
      if (r.id == key || (key.size() >= 8 && r.id.compare(0, key.size(), key) == 0)) match.push_back(r);
    if (match.empty())  // by name: the open ones only
      for (const auto& r : *rows)
        if (r.name == key && r.state == "open") match.push_back(r);
    if (match.empty())
      return Status::error("no invite " + key + "; `zeqvpnctl mesh invites` lists them by id and name");
    if (match.size() > 1) {
      std::string ids;
      for (const auto& r : match) ids += (ids.empty() ? "" : ", ") + r.id.substr(0, 8);
      return Status::error("invite " + key + " names " + std::to_string(match.size()) + " open invites (" + ids +
                           "); revoke one by its id");
    }
    InviteRow r = match.front();
    if (r.state != "open")
      return Status::error("invite " + r.id.substr(0, 8) + " (" + r.name + ") is already " + r.state +
                           "; only an open invite can be revoked");
    auto st = db_.prepare("UPDATE mesh_invites SET state = 'revoked', changed_z = ? WHERE id = ? AND state = 'open'");
    if (!st) return st.status();
    st->bind(1, col(now_z)).bind(2, std::string_view(r.id));
    if (Status d = st->done(); !d) return db_.error("revoking invite " + r.id);
    r.state = "revoked";
    r.changed_z = now_z;
    found = r;
    return Status::ok();
  });
  if (!s) return s;
  return *found;
}

Status InviteStore::reserve_address(const IpPrefix& address, const std::string& zid, const std::string& name,
                                    uint64_t now_z) {
  auto st = db_.prepare("INSERT OR IGNORE INTO mesh_addresses (address, zid, name, assigned_z) VALUES (?, ?, ?, ?)");
  if (!st) return st.status();
  std::string a = address.address();
  st->bind(1, std::string_view(a)).bind(2, std::string_view(zid)).bind(3, std::string_view(name)).bind(4, col(now_z));
  if (Status s = st->done(); !s) return db_.error("reserving address " + a);
  return Status::ok();
}

Result<InviteStore::Used> InviteStore::use(const std::string& id, const std::string& zid, const IpPrefix& network,
                                           uint64_t now_z) {
  Used used;
  Status s = db_.transaction([&]() -> Status {
    auto row = find(id);
    if (!row) return row.status();
    if (!*row) {
      used.outcome = InviteUse::kUnknown;
      return Status::ok();
    }
    used.row = **row;
    if (used.row.state == "used") used.outcome = InviteUse::kUsed;
    else if (used.row.state == "revoked") used.outcome = InviteUse::kRevoked;
    else if (now_z > used.row.expires_z) used.outcome = InviteUse::kExpired;
    if (used.outcome != InviteUse::kOk) return Status::ok();
    // The lowest free host address: every taken one is in mesh_addresses.
    std::set<std::string> taken;
    auto st = db_.prepare("SELECT address FROM mesh_addresses");
    if (!st) return st.status();
    while (st->step()) taken.insert(st->text(0));
    if (st->failed()) return db_.error("reading the assigned addresses");
    const int host_bits = int(network.address_bytes() * 8) - network.length;
    const uint64_t size = host_bits >= 32 ? (uint64_t(1) << 32) : (uint64_t(1) << host_bits);
    const uint64_t last = network.family == 4 ? size - 2 : size - 1;  // IPv4: not the broadcast address
    std::optional<IpPrefix> free;
    for (uint64_t i = 1; i <= last && i < (uint64_t(1) << 32); ++i) {
      IpPrefix candidate = nth_address(network.network(), i);
      if (!taken.count(candidate.address())) {
        free = candidate;
        break;
      }
    }
    if (!free) {
      used.outcome = InviteUse::kNoAddress;
      return Status::ok();
    }
    if (Status r = reserve_address(*free, zid, used.row.name, now_z); !r) return r;
    auto up = db_.prepare(
        "UPDATE mesh_invites SET state = 'used', changed_z = ?, used_by_zid = ?, address = ? WHERE id = ? AND state = "
        "'open'");
    if (!up) return up.status();
    used.row.address = free->to_string();
    up->bind(1, col(now_z)).bind(2, std::string_view(zid)).bind(3, std::string_view(used.row.address));
    up->bind(4, std::string_view(id));
    if (Status d = up->done(); !d) return db_.error("marking invite " + id + " used");
    used.row.state = "used";
    used.row.changed_z = now_z;
    used.row.used_by_zid = zid;
    return Status::ok();
  });
  if (!s) return s;
  return used;
}

}  // namespace zeq

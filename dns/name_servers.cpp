#include "dns/name_servers.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace zeq {

namespace {

// resolv.conf is small; a larger file is not one (and is not read whole).
constexpr std::streamsize MAX_FILE_BYTES = 64 * 1024;

Result<std::string> read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::error(path + ": cannot read: " + std::strerror(errno));
  std::string text(size_t(MAX_FILE_BYTES), '\0');
  in.read(text.data(), MAX_FILE_BYTES);
  text.resize(size_t(in.gcount()));
  return text;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

}  // namespace

std::vector<IpPrefix> name_servers_in(std::string_view text) {
  std::vector<IpPrefix> out;
  size_t start = 0;
  while (start < text.size() && out.size() < MAX_NAME_SERVERS) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    // The keyword starts the line, as the C library reads it; '#' and ';'
    // there make the line a comment.
    constexpr std::string_view KEYWORD = "nameserver";
    if (line.substr(0, KEYWORD.size()) != KEYWORD || line.size() == KEYWORD.size() || !is_blank(line[KEYWORD.size()]))
      continue;
    size_t a = KEYWORD.size();
    while (a < line.size() && is_blank(line[a])) ++a;
    size_t b = a;
    while (b < line.size() && !is_blank(line[b]) && line[b] != '#' && line[b] != ';') ++b;
    std::string_view address = line.substr(a, b - a);
    if (address.empty() || address.find_first_of("/%") != std::string_view::npos) continue;
    if (auto p = parse_ip_prefix(address)) out.push_back(*p);
  }
  return out;
}

bool only_resolved_stub(const std::vector<IpPrefix>& servers) {
  if (servers.empty()) return false;
  for (const auto& s : servers) {
    if (s.family != 4 || s.addr[0] != 127 || s.addr[1] != 0 || s.addr[2] != 0 || (s.addr[3] != 53 && s.addr[3] != 54))
      return false;
  }
  return true;
}

Result<SystemNameServers> system_name_servers(const std::string& resolv_conf, const std::string& backup_path,
                                              const std::string& resolved_upstream) {
  struct stat st{};
  SystemNameServers found;
  found.source = ::stat(backup_path.c_str(), &st) == 0 ? backup_path : resolv_conf;
  auto text = read_small_file(found.source);
  if (!text) return text.status();
  found.servers = name_servers_in(*text);
  if (only_resolved_stub(found.servers)) {
    auto upstream = read_small_file(resolved_upstream);
    if (!upstream)
      return Status::error(found.source + " names only systemd-resolved's stub 127.0.0.53 and " + upstream.message());
    found.source = resolved_upstream;
    found.servers = name_servers_in(*upstream);
  }
  if (found.servers.empty())
    return Status::error(found.source + " names no name server (no `nameserver ADDRESS` line)");
  return found;
}

}  // namespace zeq

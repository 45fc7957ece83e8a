#include "dns/resolved.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "dns/sd_bus_library.hpp"

namespace zeq {

namespace {

constexpr char SERVICE[] = "org.freedesktop.resolve1";
constexpr char PATH[] = "/org/freedesktop/resolve1";
constexpr char MANAGER[] = "org.freedesktop.resolve1.Manager";

struct Bus {
  const SdBusLibrary& lib;
  sd_bus* bus = nullptr;
  ~Bus() { lib.flush_close_unref(bus); }
};
struct Message {
  const SdBusLibrary& lib;
  sd_bus_message* m = nullptr;
  ~Message() { lib.message_unref(m); }
};

Status bus_error(const char* what, int r, const sd_bus_error* e) {
  std::string detail = e && e->message ? e->message : std::strerror(-r);
  return Status::error(std::string("dns: systemd-resolved ") + what + ": " + detail);
}

// Calls a Manager method whose arguments `fill(lib, message)` appends.
template <typename Fill>
Status call(const char* method, Fill&& fill) {
  const auto& loaded = sd_bus_library();
  if (!loaded) return loaded.status();
  const SdBusLibrary& lib = *loaded;
  Bus b{lib};
  if (int r = lib.open_system(&b.bus); r < 0) return bus_error("connecting to the system bus", r, nullptr);
  Message m{lib};
  if (int r = lib.message_new_method_call(b.bus, &m.m, SERVICE, PATH, MANAGER, method); r < 0)
    return bus_error(method, r, nullptr);
  if (int r = fill(lib, m.m); r < 0) return bus_error(method, r, nullptr);
  sd_bus_error error = SD_BUS_ERROR_NULL;
  int r = lib.call(b.bus, m.m, 0, &error, nullptr);
  Status s = r < 0 ? bus_error(method, r, &error) : Status::ok();
  lib.error_free(&error);
  return s;
}

}  // namespace

bool Resolved::running() { return access("/run/systemd/resolve/io.systemd.Resolve", F_OK) == 0; }

Status Resolved::point_at(const std::vector<IpPrefix>& servers) {
  Status s = call("SetLinkDNS", [&](const SdBusLibrary& lib, sd_bus_message* m) {
    int r = lib.message_append(m, "i", ifindex_);
    if (r >= 0) r = lib.message_open_container(m, 'a', "(iay)");
    for (const auto& srv : servers) {
      if (r >= 0) r = lib.message_open_container(m, 'r', "iay");
      if (r >= 0) r = lib.message_append(m, "i", srv.family == 4 ? AF_INET : AF_INET6);
      if (r >= 0) r = lib.message_append_array(m, 'y', srv.addr.data(), srv.address_bytes());
      if (r >= 0) r = lib.message_close_container(m);
    }
    if (r >= 0) r = lib.message_close_container(m);
    return r;
  });
  if (!s) return s;
  changed_ = true;
  s = call("SetLinkDomains", [&](const SdBusLibrary& lib, sd_bus_message* m) {
    return lib.message_append(m, "ia(sb)", ifindex_, 1, "~.", 1);
  });
  if (!s) return s;
  return call("SetLinkDefaultRoute",
              [&](const SdBusLibrary& lib, sd_bus_message* m) { return lib.message_append(m, "ib", ifindex_, 1); });
}

Status Resolved::restore() {
  if (!changed_) return Status::ok();
  changed_ = false;
  return call("RevertLink",
              [&](const SdBusLibrary& lib, sd_bus_message* m) { return lib.message_append(m, "i", ifindex_); });
}

}  // namespace zeq

#include "dns/sd_bus_library.hpp"

#include <dlfcn.h>

#include <string>

namespace zeq {

namespace {

constexpr char LIBRARY[] = "libsystemd.so.0";

// Each symbol at the version a link would have bound (objdump -T), so the
// header's types cannot drift from what is called if a later libsystemd
// adds a new version of one.
template <typename Fn>
void bind(void* handle, const char* name, const char* version, Fn& out, std::string& missing) {
  out = reinterpret_cast<Fn>(dlvsym(handle, name, version));
  if (!out && missing.empty()) missing = std::string(name) + "@" + version;
}

}  // namespace

Result<SdBusLibrary> load_sd_bus_library(const char* soname) {
  // RTLD_LOCAL: its symbols stay out of the global namespace. Never closed,
  // as a bus call may come at any time until exit.
  void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    return Status::error(std::string("dns: systemd-resolved is running but ") + soname + " could not be loaded (" +
                         (why ? why : "unknown error") +
                         "); install it (apt-get install libsystemd0) and restart zeqvpnd, or set dns_via_peer: false");
  }
  SdBusLibrary lib{};
  std::string missing;
  bind(handle, "sd_bus_open_system", "LIBSYSTEMD_221", lib.open_system, missing);
  bind(handle, "sd_bus_flush_close_unref", "LIBSYSTEMD_222", lib.flush_close_unref, missing);
  bind(handle, "sd_bus_message_new_method_call", "LIBSYSTEMD_221", lib.message_new_method_call, missing);
  bind(handle, "sd_bus_message_unref", "LIBSYSTEMD_221", lib.message_unref, missing);
  bind(handle, "sd_bus_message_append", "LIBSYSTEMD_221", lib.message_append, missing);
  bind(handle, "sd_bus_message_append_array", "LIBSYSTEMD_221", lib.message_append_array, missing);
  bind(handle, "sd_bus_message_open_container", "LIBSYSTEMD_221", lib.message_open_container, missing);
  bind(handle, "sd_bus_message_close_container", "LIBSYSTEMD_221", lib.message_close_container, missing);
  bind(handle, "sd_bus_call", "LIBSYSTEMD_221", lib.call, missing);
  bind(handle, "sd_bus_error_free", "LIBSYSTEMD_221", lib.error_free, missing);
  if (!missing.empty()) {
    dlclose(handle);  // nothing from it is kept
    return Status::error(std::string("dns: ") + soname + " has no " + missing +
                         "; it is older than zeqvpnd needs (systemd 222 or later): upgrade libsystemd0 and restart " +
                         "zeqvpnd, or set dns_via_peer: false");
  }
  return lib;
}

const Result<SdBusLibrary>& sd_bus_library() {
  static const Result<SdBusLibrary> loaded = load_sd_bus_library(LIBRARY);
  return loaded;
}

}  // namespace zeq

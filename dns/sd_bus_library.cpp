#include "dns/sd_bus_library.hpp"

#include <dlfcn.h>

#include <string>

namespace zeq {

namespace {

constexpr char LIBRARY[] = "libsystemd.so.0";

template <typename Fn>
bool bind(void* handle, const char* name, Fn& out, std::string& missing) {
  out = reinterpret_cast<Fn>(dlsym(handle, name));
  if (!out && missing.empty()) missing = name;
  return out != nullptr;
}

Result<const SdBusLibrary*> load() {
  // RTLD_LOCAL: its symbols stay out of the global namespace; never closed,
  // as a bus call may come at any time until exit.
  void* handle = dlopen(LIBRARY, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    return Status::error(std::string("dns: systemd-resolved is running but ") + LIBRARY + " could not be loaded (" +
                         (why ? why : "unknown error") + "); install it (apt-get install libsystemd0) or set " +
                         "dns_via_peer: false");
  }
  static SdBusLibrary lib{};
  std::string missing;
  bind(handle, "sd_bus_open_system", lib.open_system, missing);
  bind(handle, "sd_bus_flush_close_unref", lib.flush_close_unref, missing);
  bind(handle, "sd_bus_message_new_method_call", lib.message_new_method_call, missing);
  bind(handle, "sd_bus_message_unref", lib.message_unref, missing);
  bind(handle, "sd_bus_message_append", lib.message_append, missing);
  bind(handle, "sd_bus_message_append_array", lib.message_append_array, missing);
  bind(handle, "sd_bus_message_open_container", lib.message_open_container, missing);
  bind(handle, "sd_bus_message_close_container", lib.message_close_container, missing);
  bind(handle, "sd_bus_call", lib.call, missing);
  bind(handle, "sd_bus_error_free", lib.error_free, missing);
  if (!missing.empty())
    return Status::error(std::string("dns: ") + LIBRARY + " has no " + missing +
                         "; it is older than zeqvpnd needs (systemd 221 or later)");
  return &lib;
}

}  // namespace

const Result<const SdBusLibrary*>& sd_bus_library() {
  static const Result<const SdBusLibrary*> loaded = load();
  return loaded;
}

}  // namespace zeq

// libsystemd's sd-bus, loaded from libsystemd.so.0 the first time it is
// needed instead of linked. Only a node that points systemd-resolved at a
// peer talks D-Bus; linking libsystemd mapped it and the five libraries it
// needs (libgcrypt, libgpg-error, liblzma, libzstd, liblz4) into every
// zeqvpnd, privileged, for good: about 0.8 MiB resident and their relocation
// at every start. The header's own declarations give each pointer its type,
// so a call through the table is checked as a direct call would be.
#pragma once

#include <systemd/sd-bus.h>

#include "core/result.hpp"

namespace zeq {

struct SdBusLibrary {
  decltype(&::sd_bus_open_system) open_system;
  decltype(&::sd_bus_flush_close_unref) flush_close_unref;
  decltype(&::sd_bus_message_new_method_call) message_new_method_call;
  decltype(&::sd_bus_message_unref) message_unref;
  decltype(&::sd_bus_message_append) message_append;
  decltype(&::sd_bus_message_append_array) message_append_array;
  decltype(&::sd_bus_message_open_container) message_open_container;
  decltype(&::sd_bus_message_close_container) message_close_container;
  decltype(&::sd_bus_call) call;
  decltype(&::sd_bus_error_free) error_free;
};

// The table from libsystemd.so.0, loaded once (thread-safe) and kept for
// the life of the process. A host without libsystemd0 gets one line naming
// the library and the fix; every later call returns the same.
const Result<SdBusLibrary>& sd_bus_library();

// The loading itself, from SONAME (tests load a name that does not exist).
Result<SdBusLibrary> load_sd_bus_library(const char* soname);

}  // namespace zeq

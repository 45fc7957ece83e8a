// Talking to systemd (Type=notify): READY, RELOADING, STOPPING, STATUS and
// watchdog pings. Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op.
//
// The sd_notify protocol is spoken directly (one datagram to $NOTIFY_SOCKET)
// rather than through libsystemd: systemd documents the protocol as the
// stable interface and recommends exactly this for programs that need
// nothing else from libsystemd (sd_notify(3), "Standalone
// Implementations"). Linking libsystemd loaded six shared libraries into
// this privileged daemon (libsystemd, libgcrypt, libgpg-error, liblzma,
// libzstd, liblz4): about 0.8 MiB of resident memory and their relocation
// time at every start, for four datagrams.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>

namespace zeq {

void notify_ready(const std::string& status);
void notify_reloading();
void notify_stopping();
void notify_watchdog();
// Half of WatchdogSec= when the watchdog is on for us; zero otherwise.
std::chrono::microseconds watchdog_interval();

// The parts above, with the environment passed in (for tests).
//
// Sends MESSAGE as one datagram to the socket NOTIFY_SOCKET names: a path
// ("/run/systemd/notify") or an abstract name ("@name"). Returns 1 when
// sent, 0 when notify_socket is null or empty (not under systemd), and
// -errno when it names no usable socket (relative, "/" or "@" alone, a path
// over 107 bytes or an abstract name over 108: -EINVAL; vsock:
// -EAFNOSUPPORT) or the send failed.
int send_service_notification(const char* notify_socket, std::string_view message);
// WatchdogSec= as systemd passes it: WATCHDOG_USEC (decimal microseconds,
// 1 to INT64_MAX) and, when set, WATCHDOG_PID naming this process. Zero when
// the watchdog is off, a value is malformed, or it is meant for another
// process (a child that inherited the environment).
std::chrono::microseconds watchdog_timeout(const char* watchdog_usec, const char* watchdog_pid, pid_t self);

}  // namespace zeq

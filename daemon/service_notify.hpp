// Talking to systemd (Type=notify): READY, RELOADING, STOPPING, STATUS and
// watchdog pings. Outside systemd ($NOTIFY_SOCKET unset) every call is a no-op.
#pragma once

#include <chrono>
#include <string>

namespace zeq {

void notify_ready(const std::string& status);
void notify_reloading();
void notify_stopping();
void notify_watchdog();
// Half of WatchdogSec= when the watchdog is on for us; zero otherwise.
std::chrono::microseconds watchdog_interval();

}  // namespace zeq

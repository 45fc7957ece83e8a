// Which settings a reload may change. Peers, cover, padding, the kill switch
// mode, allow_lan, DNS and the log level apply at once; the ones in the
// table of reload_check.cpp are fixed while zeqvpnd runs (the interface, the
// sockets' mark, the resolver backend's file), and a file that changes one
// is refused as a whole.
#pragma once

#include "config/config.hpp"
#include "core/result.hpp"

namespace zeq {

// An error naming the first fixed setting that differs, its old and new
// value and the fix; ok when none does.
Status check_reloadable(const Config& running, const Config& next);

}  // namespace zeq

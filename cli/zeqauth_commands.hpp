// zeqvpnctl's key commands for Zeq Auth equation identities: `genkey`
// (a random key, or with --equation the key an equation names) and
// `zeqauth zid` (an equation's ZID, avatar colour and value). An equation is
// a secret like a passphrase, so it is read from the terminal without echo,
// or as one line of stdin, and never taken from the command line (where
// shell history and ps would keep it).
#pragma once

namespace CLI {
class App;
}

namespace zeq::ctl {

// Registers `genkey [--equation]` and `zeqauth zid` on app.
void add_zeqauth_commands(CLI::App& app);

}  // namespace zeq::ctl

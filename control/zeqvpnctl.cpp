// zeqvpnctl: the operator's command-line tool. For now it manages key-file
// identities; the control-socket commands join it with the control socket.
#include <sodium.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>

#include "core/version.hpp"
#include "crypto/x25519.hpp"
#include "identity/key_file.hpp"
#include "identity/zid.hpp"

namespace {

std::string read_stdin() {
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  zeq::crypto_init();
  CLI::App app{"zeqvpnctl: control and key tool for zeqvpn"};
  app.require_subcommand(1);

  app.add_subcommand("genkey", "print a new private key (base64); keep it with mode 0600")->callback([] {
    auto kp = zeq::x25519_generate();
    std::printf("%s\n", zeq::encode_key(kp.private_key.span()).c_str());
  });

  auto* pubkey = app.add_subcommand("pubkey", "read a private key on stdin, print its public key");
  pubkey->callback([] {
    std::string text = read_stdin();
    auto id = zeq::identity_from_private_key_text(text);
    sodium_memzero(text.data(), text.size());
    if (!id) {
      std::fprintf(stderr, "zeqvpnctl pubkey: stdin: %s\n", id.message().c_str());
      std::exit(1);
    }
    std::printf("%s\n", zeq::encode_key(id->keypair.public_key).c_str());
  });

  auto* zid = app.add_subcommand("zid", "read a public key on stdin (as pubkey prints it), print the node's ZID");
  zid->callback([] {
    std::string text = read_stdin();
    auto key = zeq::decode_key(text);
    sodium_memzero(text.data(), text.size());
    if (!key) {
      std::fprintf(stderr, "zeqvpnctl zid: stdin: expected a public key as `zeqvpnctl pubkey` prints it\n");
      std::exit(1);
    }
    std::printf("%s\n", zeq::zid_from_public_key(*key).c_str());
  });

  app.add_subcommand("version", "print the version")->callback([] {
    std::printf("zeqvpnctl %s (%s)\n", zeq::VERSION, zeq::PROTOCOL_VERSION_NAME);
  });

  CLI11_PARSE(app, argc, argv);
  return 0;
}

// A main() for the fuzz targets without libFuzzer, so the ordinary (gcc)
// suite runs every target: it feeds LLVMFuzzerTestOneInput every file of the
// directories it is given (the seed corpus and the regressions), then random
// edits of them (byte_mutator.hpp) until a count or a time runs out. The
// edits come from a fixed seed, so a run is the same everywhere; the time
// bound only says how far along that sequence it gets.
//
//   fuzz_TARGET_replay [--seconds S] [--mutations N] [--seed N] [--crash-file PATH] DIR...
//
// If the target crashes, the input is written to the crash file (default
// ./crash-input) before the process dies; put it in
// tests/fuzz/regressions/TARGET/ once the bug is fixed, and every later run
// replays it.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "byte_mutator.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
// Present when a sanitizer runtime is linked in; it calls back before exiting
// on a report.
extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

namespace {

namespace fs = std::filesystem;

// The input being run, for the crash handlers (which may only call
// async-signal-safe functions, so nothing here is allocated or freed there).
const zeq::Bytes* g_current = nullptr;
std::string g_crash_file = "crash-input";

void save_current_input() {
  static bool saved = false;
  if (saved || !g_current) return;
  saved = true;
  int fd = ::open(g_crash_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    const uint8_t* p = g_current->data();
    size_t left = g_current->size();
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n <= 0) break;
      p += n, left -= size_t(n);
    }
    ::close(fd);
  }
  const char msg[] = "\nfuzz replay: the crashing input is in the crash file (--crash-file); "
                     "fix the bug, then copy it into tests/fuzz/regressions/TARGET/\n";
  (void)!::write(2, msg, sizeof msg - 1);
}

void on_fatal_signal(int sig) {
  save_current_input();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

void install_crash_handlers() {
  if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(save_current_input);
  // Sanitizers report SEGV, BUS and FPE themselves (with the stack); abort()
  // and __builtin_trap() (SIGILL) they leave alone.
  std::vector<int> signals{SIGABRT, SIGILL};
  if (!__sanitizer_set_death_callback) signals.insert(signals.end(), {SIGSEGV, SIGBUS, SIGFPE});
  for (int sig : signals) ::signal(sig, on_fatal_signal);
}

void run(const zeq::Bytes& input) {
  g_current = &input;
  LLVMFuzzerTestOneInput(input.data(), input.size());
  g_current = nullptr;
}

std::vector<zeq::Bytes> read_dir(const fs::path& dir, size_t& files) {
  std::vector<zeq::Bytes> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;  // no regressions yet: nothing to replay
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    ++files;
  }
  return out;
}

[[noreturn]] void usage(const char* self) {
  std::fprintf(stderr, "usage: %s [--seconds S] [--mutations N] [--seed N] [--crash-file PATH] DIR...\n", self);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 3;
  unsigned long long mutations = 1000000, seed = 1;
  std::vector<fs::path> dirs;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--seconds" && has_value) seconds = std::atof(argv[++i]);
    else if (a == "--mutations" && has_value) mutations = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--seed" && has_value) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--crash-file" && has_value) g_crash_file = argv[++i];
    else if (a.rfind("--", 0) == 0) usage(argv[0]);
    else dirs.emplace_back(a);
  }
  if (dirs.empty()) usage(argv[0]);
  install_crash_handlers();

  size_t files = 0, largest = 0;
  std::vector<zeq::Bytes> corpus;
  for (const auto& d : dirs) {
    for (auto& b : read_dir(d, files)) corpus.push_back(std::move(b));
  }
  for (const auto& b : corpus) {
    run(b);
    largest = std::max(largest, b.size());
  }

  // libFuzzer's default bound on input size, or room to grow the largest seed.
  zeq::fuzz::ByteMutator mutator(seed, std::max<size_t>(4096, largest * 2));
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  const zeq::Bytes empty;
  unsigned long long done = 0;
  for (; done < mutations && ((done & 63) != 0 || elapsed() < seconds); ++done) {
    const zeq::Bytes& base = corpus.empty() ? empty : corpus[mutator.pick(corpus.size())];
    const zeq::Bytes& other = corpus.empty() ? empty : corpus[mutator.pick(corpus.size())];
    run(mutator.mutate(base, other));
  }
  std::printf("fuzz replay: %zu files, then %llu mutations (seed %llu) in %.1f s: no crash\n", files, done, seed,
              elapsed());
  return 0;
}

// The relay's metadata log on real files: off writes nothing (no file, no
// directory), a summary line holds the ZIDs, addresses, Zeqonds and bytes
// and nothing else, prune drops only lines past the retention (atomically,
// mode kept), and a bad path is one clear error.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "relay/metadata_log.hpp"

namespace zeq {
namespace {

namespace fs = std::filesystem;

const std::string A = "zeq-aaaaaaaaaaaa";
const std::string B = "zeq-bbbbbbbbbbbb";
const std::string RELAY = "zeq-rrrrrrrrrrrr";

class MetadataLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zeqvpn-metalog-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "log" / "relay-metadata.log").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static RelayedPair pair(uint64_t started_z, const char* a_at = "198.51.100.1:51820",
                          const char* b_at = "[2001:db8::2]:443") {
    RelayedPair p;
    p.pair_id = 77;
    p.on_relay = true;
    p.relay_zid = RELAY;
    p.requester_zid = A;
    p.target_zid = B;
    p.local_zid = RELAY;
    p.peer_zid = A;
    p.requester_endpoint = *parse_udp_endpoint(a_at);
    p.target_endpoint = *parse_udp_endpoint(b_at);
    p.unit = PricingUnit::kZeqond;
    p.price = 987654321;
    p.started_z = started_z;
    return p;
  }
  std::string text() const {
    std::ifstream in(path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(text());
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }
  static mode_t mode_of(const std::string& p) {
    struct stat st{};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(MetadataLogTest, OffWritesNothingAndCreatesNoFile) {
  MetadataLog log(RelayMetadataLog::kOff, path_, 100);
  EXPECT_FALSE(log.enabled());
  EXPECT_TRUE(log.open());
  EXPECT_TRUE(log.record(pair(10), {1, 2}, 20));
  auto pruned = log.prune(1'000'000);
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 0u);
  EXPECT_FALSE(fs::exists(path_));
  EXPECT_FALSE(fs::exists(dir_ / "log"));  // not even its directory
  EXPECT_TRUE(fs::is_empty(dir_));
}

// One line per pair: ZIDs, endpoints, Zeqonds, bytes, in the documented
// order and keys; no price, no relay or keeper identity, nothing else.
TEST_F(MetadataLogTest, SummaryLineHoldsExactlyTheMetadata) {
  const mode_t old_umask = ::umask(077);  // the modes do not depend on it
  {
    MetadataLog log(RelayMetadataLog::kSummary, path_, 100);
    ASSERT_TRUE(log.record(pair(1000), {123456789, 42}, 1033));
    ASSERT_TRUE(log.record(pair(1040, "203.0.113.9:9"), {0, 0}, 1041));
  }
  ::umask(old_umask);
  auto got = lines();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0],
            "stop_z=1033\trequester=" + A + "\trequester_endpoint=198.51.100.1:51820\ttarget=" + B +
                "\ttarget_endpoint=[2001:db8::2]:443\tstart_z=1000\tup_bytes=123456789\tdown_bytes=42");
  EXPECT_EQ(got[1], "stop_z=1041\trequester=" + A + "\trequester_endpoint=203.0.113.9:9\ttarget=" + B +
                        "\ttarget_endpoint=[2001:db8::2]:443\tstart_z=1040\tup_bytes=0\tdown_bytes=0");
  // Exactly these keys, and nothing of the price or the relay itself.
  std::vector<std::string> keys;
  std::istringstream fields(got[0]);
  for (std::string f; std::getline(fields, f, '\t');) keys.push_back(f.substr(0, f.find('=')));
  EXPECT_EQ(keys, (std::vector<std::string>{"stop_z", "requester", "requester_endpoint", "target", "target_endpoint",
                                            "start_z", "up_bytes", "down_bytes"}));
  const std::string all = text();
  EXPECT_EQ(all.find("987654321"), std::string::npos);
  EXPECT_EQ(all.find(RELAY), std::string::npos);
  EXPECT_EQ(all.find("zeqond"), std::string::npos);
  EXPECT_EQ(mode_of(path_), mode_t(0640));
  EXPECT_EQ(mode_of((dir_ / "log").string()), mode_t(0750));

  // A later run appends to what is there.
  MetadataLog again(RelayMetadataLog::kSummary, path_, 100);
  ASSERT_TRUE(again.record(pair(1100), {5, 6}, 1101));
  EXPECT_EQ(lines().size(), 3u);
}

// A ZID can never break the line or add a field; unknown endpoints are "-".
TEST_F(MetadataLogTest, FieldsCannotForgeLines) {
  RelayedPair p = pair(5);
  p.requester_zid = "zeq-a\tstop_z=1\nx";
  p.target_zid.clear();
  p.target_endpoint = UdpEndpoint{};
  EXPECT_EQ(MetadataLog::line_of(p, {1, 2}, 6),
            "stop_z=6\trequester=zeq-a?stop_z?1?x\trequester_endpoint=198.51.100.1:51820\ttarget=-\t"
            "target_endpoint=-\tstart_z=5\tup_bytes=1\tdown_bytes=2");
}

// Lines whose stop is more than the retention before now go; the rest stay
// in order, the file keeps mode 0640, and later records append to it.
TEST_F(MetadataLogTest, PruneRemovesOldLinesOnly) {
  MetadataLog log(RelayMetadataLog::kSummary, path_, 100);
  for (uint64_t stop : {100, 500, 899, 900, 1000, 1200}) ASSERT_TRUE(log.record(pair(stop - 10), {stop, 1}, stop));
  ASSERT_TRUE(fs::exists(path_));
  auto pruned = log.prune(1000);  // keeps stop >= 900
  ASSERT_TRUE(pruned) << pruned.message();
  EXPECT_EQ(*pruned, 3u);
  auto got = lines();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].rfind("stop_z=900\t", 0), 0u) << got[0];
  EXPECT_EQ(got[1].rfind("stop_z=1000\t", 0), 0u) << got[1];
  EXPECT_EQ(got[2].rfind("stop_z=1200\t", 0), 0u) << got[2];
  EXPECT_EQ(mode_of(path_), mode_t(0640));

  // Nothing to drop: the file is left alone (same inode).
  struct stat before{}, after{};
  ASSERT_EQ(::stat(path_.c_str(), &before), 0);
  pruned = log.prune(1000);
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 0u);
  ASSERT_EQ(::stat(path_.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);

  // After a rewrite, records go to the new file, not the replaced one.
  ASSERT_TRUE(log.record(pair(1290), {9, 9}, 1300));
  EXPECT_EQ(lines().size(), 4u);

  // A torn last line (a crash mid-write) cannot be dated: it goes too.
  { std::ofstream(path_, std::ios::app) << "stop_z=1300\trequester=zeq-"; }
  pruned = log.prune(1000);
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 1u);
  EXPECT_EQ(lines().size(), 4u);
  EXPECT_EQ(text().back(), '\n');
  // No temporary file is left beside the log.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_ / "log")) ++entries;
  EXPECT_EQ(entries, 1u);
  // Everything past the retention: an empty file remains.
  pruned = log.prune(10'000);
  ASSERT_TRUE(pruned);
  EXPECT_EQ(*pruned, 4u);
  EXPECT_TRUE(fs::exists(path_));
  EXPECT_EQ(text(), "");
}

TEST_F(MetadataLogTest, PruneWithoutAFileCreatesNone) {
  MetadataLog log(RelayMetadataLog::kSummary, path_, 100);
  auto pruned = log.prune(1000);
  ASSERT_TRUE(pruned) << pruned.message();
  EXPECT_EQ(*pruned, 0u);
  EXPECT_FALSE(fs::exists(path_));
}

// A bad path is one line naming the path and the setting to fix.
TEST_F(MetadataLogTest, BadPathIsAClearError) {
  const std::string blocker = (dir_ / "not-a-dir").string();
  { std::ofstream(blocker) << "x"; }
  struct Case {
    std::string path, says;
  } cases[] = {
      {blocker + "/relay.log", blocker + " is not a directory"},
      {(dir_ / "a" / "b" / "relay.log").string(), "cannot create its directory " + (dir_ / "a" / "b").string()},
      {dir_.string(), "cannot open it for appending"},
      {dir_.string() + "/", "is not a file path"},
  };
  for (const auto& c : cases) {
    MetadataLog log(RelayMetadataLog::kSummary, c.path, 100);
    Status s = log.record(pair(1), {1, 1}, 2);
    ASSERT_FALSE(s) << c.path;
    EXPECT_NE(s.message().find(c.says), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.path.back() == '/' ? c.path : "relay metadata log " + c.path), std::string::npos)
        << s.message();
    EXPECT_NE(s.message().find("relay.metadata_log_file"), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
    EXPECT_FALSE(log.open());  // open() reports the same at start-up
  }
  // A symbolic link at the path is not followed.
  fs::create_directories(dir_ / "log");
  fs::create_symlink(blocker, path_);
  MetadataLog log(RelayMetadataLog::kSummary, path_, 100);
  Status s = log.open();
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("symbolic link"), std::string::npos) << s.message();
  EXPECT_EQ(text(), "x");  // the link's target is untouched
}

}  // namespace
}  // namespace zeq

// resolv.conf handling on real files: the original is backed up once, put
// back on restore, and recovered after a "crash" (a backup left behind).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "dns/resolv_conf.hpp"

namespace zeq {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ResolvConfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zeqvpn-dns-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "resolv.conf") << ORIGINAL;
  }
  void TearDown() override { fs::remove_all(dir_); }
  static constexpr const char* ORIGINAL = "search lan\nnameserver 192.168.1.1\n";
  fs::path dir_;
};

TEST_F(ResolvConfTest, PointRestoreAndBackupOnce) {
  ResolvConf rc((dir_ / "resolv.conf").string(), (dir_ / "backup").string());
  ASSERT_TRUE(rc.point_at({*parse_ip_prefix("10.77.0.2")}));
  EXPECT_EQ(slurp(dir_ / "backup"), ORIGINAL);
  EXPECT_EQ(fs::status(dir_ / "backup").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  std::string ours = slurp(dir_ / "resolv.conf");
  EXPECT_NE(ours.find("nameserver 10.77.0.2\n"), std::string::npos);
  EXPECT_EQ(ours.find("192.168.1.1"), std::string::npos);
  // A second change keeps the first backup: the original, not our file.
  ASSERT_TRUE(rc.point_at({*parse_ip_prefix("fd77::2")}));
  EXPECT_EQ(slurp(dir_ / "backup"), ORIGINAL);
  EXPECT_NE(slurp(dir_ / "resolv.conf").find("nameserver fd77::2\n"), std::string::npos);
  ASSERT_TRUE(rc.restore());
  EXPECT_EQ(slurp(dir_ / "resolv.conf"), ORIGINAL);
  EXPECT_FALSE(fs::exists(dir_ / "backup"));
  EXPECT_TRUE(rc.restore());  // nothing to do
}

TEST_F(ResolvConfTest, RecoversWhatACrashedRunLeft) {
  {
    ResolvConf crashed((dir_ / "resolv.conf").string(), (dir_ / "backup").string());
    ASSERT_TRUE(crashed.point_at({*parse_ip_prefix("10.77.0.2")}));
  }  // no restore: the daemon died
  ResolvConf next((dir_ / "resolv.conf").string(), (dir_ / "backup").string());
  auto r = next.recover();
  ASSERT_TRUE(r) << r.message();
  EXPECT_TRUE(*r);
  EXPECT_EQ(slurp(dir_ / "resolv.conf"), ORIGINAL);
  EXPECT_FALSE(*next.recover());
}

TEST_F(ResolvConfTest, UnreadableFileIsAClearError) {
  ResolvConf rc((dir_ / "missing.conf").string(), (dir_ / "backup").string());
  Status s = rc.point_at({*parse_ip_prefix("10.77.0.2")});
  ASSERT_FALSE(s);
  EXPECT_NE(s.message().find("missing.conf"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace zeq

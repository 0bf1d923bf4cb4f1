#include "basin/app/config.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "basin/app/home.h"
#include "basin/common/crypto.h"

namespace basin::app {
namespace {

std::string TempHome(const std::string& yaml) {
  auto dir = std::filesystem::temp_directory_path() / ("basin-config-" + RandomAlphanumeric(8));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / kConfigFileName) << yaml;
  return dir.string();
}

TEST(ConfigTest, DefaultsFileEnvironmentPrecedence) {
  std::string home = TempHome(
      "lake: data\nserver:\n  listen: 0.0.0.0:9000\n  max_request_size: 1MiB\ns3:\n  region: "
      "eu-west-1\n");
  Result<Config> from_file = LoadConfig(home, {});
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(from_file->LakeUrl(), home + "/data");
  EXPECT_EQ(from_file->listen, "0.0.0.0:9000");
  EXPECT_EQ(from_file->max_request_bytes, 1u << 20);
  EXPECT_EQ(from_file->s3.region, "eu-west-1");
  EXPECT_EQ(from_file->MetadataPath(), home + "/metadata.db");  // default

  Result<Config> with_env = LoadConfig(home, {{"BASIN_LISTEN", "127.0.0.1:7000"},
                                              {"AWS_REGION", "ap-northeast-2"},
                                              {"AWS_ENDPOINT_URL", "http://generic:1"},
                                              {"AWS_ENDPOINT_URL_S3", "http://s3-specific:2"},
                                              {"AWS_ACCESS_KEY_ID", "AKID"},
                                              {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                              {"BASIN_LAKE", "s3://bucket/lake"}});
  ASSERT_TRUE(with_env.ok());
  EXPECT_EQ(with_env->listen, "127.0.0.1:7000");
  EXPECT_EQ(with_env->s3.region, "ap-northeast-2");
  EXPECT_EQ(with_env->s3.endpoint, "http://s3-specific:2");
  EXPECT_EQ(with_env->s3.credentials.access_key_id, "AKID");
  EXPECT_EQ(with_env->LakeUrl(), "s3://bucket/lake");
}

TEST(ConfigTest, AuthSettings) {
  Result<Config> defaults = LoadConfig(TempHome("lake: data\n"), {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->login_max_failures, 5);
  EXPECT_EQ(defaults->login_failure_window, std::chrono::minutes(15));
  EXPECT_EQ(defaults->password_hashes_at_once, 2);
  Result<Config> config =
      LoadConfig(TempHome("auth:\n  login_max_failures: 3\n  login_failure_window: 90s\n  "
                          "password_hashes_at_once: 4\n"),
                 {});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->login_max_failures, 3);
  EXPECT_EQ(config->login_failure_window, std::chrono::seconds(90));
  EXPECT_EQ(config->password_hashes_at_once, 4);
  for (const char* bad :
       {"auth:\n  login_max_failures: 0\n", "auth:\n  login_failure_window: 500ms\n",
        "auth:\n  password_hashes_at_once: 0\n", "auth:\n  login_failure_window: soon\n"}) {
    Result<Config> refused = LoadConfig(TempHome(bad), {});
    EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(refused.status().message().find("auth."), std::string::npos)
        << refused.status().message();
  }
  // basin init writes the section with its defaults.
  std::string written = DefaultConfigText("lake", "metadata.db", {});
  Result<Config> from_default = LoadConfig(TempHome(written), {});
  ASSERT_TRUE(from_default.ok()) << from_default.status().ToString();
  EXPECT_NE(written.find("login_max_failures: 5"), std::string::npos);
  EXPECT_EQ(from_default->login_failure_window, std::chrono::minutes(15));
}

TEST(ConfigTest, StreamSettings) {
  Result<Config> defaults = LoadConfig(TempHome("lake: data\n"), {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->stream_wal_max_bytes, 1ull << 30);
  EXPECT_EQ(defaults->stream_refuse_when_failing_for, std::chrono::seconds(60));
  std::string home = TempHome(
      "streams:\n  wal_max_size: 256KiB\n  wal_segment_size: 64KiB\n  buffer_max_size: 1MiB\n"
      "  refuse_when_failing_for: 0\n  delivery_workers: 3\n");
  Result<Config> config = LoadConfig(home, {});
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->stream_wal_max_bytes, 256u << 10);
  EXPECT_EQ(config->stream_wal_segment_bytes, 64u << 10);
  EXPECT_EQ(config->stream_buffer_max_bytes, 1u << 20);
  EXPECT_EQ(config->stream_refuse_when_failing_for, std::chrono::milliseconds(0));
  EXPECT_EQ(config->stream_delivery_workers, 3);
  Result<Config> small = LoadConfig(TempHome("streams:\n  wal_max_size: 100KiB\n"), {});
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.status().message().find("streams.wal_max_size"), std::string::npos);
}

TEST(ConfigTest, ServerConnectionSettings) {
  Result<Config> defaults = LoadConfig(TempHome("lake: data\n"), {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->server_threads, 512);
  EXPECT_EQ(defaults->server_read_timeout, std::chrono::seconds(10));
  Result<Config> set = LoadConfig(TempHome("server:\n  threads: 32\n  read_timeout: 2s\n"), {});
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  EXPECT_EQ(set->server_threads, 32);
  EXPECT_EQ(set->server_read_timeout, std::chrono::seconds(2));
  Result<Config> forever = LoadConfig(TempHome("server:\n  read_timeout: 1h\n"), {});
  ASSERT_FALSE(forever.ok());
  EXPECT_NE(forever.status().message().find("server.read_timeout"), std::string::npos);
}

TEST(ConfigTest, ErrorsNameFileAndField) {
  std::string home = TempHome("server:\n  max_request_size: lots\n");
  Result<Config> bad = LoadConfig(home, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("basin.yaml"), std::string::npos);
  EXPECT_NE(bad.status().message().find("server.max_request_size"), std::string::npos);

  std::string broken = TempHome("lake: [unclosed\n");
  Result<Config> syntax = LoadConfig(broken, {});
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("line"), std::string::npos) << syntax.status().message();

  EXPECT_TRUE(LoadConfig("/nonexistent/basin-home", {}).status().IsNotFound());
}

TEST(ConfigTest, ByteSizes) {
  EXPECT_EQ(*ParseByteSize("64MiB"), 64u << 20);
  EXPECT_EQ(*ParseByteSize("1000"), 1000u);
  EXPECT_EQ(*ParseByteSize("2 GiB"), 2ull << 30);
  EXPECT_FALSE(ParseByteSize("MiB").ok());
  EXPECT_FALSE(ParseByteSize("5 parsecs").ok());
  EXPECT_EQ(*ParseByteSize("2TB"), 2000000000000u);
  EXPECT_FALSE(ParseByteSize("99999999999999999999999").ok()) << "too large, not a crash";
  EXPECT_FALSE(ParseByteSize("9000000000TiB").ok());
}

TEST(ConfigTest, ParsesDurations) {
  EXPECT_EQ(ParseDuration("500ms")->count(), 500);
  EXPECT_EQ(ParseDuration("60s")->count(), 60000);
  EXPECT_EQ(ParseDuration("5m")->count(), 300000);
  EXPECT_EQ(ParseDuration("2 h")->count(), 7200000);
  EXPECT_EQ(ParseDuration("0")->count(), 0);
  for (const char* bad : {"", "5", "s", "1d", "-1s", "1.5s", "99999999999999999999h"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(HomeTest, LocateHomePrecedence) {
  EXPECT_EQ(*LocateHome(std::string("/srv/basin"), {{"BASIN_HOME", "/other"}}), "/srv/basin");
  EXPECT_EQ(*LocateHome(std::nullopt, {{"BASIN_HOME", "/other"}}), "/other");
}

TEST(HomeTest, InitCreatesAUsableHomeOnce) {
  auto dir = std::filesystem::temp_directory_path() / ("basin-init-" + RandomAlphanumeric(8));
  Result<InitOutcome> outcome = InitHome(dir.string(), {});
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->admin_password.size(), 20u);
  EXPECT_TRUE(std::filesystem::is_directory(dir / "lake"));
  EXPECT_TRUE(std::filesystem::exists(dir / "metadata.db"));
  auto key_perms = std::filesystem::status(dir / "secrets" / "master.key").permissions();
  EXPECT_EQ(key_perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);

  Result<Config> config = LoadConfig(dir.string(), {});
  ASSERT_TRUE(config.ok());
  Home home(*config);
  auto auth = home.Auth();
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_TRUE((*auth)->CheckPassword("admin", outcome->admin_password).ok());
  EXPECT_EQ(InitHome(dir.string(), {}).status().code(), StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace basin::app

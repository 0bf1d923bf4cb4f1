#include "basin/auth/master_key.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "basin/common/crypto.h"

namespace basin::auth {
namespace {

namespace fs = std::filesystem;

class AuthMasterKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "basin-master-key-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    path_ = (dir_ / "master.key").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string path_;
};

TEST_F(AuthMasterKeyTest, CreatesPrivateFileThenLoadsTheSameKey) {
  auto created = LoadOrCreateMasterKey(path_);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->size(), kMasterKeyBytes);
  struct stat info {};
  ASSERT_EQ(stat(path_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(info.st_size, static_cast<off_t>(kMasterKeyBytes));

  auto loaded = LoadOrCreateMasterKey(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, *created);
  // No temporary files are left beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(AuthMasterKeyTest, ConcurrentCreatorsAgreeOnOneKey) {
  std::vector<std::string> keys(4);
  std::vector<std::thread> threads;
  for (std::string& key : keys) {
    threads.emplace_back([&] { key = LoadOrCreateMasterKey(path_).ValueOr("failed"); });
  }
  for (std::thread& thread : threads)
    thread.join();
  for (const std::string& key : keys)
    EXPECT_EQ(key, keys[0]);
  EXPECT_EQ(keys[0].size(), kMasterKeyBytes);
}

TEST_F(AuthMasterKeyTest, RefusesWrongSize) {
  std::ofstream(path_) << "too short";
  fs::permissions(path_, fs::perms::owner_read | fs::perms::owner_write);
  auto key = LoadOrCreateMasterKey(path_);
  EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(key.status().message().find("has 9 bytes, expected 32"), std::string::npos)
      << key.status().ToString();
}

TEST_F(AuthMasterKeyTest, RefusesFileReadableByOthers) {
  ASSERT_TRUE(LoadOrCreateMasterKey(path_).ok());
  fs::permissions(path_, fs::perms::others_read, fs::perm_options::add);
  auto key = LoadOrCreateMasterKey(path_);
  EXPECT_EQ(key.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(key.status().message().find("chmod 600"), std::string::npos) << key.status().ToString();
}

TEST_F(AuthMasterKeyTest, RefusesDirectoryAndMissingParent) {
  EXPECT_EQ(LoadOrCreateMasterKey(dir_.string()).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(LoadOrCreateMasterKey((dir_ / "missing" / "master.key").string()).status().code(),
            StatusCode::kIOError);
}

TEST(AuthSealedSecretTest, RoundTrip) {
  const std::string key = RandomBytes(kMasterKeyBytes);
  auto sealed = SealSecret(key, "the secret", "context");
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  EXPECT_TRUE(sealed->starts_with("v1:"));
  EXPECT_EQ(sealed->find("the secret"), std::string::npos);
  EXPECT_EQ(OpenSealedSecret(key, *sealed, "context").ValueOr(""), "the secret");
  // A fresh nonce each time.
  EXPECT_NE(*sealed, SealSecret(key, "the secret", "context").ValueOr(""));
  EXPECT_EQ(OpenSealedSecret(key, SealSecret(key, "", "").ValueOr(""), "").ValueOr("x"), "");
}

TEST(AuthSealedSecretTest, WrongKeyContextOrTamperingFail) {
  const std::string key = RandomBytes(kMasterKeyBytes);
  const std::string sealed = SealSecret(key, "the secret", "context").ValueOr("");
  auto wrong_key = OpenSealedSecret(RandomBytes(kMasterKeyBytes), sealed, "context");
  EXPECT_EQ(wrong_key.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(wrong_key.status().message().find("the secret"), std::string::npos);
  EXPECT_EQ(OpenSealedSecret(key, sealed, "other context").status().code(),
            StatusCode::kFailedPrecondition);

  std::string tampered = sealed;
  tampered[10] = tampered[10] == '0' ? '1' : '0';
  EXPECT_EQ(OpenSealedSecret(key, tampered, "context").status().code(),
            StatusCode::kFailedPrecondition);

  EXPECT_EQ(OpenSealedSecret(key, "v2:00", "context").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenSealedSecret(key, "v1:zz", "context").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenSealedSecret(key, "v1:00", "context").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(SealSecret("short key", "x", "").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace basin::auth

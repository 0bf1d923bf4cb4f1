#include "basin/storage/local_object_store.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "basin/storage/test_stores.h"

namespace basin::storage {
namespace {

namespace fs = std::filesystem;

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A basin home as `basin init` lays it out: the lake beside secrets it must never expose.
class LocalLakeSymlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = testing::TempFolder();
    fs::create_directories(home_ / "secrets");
    std::ofstream(home_ / "secrets" / "master.key") << "top secret";
    std::ofstream(home_ / "metadata.db") << "users and hashes";
    fs::create_directories(home_ / "lake" / "data");
    store_ = std::move(LocalObjectStore::Make((home_ / "lake").string())).value();
    ASSERT_TRUE(store_->Write("data/real.csv", "a,b\n").ok());
    // A link to a file outside, and a linked folder leading outside.
    fs::create_symlink(home_ / "secrets" / "master.key", home_ / "lake" / "data" / "key.csv");
    fs::create_directory_symlink(home_ / "secrets", home_ / "lake" / "escape");
    fs::create_directory_symlink(home_, home_ / "lake" / "data" / "home");
  }
  void TearDown() override { fs::remove_all(home_); }

  fs::path home_;
  std::unique_ptr<LocalObjectStore> store_;
};

TEST_F(LocalLakeSymlinkTest, ReadsThroughLinksAreRefused) {
  for (const char* key : {"data/key.csv", "escape/master.key", "data/home/metadata.db",
                          "data/home/secrets/master.key"}) {
    auto reader = store_->OpenForRead(key);
    ASSERT_FALSE(reader.ok()) << key;
    EXPECT_EQ(reader.status().code(), StatusCode::kPermissionDenied)
        << key << ": " << reader.status().ToString();
    EXPECT_EQ(store_->Stat(key).status().code(), StatusCode::kPermissionDenied) << key;
    EXPECT_EQ(store_->Copy(key, "stolen.txt").code(), StatusCode::kPermissionDenied) << key;
  }
  EXPECT_FALSE(store_->Stat("stolen.txt").ok());
  EXPECT_TRUE(store_->OpenForRead("data/real.csv").ok());
}

TEST_F(LocalLakeSymlinkTest, ListingsSkipLinksAndDoNotDescendThroughThem) {
  auto all = store_->List("", {.recursive = true});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].key, "data/real.csv");

  auto top = store_->List("", {.recursive = false});
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 1u) << "the linked folder 'escape/' is not a prefix";
  EXPECT_EQ((*top)[0].key, "data/");

  auto level = store_->List("data/", {.recursive = false});
  ASSERT_TRUE(level.ok());
  ASSERT_EQ(level->size(), 1u);
  EXPECT_EQ((*level)[0].key, "data/real.csv");

  // A prefix inside a linked folder lists nothing from outside.
  for (const char* prefix : {"escape/", "data/home/", "data/home/secrets/"}) {
    auto inside = store_->List(prefix, {.recursive = true});
    EXPECT_TRUE(!inside.ok() || inside->empty()) << prefix;
    if (!inside.ok()) {
      EXPECT_EQ(inside.status().code(), StatusCode::kPermissionDenied) << prefix;
    }
  }
}

TEST_F(LocalLakeSymlinkTest, WritesAndDeletesThroughLinksAreRefused) {
  EXPECT_EQ(store_->Write("escape/master.key", "overwritten").code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Write("escape/new.txt", "planted").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Write("data/home/metadata.db", "x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Write("data/key.csv", "x").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Delete("escape/master.key").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Delete("data/home/metadata.db").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Delete("data/key.csv").code(), StatusCode::kPermissionDenied);

  EXPECT_EQ(ReadText(home_ / "secrets" / "master.key"), "top secret");
  EXPECT_EQ(ReadText(home_ / "metadata.db"), "users and hashes");
  EXPECT_FALSE(fs::exists(home_ / "secrets" / "new.txt"));
  EXPECT_TRUE(fs::is_symlink(home_ / "lake" / "data" / "key.csv"));
}

TEST_F(LocalLakeSymlinkTest, ObjectsBesideLinksStillWork) {
  ASSERT_TRUE(store_->Write("data/more/new.csv", "1\n").ok());
  auto reader = store_->OpenForRead("data/more/new.csv");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(reader->get()->size(), 2u);
  ASSERT_TRUE(store_->Delete("data/more/new.csv").ok());
  EXPECT_FALSE(fs::exists(home_ / "lake" / "data" / "more")) << "the emptied folder is removed";
  EXPECT_TRUE(fs::exists(home_ / "lake" / "data")) << "but not the folder holding other entries";
}

TEST(LocalObjectStoreTest, FifoIsNotAnObjectAndDoesNotBlock) {
  fs::path root = testing::TempFolder();
  auto store = std::move(LocalObjectStore::Make(root.string())).value();
  ASSERT_EQ(::mkfifo((root / "pipe").c_str(), 0600), 0);
  EXPECT_EQ(store->OpenForRead("pipe").status().code(), StatusCode::kNotFound);
  auto listed = store->List("", {.recursive = true});
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  fs::remove_all(root);
}

TEST(LocalObjectStoreTest, TheRootMayBeALink) {
  fs::path parent = testing::TempFolder();
  fs::create_directories(parent / "real");
  fs::create_directory_symlink(parent / "real", parent / "lake");
  auto store = std::move(LocalObjectStore::Make((parent / "lake").string())).value();
  ASSERT_TRUE(store->Write("a/b.txt", "x").ok());
  EXPECT_TRUE(fs::exists(parent / "real" / "a" / "b.txt"));
  EXPECT_TRUE(store->OpenForRead("a/b.txt").ok());
  fs::remove_all(parent);
}

}  // namespace
}  // namespace basin::storage

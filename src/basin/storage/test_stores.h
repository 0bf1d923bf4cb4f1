#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "basin/common/crypto.h"
#include "basin/storage/local_object_store.h"
#include "basin/storage/s3_object_store.h"

// Stores for tests: a fresh temp folder, or a fresh prefix in the bucket of the S3 API
// server that scripts/with-test-servers.sh starts (BASIN_TEST_S3_* variables).
namespace basin::storage::testing {

inline std::string RequireEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(
        std::string(name) +
        " is not set: run the tests under scripts/with-test-servers.sh (make test does)");
  }
  return value;
}

inline S3Options TestS3Options() {
  S3Options options;
  options.endpoint = RequireEnv("BASIN_TEST_S3_ENDPOINT");
  options.bucket = RequireEnv("BASIN_TEST_S3_BUCKET");
  options.credentials.access_key_id = RequireEnv("BASIN_TEST_S3_ACCESS_KEY");
  options.credentials.secret_access_key = RequireEnv("BASIN_TEST_S3_SECRET_KEY");
  options.prefix = "t-" + RandomAlphanumeric(10);
  options.part_size = 5 << 20;
  options.max_attempts = 2;
  options.first_backoff = std::chrono::milliseconds(10);
  return options;
}

inline std::string TempFolder() {
  auto path = std::filesystem::temp_directory_path() / ("basin-test-" + RandomAlphanumeric(10));
  std::filesystem::create_directories(path);
  return path.string();
}

}  // namespace basin::storage::testing

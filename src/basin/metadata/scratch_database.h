#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "basin/common/result.h"

/// Test support (library basin_metadata_testing, linked only into tests).
namespace basin::metadata {

/// The engines behind Database; tests that take one as a parameter run against both.
enum class Backend { kSqlite, kPostgres };

/// "Sqlite" or "Postgres", for parameterized test names.
std::string_view BackendName(Backend backend);

/// Lets gtest print a Backend parameter by name.
inline void PrintTo(Backend backend, std::ostream* out) {
  *out << BackendName(backend);
}

/// The environment variable that names the test PostgreSQL server, set by
/// scripts/with-test-servers.sh: postgresql://user:password@127.0.0.1:PORT/basin_test.
inline constexpr char kTestPostgresUrlVariable[] = "BASIN_TEST_POSTGRES_URL";

/// A fresh, empty place for one test's metadata database, removed when this object is
/// destroyed. SQLite: a file path in a new temporary directory. PostgreSQL: a new
/// schema in the test server's database, and a URL whose search_path selects it, so
/// tests running at once never see each other's tables. Pass location() to
/// Database::Open (as often as the test likes: each open finds the same database).
/// Move-only.
class ScratchDatabase {
 public:
  /// FailedPrecondition for kPostgres when BASIN_TEST_POSTGRES_URL is not set (the
  /// message says to run the tests under scripts/with-test-servers.sh); Unavailable
  /// when the server cannot be reached.
  static Result<ScratchDatabase> Make(Backend backend);

  ScratchDatabase(ScratchDatabase&& other) noexcept;
  ScratchDatabase& operator=(ScratchDatabase&&) = delete;
  ~ScratchDatabase();

  Backend backend() const { return backend_; }
  /// An SQLite file path or a postgresql:// URL.
  const std::string& location() const { return location_; }
  /// SQLite only: the temporary directory that holds the file (for tests that need
  /// other files beside it); empty for PostgreSQL.
  const std::string& directory() const { return directory_; }

 private:
  explicit ScratchDatabase(Backend backend) : backend_(backend) {}

  Backend backend_;
  std::string location_;
  std::string directory_;
  std::string server_url_;  // PostgreSQL: the test server's URL, to drop the schema
  std::string schema_;
};

}  // namespace basin::metadata

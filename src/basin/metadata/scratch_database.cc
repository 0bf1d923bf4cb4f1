#include "basin/metadata/scratch_database.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

#include <libpq-fe.h>

#include "basin/common/crypto.h"
#include "basin/metadata/postgres_database.h"

namespace basin::metadata {
namespace {

namespace fs = std::filesystem;

void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}  // "drop cascades to ..."

// Runs one statement on the test server with its own short-lived connection.
Status RunOnServer(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  std::string failure;
  if (PQstatus(conn) != CONNECTION_OK) {
    failure = PQerrorMessage(conn);
  } else {
    PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
    PGresult* result = PQexec(conn, sql.c_str());
    if (PQresultStatus(result) != PGRES_COMMAND_OK)
      failure = PQresultErrorMessage(result);
    PQclear(result);
  }
  PQfinish(conn);
  if (failure.empty())
    return Status::OK();
  return Status::Unavailable("test PostgreSQL server: " + sql + " failed: " + failure + " (" +
                             RedactPostgresUrl(url) + ")");
}

}  // namespace

std::string_view BackendName(Backend backend) {
  return backend == Backend::kSqlite ? "Sqlite" : "Postgres";
}

Result<ScratchDatabase> ScratchDatabase::Make(Backend backend) {
  ScratchDatabase scratch(backend);
  if (backend == Backend::kSqlite) {
    std::string pattern = (fs::temp_directory_path() / "basin-metadata-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      return Status::IOError("cannot create a temporary directory: " + pattern);
    scratch.directory_ = pattern;
    scratch.location_ = (fs::path(pattern) / "metadata.db").string();
    return scratch;
  }
  const char* url = std::getenv(kTestPostgresUrlVariable);
  if (url == nullptr || url[0] == '\0') {
    return Status::FailedPrecondition(
        std::string(kTestPostgresUrlVariable) +
        " is not set: the PostgreSQL tests need the test server; run them under "
        "scripts/with-test-servers.sh (e.g. scripts/with-test-servers.sh ctest --test-dir "
        "build/release)");
  }
  scratch.server_url_ = url;
  // Lower-case letters and digits: a schema name that needs no quoting.
  scratch.schema_ = "basin_test_" + RandomAlphanumeric(16);
  for (char& c : scratch.schema_)
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  BASIN_RETURN_IF_ERROR(RunOnServer(scratch.server_url_, "CREATE SCHEMA " + scratch.schema_));
  const char separator = scratch.server_url_.find('?') == std::string::npos ? '?' : '&';
  scratch.location_ =
      scratch.server_url_ + separator + "options=-csearch_path%3D" + scratch.schema_;
  return scratch;
}

ScratchDatabase::ScratchDatabase(ScratchDatabase&& other) noexcept
    : backend_(other.backend_),
      location_(std::move(other.location_)),
      directory_(std::exchange(other.directory_, "")),
      server_url_(std::move(other.server_url_)),
      schema_(std::exchange(other.schema_, "")) {}

ScratchDatabase::~ScratchDatabase() {
  if (!directory_.empty()) {
    std::error_code ignored;
    fs::remove_all(directory_, ignored);
  }
  // A schema left behind (the server is gone) dies with the test server's cluster.
  if (!schema_.empty())
    (void)RunOnServer(server_url_, "DROP SCHEMA " + schema_ + " CASCADE");
}

}  // namespace basin::metadata

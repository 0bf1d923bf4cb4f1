#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "basin/common/result.h"
#include "basin/source/source.h"
#include "basin/source/source_store.h"

namespace basin::source {

/// A table a source lets its user read.
struct SourceTable {
  std::string schema;  // PostgreSQL schema, MariaDB database, "main" for SQLite
  std::string name;
};

/// What `basin source test` found on a source.
struct SourceProbe {
  std::string server;  // "PostgreSQL 15.10", "MariaDB 10.11.6", "SQLite 3.40.1"
  bool tls = false;    // the connection is encrypted (network sources)
  std::vector<SourceTable> tables;
  int unreadable_tables = 0;  // tables the user can see but not SELECT from

  /// One line: "PostgreSQL 15.10 as shop (TLS): 12 tables in public, sales".
  std::string Summary(const SourceDefinition& definition) const;
};

/// {"ok": true, "summary", "server", "tls", "tables": [{"schema", "name"}], "unreadable_tables"}
/// or {"ok": false, "error": "<one line>", "reason": "unauthenticated" | "unavailable" | ...}:
/// the answer of `basin source test --json` and POST /api/sources/NAME/test.
nlohmann::json ProbeToJson(const SourceDefinition& definition, const Result<SourceProbe>& probe);

/// Connects to the source and lists the tables its user can read. Failures say why in
/// one line, with the code: Unauthenticated (wrong user or password), Unavailable (host
/// unreachable, nothing listening, timed out), FailedPrecondition (the server requires
/// TLS, or offers none when the source requires it; a SQLite file that is not a
/// database), PermissionDenied (no privilege on the database), NotFound (no such
/// database or file).
Result<SourceProbe> ProbeSource(const SourceDefinition& definition, const std::string& password);

/// `basin source test` and POST /api/sources/NAME/test: the stored source, probed with its
/// password (why there is none is the probe's failure). NotFound for an unknown source.
struct TestedSource {
  StoredSource source;
  Result<SourceProbe> probe;
};
Result<TestedSource> TestSource(SourceStore& store, std::string_view name);

// One per kind (postgres_probe.cc, mariadb_probe.cc, sqlite_probe.cc).
Result<SourceProbe> ProbePostgres(const SourceDefinition& definition, const std::string& password);
Result<SourceProbe> ProbeMariaDb(const SourceDefinition& definition, const std::string& password);
Result<SourceProbe> ProbeSqlite(const SourceDefinition& definition);

}  // namespace basin::source

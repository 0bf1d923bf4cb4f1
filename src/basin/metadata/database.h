#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "basin/common/result.h"
#include "basin/common/status.h"
#include "basin/metadata/row.h"

/// The metadata database of a basin home: users, credentials and, later, everything
/// else basin must remember that is not table data.
namespace basin::metadata {

/// A relational store for basin's metadata, with versioned schema migrations applied
/// when it is opened. Today backed by one SQLite file; a PostgreSQL backend is meant to
/// implement the same interface, so callers write portable SQL:
///   - parameters are positional `?` placeholders, always bound, never concatenated;
///   - one statement per call;
///   - times are INTEGER seconds since the Unix epoch.
///
/// Errors: a unique or primary-key violation is AlreadyExists; another constraint
/// violation (foreign key, NOT NULL, CHECK) is FailedPrecondition; a locked database
/// after the busy timeout is Unavailable; disk and file failures are IOError; SQL that
/// does not compile, or a parameter count that does not match, is Internal (a bug).
/// Messages name the statement and the database's reason, never the bound values, so a
/// secret passed as a parameter cannot leak into a Status.
///
/// Thread safety: all methods are thread-safe. Statements are serialised; a
/// Transaction holds the database for its whole body, so the body may call any method
/// of this object on the same thread, and other threads wait until it ends. A body
/// must not wait for another thread that uses this database (that would deadlock).
class Database {
 public:
  virtual ~Database() = default;

  /// Opens (creating if needed, mode 0600) the SQLite database at `path` and applies
  /// the schema migrations it lacks. IOError when the file cannot be opened or is not
  /// a database; FailedPrecondition when its schema is newer than this binary knows
  /// ("metadata schema version 7 is newer than this basin (5); upgrade basin").
  static Result<std::unique_ptr<Database>> Open(const std::string& path);

  /// The schema version after migrations: the newest migration this binary knows.
  virtual int SchemaVersion() const = 0;

  /// Runs one statement, discarding any rows it returns.
  Status Execute(std::string_view sql, std::vector<Value> params = {}) {
    return DoExecute(sql, params).status();
  }

  /// Runs one INSERT and returns the integer primary key of the row it inserted.
  Result<int64_t> ExecuteReturningId(std::string_view sql, std::vector<Value> params = {}) {
    BASIN_ASSIGN_OR_RETURN(ExecuteSummary summary, DoExecute(sql, params));
    return summary.last_insert_id;
  }

  /// Runs one INSERT, UPDATE or DELETE and returns how many rows it changed.
  Result<int64_t> ExecuteReturningChangeCount(std::string_view sql,
                                              std::vector<Value> params = {}) {
    BASIN_ASSIGN_OR_RETURN(ExecuteSummary summary, DoExecute(sql, params));
    return summary.changes;
  }

  /// Runs one query and returns all its rows.
  Result<std::vector<Row>> Query(std::string_view sql, std::vector<Value> params = {}) {
    return DoQuery(sql, params);
  }

  /// Runs one query expected to return at most one row: the row, or nullopt when there
  /// is none. Internal when it returns more than one.
  Result<std::optional<Row>> QueryRow(std::string_view sql, std::vector<Value> params = {});

  /// Runs `body` in a transaction: commits when it returns OK, rolls back when it
  /// returns an error (which is returned) or throws (the exception propagates).
  /// Transactions nest: an inner one becomes a savepoint that rolls back alone.
  /// A write transaction takes the write lock at its start, so two processes never
  /// deadlock upgrading read locks.
  virtual Status Transaction(const std::function<Status()>& body) = 0;

 protected:
  struct ExecuteSummary {
    int64_t changes = 0;
    int64_t last_insert_id = 0;
  };

  // Non-virtual public methods with default arguments forward here (default arguments
  // on virtual functions bind statically, which surprises).
  virtual Result<ExecuteSummary> DoExecute(std::string_view sql,
                                           const std::vector<Value>& params) = 0;
  virtual Result<std::vector<Row>> DoQuery(std::string_view sql,
                                           const std::vector<Value>& params) = 0;
};

}  // namespace basin::metadata

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
/// when it is opened. Two engines implement it: SQLite (one file, the default) and
/// PostgreSQL (a server several basin nodes can share). Callers write portable SQL:
///   - parameters are positional `?` placeholders, always bound, never concatenated;
///   - one statement per call;
///   - times are INTEGER seconds since the Unix epoch; integers are 64-bit;
///   - text is UTF-8 without NUL bytes (PostgreSQL refuses NUL: InvalidArgument);
///     binary data is hex text;
///   - a comparison or other boolean result reads back as the integer 0 or 1;
///   - ExecuteReturningId needs a table whose integer primary key is named `id`;
///   - SQL both engines accept: ON CONFLICT rather than INSERT OR IGNORE / REPLACE;
///     no PRAGMA; no PostgreSQL operators spelt with `?`; lower(x) LIKE lower(?)
///     rather than LIKE alone (case-insensitive on SQLite only); a text column that
///     lists are sorted by is COLLATE "C" in the PostgreSQL migration, so both engines
///     sort it byte by byte (see migrations.cc).
///
/// Errors: a unique or primary-key violation is AlreadyExists; another constraint
/// violation (foreign key, NOT NULL, CHECK) is FailedPrecondition; a locked database
/// after the busy timeout (5 s), or a PostgreSQL server that cannot be reached or
/// closed the connection, is Unavailable; disk and file failures are IOError; a value
/// the column cannot hold (PostgreSQL) is InvalidArgument; SQL that does not compile,
/// or a parameter count that does not match, is Internal (a bug). Messages name the
/// statement and the database's reason, never the bound values, so a secret passed as a
/// parameter cannot leak into a Status; nor do they name a PostgreSQL password.
///
/// Thread safety: all methods are thread-safe. A Transaction holds its connection for
/// its whole body, so the body may call any method of this object on the same thread
/// (those calls run inside the transaction). Transactions are serialised, across
/// threads and, on one shared PostgreSQL database, across basin nodes: a body may read
/// and then write without another transaction changing what it read. SQLite runs every
/// statement on one connection, so statements of other threads wait until a transaction
/// ends; PostgreSQL runs them on other pooled connections, where they see only committed
/// data and may commit a single-statement change meanwhile (so writes that must not
/// slip between a body's read and write belong in a Transaction too). A body must not
/// wait for another thread that uses this database (that would deadlock).
class Database {
 public:
  virtual ~Database() = default;

  /// Opens the metadata database at `location` and applies the schema migrations it
  /// lacks. A `location` that starts with "postgresql://" or "postgres://" is a libpq
  /// connection URL (postgresql://user:password@host:port/database?options=...), and
  /// the database must exist; anything else is the path of an SQLite file, created
  /// mode 0600 if needed (":memory:" is a private in-memory database).
  /// Errors: IOError when the file cannot be opened or is not a database; Unavailable
  /// when the PostgreSQL server cannot be reached or refuses the login; InvalidArgument
  /// for a malformed URL; FailedPrecondition when the schema is newer than this binary
  /// knows ("metadata schema version 7 is newer than this basin (5); upgrade basin").
  /// Several processes may open one database at once: migrations run one at a time.
  static Result<std::unique_ptr<Database>> Open(const std::string& location);

  /// The schema version after migrations: the newest migration this binary knows.
  virtual int SchemaVersion() const = 0;

  /// Runs one statement, discarding any rows it returns.
  Status Execute(std::string_view sql, std::vector<Value> params = {}) {
    return DoExecute(sql, params).status();
  }

  /// Runs one INSERT and returns the integer primary key of the row it inserted (of the
  /// last row, when it inserted several). The table's integer primary key must be named
  /// `id`: PostgreSQL has no "last insert id", so there an INSERT without a RETURNING
  /// clause gets " RETURNING id" appended (an INSERT with one must return the id as its
  /// first column). On PostgreSQL, Internal for a statement that is not an INSERT and
  /// FailedPrecondition when it inserted no row (ON CONFLICT DO NOTHING).
  Result<int64_t> ExecuteReturningId(std::string_view sql, std::vector<Value> params = {}) {
    return DoExecuteReturningId(sql, params);
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
  /// A transaction takes the write lock at its start (SQLite: BEGIN IMMEDIATE;
  /// PostgreSQL: a transaction-scoped advisory lock), so transactions run one at a time
  /// and two processes never deadlock upgrading read locks; Unavailable when the lock
  /// stays taken for 5 s.
  /// A statement that fails inside a transaction: on PostgreSQL (and on SQLite after a
  /// full disk or an I/O error) the transaction is then aborted, later statements in it
  /// fail with FailedPrecondition, and it rolls back even if the body returns OK
  /// (FailedPrecondition). A body that means to carry on after a statement fails runs
  /// that statement in a nested Transaction, which rolls back alone on both engines.
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
  // By default, DoExecute's last_insert_id.
  virtual Result<int64_t> DoExecuteReturningId(std::string_view sql,
                                               const std::vector<Value>& params);
};

}  // namespace basin::metadata

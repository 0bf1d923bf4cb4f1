#include "basin/metadata/postgres_database.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include <libpq-fe.h>

#include "basin/metadata/migration_runner.h"
#include "basin/metadata/statement_text.h"

namespace basin::metadata {
namespace {

// Type OIDs from PostgreSQL's catalog (pg_type.dat), fixed across versions; libpq does
// not export them.
constexpr Oid kUnknownOid = 0;  // a parameter whose type the server infers
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kOidOid = 26;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// Enough for a server's few request threads and a background job: metadata statements
// are short, and a transaction holds the write lock, so more connections would wait.
constexpr size_t kMaxConnections = 4;
constexpr int kMinServerVersion = 100000;  // 10: identity columns

// Every Transaction takes this transaction-scoped advisory lock (key: "basin" in
// ASCII) as it begins, like SQLite's BEGIN IMMEDIATE: transactions of every node that
// shares the database run one at a time, so a body may read, then write, without
// another one changing what it read (auth's "not the last admin" check relies on it).
// Metadata writes are rare and short, so the lock costs little. It is released at
// COMMIT or ROLLBACK, also when the connection drops.
constexpr std::string_view kBegin = "BEGIN; SELECT pg_advisory_xact_lock(422777481582)";
// A node that opens the database while another one migrates it waits for it (longer:
// a migration may take a while), then finds the migration applied.
constexpr std::string_view kBeginMigration =
    "BEGIN; SET LOCAL lock_timeout = '5min'; SELECT pg_advisory_xact_lock(422777481582)";
constexpr std::string_view kCreateHistoryTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT PRIMARY KEY, description TEXT NOT NULL, applied_at BIGINT NOT NULL)";
// SQLite's busy timeout, unless the server or the URL configured a lock timeout.
constexpr std::string_view kSessionSetup =
    "SELECT set_config('lock_timeout', '5s', false) WHERE current_setting('lock_timeout') = '0'";

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// The server's notices ("relation already exists, skipping") would go to stderr.
void IgnoreNotice(void* /*arg*/, const char* /*message*/) {}

std::string ReplaceAll(std::string text, std::string_view from, std::string_view to) {
  if (from.empty())
    return text;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// libpq messages end in a newline and may span lines; a Status holds one line.
std::string OneLine(std::string_view text) {
  std::string out = ReplaceAll(std::string(text), "\n", " ");
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

StatusCode CodeForSqlState(std::string_view state) {
  if (state == "23505")
    return StatusCode::kAlreadyExists;  // unique_violation (also primary keys)
  if (state.starts_with("23") || state.starts_with("25"))
    return StatusCode::kFailedPrecondition;  // integrity; invalid transaction state
  if (state.starts_with("22"))
    return StatusCode::kInvalidArgument;  // data exception: a value the column cannot hold
  // Connection problems, a server shutting down or full of clients, a lock not granted
  // in time, a serialization failure or deadlock: try again later.
  if (state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03" ||
      state == "53300" || state == "55P03" || state == "40001" || state == "40P01") {
    return StatusCode::kUnavailable;
  }
  if (state == "57014")
    return StatusCode::kCancelled;  // query_canceled
  if (state == "53100" || state.starts_with("58") || state == "XX001" || state == "XX002")
    return StatusCode::kIOError;  // disk full, system I/O error, corrupted data
  if (state.starts_with("53"))
    return StatusCode::kResourceExhausted;
  if (state.starts_with("54"))
    return StatusCode::kPayloadTooLarge;  // program limit exceeded (e.g. index row size)
  return StatusCode::kInternal;           // syntax, undefined objects, ...: a bug in the SQL
}

// The server's reason, when its class never quotes a value: integrity violations name
// the constraint (the DETAIL field, never used, holds the key), syntax errors quote
// SQL text, which holds placeholders. Data exceptions ("invalid input syntax for type
// bigint: ...") and errors raised by functions may quote a bound value, so only their
// SQLSTATE is given.
std::string ReasonWithoutValues(const PGresult* result, std::string_view state) {
  static constexpr std::string_view kSafeClasses[] = {"08", "0A", "23", "25", "28", "3D",
                                                      "3F", "40", "42", "53", "55", "57"};
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  for (std::string_view safe : kSafeClasses) {
    if (state.starts_with(safe) && primary != nullptr)
      return OneLine(primary);
  }
  std::string_view what = "the server rejected a value";
  if (state == "22001")
    what = "a value is too long for its column";
  else if (state == "22003")
    what = "a number is out of range for its column";
  else if (state == "22P02")
    what = "a value does not have its column's type";
  else if (state == "22021")
    what = "a value is not valid UTF-8";
  else if (!state.starts_with("22"))
    what = "the statement failed";
  return std::string(what) + " (SQLSTATE " + std::string(state) + ")";
}

std::string FormatDouble(double value) {
  if (std::isnan(value))
    return "NaN";
  if (std::isinf(value))
    return value > 0 ? "Infinity" : "-Infinity";
  char buffer[32];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, error == std::errc() ? end : buffer);
}

std::optional<int64_t> ParseInteger(std::string_view text) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

std::optional<double> ParseDouble(std::string_view text) {
  if (text == "NaN")
    return std::nan("");
  if (text == "Infinity")
    return HUGE_VAL;
  if (text == "-Infinity")
    return -HUGE_VAL;
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return value;
}

// One column value in PostgreSQL's text format, as the Value SQLite would return:
// integers and booleans (0/1) are int64; float and numeric are double, except an
// integral numeric that fits (sum() of a BIGINT column is numeric); bytea is its bytes.
Result<Value> DecodeValue(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column))
    return Value(kNull);
  const std::string_view text(PQgetvalue(result, row, column),
                              static_cast<size_t>(PQgetlength(result, row, column)));
  const Oid type = PQftype(result, column);
  switch (type) {
    case kBoolOid:
      return Value(int64_t{text == "t" ? 1 : 0});
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid:
    case kOidOid:
      if (std::optional<int64_t> integer = ParseInteger(text))
        return Value(*integer);
      break;
    case kNumericOid:
      if (std::optional<int64_t> integer = ParseInteger(text))
        return Value(*integer);
      [[fallthrough]];
    case kFloat4Oid:
    case kFloat8Oid:
      if (std::optional<double> real = ParseDouble(text))
        return Value(*real);
      break;
    case kByteaOid: {
      size_t size = 0;
      unsigned char* bytes =
          PQunescapeBytea(reinterpret_cast<const unsigned char*>(text.data()), &size);
      if (bytes == nullptr)
        return Status::ResourceExhausted("metadata column could not be decoded: out of memory");
      std::string value(reinterpret_cast<const char*>(bytes), size);
      PQfreemem(bytes);
      return Value(std::move(value));
    }
    default:
      return Value(std::string(text));
  }
  return Status::Internal("metadata column " + std::to_string(column) + " of type oid " +
                          std::to_string(type) + " could not be decoded");
}

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(std::string url, std::vector<std::string> secrets)
      : url_(std::move(url)), described_(RedactPostgresUrl(url_)), secrets_(std::move(secrets)) {}
  PostgresDatabase(const PostgresDatabase&) = delete;
  PostgresDatabase& operator=(const PostgresDatabase&) = delete;

  // Brings the schema up to the newest of `migrations`; the first call also checks
  // that the server can be reached.
  Status Migrate(std::span<const Migration> migrations);

  int SchemaVersion() const override { return schema_version_; }
  Status Transaction(const std::function<Status()>& body) override {
    return RunTransaction(body, kBegin);
  }

 protected:
  Result<ExecuteSummary> DoExecute(std::string_view sql, const std::vector<Value>& params) override;
  Result<std::vector<Row>> DoQuery(std::string_view sql, const std::vector<Value>& params) override;
  Result<int64_t> DoExecuteReturningId(std::string_view sql,
                                       const std::vector<Value>& params) override;

 private:
  // One server connection. `in_use` and `user` are guarded by mutex_; the rest belongs
  // to the thread that has it in use.
  struct Connection {
    explicit Connection(PGconn* c) : conn(c) {}
    ~Connection() { PQfinish(conn); }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    PGconn* const conn;
    bool in_use = false;
    std::thread::id user;  // the thread that has it in use
    int transaction_depth = 0;
  };

  // A connection in use by the calling thread. The lease that took it from the pool
  // gives it back when it ends; a call inside a Transaction body borrows the
  // transaction's connection instead.
  class Lease {
   public:
    Lease(PostgresDatabase* db, Connection* connection, bool owner)
        : db_(db), connection_(connection), owner_(owner) {}
    Lease(Lease&& other) noexcept
        : db_(other.db_),
          connection_(std::exchange(other.connection_, nullptr)),
          owner_(other.owner_) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (connection_ != nullptr && owner_)
        db_->Release(connection_);
    }
    Connection& operator*() const { return *connection_; }

   private:
    PostgresDatabase* db_;
    Connection* connection_;
    bool owner_;
  };

  Result<Lease> Acquire();
  void Release(Connection* connection);
  Result<PGconn*> Connect();

  Status RunTransaction(const std::function<Status()>& body, std::string_view begin);
  Status RollBack(Connection& connection, int depth);
  // Runs one translated statement with bound parameters; `sql` is the caller's text.
  Result<ResultPtr> Run(Connection& connection, const PostgresStatement& statement,
                        std::string_view sql, const std::vector<Value>& params);
  // Runs SQL text without parameters, which may hold several statements.
  Status ExecuteScript(Connection& connection, std::string_view sql);

  Status Error(PGconn* conn, const PGresult* result, std::string_view what) const;
  std::string WithoutSecrets(std::string text) const;

  const std::string url_;
  const std::string described_;  // url_ without its password, for messages
  // The password as written in url_ and as decoded: never part of a message.
  const std::vector<std::string> secrets_;

  std::mutex mutex_;
  std::condition_variable released_;
  std::vector<std::unique_ptr<Connection>> connections_;  // guarded by mutex_
  size_t connecting_ = 0;                                 // guarded by mutex_
  int schema_version_ = 0;                                // written only while opening
};

std::string PostgresDatabase::WithoutSecrets(std::string text) const {
  for (const std::string& secret : secrets_)
    text = ReplaceAll(std::move(text), secret, "***");
  return text;
}

Status PostgresDatabase::Error(PGconn* conn, const PGresult* result, std::string_view what) const {
  const char* field = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = field != nullptr ? field : "";
  std::string message = std::string(what) + ": ";
  StatusCode code = StatusCode::kInternal;
  if (state.empty()) {
    // libpq's own error: most often a connection that broke.
    message += OneLine(PQerrorMessage(conn));
    if (PQstatus(conn) != CONNECTION_OK)
      code = StatusCode::kUnavailable;
  } else {
    message += ReasonWithoutValues(result, state);
    code = CodeForSqlState(state);
  }
  return Status(code, WithoutSecrets(message + " (" + described_ + ")"));
}

Result<PGconn*> PostgresDatabase::Connect() {
  // Defaults come first: with expand_dbname, the URL's own settings override them.
  const char* const keywords[] = {"connect_timeout", "application_name", "client_encoding",
                                  "dbname", nullptr};
  const char* const values[] = {"10", "basin", "UTF8", url_.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr)
    return Status::ResourceExhausted("metadata database connection failed: out of memory");
  auto fail = [&](StatusCode code, std::string reason) -> Status {
    PQfinish(conn);
    return Status(code, WithoutSecrets("metadata database connection failed: " + reason + " (" +
                                       described_ + ")"));
  };
  if (PQstatus(conn) != CONNECTION_OK)
    return fail(StatusCode::kUnavailable, OneLine(PQerrorMessage(conn)));
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  if (PQserverVersion(conn) < kMinServerVersion) {
    return fail(StatusCode::kFailedPrecondition,
                "PostgreSQL 10 or newer is required, the server is version " +
                    std::to_string(PQserverVersion(conn)));
  }
  // Placeholder translation reads '...' literals the standard way (no backslash
  // escapes), and text travels as UTF-8.
  const char* strings = PQparameterStatus(conn, "standard_conforming_strings");
  const char* encoding = PQparameterStatus(conn, "client_encoding");
  if (strings == nullptr || std::string_view(strings) != "on" || encoding == nullptr ||
      std::string_view(encoding) != "UTF8") {
    return fail(StatusCode::kFailedPrecondition,
                "the connection needs standard_conforming_strings=on and client_encoding=UTF8");
  }
  ResultPtr setup(PQexec(conn, std::string(kSessionSetup).c_str()));
  if (PQresultStatus(setup.get()) != PGRES_TUPLES_OK) {
    Status status = Error(conn, setup.get(), "metadata database connection setup failed");
    PQfinish(conn);
    return status;
  }
  return conn;
}

Result<PostgresDatabase::Lease> PostgresDatabase::Acquire() {
  const std::thread::id self = std::this_thread::get_id();
  std::unique_lock lock(mutex_);
  for (;;) {
    for (const auto& connection : connections_) {
      if (connection->in_use && connection->user == self)
        return Lease(this, connection.get(), /*owner=*/false);
    }
    for (const auto& connection : connections_) {
      if (!connection->in_use) {
        connection->in_use = true;
        connection->user = self;
        return Lease(this, connection.get(), /*owner=*/true);
      }
    }
    if (connections_.size() + connecting_ < kMaxConnections)
      break;
    released_.wait(lock);
  }
  // Connecting takes a round trip or more: other threads keep using the pool meanwhile.
  ++connecting_;
  lock.unlock();
  Result<PGconn*> conn = Connect();
  lock.lock();
  --connecting_;
  if (!conn.ok()) {
    released_.notify_one();  // a waiting thread may try to connect itself
    return conn.status();
  }
  connections_.push_back(std::make_unique<Connection>(*conn));
  Connection* connection = connections_.back().get();
  connection->in_use = true;
  connection->user = self;
  return Lease(this, connection, /*owner=*/true);
}

void PostgresDatabase::Release(Connection* connection) {
  // A connection that broke, or that a statement left inside a transaction (an
  // Execute("BEGIN")), is closed rather than handed to the next caller.
  const bool discard = PQstatus(connection->conn) != CONNECTION_OK ||
                       PQtransactionStatus(connection->conn) != PQTRANS_IDLE;
  std::unique_ptr<Connection> closed;
  {
    std::lock_guard lock(mutex_);
    connection->in_use = false;
    connection->user = std::thread::id();
    if (discard) {
      for (auto it = connections_.begin(); it != connections_.end(); ++it) {
        if (it->get() == connection) {
          closed = std::move(*it);
          connections_.erase(it);
          break;
        }
      }
    }
  }
  released_.notify_one();
}

Result<ResultPtr> PostgresDatabase::Run(Connection& connection, const PostgresStatement& statement,
                                        std::string_view sql, const std::vector<Value>& params) {
  if (connection.transaction_depth > 0 && PQtransactionStatus(connection.conn) == PQTRANS_INERROR) {
    return Status::FailedPrecondition(
        "metadata transaction was aborted by an earlier error; not running: " + DescribeSql(sql));
  }
  if (statement.parameter_count != params.size()) {
    return Status::Internal("metadata statement expects " +
                            std::to_string(statement.parameter_count) + " parameters, got " +
                            std::to_string(params.size()) + ": " + DescribeSql(sql));
  }
  std::vector<Oid> types(params.size(), kUnknownOid);
  std::vector<std::string> texts(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (size_t i = 0; i < params.size(); ++i) {
    const Value& value = params[i];
    if (const auto* integer = std::get_if<int64_t>(&value)) {
      types[i] = kInt8Oid;
      texts[i] = std::to_string(*integer);
    } else if (const auto* real = std::get_if<double>(&value)) {
      types[i] = kFloat8Oid;
      texts[i] = FormatDouble(*real);
    } else if (const auto* text = std::get_if<std::string>(&value)) {
      // Text goes untyped, so the server infers the type from where it is used, as SQLite
      // applies a column's affinity.
      if (text->find('\0') != std::string::npos) {
        return Status::InvalidArgument(
            "metadata statement parameter " + std::to_string(i + 1) +
            " holds a NUL byte, which PostgreSQL text cannot store: " + DescribeSql(sql));
      }
      texts[i] = *text;
    } else {
      continue;  // NULL
    }
    values[i] = texts[i].c_str();
  }
  ResultPtr result(PQexecParams(connection.conn, statement.sql.c_str(),
                                static_cast<int>(params.size()), types.data(), values.data(),
                                /*paramLengths=*/nullptr, /*paramFormats=*/nullptr,
                                /*resultFormat=*/0));
  switch (PQresultStatus(result.get())) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
      return result;
    case PGRES_EMPTY_QUERY:
      return Status::Internal("metadata statement is empty");
    default:
      return Error(connection.conn, result.get(), "metadata statement failed: " + DescribeSql(sql));
  }
}

Status PostgresDatabase::ExecuteScript(Connection& connection, std::string_view sql) {
  ResultPtr result(PQexec(connection.conn, std::string(sql).c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY)
    return Status::OK();
  return Error(connection.conn, result.get(), "metadata statement failed: " + DescribeSql(sql));
}

Result<Database::ExecuteSummary> PostgresDatabase::DoExecute(std::string_view sql,
                                                             const std::vector<Value>& params) {
  BASIN_ASSIGN_OR_RETURN(PostgresStatement statement, TranslateForPostgres(sql));
  BASIN_ASSIGN_OR_RETURN(Lease lease, Acquire());
  BASIN_ASSIGN_OR_RETURN(ResultPtr result, Run(*lease, statement, sql, params));
  // PostgreSQL has no last insert id; ExecuteReturningId asks for it instead.
  return ExecuteSummary{ParseInteger(PQcmdTuples(result.get())).value_or(0), 0};
}

Result<std::vector<Row>> PostgresDatabase::DoQuery(std::string_view sql,
                                                   const std::vector<Value>& params) {
  BASIN_ASSIGN_OR_RETURN(PostgresStatement statement, TranslateForPostgres(sql));
  BASIN_ASSIGN_OR_RETURN(Lease lease, Acquire());
  BASIN_ASSIGN_OR_RETURN(ResultPtr result, Run(*lease, statement, sql, params));
  const int row_count = PQntuples(result.get());
  const int column_count = PQnfields(result.get());
  std::vector<Row> rows;
  rows.reserve(static_cast<size_t>(row_count));
  for (int r = 0; r < row_count; ++r) {
    std::vector<Value> values;
    values.reserve(static_cast<size_t>(column_count));
    for (int c = 0; c < column_count; ++c) {
      BASIN_ASSIGN_OR_RETURN(Value value, DecodeValue(result.get(), r, c));
      values.push_back(std::move(value));
    }
    rows.emplace_back(std::move(values));
  }
  return rows;
}

Result<int64_t> PostgresDatabase::DoExecuteReturningId(std::string_view sql,
                                                       const std::vector<Value>& params) {
  BASIN_ASSIGN_OR_RETURN(PostgresStatement statement, TranslateForPostgres(sql));
  if (!statement.has_returning) {
    if (!statement.is_insert) {
      return Status::Internal("metadata ExecuteReturningId needs an INSERT statement: " +
                              DescribeSql(sql));
    }
    statement.sql.insert(statement.end_of_code, " RETURNING id");
  }
  BASIN_ASSIGN_OR_RETURN(Lease lease, Acquire());
  BASIN_ASSIGN_OR_RETURN(ResultPtr result, Run(*lease, statement, sql, params));
  const int rows = PQntuples(result.get());
  if (rows == 0) {
    return Status::FailedPrecondition("metadata INSERT inserted no row, so it has no id: " +
                                      DescribeSql(sql));
  }
  BASIN_ASSIGN_OR_RETURN(Value id, DecodeValue(result.get(), rows - 1, 0));
  if (const auto* integer = std::get_if<int64_t>(&id))
    return *integer;
  return Status::Internal("metadata INSERT returned an id that is not an integer: " +
                          DescribeSql(sql));
}

Status PostgresDatabase::RollBack(Connection& connection, int depth) {
  // A failed COMMIT, or a connection that broke, already ended the transaction.
  const PGTransactionStatusType state = PQtransactionStatus(connection.conn);
  if (state != PQTRANS_INTRANS && state != PQTRANS_INERROR)
    return Status::OK();
  if (depth == 0)
    return ExecuteScript(connection, "ROLLBACK");
  const std::string savepoint = "basin_savepoint_" + std::to_string(depth);
  return ExecuteScript(connection,
                       "ROLLBACK TO SAVEPOINT " + savepoint + "; RELEASE SAVEPOINT " + savepoint);
}

Status PostgresDatabase::RunTransaction(const std::function<Status()>& body,
                                        std::string_view begin) {
  BASIN_ASSIGN_OR_RETURN(Lease lease, Acquire());
  Connection& connection = *lease;
  const int depth = connection.transaction_depth;
  const std::string savepoint = "basin_savepoint_" + std::to_string(depth);
  if (Status begun = ExecuteScript(connection, depth == 0 ? begin : "SAVEPOINT " + savepoint);
      !begun.ok()) {
    // The lock may have timed out after BEGIN; the transaction must not stay open.
    if (depth == 0)
      (void)RollBack(connection, 0);
    return begun;
  }

  Status status;
  ++connection.transaction_depth;
  try {
    status = body();
  } catch (...) {
    --connection.transaction_depth;
    // The exception is what the caller needs to see; a failed rollback cannot be added.
    (void)RollBack(connection, depth);
    throw;
  }
  --connection.transaction_depth;

  if (status.ok()) {
    // COMMIT of an aborted transaction would roll back and report success.
    if (PQtransactionStatus(connection.conn) == PQTRANS_INERROR) {
      status = Status::FailedPrecondition(
          "metadata transaction was aborted by a statement that failed; its body went on and "
          "returned OK, so it was rolled back");
    } else {
      status = ExecuteScript(connection, depth == 0 ? "COMMIT" : "RELEASE SAVEPOINT " + savepoint);
      if (status.ok())
        return status;
    }
  }
  if (Status rollback = RollBack(connection, depth); !rollback.ok()) {
    return Status(status.code(),
                  status.message() + "; rollback also failed: " + rollback.message());
  }
  return status;
}

Status PostgresDatabase::Migrate(std::span<const Migration> migrations) {
  auto execute_script = [this](std::string_view sql) -> Status {
    BASIN_ASSIGN_OR_RETURN(Lease lease, Acquire());
    return ExecuteScript(*lease, sql);
  };
  auto transaction = [this](const std::function<Status()>& body) {
    return RunTransaction(body, kBeginMigration);
  };
  BASIN_ASSIGN_OR_RETURN(schema_version_,
                         ApplyMigrations(*this, migrations,
                                         {.create_history_table = kCreateHistoryTable,
                                          .execute_script = execute_script,
                                          .transaction = transaction}));
  return Status::OK();
}

// The password as written in the URL's user-info part ("postgresql://user:PASSWORD@").
// The user info ends at the last '@' before any '?': a password with an unencoded '@'
// or '/' (which libpq would misread) is still found whole, to be hidden.
std::string RawPassword(std::string_view url) {
  const size_t start = url.find("://");
  if (start == std::string_view::npos)
    return "";
  std::string_view rest = url.substr(start + 3);
  rest = rest.substr(0, rest.find('?'));
  const size_t at = rest.rfind('@');
  if (at == std::string_view::npos)
    return "";
  const std::string_view user_info = rest.substr(0, at);
  const size_t colon = user_info.find(':');
  return colon == std::string_view::npos ? "" : std::string(user_info.substr(colon + 1));
}

}  // namespace

bool IsPostgresUrl(std::string_view location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string RedactPostgresUrl(std::string_view url) {
  std::string out(url);
  const std::string raw = RawPassword(url);
  if (!raw.empty()) {
    const size_t at = out.find(":" + raw + "@");
    if (at != std::string::npos)
      out.replace(at + 1, raw.size(), "***");
  }
  // ...?user=basin&password=secret&...
  const size_t query = out.find('?');
  for (size_t at = query == std::string::npos ? query : out.find("password=", query);
       at != std::string::npos; at = out.find("password=", at + 1)) {
    const bool starts_parameter = out[at - 1] == '?' || out[at - 1] == '&';
    if (!starts_parameter)
      continue;
    const size_t value = at + std::string_view("password=").size();
    const size_t end = out.find('&', value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& url,
                                                       std::span<const Migration> migrations) {
  if (!IsPostgresUrl(url)) {
    return Status::InvalidArgument("metadata database URL must start with postgresql://: " +
                                   RedactPostgresUrl(url));
  }
  std::vector<std::string> secrets;
  if (std::string raw = RawPassword(url); !raw.empty())
    secrets.push_back(std::move(raw));
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string reason = error != nullptr ? OneLine(error) : "out of memory";
    PQfreemem(error);
    for (const std::string& secret : secrets)
      reason = ReplaceAll(std::move(reason), secret, "***");
    return Status::InvalidArgument("metadata database URL is invalid: " + reason + " (" +
                                   RedactPostgresUrl(url) + ")");
  }
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (std::string_view(option->keyword) == "password" && option->val != nullptr &&
        option->val[0] != '\0') {
      secrets.emplace_back(option->val);
    }
  }
  PQconninfoFree(options);
  auto db = std::make_unique<PostgresDatabase>(url, std::move(secrets));
  BASIN_RETURN_IF_ERROR(db->Migrate(migrations));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace basin::metadata

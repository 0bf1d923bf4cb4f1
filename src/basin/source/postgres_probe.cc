// PostgreSQL sources through libpq.
#include <memory>

#include <libpq-fe.h>

#include "basin/source/source_probe.h"

namespace basin::source {
namespace {

struct ConnectionCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Connection = std::unique_ptr<PGconn, ConnectionCloser>;
using QueryResult = std::unique_ptr<PGresult, ResultClearer>;

const char* SslMode(TlsMode mode) {
  switch (mode) {
    case TlsMode::kDisable:
      return "disable";
    case TlsMode::kPrefer:
      return "prefer";
    case TlsMode::kRequire:
      return "require";
    case TlsMode::kVerify:
      return "verify-full";
  }
  return "prefer";
}

bool Contains(const std::string& text, const char* part) {
  return text.find(part) != std::string::npos;
}

// libpq's message, kept (it names host and port), with the reason first and a code.
Status ConnectFailure(const SourceDefinition& definition, std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
    message.pop_back();
  for (char& c : message) {
    if (c == '\n')
      c = ' ';
  }
  const std::string where = "PostgreSQL source '" + definition.name + "' at " + definition.host +
                            ":" + std::to_string(definition.port == 0 ? 5432 : definition.port);
  if (Contains(message, "password authentication failed") ||
      Contains(message, "no password supplied") || Contains(message, "authentication failed"))
    return Status::Unauthenticated(where + ": wrong user or password (" + message + ")");
  if (Contains(message, "server does not support SSL"))
    return Status::FailedPrecondition(
        where + ": the server offers no TLS, and the source requires it (" + message + ")");
  if (Contains(message, "no pg_hba.conf entry") &&
      (Contains(message, "no encryption") || Contains(message, "SSL off")))
    return Status::FailedPrecondition(where + ": the server requires TLS (set tls: require) (" +
                                      message + ")");
  if (Contains(message, "permission denied for database") ||
      Contains(message, "no pg_hba.conf entry"))
    return Status::PermissionDenied(where + ": no privilege to connect (" + message + ")");
  if (Contains(message, "does not exist"))
    return Status::NotFound(where + ": " + message);
  return Status::Unavailable(where + ": unreachable (" + message + ")");
}

}  // namespace

Result<SourceProbe> ProbePostgres(const SourceDefinition& definition, const std::string& password) {
  const std::string port = std::to_string(definition.port == 0 ? 5432 : definition.port);
  const std::string timeout = std::to_string(definition.connect_timeout.count());
  const char* keywords[] = {"host",     "port",    "dbname",          "user",
                            "password", "sslmode", "connect_timeout", "application_name",
                            nullptr};
  const char* values[] = {definition.host.c_str(), port.c_str(),     definition.database.c_str(),
                          definition.user.c_str(), password.c_str(), SslMode(definition.tls),
                          timeout.c_str(),         "basin",          nullptr};
  Connection conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/0));
  if (!conn)
    return Status::Internal("libpq could not allocate a connection");
  if (PQstatus(conn.get()) != CONNECTION_OK)
    return ConnectFailure(definition, PQerrorMessage(conn.get()));
  SourceProbe probe;
  // "15.10 (Debian 15.10-0+deb12u1)": the version alone.
  const char* version = PQparameterStatus(conn.get(), "server_version");
  std::string server_version = version ? version : "?";
  probe.server = "PostgreSQL " + server_version.substr(0, server_version.find(' '));
  probe.tls = PQsslInUse(conn.get()) == 1;
  QueryResult result(
      PQexec(conn.get(),
             "SELECT n.nspname, c.relname, has_schema_privilege(n.oid, 'USAGE') AND "
             "has_table_privilege(c.oid, 'SELECT') "
             "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') "
             "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
             "AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' "
             "ORDER BY 1, 2"));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
    return Status::PermissionDenied("PostgreSQL source '" + definition.name +
                                    "': cannot list tables: " + PQresultErrorMessage(result.get()));
  }
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    if (std::string(PQgetvalue(result.get(), row, 2)) == "t") {
      probe.tables.push_back({PQgetvalue(result.get(), row, 0), PQgetvalue(result.get(), row, 1)});
    } else {
      ++probe.unreadable_tables;
    }
  }
  return probe;
}

}  // namespace basin::source

// MySQL and MariaDB sources through the MariaDB client library (Connector/C).
#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <memory>

#include "basin/source/source_probe.h"

namespace basin::source {
namespace {

struct Closer {
  void operator()(MYSQL* mysql) const { mysql_close(mysql); }
};
struct ResultFreer {
  void operator()(MYSQL_RES* result) const { mysql_free_result(result); }
};

Status ConnectFailure(const SourceDefinition& definition, MYSQL* mysql) {
  const unsigned int code = mysql_errno(mysql);
  const std::string message = mysql_error(mysql);
  const std::string where = "MariaDB source '" + definition.name + "' at " + definition.host + ":" +
                            std::to_string(definition.port == 0 ? 3306 : definition.port);
  switch (code) {
    case ER_ACCESS_DENIED_ERROR:
      return Status::Unauthenticated(
          where + ": wrong user or password, or the user must use TLS (" + message + ")");
    case ER_DBACCESS_DENIED_ERROR:
      return Status::PermissionDenied(where + ": no privilege on database '" + definition.database +
                                      "' (" + message + ")");
    case ER_BAD_DB_ERROR:
      return Status::NotFound(where + ": " + message);
    case CR_SSL_CONNECTION_ERROR:
      return Status::FailedPrecondition(where + ": TLS could not be set up (" + message + ")");
    default:
      break;
  }
  if (message.find("SSL") != std::string::npos || message.find("TLS") != std::string::npos)
    return Status::FailedPrecondition(where + ": TLS could not be set up (" + message + ")");
  return Status::Unavailable(where + ": unreachable (" + message + ")");
}

}  // namespace

Result<SourceProbe> ProbeMariaDb(const SourceDefinition& definition, const std::string& password) {
  std::unique_ptr<MYSQL, Closer> mysql(mysql_init(nullptr));
  if (!mysql)
    return Status::Internal("the MariaDB client library could not allocate a connection");
  unsigned int timeout = static_cast<unsigned int>(definition.connect_timeout.count());
  mysql_options(mysql.get(), MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(mysql.get(), MYSQL_OPT_READ_TIMEOUT, &timeout);
  mysql_options(mysql.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");
  my_bool enforce = definition.tls == TlsMode::kRequire || definition.tls == TlsMode::kVerify;
  my_bool verify = definition.tls == TlsMode::kVerify;
  if (definition.tls != TlsMode::kDisable) {
    // kPrefer: TLS when the server offers it (an unverified certificate, as libpq's prefer).
    mysql_ssl_set(mysql.get(), nullptr, nullptr, nullptr, nullptr, nullptr);
    mysql_optionsv(mysql.get(), MYSQL_OPT_SSL_ENFORCE, &enforce);
    mysql_optionsv(mysql.get(), MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
  }
  const unsigned int port =
      static_cast<unsigned int>(definition.port == 0 ? 3306 : definition.port);
  if (mysql_real_connect(mysql.get(), definition.host.c_str(), definition.user.c_str(),
                         password.c_str(), definition.database.c_str(), port, nullptr,
                         0) == nullptr) {
    return ConnectFailure(definition, mysql.get());
  }
  // Connector/C 3.3 goes on without TLS when the server offers none, even when enforced:
  // refuse the connection here (the handshake sent a scrambled password, not the password).
  if (enforce && mysql_get_ssl_cipher(mysql.get()) == nullptr) {
    return Status::FailedPrecondition("MariaDB source '" + definition.name + "' at " +
                                      definition.host + ":" + std::to_string(port) +
                                      ": the server offers no TLS, and the source requires it");
  }
  SourceProbe probe;
  probe.server = std::string("MariaDB ") + mysql_get_server_info(mysql.get());
  if (probe.server.find("MariaDB", 8) == std::string::npos)
    probe.server = std::string("MySQL ") + mysql_get_server_info(mysql.get());
  probe.tls = mysql_get_ssl_cipher(mysql.get()) != nullptr;
  // information_schema lists only the tables the user has some privilege on.
  const char* sql =
      "SELECT table_schema, table_name FROM information_schema.tables "
      "WHERE table_schema = DATABASE() ORDER BY table_name";
  if (mysql_query(mysql.get(), sql) != 0) {
    return Status::PermissionDenied("MariaDB source '" + definition.name +
                                    "': cannot list tables: " + mysql_error(mysql.get()));
  }
  std::unique_ptr<MYSQL_RES, ResultFreer> result(mysql_store_result(mysql.get()));
  if (!result)
    return Status::Unavailable("MariaDB source '" + definition.name +
                               "': " + mysql_error(mysql.get()));
  while (MYSQL_ROW row = mysql_fetch_row(result.get()))
    probe.tables.push_back({row[0] ? row[0] : "", row[1] ? row[1] : ""});
  return probe;
}

}  // namespace basin::source

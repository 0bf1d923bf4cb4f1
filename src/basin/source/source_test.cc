#include <mysql.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#include <gtest/gtest.h>

#include "basin/metadata/database.h"
#include "basin/metadata/scratch_database.h"
#include "basin/source/source_probe.h"
#include "basin/source/source_store.h"

namespace basin::source {
namespace {

std::string RandomSuffix() {
  std::random_device device;
  return std::to_string(device() % 1000000000u);
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

class SourceStoreTest : public ::testing::TestWithParam<metadata::Backend> {
 protected:
  void SetUp() override {
    Result<metadata::ScratchDatabase> scratch = metadata::ScratchDatabase::Make(GetParam());
    ASSERT_TRUE(scratch.ok()) << scratch.status().ToString();
    scratch_.emplace(std::move(scratch).value());
    Result<std::unique_ptr<metadata::Database>> opened =
        metadata::Database::Open(scratch_->location());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    database_ = std::move(opened).value();
  }
  SourceDefinition Shop() {
    return {.name = "shop",
            .kind = SourceKind::kPostgres,
            .host = "db.internal",
            .database = "shop",
            .user = "reader"};
  }
  std::optional<metadata::ScratchDatabase> scratch_;
  std::unique_ptr<metadata::Database> database_;
  const std::string key_ = std::string(32, 'k');
};

INSTANTIATE_TEST_SUITE_P(Engines, SourceStoreTest,
                         ::testing::Values(metadata::Backend::kSqlite,
                                           metadata::Backend::kPostgres),
                         [](const auto& info) {
                           return std::string(metadata::BackendName(info.param));
                         });

TEST_P(SourceStoreTest, APasswordIsKeptOnlySealedAndNeverShown) {
  SourceStore store(*database_, key_);
  Result<StoredSource> created = store.Create(Shop(), std::string("s3cret-Pw"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(created->has_password);
  Result<std::vector<metadata::Row>> rows = database_->Query("SELECT sealed_password FROM sources");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  std::string sealed = *(*rows)[0].Text(0);
  EXPECT_EQ(sealed.find("s3cret"), std::string::npos) << sealed;
  EXPECT_EQ(ToJson(*created).dump().find("s3cret"), std::string::npos);
  EXPECT_FALSE(ToJson(*created).contains("password"));
  EXPECT_EQ(*store.Password("SHOP", {}), "s3cret-Pw");
  // Another home's master key cannot open it; the source says what to do.
  SourceStore other(*database_, std::string(32, 'x'));
  Result<std::string> opened = other.Password("shop", {});
  EXPECT_EQ(opened.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(opened.status().message().find("master key"), std::string::npos);
}

TEST_P(SourceStoreTest, APasswordFromTheEnvironmentIsReadWhenNeeded) {
  SourceStore store(*database_, key_);
  SourceDefinition shop = Shop();
  shop.password_env = "SHOP_DB_PASSWORD";
  ASSERT_TRUE(store.Create(shop, std::nullopt).ok());
  EXPECT_FALSE(store.Get("shop")->has_password);
  EXPECT_EQ(*store.Password("shop", {{"SHOP_DB_PASSWORD", "from-env"}}), "from-env");
  Result<std::string> missing = store.Password("shop", {});
  EXPECT_EQ(missing.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("SHOP_DB_PASSWORD"), std::string::npos);
  shop.name = "both";
  EXPECT_EQ(store.Create(shop, std::string("pw")).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(SourceStoreTest, NamesAreUniqueListedAndDeleted) {
  SourceStore store(*database_, key_);
  ASSERT_TRUE(store.Create(Shop(), std::nullopt).ok());
  SourceDefinition upper = Shop();
  upper.name = "Shop";
  EXPECT_EQ(store.Create(upper, std::nullopt).status().code(), StatusCode::kAlreadyExists);
  SourceDefinition file{.name = "app", .kind = SourceKind::kSqlite, .database = "/data/app.db"};
  ASSERT_TRUE(store.Create(file, std::nullopt).ok());
  Result<std::vector<StoredSource>> list = store.List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].definition.name, "app");
  EXPECT_EQ(ToJson((*list)[0])["path"], "/data/app.db");
  EXPECT_EQ((*list)[1].definition.host, "db.internal");
  ASSERT_TRUE(store.Delete("shop").ok());
  EXPECT_EQ(store.Delete("shop").code(), StatusCode::kNotFound);
  EXPECT_EQ(store.Get("shop").status().code(), StatusCode::kNotFound);
}

TEST(SourceDefinitionTest, JsonIsCheckedFieldByField) {
  std::optional<std::string> password;
  Result<SourceDefinition> parsed = SourceFromJson({{"name", "shop"},
                                                    {"kind", "mysql"},
                                                    {"host", "h"},
                                                    {"user", "u"},
                                                    {"database", "d"},
                                                    {"password", "pw"},
                                                    {"tls", "require"}},
                                                   &password);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->kind, SourceKind::kMariaDb);
  EXPECT_EQ(parsed->tls, TlsMode::kRequire);
  EXPECT_EQ(password, "pw");
  auto error = [&](nlohmann::json json) {
    return SourceFromJson(json, &password).status().message();
  };
  EXPECT_NE(error({{"name", "shop"}, {"kind", "oracle"}}).find("oracle"), std::string::npos);
  EXPECT_NE(error({{"name", "shop"}, {"kind", "postgres"}, {"hots", "h"}}).find("'hots'"),
            std::string::npos);
  EXPECT_NE(error({{"name", "shop"}, {"kind", "postgres"}, {"user", "u"}, {"database", "d"}})
                .find("host"),
            std::string::npos);
  EXPECT_NE(error({{"name", "a/b"}, {"kind", "sqlite"}, {"path", "x"}}).find("source name"),
            std::string::npos);
  EXPECT_NE(error({{"name", "a"}, {"kind", "sqlite"}}).find("path"), std::string::npos);
}

// --- Probes against the real servers of scripts/with-test-servers.sh ---------------------

struct PostgresServer {
  std::string user, password, host, port, database;
};

std::optional<PostgresServer> TestPostgres() {
  std::smatch match;
  std::string url = Env(metadata::kTestPostgresUrlVariable);
  static const std::regex pattern(R"(postgresql://([^:]+):([^@]+)@([^:]+):(\d+)/(\w+))");
  if (!std::regex_match(url, match, pattern))
    return std::nullopt;
  return PostgresServer{match[1], match[2], match[3], match[4], match[5]};
}

TEST(SourceProbeTest, PostgresSaysWhatItCanSeeOrWhyNot) {
  std::optional<PostgresServer> server = TestPostgres();
  ASSERT_TRUE(server) << "run under scripts/with-test-servers.sh";
  Result<metadata::ScratchDatabase> scratch =
      metadata::ScratchDatabase::Make(metadata::Backend::kPostgres);
  ASSERT_TRUE(scratch.ok());
  std::unique_ptr<metadata::Database> admin = metadata::Database::Open(scratch->location()).value();
  ASSERT_TRUE(admin->Execute("CREATE TABLE shop_orders (id BIGINT PRIMARY KEY)").ok());
  SourceDefinition definition{.name = "shop",
                              .kind = SourceKind::kPostgres,
                              .host = server->host,
                              .port = std::stoi(server->port),
                              .database = server->database,
                              .user = server->user,
                              .tls = TlsMode::kPrefer};
  Result<SourceProbe> probe = ProbeSource(definition, server->password);
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  EXPECT_NE(probe->server.find("PostgreSQL 15"), std::string::npos) << probe->server;
  EXPECT_FALSE(probe->tls);  // the test server has no certificate
  EXPECT_TRUE(std::any_of(probe->tables.begin(), probe->tables.end(),
                          [](const SourceTable& table) { return table.name == "shop_orders"; }));
  EXPECT_NE(probe->Summary(definition).find("as " + server->user + " (no TLS)"), std::string::npos);

  Result<SourceProbe> wrong = ProbeSource(definition, "not-the-password");
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated) << wrong.status().ToString();
  EXPECT_NE(wrong.status().message().find("wrong user or password"), std::string::npos);
  EXPECT_EQ(wrong.status().message().find("not-the-password"), std::string::npos);

  SourceDefinition tls = definition;
  tls.tls = TlsMode::kRequire;
  EXPECT_EQ(ProbeSource(tls, server->password).status().code(), StatusCode::kFailedPrecondition);

  SourceDefinition nowhere = definition;
  nowhere.port = 1;  // nothing listens there
  nowhere.connect_timeout = std::chrono::seconds(2);
  EXPECT_EQ(ProbeSource(nowhere, server->password).status().code(), StatusCode::kUnavailable);

  SourceDefinition missing = definition;
  missing.database = "no_such_database";
  EXPECT_EQ(ProbeSource(missing, server->password).status().code(), StatusCode::kNotFound);

  // A user who may connect but not read the tables: they are counted, not listed.
  const std::string role = "probe_" + RandomSuffix();
  ASSERT_TRUE(admin->Execute("CREATE ROLE " + role + " LOGIN PASSWORD 'role-pw'").ok());
  SourceDefinition limited = definition;
  limited.user = role;
  Result<SourceProbe> seen = ProbeSource(limited, "role-pw");
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_GE(seen->unreadable_tables, 1);
  EXPECT_TRUE(std::none_of(seen->tables.begin(), seen->tables.end(),
                           [](const SourceTable& table) { return table.name == "shop_orders"; }));
  EXPECT_NE(seen->Summary(limited).find("cannot read"), std::string::npos);
  ASSERT_TRUE(admin->Execute("DROP ROLE " + role).ok());
}

// Runs SQL as the test server's administrator user.
void MariaDbAdmin(const std::vector<std::string>& statements) {
  MYSQL* mysql = mysql_init(nullptr);
  ASSERT_NE(mysql_real_connect(mysql, Env("BASIN_TEST_MARIADB_HOST").c_str(),
                               Env("BASIN_TEST_MARIADB_USER").c_str(),
                               Env("BASIN_TEST_MARIADB_PASSWORD").c_str(),
                               Env("BASIN_TEST_MARIADB_DATABASE").c_str(),
                               std::stoi(Env("BASIN_TEST_MARIADB_PORT")), nullptr, 0),
            nullptr)
      << mysql_error(mysql);
  for (const std::string& statement : statements)
    EXPECT_EQ(mysql_query(mysql, statement.c_str()), 0) << statement << ": " << mysql_error(mysql);
  mysql_close(mysql);
}

TEST(SourceProbeTest, MariaDbSaysWhatItCanSeeOrWhyNot) {
  ASSERT_FALSE(Env("BASIN_TEST_MARIADB_PORT").empty()) << "run under scripts/with-test-servers.sh";
  const std::string table = "orders_" + RandomSuffix();
  const std::string user = "probe_" + RandomSuffix();
  MariaDbAdmin({"CREATE TABLE " + table + " (id BIGINT PRIMARY KEY)",
                "CREATE USER '" + user + "'@'127.0.0.1' IDENTIFIED BY 'user-pw'"});
  SourceDefinition definition{.name = "shop",
                              .kind = SourceKind::kMariaDb,
                              .host = Env("BASIN_TEST_MARIADB_HOST"),
                              .port = std::stoi(Env("BASIN_TEST_MARIADB_PORT")),
                              .database = Env("BASIN_TEST_MARIADB_DATABASE"),
                              .user = Env("BASIN_TEST_MARIADB_USER"),
                              .tls = TlsMode::kDisable};
  Result<SourceProbe> probe = ProbeSource(definition, Env("BASIN_TEST_MARIADB_PASSWORD"));
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  EXPECT_NE(probe->server.find("MariaDB 10.11"), std::string::npos) << probe->server;
  EXPECT_TRUE(std::any_of(probe->tables.begin(), probe->tables.end(),
                          [&](const SourceTable& found) { return found.name == table; }));

  SourceDefinition prefer = definition;  // the default: TLS when offered, and it is not
  prefer.tls = TlsMode::kPrefer;
  Result<SourceProbe> plain = ProbeSource(prefer, Env("BASIN_TEST_MARIADB_PASSWORD"));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE(plain->tls);
  SourceDefinition tls = definition;
  tls.tls = TlsMode::kRequire;
  EXPECT_EQ(ProbeSource(tls, Env("BASIN_TEST_MARIADB_PASSWORD")).status().code(),
            StatusCode::kFailedPrecondition);

  Result<SourceProbe> wrong = ProbeSource(definition, "not-the-password");
  EXPECT_EQ(wrong.status().code(), StatusCode::kUnauthenticated) << wrong.status().ToString();
  EXPECT_EQ(wrong.status().message().find("not-the-password"), std::string::npos);

  SourceDefinition nowhere = definition;
  nowhere.port = 1;
  nowhere.connect_timeout = std::chrono::seconds(2);
  EXPECT_EQ(ProbeSource(nowhere, "x").status().code(), StatusCode::kUnavailable);

  SourceDefinition limited = definition;  // may log in, but has no privilege on the database
  limited.user = user;
  Result<SourceProbe> denied = ProbeSource(limited, "user-pw");
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied) << denied.status().ToString();
  MariaDbAdmin({"DROP TABLE " + table, "DROP USER '" + user + "'@'127.0.0.1'"});
}

TEST(SourceProbeTest, SqliteSaysWhatItCanSeeOrWhyNot) {
  std::filesystem::path folder =
      std::filesystem::temp_directory_path() / ("basin-source-" + RandomSuffix());
  std::filesystem::create_directories(folder);
  std::string path = (folder / "app.db").string();
  {
    std::unique_ptr<metadata::Database> db = metadata::Database::Open(path).value();
    ASSERT_TRUE(db->Execute("CREATE TABLE shops (id INTEGER PRIMARY KEY, name TEXT)").ok());
  }
  SourceDefinition definition{.name = "app", .kind = SourceKind::kSqlite, .database = path};
  Result<SourceProbe> probe = ProbeSource(definition, "");
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  EXPECT_TRUE(std::any_of(probe->tables.begin(), probe->tables.end(),
                          [](const SourceTable& table) { return table.name == "shops"; }));
  definition.database = (folder / "missing.db").string();
  EXPECT_EQ(ProbeSource(definition, "").status().code(), StatusCode::kNotFound);
  definition.database = (folder / "notes.txt").string();
  std::ofstream(definition.database) << "these are not the tables you are looking for\n";
  EXPECT_EQ(ProbeSource(definition, "").status().code(), StatusCode::kFailedPrecondition);
  std::filesystem::remove_all(folder);
}

}  // namespace
}  // namespace basin::source

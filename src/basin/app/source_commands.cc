// basin source ...: the service databases snapshots copy. A password is never an argument
// (argv shows in `ps` and shell history): it comes from stdin (--password-stdin) and is
// sealed in the home, or the source names an environment variable that holds it.
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "basin/app/cli.h"
#include "basin/source/source_probe.h"

namespace basin::app {
namespace {

struct CreateFlags {
  std::string name, kind, host, database, path, user, password_env, tls = "prefer";
  int port = 0;
  int connect_timeout_seconds = 10;
  bool password_stdin = false;
};

Result<source::SourceStore*> OpenSources(const GlobalFlags& flags, std::unique_ptr<Home>& home) {
  return OpenHomeService(flags, home, &Home::Sources);
}

int RunCreate(const GlobalFlags& flags, const CreateFlags& input) {
  source::SourceDefinition definition{
      .name = input.name,
      .host = input.host,
      .port = input.port,
      .database = input.path.empty() ? input.database : input.path,
      .user = input.user,
      .password_env = input.password_env,
      .connect_timeout = std::chrono::seconds(input.connect_timeout_seconds)};
  Result<source::SourceKind> kind = source::ParseSourceKind(input.kind);
  if (!kind.ok())
    return ReportError(kind.status());
  definition.kind = *kind;
  Result<source::TlsMode> tls = source::ParseTlsMode(input.tls);
  if (!tls.ok())
    return ReportError(tls.status());
  definition.tls = *tls;
  std::optional<std::string> password;
  if (input.password_stdin) {
    std::string line;
    std::getline(std::cin, line);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    password = line;
  }
  std::unique_ptr<Home> home;
  Result<source::SourceStore*> store = OpenSources(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  Result<source::StoredSource> created = (*store)->Create(definition, password);
  if (!created.ok())
    return ReportError(created.status());
  if (flags.json) {
    PrintJson(source::ToJson(*created));
  } else {
    std::cout << "created source " << created->definition.name
              << "; check it with: basin source test " << created->definition.name << std::endl;
  }
  return kExitOk;
}

int RunList(const GlobalFlags& flags) {
  std::unique_ptr<Home> home;
  Result<source::SourceStore*> store = OpenSources(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  Result<std::vector<source::StoredSource>> sources = (*store)->List();
  if (!sources.ok())
    return ReportError(sources.status());
  if (flags.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const source::StoredSource& stored : *sources)
      list.push_back(source::ToJson(stored));
    PrintJson(list);
    return kExitOk;
  }
  for (const source::StoredSource& stored : *sources) {
    const source::SourceDefinition& definition = stored.definition;
    std::string where = definition.kind == source::SourceKind::kSqlite
                            ? definition.database
                            : definition.user + "@" + definition.host + ":" +
                                  std::to_string(definition.port) + "/" + definition.database;
    std::printf("%-24s %-9s %s\n", definition.name.c_str(),
                std::string(source::SourceKindName(definition.kind)).c_str(), where.c_str());
  }
  return kExitOk;
}

int RunShow(const GlobalFlags& flags, const std::string& name) {
  std::unique_ptr<Home> home;
  Result<source::SourceStore*> store = OpenSources(flags, home);
  Result<source::StoredSource> stored = store.ok() ? (*store)->Get(name) : store.status();
  if (!stored.ok())
    return ReportError(stored.status());
  nlohmann::json json = source::ToJson(*stored);
  if (flags.json) {
    PrintJson(json);
    return kExitOk;
  }
  for (const auto& [key, value] : json.items())
    std::cout << key << ": " << (value.is_string() ? value.get<std::string>() : value.dump())
              << "\n";
  return kExitOk;
}

// One line either way: "ok: <what it sees>" (exit 0) or "basin: <why not>" (exit 1).
int RunTest(const GlobalFlags& flags, const std::string& name) {
  std::unique_ptr<Home> home;
  Result<source::SourceStore*> store = OpenSources(flags, home);
  Result<source::TestedSource> tested =
      store.ok() ? source::TestSource(**store, name) : store.status();
  if (!tested.ok())
    return ReportError(tested.status());
  const source::SourceDefinition& definition = tested->source.definition;
  if (flags.json) {
    PrintJson(source::ProbeToJson(definition, tested->probe));
    return tested->probe.ok() ? kExitOk : kExitFailure;
  }
  if (!tested->probe.ok())
    return ReportError(tested->probe.status());
  std::cout << "ok: " << tested->probe->Summary(definition) << std::endl;
  return kExitOk;
}

}  // namespace

void AddSourceCommands(CLI::App& app, GlobalFlags& flags, int& exit_code) {
  static CreateFlags create_flags;
  static std::string name;
  CLI::App* source = app.add_subcommand(
      "source",
      "Sources: the service databases (PostgreSQL, MariaDB/MySQL, SQLite) snapshots copy");
  source->require_subcommand(1);
  CLI::App* create = source->add_subcommand("create", "Define a source");
  create->add_option("name", create_flags.name, "Source name")->required();
  create->add_option("--kind", create_flags.kind, "postgres, mariadb (or mysql) or sqlite")
      ->required();
  create->add_option("--host", create_flags.host, "Server host (postgres, mariadb)");
  create->add_option("--port", create_flags.port, "Server port (default 5432 or 3306)");
  create->add_option("--database", create_flags.database, "Database on the server");
  create->add_option("--path", create_flags.path, "The database file (sqlite)");
  create->add_option("--user", create_flags.user, "User to connect as");
  create->add_flag("--password-stdin", create_flags.password_stdin,
                   "Read the password from the first line of stdin; it is stored sealed");
  create->add_option("--password-env", create_flags.password_env,
                     "Read the password from this environment variable when connecting");
  create->add_option("--tls", create_flags.tls, "disable, prefer (default), require or verify");
  create->add_option("--connect-timeout", create_flags.connect_timeout_seconds,
                     "Seconds to wait for the server (default 10)");
  create->callback([&] { exit_code = RunCreate(flags, create_flags); });

  source->add_subcommand("list", "List sources")->callback([&] { exit_code = RunList(flags); });
  CLI::App* show = source->add_subcommand("show", "Show a source (never its password)");
  show->add_option("name", name, "Source name")->required();
  show->callback([&] { exit_code = RunShow(flags, name); });
  CLI::App* test = source->add_subcommand(
      "test", "Connect and say what the source's user can read, or why it cannot connect");
  test->add_option("name", name, "Source name")->required();
  test->callback([&] { exit_code = RunTest(flags, name); });
  CLI::App* remove = source->add_subcommand("delete", "Delete a source");
  remove->add_option("name", name, "Source name")->required();
  remove->callback([&] {
    std::unique_ptr<Home> home;
    Result<source::SourceStore*> store = OpenSources(flags, home);
    exit_code = store.ok() ? ReportDeleted(flags, (*store)->Delete(name), "source", name)
                           : ReportError(store.status());
  });
}

}  // namespace basin::app

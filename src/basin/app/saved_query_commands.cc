// basin saved-query ...: named queries kept in the metadata database. The command line acts
// with the home's full authority (it opens the database itself), so it checks no owner;
// queries it saves are owned by "local", like the queries it runs.
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "basin/app/cli.h"
#include "basin/common/time_format.h"
#include "basin/query/query_json.h"

namespace basin::app {
namespace {

constexpr char kCommandLineOwner[] = "local";

struct SaveFlags {
  std::string name, sql, file, description, database;
  bool replace = false;
};

Result<query::SavedQueryStore> OpenStore(const GlobalFlags& flags, std::unique_ptr<Home>& home) {
  return OpenMetadataStore<query::SavedQueryStore>(flags, home);
}

// The SQL of --sql, or of the file -f names ('-': stdin).
Result<std::string> SqlOf(const SaveFlags& input) {
  if (input.file.empty())
    return input.sql;
  std::stringstream text;
  if (input.file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(input.file);
    if (!in)
      return Status::NotFound("cannot read SQL file " + input.file);
    text << in.rdbuf();
  }
  return text.str();
}

int RunSave(const GlobalFlags& flags, const SaveFlags& input) {
  Result<std::string> sql = SqlOf(input);
  if (!sql.ok())
    return ReportError(sql.status());
  std::unique_ptr<Home> home;
  Result<query::SavedQueryStore> store = OpenStore(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  Result<query::SavedQuery> saved = store->Create({.name = input.name,
                                                   .description = input.description,
                                                   .sql = *sql,
                                                   .database = input.database,
                                                   .owner = kCommandLineOwner});
  bool replaced = false;
  if (!saved.ok() && saved.status().code() == StatusCode::kAlreadyExists && input.replace) {
    saved = store->Update(
        input.name, {.description = input.description, .sql = *sql, .database = input.database});
    replaced = true;
  }
  if (!saved.ok())
    return ReportError(saved.status());
  if (flags.json) {
    PrintJson(query::ToJson(*saved));
  } else {
    std::cout << (replaced ? "replaced" : "saved") << " query " << saved->name << std::endl;
  }
  return kExitOk;
}

int RunList(const GlobalFlags& flags, const std::string& search) {
  std::unique_ptr<Home> home;
  Result<query::SavedQueryStore> store = OpenStore(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  auto queries = store->List(search);
  if (!queries.ok())
    return ReportError(queries.status());
  if (flags.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& saved : *queries)
      list.push_back(query::ToJson(saved));
    PrintJson(list);
    return kExitOk;
  }
  for (const auto& saved : *queries) {
    std::printf("%-32s %-12s %-16s %s  %s\n", saved.name.c_str(), saved.owner.c_str(),
                saved.database.empty() ? "-" : saved.database.c_str(),
                FormatIso8601(saved.updated_at).c_str(), saved.description.c_str());
  }
  return kExitOk;
}

int RunShow(const GlobalFlags& flags, const std::string& name) {
  std::unique_ptr<Home> home;
  Result<query::SavedQueryStore> store = OpenStore(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  Result<query::SavedQuery> saved = store->Get(name);
  if (!saved.ok())
    return ReportError(saved.status());
  if (flags.json) {
    PrintJson(query::ToJson(*saved));
    return kExitOk;
  }
  std::cout << "name:        " << saved->name << "\n"
            << "description: " << saved->description << "\n"
            << "database:    " << (saved->database.empty() ? "-" : saved->database) << "\n"
            << "owner:       " << saved->owner << "\n"
            << "created:     " << FormatIso8601(saved->created_at) << "\n"
            << "updated:     " << FormatIso8601(saved->updated_at) << "\n\n"
            << saved->sql << (saved->sql.ends_with('\n') ? "" : "\n");
  return kExitOk;
}

int RunDelete(const GlobalFlags& flags, const std::string& name) {
  std::unique_ptr<Home> home;
  Result<query::SavedQueryStore> store = OpenStore(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  return ReportDeleted(flags, store->Delete(name), "saved query", name);
}

}  // namespace

void AddSavedQueryCommands(CLI::App& app, GlobalFlags& flags, int& exit_code) {
  static SaveFlags save_flags;
  static std::string name, search;
  CLI::App* saved = app.add_subcommand("saved-query", "Saved named queries, shared by every user");
  saved->require_subcommand(1);

  CLI::App* save = saved->add_subcommand("save", "Save a query under a name");
  save->add_option("name", save_flags.name, "Name: letters, digits, '_', '-', '.'")->required();
  CLI::Option_group* source = save->add_option_group("source", "Where the SQL comes from");
  source->add_option("--sql", save_flags.sql, "The SQL");
  source->add_option("-f,--file", save_flags.file, "Read the SQL from a file ('-': stdin)");
  source->require_option(1);
  save->add_option("--description", save_flags.description, "What it answers");
  save->add_option("--database", save_flags.database, "Database for unqualified table names");
  save->add_flag("--replace", save_flags.replace,
                 "Replace the SQL, description and database of an existing query of this name");
  save->callback([&] { exit_code = RunSave(flags, save_flags); });

  CLI::App* list = saved->add_subcommand("list", "List saved queries by name");
  list->add_option("--search", search, "Only those whose name, description or SQL contains this");
  list->callback([&] { exit_code = RunList(flags, search); });

  CLI::App* show = saved->add_subcommand("show", "Show a saved query and its SQL");
  show->add_option("name", name, "Name")->required();
  show->callback([&] { exit_code = RunShow(flags, name); });

  CLI::App* remove = saved->add_subcommand("delete", "Delete a saved query");
  remove->add_option("name", name, "Name")->required();
  remove->callback([&] { exit_code = RunDelete(flags, name); });
}

}  // namespace basin::app

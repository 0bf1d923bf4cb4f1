// basin crawler ... and basin catalog ...: crawl the lake and look at the catalog.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "basin/app/cli.h"
#include "basin/catalog/catalog_json.h"
#include "basin/common/time_format.h"
#include "basin/service/crawl_service.h"

namespace basin::app {
namespace {

Result<std::pair<std::string, std::string>> SplitTableName(const std::string& qualified) {
  size_t dot = qualified.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == qualified.size()) {
    return Status::InvalidArgument("table must be DATABASE.TABLE, got '" + qualified + "'");
  }
  return std::make_pair(qualified.substr(0, dot), qualified.substr(dot + 1));
}

// The home, its catalog and the table that DB.TABLE names (commands that show or change one).
struct CatalogTable {
  std::unique_ptr<Home> home;
  catalog::Catalog* catalog = nullptr;
  catalog::Table table;
};

Result<CatalogTable> OpenCatalogTable(const GlobalFlags& flags, const std::string& qualified) {
  BASIN_ASSIGN_OR_RETURN(auto name, SplitTableName(qualified));
  CatalogTable opened;
  BASIN_ASSIGN_OR_RETURN(opened.catalog, OpenHomeService(flags, opened.home, &Home::Catalog));
  BASIN_ASSIGN_OR_RETURN(opened.table, opened.catalog->GetTable(name.first, name.second));
  return opened;
}

struct CrawlerFlags {
  std::string name, database, table_prefix;
  std::vector<std::string> targets, excludes;
  std::string grouping = "auto", schema_change = "update", deletion = "deprecate",
              recrawl = "changed-objects";
};

int RunCrawlerCreate(const GlobalFlags& flags, const CrawlerFlags& input) {
  nlohmann::json definition = {{"name", input.name},
                               {"targets", input.targets},
                               {"database", input.database},
                               {"exclude", input.excludes},
                               {"table_prefix", input.table_prefix},
                               {"grouping", input.grouping},
                               {"schema_change", input.schema_change},
                               {"deletion", input.deletion},
                               {"recrawl", input.recrawl}};
  Result<crawler::CrawlerDefinition> parsed = crawler::CrawlerFromJson(definition);
  if (!parsed.ok())
    return ReportError(parsed.status());
  std::unique_ptr<Home> home;
  Result<crawler::CrawlerStore> store = OpenMetadataStore<crawler::CrawlerStore>(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  if (Status created = store->Create(*parsed); !created.ok())
    return ReportError(created);
  if (flags.json) {
    PrintJson(crawler::ToJson(*parsed));
  } else {
    std::cout << "created crawler " << parsed->name << "; run it with: basin crawler run "
              << parsed->name << std::endl;
  }
  return kExitOk;
}

int RunCrawlerRun(const GlobalFlags& flags, const std::string& name) {
  std::unique_ptr<Home> home;
  Result<crawler::Crawler*> crawler = OpenHomeService(flags, home, &Home::Crawler);
  if (!crawler.ok())
    return ReportError(crawler.status());
  InstallInterruptFlag();
  bool tty = ::isatty(STDERR_FILENO);
  auto last = std::chrono::steady_clock::now();
  crawler::CrawlOptions options;
  options.cancel = &interrupted;
  options.on_progress = [&](const crawler::CrawlProgress& progress) {
    auto now = std::chrono::steady_clock::now();
    if (!tty || now - last < std::chrono::milliseconds(100))
      return;
    last = now;
    std::fprintf(stderr, "\rcrawling %s: %lld listed, %lld/%lld read  ", name.c_str(),
                 static_cast<long long>(progress.listed), static_cast<long long>(progress.read),
                 static_cast<long long>(progress.to_read));
    std::fflush(stderr);
  };
  service::CrawlService crawls(**crawler);  // as the server and the scheduler run crawls
  Result<crawler::RunReport> report = crawls.Run(name, options);
  if (tty)
    std::fprintf(stderr, "\r%*s\r", 60, "");
  if (!report.ok())
    return ReportError(report.status());
  if (flags.json) {
    PrintJson(report->ToJson());
  } else {
    std::cout << report->ToText();
  }
  if (report->status == "cancelled")
    return ReportError(Status::Cancelled("crawl cancelled; the catalog was not changed"));
  if (report->status != "completed")
    return kExitFailure;
  return kExitOk;
}

int RunCrawlerList(const GlobalFlags& flags) {
  std::unique_ptr<Home> home;
  Result<crawler::CrawlerStore> store = OpenMetadataStore<crawler::CrawlerStore>(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  Result<std::vector<crawler::CrawlerDefinition>> list = store->List();
  if (!list.ok())
    return ReportError(list.status());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& definition : *list)
    out.push_back(crawler::ToJson(definition));
  if (flags.json) {
    PrintJson(out);
  } else {
    for (const auto& definition : *list) {
      std::string targets;
      for (const std::string& target : definition.targets)
        targets += (targets.empty() ? "" : " ") + target;
      std::printf("%-24s -> %-16s %s\n", definition.name.c_str(), definition.database.c_str(),
                  targets.c_str());
    }
  }
  return kExitOk;
}

int RunCrawlerShow(const GlobalFlags& flags, const std::string& name) {
  std::unique_ptr<Home> home;
  Result<crawler::CrawlerStore> store = OpenMetadataStore<crawler::CrawlerStore>(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  Result<crawler::CrawlerDefinition> definition = store->Get(name);
  if (!definition.ok())
    return ReportError(definition.status());
  Result<std::vector<nlohmann::json>> runs = store->ListRuns(name, 5);
  if (!runs.ok())
    return ReportError(runs.status());
  nlohmann::json out = crawler::ToJson(*definition);
  out["recent_runs"] = *runs;
  if (flags.json) {
    PrintJson(out);
    return kExitOk;
  }
  std::cout << out.dump(2) << std::endl;
  return kExitOk;
}

int RunCrawlerDelete(const GlobalFlags& flags, const std::string& name) {
  std::unique_ptr<Home> home;
  Result<crawler::CrawlerStore> store = OpenMetadataStore<crawler::CrawlerStore>(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  if (Status deleted = store->Delete(name); !deleted.ok())
    return ReportError(deleted);
  std::cerr << "deleted crawler " << name << " (its tables stay in the catalog)" << std::endl;
  return kExitOk;
}

std::string ColumnList(const std::vector<catalog::Column>& columns) {
  std::string out;
  for (const catalog::Column& column : columns)
    out += "    " + column.name + "  " + column.type + "\n";
  return out;
}

int RunDescribe(const GlobalFlags& flags, const std::string& qualified) {
  Result<CatalogTable> opened = OpenCatalogTable(flags, qualified);
  if (!opened.ok())
    return ReportError(opened.status());
  catalog::Catalog* catalog = opened->catalog;
  const catalog::Table* table = &opened->table;
  Result<int64_t> partition_count = catalog->CountPartitions(table->id);
  Result<std::vector<catalog::Partition>> sample = catalog->ListPartitions(table->id, {.limit = 5});
  Result<std::vector<catalog::SchemaVersion>> history = catalog->SchemaHistory(table->id);
  for (const Status& status : {partition_count.status(), sample.status(), history.status()}) {
    if (!status.ok())
      return ReportError(status);
  }
  if (flags.json) {
    nlohmann::json out = catalog::ToJson(*table);
    out["partition_count"] = *partition_count;
    out["partitions_sample"] = nlohmann::json::array();
    for (const auto& partition : *sample)
      out["partitions_sample"].push_back(catalog::ToJson(partition));
    out["schema_history"] = nlohmann::json::array();
    for (const auto& version : *history)
      out["schema_history"].push_back(catalog::ToJson(version));
    PrintJson(out);
    return kExitOk;
  }
  std::string text = table->database + "." + table->name + "  (" +
                     std::string(catalog::TableStatusName(table->status)) + ", schema version " +
                     std::to_string(table->schema_version) + ")\n";
  text += "  location:   " + table->location +
          "\n  format:     " + std::string(catalog::TableFormatName(table->format));
  for (const auto& [key, value] : table->format_options)
    text += "  " + key + "=" + value;
  text += "\n  created by: " + table->created_by + " at " + FormatIso8601(table->created_at) + "\n";
  text += "  statistics: " + std::to_string(table->stats.objects) + " objects, " +
          HumanBytes(table->stats.bytes) +
          (table->stats.rows ? ", " + std::to_string(*table->stats.rows) + " rows" : "") +
          ", last modified " + FormatIso8601(table->stats.last_modified) + "\n";
  text += "  columns:\n" + ColumnList(table->columns);
  if (!table->partition_keys.empty()) {
    text += "  partition keys:\n";
    for (const auto& key : table->partition_keys)
      text += "    " + key.name + "  " + key.type + "\n";
    text += "  partitions: " + std::to_string(*partition_count) + " (first " +
            std::to_string(sample->size()) + "):\n";
    for (const auto& partition : *sample) {
      std::string values;
      for (const std::string& value : partition.values)
        values += (values.empty() ? "" : "/") + value;
      text += "    " + values + "  " + std::to_string(partition.objects) + " objects, " +
              HumanBytes(partition.bytes) + "\n";
    }
  }
  text += "  schema history:\n";
  for (const auto& version : *history) {
    text += "    version " + std::to_string(version.version) + " at " +
            FormatIso8601(version.created_at) + " by " + version.changed_by + "\n";
    size_t start = 0;
    while (start < version.change.size()) {
      size_t end = version.change.find('\n', start);
      if (end == std::string::npos)
        end = version.change.size();
      text += "      " + version.change.substr(start, end - start) + "\n";
      start = end + 1;
    }
  }
  std::cout << text;
  return kExitOk;
}

int RunDatabases(const GlobalFlags& flags) {
  std::unique_ptr<Home> home;
  Result<catalog::Catalog*> catalog = OpenHomeService(flags, home, &Home::Catalog);
  if (!catalog.ok())
    return ReportError(catalog.status());
  Result<std::vector<std::string>> names = (*catalog)->ListDatabases();
  if (!names.ok())
    return ReportError(names.status());
  if (flags.json) {
    PrintJson(*names);
  } else {
    for (const std::string& name : *names)
      std::cout << name << "\n";
  }
  return kExitOk;
}

int RunTables(const GlobalFlags& flags, const std::string& database) {
  std::unique_ptr<Home> home;
  Result<catalog::Catalog*> catalog = OpenHomeService(flags, home, &Home::Catalog);
  if (!catalog.ok())
    return ReportError(catalog.status());
  Result<std::vector<catalog::Table>> tables = (*catalog)->ListTables(database);
  if (!tables.ok())
    return ReportError(tables.status());
  if (flags.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& table : *tables)
      out.push_back(catalog::ToJson(table));
    PrintJson(out);
    return kExitOk;
  }
  for (const auto& table : *tables) {
    std::printf("%-32s %-8s %6zu cols %8lld objects  %s%s\n", table.name.c_str(),
                std::string(catalog::TableFormatName(table.format)).c_str(), table.columns.size(),
                static_cast<long long>(table.stats.objects), table.location.c_str(),
                table.status == catalog::TableStatus::kActive
                    ? ""
                    : ("  [" + std::string(catalog::TableStatusName(table.status)) + "]").c_str());
  }
  return kExitOk;
}

int RunPartitions(const GlobalFlags& flags, const std::string& qualified,
                  const std::vector<std::string>& filters, int64_t limit) {
  Result<std::pair<std::string, std::string>> name = SplitTableName(qualified);
  if (!name.ok())
    return ReportError(name.status());
  catalog::PartitionFilter filter{.limit = limit};
  for (const std::string& item : filters) {
    size_t equals = item.find('=');
    if (equals == std::string::npos)
      return ReportError(Status::InvalidArgument("filter must be KEY=VALUE: " + item));
    filter.equals[item.substr(0, equals)] = item.substr(equals + 1);
  }
  std::unique_ptr<Home> home;
  Result<catalog::Catalog*> catalog = OpenHomeService(flags, home, &Home::Catalog);
  if (!catalog.ok())
    return ReportError(catalog.status());
  Result<catalog::Table> table = (*catalog)->GetTable(name->first, name->second);
  if (!table.ok())
    return ReportError(table.status());
  Result<std::vector<catalog::Partition>> partitions =
      (*catalog)->ListPartitions(table->id, filter);
  if (!partitions.ok())
    return ReportError(partitions.status());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& partition : *partitions)
    out.push_back(catalog::ToJson(partition));
  if (flags.json) {
    PrintJson(out);
  } else {
    for (const auto& partition : *partitions) {
      std::printf("%-60s %6lld objects %12s\n", partition.location.c_str(),
                  static_cast<long long>(partition.objects), HumanBytes(partition.bytes).c_str());
    }
  }
  return kExitOk;
}

int RunCreateDatabase(const GlobalFlags& flags, const std::string& name,
                      const std::string& description) {
  std::unique_ptr<Home> home;
  Result<catalog::Catalog*> catalog = OpenHomeService(flags, home, &Home::Catalog);
  if (!catalog.ok())
    return ReportError(catalog.status());
  if (Status created = (*catalog)->CreateDatabase(name, description); !created.ok())
    return ReportError(created);
  std::cerr << "created database " << name << std::endl;
  return kExitOk;
}

int RunDropDatabase(const GlobalFlags& flags, const std::string& name, bool cascade) {
  std::unique_ptr<Home> home;
  Result<catalog::Catalog*> catalog = OpenHomeService(flags, home, &Home::Catalog);
  if (!catalog.ok())
    return ReportError(catalog.status());
  if (Status dropped = (*catalog)->DropDatabase(name, cascade); !dropped.ok())
    return ReportError(dropped);
  std::cerr << "dropped database " << name << std::endl;
  return kExitOk;
}

int RunCreateTable(const GlobalFlags& flags, const std::string& qualified,
                   const std::string& location, const std::string& format,
                   const std::vector<std::string>& column_specs,
                   const std::vector<std::string>& partition_specs) {
  Result<std::pair<std::string, std::string>> name = SplitTableName(qualified);
  if (!name.ok())
    return ReportError(name.status());
  catalog::TableUpdate update;
  update.table.database = name->first;
  update.table.name = name->second;
  update.table.location = location.back() == '/' ? location : location + "/";
  Result<catalog::TableFormat> parsed_format = catalog::ParseTableFormat(format);
  if (!parsed_format.ok())
    return ReportError(parsed_format.status());
  update.table.format = *parsed_format;
  update.table.created_by = "user:cli";
  update.changed_by = "user:cli";
  update.replace_columns = true;
  for (const std::string& spec : column_specs) {
    Result<catalog::Column> column = catalog::ParseColumnSpec(spec);
    if (!column.ok())
      return ReportError(column.status());
    update.table.columns.push_back(*column);
  }
  for (const std::string& spec : partition_specs) {
    Result<catalog::Column> key = catalog::ParseColumnSpec(spec);
    if (!key.ok())
      return ReportError(key.status());
    update.table.partition_keys.push_back({key->name, key->type});
  }
  std::unique_ptr<Home> home;
  Result<catalog::Catalog*> catalog = OpenHomeService(flags, home, &Home::Catalog);
  if (!catalog.ok())
    return ReportError(catalog.status());
  if ((*catalog)->GetTable(name->first, name->second).ok()) {
    return ReportError(Status::AlreadyExists("table already exists: " + qualified));
  }
  Result<catalog::ApplyOutcome> applied = (*catalog)->ApplyTable(update);
  if (!applied.ok())
    return ReportError(applied.status());
  std::cerr << "created table " << qualified << std::endl;
  return kExitOk;
}

int RunAlterTable(const GlobalFlags& flags, const std::string& qualified,
                  const std::vector<std::string>& add, const std::vector<std::string>& drop) {
  Result<CatalogTable> opened = OpenCatalogTable(flags, qualified);
  if (!opened.ok())
    return ReportError(opened.status());
  catalog::Catalog* catalog = opened->catalog;
  const catalog::Table* table = &opened->table;
  catalog::TableUpdate update{.table = *table, .replace_columns = true, .changed_by = "user:cli"};
  update.table.partition_keys = table->partition_keys;
  for (const std::string& column_name : drop) {
    auto found =
        std::find_if(update.table.columns.begin(), update.table.columns.end(),
                     [&](const catalog::Column& column) { return column.name == column_name; });
    if (found == update.table.columns.end())
      return ReportError(Status::NotFound("no such column: " + column_name));
    update.table.columns.erase(found);
  }
  for (const std::string& spec : add) {
    Result<catalog::Column> column = catalog::ParseColumnSpec(spec);
    if (!column.ok())
      return ReportError(column.status());
    update.table.columns.push_back(*column);
  }
  Result<catalog::ApplyOutcome> applied = catalog->ApplyTable(update);
  if (!applied.ok())
    return ReportError(applied.status());
  std::cerr << "table " << qualified << " is at schema version " << applied->schema_version
            << std::endl;
  return kExitOk;
}

// Adds (or replaces) one partition, or drops one, by location.
int RunPartitionChange(const GlobalFlags& flags, const std::string& qualified,
                       const std::vector<std::string>& values, std::string location, bool drop) {
  Result<CatalogTable> opened = OpenCatalogTable(flags, qualified);
  if (!opened.ok())
    return ReportError(opened.status());
  catalog::Catalog* catalog = opened->catalog;
  const catalog::Table* table = &opened->table;
  if (!drop && values.size() != table->partition_keys.size()) {
    return ReportError(Status::InvalidArgument("table " + qualified + " has " +
                                               std::to_string(table->partition_keys.size()) +
                                               " partition key(s); give one --value for each"));
  }
  if (location.empty() && !drop) {
    location = table->location;
    for (size_t i = 0; i < values.size(); ++i)
      location += table->partition_keys[i].name + "=" + values[i] + "/";
  }
  if (!location.empty() && location.back() != '/')
    location += "/";
  catalog::TableUpdate update{.table = *table, .replace_columns = true, .changed_by = "user:cli"};
  if (drop) {
    update.remove_partitions.push_back(location);
  } else {
    update.upsert_partitions.push_back(
        {.values = values, .location = location, .columns = table->columns});
  }
  Result<catalog::ApplyOutcome> applied = catalog->ApplyTable(update);
  if (!applied.ok())
    return ReportError(applied.status());
  std::cerr << (drop ? "dropped" : "added") << " partition " << location << std::endl;
  return kExitOk;
}

int RunDropTable(const GlobalFlags& flags, const std::string& qualified) {
  Result<std::pair<std::string, std::string>> name = SplitTableName(qualified);
  if (!name.ok())
    return ReportError(name.status());
  std::unique_ptr<Home> home;
  Result<catalog::Catalog*> catalog = OpenHomeService(flags, home, &Home::Catalog);
  if (!catalog.ok())
    return ReportError(catalog.status());
  if (Status dropped = (*catalog)->DropTable(name->first, name->second); !dropped.ok()) {
    return ReportError(dropped);
  }
  std::cerr << "dropped table " << qualified << " (its files stay in the lake)" << std::endl;
  return kExitOk;
}

}  // namespace

void AddCatalogCommands(CLI::App& app, GlobalFlags& flags, int& exit_code) {
  static CrawlerFlags crawler_flags;
  static std::string name, database, description, location, format = "csv";
  static std::vector<std::string> columns, partition_keys, drop_columns, filters;
  static bool cascade = false;
  static int64_t limit = 100;

  CLI::App* crawler = app.add_subcommand(
      "crawler", "Crawlers: find tables in lake files and keep the catalog current");
  crawler->require_subcommand(1);
  CLI::App* create = crawler->add_subcommand("create", "Create a crawler");
  create->add_option("name", crawler_flags.name, "Crawler name")->required();
  create
      ->add_option("--target", crawler_flags.targets,
                   "Lake prefix to crawl (lake://prefix/ or s3://bucket/prefix/); repeatable")
      ->required();
  create->add_option("--database", crawler_flags.database, "Catalog database for its tables")
      ->required();
  create->add_option("--exclude", crawler_flags.excludes,
                     "Glob of keys to skip, relative to the target; repeatable");
  create->add_option("--table-prefix", crawler_flags.table_prefix, "Prefix for table names");
  create->add_option("--grouping", crawler_flags.grouping, "auto or one-table-per-target");
  create->add_option("--schema-change", crawler_flags.schema_change, "update, log or fail");
  create->add_option("--deletion", crawler_flags.deletion, "remove, deprecate or log");
  create->add_option("--recrawl", crawler_flags.recrawl,
                     "everything, new-folders or changed-objects");
  create->callback([&] { exit_code = RunCrawlerCreate(flags, crawler_flags); });
  CLI::App* run =
      crawler->add_subcommand("run", "Run a crawler and print its report (Ctrl-C cancels)");
  run->add_option("name", name, "Crawler name")->required();
  run->callback([&] { exit_code = RunCrawlerRun(flags, name); });
  crawler->add_subcommand("list", "List crawlers")->callback([&] {
    exit_code = RunCrawlerList(flags);
  });
  CLI::App* show = crawler->add_subcommand("show", "Show a crawler and its recent runs");
  show->add_option("name", name, "Crawler name")->required();
  show->callback([&] { exit_code = RunCrawlerShow(flags, name); });
  CLI::App* remove = crawler->add_subcommand("delete", "Delete a crawler (its tables stay)");
  remove->add_option("name", name, "Crawler name")->required();
  remove->callback([&] { exit_code = RunCrawlerDelete(flags, name); });

  CLI::App* catalog = app.add_subcommand("catalog", "The catalog: databases, tables, partitions");
  catalog->require_subcommand(1);
  catalog->add_subcommand("databases", "List databases")->callback([&] {
    exit_code = RunDatabases(flags);
  });
  CLI::App* create_database = catalog->add_subcommand("create-database", "Create a database");
  create_database->add_option("name", name, "Database name")->required();
  create_database->add_option("--description", description, "What it holds");
  create_database->callback([&] { exit_code = RunCreateDatabase(flags, name, description); });
  CLI::App* drop_database = catalog->add_subcommand("drop-database", "Drop a database");
  drop_database->add_option("name", name, "Database name")->required();
  drop_database->add_flag("--cascade", cascade, "Also drop its tables");
  drop_database->callback([&] { exit_code = RunDropDatabase(flags, name, cascade); });
  CLI::App* tables = catalog->add_subcommand("tables", "List the tables of a database");
  tables->add_option("database", database, "Database name")->required();
  tables->callback([&] { exit_code = RunTables(flags, database); });
  CLI::App* describe = catalog->add_subcommand(
      "describe", "Columns, partitions, properties and schema history of a table");
  describe->add_option("table", name, "DATABASE.TABLE")->required();
  describe->callback([&] { exit_code = RunDescribe(flags, name); });
  CLI::App* partitions = catalog->add_subcommand("partitions", "List a table's partitions");
  partitions->add_option("table", name, "DATABASE.TABLE")->required();
  partitions->add_option("--filter", filters, "KEY=VALUE; repeatable");
  partitions->add_option("--limit", limit, "At most this many");
  partitions->callback([&] { exit_code = RunPartitions(flags, name, filters, limit); });
  CLI::App* create_table = catalog->add_subcommand("create-table", "Register a table by hand");
  create_table->add_option("table", name, "DATABASE.TABLE")->required();
  create_table->add_option("--location", location, "Lake prefix of its files")->required();
  create_table->add_option("--format", format, "csv, json or parquet");
  create_table->add_option("--column", columns, "NAME:TYPE; repeatable")->required();
  create_table->add_option("--partition-key", partition_keys, "NAME:TYPE; repeatable");
  create_table->callback(
      [&] { exit_code = RunCreateTable(flags, name, location, format, columns, partition_keys); });
  CLI::App* alter_table =
      catalog->add_subcommand("alter-table", "Add or drop columns (records a schema version)");
  alter_table->add_option("table", name, "DATABASE.TABLE")->required();
  alter_table->add_option("--add-column", columns, "NAME:TYPE; repeatable");
  alter_table->add_option("--drop-column", drop_columns, "NAME; repeatable");
  alter_table->callback([&] { exit_code = RunAlterTable(flags, name, columns, drop_columns); });
  static std::vector<std::string> partition_values;
  CLI::App* add_partition =
      catalog->add_subcommand("add-partition", "Register a partition by hand");
  add_partition->add_option("table", name, "DATABASE.TABLE")->required();
  add_partition
      ->add_option("--value", partition_values, "One value per partition key, in order; repeatable")
      ->required();
  add_partition->add_option("--location", location,
                            "Its lake prefix (default: table location + key=value/...)");
  add_partition->callback(
      [&] { exit_code = RunPartitionChange(flags, name, partition_values, location, false); });
  CLI::App* remove_partition =
      catalog->add_subcommand("drop-partition", "Remove a partition from the catalog (files stay)");
  remove_partition->add_option("table", name, "DATABASE.TABLE")->required();
  remove_partition->add_option("--location", location, "The partition's lake prefix")->required();
  remove_partition->callback(
      [&] { exit_code = RunPartitionChange(flags, name, {}, location, true); });
  CLI::App* drop_table =
      catalog->add_subcommand("drop-table", "Remove a table from the catalog (files stay)");
  drop_table->add_option("table", name, "DATABASE.TABLE")->required();
  drop_table->callback([&] { exit_code = RunDropTable(flags, name); });
}

}  // namespace basin::app

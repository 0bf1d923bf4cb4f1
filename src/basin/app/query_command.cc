// basin query: SQL over the catalog and the lake with the embedded engine (no server needed).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "basin/app/cli.h"
#include "basin/app/write_command.h"
#include "basin/common/time_format.h"
#include "basin/query/csv_text.h"
#include "basin/query/query_history.h"
#include "basin/query/saved_queries.h"
#include "basin/service/query_service.h"
#include "basin/writer/write_statement.h"

namespace basin::app {
namespace {

// Display width of UTF-8 text, counting East Asian wide characters (Hangul, CJK) as 2.
size_t DisplayWidth(const std::string& text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    width += length == 3 ? 2 : 1;  // 3-byte sequences cover Hangul and CJK
    i += length;
  }
  return width;
}

void PrintTable(const query::QueryResult& result) {
  std::vector<size_t> widths;
  for (const std::string& name : result.column_names)
    widths.push_back(DisplayWidth(name));
  for (const auto& row : result.rows) {
    for (size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], DisplayWidth(row[i].value_or("NULL")));
  }
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      line += (i ? " | " : "") + cells[i] + std::string(widths[i] - DisplayWidth(cells[i]), ' ');
    }
    std::cout << line << "\n";
  };
  print_row(result.column_names);
  std::string rule;
  for (size_t i = 0; i < widths.size(); ++i)
    rule += (i ? "-+-" : "") + std::string(widths[i], '-');
  std::cout << rule << "\n";
  for (const auto& row : result.rows) {
    std::vector<std::string> cells;
    for (const auto& value : row)
      cells.push_back(value.value_or("NULL"));
    print_row(cells);
  }
}

int RunQuery(const GlobalFlags& flags, std::string sql, const std::string& file, std::string format,
             std::string database, const std::string& saved) {
  if (!saved.empty()) {
    // A saved query: its SQL, and its database unless --database says otherwise.
    std::unique_ptr<Home> saved_home;
    Result<query::SavedQueryStore> store =
        OpenMetadataStore<query::SavedQueryStore>(flags, saved_home);
    if (!store.ok())
      return ReportError(store.status());
    Result<query::SavedQuery> found = store->Get(saved);
    if (!found.ok())
      return ReportError(found.status());
    sql = found->sql;
    if (database.empty())
      database = found->database;
  } else if (!file.empty()) {
    std::ifstream in(file);
    if (!in)
      return ReportError(Status::NotFound("cannot read SQL file " + file));
    std::stringstream text;
    text << in.rdbuf();
    sql = text.str();
  } else if (sql.empty() || sql == "-") {
    std::stringstream text;
    text << std::cin.rdbuf();
    sql = text.str();
  }
  if (sql.find_first_not_of(" \t\r\n;") == std::string::npos) {
    return ReportError(
        Status::InvalidArgument("no SQL given: pass it as an argument, with -f FILE, or on stdin"));
  }
  if (flags.json)
    format = "json";
  if (format != "table" && format != "csv" && format != "json") {
    return ReportError(Status::InvalidArgument("--format must be table, csv or json"));
  }
  std::map<std::string, std::string> environment = ProcessEnvironment();
  Result<std::string> location = LocateHome(flags.home, environment);
  if (!location.ok())
    return ReportError(location.status());
  Result<Config> config = LoadConfig(*location, environment);
  if (!config.ok())
    return ReportError(config.status());
  if (!database.empty())
    config->default_database = database;
  Home home(*config);
  Result<query::Engine*> engine = home.Engine();
  if (!engine.ok())
    return ReportError(engine.status());
  Result<metadata::Database*> metadata = home.Metadata();
  if (!metadata.ok())
    return ReportError(metadata.status());
  // Run as the server runs a query (service::QueryService: the viewer rule, basin's write
  // statements, the history record), as the local administrator on the home's engine and
  // outside any workgroup queue: whoever can read the home's files owns it anyway, and a
  // CLI query must not wait behind the server's queue.
  query::QueryHistory history(**metadata);
  std::optional<writer::WriteResult> written;  // a write statement's, for its own summary
  service::WriteStatementRunner write_statements;
  const bool write_statement = writer::IsWriteStatement(sql);
  if (write_statement) {
    Result<writer::TableWriter*> table_writer = home.Writer();
    if (!table_writer.ok())
      return ReportError(table_writer.status());
    write_statements = WriteStatementRunnerFor(
        **table_writer, [&written](const writer::WriteResult& result) { written = result; });
  }
  service::QueryService queries({
      .engine_for = [&](const workgroup::Workgroup&) { return engine; },
      .history = &history,
      .write_statements = write_statements,
      .is_write_statement = [](const std::string& text) { return writer::IsWriteStatement(text); },
  });
  service::QueryRequest request{.sql = sql,
                                .database = config->default_database,
                                .caller = {.user = "local", .role = auth::Role::kAdmin}};
  InstallInterruptFlag();
  // CSV streams straight to stdout (a result of any size); table and JSON need every row.
  struct CsvOut final : query::RowSink {
    Status Begin(const std::vector<std::string>& names, const std::vector<std::string>&) override {
      std::cout << query::CsvLine(names);
      return Status();
    }
    Status Rows(std::vector<query::Row>&& rows) override {
      for (const auto& row : rows)
        std::cout << query::CsvLine(row);
      count += rows.size();
      return std::cout ? Status() : Status::Cancelled("standard output is closed");
    }
    size_t count = 0;
  } csv;
  query::QueryResult result;
  query::CollectingSink collected(result);
  // A long query shows how far it is on a terminal (DuckDB's estimate), cleared at the end.
  std::atomic<bool> progress_shown{false};
  if (isatty(STDERR_FILENO)) {
    request.on_progress = [&progress_shown](double percent) {
      if (percent < 0)
        return;
      std::fprintf(stderr, "\rrunning: %3.0f%% (Ctrl-C cancels)", percent);
      std::fflush(stderr);
      progress_shown = true;
    };
  }
  const bool streamed = format == "csv" && !write_statement;
  service::QueryService::Outcome outcome =
      queries.Run(request, streamed ? static_cast<query::RowSink&>(csv) : collected, &interrupted);
  if (progress_shown)
    std::fprintf(stderr, "\r%40s\r", "");
  if (!outcome.status.ok())
    return ReportError(outcome.status);
  if (written) {
    if (format == "json") {
      PrintJson(writer::ToJson(*written));
    } else {
      std::cout << writer::Summary(*written) << std::endl;
    }
    return kExitOk;
  }
  const query::QueryStats& stats = outcome.stats;
  size_t rows_returned = streamed ? csv.count : result.rows.size();
  if (format == "json") {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : result.rows) {
      nlohmann::json object = nlohmann::json::object();
      for (size_t i = 0; i < row.size(); ++i) {
        object[result.column_names[i]] = row[i] ? nlohmann::json(*row[i]) : nlohmann::json(nullptr);
      }
      rows.push_back(std::move(object));
    }
    PrintJson(rows);
  } else if (format == "table") {
    PrintTable(result);
  }
  std::cout.flush();
  std::string partitions;
  if (stats.PartitionsTotal() > 0) {
    partitions = ", " + std::to_string(stats.PartitionsScanned()) + " of " +
                 std::to_string(stats.PartitionsTotal()) + " partitions";
  }
  std::cerr << rows_returned << " row(s) in " << stats.elapsed.count() / 1000 << " ms, "
            << HumanBytes(stats.bytes_read) << " read from the lake" << partitions
            << (stats.cache_hit ? " (from the result cache)" : "") << std::endl;
  return kExitOk;
}

}  // namespace

void AddQueryCommand(CLI::App& app, GlobalFlags& flags, int& exit_code) {
  static std::string sql, file, format = "table", database, saved;
  CLI::App* query = app.add_subcommand(
      "query", "Run SQL over catalog tables (db.table) and lake files (Ctrl-C cancels)");
  query->add_option("sql", sql, "The SQL; '-' or nothing reads it from stdin");
  query->add_option("-f,--file", file, "Read the SQL from a file");
  query->add_option("--format", format, "table, csv or json");
  query->add_option("--database", database,
                    "Database for unqualified table names (default: query.default_database)");
  query->add_option("--saved", saved, "Run the saved query NAME (basin saved-query list)");
  query->callback([&] { exit_code = RunQuery(flags, sql, file, format, database, saved); });
}

}  // namespace basin::app

// basin history: the query history of the home (CLI and server), searchable. The command
// line reads the metadata database directly, so it sees every user's queries.
#include <cstdio>

#include <CLI/CLI.hpp>

#include "basin/app/cli.h"
#include "basin/common/time_format.h"
#include "basin/query/query_json.h"

namespace basin::app {
namespace {

struct HistoryFlags {
  std::string search, status, user, since, until;
  int64_t limit = 50;
  int64_t offset = 0;
};

Result<query::HistoryFilter> FilterFor(const HistoryFlags& input) {
  query::HistoryFilter filter{.user = input.user,
                              .search = input.search,
                              .status = input.status,
                              .limit = input.limit,
                              .offset = input.offset};
  if (!input.since.empty()) {
    BASIN_ASSIGN_OR_RETURN(filter.since, ParseIso8601(input.since));
  }
  if (!input.until.empty()) {
    BASIN_ASSIGN_OR_RETURN(filter.until, ParseIso8601(input.until));
  }
  return filter;
}

int RunHistory(const GlobalFlags& flags, const HistoryFlags& input) {
  Result<query::HistoryFilter> filter = FilterFor(input);
  if (!filter.ok())
    return ReportError(filter.status());
  std::unique_ptr<Home> home;
  Result<query::QueryHistory> history = OpenMetadataStore<query::QueryHistory>(flags, home);
  if (!history.ok())
    return ReportError(history.status());
  auto records = history->List(*filter);
  if (!records.ok())
    return ReportError(records.status());
  if (flags.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& record : *records)
      list.push_back(query::ToJson(record));
    PrintJson(list);
    return kExitOk;
  }
  for (const auto& record : *records) {
    std::string sql = record.sql.substr(0, 80);
    for (char& c : sql) {
      if (c == '\n' || c == '\r' || c == '\t')
        c = ' ';
    }
    std::printf("%6lld  %s  %-10s %-9s %6lld ms %8lld rows %10s%s  %s\n",
                static_cast<long long>(record.id), FormatIso8601(record.started_at).c_str(),
                record.user.c_str(), record.status.c_str(),
                static_cast<long long>(record.duration.count()),
                static_cast<long long>(record.rows_returned),
                HumanBytes(static_cast<uint64_t>(record.bytes_read)).c_str(),
                record.cache_hit ? " (cached)" : "", sql.c_str());
  }
  return kExitOk;
}

}  // namespace

void AddHistoryCommand(CLI::App& app, GlobalFlags& flags, int& exit_code) {
  static HistoryFlags input;
  CLI::App* history =
      app.add_subcommand("history", "Recent queries (CLI and server, every user), newest first");
  history->add_option("--search", input.search,
                      "Only queries whose SQL or error contains this text (any case)");
  history->add_option("--status", input.status,
                      "Only this status: succeeded, failed, refused, cancelled, queued, running");
  history->add_option("--user", input.user, "Only this user's queries ('local' for the CLI's)");
  history->add_option("--since", input.since, "Started at or after this time (ISO 8601, UTC)");
  history->add_option("--until", input.until, "Started before this time (ISO 8601, UTC)");
  history->add_option("--limit", input.limit, "At most this many")->check(CLI::Range(1, 100000));
  history->add_option("--offset", input.offset, "Skip this many of the newest matches")
      ->check(CLI::NonNegativeNumber);
  history->callback([&] { exit_code = RunHistory(flags, input); });
}

}  // namespace basin::app

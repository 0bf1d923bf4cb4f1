#include "basin/crawler/crawl.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "basin/crawler/file_schema.h"
#include "basin/crawler/object_probe.h"
#include "basin/crawler/table_grouping.h"
#include "basin/storage/glob.h"

namespace basin::crawler {
namespace {

using nlohmann::json;

int64_t Seconds(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

json SchemaToJson(const FileSchema& schema) {
  json columns = json::array();
  for (const catalog::Column& column : schema.columns)
    columns.push_back({column.name, column.type});
  json out = {{"format", FormatName(schema.format)},
              {"compression", CompressionName(schema.compression)},
              {"options", schema.options},
              {"columns", columns}};
  if (schema.rows)
    out["rows"] = *schema.rows;
  return out;
}

std::optional<FileSchema> SchemaFromJson(const std::string& text) {
  json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_object())
    return std::nullopt;
  FileSchema schema;
  std::string format = parsed.value("format", "");
  schema.format = format == "csv"       ? FileFormat::kCsv
                  : format == "json"    ? FileFormat::kJson
                  : format == "parquet" ? FileFormat::kParquet
                                        : FileFormat::kUnsupported;
  std::string compression = parsed.value("compression", "none");
  schema.compression = compression == "gzip"   ? Compression::kGzip
                       : compression == "zstd" ? Compression::kZstd
                                               : Compression::kNone;
  schema.options = parsed.value("options", std::map<std::string, std::string>{});
  for (const json& column : parsed.value("columns", json::array())) {
    schema.columns.push_back({column[0].get<std::string>(), column[1].get<std::string>(), ""});
  }
  if (parsed.contains("rows"))
    schema.rows = parsed["rows"].get<int64_t>();
  return schema;
}

std::string FolderOf(const std::string& relative_key) {
  size_t slash = relative_key.rfind('/');
  return slash == std::string::npos ? "" : relative_key.substr(0, slash + 1);
}

std::string FirstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

bool LooksLikeEncodingError(const std::string& message) {
  return message.find("unicode") != std::string::npos ||
         message.find("UTF-8") != std::string::npos || message.find("utf-8") != std::string::npos;
}

// Reads (probes and sniffs) the entries that need it, on `threads` threads.
void ReadEntries(std::vector<CrawlEntry*>& entries, storage::StoreResolver& stores,
                 query::Engine& engine, const CrawlOptions& options, CrawlProgress& progress) {
  std::atomic<size_t> next{0};
  std::atomic<int64_t> done{0};
  auto work = [&](bool report) {
    while (true) {
      if (options.Cancelled())
        return;
      size_t index = next.fetch_add(1);
      if (index >= entries.size())
        return;
      CrawlEntry& entry = *entries[index];
      std::string url = entry.target + entry.relative_key;
      Result<storage::StoreResolver::Resolved> resolved = stores.Resolve(url);
      Result<Classification> classification =
          resolved.ok() ? ProbeObject(*resolved->store, resolved->key, entry.info.size)
                        : Result<Classification>(resolved.status());
      if (!classification.ok()) {
        entry.error = "unreadable: " + classification.status().message();
      } else if (classification->format == FileFormat::kUnsupported) {
        entry.error = "unsupported: " + classification->reason;
      } else {
        Result<FileSchema> schema = InferFileSchema(engine, url, *classification);
        if (schema.ok()) {
          entry.schema = std::move(schema).value();
        } else {
          entry.error = "cannot read as " + std::string(FormatName(classification->format)) + ": " +
                        FirstLine(schema.status().message());
          // DuckDB names the line of bad UTF-8 (CSV) or nothing useful: find the byte.
          if (classification->compression == Compression::kNone &&
              LooksLikeEncodingError(schema.status().message())) {
            auto offset = FindInvalidUtf8InObject(*resolved->store, resolved->key, 64u << 20);
            if (offset.ok() && offset->has_value()) {
              entry.error = "invalid UTF-8 at byte offset " + std::to_string(**offset) + " (" +
                            entry.error + ")";
            }
          }
        }
      }
      ++done;
      if (report && options.on_progress) {
        progress.read = done.load();
        options.on_progress(progress);
      }
    }
  };
  std::vector<std::thread> helpers;
  for (int i = 1; i < std::max(1, options.threads); ++i)
    helpers.emplace_back(work, false);
  work(true);
  for (std::thread& helper : helpers)
    helper.join();
  progress.read = done.load();
}

}  // namespace

std::string IgnoreReason(const std::string& relative_key, uint64_t size,
                         const std::vector<std::string>& exclude_globs) {
  std::string name = relative_key.substr(
      relative_key.rfind('/') == std::string::npos ? 0 : relative_key.rfind('/') + 1);
  if (name == "_SUCCESS")
    return "_SUCCESS marker";
  if (relative_key.find("_temporary/") != std::string::npos)
    return "_temporary folder";
  size_t start = 0;
  while (start < relative_key.size()) {
    if (relative_key[start] == '.' || relative_key[start] == '_')
      return "hidden (. or _ prefix)";
    size_t slash = relative_key.find('/', start);
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  for (const std::string& glob : exclude_globs) {
    if (storage::GlobMatch(glob, relative_key))
      return "excluded by " + glob;
  }
  if (size == 0)
    return "empty (0 bytes)";
  return "";
}

Result<Crawler::RunningGuard> Crawler::RunningGuard::Acquire(Crawler& crawler,
                                                             const std::string& name) {
  std::lock_guard<std::mutex> lock(crawler.running_mutex_);
  if (!crawler.running_.insert(name).second) {
    return Status::FailedPrecondition("crawler " + name +
                                      " is already running; wait for that run to finish");
  }
  return RunningGuard(&crawler, name);
}

Crawler::RunningGuard::~RunningGuard() {
  if (crawler_ == nullptr)
    return;
  std::lock_guard<std::mutex> lock(crawler_->running_mutex_);
  crawler_->running_.erase(name_);
}

Result<RunReport> Crawler::Run(const std::string& name, const CrawlOptions& options) {
  auto started = std::chrono::steady_clock::now();
  RunReport report;
  report.crawler = name;
  report.started_at = std::chrono::system_clock::now();
  BASIN_ASSIGN_OR_RETURN(CrawlerDefinition definition, store_.Get(name));
  // One run of a crawler at a time in this process: a second would list the lake
  // before the first commits and could undo its work.
  BASIN_ASSIGN_OR_RETURN(RunningGuard running, RunningGuard::Acquire(*this, name));

  // Previous states, by target and key.
  BASIN_ASSIGN_OR_RETURN(std::vector<ObjectState> previous_list, store_.LoadObjects(name));
  std::map<std::pair<std::string, std::string>, const ObjectState*> previous;
  std::set<std::pair<std::string, std::string>> known_folders;
  for (const ObjectState& state : previous_list) {
    previous[{state.target, state.key}] = &state;
    known_folders.insert({state.target, FolderOf(state.key)});
  }

  // List every target and decide what to read.
  std::vector<CrawlEntry> entries;
  std::map<std::string, std::optional<FileSchema>>
      parsed_schemas;  // many objects share one schema text
  CrawlProgress progress;
  for (const std::string& target : definition.targets) {
    BASIN_ASSIGN_OR_RETURN(storage::StoreResolver::Resolved resolved, stores_.Resolve(target));
    Result<std::vector<storage::ObjectInfo>> listed = resolved.store->List(resolved.key);
    if (!listed.ok())
      return listed.status().WithContext("listing crawler target " + target);
    for (storage::ObjectInfo& info : *listed) {
      ++report.objects_listed;
      std::string relative = info.key.substr(resolved.key.size());
      std::string reason = IgnoreReason(relative, info.size, definition.exclude_globs);
      if (!reason.empty()) {
        ++report.objects_skipped[reason.rfind("excluded", 0) == 0 ? "excluded" : reason];
        // An empty data file is worth a line of its own; markers and hidden files are not.
        if (info.size == 0 && reason.rfind("empty", 0) == 0)
          report.errors.push_back({target + relative, "skipped: " + reason});
        continue;
      }
      CrawlEntry entry{target, relative, std::move(info)};
      auto found = previous.find({target, relative});
      bool unchanged = found != previous.end() &&
                       found->second->size == static_cast<int64_t>(entry.info.size) &&
                       found->second->etag == entry.info.etag &&
                       found->second->modified == Seconds(entry.info.modified);
      bool reuse = definition.recrawl != RecrawlPolicy::kEverything && found != previous.end() &&
                   (unchanged || (definition.recrawl == RecrawlPolicy::kNewFolders &&
                                  known_folders.count({target, FolderOf(relative)})));
      if (reuse) {
        const ObjectState& state = *found->second;
        auto cached = parsed_schemas.find(state.schema);
        if (cached == parsed_schemas.end())
          cached = parsed_schemas.emplace(state.schema, SchemaFromJson(state.schema)).first;
        entry.schema = cached->second;
        entry.error = state.error;
        ++report.objects_unchanged;
      } else {
        entry.read_now = true;
      }
      entries.push_back(std::move(entry));
    }
  }
  progress.listed = report.objects_listed;

  std::vector<CrawlEntry*> to_read;
  for (CrawlEntry& entry : entries) {
    if (entry.read_now)
      to_read.push_back(&entry);
  }
  progress.to_read = static_cast<int64_t>(to_read.size());
  if (options.on_progress)
    options.on_progress(progress);
  ReadEntries(to_read, stores_, engine_, options, progress);
  report.objects_read = progress.read;
  if (options.Cancelled()) {
    report.status = "cancelled";
    report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return report;
  }
  for (const CrawlEntry& entry : entries) {
    if (!entry.error.empty())
      report.errors.push_back({entry.target + entry.relative_key, entry.error});
  }

  // Vanished objects: their states go, and their tables count as changed.
  std::set<std::pair<std::string, std::string>> present;
  for (const CrawlEntry& entry : entries)
    present.insert({entry.target, entry.relative_key});
  std::vector<std::pair<std::string, std::string>> vanished;
  for (const ObjectState& state : previous_list) {
    if (!present.count({state.target, state.key}))
      vanished.push_back({state.target, state.key});
  }

  std::vector<TablePlan> plans = PlanTables(definition, entries, vanished, report);
  Status applied = database_.Transaction([&]() -> Status {
    BASIN_RETURN_IF_ERROR(catalog_.EnsureDatabase(definition.database));
    BASIN_RETURN_IF_ERROR(ApplyPlans(catalog_, definition, plans, report));
    std::vector<ObjectState> changed;
    for (const CrawlEntry& entry : entries) {
      if (!entry.read_now)
        continue;
      changed.push_back({entry.target, entry.relative_key, static_cast<int64_t>(entry.info.size),
                         entry.info.etag, Seconds(entry.info.modified),
                         entry.schema ? SchemaToJson(*entry.schema).dump() : "", entry.error});
    }
    return store_.SaveObjects(name, changed, vanished);
  });
  if (!applied.ok()) {
    // Nothing was applied: the report must not claim otherwise.
    report.status = "failed";
    report.failure = applied.message() + "; the catalog was left as it was";
    report.tables_created.clear();
    report.tables_updated.clear();
    report.tables_unchanged.clear();
    report.tables_deprecated.clear();
    report.tables_removed.clear();
    report.partitions_added = 0;
    report.partitions_removed = 0;
    report.schema_changes.clear();
  }
  report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  BASIN_RETURN_IF_ERROR(store_.SaveRun(name, report.ToJson()));
  return report;
}

}  // namespace basin::crawler

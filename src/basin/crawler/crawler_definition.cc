#include "basin/crawler/crawler_definition.h"

#include <chrono>

#include "basin/catalog/catalog.h"

namespace basin::crawler {
namespace {

using nlohmann::json;

template <typename Enum, size_t N>
Result<Enum> ParseChoice(std::string_view text, const std::pair<const char*, Enum> (&choices)[N],
                         const char* what) {
  std::string names;
  for (const auto& [name, value] : choices) {
    if (text == name)
      return value;
    names += std::string(names.empty() ? "" : ", ") + name;
  }
  return Status::InvalidArgument(std::string(what) + " '" + std::string(text) +
                                 "' is not one of: " + names);
}

template <typename Enum, size_t N>
std::string ChoiceName(Enum value, const std::pair<const char*, Enum> (&choices)[N]) {
  for (const auto& [name, choice] : choices) {
    if (choice == value)
      return name;
  }
  return "";
}

constexpr std::pair<const char*, Grouping> kGroupings[] = {
    {"auto", Grouping::kAuto}, {"one-table-per-target", Grouping::kOneTablePerTarget}};
constexpr std::pair<const char*, SchemaChangePolicy> kSchemaPolicies[] = {
    {"update", SchemaChangePolicy::kUpdate},
    {"log", SchemaChangePolicy::kLog},
    {"fail", SchemaChangePolicy::kFail}};
constexpr std::pair<const char*, DeletionPolicy> kDeletionPolicies[] = {
    {"remove", DeletionPolicy::kRemove},
    {"deprecate", DeletionPolicy::kDeprecate},
    {"log", DeletionPolicy::kLog}};
constexpr std::pair<const char*, RecrawlPolicy> kRecrawlPolicies[] = {
    {"everything", RecrawlPolicy::kEverything},
    {"new-folders", RecrawlPolicy::kNewFolders},
    {"changed-objects", RecrawlPolicy::kChangedObjects}};

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<Grouping> ParseGrouping(std::string_view text) {
  return ParseChoice(text, kGroupings, "grouping");
}
Result<SchemaChangePolicy> ParseSchemaChangePolicy(std::string_view text) {
  return ParseChoice(text, kSchemaPolicies, "schema-change policy");
}
Result<DeletionPolicy> ParseDeletionPolicy(std::string_view text) {
  return ParseChoice(text, kDeletionPolicies, "deletion policy");
}
Result<RecrawlPolicy> ParseRecrawlPolicy(std::string_view text) {
  return ParseChoice(text, kRecrawlPolicies, "recrawl policy");
}

json ToJson(const CrawlerDefinition& definition) {
  return {{"name", definition.name},
          {"targets", definition.targets},
          {"database", definition.database},
          {"exclude", definition.exclude_globs},
          {"table_prefix", definition.table_prefix},
          {"grouping", ChoiceName(definition.grouping, kGroupings)},
          {"schema_change", ChoiceName(definition.schema_change, kSchemaPolicies)},
          {"deletion", ChoiceName(definition.deletion, kDeletionPolicies)},
          {"recrawl", ChoiceName(definition.recrawl, kRecrawlPolicies)}};
}

Result<CrawlerDefinition> CrawlerFromJson(const json& input) {
  if (!input.is_object())
    return Status::InvalidArgument("crawler definition must be a JSON object");
  CrawlerDefinition out;
  try {
    out.name = input.at("name").get<std::string>();
    out.targets = input.at("targets").get<std::vector<std::string>>();
    out.database = input.at("database").get<std::string>();
    out.exclude_globs = input.value("exclude", std::vector<std::string>{});
    out.table_prefix = input.value("table_prefix", std::string());
    BASIN_ASSIGN_OR_RETURN(out.grouping,
                           ParseGrouping(input.value("grouping", std::string("auto"))));
    BASIN_ASSIGN_OR_RETURN(out.schema_change, ParseSchemaChangePolicy(input.value(
                                                  "schema_change", std::string("update"))));
    BASIN_ASSIGN_OR_RETURN(out.deletion,
                           ParseDeletionPolicy(input.value("deletion", std::string("deprecate"))));
    BASIN_ASSIGN_OR_RETURN(
        out.recrawl, ParseRecrawlPolicy(input.value("recrawl", std::string("changed-objects"))));
  } catch (const json::exception& error) {
    return Status::InvalidArgument(std::string("crawler definition: ") + error.what());
  }
  BASIN_RETURN_IF_ERROR(catalog::ValidateName(out.name, "crawler"));
  BASIN_RETURN_IF_ERROR(catalog::ValidateName(out.database, "database"));
  if (out.targets.empty())
    return Status::InvalidArgument("a crawler needs at least one --target");
  for (std::string& target : out.targets) {
    if (target.rfind("lake://", 0) != 0 && target.rfind("s3://", 0) != 0) {
      return Status::InvalidArgument(
          "crawler target must be lake://prefix or s3://bucket/prefix: '" + target + "'");
    }
    if (target.back() != '/')
      target.push_back('/');
  }
  if (!out.table_prefix.empty() && catalog::SanitizeName(out.table_prefix) != out.table_prefix) {
    return Status::InvalidArgument("table prefix '" + out.table_prefix +
                                   "' must be lower-case letters, digits and '_'");
  }
  return out;
}

Result<int64_t> CrawlerStore::Id(const std::string& name) {
  BASIN_ASSIGN_OR_RETURN(auto row,
                         database_.QueryRow("SELECT id FROM crawlers WHERE name = ?", {name}));
  if (!row)
    return Status::NotFound("no such crawler: " + name);
  return row->Int(0);
}

Status CrawlerStore::Create(const CrawlerDefinition& definition) {
  BASIN_ASSIGN_OR_RETURN(CrawlerDefinition checked, CrawlerFromJson(ToJson(definition)));
  Status created =
      database_.Execute("INSERT INTO crawlers (name, definition, created_at) VALUES (?, ?, ?)",
                        {checked.name, ToJson(checked).dump(), NowSeconds()});
  if (created.code() == StatusCode::kAlreadyExists)
    return Status::AlreadyExists("crawler already exists: " + definition.name);
  return created;
}

Result<CrawlerDefinition> CrawlerStore::Get(const std::string& name) {
  BASIN_ASSIGN_OR_RETURN(
      auto row, database_.QueryRow("SELECT definition FROM crawlers WHERE name = ?", {name}));
  if (!row)
    return Status::NotFound("no such crawler: " + name);
  BASIN_ASSIGN_OR_RETURN(std::string text, row->Text(0));
  return CrawlerFromJson(json::parse(text, nullptr, false));
}

Result<std::vector<CrawlerDefinition>> CrawlerStore::List() {
  BASIN_ASSIGN_OR_RETURN(auto rows,
                         database_.Query("SELECT definition FROM crawlers ORDER BY name"));
  std::vector<CrawlerDefinition> out;
  for (const auto& row : rows) {
    BASIN_ASSIGN_OR_RETURN(std::string text, row.Text(0));
    BASIN_ASSIGN_OR_RETURN(CrawlerDefinition definition,
                           CrawlerFromJson(json::parse(text, nullptr, false)));
    out.push_back(std::move(definition));
  }
  return out;
}

Status CrawlerStore::Delete(const std::string& name) {
  BASIN_ASSIGN_OR_RETURN(int64_t id, Id(name));
  return database_.Execute("DELETE FROM crawlers WHERE id = ?", {id});
}

Result<std::vector<ObjectState>> CrawlerStore::LoadObjects(const std::string& crawler) {
  BASIN_ASSIGN_OR_RETURN(int64_t id, Id(crawler));
  BASIN_ASSIGN_OR_RETURN(
      auto rows, database_.Query("SELECT target, object_key, size, etag, modified, schema, error "
                                 "FROM crawler_objects WHERE crawler_id = ?",
                                 {id}));
  std::vector<ObjectState> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    ObjectState state;
    BASIN_ASSIGN_OR_RETURN(state.target, row.Text(0));
    BASIN_ASSIGN_OR_RETURN(state.key, row.Text(1));
    BASIN_ASSIGN_OR_RETURN(state.size, row.Int(2));
    BASIN_ASSIGN_OR_RETURN(state.etag, row.Text(3));
    BASIN_ASSIGN_OR_RETURN(state.modified, row.Int(4));
    BASIN_ASSIGN_OR_RETURN(state.schema, row.Text(5));
    BASIN_ASSIGN_OR_RETURN(state.error, row.Text(6));
    out.push_back(std::move(state));
  }
  return out;
}

Status CrawlerStore::SaveObjects(const std::string& crawler,
                                 const std::vector<ObjectState>& changed,
                                 const std::vector<std::pair<std::string, std::string>>& removed) {
  BASIN_ASSIGN_OR_RETURN(int64_t id, Id(crawler));
  for (const auto& [target, key] : removed) {
    BASIN_RETURN_IF_ERROR(database_.Execute(
        "DELETE FROM crawler_objects WHERE crawler_id = ? AND target = ? AND object_key = ?",
        {id, target, key}));
  }
  for (const ObjectState& state : changed) {
    BASIN_RETURN_IF_ERROR(
        database_.Execute("INSERT INTO crawler_objects (crawler_id, target, object_key, size, "
                          "etag, modified, schema, error) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (crawler_id, target, "
                          "object_key) DO UPDATE SET "
                          "size = excluded.size, etag = excluded.etag, modified = "
                          "excluded.modified, schema = excluded.schema, "
                          "error = excluded.error",
                          {id, state.target, state.key, state.size, state.etag, state.modified,
                           state.schema, state.error}));
  }
  return Status::OK();
}

Result<std::set<std::string>> CrawlerStore::RejectedObjects(const std::string& location) {
  // Targets are prefixes of the location or the other way round; compare in C++ rather
  // than with string functions that differ between SQLite and PostgreSQL.
  BASIN_ASSIGN_OR_RETURN(
      auto rows,
      database_.Query("SELECT target, object_key FROM crawler_objects WHERE error <> ''"));
  std::set<std::string> out;
  for (const auto& row : rows) {
    BASIN_ASSIGN_OR_RETURN(std::string target, row.Text(0));
    BASIN_ASSIGN_OR_RETURN(std::string key, row.Text(1));
    std::string url = target + key;
    if (url.rfind(location, 0) == 0)
      out.insert(std::move(url));
  }
  return out;
}

Status CrawlerStore::SaveRun(const std::string& crawler, const json& report) {
  BASIN_ASSIGN_OR_RETURN(int64_t id, Id(crawler));
  return database_.Execute(
      "INSERT INTO crawler_runs (crawler_id, started_at, status, report) VALUES (?, ?, ?, ?)",
      {id, report.value("started_at_unix", NowSeconds()), report.value("status", std::string("?")),
       report.dump()});
}

Result<std::vector<json>> CrawlerStore::ListRuns(const std::string& crawler, int limit) {
  BASIN_ASSIGN_OR_RETURN(int64_t id, Id(crawler));
  BASIN_ASSIGN_OR_RETURN(auto rows,
                         database_.Query("SELECT report FROM crawler_runs WHERE crawler_id = ? "
                                         "ORDER BY id DESC LIMIT ?",
                                         {id, int64_t{limit}}));
  std::vector<json> out;
  for (const auto& row : rows) {
    BASIN_ASSIGN_OR_RETURN(std::string text, row.Text(0));
    out.push_back(json::parse(text, nullptr, false));
  }
  return out;
}

}  // namespace basin::crawler

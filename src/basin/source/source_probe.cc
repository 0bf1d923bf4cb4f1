#include "basin/source/source_probe.h"

#include <set>

namespace basin::source {

std::string SourceProbe::Summary(const SourceDefinition& definition) const {
  std::string line = server;
  if (definition.kind != SourceKind::kSqlite)
    line += " as " + definition.user + (tls ? " (TLS)" : " (no TLS)");
  std::set<std::string> schemas;
  for (const SourceTable& table : tables)
    schemas.insert(table.schema);
  line += ": " + std::to_string(tables.size()) + (tables.size() == 1 ? " table" : " tables");
  if (!schemas.empty()) {
    line += " in ";
    bool first = true;
    for (const std::string& schema : schemas) {
      line += (first ? "" : ", ") + schema;
      first = false;
    }
  }
  if (unreadable_tables > 0) {
    line += "; " + std::to_string(unreadable_tables) +
            " more the user cannot read (no SELECT privilege)";
  }
  return line;
}

nlohmann::json ProbeToJson(const SourceDefinition& definition, const Result<SourceProbe>& probe) {
  if (!probe.ok()) {
    std::string reason = "error";
    switch (probe.status().code()) {
      case StatusCode::kUnauthenticated:
        reason = "unauthenticated";
        break;
      case StatusCode::kUnavailable:
        reason = "unreachable";
        break;
      case StatusCode::kPermissionDenied:
        reason = "no_privilege";
        break;
      case StatusCode::kFailedPrecondition:
        reason = "tls_or_format";
        break;
      case StatusCode::kNotFound:
        reason = "not_found";
        break;
      default:
        break;
    }
    return {{"ok", false}, {"error", probe.status().message()}, {"reason", reason}};
  }
  nlohmann::json tables = nlohmann::json::array();
  for (const SourceTable& table : probe->tables)
    tables.push_back({{"schema", table.schema}, {"name", table.name}});
  return {{"ok", true},
          {"summary", probe->Summary(definition)},
          {"server", probe->server},
          {"tls", probe->tls},
          {"tables", std::move(tables)},
          {"unreadable_tables", probe->unreadable_tables}};
}

Result<SourceProbe> ProbeSource(const SourceDefinition& definition, const std::string& password) {
  switch (definition.kind) {
    case SourceKind::kPostgres:
      return ProbePostgres(definition, password);
    case SourceKind::kMariaDb:
      return ProbeMariaDb(definition, password);
    case SourceKind::kSqlite:
      return ProbeSqlite(definition);
  }
  return Status::InvalidArgument("unknown source kind");
}

Result<TestedSource> TestSource(SourceStore& store, std::string_view name) {
  BASIN_ASSIGN_OR_RETURN(SourceStore::WithPassword found, store.GetWithPassword(name));
  Result<SourceProbe> probe = found.password.ok()
                                  ? ProbeSource(found.source.definition, *found.password)
                                  : Result<SourceProbe>(found.password.status());
  return TestedSource{.source = std::move(found.source), .probe = std::move(probe)};
}

}  // namespace basin::source

// The catalog and crawlers over HTTP: viewers read, editors change and run crawlers.
#include <httplib.h>

#include <charconv>

#include "basin/catalog/catalog_json.h"
#include "basin/server/api_server.h"
#include "basin/server/json_body.h"

namespace basin::server {
namespace {

int64_t IntParam(const httplib::Request& request, const char* name, int64_t fallback) {
  std::string text = request.get_param_value(name);
  int64_t value = fallback;
  if (!text.empty()) std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

}  // namespace

void ApiServer::RegisterCatalogRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  if (crawler_ == nullptr) return;
  catalog::Catalog& catalog = crawler_->catalog();

  Route("GET", "/api/catalog/databases", Access::kViewer, [&catalog](const Request&, Response& response, const RequestContext&) {
    auto names = catalog.ListDatabases();
    if (!names.ok()) return WriteError(response, names.status());
    WriteJson(response, 200, {{"databases", *names}});
  });

  Route("POST", "/api/catalog/databases", Access::kEditor, [&catalog](const Request& request, Response& response, const RequestContext&) {
    Result<nlohmann::json> body = ParseJsonBody(request.body);
    if (!body.ok()) return WriteError(response, body.status());
    Result<std::string> name = RequiredString(*body, "name");
    if (!name.ok()) return WriteError(response, name.status());
    Status created = catalog.CreateDatabase(*name, body->value("description", ""));
    if (!created.ok()) return WriteError(response, created);
    WriteJson(response, 201, {{"database", *name}});
  });

  Route("DELETE", R"(/api/catalog/databases/([^/]+))", Access::kEditor, [&catalog](const Request& request, Response& response, const RequestContext&) {
    Status dropped = catalog.DropDatabase(request.matches[1], request.get_param_value("cascade") == "true");
    if (!dropped.ok()) return WriteError(response, dropped);
    WriteJson(response, 200, {{"dropped", std::string(request.matches[1])}});
  });

  Route("GET", R"(/api/catalog/databases/([^/]+)/tables)", Access::kViewer, [&catalog](const Request& request, Response& response, const RequestContext&) {
    auto tables = catalog.ListTables(request.matches[1]);
    if (!tables.ok()) return WriteError(response, tables.status());
    nlohmann::json list = nlohmann::json::array();
    for (const auto& table : *tables) list.push_back(catalog::ToJson(table));
    WriteJson(response, 200, {{"tables", list}});
  });

  Route("GET", R"(/api/catalog/databases/([^/]+)/tables/([^/]+))", Access::kViewer, [&catalog](const Request& request, Response& response, const RequestContext&) {
    auto table = catalog.GetTable(request.matches[1], request.matches[2]);
    if (!table.ok()) return WriteError(response, table.status());
    auto count = catalog.CountPartitions(table->id);
    auto history = catalog.SchemaHistory(table->id);
    if (!count.ok()) return WriteError(response, count.status());
    if (!history.ok()) return WriteError(response, history.status());
    nlohmann::json out = catalog::ToJson(*table);
    out["partition_count"] = *count;
    out["schema_history"] = nlohmann::json::array();
    for (const auto& version : *history) out["schema_history"].push_back(catalog::ToJson(version));
    WriteJson(response, 200, out);
  });

  Route("GET", R"(/api/catalog/databases/([^/]+)/tables/([^/]+)/partitions)", Access::kViewer, [&catalog](const Request& request, Response& response, const RequestContext&) {
    auto table = catalog.GetTable(request.matches[1], request.matches[2]);
    if (!table.ok()) return WriteError(response, table.status());
    catalog::PartitionFilter filter{.limit = std::clamp<int64_t>(IntParam(request, "limit", 1000), 1, 100000),
                                    .offset = std::max<int64_t>(IntParam(request, "offset", 0), 0)};
    for (const catalog::PartitionKey& key : table->partition_keys) {
      if (request.has_param(key.name.c_str())) filter.equals[key.name] = request.get_param_value(key.name.c_str());
    }
    auto partitions = catalog.ListPartitions(table->id, filter);
    if (!partitions.ok()) return WriteError(response, partitions.status());
    nlohmann::json list = nlohmann::json::array();
    for (const auto& partition : *partitions) list.push_back(catalog::ToJson(partition));
    WriteJson(response, 200, {{"partitions", list}});
  });

  Route("DELETE", R"(/api/catalog/databases/([^/]+)/tables/([^/]+))", Access::kEditor, [&catalog](const Request& request, Response& response, const RequestContext&) {
    Status dropped = catalog.DropTable(request.matches[1], request.matches[2]);
    if (!dropped.ok()) return WriteError(response, dropped);
    WriteJson(response, 200, {{"dropped", std::string(request.matches[1]) + "." + std::string(request.matches[2])}});
  });

  // --- crawlers --------------------------------------------------------------------------
  Route("GET", "/api/crawlers", Access::kViewer, [this](const Request&, Response& response, const RequestContext&) {
    auto list = crawler_->store().List();
    if (!list.ok()) return WriteError(response, list.status());
    nlohmann::json out = nlohmann::json::array();
    for (const auto& definition : *list) out.push_back(crawler::ToJson(definition));
    WriteJson(response, 200, {{"crawlers", out}});
  });

  Route("POST", "/api/crawlers", Access::kEditor, [this](const Request& request, Response& response, const RequestContext&) {
    Result<nlohmann::json> body = ParseJsonBody(request.body);
    if (!body.ok()) return WriteError(response, body.status());
    Result<crawler::CrawlerDefinition> definition = crawler::CrawlerFromJson(*body);
    if (!definition.ok()) return WriteError(response, definition.status());
    if (Status created = crawler_->store().Create(*definition); !created.ok()) return WriteError(response, created);
    WriteJson(response, 201, crawler::ToJson(*definition));
  });

  Route("GET", R"(/api/crawlers/([^/]+))", Access::kViewer, [this](const Request& request, Response& response, const RequestContext&) {
    auto definition = crawler_->store().Get(request.matches[1]);
    if (!definition.ok()) return WriteError(response, definition.status());
    auto runs = crawler_->store().ListRuns(request.matches[1], 10);
    if (!runs.ok()) return WriteError(response, runs.status());
    nlohmann::json out = crawler::ToJson(*definition);
    out["recent_runs"] = *runs;
    WriteJson(response, 200, out);
  });

  Route("DELETE", R"(/api/crawlers/([^/]+))", Access::kEditor, [this](const Request& request, Response& response, const RequestContext&) {
    if (Status deleted = crawler_->store().Delete(request.matches[1]); !deleted.ok()) return WriteError(response, deleted);
    WriteJson(response, 200, {{"deleted", std::string(request.matches[1])}});
  });

  // Runs synchronously and answers with the run report; a stopping server cancels it.
  Route("POST", R"(/api/crawlers/([^/]+)/run)", Access::kEditor, [this](const Request& request, Response& response, const RequestContext&) {
    crawler::CrawlOptions options;
    options.cancel = &stopping_;
    auto report = crawler_->Run(request.matches[1], options);
    if (!report.ok()) return WriteError(response, report.status());
    WriteJson(response, 200, report->ToJson());
  });
}

}  // namespace basin::server

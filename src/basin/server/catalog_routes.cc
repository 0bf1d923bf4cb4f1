// The catalog and crawlers over HTTP: viewers read, editors change and run crawlers.
#include <charconv>

#include <httplib.h>

#include "basin/catalog/catalog_json.h"
#include "basin/server/api_server.h"
#include "basin/server/json_body.h"

namespace basin::server {
namespace {

int64_t IntParam(const httplib::Request& request, const char* name, int64_t fallback) {
  std::string text = request.get_param_value(name);
  int64_t value = fallback;
  if (!text.empty())
    std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

}  // namespace

void ApiServer::RegisterCatalogRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  if (crawler_ == nullptr)
    return;
  catalog::Catalog& catalog = crawler_->catalog();

  Route("GET", "/api/catalog/databases", Access::kViewer,
        [&catalog](const Request&, Response& response, const RequestContext&) {
          auto names = catalog.ListDatabases();
          if (!names.ok())
            return WriteError(response, names.status());
          WriteJson(response, 200, {{"databases", *names}});
        });

  Route("POST", "/api/catalog/databases", Access::kEditor,
        [&catalog](const Request& request, Response& response, const RequestContext&) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          Result<std::string> name = RequiredString(*body, "name");
          if (!name.ok())
            return WriteError(response, name.status());
          Status created = catalog.CreateDatabase(*name, body->value("description", ""));
          if (!created.ok())
            return WriteError(response, created);
          WriteJson(response, 201, {{"database", *name}});
        });

  Route("DELETE", R"(/api/catalog/databases/([^/]+))", Access::kEditor,
        [&catalog](const Request& request, Response& response, const RequestContext&) {
          Status dropped = catalog.DropDatabase(request.matches[1],
                                                request.get_param_value("cascade") == "true");
          if (!dropped.ok())
            return WriteError(response, dropped);
          WriteJson(response, 200, {{"dropped", std::string(request.matches[1])}});
        });

  Route("GET", R"(/api/catalog/databases/([^/]+)/tables)", Access::kViewer,
        [&catalog](const Request& request, Response& response, const RequestContext&) {
          auto tables = catalog.ListTables(request.matches[1]);
          if (!tables.ok())
            return WriteError(response, tables.status());
          nlohmann::json list = nlohmann::json::array();
          for (const auto& table : *tables)
            list.push_back(catalog::ToJson(table));
          WriteJson(response, 200, {{"tables", list}});
        });

  Route("GET", R"(/api/catalog/databases/([^/]+)/tables/([^/]+))", Access::kViewer,
        [&catalog](const Request& request, Response& response, const RequestContext&) {
          auto table = catalog.GetTable(request.matches[1], request.matches[2]);
          if (!table.ok())
            return WriteError(response, table.status());
          auto count = catalog.CountPartitions(table->id);
          auto history = catalog.SchemaHistory(table->id);
          if (!count.ok())
            return WriteError(response, count.status());
          if (!history.ok())
            return WriteError(response, history.status());
          nlohmann::json out = catalog::ToJson(*table);
          out["partition_count"] = *count;
          out["schema_history"] = nlohmann::json::array();
          for (const auto& version : *history)
            out["schema_history"].push_back(catalog::ToJson(version));
          WriteJson(response, 200, out);
        });

  Route("GET", R"(/api/catalog/databases/([^/]+)/tables/([^/]+)/partitions)", Access::kViewer,
        [&catalog](const Request& request, Response& response, const RequestContext&) {
          auto table = catalog.GetTable(request.matches[1], request.matches[2]);
          if (!table.ok())
            return WriteError(response, table.status());
          catalog::PartitionFilter filter{
              .limit = std::clamp<int64_t>(IntParam(request, "limit", 1000), 1, 100000),
              .offset = std::max<int64_t>(IntParam(request, "offset", 0), 0)};
          for (const catalog::PartitionKey& key : table->partition_keys) {
            if (request.has_param(key.name.c_str()))
              filter.equals[key.name] = request.get_param_value(key.name.c_str());
          }
          auto partitions = catalog.ListPartitions(table->id, filter);
          if (!partitions.ok())
            return WriteError(response, partitions.status());
          nlohmann::json list = nlohmann::json::array();
          for (const auto& partition : *partitions)
            list.push_back(catalog::ToJson(partition));
          WriteJson(response, 200, {{"partitions", list}});
        });

  Route("DELETE", R"(/api/catalog/databases/([^/]+)/tables/([^/]+))", Access::kEditor,
        [&catalog](const Request& request, Response& response, const RequestContext&) {
          Status dropped = catalog.DropTable(request.matches[1], request.matches[2]);
          if (!dropped.ok())
            return WriteError(response, dropped);
          WriteJson(response, 200,
                    {{"dropped",
                      std::string(request.matches[1]) + "." + std::string(request.matches[2])}});
        });

  RegisterTableWriteRoutes();
}

// Tables registered, changed and dropped by people (editors).
void ApiServer::RegisterTableWriteRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  if (crawler_ == nullptr)
    return;
  catalog::Catalog& catalog = crawler_->catalog();
  // A table registered by hand: body {"name", "location", "format", "format_options"?,
  // "columns": [{"name","type"}], "partition_keys"?: [{"name","type"}]}.
  Route("POST", R"(/api/catalog/databases/([^/]+)/tables)", Access::kEditor,
        [&catalog](const Request& request, Response& response, const RequestContext& context) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          catalog::TableUpdate update;
          update.replace_columns = true;
          update.changed_by = "user:" + context.principal.user.name;
          catalog::Table& table = update.table;
          std::string format;
          table.database = request.matches[1];
          table.created_by = update.changed_by;
          try {
            table.name = body->at("name").get<std::string>();
            table.location = body->at("location").get<std::string>();
            format = body->at("format").get<std::string>();
            table.format_options =
                body->value("format_options", std::map<std::string, std::string>{});
            for (const auto& column : body->at("columns")) {
              table.columns.push_back({column.at("name").get<std::string>(),
                                       catalog::NormalizeType(column.at("type").get<std::string>()),
                                       column.value("comment", "")});
            }
            for (const auto& key : body->value("partition_keys", nlohmann::json::array())) {
              table.partition_keys.push_back(
                  {key.at("name").get<std::string>(), key.at("type").get<std::string>()});
            }
          } catch (const nlohmann::json::exception& error) {
            Status shape = BodyShapeError(error).value_or(
                Status::InvalidArgument("the body does not have the documented fields"));
            return WriteError(response, shape.WithContext("table definition"));
          }
          if (Result<catalog::TableFormat> parsed = catalog::ParseTableFormat(format); parsed.ok())
            table.format = *parsed;
          else
            return WriteError(response,
                              Status::InvalidArgument("format must be csv, json or parquet"));
          if (table.location.rfind("lake://", 0) != 0 && table.location.rfind("s3://", 0) != 0) {
            return WriteError(
                response,
                Status::InvalidArgument("location must be lake://prefix/ or s3://bucket/prefix/"));
          }
          if (table.location.back() != '/')
            table.location += "/";
          if (catalog.GetTable(table.database, table.name).ok()) {
            return WriteError(response, Status::AlreadyExists("table already exists: " +
                                                              table.database + "." + table.name));
          }
          auto applied = catalog.ApplyTable(update);
          if (!applied.ok())
            return WriteError(response, applied.status());
          WriteJson(response, 201, catalog::ToJson(*catalog.GetTable(table.database, table.name)));
        });

  // Alters columns: body {"add_columns": [{"name","type"}], "drop_columns": ["name"]};
  // records a schema version.
  Route("PATCH", R"(/api/catalog/databases/([^/]+)/tables/([^/]+))", Access::kEditor,
        [&catalog](const Request& request, Response& response, const RequestContext& context) {
          auto table = catalog.GetTable(request.matches[1], request.matches[2]);
          if (!table.ok())
            return WriteError(response, table.status());
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          catalog::TableUpdate update{.table = *table,
                                      .replace_columns = true,
                                      .changed_by = "user:" + context.principal.user.name};
          std::vector<catalog::Column>& columns = update.table.columns;
          try {
            for (const auto& name : body->value("drop_columns", nlohmann::json::array())) {
              auto found =
                  std::find_if(columns.begin(), columns.end(), [&](const catalog::Column& column) {
                    return column.name == name.get<std::string>();
                  });
              if (found == columns.end())
                return WriteError(response,
                                  Status::NotFound("no such column: " + name.get<std::string>()));
              columns.erase(found);
            }
            for (const auto& column : body->value("add_columns", nlohmann::json::array())) {
              columns.push_back({column.at("name").get<std::string>(),
                                 catalog::NormalizeType(column.at("type").get<std::string>()),
                                 column.value("comment", "")});
            }
          } catch (const nlohmann::json::exception& error) {
            Status shape = BodyShapeError(error).value_or(
                Status::InvalidArgument("the body does not have the documented fields"));
            return WriteError(response, shape.WithContext("alter table"));
          }
          auto applied = catalog.ApplyTable(update);
          if (!applied.ok())
            return WriteError(response, applied.status());
          WriteJson(response, 200,
                    {{"schema_version", applied->schema_version}, {"change", applied->change}});
        });

  RegisterPartitionWriteRoutes();
}

// Partitions registered and removed by people (editors).
void ApiServer::RegisterPartitionWriteRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  if (crawler_ == nullptr)
    return;
  catalog::Catalog& catalog = crawler_->catalog();
  // Adds or replaces partitions: body {"partitions": [{"values": [...], "location"?}]}.
  Route("POST", R"(/api/catalog/databases/([^/]+)/tables/([^/]+)/partitions)", Access::kEditor,
        [&catalog](const Request& request, Response& response, const RequestContext& context) {
          auto table = catalog.GetTable(request.matches[1], request.matches[2]);
          if (!table.ok())
            return WriteError(response, table.status());
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          catalog::TableUpdate update{.table = *table,
                                      .replace_columns = true,
                                      .changed_by = "user:" + context.principal.user.name};
          try {
            for (const auto& item : body->at("partitions")) {
              catalog::Partition partition{
                  .values = item.at("values").get<std::vector<std::string>>(),
                  .columns = table->columns};
              if (partition.values.size() != table->partition_keys.size()) {
                return WriteError(
                    response,
                    Status::InvalidArgument("each partition needs one value per partition key (" +
                                            std::to_string(table->partition_keys.size()) + ")"));
              }
              partition.location = item.value("location", "");
              if (partition.location.empty()) {
                partition.location = table->location;
                for (size_t i = 0; i < partition.values.size(); ++i) {
                  partition.location +=
                      table->partition_keys[i].name + "=" + partition.values[i] + "/";
                }
              }
              if (partition.location.back() != '/')
                partition.location += "/";
              update.upsert_partitions.push_back(std::move(partition));
            }
          } catch (const nlohmann::json::exception& error) {
            Status shape = BodyShapeError(error).value_or(
                Status::InvalidArgument("the body does not have the documented fields"));
            return WriteError(response, shape.WithContext("partitions"));
          }
          auto applied = catalog.ApplyTable(update);
          if (!applied.ok())
            return WriteError(response, applied.status());
          WriteJson(response, 200, {{"partitions", update.upsert_partitions.size()}});
        });

  Route("DELETE", R"(/api/catalog/databases/([^/]+)/tables/([^/]+)/partitions)", Access::kEditor,
        [&catalog](const Request& request, Response& response, const RequestContext& context) {
          auto table = catalog.GetTable(request.matches[1], request.matches[2]);
          if (!table.ok())
            return WriteError(response, table.status());
          std::string location = request.get_param_value("location");
          if (location.empty())
            return WriteError(response,
                              Status::InvalidArgument("missing query parameter 'location'"));
          if (location.back() != '/')
            location += "/";
          auto partitions = catalog.ListPartitions(table->id, {.limit = int64_t{1} << 40});
          if (!partitions.ok())
            return WriteError(response, partitions.status());
          if (std::none_of(partitions->begin(), partitions->end(),
                           [&](const catalog::Partition& partition) {
                             return partition.location == location;
                           })) {
            return WriteError(response, Status::NotFound("no partition at " + location));
          }
          catalog::TableUpdate update{.table = *table,
                                      .replace_columns = true,
                                      .changed_by = "user:" + context.principal.user.name};
          update.remove_partitions.push_back(location);
          auto applied = catalog.ApplyTable(update);
          if (!applied.ok())
            return WriteError(response, applied.status());
          WriteJson(response, 200, {{"dropped", update.remove_partitions[0]}});
        });

  RegisterCrawlerRoutes();
}

// Crawlers: viewers read them, editors change and run them.
void ApiServer::RegisterCrawlerRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  if (crawler_ == nullptr)
    return;
  // --- crawlers --------------------------------------------------------------------------
  Route("GET", "/api/crawlers", Access::kViewer,
        [this](const Request&, Response& response, const RequestContext&) {
          auto list = crawler_->store().List();
          if (!list.ok())
            return WriteError(response, list.status());
          nlohmann::json out = nlohmann::json::array();
          for (const auto& definition : *list)
            out.push_back(crawler::ToJson(definition));
          WriteJson(response, 200, {{"crawlers", out}});
        });

  Route("POST", "/api/crawlers", Access::kEditor,
        [this](const Request& request, Response& response, const RequestContext&) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          Result<crawler::CrawlerDefinition> definition = crawler::CrawlerFromJson(*body);
          if (!definition.ok())
            return WriteError(response, definition.status());
          if (Status created = crawler_->store().Create(*definition); !created.ok())
            return WriteError(response, created);
          WriteJson(response, 201, crawler::ToJson(*definition));
        });

  Route("GET", R"(/api/crawlers/([^/]+))", Access::kViewer,
        [this](const Request& request, Response& response, const RequestContext&) {
          auto definition = crawler_->store().Get(request.matches[1]);
          if (!definition.ok())
            return WriteError(response, definition.status());
          auto runs = crawler_->store().ListRuns(request.matches[1], 10);
          if (!runs.ok())
            return WriteError(response, runs.status());
          nlohmann::json out = crawler::ToJson(*definition);
          out["recent_runs"] = *runs;
          WriteJson(response, 200, out);
        });

  Route("DELETE", R"(/api/crawlers/([^/]+))", Access::kEditor,
        [this](const Request& request, Response& response, const RequestContext&) {
          if (Status deleted = crawler_->store().Delete(request.matches[1]); !deleted.ok())
            return WriteError(response, deleted);
          WriteJson(response, 200, {{"deleted", std::string(request.matches[1])}});
        });

  // Runs synchronously and answers with the run report; a stopping server cancels it.
  Route("POST", R"(/api/crawlers/([^/]+)/run)", Access::kEditor,
        [this](const Request& request, Response& response, const RequestContext&) {
          auto report = crawls_->Run(request.matches[1], {.cancel = &stopping_});
          if (!report.ok())
            return WriteError(response, report.status());
          WriteJson(response, 200, report->ToJson());
        });
}

}  // namespace basin::server

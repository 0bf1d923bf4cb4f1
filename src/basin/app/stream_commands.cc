// basin stream ...: delivery stream definitions in the metadata database. The command line
// acts with the home's full authority (it opens the database itself). Flags become the
// same JSON fields the API takes, so both validate alike.
#include <cstdio>
#include <iostream>
#include <vector>

#include <CLI/CLI.hpp>

#include "basin/app/cli.h"
#include "basin/app/server_client.h"
#include "basin/app/stream_put_command.h"
#include "basin/common/time_format.h"
#include "basin/stream/stream_store.h"

namespace basin::app {
namespace {

struct ServerFlags {
  std::optional<std::string> url, token;
};

// The definition flags of create and update, and which of them were given.
struct DefinitionFlags {
  std::string table, prefix, prefix_expression, error_prefix, format, compression, unknown_fields;
  int64_t buffer_seconds = 0, buffer_mib = 0, max_record_bytes = 0;
  std::vector<std::pair<std::string, CLI::Option*>> text_options;
  std::vector<std::pair<std::string, CLI::Option*>> integer_options;
  std::vector<std::string*> text_values;
  std::vector<int64_t*> integer_values;
};

void AddDefinitionOptions(CLI::App* command, DefinitionFlags& flags, bool table_required) {
  struct Text {
    const char* flag;
    const char* field;
    std::string* value;
    const char* help;
  };
  for (const Text& text : {
           Text{"--table", "table", &flags.table, "Destination table: DATABASE.TABLE"},
           Text{"--prefix", "prefix", &flags.prefix,
                "Lake URL of the delivered files (default lake://streams/DB/TABLE/)"},
           Text{"--prefix-expression", "prefix_expression", &flags.prefix_expression,
                "Folders per record, e.g. 'dt=!{timestamp:yyyy-MM-dd}/event=!{field:type}/' ('' "
                "for none)"},
           Text{"--error-prefix", "error_prefix", &flags.error_prefix,
                "Lake URL of records that cannot be delivered (default "
                "lake://streams/_errors/NAME/)"},
           Text{"--format", "format", &flags.format, "parquet (default) or ndjson"},
           Text{"--compression", "compression", &flags.compression,
                "none (default), gzip or zstd (ndjson only)"},
           Text{"--unknown-fields", "unknown_fields", &flags.unknown_fields,
                "Fields the table lacks: add_column (default) or error"},
       }) {
    CLI::Option* option = command->add_option(text.flag, *text.value, text.help);
    if (table_required && std::string_view(text.flag) == "--table")
      option->required();
    flags.text_options.emplace_back(text.field, option);
    flags.text_values.push_back(text.value);
  }
  struct Integer {
    const char* flag;
    const char* field;
    int64_t* value;
    const char* help;
  };
  for (const Integer& integer : {
           Integer{"--buffer-seconds", "buffer_seconds", &flags.buffer_seconds,
                   "Deliver after this many seconds, 0-900 (default 60)"},
           Integer{"--buffer-mib", "buffer_mib", &flags.buffer_mib,
                   "Deliver at this many MiB, 1-128 (default 8)"},
           Integer{"--max-record-bytes", "max_record_bytes", &flags.max_record_bytes,
                   "Largest record accepted, up to 1024000 (default)"},
       }) {
    flags.integer_options.emplace_back(
        integer.field, command->add_option(integer.flag, *integer.value, integer.help));
    flags.integer_values.push_back(integer.value);
  }
}

// The definition fields of the flags given, as the API's JSON.
nlohmann::json GivenFields(const DefinitionFlags& flags) {
  nlohmann::json fields = nlohmann::json::object();
  for (size_t i = 0; i < flags.text_options.size(); ++i) {
    if (flags.text_options[i].second->count() > 0)
      fields[flags.text_options[i].first] = *flags.text_values[i];
  }
  for (size_t i = 0; i < flags.integer_options.size(); ++i) {
    if (flags.integer_options[i].second->count() > 0) {
      fields[flags.integer_options[i].first] = *flags.integer_values[i];
    }
  }
  return fields;
}

Status CheckTableFlag(const nlohmann::json& fields) {
  if (!fields.contains("table"))
    return Status::OK();
  std::string table = fields["table"].get<std::string>();
  if (table.find('.') == std::string::npos) {
    return Status::InvalidArgument("--table must be DATABASE.TABLE, got '" + table + "'");
  }
  return Status::OK();
}

Result<stream::StreamStore> OpenStore(const GlobalFlags& flags, std::unique_ptr<Home>& home) {
  return OpenMetadataStore<stream::StreamStore>(flags, home);
}

void PrintDescription(const stream::StoredStream& stored) {
  const stream::StreamDefinition& d = stored.definition;
  std::string keys;
  nlohmann::json json = stream::ToJson(d);
  for (const auto& key : json["partition_keys"]) {
    keys += (keys.empty() ? "" : ", ") + key["name"].get<std::string>() + " " +
            key["type"].get<std::string>();
  }
  std::cout << "name:              " << d.name << "\n"
            << "table:             " << d.database << "." << d.table << "\n"
            << "prefix:            " << d.prefix << "\n"
            << "prefix expression: " << (d.prefix_expression.empty() ? "-" : d.prefix_expression)
            << "\n"
            << "partition keys:    " << (keys.empty() ? "-" : keys) << "\n"
            << "error prefix:      " << d.error_prefix << "\n"
            << "format:            " << stream::OutputFormatName(d.format)
            << (d.format == stream::OutputFormat::kNdjson
                    ? " (" + std::string(stream::CompressionName(d.compression)) + ")"
                    : "")
            << "\n"
            << "buffering:         " << d.buffer_seconds << " s or " << d.buffer_mib << " MiB\n"
            << "unknown fields:    " << stream::UnknownFieldPolicyName(d.unknown_fields) << "\n"
            << "max record bytes:  " << d.max_record_bytes << "\n"
            << "created:           " << FormatIso8601(stored.created_at) << "\n"
            << "updated:           " << FormatIso8601(stored.updated_at) << std::endl;
}

int RunCreate(const GlobalFlags& flags, const std::string& name,
              const DefinitionFlags& definition_flags) {
  nlohmann::json fields = GivenFields(definition_flags);
  if (Status table = CheckTableFlag(fields); !table.ok())
    return ReportError(table);
  fields["name"] = name;
  Result<stream::StreamDefinition> definition = stream::StreamFromJson(fields);
  if (!definition.ok())
    return ReportError(definition.status());
  std::unique_ptr<Home> home;
  Result<stream::StreamStore> store = OpenStore(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  Result<stream::StoredStream> created = store->Create(*definition);
  if (!created.ok())
    return ReportError(created.status());
  if (flags.json) {
    PrintJson(stream::ToJson(*created));
  } else {
    std::cout << "created stream " << name << " -> " << created->definition.database << "."
              << created->definition.table << " at " << created->definition.prefix
              << created->definition.prefix_expression << std::endl;
  }
  return kExitOk;
}

int RunList(const GlobalFlags& flags) {
  std::unique_ptr<Home> home;
  Result<stream::StreamStore> store = OpenStore(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  auto streams = store->List();
  if (!streams.ok())
    return ReportError(streams.status());
  if (flags.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& stored : *streams)
      list.push_back(stream::ToJson(stored));
    PrintJson(list);
    return kExitOk;
  }
  for (const auto& stored : *streams) {
    const stream::StreamDefinition& d = stored.definition;
    std::string table = d.database + "." + d.table;
    std::string buffering =
        std::to_string(d.buffer_seconds) + "s/" + std::to_string(d.buffer_mib) + "MiB";
    std::printf("%-32s %-32s %-8s %-10s %s%s\n", d.name.c_str(), table.c_str(),
                std::string(stream::OutputFormatName(d.format)).c_str(), buffering.c_str(),
                d.prefix.c_str(), d.prefix_expression.c_str());
  }
  return kExitOk;
}

// The stream's live counters from the running server (they live in its memory), or why
// there are none.
Result<nlohmann::json> LiveStats(Home& home, const std::string& name, const ServerFlags& server) {
  BASIN_ASSIGN_OR_RETURN(std::unique_ptr<ServerClient> client,
                         ServerClient::Connect(home, server.url, server.token));
  BASIN_ASSIGN_OR_RETURN(ServerResponse response, client->Get("/api/streams/" + name));
  if (response.status != 200)
    return Status::Unavailable(client->url() + ": " + ErrorMessageOf(response));
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (!body.is_object() || !body["stats"].is_object())
    return Status::Unavailable(client->url() + " does not deliver streams");
  return body["stats"];
}

void PrintStats(const nlohmann::json& stats) {
  auto integer = [&](const char* key) {
    return stats.value(key, int64_t{0});
  };
  std::printf(
      "stats (since the server started):\n"
      "  incoming:          %lld records, %s\n"
      "  delivered:         %lld records in %lld object(s), %s\n"
      "  failed records:    %lld (in the error prefix)\n"
      "  buffered:          %lld records, oldest %.1f s old\n",
      static_cast<long long>(integer("incoming_records")),
      HumanBytes(static_cast<uint64_t>(integer("incoming_bytes"))).c_str(),
      static_cast<long long>(integer("delivered_records")),
      static_cast<long long>(integer("delivered_objects")),
      HumanBytes(static_cast<uint64_t>(integer("delivered_bytes"))).c_str(),
      static_cast<long long>(integer("failed_records")),
      static_cast<long long>(integer("buffered_records")),
      stats.value("oldest_undelivered_age_seconds", 0.0));
  std::string error = stats.value("last_delivery_error", "");
  std::printf("  last error:        %s\n", error.empty() ? "-" : error.c_str());
  if (stats.value("refusing", false))
    std::printf("  REFUSING records:  deliveries failing for %.0f s\n",
                stats.value("failing_for_seconds", 0.0));
}

int RunDescribe(const GlobalFlags& flags, const std::string& name, const ServerFlags& server) {
  std::unique_ptr<Home> home;
  Result<stream::StreamStore> store = OpenStore(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  Result<stream::StoredStream> stored = store->Get(name);
  if (!stored.ok())
    return ReportError(stored.status());
  Result<nlohmann::json> stats = LiveStats(*home, name, server);
  if (flags.json) {
    nlohmann::json described = stream::ToJson(*stored);
    described["stats"] = stats.ok() ? *stats : nlohmann::json();
    if (!stats.ok())
      described["stats_unavailable"] = stats.status().message();
    PrintJson(described);
  } else {
    PrintDescription(*stored);
    if (stats.ok())
      PrintStats(*stats);
    else
      std::printf("stats:             none (%s)\n", stats.status().message().c_str());
  }
  return kExitOk;
}

int RunUpdate(const GlobalFlags& flags, const std::string& name,
              const DefinitionFlags& definition_flags) {
  nlohmann::json fields = GivenFields(definition_flags);
  if (fields.empty()) {
    return ReportError(Status::InvalidArgument(
        "nothing to change: give at least one flag, e.g. --buffer-seconds"));
  }
  if (Status table = CheckTableFlag(fields); !table.ok())
    return ReportError(table);
  Result<stream::StreamChanges> changes = stream::StreamChangesFromJson(fields);
  if (!changes.ok())
    return ReportError(changes.status());
  std::unique_ptr<Home> home;
  Result<stream::StreamStore> store = OpenStore(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  Result<stream::StoredStream> updated = store->Update(name, *changes);
  if (!updated.ok())
    return ReportError(updated.status());
  if (flags.json) {
    PrintJson(stream::ToJson(*updated));
  } else {
    std::cout << "updated stream " << name << std::endl;
  }
  return kExitOk;
}

int RunDelete(const GlobalFlags& flags, const std::string& name) {
  std::unique_ptr<Home> home;
  Result<stream::StreamStore> store = OpenStore(flags, home);
  if (!store.ok())
    return ReportError(store.status());
  return ReportDeleted(flags, store->Delete(name), "stream", name);
}

}  // namespace

void AddStreamCommands(CLI::App& app, GlobalFlags& flags, int& exit_code) {
  static DefinitionFlags create_flags, update_flags;
  static std::string name;
  CLI::App* streams = app.add_subcommand(
      "stream", "Delivery streams: records pushed over HTTP, delivered to a table");
  streams->require_subcommand(1);

  CLI::App* create = streams->add_subcommand("create", "Create a delivery stream into a table");
  create->add_option("name", name, "Name: 1-64 letters, digits, '_', '-', '.'")->required();
  AddDefinitionOptions(create, create_flags, /*table_required=*/true);
  create->callback([&] { exit_code = RunCreate(flags, name, create_flags); });

  CLI::App* list = streams->add_subcommand("list", "List delivery streams by name");
  list->callback([&] { exit_code = RunList(flags); });

  static ServerFlags server;
  auto add_server_options = [](CLI::App* command) {
    command->add_option("--url", server.url,
                        "The server (default: BASIN_URL, else the one running on this home)");
    command->add_option("--token", server.token,
                        "API token (default: BASIN_TOKEN, else a short session of an admin)");
  };
  CLI::App* describe = streams->add_subcommand(
      "describe", "Show a stream's definition and its live stats (from the running server)");
  describe->add_option("name", name, "Name")->required();
  add_server_options(describe);
  describe->callback([&] { exit_code = RunDescribe(flags, name, server); });

  static StreamPutFlags put;
  CLI::App* put_command = streams->add_subcommand(
      "put", "Send records (NDJSON, or one JSON array) from a file or stdin to a stream");
  put_command->add_option("name", put.name, "Stream name")->required();
  put_command->add_option("file", put.file, "File of records, or - for stdin")->required();
  add_server_options(put_command);
  put_command->callback([&] {
    put.url = server.url;
    put.token = server.token;
    exit_code = RunStreamPut(flags, put);
  });

  CLI::App* update =
      streams->add_subcommand("update", "Change a stream's definition (flags left out stay)");
  update->add_option("name", name, "Name")->required();
  AddDefinitionOptions(update, update_flags, /*table_required=*/false);
  update->callback([&] { exit_code = RunUpdate(flags, name, update_flags); });

  CLI::App* remove = streams->add_subcommand("delete", "Delete a stream's definition");
  remove->add_option("name", name, "Name")->required();
  remove->callback([&] { exit_code = RunDelete(flags, name); });
}

}  // namespace basin::app

#include "basin/stream/stream_definition.h"

#include <set>
#include <utility>

#include "basin/catalog/catalog.h"
#include "basin/common/plain_name.h"
#include "basin/stream/prefix_expression.h"

namespace basin::stream {
namespace {

using nlohmann::json;

constexpr size_t kMaxNameLength = 64;

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
std::string_view ChoiceName(Enum value, const std::pair<const char*, Enum> (&choices)[N]) {
  for (const auto& [name, choice] : choices) {
    if (choice == value)
      return name;
  }
  return "";
}

constexpr std::pair<const char*, OutputFormat> kFormats[] = {{"parquet", OutputFormat::kParquet},
                                                             {"ndjson", OutputFormat::kNdjson}};
constexpr std::pair<const char*, Compression> kCompressions[] = {
    {"none", Compression::kNone}, {"gzip", Compression::kGzip}, {"zstd", Compression::kZstd}};
constexpr std::pair<const char*, UnknownFieldPolicy> kUnknownFieldPolicies[] = {
    {"add_column", UnknownFieldPolicy::kAddColumn}, {"error", UnknownFieldPolicy::kError}};

// Fields a client may send, and those ToJson adds that are read back without effect.
const std::set<std::string, std::less<>> kFields = {
    "name",           "database",        "table",       "prefix",         "prefix_expression",
    "error_prefix",   "format",          "compression", "buffer_seconds", "buffer_mib",
    "unknown_fields", "max_record_bytes"};
const std::set<std::string, std::less<>> kDerivedFields = {"partition_keys", "created_at",
                                                           "updated_at"};

Status CheckRange(std::string_view field, int64_t value, int64_t min, int64_t max) {
  if (value >= min && value <= max)
    return Status::OK();
  return Status::InvalidArgument(std::string(field) + " must be " + std::to_string(min) + " to " +
                                 std::to_string(max) + ", got " + std::to_string(value));
}

// A lake URL that objects go under, with a trailing '/'.
Result<std::string> NormalizePrefix(std::string_view field, std::string url) {
  bool lake = url.rfind("lake://", 0) == 0;
  bool s3 = url.rfind("s3://", 0) == 0;
  size_t rest = lake ? 7 : 5;
  if ((!lake && !s3) || url.size() <= rest || url[rest] == '/') {
    return Status::InvalidArgument(
        std::string(field) + " must be lake://folder/ or s3://bucket/folder/, got '" + url + "'");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return Status::InvalidArgument(std::string(field) + " must not contain control characters");
    }
  }
  if (url.back() != '/')
    url.push_back('/');
  if (url.find("//", rest) != std::string::npos ||
      url.find("/../", rest - 1) != std::string::npos ||
      url.find("/./", rest - 1) != std::string::npos) {
    return Status::InvalidArgument(std::string(field) +
                                   " must not have empty, '.' or '..' folders, got '" + url + "'");
  }
  return url;
}

Result<std::optional<std::string>> ReadString(const json& input, const char* field) {
  if (!input.contains(field))
    return std::optional<std::string>();
  if (!input[field].is_string())
    return Status::InvalidArgument("field '" + std::string(field) + "' must be a string");
  return std::optional(input[field].get<std::string>());
}

Result<std::optional<int64_t>> ReadInteger(const json& input, const char* field) {
  if (!input.contains(field))
    return std::optional<int64_t>();
  const json& value = input[field];
  if (!value.is_number_integer() ||
      (value.is_number_unsigned() && value.get<uint64_t>() > INT64_MAX)) {
    return Status::InvalidArgument("field '" + std::string(field) + "' must be an integer");
  }
  return std::optional(value.get<int64_t>());
}

// An int field: the range is checked here, before the value is narrowed.
Result<std::optional<int>> ReadInt(const json& input, const char* field, int min, int max) {
  BASIN_ASSIGN_OR_RETURN(std::optional<int64_t> value, ReadInteger(input, field));
  if (!value)
    return std::optional<int>();
  BASIN_RETURN_IF_ERROR(CheckRange(field, *value, min, max));
  return std::optional(static_cast<int>(*value));
}

template <typename Enum>
Result<std::optional<Enum>> ReadChoice(const json& input, const char* field,
                                       Result<Enum> (*parse)(std::string_view)) {
  BASIN_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadString(input, field));
  if (!text)
    return std::optional<Enum>();
  BASIN_ASSIGN_OR_RETURN(Enum value, parse(*text));
  return std::optional(value);
}

// Every field but "name", as changes to a definition.
Result<StreamChanges> ReadChanges(const json& input) {
  if (!input.is_object())
    return Status::InvalidArgument("a stream definition must be a JSON object");
  for (const auto& [key, value] : input.items()) {
    if (!kFields.contains(key) && !kDerivedFields.contains(key)) {
      return Status::InvalidArgument("unknown field '" + key + "' in a stream definition");
    }
  }
  StreamChanges changes;
  BASIN_ASSIGN_OR_RETURN(changes.database, ReadString(input, "database"));
  BASIN_ASSIGN_OR_RETURN(changes.table, ReadString(input, "table"));
  if (!changes.database && changes.table && changes.table->find('.') != std::string::npos) {
    size_t dot = changes.table->find('.');
    changes.database = changes.table->substr(0, dot);
    changes.table = changes.table->substr(dot + 1);
  }
  BASIN_ASSIGN_OR_RETURN(changes.prefix, ReadString(input, "prefix"));
  BASIN_ASSIGN_OR_RETURN(changes.prefix_expression, ReadString(input, "prefix_expression"));
  BASIN_ASSIGN_OR_RETURN(changes.error_prefix, ReadString(input, "error_prefix"));
  BASIN_ASSIGN_OR_RETURN(changes.format,
                         ReadChoice<OutputFormat>(input, "format", ParseOutputFormat));
  BASIN_ASSIGN_OR_RETURN(changes.compression,
                         ReadChoice<Compression>(input, "compression", ParseCompression));
  BASIN_ASSIGN_OR_RETURN(changes.buffer_seconds,
                         ReadInt(input, "buffer_seconds", kMinBufferSeconds, kMaxBufferSeconds));
  BASIN_ASSIGN_OR_RETURN(changes.buffer_mib,
                         ReadInt(input, "buffer_mib", kMinBufferMib, kMaxBufferMib));
  BASIN_ASSIGN_OR_RETURN(
      changes.unknown_fields,
      ReadChoice<UnknownFieldPolicy>(input, "unknown_fields", ParseUnknownFieldPolicy));
  BASIN_ASSIGN_OR_RETURN(changes.max_record_bytes, ReadInteger(input, "max_record_bytes"));
  return changes;
}

}  // namespace

Result<OutputFormat> ParseOutputFormat(std::string_view text) {
  return ParseChoice(text, kFormats, "format");
}
Result<Compression> ParseCompression(std::string_view text) {
  return ParseChoice(text, kCompressions, "compression");
}
Result<UnknownFieldPolicy> ParseUnknownFieldPolicy(std::string_view text) {
  return ParseChoice(text, kUnknownFieldPolicies, "unknown_fields policy");
}
std::string_view OutputFormatName(OutputFormat format) {
  return ChoiceName(format, kFormats);
}
std::string_view CompressionName(Compression compression) {
  return ChoiceName(compression, kCompressions);
}
std::string_view UnknownFieldPolicyName(UnknownFieldPolicy policy) {
  return ChoiceName(policy, kUnknownFieldPolicies);
}

Status ValidateStreamName(std::string_view name) {
  if (!IsPlainName(name, kMaxNameLength)) {
    return Status::InvalidArgument("a stream name is 1-64 letters, digits, '_', '-' or '.', got '" +
                                   std::string(name.substr(0, kMaxNameLength)) + "'");
  }
  return Status::OK();
}

std::string DefaultPrefix(std::string_view database, std::string_view table) {
  return "lake://streams/" + std::string(database) + "/" + std::string(table) + "/";
}

std::string DefaultErrorPrefix(std::string_view name) {
  return "lake://streams/_errors/" + std::string(name) + "/";
}

Result<StreamDefinition> ValidateStreamDefinition(StreamDefinition definition) {
  BASIN_RETURN_IF_ERROR(ValidateStreamName(definition.name));
  BASIN_RETURN_IF_ERROR(catalog::ValidateName(definition.database, "database"));
  BASIN_RETURN_IF_ERROR(catalog::ValidateName(definition.table, "table"));
  if (definition.prefix.empty())
    definition.prefix = DefaultPrefix(definition.database, definition.table);
  BASIN_ASSIGN_OR_RETURN(definition.prefix, NormalizePrefix("prefix", definition.prefix));
  if (definition.error_prefix.empty())
    definition.error_prefix = DefaultErrorPrefix(definition.name);
  BASIN_ASSIGN_OR_RETURN(definition.error_prefix,
                         NormalizePrefix("error_prefix", definition.error_prefix));
  // Table scans read everything under the prefix except '_' and '.' folders: error
  // records inside it would be read as data.
  if (definition.error_prefix.rfind(definition.prefix, 0) == 0) {
    std::string_view below =
        std::string_view(definition.error_prefix).substr(definition.prefix.size());
    if (below.empty() || below[0] != '_') {
      return Status::InvalidArgument("error_prefix '" + definition.error_prefix +
                                     "' is inside prefix '" + definition.prefix +
                                     "': put it in a folder whose name starts with '_'");
    }
  }
  if (!definition.prefix_expression.empty() && definition.prefix_expression.back() != '/') {
    definition.prefix_expression.push_back('/');
  }
  Result<PrefixExpression> expression = PrefixExpression::Parse(definition.prefix_expression);
  if (!expression.ok())
    return Status::InvalidArgument("prefix_expression: " + expression.status().message());
  if (definition.format == OutputFormat::kParquet && definition.compression != Compression::kNone) {
    return Status::InvalidArgument(
        "compression '" + std::string(CompressionName(definition.compression)) +
        "' applies to format ndjson only (Parquet compresses inside the file)");
  }
  BASIN_RETURN_IF_ERROR(CheckRange("buffer_seconds", definition.buffer_seconds, kMinBufferSeconds,
                                   kMaxBufferSeconds));
  BASIN_RETURN_IF_ERROR(
      CheckRange("buffer_mib", definition.buffer_mib, kMinBufferMib, kMaxBufferMib));
  BASIN_RETURN_IF_ERROR(
      CheckRange("max_record_bytes", definition.max_record_bytes, 1, kMaxRecordBytesLimit));
  return definition;
}

json ToJson(const StreamDefinition& definition) {
  json keys = json::array();
  if (Result<PrefixExpression> expression = PrefixExpression::Parse(definition.prefix_expression);
      expression.ok()) {
    for (const catalog::PartitionKey& key : expression->PartitionKeys()) {
      keys.push_back({{"name", key.name}, {"type", key.type}});
    }
  }
  return {{"name", definition.name},
          {"database", definition.database},
          {"table", definition.table},
          {"prefix", definition.prefix},
          {"prefix_expression", definition.prefix_expression},
          {"error_prefix", definition.error_prefix},
          {"format", OutputFormatName(definition.format)},
          {"compression", CompressionName(definition.compression)},
          {"buffer_seconds", definition.buffer_seconds},
          {"buffer_mib", definition.buffer_mib},
          {"unknown_fields", UnknownFieldPolicyName(definition.unknown_fields)},
          {"max_record_bytes", definition.max_record_bytes},
          {"partition_keys", keys}};
}

Result<StreamDefinition> StreamFromJson(const json& input) {
  if (!input.is_object())
    return Status::InvalidArgument("a stream definition must be a JSON object");
  BASIN_ASSIGN_OR_RETURN(std::optional<std::string> name, ReadString(input, "name"));
  if (!name)
    return Status::InvalidArgument("field 'name' is required");
  BASIN_ASSIGN_OR_RETURN(StreamChanges fields, ReadChanges(input));
  if (!fields.table)
    return Status::InvalidArgument("field 'table' is required (database.table)");
  if (!fields.database) {
    return Status::InvalidArgument(
        "field 'database' is required, or give 'table' as database.table");
  }
  return ApplyChanges(StreamDefinition{.name = *name}, fields);
}

Result<StreamChanges> StreamChangesFromJson(const json& input) {
  if (input.is_object() && input.contains("name")) {
    return Status::InvalidArgument("field 'name' cannot change: a stream cannot be renamed");
  }
  return ReadChanges(input);
}

Result<StreamDefinition> ApplyChanges(const StreamDefinition& definition,
                                      const StreamChanges& changes) {
  StreamDefinition out = definition;
  bool default_prefix = definition.prefix == DefaultPrefix(definition.database, definition.table);
  if (changes.database)
    out.database = *changes.database;
  if (changes.table)
    out.table = *changes.table;
  if (changes.prefix) {
    out.prefix = *changes.prefix;
  } else if (default_prefix) {
    out.prefix.clear();
  }
  if (changes.prefix_expression)
    out.prefix_expression = *changes.prefix_expression;
  if (changes.error_prefix)
    out.error_prefix = *changes.error_prefix;
  if (changes.format)
    out.format = *changes.format;
  if (changes.compression)
    out.compression = *changes.compression;
  if (changes.buffer_seconds)
    out.buffer_seconds = *changes.buffer_seconds;
  if (changes.buffer_mib)
    out.buffer_mib = *changes.buffer_mib;
  if (changes.unknown_fields)
    out.unknown_fields = *changes.unknown_fields;
  if (changes.max_record_bytes)
    out.max_record_bytes = *changes.max_record_bytes;
  return ValidateStreamDefinition(std::move(out));
}

catalog::TableFormat TableFormatOf(const StreamDefinition& definition) {
  return definition.format == OutputFormat::kParquet ? catalog::TableFormat::kParquet
                                                     : catalog::TableFormat::kJson;
}

Status CheckDestinationTable(const StreamDefinition& definition, const catalog::Table& table) {
  const std::string qualified = table.database + "." + table.name;
  auto refuse = [&](const std::string& what) {
    return Status::FailedPrecondition("stream '" + definition.name + "' cannot deliver into " +
                                      qualified + ": " + what);
  };
  if (table.format != TableFormatOf(definition)) {
    return refuse("the table is " + std::string(catalog::TableFormatName(table.format)) +
                  ", the stream writes " +
                  std::string(catalog::TableFormatName(TableFormatOf(definition))));
  }
  if (!definition.prefix.starts_with(table.location)) {
    return refuse("the stream's prefix " + definition.prefix + " is outside the table's location " +
                  table.location);
  }
  if (definition.format == OutputFormat::kNdjson) {
    auto found = table.format_options.find("compression");
    std::string table_compression = found == table.format_options.end() ? "none" : found->second;
    if (table_compression.empty())
      table_compression = "none";
    if (table_compression != CompressionName(definition.compression)) {
      return refuse("the table's objects are compressed with " + table_compression +
                    ", the stream's with " + std::string(CompressionName(definition.compression)));
    }
  }
  BASIN_ASSIGN_OR_RETURN(PrefixExpression expression,
                         ParsePrefixExpression(definition.prefix_expression));
  auto describe = [](const std::vector<catalog::PartitionKey>& keys) {
    std::string text;
    for (const catalog::PartitionKey& key : keys)
      text += (text.empty() ? "" : ", ") + key.name + " " + key.type;
    return text.empty() ? std::string("none") : text;
  };
  if (expression.PartitionKeys() != table.partition_keys) {
    return refuse("the table's partition keys are (" + describe(table.partition_keys) +
                  "), the prefix expression's (" + describe(expression.PartitionKeys()) + ")");
  }
  return Status::OK();
}

}  // namespace basin::stream

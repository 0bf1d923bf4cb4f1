#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "basin/catalog/catalog.h"
#include "basin/common/result.h"

/// Delivery streams: records pushed over HTTP, buffered, and delivered to the lake as
/// partitioned files of a catalog table.
namespace basin::stream {

enum class OutputFormat { kParquet, kNdjson };
enum class Compression { kNone, kGzip, kZstd };
/// What happens to a record with a field the destination table does not have.
enum class UnknownFieldPolicy { kAddColumn, kError };

inline constexpr int kMinBufferSeconds = 0;
inline constexpr int kMaxBufferSeconds = 900;
inline constexpr int kMinBufferMib = 1;
inline constexpr int kMaxBufferMib = 128;
/// Firehose's limit for one record; the default, and the most a stream accepts.
inline constexpr int64_t kMaxRecordBytesLimit = 1000 * 1024;
inline constexpr char kDefaultPrefixExpression[] = "dt=!{timestamp:yyyy-MM-dd}/";

/// A named delivery stream as the user defines it. Empty `prefix` and `error_prefix`
/// mean "the default" until ValidateStreamDefinition fills them in.
struct StreamDefinition {
  std::string name;      // 1-64 letters, digits, '_', '-', '.' (Firehose's rule)
  std::string database;  // destination table: database.table (catalog names)
  std::string table;
  /// Lake URL the delivered objects go under, ending in '/'.
  /// Default: lake://streams/<database>/<table>/.
  std::string prefix;
  /// Folders below `prefix` per record (see prefix_expression.h), ending in '/' once
  /// validated; "" means none (every object directly under `prefix`).
  std::string prefix_expression = kDefaultPrefixExpression;
  /// Lake URL that records which cannot be delivered go to, with the reason. Default:
  /// lake://streams/_errors/<name>/ ('_' folders are skipped by table scans).
  std::string error_prefix;
  OutputFormat format = OutputFormat::kParquet;
  Compression compression = Compression::kNone;  // ndjson only
  /// Buffering hints: a buffer is delivered when it is this old or this large.
  int buffer_seconds = 60;
  int buffer_mib = 8;
  UnknownFieldPolicy unknown_fields = UnknownFieldPolicy::kAddColumn;
  int64_t max_record_bytes = kMaxRecordBytesLimit;

  friend bool operator==(const StreamDefinition&, const StreamDefinition&) = default;
};

/// Fills in the defaults of empty fields, normalises URLs (a trailing '/'), and checks
/// every field. InvalidArgument naming the field and the value otherwise.
Result<StreamDefinition> ValidateStreamDefinition(StreamDefinition definition);

/// The definition as JSON: every field, enums by name ("parquet", "gzip", "add_column"),
/// and "partition_keys" derived from the prefix expression (ignored when read back).
nlohmann::json ToJson(const StreamDefinition& definition);

/// Reads a definition written by ToJson or sent by a client, and validates it. Fields
/// left out take their defaults; "name", "database" and "table" are required, and
/// "table" may be "database.table" when "database" is left out. InvalidArgument naming
/// the field for a wrong type, a bad value or an unknown field.
Result<StreamDefinition> StreamFromJson(const nlohmann::json& json);

/// The fields an update changes; the others stay. The name cannot change.
struct StreamChanges {
  std::optional<std::string> database;
  std::optional<std::string> table;
  std::optional<std::string> prefix;
  std::optional<std::string> prefix_expression;
  std::optional<std::string> error_prefix;
  std::optional<OutputFormat> format;
  std::optional<Compression> compression;
  std::optional<int> buffer_seconds;
  std::optional<int> buffer_mib;
  std::optional<UnknownFieldPolicy> unknown_fields;
  std::optional<int64_t> max_record_bytes;
};

/// Reads changes from a JSON object with the field names of ToJson ("table" may be
/// "database.table"). InvalidArgument for "name", an unknown field or a wrong type.
Result<StreamChanges> StreamChangesFromJson(const nlohmann::json& json);

/// `definition` with `changes` applied and validated. A prefix that was the default for
/// the old destination follows a changed destination (and the same for nothing else).
Result<StreamDefinition> ApplyChanges(const StreamDefinition& definition,
                                      const StreamChanges& changes);

/// Choice names as the CLI and API spell them. InvalidArgument listing the choices.
Result<OutputFormat> ParseOutputFormat(std::string_view text);
Result<Compression> ParseCompression(std::string_view text);
Result<UnknownFieldPolicy> ParseUnknownFieldPolicy(std::string_view text);
std::string_view OutputFormatName(OutputFormat format);
std::string_view CompressionName(Compression compression);
std::string_view UnknownFieldPolicyName(UnknownFieldPolicy policy);

/// The catalog format of the tables a stream writes: "parquet" or "json" (NDJSON).
catalog::TableFormat TableFormatOf(const StreamDefinition& definition);

/// OK when the stream can deliver into the existing `table`; FailedPrecondition naming what
/// differs otherwise: the format, the compression of NDJSON objects, the partition keys of
/// the prefix expression (names and types, in order), or a prefix outside the table's
/// location (table scans list only that location, so the records would never be seen).
Status CheckDestinationTable(const StreamDefinition& definition, const catalog::Table& table);

/// OK when `name` can name a stream: 1-64 letters, digits, '_', '-' or '.'.
Status ValidateStreamName(std::string_view name);

/// The default lake prefix of a destination: "lake://streams/<database>/<table>/".
std::string DefaultPrefix(std::string_view database, std::string_view table);
/// The default error prefix of a stream: "lake://streams/_errors/<name>/".
std::string DefaultErrorPrefix(std::string_view name);

}  // namespace basin::stream

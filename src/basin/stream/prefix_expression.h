#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "basin/catalog/catalog.h"
#include "basin/common/result.h"

namespace basin::stream {

/// The folders a stream writes a record under, Firehose style: literal text plus
///   !{timestamp:FORMAT}          the record's arrival time in UTC; FORMAT uses yyyy, MM,
///                                dd, HH, mm, ss and any character that is not a letter
///   !{field:NAME}, !{field:a.b}  a scalar value of the record (a path into nested objects)
///   !{partitionKeyFromQuery:NAME}  Firehose's spelling of the top-level field NAME
/// e.g. "dt=!{timestamp:yyyy-MM-dd}/event=!{field:type}/". Literal text cannot leave the
/// stream's prefix (no leading '/', no "." or ".." folder, no empty folder, no control
/// characters); values taken from records are sanitized so they cannot either.
///
/// Immutable once parsed; Evaluate is thread-safe.
class PrefixExpression {
 public:
  /// InvalidArgument naming the position (0-based, in bytes) and what is wrong.
  static Result<PrefixExpression> Parse(std::string_view text);

  /// The prefix for one record, relative to the stream's prefix. InvalidArgument naming
  /// the field when the expression reads a field that the record lacks, or whose value is
  /// null, an object or an array (such records go to the error prefix).
  Result<std::string> Evaluate(std::chrono::system_clock::time_point arrival,
                               const nlohmann::json& record) const;

  /// The hive partition keys of the folders: each folder that starts with literal
  /// "key=" is a key. Its type is DATE when the value is exactly
  /// !{timestamp:yyyy-MM-dd}, else VARCHAR. In folder order.
  std::vector<catalog::PartitionKey> PartitionKeys() const;

  /// Whether Evaluate reads the record (false: only the arrival time matters).
  bool ReadsRecord() const;

  const std::string& text() const { return text_; }

 private:
  // One piece of a timestamp format: a date-time field or literal characters.
  enum class TimeField { kLiteral, kYear, kMonth, kDay, kHour, kMinute, kSecond };
  struct TimeToken {
    TimeField field = TimeField::kLiteral;
    std::string literal;  // kLiteral
  };
  enum class PartKind { kLiteral, kTimestamp, kField };
  struct Part {
    PartKind kind = PartKind::kLiteral;
    std::string literal;            // kLiteral
    std::vector<TimeToken> tokens;  // kTimestamp
    std::vector<std::string> path;  // kField: object keys from the top level down
  };
  friend class PrefixExpressionParser;

  std::string text_;
  std::vector<Part> parts_;
  std::vector<catalog::PartitionKey> partition_keys_;
};

/// Parses `text` (see PrefixExpression).
inline Result<PrefixExpression> ParsePrefixExpression(std::string_view text) {
  return PrefixExpression::Parse(text);
}

/// A value made safe as (part of) one folder name: '/', '\\', control characters, glob
/// characters (* ? [ ]) and ".." become '_', a value that is only "." becomes "_", and ""
/// becomes "__empty__". When the value `starts_folder`, a leading '_' or '.' is written
/// "%5F" or "%2E" (table scans skip folders named so).
std::string SanitizePathValue(std::string_view value, bool starts_folder = false);

}  // namespace basin::stream

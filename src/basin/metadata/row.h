#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "basin/common/result.h"

namespace basin::metadata {

/// One SQL value: NULL, a 64-bit integer, a double, or text. Bound as a statement
/// parameter or read back as a column. Binary data is stored as hex text so that every
/// backend treats it alike.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

/// The NULL value, for parameter lists: `{name, kNull}`.
inline constexpr std::monostate kNull{};

/// A NULL value when `value` is empty, else the value.
template <typename T>
Value NullableValue(const std::optional<T>& value) {
  if (!value.has_value())
    return kNull;
  return Value(*value);
}

/// One result row of a query: its values in SELECT order. The typed getters fail with
/// Internal when the column holds another type or the index is out of range: that is a
/// mismatch between the SQL and the code that reads it, never the caller's input.
/// Thread-compatible.
class Row {
 public:
  Row() = default;
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}

  size_t size() const { return values_.size(); }
  const std::vector<Value>& values() const { return values_; }

  /// REQUIRES: index < size().
  const Value& operator[](size_t index) const { return values_[index]; }

  /// True when the column is NULL (false when the index is out of range).
  bool IsNull(size_t index) const;

  /// A non-NULL integer column.
  Result<int64_t> Int(size_t index) const;
  /// A non-NULL numeric column (integers are widened).
  Result<double> Real(size_t index) const;
  /// A non-NULL text column.
  Result<std::string> Text(size_t index) const;
  /// An integer column that may be NULL.
  Result<std::optional<int64_t>> OptionalInt(size_t index) const;
  /// A text column that may be NULL.
  Result<std::optional<std::string>> OptionalText(size_t index) const;

  friend bool operator==(const Row&, const Row&) = default;

 private:
  Result<const Value*> At(size_t index) const;

  std::vector<Value> values_;
};

}  // namespace basin::metadata

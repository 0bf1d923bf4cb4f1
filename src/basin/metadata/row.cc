#include "basin/metadata/row.h"

#include <string_view>

namespace basin::metadata {
namespace {

std::string_view TypeName(const Value& value) {
  switch (value.index()) {
    case 0:
      return "NULL";
    case 1:
      return "integer";
    case 2:
      return "real";
    default:
      return "text";
  }
}

Status TypeMismatch(size_t index, const Value& value, std::string_view expected) {
  return Status::Internal("metadata column " + std::to_string(index) + " is " +
                          std::string(TypeName(value)) + ", expected " + std::string(expected));
}

}  // namespace

Result<const Value*> Row::At(size_t index) const {
  if (index >= values_.size()) {
    return Status::Internal("metadata column " + std::to_string(index) +
                            " is out of range: the row has " + std::to_string(values_.size()));
  }
  return &values_[index];
}

bool Row::IsNull(size_t index) const {
  return index < values_.size() && std::holds_alternative<std::monostate>(values_[index]);
}

Result<int64_t> Row::Int(size_t index) const {
  BASIN_ASSIGN_OR_RETURN(const Value* value, At(index));
  if (const auto* integer = std::get_if<int64_t>(value))
    return *integer;
  return TypeMismatch(index, *value, "integer");
}

Result<double> Row::Real(size_t index) const {
  BASIN_ASSIGN_OR_RETURN(const Value* value, At(index));
  if (const auto* real = std::get_if<double>(value))
    return *real;
  if (const auto* integer = std::get_if<int64_t>(value))
    return static_cast<double>(*integer);
  return TypeMismatch(index, *value, "real");
}

Result<std::string> Row::Text(size_t index) const {
  BASIN_ASSIGN_OR_RETURN(const Value* value, At(index));
  if (const auto* text = std::get_if<std::string>(value))
    return *text;
  return TypeMismatch(index, *value, "text");
}

Result<std::optional<int64_t>> Row::OptionalInt(size_t index) const {
  BASIN_ASSIGN_OR_RETURN(const Value* value, At(index));
  if (std::holds_alternative<std::monostate>(*value))
    return std::optional<int64_t>();
  if (const auto* integer = std::get_if<int64_t>(value))
    return std::optional<int64_t>(*integer);
  return TypeMismatch(index, *value, "integer or NULL");
}

Result<std::optional<std::string>> Row::OptionalText(size_t index) const {
  BASIN_ASSIGN_OR_RETURN(const Value* value, At(index));
  if (std::holds_alternative<std::monostate>(*value))
    return std::optional<std::string>();
  if (const auto* text = std::get_if<std::string>(value))
    return std::optional<std::string>(*text);
  return TypeMismatch(index, *value, "text or NULL");
}

}  // namespace basin::metadata

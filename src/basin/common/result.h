#pragma once

#include <cassert>
#include <optional>
#include <utility>

#include "basin/common/status.h"

namespace basin {

/// A value or the Status that says why there is none. Never holds an OK status
/// without a value.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "Result constructed from an OK status without a value");
    if (status_.ok())
      status_ = Status::Internal("Result built from OK status without value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  /// REQUIRES: ok().
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

  T ValueOr(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace basin

/// Declares/assigns `lhs` from a Result expression, or returns its Status.
#define BASIN_ASSIGN_OR_RETURN(lhs, expr)                   \
  auto BASIN_CONCAT_(basin_result_, __LINE__) = (expr);     \
  if (!BASIN_CONCAT_(basin_result_, __LINE__).ok())         \
    return BASIN_CONCAT_(basin_result_, __LINE__).status(); \
  lhs = std::move(BASIN_CONCAT_(basin_result_, __LINE__)).value()

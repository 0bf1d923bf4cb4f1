#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace basin {

/// What kind of failure a Status carries. Each code maps to exactly one HTTP status
/// (HttpStatusFor), so an error keeps its meaning from storage up to the API.
enum class StatusCode {
  kOk,
  kInvalidArgument,     // 400: the caller sent something malformed
  kUnauthenticated,     // 401: no or bad credentials
  kPermissionDenied,    // 403: authenticated, but not allowed
  kNotFound,            // 404
  kAlreadyExists,       // 409
  kFailedPrecondition,  // 409: the state does not allow it (e.g. bucket missing)
  kPayloadTooLarge,     // 413
  kResourceExhausted,   // 429: throttled or over a limit
  kCancelled,           // 499: the caller cancelled
  kInternal,            // 500
  kIOError,             // 500: local I/O failed
  kNotImplemented,      // 501
  kUnavailable,         // 503: try again later (remote down, 5xx after retries)
  kDeadlineExceeded,    // 504
};

/// The result of an operation that can fail: OK, or a code and a message that says
/// what failed and ends with the values involved ("listing failed: s3://b/p (HTTP 503)").
/// Cheap to copy when OK. Thread-compatible.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status PayloadTooLarge(std::string m) {
    return {StatusCode::kPayloadTooLarge, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status NotImplemented(std::string m) {
    return {StatusCode::kNotImplemented, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }

  /// "NotFound: message", or "OK".
  std::string ToString() const;

  /// Returns a copy whose message is "context: message"; the code is kept.
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

/// The stable name of a code ("NotFound"), used in API error bodies.
std::string_view StatusCodeName(StatusCode code);

/// The HTTP status that a code maps to (200 for kOk).
int HttpStatusFor(StatusCode code);

}  // namespace basin

#define BASIN_CONCAT_INNER_(a, b) a##b
#define BASIN_CONCAT_(a, b) BASIN_CONCAT_INNER_(a, b)

/// Returns from the current function if `expr` (a Status) is not OK.
#define BASIN_RETURN_IF_ERROR(expr)         \
  do {                                      \
    ::basin::Status basin_status_ = (expr); \
    if (!basin_status_.ok())                \
      return basin_status_;                 \
  } while (false)

#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

/// Structured logs: one JSON object per line on stderr,
/// {"ts":"2026-11-25T01:02:03.456Z","level":"info","event":"http_request",...fields}.
/// Never pass secrets (passwords, tokens, keys, Authorization headers) as fields.
namespace basin::log {

enum class Level { kDebug, kInfo, kWarn, kError };

/// Sets the lowest level written: "debug", "info", "warn", "error". InvalidArgument-free:
/// an unknown name leaves the level unchanged and returns false.
bool SetLevel(std::string_view name);

/// Writes one event. Thread-safe.
void Write(Level level, std::string_view event, nlohmann::json fields = nlohmann::json::object());

inline void Info(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kInfo, event, std::move(fields));
}
inline void Warn(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kWarn, event, std::move(fields));
}
inline void Error(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kError, event, std::move(fields));
}

}  // namespace basin::log

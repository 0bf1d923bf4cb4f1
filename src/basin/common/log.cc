#include "basin/common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

#include "basin/common/time_format.h"

namespace basin::log {
namespace {

std::atomic<Level> min_level{Level::kInfo};
std::mutex write_mutex;

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

bool SetLevel(std::string_view name) {
  for (Level level : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (name == LevelName(level)) {
      min_level = level;
      return true;
    }
  }
  return false;
}

void Write(Level level, std::string_view event, nlohmann::json fields) {
  if (level < min_level.load())
    return;
  // Ordered so every line starts with time, level and event.
  nlohmann::ordered_json line = {{"ts", FormatIso8601(std::chrono::system_clock::now())},
                                 {"level", LevelName(level)},
                                 {"event", event}};
  if (fields.is_object()) {
    for (const auto& [name, value] : fields.items())
      line[name] = value;
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(write_mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

}  // namespace basin::log

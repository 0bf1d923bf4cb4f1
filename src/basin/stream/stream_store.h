#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "basin/common/result.h"
#include "basin/metadata/database.h"
#include "basin/stream/stream_definition.h"

namespace basin::stream {

/// A stream as stored: its validated definition and when it was created and last changed.
struct StoredStream {
  int64_t id = 0;
  StreamDefinition definition;
  std::chrono::sys_seconds created_at{};
  std::chrono::sys_seconds updated_at{};
};

/// The stream as the API and `basin stream describe --json` show it: the definition's
/// fields (ToJson) plus "created_at" and "updated_at" (ISO 8601).
nlohmann::json ToJson(const StoredStream& stream);

/// Stream definitions in the metadata database (table `streams`, migration 6). Names are
/// unique and looked up exactly, as Firehose does. The store checks no permissions; its
/// callers do (editors change streams, viewers read them). Thread-safe.
class StreamStore {
 public:
  explicit StreamStore(metadata::Database& database) : database_(database) {}

  /// Validates `definition` (filling in its defaults) and stores it. InvalidArgument
  /// naming the field; AlreadyExists when the name is taken.
  Result<StoredStream> Create(const StreamDefinition& definition);

  /// NotFound when no stream has this name.
  Result<StoredStream> Get(std::string_view name);

  /// Every stream, sorted by name (byte order).
  Result<std::vector<StoredStream>> List();

  /// Applies `changes` and returns the stream as stored. NotFound; InvalidArgument naming
  /// the field when the result is not a valid definition (nothing changes then).
  Result<StoredStream> Update(std::string_view name, const StreamChanges& changes);

  /// NotFound when no stream has this name.
  Status Delete(std::string_view name);

 private:
  metadata::Database& database_;
};

}  // namespace basin::stream

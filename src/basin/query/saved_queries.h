#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "basin/common/result.h"
#include "basin/metadata/database.h"

namespace basin::query {

/// A named query that users keep and run again.
struct SavedQuery {
  int64_t id = 0;
  std::string name;
  std::string description;
  std::string sql;
  std::string database;  // for unqualified table names; "" = query.default_database
  std::string owner;     // the user who saved it ("local" from the command line)
  std::chrono::system_clock::time_point created_at{};
  std::chrono::system_clock::time_point updated_at{};
};

/// The fields Update changes; the others stay.
struct SavedQueryChanges {
  std::optional<std::string> name;  // renames
  std::optional<std::string> description;
  std::optional<std::string> sql;
  std::optional<std::string> database;
};

/// OK when `name` can name a saved query: 1-128 letters, digits, '_', '-' or '.'.
/// InvalidArgument naming the rule otherwise.
Status ValidateSavedQueryName(std::string_view name);

/// Saved queries in the metadata database. Names are unique regardless of ASCII case and
/// looked up the same way ("Daily" finds "daily"); they are kept as written.
///
/// The store checks no permissions; its callers do (server routes): every viewer lists
/// and reads saved queries, editors create them, and only the owner or an admin updates
/// or deletes one. The command line acts with the home's full authority.
/// Thread-safe.
class SavedQueryStore {
 public:
  explicit SavedQueryStore(metadata::Database& database) : database_(database) {}

  /// Saves a new query and returns it as stored (id and times set). InvalidArgument for a
  /// bad name or empty SQL; AlreadyExists when the name is taken.
  Result<SavedQuery> Create(const SavedQuery& query);

  /// NotFound when no saved query has this name.
  Result<SavedQuery> Get(std::string_view name);

  /// Sorted by name; `search` (plain text, "" = all) matches the name, description or
  /// SQL, case-insensitive for ASCII letters.
  Result<std::vector<SavedQuery>> List(std::string_view search);

  /// Applies `changes` and returns the query as stored. NotFound, InvalidArgument (bad
  /// new name, empty SQL), AlreadyExists (the new name is taken).
  Result<SavedQuery> Update(std::string_view name, const SavedQueryChanges& changes);

  /// NotFound when no saved query has this name.
  Status Delete(std::string_view name);

 private:
  metadata::Database& database_;
};

}  // namespace basin::query

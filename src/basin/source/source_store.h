#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "basin/common/result.h"
#include "basin/metadata/database.h"
#include "basin/source/source.h"

namespace basin::source {

/// Sources in the metadata database. A password given at Create is sealed under the home's
/// master key (auth::SealSecret, the source's name as associated data) and comes back only
/// through Password, to open a connection; nothing else returns it. Names are unique
/// regardless of ASCII case. Checks no permissions (the server's routes do). Thread-safe.
class SourceStore {
 public:
  SourceStore(metadata::Database& database, std::string master_key)
      : database_(database), master_key_(std::move(master_key)) {}

  /// InvalidArgument for an incomplete definition, or a password given together with
  /// password_env; AlreadyExists when the name is taken.
  Result<StoredSource> Create(const SourceDefinition& definition,
                              const std::optional<std::string>& password);
  /// NotFound when there is no such source.
  Result<StoredSource> Get(std::string_view name);
  /// Sorted by name.
  Result<std::vector<StoredSource>> List();
  /// NotFound when there is no such source.
  Status Delete(std::string_view name);

  /// The password to connect with: the sealed one opened, or the value of the environment
  /// variable the definition names (looked up in `environment`). "" when the source has
  /// neither (SQLite; a server that trusts the client). FailedPrecondition naming the
  /// variable when it is not set, or when the sealed password cannot be opened (another
  /// master key).
  Result<std::string> Password(std::string_view name,
                               const std::map<std::string, std::string>& environment);

  /// A source and the password to connect with (its variable looked up in this process's
  /// environment), read at once: NotFound when there is no such source; `password` holds
  /// why there is none to use.
  struct WithPassword {
    StoredSource source;
    Result<std::string> password;
  };
  Result<WithPassword> GetWithPassword(std::string_view name);

 private:
  using Lookup = std::function<std::optional<std::string>(const std::string& variable)>;
  // The source's row, and its sealed password (when `sealed` is not null).
  Result<StoredSource> Find(std::string_view name, std::optional<std::string>* sealed);
  Result<std::string> PasswordOf(const StoredSource& stored,
                                 const std::optional<std::string>& sealed, const Lookup& lookup);

  metadata::Database& database_;
  std::string master_key_;
};

}  // namespace basin::source

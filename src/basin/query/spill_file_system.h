#pragma once

// Included only by the engine's translation units: it pulls in DuckDB's headers.

#include <string>

#include "duckdb/common/local_file_system.hpp"

namespace basin::query {

/// The local file system, for one folder only: the engine's spill (temp) folder. A
/// sandboxed engine disables DuckDB's LocalFileSystem so queries cannot touch local
/// files; this sub-file-system keeps spilling to disk working for large sorts, joins and
/// aggregations.
class SpillFileSystem final : public duckdb::LocalFileSystem {
 public:
  /// `folder`: absolute path of the spill folder.
  explicit SpillFileSystem(std::string folder);

  bool CanHandleFile(const std::string& path) override;
  /// Only the engine itself (no client context in `opener`) may open spill files: a
  /// query must not read another query's spilled data.
  duckdb::unique_ptr<duckdb::FileHandle> OpenFile(
      const std::string& path, duckdb::FileOpenFlags flags,
      duckdb::optional_ptr<duckdb::FileOpener> opener) override;
  duckdb::vector<duckdb::OpenFileInfo> Glob(const std::string& path,
                                            duckdb::FileOpener* opener) override;
  using duckdb::LocalFileSystem::OpenFile;
  std::string GetName() const override { return "SpillFileSystem"; }

 private:
  std::string folder_;  // ends with '/'
};

}  // namespace basin::query

#include "basin/query/spill_file_system.h"

#include "duckdb/common/exception.hpp"
#include "duckdb/common/file_opener.hpp"

namespace basin::query {

SpillFileSystem::SpillFileSystem(std::string folder) : folder_(std::move(folder)) {
  if (folder_.empty() || folder_.back() != '/')
    folder_.push_back('/');
}

bool SpillFileSystem::CanHandleFile(const std::string& path) {
  // The folder itself, or anything inside it; ".." never appears in DuckDB's own spill paths.
  return (path + "/" == folder_ || path.rfind(folder_, 0) == 0) &&
         path.find("..") == std::string::npos;
}

duckdb::unique_ptr<duckdb::FileHandle> SpillFileSystem::OpenFile(
    const std::string& path, duckdb::FileOpenFlags flags,
    duckdb::optional_ptr<duckdb::FileOpener> opener) {
  if (duckdb::FileOpener::TryGetClientContext(opener)) {
    throw duckdb::PermissionException("Cannot access the engine's spill folder: %s", path);
  }
  return duckdb::LocalFileSystem::OpenFile(path, flags, opener);
}

duckdb::vector<duckdb::OpenFileInfo> SpillFileSystem::Glob(const std::string& path,
                                                           duckdb::FileOpener* opener) {
  if (duckdb::FileOpener::TryGetClientContext(opener)) {
    throw duckdb::PermissionException("Cannot access the engine's spill folder: %s", path);
  }
  return duckdb::LocalFileSystem::Glob(path, opener);
}

}  // namespace basin::query

#pragma once

#include <optional>
#include <string>

#include "basin/app/cli.h"

namespace basin::app {

struct StreamPutFlags {
  std::string name;
  std::string file;  // a path, or "-" for stdin
  std::optional<std::string> url, token;
};

/// `basin stream put NAME FILE|-`: sends newline-delimited JSON records (or one JSON array)
/// to the running server in batches of 500 records / 4 MiB, with a progress bar.
int RunStreamPut(const GlobalFlags& flags, const StreamPutFlags& put);

}  // namespace basin::app

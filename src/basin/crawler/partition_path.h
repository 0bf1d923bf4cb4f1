#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace basin::crawler {

/// One folder level between a table's root and its files.
struct PartitionLevel {
  std::string name;   // from "key=value"; empty for a plain level ("2026/")
  std::string value;  // URL-decoded ("dt=2026-11-24" -> "2026-11-24")
};

/// Splits the folders of a key below a table root into partition levels:
/// "dt=2026-11-24/event=click" -> {dt, 2026-11-24}, {event, click};
/// "2026/11/24" -> {"", 2026}, {"", 11}, {"", 24}. Hive's escapes (%2F, %3D) are decoded.
std::vector<PartitionLevel> ParsePartitionPath(std::string_view folders);

/// The partition column type a set of values suggests: "DATE" when all are yyyy-mm-dd,
/// "BIGINT" when all are integers, else "VARCHAR". Hive's null marker
/// (__HIVE_DEFAULT_PARTITION__) is ignored.
std::string InferPartitionType(const std::vector<std::string>& values);

}  // namespace basin::crawler

#include "basin/delivery/delivery_format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace basin::delivery {

int JsonNestingDepth(std::string_view json) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : json) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return deepest;
}

std::string CapText(std::string text, size_t max_bytes) {
  if (text.size() <= max_bytes)
    return text;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
    --cut;  // not inside a UTF-8 sequence
  size_t dropped = text.size() - cut;
  text.resize(cut);
  return text + "… (" + std::to_string(dropped) + " more bytes)";
}

std::string EncodeRecord(const PartitionedRecord& record) {
  return record.partition + "\n" + record.json;
}

Result<PartitionedRecord> DecodeRecord(std::string_view encoded) {
  size_t newline = encoded.find('\n');
  if (newline == std::string_view::npos)
    return Status::InvalidArgument("stream record without a partition line");
  return PartitionedRecord{std::string(encoded.substr(0, newline)),
                           std::string(encoded.substr(newline + 1))};
}

std::string EncodeFlushIntent(const FlushIntent& intent) {
  return nlohmann::json{{"lsns", intent.lsns}, {"time", intent.unix_seconds}}.dump();
}

Result<FlushIntent> DecodeFlushIntent(std::string_view payload) {
  nlohmann::json json = nlohmann::json::parse(payload, nullptr, false);
  if (!json.is_object() || !json.contains("lsns") || !json["lsns"].is_array() ||
      json["lsns"].empty())
    return Status::InvalidArgument("malformed flush intent: " + std::string(payload));
  FlushIntent intent;
  for (const auto& lsn : json["lsns"]) {
    if (!lsn.is_number_unsigned())
      return Status::InvalidArgument("malformed flush intent: " + std::string(payload));
    intent.lsns.push_back(lsn.get<stream::Lsn>());
  }
  if (json.contains("time")) {
    if (!json["time"].is_number_integer())
      return Status::InvalidArgument("malformed flush intent: " + std::string(payload));
    intent.unix_seconds = json["time"].get<int64_t>();
  }
  return intent;
}

std::string EncodeDeliveredMark(const DeliveredMark& mark) {
  nlohmann::json json{{"intent", mark.intent}};
  if (!mark.deferred.empty()) {
    nlohmann::json deferred = nlohmann::json::array();
    for (const PartitionedRecord& record : mark.deferred)
      deferred.push_back({record.partition, record.json});
    json["deferred"] = std::move(deferred);
  }
  if (!mark.retired.empty())
    json["retired"] = mark.retired;
  if (mark.moved) {
    json["moved"] = {{"time", mark.moved->unix_seconds},
                     {"first", mark.moved->first},
                     {"last", mark.moved->last}};
  }
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<DeliveredMark> DecodeDeliveredMark(std::string_view payload) {
  nlohmann::json json = nlohmann::json::parse(payload, nullptr, false);
  if (!json.is_object() || !json.contains("intent") || !json["intent"].is_number_unsigned())
    return Status::InvalidArgument("malformed delivered mark: " +
                                   std::string(payload.substr(0, 200)));
  DeliveredMark mark{.intent = json["intent"].get<stream::Lsn>()};
  if (json.contains("deferred")) {
    for (const nlohmann::json& record : json["deferred"]) {
      if (!record.is_array() || record.size() != 2 || !record[0].is_string() ||
          !record[1].is_string())
        return Status::InvalidArgument("malformed deferred record in a delivered mark");
      mark.deferred.push_back({record[0].get<std::string>(), record[1].get<std::string>()});
    }
  }
  auto malformed = [&] {
    return Status::InvalidArgument("malformed delivered mark: " +
                                   std::string(payload.substr(0, 200)));
  };
  if (json.contains("retired")) {
    if (!json["retired"].is_array())
      return malformed();
    for (const nlohmann::json& lsn : json["retired"]) {
      if (!lsn.is_number_unsigned())
        return malformed();
      mark.retired.push_back(lsn.get<stream::Lsn>());
    }
  }
  if (json.contains("moved")) {
    const nlohmann::json& moved = json["moved"];
    if (!moved.is_object() || !moved.contains("time") || !moved["time"].is_number_integer() ||
        !moved.contains("first") || !moved["first"].is_number_unsigned() ||
        !moved.contains("last") || !moved["last"].is_number_unsigned())
      return malformed();
    mark.moved = DeliveryName{.unix_seconds = moved["time"].get<int64_t>(),
                              .first = moved["first"].get<stream::Lsn>(),
                              .last = moved["last"].get<stream::Lsn>()};
  }
  return mark;
}

std::string ObjectName(std::string_view stream, int64_t unix_seconds, stream::Lsn first,
                       stream::Lsn last, std::string_view extension) {
  std::string name(stream);
  if (unix_seconds > 0) {
    std::time_t time = static_cast<std::time_t>(unix_seconds);
    std::tm utc{};
    gmtime_r(&time, &utc);
    char stamp[24];
    std::strftime(stamp, sizeof(stamp), "-%Y%m%dT%H%M%SZ", &utc);
    name += stamp;
  }
  char numbers[48];
  std::snprintf(numbers, sizeof(numbers), "-%020llu-%020llu.",
                static_cast<unsigned long long>(first), static_cast<unsigned long long>(last));
  return name + numbers + std::string(extension);
}

std::string Extension(const stream::StreamDefinition& definition) {
  if (definition.format == stream::OutputFormat::kParquet)
    return "parquet";
  switch (definition.compression) {
    case stream::Compression::kGzip:
      return "json.gz";
    case stream::Compression::kZstd:
      return "json.zst";
    case stream::Compression::kNone:
      break;
  }
  return "json";
}

Result<std::vector<std::string>> PartitionValues(std::string_view partition,
                                                 const std::vector<catalog::PartitionKey>& keys) {
  std::vector<std::string> values;
  for (const catalog::PartitionKey& key : keys) {
    std::string wanted = key.name + "=";
    bool found = false;
    size_t start = 0;
    while (start < partition.size()) {
      size_t end = partition.find('/', start);
      if (end == std::string_view::npos)
        end = partition.size();
      std::string_view folder = partition.substr(start, end - start);
      if (folder.starts_with(wanted)) {
        values.emplace_back(folder.substr(wanted.size()));
        found = true;
        break;
      }
      start = end + 1;
    }
    if (!found)
      return Status::InvalidArgument("partition '" + std::string(partition) +
                                     "' has no folder for key " + key.name);
  }
  return values;
}

}  // namespace basin::delivery

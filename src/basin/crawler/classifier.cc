#include "basin/crawler/classifier.h"

#include <algorithm>
#include <array>

namespace basin::crawler {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string_view SkipBomAndSpace(std::string_view text) {
  if (StartsWith(text, "\xEF\xBB\xBF"))
    text.remove_prefix(3);
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r' ||
                           text.front() == '\n')) {
    text.remove_prefix(1);
  }
  return text;
}

bool LooksBinary(std::string_view head) {
  size_t control = 0;
  for (unsigned char c : head) {
    if (c == 0)
      return true;
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
      ++control;
  }
  return head.size() > 0 && control * 20 > head.size();  // over 5% control characters
}

}  // namespace

std::string_view FormatName(FileFormat format) {
  switch (format) {
    case FileFormat::kCsv:
      return "csv";
    case FileFormat::kJson:
      return "json";
    case FileFormat::kParquet:
      return "parquet";
    case FileFormat::kUnsupported:
      return "unsupported";
  }
  return "unsupported";
}

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
  }
  return "none";
}

std::string CheckCsvShape(std::string_view text, char delimiter, bool complete) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  size_t expected = 0, fields = 1, line = 1, record_line = 1;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      quoted = !quoted;  // a doubled quote toggles twice: still right
    } else if (!quoted && c == delimiter) {
      ++fields;
      any = true;
    } else if (c == '\n') {
      ++line;
      if (quoted)
        continue;
      bool blank =
          !any && fields == 1 &&
          (i == 0 || text[i - 1] == '\n' || (text[i - 1] == '\r' && i >= 2 && text[i - 2] == '\n'));
      if (!blank) {
        if (expected == 0) {
          expected = fields;
        } else if (fields != expected) {
          return "line " + std::to_string(record_line) + " has " + std::to_string(fields) +
                 " fields, line 1 has " + std::to_string(expected);
        }
      }
      fields = 1;
      any = false;
      record_line = line;
    } else if (c != '\r') {
      any = true;
    }
  }
  // The last line: counted only when the file really ends there (not cut by the sample).
  if (complete && !quoted && any && expected != 0 && fields != expected) {
    return "line " + std::to_string(record_line) + " has " + std::to_string(fields) +
           " fields, line 1 has " + std::to_string(expected);
  }
  return "";
}

size_t FindInvalidUtf8(std::string_view text, bool more_follows) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t length = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    if (length == 0 || (length == 2 && c < 0xC2) || (length == 4 && c > 0xF4))
      return i;
    if (i + length > text.size())
      return more_follows ? std::string_view::npos : i;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2)
        return i;
    }
    i += length;
  }
  return std::string_view::npos;
}

Compression DetectCompression(std::string_view head) {
  if (StartsWith(head, "\x1f\x8b"))
    return Compression::kGzip;
  if (StartsWith(head, "\x28\xb5\x2f\xfd"))
    return Compression::kZstd;
  return Compression::kNone;
}

Classification ClassifyContent(std::string_view head, std::string_view tail, std::string_view key) {
  Classification out;
  if (StartsWith(head, "PAR1")) {
    if (tail == "PAR1") {
      out.format = FileFormat::kParquet;
    } else {
      out.reason = "truncated Parquet file (no closing PAR1 magic)";
    }
    return out;
  }
  if (StartsWith(head, "ORC"))
    return {FileFormat::kUnsupported, Compression::kNone, ',', false,
            "ORC file (not supported yet)"};
  if (StartsWith(head, "Obj\x01"))
    return {FileFormat::kUnsupported, Compression::kNone, ',', false,
            "Avro file (not supported yet)"};
  if (LooksBinary(head))
    return {FileFormat::kUnsupported, Compression::kNone, ',', false,
            "binary data of unknown format"};
  std::string_view text = SkipBomAndSpace(head);
  if (text.empty())
    return {FileFormat::kUnsupported, Compression::kNone, ',', false, "no data (only whitespace)"};
  if (text.front() == '<')
    return {FileFormat::kUnsupported, Compression::kNone, ',', false,
            "XML or HTML (not supported)"};
  if (text.front() == '{') {
    out.format = FileFormat::kJson;
    return out;
  }
  if (text.front() == '[') {
    out.format = FileFormat::kJson;
    out.json_array = true;
    return out;
  }
  // Delimited text: the most frequent candidate delimiter on the first line.
  std::string_view first_line = text.substr(0, text.find('\n'));
  std::array<char, 4> candidates = {',', '\t', '|', ';'};
  size_t best = 0;
  out.delimiter = key.ends_with(".tsv") || key.ends_with(".tsv.gz") ? '\t' : ',';
  for (char candidate : candidates) {
    size_t count = static_cast<size_t>(std::count(first_line.begin(), first_line.end(), candidate));
    if (count > best) {
      best = count;
      out.delimiter = candidate;
    }
  }
  out.format = FileFormat::kCsv;
  return out;
}

}  // namespace basin::crawler

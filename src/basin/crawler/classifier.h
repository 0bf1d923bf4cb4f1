#pragma once

#include <string>
#include <string_view>

namespace basin::crawler {

enum class FileFormat { kCsv, kJson, kParquet, kUnsupported };
enum class Compression { kNone, kGzip, kZstd };

std::string_view FormatName(FileFormat format);
std::string_view CompressionName(Compression compression);

struct Classification {
  FileFormat format = FileFormat::kUnsupported;
  Compression compression = Compression::kNone;
  /// For kCsv: the delimiter the first line suggests (',', '\t', '|', ';'); DuckDB's
  /// sniffer has the final word.
  char delimiter = ',';
  /// For kJson: true for a top-level array, false for newline-delimited records.
  bool json_array = false;
  /// Why a file is unsupported ("ORC file", "binary data"), for the run report.
  std::string reason;
};

/// Classifies an object by its content, not its name: `head` is its first bytes (4 KiB is
/// plenty), already decompressed when `compression` says so; `tail` its last 4 bytes (for
/// Parquet's closing magic). The key only breaks ties (".tsv"). Never fails: anything it
/// cannot read is kUnsupported with a reason.
Classification ClassifyContent(std::string_view head, std::string_view tail, std::string_view key);

/// Checks that the records at the start of delimited text all have as many fields as the
/// first (quotes respected, so quoted delimiters and line breaks are fine). `complete`:
/// `text` is the whole file, so its last line counts too. Returns "" when they agree, or
/// "line 3 has 4 fields, line 1 has 3" for the first record that does not.
std::string CheckCsvShape(std::string_view text, char delimiter, bool complete);

/// The offset of the first byte that breaks UTF-8 in `text`, or npos when it is valid.
/// When `more_follows`, a multi-byte sequence cut off by the end of `text` counts as
/// valid (the next chunk may complete it); otherwise it is invalid.
size_t FindInvalidUtf8(std::string_view text, bool more_follows = false);

/// The compression of an object from its first bytes (gzip 1f 8b, zstd 28 b5 2f fd).
Compression DetectCompression(std::string_view head);

}  // namespace basin::crawler

#include "basin/crawler/object_probe.h"

#include <zlib.h>
#include <zstd.h>

namespace basin::crawler {
namespace {

constexpr size_t kHeadBytes = 4096;

}  // namespace

std::string InflatePrefix(std::string_view compressed, Compression compression, size_t limit) {
  std::string out(limit, '\0');
  size_t produced = 0;
  if (compression == Compression::kGzip) {
    z_stream stream{};
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK)
      return "";
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
    stream.avail_in = static_cast<uInt>(compressed.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(limit);
    inflate(&stream, Z_SYNC_FLUSH);
    produced = limit - stream.avail_out;
    inflateEnd(&stream);
  } else if (compression == Compression::kZstd) {
    ZSTD_DStream* stream = ZSTD_createDStream();
    ZSTD_inBuffer input{compressed.data(), compressed.size(), 0};
    ZSTD_outBuffer output{out.data(), limit, 0};
    while (input.pos < input.size && output.pos < output.size) {
      size_t rc = ZSTD_decompressStream(stream, &output, &input);
      if (ZSTD_isError(rc) || rc == 0)
        break;
    }
    produced = output.pos;
    ZSTD_freeDStream(stream);
  } else {
    return std::string(compressed.substr(0, limit));
  }
  out.resize(produced);
  return out;
}

Result<std::optional<uint64_t>> FindInvalidUtf8InObject(storage::ObjectStore& store,
                                                        const std::string& key, uint64_t limit) {
  BASIN_ASSIGN_OR_RETURN(auto reader, store.OpenForRead(key));
  constexpr size_t kChunk = 1 << 20;
  std::string chunk;
  uint64_t offset = 0;
  uint64_t end = std::min<uint64_t>(reader->size(), limit);
  while (offset < end) {
    chunk.resize(std::min<uint64_t>(kChunk, end - offset));
    BASIN_ASSIGN_OR_RETURN(size_t got, reader->ReadAt(offset, chunk.size(), chunk.data()));
    if (got == 0)
      break;
    chunk.resize(got);
    bool more_follows = offset + got < end;
    size_t bad = FindInvalidUtf8(chunk, more_follows);
    if (bad != std::string_view::npos)
      return std::optional<uint64_t>(offset + bad);
    // Step back over a sequence cut off at the chunk's end so it is checked whole.
    size_t keep = 0;
    while (keep < 3 && keep < got &&
           (static_cast<unsigned char>(chunk[got - 1 - keep]) & 0xC0) == 0x80)
      ++keep;
    if (keep < got && static_cast<unsigned char>(chunk[got - 1 - keep]) >= 0xC0)
      ++keep;
    else
      keep = 0;
    offset += got - keep;
    if (got <= keep)
      break;
  }
  return std::optional<uint64_t>();
}

Result<Classification> ProbeObject(storage::ObjectStore& store, const std::string& key,
                                   uint64_t size) {
  BASIN_ASSIGN_OR_RETURN(auto reader, store.OpenForRead(key));
  // Compressed heads expand: read more so the classifier still sees a few lines.
  std::string head(std::min<uint64_t>(size, 4 * kHeadBytes), '\0');
  BASIN_ASSIGN_OR_RETURN(size_t got, reader->ReadAt(0, head.size(), head.data()));
  head.resize(got);
  std::string tail;
  if (size >= 8) {
    tail.assign(4, '\0');
    BASIN_ASSIGN_OR_RETURN(size_t tail_got, reader->ReadAt(size - 4, 4, tail.data()));
    tail.resize(tail_got);
  }
  Compression compression = DetectCompression(head);
  std::string plain = compression == Compression::kNone
                          ? head.substr(0, kHeadBytes)
                          : InflatePrefix(head, compression, kHeadBytes);
  Classification classification =
      ClassifyContent(plain, compression == Compression::kNone ? tail : "", key);
  classification.compression = compression;
  if (classification.format == FileFormat::kCsv) {
    // DuckDB's sniffer copes with ragged rows by guessing another dialect; catch them here.
    bool complete = compression == Compression::kNone && size <= kHeadBytes;
    std::string shape = CheckCsvShape(plain, classification.delimiter, complete);
    if (!shape.empty()) {
      classification.format = FileFormat::kUnsupported;
      classification.reason = "ragged CSV: " + shape;
    }
  }
  if (compression != Compression::kNone && classification.format == FileFormat::kParquet) {
    classification.format = FileFormat::kUnsupported;
    classification.reason = "compressed Parquet file (Parquet compresses inside the file)";
  }
  return classification;
}

}  // namespace basin::crawler

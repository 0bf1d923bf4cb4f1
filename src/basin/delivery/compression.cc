#include "basin/delivery/compression.h"

#include <zlib.h>
#include <zstd.h>

namespace basin::delivery {
namespace {

Result<std::string> Gzip(std::string_view data) {
  z_stream stream{};
  // 16 + MAX_WBITS: a gzip header and trailer rather than zlib's.
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return Status::Internal("gzip: deflateInit2 failed");
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())) + 32, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  int result = deflate(&stream, Z_FINISH);
  size_t written = stream.total_out;
  deflateEnd(&stream);
  if (result != Z_STREAM_END)
    return Status::Internal("gzip: deflate failed (" + std::to_string(result) + ")");
  out.resize(written);
  return out;
}

Result<std::string> Zstd(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t written = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(written))
    return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(written));
  out.resize(written);
  return out;
}

}  // namespace

Result<std::string> Compress(std::string_view data, stream::Compression compression) {
  switch (compression) {
    case stream::Compression::kGzip:
      return Gzip(data);
    case stream::Compression::kZstd:
      return Zstd(data);
    case stream::Compression::kNone:
      break;
  }
  return std::string(data);
}

}  // namespace basin::delivery

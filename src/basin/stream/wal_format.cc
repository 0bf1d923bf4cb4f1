#include "basin/stream/wal_format.h"

#include <charconv>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace basin::stream {
namespace {

constexpr char kMagic[4] = {'B', 'W', 'A', 'L'};
constexpr std::string_view kSegmentPrefix = "wal-";
constexpr std::string_view kSegmentSuffix = ".log";
constexpr size_t kLsnDigits = 20;

void PutLittleEndian32(char* out, uint32_t value) {
  for (int i = 0; i < 4; ++i)
    out[i] = static_cast<char>(value >> (8 * i));
}

void PutLittleEndian64(char* out, uint64_t value) {
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>(value >> (8 * i));
}

uint32_t GetLittleEndian32(const char* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i)
    value |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return value;
}

uint64_t GetLittleEndian64(const char* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i)
    value |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return value;
}

// Byte-at-a-time table for CPUs without the CRC32 instruction (reflected polynomial 0x82F63B78).
struct Crc32cTable {
  uint32_t entries[256];
  constexpr Crc32cTable() : entries() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t crc = i;
      for (int bit = 0; bit < 8; ++bit)
        crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78u : 0);
      entries[i] = crc;
    }
  }
};
constexpr Crc32cTable kCrc32cTable;

uint32_t Crc32cPortable(const char* data, size_t size, uint32_t crc) {
  for (size_t i = 0; i < size; ++i) {
    crc = kCrc32cTable.entries[(crc ^ static_cast<uint8_t>(data[i])) & 0xFF] ^ (crc >> 8);
  }
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t Crc32cHardware(const char* data, size_t size,
                                                          uint32_t crc) {
  uint64_t crc64 = crc;
  for (; size >= 8; size -= 8, data += 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);
    crc64 = _mm_crc32_u64(crc64, word);
  }
  uint32_t crc32 = static_cast<uint32_t>(crc64);
  for (; size > 0; --size, ++data)
    crc32 = _mm_crc32_u8(crc32, static_cast<uint8_t>(*data));
  return crc32;
}

// __builtin_cpu_init must run first when this initializer runs before other constructors.
const bool kHaveCrc32Instruction = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2") != 0;
}();
#endif

template <typename Records>
std::string EncodeRecords(const Records& records) {
  size_t total = 4;
  for (const auto& record : records)
    total += 4 + record.size();
  std::string payload(total, '\0');
  char* out = payload.data();
  PutLittleEndian32(out, static_cast<uint32_t>(records.size()));
  out += 4;
  for (const auto& record : records) {
    PutLittleEndian32(out, static_cast<uint32_t>(record.size()));
    std::memcpy(out + 4, record.data(), record.size());
    out += 4 + record.size();
  }
  return payload;
}

}  // namespace

std::string EntryKindName(EntryKind kind) {
  switch (kind) {
    case EntryKind::kRecordBatch:
      return "record batch";
    case EntryKind::kFlushIntent:
      return "flush intent";
    case EntryKind::kDeliveredMark:
      return "delivered mark";
  }
  return "unknown kind " + std::to_string(static_cast<int>(kind));
}

uint32_t Crc32c(std::string_view data, uint32_t crc) {
  crc = ~crc;
#if defined(__x86_64__)
  if (kHaveCrc32Instruction)
    return ~Crc32cHardware(data.data(), data.size(), crc);
#endif
  return ~Crc32cPortable(data.data(), data.size(), crc);
}

std::array<char, kEntryHeaderBytes> EncodeEntryHeader(EntryKind kind, Lsn lsn, uint64_t stream_id,
                                                      uint32_t payload_bytes,
                                                      uint32_t payload_crc) {
  std::array<char, kEntryHeaderBytes> header{};
  std::memcpy(header.data(), kMagic, 4);
  PutLittleEndian32(header.data() + 4, payload_bytes);
  header[12] = static_cast<char>(kFormatVersion);
  header[13] = static_cast<char>(kind);
  PutLittleEndian64(header.data() + 16, lsn);
  PutLittleEndian64(header.data() + 24, stream_id);
  uint32_t crc = Crc32c(std::string_view(header.data() + 12, kEntryHeaderBytes - 12), payload_crc);
  PutLittleEndian32(header.data() + 8, crc);
  return header;
}

std::array<char, kEntryHeaderBytes> EncodeEntryHeader(EntryKind kind, Lsn lsn, uint64_t stream_id,
                                                      std::string_view payload) {
  return EncodeEntryHeader(kind, lsn, stream_id, static_cast<uint32_t>(payload.size()),
                           Crc32c(payload));
}

std::optional<EntryHeader> DecodeEntryHeader(std::string_view bytes) {
  if (bytes.size() < kEntryHeaderBytes || std::memcmp(bytes.data(), kMagic, 4) != 0)
    return std::nullopt;
  EntryHeader header;
  header.payload_bytes = GetLittleEndian32(bytes.data() + 4);
  header.crc = GetLittleEndian32(bytes.data() + 8);
  header.version = static_cast<uint8_t>(bytes[12]);
  header.kind = static_cast<EntryKind>(bytes[13]);
  header.lsn = GetLittleEndian64(bytes.data() + 16);
  header.stream_id = GetLittleEndian64(bytes.data() + 24);
  return header;
}

bool EntryChecksumMatches(std::string_view header_bytes, std::string_view payload) {
  uint32_t crc = Crc32c(header_bytes.substr(12, kEntryHeaderBytes - 12), Crc32c(payload));
  return crc == GetLittleEndian32(header_bytes.data() + 8);
}

std::string SegmentFileName(Lsn first_lsn) {
  std::string digits = std::to_string(first_lsn);
  return std::string(kSegmentPrefix) + std::string(kLsnDigits - digits.size(), '0') + digits +
         std::string(kSegmentSuffix);
}

std::optional<Lsn> ParseSegmentFileName(std::string_view name) {
  if (name.size() != kSegmentPrefix.size() + kLsnDigits + kSegmentSuffix.size() ||
      !name.starts_with(kSegmentPrefix) || !name.ends_with(kSegmentSuffix)) {
    return std::nullopt;
  }
  std::string_view digits = name.substr(kSegmentPrefix.size(), kLsnDigits);
  Lsn lsn = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), lsn);
  if (error != std::errc() || end != digits.data() + digits.size())
    return std::nullopt;
  return lsn;
}

std::string EncodeRecordBatch(std::span<const std::string_view> records) {
  return EncodeRecords(records);
}
std::string EncodeRecordBatch(std::span<const std::string> records) {
  return EncodeRecords(records);
}

Result<std::vector<std::string_view>> DecodeRecordBatch(std::string_view payload) {
  if (payload.size() < 4)
    return Status::InvalidArgument("record batch is shorter than its count");
  uint32_t count = GetLittleEndian32(payload.data());
  // Each record takes at least its 4-byte length, which bounds a corrupt count.
  if (count > (payload.size() - 4) / 4) {
    return Status::InvalidArgument("record batch count is larger than its payload: " +
                                   std::to_string(count));
  }
  std::vector<std::string_view> records;
  records.reserve(count);
  size_t offset = 4;
  for (uint32_t i = 0; i < count; ++i) {
    if (payload.size() - offset < 4)
      return Status::InvalidArgument("record batch ends inside a length");
    uint32_t length = GetLittleEndian32(payload.data() + offset);
    offset += 4;
    if (payload.size() - offset < length) {
      return Status::InvalidArgument("record batch ends inside record " + std::to_string(i));
    }
    records.push_back(payload.substr(offset, length));
    offset += length;
  }
  if (offset != payload.size())
    return Status::InvalidArgument("record batch has bytes after its records");
  return records;
}

}  // namespace basin::stream

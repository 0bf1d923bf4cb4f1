#pragma once

// The on-disk format of the stream write-ahead log (see wal.h and docs/streams.md,
// "Write-ahead log").
//
// A log is a folder of segment files named `wal-<lsn of their first entry, 20 digits>.log`.
// A segment is a plain sequence of entries, each a 32-byte header and a payload:
//
//   offset  size  field
//        0     4  magic "BWAL"
//        4     4  payload length (little-endian uint32)
//        8     4  CRC-32C of the payload followed by header bytes 12..31
//       12     1  format version (1)
//       13     1  kind (EntryKind)
//       14     2  reserved, zero
//       16     8  lsn (little-endian uint64)
//       24     8  stream id (little-endian uint64)
//       32     n  payload
//
// LSNs number entries (not records): 1, 2, 3, ... without gaps across segments. A record
// batch entry holds many records; a record's position in the log is (lsn, index in batch).

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "basin/common/result.h"

namespace basin::stream {

/// Log sequence number of an entry. 0 means "none"; the first entry of a new log is 1.
using Lsn = uint64_t;

/// Where one record is: the entry that holds its batch, and its index in that batch.
struct RecordPosition {
  Lsn lsn = 0;
  uint32_t index = 0;
};

/// What an entry says. The log itself treats every kind alike except for the size limit
/// (see WalOptions::max_bytes).
enum class EntryKind : uint8_t {
  kRecordBatch = 1,    // payload: EncodeRecordBatch(records)
  kFlushIntent = 2,    // payload defined by the stream layer (a delivery about to be written)
  kDeliveredMark = 3,  // payload defined by the stream layer (a delivery that completed)
};

/// "record batch", "flush intent", "delivered mark" or "unknown kind N".
std::string EntryKindName(EntryKind kind);

inline constexpr size_t kEntryHeaderBytes = 32;
inline constexpr uint8_t kFormatVersion = 1;

/// The fields of an entry header, decoded.
struct EntryHeader {
  uint32_t payload_bytes = 0;
  uint32_t crc = 0;
  uint8_t version = kFormatVersion;
  EntryKind kind = EntryKind::kRecordBatch;
  Lsn lsn = 0;
  uint64_t stream_id = 0;
};

/// Encodes a header whose CRC covers `payload` and the header fields after the CRC.
std::array<char, kEntryHeaderBytes> EncodeEntryHeader(EntryKind kind, Lsn lsn, uint64_t stream_id,
                                                      std::string_view payload);

/// Same, with the payload's CRC-32C computed earlier (Crc32c(payload)), so that a caller
/// can checksum outside a lock and stamp the LSN inside it.
std::array<char, kEntryHeaderBytes> EncodeEntryHeader(EntryKind kind, Lsn lsn, uint64_t stream_id,
                                                      uint32_t payload_bytes, uint32_t payload_crc);

/// Decodes a header; nullopt when the magic is wrong. Does not check the CRC.
std::optional<EntryHeader> DecodeEntryHeader(std::string_view bytes);

/// True when header.crc matches `payload` and the header's fields.
bool EntryChecksumMatches(std::string_view header_bytes, std::string_view payload);

/// CRC-32C (Castagnoli) of `data`, continuing from `crc` (0 to start).
uint32_t Crc32c(std::string_view data, uint32_t crc = 0);

/// "wal-00000000000000000042.log".
std::string SegmentFileName(Lsn first_lsn);

/// The first LSN in a segment file name, or nullopt when `name` is not one.
std::optional<Lsn> ParseSegmentFileName(std::string_view name);

/// A record batch payload: uint32 count, then per record a uint32 length and its bytes.
std::string EncodeRecordBatch(std::span<const std::string_view> records);
std::string EncodeRecordBatch(std::span<const std::string> records);

/// The records of a record batch payload (views into `payload`); InvalidArgument when the
/// payload is malformed.
Result<std::vector<std::string_view>> DecodeRecordBatch(std::string_view payload);

}  // namespace basin::stream

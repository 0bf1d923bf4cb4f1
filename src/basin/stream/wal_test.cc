#include "basin/stream/wal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "basin/common/crypto.h"

namespace basin::stream {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct ReplayedEntry {
  Lsn lsn = 0;
  EntryKind kind = EntryKind::kRecordBatch;
  uint64_t stream_id = 0;
  std::string payload;
};

std::vector<ReplayedEntry> ReplayAll(const WriteAheadLog& log, Lsn from_lsn = 0) {
  std::vector<ReplayedEntry> entries;
  Status replayed = log.Replay(from_lsn, [&](const EntryView& entry) {
    entries.push_back({entry.lsn, entry.kind, entry.stream_id, std::string(entry.payload)});
    return Status::OK();
  });
  EXPECT_TRUE(replayed.ok()) << replayed.ToString();
  return entries;
}

std::vector<fs::path> SegmentFiles(const fs::path& folder) {
  std::vector<fs::path> files;
  for (const auto& item : fs::directory_iterator(folder))
    files.push_back(item.path());
  std::sort(files.begin(), files.end());
  return files;
}

void AppendBytes(const fs::path& file, std::string_view bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::app);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void FlipByte(const fs::path& file, uint64_t offset) {
  std::fstream io(file, std::ios::binary | std::ios::in | std::ios::out);
  io.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  io.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5A);
  io.seekp(static_cast<std::streamoff>(offset));
  io.write(&byte, 1);
}

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("basin-wal-" + RandomAlphanumeric(10));
  }
  void TearDown() override { fs::remove_all(folder_); }

  std::unique_ptr<WriteAheadLog> OpenLog(WalOptions options = {}) {
    Result<std::unique_ptr<WriteAheadLog>> log = WriteAheadLog::Open(folder_.string(), options);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  static Lsn AppendOrDie(WriteAheadLog& log, std::string_view payload, uint64_t stream_id = 7,
                         EntryKind kind = EntryKind::kRecordBatch) {
    Result<Lsn> lsn = log.Append(Entry{.kind = kind, .stream_id = stream_id, .payload = payload});
    EXPECT_TRUE(lsn.ok()) << lsn.status().ToString();
    return lsn.ValueOr(0);
  }

  fs::path folder_;
};

TEST(WalFormatTest, SegmentNamesRoundTrip) {
  EXPECT_EQ(SegmentFileName(42), "wal-00000000000000000042.log");
  EXPECT_EQ(ParseSegmentFileName("wal-00000000000000000042.log"), 42u);
  EXPECT_EQ(ParseSegmentFileName("wal-18446744073709551615.log"), UINT64_MAX);
  EXPECT_FALSE(ParseSegmentFileName("wal-42.log"));
  EXPECT_FALSE(ParseSegmentFileName("wal-0000000000000000004x.log"));
  EXPECT_FALSE(ParseSegmentFileName("wal-00000000000000000042.tmp"));
}

TEST(WalFormatTest, Crc32cMatchesKnownValue) {
  // The check value of CRC-32C (RFC 3720, iSCSI).
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c("56789", Crc32c("1234")), 0xE3069283u);
}

TEST(WalFormatTest, RecordBatchRoundTrip) {
  std::vector<std::string> records = {R"({"a":1})", "", std::string(1000, 'x')};
  std::string payload = EncodeRecordBatch(records);
  Result<std::vector<std::string_view>> decoded = DecodeRecordBatch(payload);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ASSERT_EQ(decoded->size(), 3u);
  for (size_t i = 0; i < records.size(); ++i)
    EXPECT_EQ((*decoded)[i], records[i]);
  EXPECT_FALSE(DecodeRecordBatch(payload.substr(0, payload.size() - 1)).ok());
  EXPECT_FALSE(DecodeRecordBatch(payload + "x").ok());
  EXPECT_FALSE(DecodeRecordBatch("\xff\xff\xff\x7f").ok());
}

TEST_F(WalTest, AFailedWriteFailsEveryLaterAppendAndReopensWithoutIt) {
  {
    std::unique_ptr<WriteAheadLog> log = OpenLog();
    ASSERT_TRUE(log);
    AppendOrDie(*log, "kept");
    // A disk that fails the next write: the file size limit (EFBIG; SIGXFSZ ignored) just
    // past what is written, for one append only.
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
    rlimit small = saved;
    small.rlim_cur = log->counters().bytes_on_disk + 10;
    auto handler = ::signal(SIGXFSZ, SIG_IGN);
    ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
    Result<Lsn> failed = log->Append(Entry{.payload = std::string(1000, 'x')});
    ::setrlimit(RLIMIT_FSIZE, &saved);
    ::signal(SIGXFSZ, handler);
    ASSERT_FALSE(failed.ok());
    EXPECT_THAT(failed.status().message(), HasSubstr("write-ahead log write failed"));
    // Written after a torn entry, a later one could never be read back: it is refused.
    Result<Lsn> later = log->Append(Entry{.payload = "later"});
    EXPECT_FALSE(later.ok()) << "acknowledged after a failed write";
    EXPECT_FALSE(log->Append(Entry{.kind = EntryKind::kDeliveredMark, .payload = "m"}).ok());
  }
  std::unique_ptr<WriteAheadLog> log = OpenLog();
  ASSERT_TRUE(log);  // the torn entry is the tail: dropped
  AppendOrDie(*log, "after");
  std::vector<ReplayedEntry> entries = ReplayAll(*log);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].payload, "kept");
  EXPECT_EQ(entries[1].payload, "after");
}

TEST_F(WalTest, AppendsReplayAndSurviveReopen) {
  {
    std::unique_ptr<WriteAheadLog> log = OpenLog();
    ASSERT_TRUE(log);
    EXPECT_EQ(AppendOrDie(*log, "first"), 1u);
    EXPECT_EQ(AppendOrDie(*log, "", 8, EntryKind::kFlushIntent), 2u);
    EXPECT_EQ(AppendOrDie(*log, "third", 9, EntryKind::kDeliveredMark), 3u);
    std::vector<ReplayedEntry> entries = ReplayAll(*log);
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].payload, "first");
    EXPECT_EQ(entries[1].kind, EntryKind::kFlushIntent);
    EXPECT_EQ(entries[1].stream_id, 8u);
    EXPECT_EQ(entries[2].payload, "third");
    EXPECT_EQ(entries[2].kind, EntryKind::kDeliveredMark);
    WalCounters counters = log->counters();
    EXPECT_EQ(counters.appended_entries, 3u);
    EXPECT_EQ(counters.appended_bytes, 3 * kEntryHeaderBytes + 10);
    EXPECT_EQ(counters.bytes_on_disk, counters.appended_bytes);
    EXPECT_EQ(counters.next_lsn, 4u);
    EXPECT_EQ(counters.oldest_live_lsn, 1u);
  }
  std::unique_ptr<WriteAheadLog> log = OpenLog();
  ASSERT_TRUE(log);
  EXPECT_EQ(log->recovery().entries, 3u);
  EXPECT_EQ(log->recovery().dropped_bytes, 0u);
  EXPECT_EQ(AppendOrDie(*log, "fourth"), 4u);
  std::vector<ReplayedEntry> from_three = ReplayAll(*log, 3);
  ASSERT_EQ(from_three.size(), 2u);
  EXPECT_EQ(from_three[0].lsn, 3u);
  EXPECT_EQ(from_three[1].payload, "fourth");
}

TEST_F(WalTest, ConcurrentAppendersShareFsyncs) {
  for (uint32_t sync_depth : {1u, 2u}) {
    SCOPED_TRACE("sync_depth " + std::to_string(sync_depth));
    fs::remove_all(folder_);
    std::unique_ptr<WriteAheadLog> log = OpenLog(WalOptions{.sync_depth = sync_depth});
    ASSERT_TRUE(log);
    constexpr int kThreads = 16;
    constexpr int kAppendsPerThread = 50;
    std::string payload(200, 'e');
    std::vector<std::vector<Lsn>> lsns(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kAppendsPerThread; ++i)
          lsns[t].push_back(AppendOrDie(*log, payload, t));
      });
    }
    for (std::thread& thread : threads)
      thread.join();
    std::set<Lsn> all;
    for (const auto& thread_lsns : lsns) {
      EXPECT_TRUE(std::is_sorted(thread_lsns.begin(), thread_lsns.end()));
      all.insert(thread_lsns.begin(), thread_lsns.end());
    }
    constexpr uint64_t kTotal = kThreads * kAppendsPerThread;
    ASSERT_EQ(all.size(), kTotal);
    EXPECT_EQ(*all.begin(), 1u);
    EXPECT_EQ(*all.rbegin(), kTotal);
    WalCounters counters = log->counters();
    EXPECT_EQ(counters.appended_entries, kTotal);
    // One fdatasync per group (plus one for the folder when the segment was created), so
    // sixteen appenders that each wait for their own entry share them; the exact grouping
    // depends on scheduling, and more sync_depth means smaller groups.
    EXPECT_LT(counters.fsyncs, kTotal / (sync_depth == 1 ? 3 : 2)) << "groups: " << counters.groups;
    EXPECT_EQ(counters.fsyncs, counters.groups + 1);
    EXPECT_EQ(ReplayAll(*log).size(), kTotal);
  }
}

TEST_F(WalTest, TornTailOfLastSegmentIsDroppedOnOpen) {
  std::string half_entry;
  {
    std::unique_ptr<WriteAheadLog> log = OpenLog();
    ASSERT_TRUE(log);
    for (int i = 0; i < 10; ++i)
      AppendOrDie(*log, "entry " + std::to_string(i));
    auto header = EncodeEntryHeader(EntryKind::kRecordBatch, 11, 7, std::string(100, 'p'));
    half_entry = std::string(header.data(), header.size()) + std::string(40, 'p');
  }
  fs::path segment = folder_ / SegmentFileName(1);
  uint64_t good_size = fs::file_size(segment);
  AppendBytes(segment, half_entry);
  {
    std::unique_ptr<WriteAheadLog> log = OpenLog();
    ASSERT_TRUE(log);
    EXPECT_EQ(log->recovery().dropped_bytes, half_entry.size());
    EXPECT_THAT(log->recovery().dropped_reason, HasSubstr("file ends inside an entry"));
    EXPECT_THAT(log->recovery().dropped_reason, HasSubstr("offset " + std::to_string(good_size)));
    EXPECT_EQ(fs::file_size(segment), good_size);
    std::vector<ReplayedEntry> entries = ReplayAll(*log);
    ASSERT_EQ(entries.size(), 10u);
    EXPECT_EQ(entries[9].payload, "entry 9");
    EXPECT_EQ(AppendOrDie(*log, "after the tear"), 11u);
  }
  // Garbage (zeros of a preallocated block, say) after a good tail is dropped the same way.
  AppendBytes(segment, std::string(4096, '\0'));
  std::unique_ptr<WriteAheadLog> log = OpenLog();
  ASSERT_TRUE(log);
  EXPECT_EQ(log->recovery().dropped_bytes, 4096u);
  EXPECT_THAT(log->recovery().dropped_reason, HasSubstr("bad entry magic"));
  std::vector<ReplayedEntry> entries = ReplayAll(*log);
  ASSERT_EQ(entries.size(), 11u);
  EXPECT_EQ(entries[10].payload, "after the tear");
}

TEST_F(WalTest, ChecksumMismatchInLastEntryIsATornTail) {
  {
    std::unique_ptr<WriteAheadLog> log = OpenLog();
    ASSERT_TRUE(log);
    for (int i = 0; i < 3; ++i)
      AppendOrDie(*log, std::string(50, 'a' + i));
  }
  fs::path segment = folder_ / SegmentFileName(1);
  FlipByte(segment, 2 * (kEntryHeaderBytes + 50) + kEntryHeaderBytes + 10);
  std::unique_ptr<WriteAheadLog> log = OpenLog();
  ASSERT_TRUE(log);
  EXPECT_EQ(log->recovery().dropped_bytes, kEntryHeaderBytes + 50);
  EXPECT_THAT(log->recovery().dropped_reason, HasSubstr("checksum mismatch"));
  EXPECT_EQ(ReplayAll(*log).size(), 2u);
  EXPECT_EQ(AppendOrDie(*log, "next"), 3u);
}

TEST_F(WalTest, CorruptionBeforeTheLastSegmentFailsOpenNamingFileAndOffset) {
  WalOptions options{.segment_bytes = 1024, .max_bytes = 1 << 20};
  constexpr size_t kEntryBytes = kEntryHeaderBytes + 100;
  {
    std::unique_ptr<WriteAheadLog> log = OpenLog(options);
    ASSERT_TRUE(log);
    for (int i = 0; i < 30; ++i)
      AppendOrDie(*log, std::string(100, 'x'));
    ASSERT_GE(log->counters().segments, 3u);
  }
  fs::path first_segment = folder_ / SegmentFileName(1);
  FlipByte(first_segment, 3 * kEntryBytes + kEntryHeaderBytes + 1);
  Result<std::unique_ptr<WriteAheadLog>> log = WriteAheadLog::Open(folder_.string(), options);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kInternal);
  EXPECT_THAT(log.status().message(), HasSubstr(first_segment.string()));
  EXPECT_THAT(log.status().message(), HasSubstr("offset " + std::to_string(3 * kEntryBytes)));
  EXPECT_THAT(log.status().message(), HasSubstr("checksum mismatch"));
  // Nothing was cut: the operator decides.
  EXPECT_EQ(fs::file_size(first_segment), 7 * kEntryBytes);
}

TEST_F(WalTest, SegmentsRollAndTruncateBeforeDeletesDeliveredOnes) {
  WalOptions options{.segment_bytes = 1024, .max_bytes = 1 << 20};
  constexpr size_t kEntryBytes = kEntryHeaderBytes + 100;  // 7 per segment
  {
    std::unique_ptr<WriteAheadLog> log = OpenLog(options);
    ASSERT_TRUE(log);
    for (int i = 0; i < 50; ++i)
      AppendOrDie(*log, std::string(100, 'r'));
    WalCounters counters = log->counters();
    EXPECT_EQ(counters.segments, 8u);
    EXPECT_EQ(SegmentFiles(folder_).size(), 8u);
    EXPECT_EQ(counters.bytes_on_disk, 50 * kEntryBytes);
    EXPECT_TRUE(fs::exists(folder_ / SegmentFileName(8)));
    EXPECT_EQ(fs::file_size(folder_ / SegmentFileName(8)), 7 * kEntryBytes);

    // Entries 1..29 delivered: segments starting at 1, 8, 15 and 22 hold only those.
    Result<uint64_t> deleted = log->TruncateBefore(30);
    ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
    EXPECT_EQ(*deleted, 4u);
    counters = log->counters();
    EXPECT_EQ(counters.oldest_live_lsn, 29u);
    EXPECT_EQ(counters.segments, 4u);
    EXPECT_EQ(counters.bytes_on_disk, 22 * kEntryBytes);
    EXPECT_EQ(SegmentFiles(folder_).front().filename(), SegmentFileName(29));
    EXPECT_EQ(ReplayAll(*log, 30).front().lsn, 30u);

    // Everything delivered: only the active segment stays (it carries the next LSN).
    ASSERT_TRUE(log->TruncateBefore(counters.next_lsn).ok());
    EXPECT_EQ(SegmentFiles(folder_).size(), 1u);
    EXPECT_EQ(log->counters().bytes_on_disk, kEntryBytes);
  }
  std::unique_ptr<WriteAheadLog> log = OpenLog(options);
  ASSERT_TRUE(log);
  EXPECT_EQ(log->counters().oldest_live_lsn, 50u);
  EXPECT_EQ(AppendOrDie(*log, "next"), 51u);
  EXPECT_EQ(ReplayAll(*log).size(), 2u);
}

TEST_F(WalTest, FullLogRefusesRecordBatchesButAdmitsDeliveredMarks) {
  WalOptions options{.segment_bytes = 1024, .max_bytes = 2048};
  std::unique_ptr<WriteAheadLog> log = OpenLog(options);
  ASSERT_TRUE(log);
  std::string payload(200, 'f');
  Result<Lsn> last = 0;
  int appended = 0;
  while ((last = log->Append(Entry{.payload = payload})).ok())
    ++appended;
  EXPECT_EQ(appended, 8);  // 2048 / 232
  EXPECT_EQ(last.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(
      last.status().message(),
      HasSubstr("write-ahead log is full (1856 bytes of 2048); retry after delivery catches up"));
  EXPECT_EQ(log->counters().rejected_full, 1u);
  Lsn mark = AppendOrDie(*log, "delivered up to 8", 7, EntryKind::kDeliveredMark);
  EXPECT_EQ(mark, 9u);
  ASSERT_TRUE(log->TruncateBefore(mark).ok());
  EXPECT_TRUE(log->Append(Entry{.payload = payload}).ok());
}

TEST_F(WalTest, RejectsOversizedEntriesAndInconsistentOptions) {
  std::unique_ptr<WriteAheadLog> log = OpenLog(WalOptions{.max_entry_bytes = 100});
  ASSERT_TRUE(log);
  Result<Lsn> lsn = log->Append(Entry{.payload = std::string(101, 'x')});
  EXPECT_EQ(lsn.status().code(), StatusCode::kPayloadTooLarge);
  // A delivered mark may carry more than one request (a delivery's deferred records).
  std::string deferred(1000, 'd');
  EXPECT_EQ(AppendOrDie(*log, deferred, 7, EntryKind::kDeliveredMark), 1u);
  log.reset();
  log = OpenLog(WalOptions{.max_entry_bytes = 100});
  ASSERT_TRUE(log);
  std::vector<ReplayedEntry> entries = ReplayAll(*log);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].payload, deferred) << "read back after reopening";
  Result<std::unique_ptr<WriteAheadLog>> bad = WriteAheadLog::Open(
      (folder_ / "other").string(), WalOptions{.segment_bytes = 1024, .max_bytes = 1500});
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

// What the crashing child reports for every acknowledged append.
struct Acknowledgement {
  Lsn lsn;
  uint64_t writer;
  uint64_t sequence;
};

std::string CrashPayload(uint64_t writer, uint64_t sequence) {
  return "writer " + std::to_string(writer) + " event " + std::to_string(sequence) + " " +
         std::string(150, static_cast<char>('a' + sequence % 26));
}

[[noreturn]] void AppendUntilKilled(const std::string& folder, const WalOptions& options,
                                    int ack_fd) {
  Result<std::unique_ptr<WriteAheadLog>> opened = WriteAheadLog::Open(folder, options);
  if (!opened.ok())
    _exit(3);
  WriteAheadLog& log = **opened;
  std::vector<std::thread> writers;
  for (uint64_t writer = 0; writer < 4; ++writer) {
    writers.emplace_back([&log, writer, ack_fd] {
      for (uint64_t sequence = 0;; ++sequence) {
        std::string payload = CrashPayload(writer, sequence);
        Result<Lsn> lsn = log.Append(Entry{.stream_id = writer, .payload = payload});
        if (!lsn.ok())
          _exit(4);
        Acknowledgement ack{*lsn, writer, sequence};
        // Smaller than PIPE_BUF, so each write is atomic.
        if (::write(ack_fd, &ack, sizeof ack) != sizeof ack)
          _exit(5);
      }
    });
  }
  for (std::thread& thread : writers)
    thread.join();
  _exit(0);
}

TEST_F(WalTest, EveryAcknowledgedEntrySurvivesKill9) {
  WalOptions options{.segment_bytes = 256 << 10, .max_bytes = 1 << 30};
  std::mt19937 random(std::random_device{}());
  std::vector<Acknowledgement> acknowledged;
  for (int round = 0; round < 5; ++round) {
    int pipe_fds[2];
    ASSERT_EQ(::pipe(pipe_fds), 0);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      AppendUntilKilled(folder_.string(), options, pipe_fds[1]);
    }
    ::close(pipe_fds[1]);
    std::thread reader([&, fd = pipe_fds[0]] {
      Acknowledgement ack{};
      size_t have = 0;
      while (true) {
        ssize_t n = ::read(fd, reinterpret_cast<char*>(&ack) + have, sizeof ack - have);
        if (n <= 0)
          break;
        have += static_cast<size_t>(n);
        if (have == sizeof ack) {
          acknowledged.push_back(ack);
          have = 0;
        }
      }
    });
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution(100, 600)(random)));
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    reader.join();
    ::close(pipe_fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child exited by itself with " << WEXITSTATUS(status);

    std::unique_ptr<WriteAheadLog> log = OpenLog(options);
    ASSERT_TRUE(log);
    std::map<Lsn, ReplayedEntry> by_lsn;
    for (ReplayedEntry& entry : ReplayAll(*log))
      by_lsn.emplace(entry.lsn, std::move(entry));
    ASSERT_FALSE(by_lsn.empty());
    EXPECT_EQ(by_lsn.begin()->first, 1u);
    EXPECT_EQ(by_lsn.rbegin()->first, by_lsn.size()) << "LSNs have a gap";
    for (const Acknowledgement& ack : acknowledged) {
      auto found = by_lsn.find(ack.lsn);
      ASSERT_NE(found, by_lsn.end())
          << "acknowledged lsn " << ack.lsn << " is lost (round " << round << ")";
      EXPECT_EQ(found->second.stream_id, ack.writer);
      EXPECT_EQ(found->second.payload, CrashPayload(ack.writer, ack.sequence));
    }
    std::cerr << "round " << round << ": " << acknowledged.size() << " acknowledged, "
              << by_lsn.size() << " in the log, torn tail " << log->recovery().dropped_bytes
              << " bytes\n";
  }
  EXPECT_GT(acknowledged.size(), 100u);
}

}  // namespace
}  // namespace basin::stream

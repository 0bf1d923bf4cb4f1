// wal_bench: durable appends of record batches to the stream write-ahead log.
//
// Producers (threads) append batches of 500 JSON records of 200 bytes, each waiting until
// its batch is durable, and the table compares:
//   group commit  basin::stream::WriteAheadLog: one writer thread, one fdatasync per group
//   fsync/batch   the physical baseline: each producer appends the same bytes (entry header
//                 and payload) to one O_APPEND file with write(2), then fdatasync(2)
//   group, paced  group commit at a fixed offered rate (default 50,000 records/s, half the
//                 100,000 records/s goal), where acknowledgement latency is what matters
// printing records/s, MB/s of record bytes, fsyncs and p50/p99 append latency. A delivery
// thread truncates the log every 100 ms, as delivery would, so disk use stays bounded.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "bench/flag_reader.h"
#include "bench/machine.h"

#include "basin/common/crypto.h"
#include "basin/stream/wal.h"

namespace basin::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Flags {
  int threads = 4;
  int records_per_batch = 500;
  int record_bytes = 200;
  double seconds = 5;
  double paced_records_per_second = 50'000;
  std::vector<uint32_t> sync_depths = {1, 2, 4};  // WalOptions::sync_depth of the group runs
  std::string dir;  // default: a fresh folder under the system temp dir
};

const char kUsage[] =
    "usage: wal_bench [--threads N] [--batch N] [--record-bytes N] [--seconds S] [--paced-rate R]\n"
    "                 [--sync-depths 1,2,4] [--dir DIR]\n"
    "  --threads N       producer threads (default 4)\n"
    "  --batch N         records per batch (default 500)\n"
    "  --record-bytes N  bytes per JSON record (default 200)\n"
    "  --seconds S       duration of each run (default 5)\n"
    "  --paced-rate R    offered records/s of the paced run (default 50000; 0 skips it)\n"
    "  --sync-depths L   WalOptions::sync_depth values to run; the paced run uses the\n"
    "                    default (default 1,2,4)\n"
    "  --dir DIR         where the log and baseline file go (default: a temp folder)\n";

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "wal_bench: %s\n", message.c_str());
  std::exit(1);
}

// A mistake on the command line: exit code 2, as the usage errors of the basin command.
[[noreturn]] void FailUsage(const std::string& message) {
  std::fprintf(stderr, "wal_bench: %s\n", message.c_str());
  std::exit(2);
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  FlagReader args(argc, argv, kUsage, FailUsage);
  while (args.Next()) {
    const std::string& flag = args.flag();
    if (flag == "--threads")
      flags.threads = static_cast<int>(args.Count());
    else if (flag == "--batch")
      flags.records_per_batch = static_cast<int>(args.Count());
    else if (flag == "--record-bytes")
      flags.record_bytes = static_cast<int>(args.Count());
    else if (flag == "--seconds")
      flags.seconds = args.Number();
    else if (flag == "--paced-rate")
      flags.paced_records_per_second = args.Number();
    else if (flag == "--sync-depths")
      flags.sync_depths = args.Counts<uint32_t>();
    else if (flag == "--dir")
      flags.dir = args.Value();
    else
      args.Unknown();
  }
  if (flags.threads < 1 || flags.records_per_batch < 1 || flags.record_bytes < 64 ||
      flags.seconds <= 0) {
    std::fprintf(stderr, "wal_bench: --threads and --batch must be >= 1, --record-bytes >= 64\n");
    std::exit(2);
  }
  return flags;
}

// A search/click event like the product's reference workload, padded to `bytes`.
std::string JsonRecord(int producer, int index, int bytes) {
  static const char* kTypes[] = {"search", "click", "like"};
  char text[256];
  int length = std::snprintf(
      text, sizeof text,
      R"({"event_time":"2026-11-25T04:00:%02d.%03dZ","user_id":%d,"event_type":"%s",)"
      R"("keyword":"kw%d","page":")",
      index % 60, index % 1000, producer * 100'000 + index, kTypes[index % 3], index % 5000);
  std::string record(text, static_cast<size_t>(length));
  record.resize(static_cast<size_t>(bytes) - 2, 'p');
  return record + "\"}";
}

std::string BatchPayload(int producer, const Flags& flags) {
  std::vector<std::string> records;
  for (int i = 0; i < flags.records_per_batch; ++i)
    records.push_back(JsonRecord(producer, i, flags.record_bytes));
  return stream::EncodeRecordBatch(records);
}

struct RunResult {
  std::string name;
  int threads = 0;
  uint64_t batches = 0;
  double seconds = 0;
  uint64_t fsyncs = 0;
  std::vector<double> latencies_ms;
};

double Percentile(std::vector<double>& values, double fraction) {
  if (values.empty())
    return 0;
  size_t index = std::min(values.size() - 1,
                          static_cast<size_t>(fraction * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
  return values[index];
}

// Runs `append_batch(producer)` from every producer for flags.seconds; when `interval` is
// non-zero each producer starts a batch every `interval` (paced), else back to back.
RunResult RunProducers(const std::string& name, const Flags& flags, Clock::duration interval,
                       const std::function<void(int)>& append_batch) {
  std::vector<std::vector<double>> latencies(flags.threads);
  std::vector<std::thread> producers;
  Clock::time_point start = Clock::now();
  Clock::time_point stop = start + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(flags.seconds));
  for (int producer = 0; producer < flags.threads; ++producer) {
    producers.emplace_back([&, producer] {
      // Paced producers start staggered so their batches do not arrive in bursts.
      Clock::time_point next = start + interval * producer / flags.threads;
      while (true) {
        if (interval.count() > 0) {
          std::this_thread::sleep_until(next);
          next += interval;
        }
        Clock::time_point began = Clock::now();
        if (began >= stop)
          break;
        append_batch(producer);
        latencies[producer].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - began).count());
      }
    });
  }
  for (std::thread& thread : producers)
    thread.join();
  RunResult result;
  result.name = name;
  result.threads = flags.threads;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const auto& producer_latencies : latencies) {
    result.batches += producer_latencies.size();
    result.latencies_ms.insert(result.latencies_ms.end(), producer_latencies.begin(),
                               producer_latencies.end());
  }
  return result;
}

RunResult RunGroupCommit(const std::string& name, const Flags& flags, const fs::path& folder,
                         Clock::duration interval, stream::WalOptions options) {
  fs::remove_all(folder);
  options.max_bytes = 4ull << 30;
  Result<std::unique_ptr<stream::WriteAheadLog>> opened =
      stream::WriteAheadLog::Open(folder.string(), options);
  if (!opened.ok())
    Fail(opened.status().ToString());
  stream::WriteAheadLog& log = **opened;
  std::vector<std::string> payloads;
  for (int producer = 0; producer < flags.threads; ++producer)
    payloads.push_back(BatchPayload(producer, flags));

  std::atomic<bool> done = false;
  std::thread delivery([&] {
    while (!done) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (Result<uint64_t> deleted = log.TruncateBefore(log.counters().next_lsn); !deleted.ok()) {
        Fail(deleted.status().ToString());
      }
    }
  });
  uint64_t fsyncs_before = log.counters().fsyncs;
  RunResult result = RunProducers(name, flags, interval, [&](int producer) {
    Result<stream::Lsn> lsn = log.Append(
        stream::Entry{.stream_id = static_cast<uint64_t>(producer), .payload = payloads[producer]});
    if (!lsn.ok())
      Fail(lsn.status().ToString());
  });
  result.fsyncs = log.counters().fsyncs - fsyncs_before;
  done = true;
  delivery.join();
  opened->reset();
  fs::remove_all(folder);
  return result;
}

RunResult RunFsyncPerBatch(const Flags& flags, const fs::path& file) {
  fs::remove(file);
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    Fail("cannot create " + file.string() + ": " + std::strerror(errno));
  std::vector<std::string> entries;
  for (int producer = 0; producer < flags.threads; ++producer) {
    std::string payload = BatchPayload(producer, flags);
    auto header = stream::EncodeEntryHeader(stream::EntryKind::kRecordBatch, 1, producer, payload);
    entries.push_back(std::string(header.data(), header.size()) + payload);
  }
  std::atomic<uint64_t> fsyncs = 0;
  std::atomic<uint64_t> written = 0;
  RunResult result = RunProducers("fsync/batch", flags, Clock::duration::zero(), [&](int producer) {
    const std::string& entry = entries[producer];
    if (::write(fd, entry.data(), entry.size()) != static_cast<ssize_t>(entry.size())) {
      Fail("write failed: " + file.string());
    }
    if (::fdatasync(fd) != 0)
      Fail("fdatasync failed: " + file.string());
    ++fsyncs;
    // Keep the file (and the disk use) bounded like the delivered log.
    if ((written += entry.size()) > (256u << 20)) {
      written = 0;
      if (::ftruncate(fd, 0) != 0)
        Fail("ftruncate failed: " + file.string());
    }
  });
  result.fsyncs = fsyncs;
  ::close(fd);
  fs::remove(file);
  return result;
}

void PrintRow(RunResult& result, const Flags& flags) {
  double records = static_cast<double>(result.batches) * flags.records_per_batch;
  double records_per_second = records / result.seconds;
  double megabytes_per_second = records * flags.record_bytes / 1e6 / result.seconds;
  double batches_per_fsync =
      result.fsyncs ? static_cast<double>(result.batches) / result.fsyncs : 0;
  std::printf("| %s | %d | %s | %s | %s | %s | %s | %s |\n", result.name.c_str(), result.threads,
              Format("%.0f", records_per_second).c_str(),
              Format("%.1f", megabytes_per_second).c_str(),
              Format("%.0f", static_cast<double>(result.fsyncs)).c_str(),
              Format("%.2f", batches_per_fsync).c_str(),
              Format("%.2f", Percentile(result.latencies_ms, 0.50)).c_str(),
              Format("%.2f", Percentile(result.latencies_ms, 0.99)).c_str());
}

int Main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  fs::path dir = flags.dir.empty()
                     ? fs::temp_directory_path() / ("basin-wal-bench-" + RandomAlphanumeric(8))
                     : fs::path(flags.dir);
  fs::create_directories(dir);
  std::string load_at_start = LoadAverage();

  std::vector<RunResult> results;
  for (uint32_t depth : flags.sync_depths) {
    results.push_back(RunGroupCommit("group commit, sync depth " + std::to_string(depth), flags,
                                     dir / "wal", Clock::duration::zero(),
                                     stream::WalOptions{.sync_depth = depth}));
  }
  results.push_back(RunFsyncPerBatch(flags, dir / "baseline.log"));
  if (flags.paced_records_per_second > 0) {
    // Each producer offers rate / threads records per second, in whole batches.
    double batches_per_second =
        flags.paced_records_per_second / flags.records_per_batch / flags.threads;
    auto interval = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(1 / batches_per_second));
    results.push_back(RunGroupCommit(
        "group commit, paced " + Format("%.0f", flags.paced_records_per_second) + " rec/s", flags,
        dir / "wal", interval, stream::WalOptions{}));
  }
  if (flags.dir.empty())
    fs::remove_all(dir);

  std::printf("### Stream write-ahead log: %d-record batches of %d-byte JSON, %s s per run\n\n",
              flags.records_per_batch, flags.record_bytes, Format("%g", flags.seconds).c_str());
  std::printf(
      "| run | producers | records/s | MB/s | fsyncs | batches/fsync | p50 ms | p99 ms |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (RunResult& result : results)
    PrintRow(result, flags);
  std::printf("\n- Machine: %s\n", Machine().c_str());
  std::printf("- Load average (1 min): %s at start, %s at end\n", load_at_start.c_str(),
              LoadAverage().c_str());
  std::printf("- Folder: %s\n", dir.c_str());
  return 0;
}

}  // namespace
}  // namespace basin::bench

int main(int argc, char** argv) {
  return basin::bench::Main(argc, argv);
}

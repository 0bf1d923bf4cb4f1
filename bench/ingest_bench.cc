// ingest_bench: durable stream ingest through `basin serve` against the physical baseline.
//
// Starts `basin serve` on a fresh home (local lake, SQLite) per run, with one Parquet stream
// (prefix expression dt=!{timestamp:yyyy-MM-dd}/), and POSTs NDJSON batches of 500 JSON
// events of 200 bytes to /api/streams/{name}/records from N keep-alive connections (one
// thread each, cpp-httplib). Every answer is a durable acknowledgement (the write-ahead log
// has synced the batch). It prints markdown tables of:
//   max rate   back-to-back batches for --seconds: records/s, MB/s, ack p50/p99/max, server
//              CPU, RSS before/peak/after, and how long delivery takes to catch up
//   baseline   the same batches (same bytes) appended to a file with one fdatasync per
//              batch from the same number of threads; ratio basin/baseline
//   paced      --paced-fraction of the measured max rate, and the fixed --goal-rate (the
//              issue's goal: p99 < 50 ms at 50,000 records/s, half of 100,000), each for
//              --paced-seconds: ack latency, and the baseline at the same pace
//   freshness  marker records sent during the paced load and again when idle: time from
//              their acknowledgement until POST /api/query finds them
//   growth     the max-rate run at 1x and --growth times the duration (first connection
//              count): how throughput, latency, memory and delivery scale with data size
// Not a test: numbers are read, not asserted. bench/run-ingest.sh runs it.

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/basin_process.h"
#include "bench/bench_failure.h"
#include "bench/flag_reader.h"
#include "bench/machine.h"
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "basin/common/crypto.h"

namespace basin::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr char kStream[] = "bench_events";
constexpr char kTable[] = "bench.events";

struct Flags {
  std::vector<int> connections = {4, 8};
  double seconds = 10;  // the 1x max-rate run
  int growth = 10;      // the large run is this many times longer; 0 or 1: none
  double paced_seconds = 10;
  double paced_fraction = 0.5;
  double goal_rate = 50'000;  // a second paced run at this many records/s; 0: none
  int markers = 5;            // freshness markers during the paced run
  int idle_markers = 2;       // ... and after the load
  int records_per_batch = 500;
  int record_bytes = 200;
  int buffer_seconds = 5;
  int buffer_mib = 8;
  std::string basin;  // default: the basin program beside this one
  std::string dir;    // default: a fresh folder under the system temp dir
};

const char kUsage[] =
    "usage: ingest_bench [--quick] [--connections 4,8] [--seconds S] [--growth N]\n"
    "                    [--paced-seconds S] [--paced-fraction F] [--goal-rate R]\n"
    "                    [--markers N] [--idle-markers N] [--batch N] [--record-bytes N]\n"
    "                    [--buffer-seconds S] [--buffer-mib M] [--basin PATH] [--dir DIR]\n"
    "  --quick             a smoke run: 4 connections, 2 s, no growth run, 2 markers\n"
    "  --connections LIST  client connections (one thread each) per run (default 4,8)\n"
    "  --seconds S         duration of the max-rate run (default 10)\n"
    "  --growth N          also run the first connection count N times as long (default 10;\n"
    "                      0 or 1: skip)\n"
    "  --paced-seconds S   duration of the paced run (default 10; 0 skips it)\n"
    "  --paced-fraction F  paced rate as a fraction of the measured max (default 0.5)\n"
    "  --goal-rate R       also a paced run at R records/s (default 50000; 0 skips it)\n"
    "  --markers N         freshness markers during each paced run (default 5)\n"
    "  --idle-markers N    freshness markers after the load, on an idle stream (default 2)\n"
    "  --batch N           records per request (default 500)\n"
    "  --record-bytes N    bytes per JSON record (default 200)\n"
    "  --buffer-seconds S  the stream's buffer_seconds (default 5)\n"
    "  --buffer-mib M      the stream's buffer_mib (default 8)\n"
    "  --basin PATH        the basin program (default: basin beside ingest_bench)\n"
    "  --dir DIR           where homes and the baseline file go (default: a temp folder)\n";

void Note(const std::string& message) {
  NoteAs("ingest_bench", message);
}

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  flags.basin = (fs::canonical("/proc/self/exe").parent_path() / "basin").string();
  FlagReader args(argc, argv, kUsage, Fail);
  while (args.Next()) {
    const std::string& flag = args.flag();
    auto integer = [&]() {
      return static_cast<int>(args.Number());
    };
    if (flag == "--quick") {
      flags.connections = {4};
      flags.seconds = 2;
      flags.growth = 0;
      flags.paced_seconds = 3;
      flags.markers = 2;
      flags.idle_markers = 1;
    } else if (flag == "--connections") {
      flags.connections = args.Counts<int>();
    } else if (flag == "--seconds") {
      flags.seconds = args.Number();
    } else if (flag == "--growth") {
      flags.growth = integer();
    } else if (flag == "--paced-seconds") {
      flags.paced_seconds = args.Number();
    } else if (flag == "--paced-fraction") {
      flags.paced_fraction = args.Number();
    } else if (flag == "--goal-rate") {
      flags.goal_rate = args.Number();
    } else if (flag == "--markers") {
      flags.markers = integer();
    } else if (flag == "--idle-markers") {
      flags.idle_markers = integer();
    } else if (flag == "--batch") {
      flags.records_per_batch = integer();
    } else if (flag == "--record-bytes") {
      flags.record_bytes = integer();
    } else if (flag == "--buffer-seconds") {
      flags.buffer_seconds = integer();
    } else if (flag == "--buffer-mib") {
      flags.buffer_mib = integer();
    } else if (flag == "--basin") {
      flags.basin = args.Value();
    } else if (flag == "--dir") {
      flags.dir = args.Value();
    } else {
      args.Unknown();
    }
  }
  if (flags.connections.empty() ||
      std::ranges::any_of(flags.connections, [](int n) { return n < 1; }))
    Fail("--connections needs numbers of at least 1");
  if (flags.seconds <= 0 || flags.records_per_batch < 1 || flags.record_bytes < 128)
    Fail("--seconds must be positive, --batch at least 1, --record-bytes at least 128");
  if (!fs::exists(flags.basin))
    Fail(flags.basin + " is missing: build basin first (make build) or pass --basin");
  return flags;
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double Percentile(std::vector<double> values, double fraction) {
  if (values.empty())
    return 0;
  size_t index = std::min(values.size() - 1,
                          static_cast<size_t>(fraction * static_cast<double>(values.size())));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(index), values.end());
  return values[index];
}

double Max(const std::vector<double>& values) {
  return values.empty() ? 0 : *std::ranges::max_element(values);
}

// --- the load ----------------------------------------------------------------------------

// A search/click/like event as an app would send it, padded to `bytes` with a filler field.
std::string EventRecord(int64_t user_id, int index, int bytes) {
  static const char* kTypes[] = {"search", "click", "like", "exposure"};
  char text[256];
  int length =
      std::snprintf(text, sizeof text,
                    R"({"ts":"2026-11-25T04:%02d:%02d.%03dZ","user_id":%lld,"event_type":"%s",)"
                    R"("keyword":"kw%d","session":"s%08d","pad":")",
                    index % 60, (index / 60) % 60, index % 1000, static_cast<long long>(user_id),
                    kTypes[index % 4], index % 5000, index * 7919 % 100'000'000);
  std::string record(text, static_cast<size_t>(length));
  record.resize(static_cast<size_t>(bytes) - 2, 'p');
  return record + "\"}";
}

// kBatchesPerConnection different NDJSON bodies per connection, sent in turn.
constexpr int kBatchesPerConnection = 8;

std::vector<std::vector<std::string>> MakeBodies(int connections, const Flags& flags) {
  std::vector<std::vector<std::string>> bodies(connections);
  for (int c = 0; c < connections; ++c) {
    for (int b = 0; b < kBatchesPerConnection; ++b) {
      std::string body;
      for (int i = 0; i < flags.records_per_batch; ++i) {
        int index = b * flags.records_per_batch + i;
        body += EventRecord(int64_t{c} * 10'000'000 + index + 1, index, flags.record_bytes);
        body += '\n';
      }
      bodies[c].push_back(std::move(body));
    }
  }
  return bodies;
}

struct LoadResult {
  std::vector<uint64_t> batches;  // per connection
  std::vector<double> latencies_ms;
  uint64_t rejected = 0;  // 503 answers (retried after a pause)
  double seconds = 0;
  double server_cpu_seconds = 0;
  double client_cpu_seconds = 0;

  uint64_t TotalBatches() const {
    uint64_t total = 0;
    for (uint64_t count : batches)
      total += count;
    return total;
  }
};

// Runs `send(connection, batch_number)` from every connection until `duration`; with a
// non-zero `interval` each connection starts a batch every `interval` (staggered), else
// back to back. `send` returns false for a refused batch (not counted, not timed).
LoadResult RunConnections(int connections, double duration, Clock::duration interval,
                          const std::function<bool(int, uint64_t)>& send) {
  LoadResult result;
  result.batches.assign(connections, 0);
  std::vector<std::vector<double>> latencies(connections);
  std::atomic<uint64_t> rejected = 0;
  std::atomic<bool> failed = false;
  std::string failure;  // the first thread's; rethrown after every thread has stopped
  std::mutex failure_mutex;
  std::vector<std::thread> threads;
  Clock::time_point start = Clock::now();
  Clock::time_point stop =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      Clock::time_point next = start + interval * c / connections;
      while (true) {
        if (interval.count() > 0) {
          std::this_thread::sleep_until(next);
          next += interval;
        }
        Clock::time_point began = Clock::now();
        if (began >= stop || failed)
          break;
        try {
          if (!send(c, result.batches[c])) {
            ++rejected;
            continue;
          }
        } catch (const std::exception& error) {
          std::lock_guard<std::mutex> lock(failure_mutex);
          if (!failed.exchange(true))
            failure = error.what();
          break;
        }
        latencies[c].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - began).count());
        ++result.batches[c];
      }
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  if (failed)
    Fail(failure);
  result.seconds = SecondsSince(start);
  result.rejected = rejected;
  for (const auto& each : latencies)
    result.latencies_ms.insert(result.latencies_ms.end(), each.begin(), each.end());
  return result;
}

double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// --- the server --------------------------------------------------------------------------

// Resident memory of a process, from /proc/<pid>/status, in MiB.
struct Memory {
  double rss_mib = 0;
  double peak_mib = 0;  // VmHWM: the most it has been resident since it started
};

Memory ReadMemory(pid_t pid) {
  std::string status = "/proc/" + std::to_string(pid) + "/status";
  Memory memory;
  memory.rss_mib = std::strtod(FirstMatch(status, "VmRSS").c_str(), nullptr) / 1024;
  memory.peak_mib = std::strtod(FirstMatch(status, "VmHWM").c_str(), nullptr) / 1024;
  return memory;
}

// utime + stime of a process (fields 14 and 15 of /proc/<pid>/stat, after the command).
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos)
    return 0;
  std::stringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14 || index == 15)
      ticks += std::strtod(field.c_str(), nullptr);
    if (index == 15)
      break;
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A fresh basin home with a token and the stream, and its server.
struct BasinRun {
  std::string basin;
  fs::path home;
  std::vector<std::string> env;
  std::string token;
  std::optional<ServerProcess> server;

  std::string Cli(const std::vector<std::string>& args) const {
    std::vector<std::string> command = {basin, "--json", "--home", home.string()};
    command.insert(command.end(), args.begin(), args.end());
    CommandOutput output = RunCommand(command, env);
    if (output.exit_code != 0) {
      std::string shown;
      for (const std::string& arg : args)
        shown += " " + arg;
      Fail("basin" + shown + " failed (exit " + std::to_string(output.exit_code) +
           "): " + output.err + output.out);
    }
    return output.out;
  }
};

BasinRun StartBasin(const Flags& flags, const fs::path& work, const std::string& label) {
  BasinRun run{flags.basin, work / (label + "-home"), ChildEnvironment({}), "", std::nullopt};
  fs::path lake = work / (label + "-lake");
  fs::create_directories(lake);
  CommandOutput init = RunCommand(
      {flags.basin, "--json", "init", run.home.string(), "--lake", lake.string()}, run.env);
  if (init.exit_code != 0)
    Fail("basin init failed: " + init.err + init.out);
  nlohmann::json token =
      nlohmann::json::parse(run.Cli({"token", "create", "--name", "ingest-bench"}), nullptr, false);
  run.token = token.is_object() ? token.value("token", "") : "";
  if (run.token.empty())
    Fail("basin token create printed no token");
  run.Cli({"stream", "create", kStream, "--table", kTable, "--format", "parquet",
           "--prefix-expression", "dt=!{timestamp:yyyy-MM-dd}/", "--buffer-seconds",
           std::to_string(flags.buffer_seconds), "--buffer-mib", std::to_string(flags.buffer_mib)});
  std::string error;
  run.server = ServerProcess::Start(flags.basin, run.home.string(), run.env,
                                    (work / (label + "-server.log")).string(), error);
  if (!run.server)
    Fail(error);
  return run;
}

std::unique_ptr<httplib::Client> Connect(const BasinRun& run) {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", run.server->port());
  client->set_keep_alive(true);
  client->set_read_timeout(120, 0);
  client->set_write_timeout(120, 0);
  client->set_bearer_token_auth(run.token.c_str());
  return client;
}

// POSTs one NDJSON body; true when every record was acknowledged, false on 503 (after a
// pause: the server asks for a retry); anything else fails the benchmark.
bool PostRecords(httplib::Client& client, const std::string& body) {
  static const std::string path = std::string("/api/streams/") + kStream + "/records";
  httplib::Result answer = client.Post(path.c_str(), body, "application/x-ndjson");
  if (!answer)
    Fail("POST " + path + " failed: " + httplib::to_string(answer.error()));
  if (answer->status == 503) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return false;
  }
  if (answer->status != 200 || answer->body.find("\"failed\":0") == std::string::npos)
    Fail("POST " + path + " answered " + std::to_string(answer->status) + ": " +
         answer->body.substr(0, 500));
  return true;
}

nlohmann::json StreamStats(httplib::Client& client) {
  httplib::Result answer = client.Get((std::string("/api/streams/") + kStream).c_str());
  if (!answer || answer->status != 200)
    Fail("GET /api/streams/" + std::string(kStream) + " failed");
  nlohmann::json body = nlohmann::json::parse(answer->body, nullptr, false);
  if (!body.is_object() || !body.contains("stats"))
    Fail("the stream has no stats: " + answer->body.substr(0, 500));
  return body["stats"];
}

// Waits until every acknowledged record is delivered; returns the seconds it took.
double WaitUntilDelivered(httplib::Client& client, double timeout_seconds) {
  auto started = Clock::now();
  while (SecondsSince(started) < timeout_seconds) {
    nlohmann::json stats = StreamStats(client);
    if (!stats.value("last_delivery_error", std::string()).empty())
      Note("delivery error: " + stats["last_delivery_error"].get<std::string>());
    if (stats.value("buffered_records", uint64_t{1}) == 0 &&
        stats.value("delivered_records", uint64_t{0}) == stats.value("incoming_records", 0ull))
      return SecondsSince(started);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Fail("delivery did not catch up within " + Format("%.0f", timeout_seconds) + " s");
}

// Rows of `sql`'s single count, or -1 while the table does not exist yet.
int64_t Count(httplib::Client& client, const std::string& sql) {
  httplib::Result answer =
      client.Post("/api/query", nlohmann::json({{"sql", sql}}).dump(), "application/json");
  if (!answer)
    Fail("POST /api/query failed: " + httplib::to_string(answer.error()));
  if (answer->status != 200)
    return -1;
  nlohmann::json body = nlohmann::json::parse(answer->body, nullptr, false);
  if (!body.is_object() || !body.contains("rows") || body["rows"].empty())
    Fail("POST /api/query: not a count: " + answer->body.substr(0, 500));
  const nlohmann::json& value = body["rows"][0][0];
  return value.is_string() ? std::stoll(value.get<std::string>()) : value.get<int64_t>();
}

// Sends one marker record (a negative user_id; otherwise an ordinary event, so the table's
// columns do not change) and returns the seconds from its acknowledgement until a query
// finds it, polling every 100 ms.
double MeasureFreshness(httplib::Client& client, int64_t marker, const Flags& flags) {
  if (!PostRecords(client, EventRecord(-marker, 0, flags.record_bytes) + "\n"))
    Fail("a freshness marker was refused (503)");
  auto acknowledged = Clock::now();
  std::string sql =
      std::string("SELECT count(*) FROM ") + kTable + " WHERE user_id = " + std::to_string(-marker);
  double timeout = flags.buffer_seconds + 300.0;
  while (SecondsSince(acknowledged) < timeout) {
    if (Count(client, sql) == 1)
      return SecondsSince(acknowledged);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Fail("marker " + std::to_string(marker) + " not queryable after " + Format("%.0f", timeout) +
       " s");
}

// Basin's side of a load: one keep-alive connection per thread.
LoadResult LoadBasin(const BasinRun& run, const std::vector<std::vector<std::string>>& bodies,
                     double duration, Clock::duration interval) {
  int connections = static_cast<int>(bodies.size());
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int c = 0; c < connections; ++c)
    clients.push_back(Connect(run));
  pid_t pid = run.server->pid();
  double server_cpu = ProcessCpuSeconds(pid);
  double client_cpu = SelfCpuSeconds();
  LoadResult result = RunConnections(connections, duration, interval, [&](int c, uint64_t batch) {
    return PostRecords(*clients[c], bodies[c][batch % bodies[c].size()]);
  });
  result.server_cpu_seconds = ProcessCpuSeconds(pid) - server_cpu;
  result.client_cpu_seconds = SelfCpuSeconds() - client_cpu;
  return result;
}

// --- the baseline ------------------------------------------------------------------------

// The physical baseline: the same bodies appended to one O_APPEND file with write(2) and
// fdatasync(2) per batch, from the same number of threads. With `batches` given, each
// thread writes exactly that many (the same bytes basin took); else it runs for `duration`.
LoadResult LoadBaseline(const fs::path& file, const std::vector<std::vector<std::string>>& bodies,
                        const std::vector<uint64_t>& batches, double duration,
                        Clock::duration interval) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    Fail("cannot create " + file.string() + ": " + std::strerror(errno));
  std::atomic<uint64_t> written = 0;
  auto append = [&](int c, uint64_t batch) {
    const std::string& body = bodies[c][batch % bodies[c].size()];
    if (::write(fd, body.data(), body.size()) != static_cast<ssize_t>(body.size()))
      Fail("write failed: " + file.string());
    if (::fdatasync(fd) != 0)
      Fail("fdatasync failed: " + file.string());
    // Keep the file (and the disk use) bounded, as delivery keeps the log.
    if ((written += body.size()) > (256u << 20)) {
      written = 0;
      if (::ftruncate(fd, 0) != 0)
        Fail("ftruncate failed: " + file.string());
    }
    return true;
  };
  LoadResult result;
  if (batches.empty()) {
    result = RunConnections(static_cast<int>(bodies.size()), duration, interval, append);
  } else {
    // A counted run: the same loop, stopped per thread after its count.
    result.batches.assign(bodies.size(), 0);
    std::vector<std::vector<double>> latencies(bodies.size());
    std::vector<std::thread> threads;
    auto start = Clock::now();
    for (size_t c = 0; c < bodies.size(); ++c) {
      threads.emplace_back([&, c] {
        for (uint64_t batch = 0; batch < batches[c]; ++batch) {
          auto began = Clock::now();
          append(static_cast<int>(c), batch);
          latencies[c].push_back(
              std::chrono::duration<double, std::milli>(Clock::now() - began).count());
        }
        result.batches[c] = batches[c];
      });
    }
    for (std::thread& thread : threads)
      thread.join();
    result.seconds = SecondsSince(start);
    for (const auto& each : latencies)
      result.latencies_ms.insert(result.latencies_ms.end(), each.begin(), each.end());
  }
  ::close(fd);
  fs::remove(file);
  return result;
}

// --- one run -----------------------------------------------------------------------------

// A paced load with its freshness markers, and the baseline at the same pace.
struct PacedRun {
  std::string rate;  // how the offered rate was chosen: "0.5 x max" or "goal"
  double offered_per_second = 0;
  LoadResult load;
  LoadResult baseline;
  std::vector<double> freshness;
};

struct RunReport {
  int connections = 0;
  std::string data;  // "1x" or "10x"
  LoadResult max;
  LoadResult max_baseline;
  std::vector<PacedRun> paced;
  Memory before;
  Memory after_max;                  // after the max-rate load and its delivery
  Memory after;                      // at the end of the run
  double delivered_at_load_end = 0;  // fraction of acknowledged records delivered then
  double drain_seconds = 0;          // after the max-rate load, until all were delivered
  uint64_t objects = 0;
  uint64_t delivered_bytes = 0;
  uint64_t delivered_records = 0;
  std::vector<double> fresh_idle;
};

Clock::duration PerConnectionInterval(double records_per_second, int connections,
                                      const Flags& flags) {
  double batches_per_second = records_per_second / flags.records_per_batch / connections;
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(1 / batches_per_second));
}

// One paced load, with freshness markers sent on their own connection while it runs.
void RunPaced(const BasinRun& run, const std::vector<std::vector<std::string>>& bodies,
              const fs::path& work, const std::string& label, PacedRun& paced, int64_t first_marker,
              const Flags& flags) {
  int connections = static_cast<int>(bodies.size());
  Clock::duration interval = PerConnectionInterval(paced.offered_per_second, connections, flags);
  Note(label + ": paced at " + Format("%.0f", paced.offered_per_second) + " records/s for " +
       Format("%g", flags.paced_seconds) + " s, " + std::to_string(flags.markers) + " markers");
  std::string marker_failure;
  std::thread markers([&] {
    try {
      std::unique_ptr<httplib::Client> client = Connect(run);
      auto start = Clock::now();
      for (int m = 0; m < flags.markers; ++m) {
        std::this_thread::sleep_until(
            start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                        flags.paced_seconds * m / std::max(1, flags.markers))));
        if (SecondsSince(start) >= flags.paced_seconds)
          break;
        paced.freshness.push_back(MeasureFreshness(*client, first_marker + m, flags));
      }
    } catch (const std::exception& error) {
      marker_failure = error.what();
    }
  });
  paced.load = LoadBasin(run, bodies, flags.paced_seconds, interval);
  markers.join();
  if (!marker_failure.empty())
    Fail(marker_failure);
  std::unique_ptr<httplib::Client> control = Connect(run);
  WaitUntilDelivered(*control, 600);
  paced.baseline = LoadBaseline(work / "baseline.log", bodies, {}, flags.paced_seconds, interval);
}

RunReport Run(const Flags& flags, const fs::path& work, int connections, int scale, bool paced) {
  std::string data = std::to_string(scale) + "x";
  std::string label = std::to_string(connections) + "c-" + data;
  RunReport report{.connections = connections, .data = data};
  BasinRun run = StartBasin(flags, work, label);
  std::unique_ptr<httplib::Client> control = Connect(run);
  auto bodies = MakeBodies(connections, flags);
  pid_t pid = run.server->pid();
  report.before = ReadMemory(pid);

  double seconds = flags.seconds * scale;
  Note(label + ": max rate for " + Format("%g", seconds) + " s");
  report.max = LoadBasin(run, bodies, seconds, Clock::duration::zero());
  nlohmann::json stats = StreamStats(*control);
  double incoming = stats.value("incoming_records", 0.0);
  report.delivered_at_load_end =
      incoming > 0 ? stats.value("delivered_records", 0.0) / incoming : 0;
  report.drain_seconds = WaitUntilDelivered(*control, 600);
  report.after_max = ReadMemory(pid);
  report.max_baseline =
      LoadBaseline(work / "baseline.log", bodies, report.max.batches, 0, Clock::duration::zero());

  if (paced && flags.paced_seconds > 0) {
    double max_rate = static_cast<double>(report.max.TotalBatches()) * flags.records_per_batch /
                      report.max.seconds;
    report.paced.push_back({.rate = Format("%g", flags.paced_fraction) + " x max",
                            .offered_per_second = max_rate * flags.paced_fraction});
    if (flags.goal_rate > 0)
      report.paced.push_back({.rate = "goal", .offered_per_second = flags.goal_rate});
    int64_t marker = 1000;
    for (PacedRun& paced_run : report.paced) {
      RunPaced(run, bodies, work, label, paced_run, marker, flags);
      marker += flags.markers;
    }
  }
  for (int m = 0; m < flags.idle_markers; ++m)
    report.fresh_idle.push_back(MeasureFreshness(*control, 2000 + m, flags));

  stats = StreamStats(*control);
  report.objects = stats.value("delivered_objects", uint64_t{0});
  report.delivered_bytes = stats.value("delivered_bytes", uint64_t{0});
  report.delivered_records = stats.value("delivered_records", uint64_t{0});
  report.after = ReadMemory(pid);
  control.reset();
  run.server->Stop();
  std::error_code ignored;
  fs::remove_all(run.home, ignored);
  fs::remove_all(work / (label + "-lake"), ignored);
  return report;
}

// --- the report --------------------------------------------------------------------------

double RecordsPerSecond(const LoadResult& load, const Flags& flags) {
  return load.seconds > 0
             ? static_cast<double>(load.TotalBatches()) * flags.records_per_batch / load.seconds
             : 0;
}

double Megabytes(const LoadResult& load, const Flags& flags) {
  return static_cast<double>(load.TotalBatches()) * flags.records_per_batch * flags.record_bytes /
         1e6;
}

std::string Ms(double value) {
  return Format(value < 10 ? "%.2f" : "%.1f", value);
}

std::string Ratio(double basin, double baseline) {
  return baseline > 0 ? Format("%.2f", basin / baseline) : "-";
}

void PrintMaxRate(const std::vector<RunReport>& reports, const Flags& flags) {
  std::printf("#### Max rate: back-to-back batches\n\n");
  std::printf(
      "| connections | data | s | records | records/s | MB/s | ack p50 ms | p99 ms | max ms | "
      "503s | server CPU %% | server CPU s / 1M rec | client CPU %% | delivered at end | "
      "catch-up s |\n");
  std::printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const RunReport& r : reports) {
    const LoadResult& m = r.max;
    double records = static_cast<double>(m.TotalBatches()) * flags.records_per_batch;
    std::printf(
        "| %d | %s | %s | %.0f | %.0f | %.1f | %s | %s | %s | %llu | %.0f | %.1f | %.0f | "
        "%.0f%% | %.1f |\n",
        r.connections, r.data.c_str(), Format("%.1f", m.seconds).c_str(), records,
        RecordsPerSecond(m, flags), Megabytes(m, flags) / m.seconds,
        Ms(Percentile(m.latencies_ms, 0.5)).c_str(), Ms(Percentile(m.latencies_ms, 0.99)).c_str(),
        Ms(Max(m.latencies_ms)).c_str(), static_cast<unsigned long long>(m.rejected),
        100 * m.server_cpu_seconds / m.seconds, m.server_cpu_seconds / records * 1e6,
        100 * m.client_cpu_seconds / m.seconds, 100 * r.delivered_at_load_end, r.drain_seconds);
  }
}

void PrintBaseline(const std::vector<RunReport>& reports, const Flags& flags) {
  std::printf("\n#### Side by side: the same batches appended to a file, one fdatasync each\n\n");
  std::printf(
      "| connections | data | basin records/s | baseline records/s | ratio | basin p99 ms | "
      "baseline p99 ms | ratio |\n");
  std::printf("|---:|---|---:|---:|---:|---:|---:|---:|\n");
  for (const RunReport& r : reports) {
    double basin = RecordsPerSecond(r.max, flags);
    double baseline = RecordsPerSecond(r.max_baseline, flags);
    double basin_p99 = Percentile(r.max.latencies_ms, 0.99);
    double baseline_p99 = Percentile(r.max_baseline.latencies_ms, 0.99);
    std::printf("| %d | %s | %.0f | %.0f | %s | %s | %s | %s |\n", r.connections, r.data.c_str(),
                basin, baseline, Ratio(basin, baseline).c_str(), Ms(basin_p99).c_str(),
                Ms(baseline_p99).c_str(), Ratio(basin_p99, baseline_p99).c_str());
  }
}

void PrintPaced(const std::vector<RunReport>& reports, const Flags& flags) {
  std::printf("\n#### Paced (goal: p99 < 50 ms at 50,000 records/s)\n\n");
  std::printf(
      "| connections | rate | offered records/s | achieved | ack p50 ms | p99 ms | max ms | "
      "server CPU %% | baseline p50 ms | baseline p99 ms | p99 ratio |\n");
  std::printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const RunReport& r : reports) {
    for (const PacedRun& paced : r.paced) {
      const LoadResult& p = paced.load;
      const LoadResult& b = paced.baseline;
      double p99 = Percentile(p.latencies_ms, 0.99);
      double baseline_p99 = Percentile(b.latencies_ms, 0.99);
      std::printf("| %d | %s | %.0f | %.0f | %s | %s | %s | %.0f | %s | %s | %s |\n", r.connections,
                  paced.rate.c_str(), paced.offered_per_second, RecordsPerSecond(p, flags),
                  Ms(Percentile(p.latencies_ms, 0.5)).c_str(), Ms(p99).c_str(),
                  Ms(Max(p.latencies_ms)).c_str(), 100 * p.server_cpu_seconds / p.seconds,
                  Ms(Percentile(b.latencies_ms, 0.5)).c_str(), Ms(baseline_p99).c_str(),
                  Ratio(p99, baseline_p99).c_str());
    }
  }
}

std::string Seconds(const std::vector<double>& values) {
  if (values.empty())
    return "- | - | 0";
  return Format("%.2f", Percentile(values, 0.5)) + " | " + Format("%.2f", Max(values)) + " | " +
         std::to_string(values.size());
}

void PrintFreshness(const std::vector<RunReport>& reports, const Flags& flags) {
  std::printf(
      "\n#### Freshness: acknowledgement to queryable (buffer_seconds %d, buffer_mib %d)\n\n",
      flags.buffer_seconds, flags.buffer_mib);
  std::printf("| connections | data | while | p50 s | max s | markers |\n");
  std::printf("|---:|---|---|---:|---:|---:|\n");
  for (const RunReport& r : reports) {
    for (const PacedRun& paced : r.paced) {
      std::printf("| %d | %s | paced at %.0f records/s | %s |\n", r.connections, r.data.c_str(),
                  paced.offered_per_second, Seconds(paced.freshness).c_str());
    }
    std::printf("| %d | %s | idle | %s |\n", r.connections, r.data.c_str(),
                Seconds(r.fresh_idle).c_str());
  }
}

void PrintMemoryAndObjects(const std::vector<RunReport>& reports) {
  std::printf("\n#### Server memory and delivered objects\n\n");
  std::printf(
      "| connections | data | RSS before MiB | after max-rate MiB | at end MiB | peak (VmHWM) MiB "
      "| records delivered | objects | MB per object |\n");
  std::printf("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const RunReport& r : reports) {
    std::printf("| %d | %s | %.0f | %.0f | %.0f | %.0f | %llu | %llu | %.1f |\n", r.connections,
                r.data.c_str(), r.before.rss_mib, r.after_max.rss_mib, r.after.rss_mib,
                r.after.peak_mib, static_cast<unsigned long long>(r.delivered_records),
                static_cast<unsigned long long>(r.objects),
                r.objects ? static_cast<double>(r.delivered_bytes) / 1e6 / r.objects : 0.0);
  }
}

int Main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  std::string load_at_start = LoadAverage();
  fs::path work = flags.dir.empty()
                      ? fs::temp_directory_path() / ("basin-ingest-bench-" + RandomAlphanumeric(8))
                      : fs::path(flags.dir);
  fs::create_directories(work);
  struct RemoveWork {
    fs::path path;
    bool remove;
    ~RemoveWork() {
      std::error_code ignored;
      if (remove)
        fs::remove_all(path, ignored);
    }
  } remove_work{work, flags.dir.empty()};
  auto started = Clock::now();

  std::vector<RunReport> reports;
  for (int connections : flags.connections)
    reports.push_back(Run(flags, work, connections, 1, true));
  if (flags.growth > 1)
    reports.push_back(Run(flags, work, flags.connections.front(), flags.growth, false));

  std::printf(
      "### Stream ingest: %d-record NDJSON batches of %d-byte JSON events, durable "
      "acknowledgements\n\n",
      flags.records_per_batch, flags.record_bytes);
  PrintMaxRate(reports, flags);
  PrintBaseline(reports, flags);
  PrintPaced(reports, flags);
  PrintFreshness(reports, flags);
  PrintMemoryAndObjects(reports);
  std::printf("\n- Machine: %s\n", Machine().c_str());
  std::printf("- Load average (1 min): %s at start, %s at end; %.0f s in all\n",
              load_at_start.c_str(), LoadAverage().c_str(), SecondsSince(started));
  std::printf("- Folder: %s (homes, lakes and the baseline file)\n", work.c_str());
  return 0;
}

}  // namespace
}  // namespace basin::bench

int main(int argc, char** argv) {
  try {
    return basin::bench::Main(argc, argv);
  } catch (const std::exception& failure) {
    std::fprintf(stderr, "ingest_bench: %s\n", failure.what());
    return 1;
  }
}

#pragma once

// query_bench's results and how they are printed (markdown tables on stdout).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/machine.h"
#include "bench/query_suite.h"

namespace basin::bench {

/// One suite query on one dataset.
struct Timing {
  double basin_micros = 0;   // client-side, median
  double server_ms = 0;      // the answers' elapsed_ms, median
  double direct_micros = 0;  // Engine::Execute wall time, median
  int runs = 0;
  bool same_answer = true;
  int cache_answers = 0;  // runs the server answered from its result cache (should be 0)
  uint64_t bytes_read = 0;
};

/// bytes_read of the full scan and of one day, first run and warm.
struct Pruning {
  uint64_t full_first = 0, full_warm = 0, day_first = 0, day_warm = 0;
  double full_micros = 0, day_micros = 0;
};

/// One series of small queries.
struct Latency {
  std::string what;
  std::vector<double> micros;  // client-side, one per query
  std::vector<double> server_ms;
  int cache_hits = 0;
  bool cache_field_seen = false;
};

/// The suite on the S3 lake.
struct S3Run {
  bool ran = false;
  std::string why_not;  // when not run
  double upload_seconds = 0, crawl_seconds = 0;
  std::vector<double> cold_micros;  // per suite query: a fresh server's first run
  std::vector<uint64_t> cold_bytes;
  std::vector<Timing> warm;  // per suite query (direct_micros unused)
};

struct DatasetResult {
  Dataset data;
  std::vector<Timing> suite;  // per query
  Pruning pruning;
  S3Run s3;
};

/// What the header says about the run.
struct RunInfo {
  std::string load_at_start;
  double seconds = 0;
  std::string threads;
  int repetitions = 0;
  int warmups = 0;
};

inline std::string WithThousands(uint64_t value) {
  std::string digits = std::to_string(value);
  for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3)
    digits.insert(at, ",");
  return digits;
}

inline std::string Millis(double micros) {
  return Format(micros < 100'000 ? "%.1f" : "%.0f", micros / 1000);
}

inline std::string Megabytes(uint64_t bytes) {
  return Format(bytes < 10'000'000 ? "%.2f MB" : "%.1f MB", static_cast<double>(bytes) / 1e6);
}

inline double Median(std::vector<double> values) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// Nearest-rank percentile (p in 0..100).
inline double Percentile(std::vector<double> values, double p) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(p / 100 * static_cast<double>(values.size())));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

inline double GeometricMean(const std::vector<double>& values) {
  double log_sum = 0;
  for (double value : values)
    log_sum += std::log(value);
  return values.empty() ? 0 : std::exp(log_sum / static_cast<double>(values.size()));
}

/// Prints every table: suite, pruning, S3, latency (on the first dataset) and growth.
void PrintReport(const RunInfo& info, const std::vector<DatasetResult>& results,
                 const std::vector<SuiteQuery>& queries, const std::vector<Latency>& latencies);

}  // namespace basin::bench

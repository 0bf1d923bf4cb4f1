// query_bench's report: markdown tables in the style of the other benchmarks.

#include "bench/query_report.h"

#include <cstdio>

#include "basin/query/engine.h"

namespace basin::bench {
namespace {

void PrintSuite(const std::vector<DatasetResult>& results, const std::vector<SuiteQuery>& queries) {
  std::printf(
      "| # | query | rows | runs | DuckDB ms | basin API ms | basin / DuckDB | server ms | MB read "
      "| same answer |\n|--:|---|--:|--:|--:|--:|--:|--:|--:|---|\n");
  for (size_t q = 0; q < queries.size(); ++q) {
    for (const DatasetResult& result : results) {
      const Timing& t = result.suite[q];
      std::printf("| %d | %s | %s | %d | %s | %s | %.2fx | %.0f | %.1f | %s%s |\n",
                  queries[q].number, queries[q].name.c_str(), result.data.label.c_str(), t.runs,
                  Millis(t.direct_micros).c_str(), Millis(t.basin_micros).c_str(),
                  t.basin_micros / t.direct_micros, t.server_ms,
                  static_cast<double>(t.bytes_read) / 1e6, t.same_answer ? "yes" : "**no**",
                  t.cache_answers ? " (cache answered!)" : "");
    }
  }
  std::printf(
      "\n| rows | median basin / DuckDB | geometric mean | slowest query | goal: median <= 1.10 |\n"
      "|--:|--:|--:|--:|---|\n");
  for (const DatasetResult& result : results) {
    std::vector<double> ratios;
    for (const Timing& t : result.suite)
      ratios.push_back(t.basin_micros / t.direct_micros);
    double median = Median(ratios);
    std::printf("| %s | %.2fx | %.2fx | %.2fx | %s |\n", result.data.label.c_str(), median,
                GeometricMean(ratios), *std::max_element(ratios.begin(), ratios.end()),
                median <= 1.10 ? "met" : "**not met**");
  }
}

void PrintPruning(const std::vector<DatasetResult>& results) {
  std::printf(
      "| rows | full scan: MB read (first / warm) | one day: MB read (first / warm) | one day / "
      "full (warm) | full ms | one day ms | goal: <= 1/300 |\n|--:|--:|--:|--:|--:|--:|---|\n");
  for (const DatasetResult& result : results) {
    const Pruning& p = result.pruning;
    double fraction =
        p.full_warm ? static_cast<double>(p.day_warm) / static_cast<double>(p.full_warm) : 1;
    std::printf("| %s | %s / %s | %s / %s | 1/%.0f | %s | %s | %s |\n", result.data.label.c_str(),
                Megabytes(p.full_first).c_str(), Megabytes(p.full_warm).c_str(),
                Megabytes(p.day_first).c_str(), Megabytes(p.day_warm).c_str(),
                fraction > 0 ? 1 / fraction : 0.0, Millis(p.full_micros).c_str(),
                Millis(p.day_micros).c_str(), fraction <= 1.0 / 300 ? "met" : "**not met**");
  }
}

void PrintS3(const std::vector<DatasetResult>& results, const std::vector<SuiteQuery>& queries) {
  for (const DatasetResult& result : results) {
    const S3Run& s3 = result.s3;
    if (!s3.ran) {
      std::printf("\nS3, %s rows: not run (%s).\n", result.data.label.c_str(), s3.why_not.c_str());
      continue;
    }
    std::printf("\nS3, %s rows: uploaded with `basin cp -r` in %.1f s, crawled in %.1f s.\n\n",
                result.data.label.c_str(), s3.upload_seconds, s3.crawl_seconds);
    std::printf(
        "| # | query | local disk ms | S3 cold ms | S3 warm ms | warm / local | cold MB read | "
        "warm "
        "MB read |\n|--:|---|--:|--:|--:|--:|--:|--:|\n");
    std::vector<double> ratios;
    for (size_t q = 0; q < queries.size(); ++q) {
      const Timing& local = result.suite[q];
      const Timing& warm = s3.warm[q];
      ratios.push_back(warm.basin_micros / local.basin_micros);
      std::printf("| %d | %s | %s | %s | %s | %.2fx | %.1f | %.1f |\n", queries[q].number,
                  queries[q].name.c_str(), Millis(local.basin_micros).c_str(),
                  Millis(s3.cold_micros[q]).c_str(), Millis(warm.basin_micros).c_str(),
                  ratios.back(), static_cast<double>(s3.cold_bytes[q]) / 1e6,
                  static_cast<double>(warm.bytes_read) / 1e6);
    }
    std::printf("\nS3 warm / local disk: median %.2fx, geometric mean %.2fx.\n", Median(ratios),
                GeometricMean(ratios));
  }
}

void PrintLatency(const std::vector<Latency>& latencies, const std::string& rows) {
  std::printf("\nLatency through the HTTP API (%s rows; client-side, one request at a time):\n\n",
              rows.c_str());
  std::printf(
      "| queries | answered | p50 ms | p90 ms | p99 ms | max ms | server p50 ms | goal |\n"
      "|---|--:|--:|--:|--:|--:|--:|---|\n");
  for (const Latency& l : latencies) {
    bool cache = l.what.find("cache") != std::string::npos;
    if (l.micros.empty()) {
      std::printf("| %s | 0 | - | - | - | - | - | %s |\n", l.what.c_str(),
                  cache ? (l.cache_field_seen ? "no answer came from the cache"
                                              : "not available: the answers carry no cache_hit")
                        : "-");
      continue;
    }
    double p50 = Percentile(l.micros, 50) / 1000;
    std::string goal = "-";
    if (cache) {
      goal = std::string("p50 < 5 ms: ") + (p50 < 5 ? "met" : "**not met**");
    } else if (l.what.find("one partition") != std::string::npos) {
      goal = std::string("p50 < 20 ms: ") + (p50 < 20 ? "met" : "**not met**");
    }
    std::string server = l.server_ms.empty() ? "-" : Format("%.0f", Percentile(l.server_ms, 50));
    std::printf("| %s | %zu | %.1f | %.1f | %.1f | %.1f | %s | %s |\n", l.what.c_str(),
                l.micros.size(), p50, Percentile(l.micros, 90) / 1000,
                Percentile(l.micros, 99) / 1000, Percentile(l.micros, 100) / 1000, server.c_str(),
                goal.c_str());
  }
}

void PrintGrowth(const std::vector<DatasetResult>& results,
                 const std::vector<SuiteQuery>& queries) {
  if (results.size() < 2)
    return;
  const DatasetResult& low = results.front();
  const DatasetResult& high = results.back();
  std::printf("\nGrowth from %s to %s rows (%.0fx the rows; data %s to %s), median time ratio:\n\n",
              low.data.label.c_str(), high.data.label.c_str(),
              static_cast<double>(high.data.rows) / static_cast<double>(low.data.rows),
              Megabytes(low.data.bytes).c_str(), Megabytes(high.data.bytes).c_str());
  std::printf(
      "| # | query | DuckDB %s ms | DuckDB %s ms | growth | basin %s ms | basin %s ms | growth "
      "|\n|--:|---|--:|--:|--:|--:|--:|--:|\n",
      low.data.label.c_str(), high.data.label.c_str(), low.data.label.c_str(),
      high.data.label.c_str());
  for (size_t q = 0; q < queries.size(); ++q) {
    const Timing& a = low.suite[q];
    const Timing& b = high.suite[q];
    std::printf("| %d | %s | %s | %s | %.1fx | %s | %s | %.1fx |\n", queries[q].number,
                queries[q].name.c_str(), Millis(a.direct_micros).c_str(),
                Millis(b.direct_micros).c_str(), b.direct_micros / a.direct_micros,
                Millis(a.basin_micros).c_str(), Millis(b.basin_micros).c_str(),
                b.basin_micros / a.basin_micros);
  }
}

}  // namespace

void PrintReport(const RunInfo& info, const std::vector<DatasetResult>& results,
                 const std::vector<SuiteQuery>& queries, const std::vector<Latency>& latencies) {
  std::printf("## Query: analytic SQL through the HTTP API vs DuckDB directly\n\n");
  std::printf("- Machine: %s\n", Machine().c_str());
  std::printf("- Load average (1 min): %s at the start, %s at the end; %.0f s in all\n",
              info.load_at_start.c_str(), LoadAverage().c_str(), info.seconds);
  std::printf("- DuckDB %s (%s), threads: %s; external file cache on (the default) on both\n",
              query::Engine::LoadedVersion().c_str(),
              query::Engine::LoadedSourceId().substr(0, 10).c_str(), info.threads.c_str());
  for (const DatasetResult& result : results) {
    const Dataset& d = result.data;
    std::printf(
        "- %s rows: %d Parquet files in %d daily partitions + products (%s rows), %s; %s; "
        "crawled in %.1f s\n",
        WithThousands(d.rows).c_str(), d.files, kDays, WithThousands(kProducts).c_str(),
        Megabytes(d.bytes).c_str(),
        d.generate_seconds < 0
            ? "generated by an earlier run"
            : ("generated in " + Format("%.0f", d.generate_seconds) + " s").c_str(),
        d.crawl_seconds);
  }
  std::printf(
      "- Time: median of %d runs after %d warm-up run(s), the two sides taking turns. basin: "
      "POST\n  /api/query wall time at the client (libcurl, connection kept open); server ms is "
      "the\n  answer's elapsed_ms. DuckDB: Engine::Execute in the benchmark's process over\n"
      "  read_parquet(glob, hive_partitioning = true). Each run's SQL starts with a unique "
      "comment,\n"
      "  so a result cache cannot answer it.\n\n",
      info.repetitions, info.warmups);
  PrintSuite(results, queries);
  std::printf(
      "\nPruning: `%s` against the same without the day filter (bytes_read of the answers):\n\n",
      Bind(kOneDaySql, {"events", "products"}).c_str());
  PrintPruning(results);
  PrintS3(results, queries);
  PrintLatency(latencies, results.front().data.label);
  PrintGrowth(results, queries);
}

}  // namespace basin::bench

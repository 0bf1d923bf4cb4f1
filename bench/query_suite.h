#pragma once

// query_bench's data and SQL: the generated events and products tables, and the queries run
// over them, written once with {events} and {products} standing for the tables.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "basin/query/engine.h"

namespace basin::bench {

// Bump when the generator's SQL changes, so data left in bench/data is regenerated.
constexpr int kQueryDataVersion = 1;
constexpr int kDays = 365;  // daily partitions from 2025-01-01
constexpr uint64_t kProducts = 50'000;

/// "2025-01-01" plus `index` days.
inline std::string Day(int index) {
  using namespace std::chrono;
  year_month_day day{sys_days{year{2025} / 1 / 1} + days{index}};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(day.year()),
                static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
  return text;
}

/// One generated dataset in the lake: events/dt=YYYY-MM-DD/data_0.parquet and
/// products/products.parquet under `prefix`.
struct Dataset {
  uint64_t rows = 0;
  std::string label;           // "10M"
  std::string prefix;          // "query-n10000000-v1/", a lake key prefix
  std::filesystem::path root;  // that prefix's folder on disk
  std::string database;        // catalog database its crawler fills: "bench_10m"
  uint64_t bytes = 0;          // both tables' files
  int files = 0;
  double generate_seconds = -1;  // -1: left by an earlier run
  double crawl_seconds = 0;
};

/// What {events} and {products} stand for on one side.
struct Tables {
  std::string events;
  std::string products;
};

inline std::string Replace(std::string text, const std::string& placeholder,
                           const std::string& value) {
  for (size_t at = text.find(placeholder); at != std::string::npos;
       at = text.find(placeholder, at + value.size())) {
    text.replace(at, placeholder.size(), value);
  }
  return text;
}

inline std::string Bind(const std::string& sql, const Tables& tables) {
  return Replace(Replace(sql, "{events}", tables.events), "{products}", tables.products);
}

inline std::string SqlString(const std::string& text) {
  return "'" + Replace(text, "'", "''") + "'";
}

/// The catalog tables the crawler made: bench_10m.events, bench_10m.products.
inline Tables BasinTables(const Dataset& data) {
  return {data.database + ".events", data.database + ".products"};
}

/// The same files read by DuckDB itself, Hive partitions typed by DuckDB (dt is a DATE).
inline Tables DirectTables(const Dataset& data) {
  return {"read_parquet(" + SqlString(data.root.string() + "/events/*/*.parquet") +
              ", hive_partitioning = true)",
          "read_parquet(" + SqlString(data.root.string() + "/products/*.parquet") + ")"};
}

// Events in time order over 365 days: 60% searches, 25% clicks, 10% likes, 5% purchases;
// sessions of 12 events, each of one user (one user per 20 events); keywords and products
// Zipf-like (rank r has weight ~1/r: exp of a uniform over log(N)), so a head of popular
// ones; a product's shop and price are fixed (hashes of its id, as in products). Searches
// have no product, shop or price. session_id is text, as with UUIDs, for queries to skip.
inline std::string EventsSql(uint64_t rows, const std::string& folder) {
  uint64_t step_micros = uint64_t{kDays} * 24 * 3600 * 1'000'000 / rows;
  uint64_t users = std::max<uint64_t>(rows / 20, 1);
  return R"sql(
COPY (
  SELECT event_time, user_id, session_id, event_type, keyword, product_id, shop_id, price,
         event_time::DATE AS dt
  FROM (
    SELECT
      TIMESTAMP '2025-01-01' + to_microseconds(i * )sql" +
         std::to_string(step_micros) + R"sql() AS event_time,
      (1 + hash(i // 12, 'user') % )sql" +
         std::to_string(users) + R"sql()::BIGINT AS user_id,
      md5((i // 12)::VARCHAR)[1:16] AS session_id,
      CASE WHEN t < 60 THEN 'search' WHEN t < 85 THEN 'click' WHEN t < 95 THEN 'like'
           ELSE 'purchase' END AS event_type,
      'keyword-' || lpad(k::VARCHAR, 4, '0') AS keyword,
      CASE WHEN t >= 60 THEN p END AS product_id,
      CASE WHEN t >= 60 THEN (1 + hash(p, 'shop') % 2000)::BIGINT END AS shop_id,
      CASE WHEN t >= 60 THEN round(1 + (hash(p, 'price') % 50000)::DOUBLE / 100, 2) END AS price
    FROM (
      SELECT range AS i,
             hash(range, 'type') % 100 AS t,
             (floor(exp((hash(range, 'keyword') % 1000000)::DOUBLE / 1000000 * ln(5001))) - 1)::INTEGER AS k,
             floor(exp((hash(range, 'product') % 1000000)::DOUBLE / 1000000 * ln(50000)))::BIGINT AS p
      FROM range()sql" +
         std::to_string(rows) + R"sql()
    )
  )
) TO )sql" +
         SqlString(folder) +
         R"sql( (FORMAT parquet, PARTITION_BY (dt))
)sql";
}

inline std::string ProductsSql(const std::string& file) {
  return R"sql(
COPY (
  SELECT p AS product_id,
         (1 + hash(p, 'shop') % 2000)::BIGINT AS shop_id,
         (['books', 'music', 'movies', 'games', 'toys', 'garden', 'kitchen', 'tools', 'beauty',
           'health', 'sports', 'outdoors', 'shoes', 'clothing', 'jewelry', 'baby', 'pets',
           'office', 'phones', 'computers'])[(1 + hash(p, 'category') % 20)::BIGINT] AS category,
         'product-' || lpad(p::VARCHAR, 5, '0') AS name
  FROM (SELECT range + 1 AS p FROM range()sql" +
         std::to_string(kProducts) + R"sql())
) TO )sql" +
         SqlString(file) +
         R"sql( (FORMAT parquet)
)sql";
}

inline std::string RowsLabel(uint64_t rows) {
  if (rows % 1'000'000 == 0)
    return std::to_string(rows / 1'000'000) + "M";
  if (rows % 1000 == 0)
    return std::to_string(rows / 1000) + "K";
  return std::to_string(rows);
}

/// The dataset of `rows` events under `lake_root`, generated unless an earlier run left it
/// (a dataset's folder appears only complete: it is written elsewhere and renamed).
inline Dataset PrepareDataset(query::Engine& engine, uint64_t rows,
                              const std::filesystem::path& data_dir,
                              const std::filesystem::path& lake_root) {
  namespace fs = std::filesystem;
  Dataset data;
  data.rows = rows;
  data.label = RowsLabel(rows);
  std::string name = "query-n" + std::to_string(rows) + "-v" + std::to_string(kQueryDataVersion);
  data.prefix = name + "/";
  data.root = lake_root / name;
  data.database = "bench_" + data.label;
  std::transform(data.database.begin(), data.database.end(), data.database.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!fs::exists(data.root)) {
    fs::path partial = data_dir / (name + ".partial");
    fs::remove_all(partial);
    fs::create_directories(partial / "products");
    std::fprintf(stderr, "query_bench: generating %s events into %s\n", data.label.c_str(),
                 data.root.c_str());
    auto started = std::chrono::steady_clock::now();
    for (const std::string& sql :
         {EventsSql(rows, (partial / "events").string()),
          ProductsSql((partial / "products" / "products.parquet").string())}) {
      Result<query::QueryResult> written = engine.Execute(sql);
      if (!written.ok())
        throw std::runtime_error("generating the data failed: " + written.status().ToString());
    }
    fs::rename(partial, data.root);
    data.generate_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(data.root)) {
    if (entry.is_regular_file()) {
      data.bytes += entry.file_size();
      data.files += 1;
    }
  }
  return data;
}

struct SuiteQuery {
  int number = 0;
  std::string name;
  std::string sql;
};

/// The analytic suite: filters, group-bys, top-N, count distinct, joins with the products
/// dimension, window functions. Answers are ordered completely, so both sides must match.
inline std::vector<SuiteQuery> SuiteQueries() {
  return {
      {1, "filter: purchases over 100",
       "SELECT count(*) AS purchases, round(sum(price), 2) AS revenue FROM {events}"
       " WHERE event_type = 'purchase' AND price > 100"},
      {2, "group by event type",
       "SELECT event_type, count(*) AS events, round(avg(price), 4) AS average_price"
       " FROM {events} GROUP BY event_type ORDER BY event_type"},
      {3, "top 20 search keywords",
       "SELECT keyword, count(*) AS searches FROM {events} WHERE event_type = 'search'"
       " GROUP BY keyword ORDER BY searches DESC, keyword LIMIT 20"},
      {4, "count distinct users", "SELECT count(DISTINCT user_id) AS users FROM {events}"},
      {5, "daily active users (365 groups)",
       "SELECT dt, count(DISTINCT user_id) AS users FROM {events} GROUP BY dt ORDER BY dt"},
      {6, "join: revenue by category",
       "SELECT p.category, count(*) AS purchases, round(sum(e.price), 2) AS revenue"
       " FROM {events} e JOIN {products} p ON e.product_id = p.product_id"
       " WHERE e.event_type = 'purchase' GROUP BY p.category ORDER BY revenue DESC, p.category"},
      {7, "join: top 10 products by clicks",
       "SELECT p.name, p.category, count(*) AS clicks"
       " FROM {events} e JOIN {products} p ON e.product_id = p.product_id"
       " WHERE e.event_type = 'click' GROUP BY p.name, p.category"
       " ORDER BY clicks DESC, p.name LIMIT 10"},
      {8, "window: 7-day moving average of purchases",
       "SELECT dt, purchases, round(avg(purchases) OVER (ORDER BY dt ROWS BETWEEN 6 PRECEDING"
       " AND CURRENT ROW), 2) AS moving_average FROM (SELECT dt, count(*) AS purchases"
       " FROM {events} WHERE event_type = 'purchase' GROUP BY dt) ORDER BY dt"},
      {9, "window: top 3 keywords per event type",
       "SELECT event_type, keyword, events FROM (SELECT event_type, keyword, count(*) AS events"
       " FROM {events} GROUP BY event_type, keyword) QUALIFY row_number() OVER (PARTITION BY"
       " event_type ORDER BY events DESC, keyword) <= 3 ORDER BY event_type, events DESC, keyword"},
      {10, "window: gaps between a user's events, one week",
       "SELECT count(*) AS gaps, round(avg(gap), 1) AS average_gap_seconds FROM (SELECT"
       " epoch(event_time) - epoch(lag(event_time) OVER (PARTITION BY user_id ORDER BY"
       " event_time)) AS gap FROM {events} WHERE dt BETWEEN DATE '2025-03-03' AND"
       " DATE '2025-03-09') WHERE gap IS NOT NULL"},
  };
}

/// The queries numbered in `numbers` (all when empty).
inline std::vector<SuiteQuery> SelectQueries(const std::vector<int>& numbers) {
  std::vector<SuiteQuery> all = SuiteQueries();
  if (numbers.empty())
    return all;
  std::vector<SuiteQuery> chosen;
  for (int number : numbers) {
    if (number < 1 || number > static_cast<int>(all.size()))
      throw std::runtime_error("--queries: there are queries 1 to " + std::to_string(all.size()));
    chosen.push_back(all[number - 1]);
  }
  return chosen;
}

/// Pruning: one day of 365 against the full scan of the same column.
inline const std::string kOneDaySql =
    "SELECT count(*) AS events, round(sum(price), 2) AS revenue FROM {events}"
    " WHERE dt = DATE '2025-07-01'";
inline const std::string kFullScanSql =
    "SELECT count(*) AS events, round(sum(price), 2) AS revenue FROM {events}";

/// A small query over one partition; `i` picks the day and a literal, so no two of
/// 365 * N queries have the same text.
inline std::string SmallQuerySql(int i) {
  return "SELECT count(*) AS events FROM {events} WHERE dt = DATE '" + Day(i % kDays) +
         "' AND user_id <> " + std::to_string(i);
}

}  // namespace basin::bench

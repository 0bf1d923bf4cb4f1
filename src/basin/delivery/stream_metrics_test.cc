#include "basin/delivery/stream_metrics.h"

#include <gtest/gtest.h>

namespace basin::delivery {
namespace {

TEST(StreamMetricsTest, OneSamplePerStreamAndFamilyWithEscapedLabels) {
  StreamStats clicks{.incoming_records = 12,
                     .delivered_records = 10,
                     .buffered_records = 2,
                     .oldest_undelivered_age_seconds = 1.5};
  StreamStats odd{.failed_records = 3,
                  .last_delivery_error = "Unavailable: lake \"s3\" down\nretrying",
                  .failing_for_seconds = 4,
                  .refusing = true};
  std::string text = PrometheusText({{"clicks", clicks}, {"we\"ird", odd}}, 2048, 4096);
  EXPECT_NE(text.find("# TYPE basin_stream_incoming_records_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("basin_stream_incoming_records_total{stream=\"clicks\"} 12\n"),
            std::string::npos);
  EXPECT_NE(text.find("basin_stream_delivered_records_total{stream=\"clicks\"} 10\n"),
            std::string::npos);
  EXPECT_NE(text.find("basin_stream_oldest_undelivered_age_seconds{stream=\"clicks\"} 1.5\n"),
            std::string::npos);
  EXPECT_NE(text.find("basin_stream_failed_records_total{stream=\"we\\\"ird\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("basin_stream_refusing{stream=\"we\\\"ird\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("basin_stream_last_delivery_error{stream=\"we\\\"ird\",error=\"Unavailable: "
                      "lake \\\"s3\\\" down\\nretrying\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("basin_stream_last_delivery_error{stream=\"clicks\""), std::string::npos);
  EXPECT_NE(text.find("basin_stream_buffer_bytes 2048\n"), std::string::npos);
  EXPECT_NE(text.find("basin_stream_buffer_limit_bytes 4096\n"), std::string::npos);
  // Every line is a comment or "name{labels} value" / "name value": no blank lines.
  EXPECT_EQ(text.find("\n\n"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
}

}  // namespace
}  // namespace basin::delivery

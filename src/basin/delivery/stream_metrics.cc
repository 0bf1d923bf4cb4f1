#include "basin/delivery/stream_metrics.h"

#include <cstdio>
#include <functional>

namespace basin::delivery {
namespace {

// A label value: backslash, double quote and line feed escaped, as the format requires.
std::string LabelValue(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    if (c == '\\')
      escaped += "\\\\";
    else if (c == '"')
      escaped += "\\\"";
    else if (c == '\n')
      escaped += "\\n";
    else
      escaped += c;
  }
  return escaped;
}

std::string Number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

struct Family {
  const char* name;
  const char* type;  // counter or gauge
  const char* help;
  std::function<double(const StreamStats&)> value;
};

}  // namespace

std::string PrometheusText(const std::map<std::string, StreamStats>& stats, uint64_t buffered_bytes,
                           uint64_t buffer_limit_bytes) {
  const Family families[] = {
      {"basin_stream_incoming_records_total", "counter",
       "Records received, accepted or refused, since the server started.",
       [](const StreamStats& s) {
         return double(s.incoming_records);
       }},
      {"basin_stream_incoming_bytes_total", "counter", "Bytes of the records received.",
       [](const StreamStats& s) {
         return double(s.incoming_bytes);
       }},
      {"basin_stream_delivered_records_total", "counter", "Records delivered to the lake.",
       [](const StreamStats& s) {
         return double(s.delivered_records);
       }},
      {"basin_stream_delivered_objects_total", "counter", "Objects written to the lake.",
       [](const StreamStats& s) {
         return double(s.delivered_objects);
       }},
      {"basin_stream_delivered_bytes_total", "counter", "Bytes of the objects written.",
       [](const StreamStats& s) {
         return double(s.delivered_bytes);
       }},
      {"basin_stream_failed_records_total", "counter",
       "Records sent to the error prefix (not JSON, too large, unknown fields, ...).",
       [](const StreamStats& s) {
         return double(s.failed_records);
       }},
      {"basin_stream_buffered_records", "gauge", "Acknowledged records not yet delivered.",
       [](const StreamStats& s) {
         return double(s.buffered_records);
       }},
      {"basin_stream_oldest_undelivered_age_seconds", "gauge",
       "Age of the oldest acknowledged record not yet delivered (data freshness).",
       [](const StreamStats& s) {
         return s.oldest_undelivered_age_seconds;
       }},
      {"basin_stream_delivery_failing_seconds", "gauge",
       "How long the stream's deliveries have been failing (0: the last one succeeded).",
       [](const StreamStats& s) {
         return s.failing_for_seconds;
       }},
      {"basin_stream_refusing", "gauge",
       "1 while the stream refuses records because it cannot deliver.",
       [](const StreamStats& s) {
         return s.refusing ? 1.0 : 0.0;
       }},
  };
  std::string text;
  for (const Family& family : families) {
    text += std::string("# HELP ") + family.name + " " + family.help + "\n";
    text += std::string("# TYPE ") + family.name + " " + family.type + "\n";
    for (const auto& [name, one] : stats)
      text += std::string(family.name) + "{stream=\"" + LabelValue(name) + "\"} " +
              Number(family.value(one)) + "\n";
  }
  text +=
      "# HELP basin_stream_last_delivery_error The last delivery error of a failing stream (1 "
      "per stream with an error).\n# TYPE basin_stream_last_delivery_error gauge\n";
  for (const auto& [name, one] : stats) {
    if (!one.last_delivery_error.empty())
      text += "basin_stream_last_delivery_error{stream=\"" + LabelValue(name) + "\",error=\"" +
              LabelValue(one.last_delivery_error) + "\"} 1\n";
  }
  text +=
      "# HELP basin_stream_buffer_bytes Bytes of undelivered records held in memory.\n"
      "# TYPE basin_stream_buffer_bytes gauge\nbasin_stream_buffer_bytes " +
      std::to_string(buffered_bytes) +
      "\n# HELP basin_stream_buffer_limit_bytes streams.buffer_max_size: above it, ingest "
      "answers 503.\n# TYPE basin_stream_buffer_limit_bytes gauge\n"
      "basin_stream_buffer_limit_bytes " +
      std::to_string(buffer_limit_bytes) + "\n";
  return text;
}

}  // namespace basin::delivery

#include "basin/workgroup/workgroup_json.h"

#include <gtest/gtest.h>

namespace basin::workgroup {
namespace {

TEST(WorkgroupJsonTest, ReadsTheFieldsItWrites) {
  Workgroup workgroup;
  workgroup.name = "etl";
  workgroup.description = "nightly jobs";
  workgroup.bytes_scanned_limit = 1 << 20;
  workgroup.run_time_limit = std::chrono::minutes(5);
  workgroup.max_queued = 0;
  nlohmann::json json = ToJson(workgroup);
  EXPECT_EQ(json["run_time_limit_ms"], 300000);
  EXPECT_EQ(json["queue_timeout_ms"], 60000);
  Result<WorkgroupSettings> settings = SettingsFromJson(json);
  Workgroup copy;
  copy.name = "etl";
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  settings->ApplyTo(copy);
  EXPECT_EQ(copy, workgroup);
}

TEST(WorkgroupJsonTest, NamesTheFieldItRefuses) {
  auto message = [](const char* text) {
    return SettingsFromJson(nlohmann::json::parse(text)).status().message();
  };
  EXPECT_EQ(message(R"({"max_concurrent": "4"})"), "field 'max_concurrent' must be an integer");
  EXPECT_EQ(message(R"({"max_concurrent": 1.5})"), "field 'max_concurrent' must be an integer");
  EXPECT_EQ(message(R"({"max_queued": 99999999999})"),
            "field 'max_queued' must be at most 2147483647");
  EXPECT_EQ(message(R"({"description": 7})"), "field 'description' must be a string");
  EXPECT_NE(message(R"({"max_concurency": 4})").find("unknown field 'max_concurency'"),
            std::string::npos);
  Result<WorkgroupSettings> partial =
      SettingsFromJson(nlohmann::json::parse(R"({"max_queued": 5})"));
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->max_queued, 5);
  EXPECT_FALSE(partial->max_concurrent.has_value());
}

}  // namespace
}  // namespace basin::workgroup

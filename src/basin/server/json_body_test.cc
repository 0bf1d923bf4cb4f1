#include "basin/server/json_body.h"

#include <functional>

#include <gtest/gtest.h>

namespace basin::server {
namespace {

// The status BodyShapeError makes of what `read` throws reading `body`.
std::optional<Status> ErrorReading(const std::string& body,
                                   const std::function<void(const nlohmann::json&)>& read) {
  Result<nlohmann::json> parsed = ParseJsonBody(body);
  EXPECT_TRUE(parsed.ok()) << body;
  try {
    read(*parsed);
  } catch (const nlohmann::json::exception& error) {
    return BodyShapeError(error);
  }
  ADD_FAILURE() << "reading " << body << " did not throw";
  return std::nullopt;
}

TEST(BodyShapeErrorTest, MistypedFieldIsTheCallersError) {
  std::optional<Status> status =
      ErrorReading(R"({"columns": [{"name": "a", "type": 5}]})", [](const nlohmann::json& body) {
        for (const auto& column : body.at("columns"))
          (void)column.at("type").get<std::string>();
      });
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status->message(),
            "a field of the request body has the wrong type: type must be string, but is number");
  EXPECT_EQ(status->message().find("json.exception"), std::string::npos);
}

TEST(BodyShapeErrorTest, NamesTheMissingField) {
  std::optional<Status> status = ErrorReading(
      R"({"name": "t"})", [](const nlohmann::json& body) { (void)body.at("location"); });
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->message(), "missing field 'location'");

  status = ErrorReading(R"({"columns": [{"name": "a"}]})", [](const nlohmann::json& body) {
    (void)body.at("columns").at(0).at("type");
  });
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->message(), "missing field 'type'");
}

TEST(BodyShapeErrorTest, LeavesOtherFailuresToTheServer) {
  try {
    (void)nlohmann::json(std::string("\xff")).dump();  // invalid UTF-8: type_error 316
    FAIL() << "dump did not throw";
  } catch (const nlohmann::json::exception& error) {
    EXPECT_FALSE(BodyShapeError(error).has_value()) << error.what();
  }
}

TEST(AcceptsAsJsonTest, JsonTextAndNothingButNoForms) {
  for (const char* type :
       {"", "application/json", "application/json; charset=utf-8", "Application/JSON",
        "text/plain;charset=UTF-8", "application/merge-patch+json"}) {
    EXPECT_TRUE(AcceptsAsJson(type)) << type;
  }
  for (const char* type : {"application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                           "application/xml", "application/x-ndjson", "text/csv"}) {
    EXPECT_FALSE(AcceptsAsJson(type)) << type;
  }
}

}  // namespace
}  // namespace basin::server

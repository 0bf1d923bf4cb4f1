#include "basin/stream/prefix_expression.h"

#include <gtest/gtest.h>

#include "basin/common/time_format.h"

namespace basin::stream {
namespace {

using nlohmann::json;

std::chrono::system_clock::time_point Time(const char* iso) {
  return ParseIso8601(iso).value();
}

std::string Evaluate(const char* expression, const json& record = json::object(),
                     const char* arrival = "2026-03-07T09:05:02.750Z") {
  auto parsed = ParsePrefixExpression(expression);
  EXPECT_TRUE(parsed.ok()) << expression << ": " << parsed.status().ToString();
  if (!parsed.ok())
    return "";
  auto evaluated = parsed->Evaluate(Time(arrival), record);
  EXPECT_TRUE(evaluated.ok()) << expression << ": " << evaluated.status().ToString();
  return evaluated.ok() ? *evaluated : "";
}

Status EvaluateError(const char* expression, const json& record) {
  auto parsed = ParsePrefixExpression(expression);
  EXPECT_TRUE(parsed.ok()) << expression << ": " << parsed.status().ToString();
  if (!parsed.ok())
    return parsed.status();
  return parsed->Evaluate(Time("2026-03-07T09:05:02Z"), record).status();
}

TEST(PrefixExpressionTest, FormatsTheArrivalTimeInUtc) {
  EXPECT_EQ(Evaluate("dt=!{timestamp:yyyy-MM-dd}/"), "dt=2026-03-07/");
  EXPECT_EQ(Evaluate("!{timestamp:yyyy/MM/dd/HH}/"), "2026/03/07/09/");
  EXPECT_EQ(Evaluate("t=!{timestamp:yyyyMMdd_HH:mm:ss}/"), "t=20260307_09:05:02/");
  EXPECT_EQ(Evaluate("dt=!{timestamp:yyyy-MM-dd}/", {}, "2026-03-07T23:30:00+09:00"),
            "dt=2026-03-07/");
  EXPECT_EQ(Evaluate("dt=!{timestamp:yyyy-MM-dd}/", {}, "2026-03-08T01:30:00+09:00"),
            "dt=2026-03-07/")
      << "UTC, not the sender's zone";
  EXPECT_EQ(Evaluate("!{timestamp:yyyy-MM-dd HH}/", {}, "1969-12-31T23:59:59Z"), "1969-12-31 23/");
  EXPECT_EQ(Evaluate("fixed/", {}), "fixed/");
  EXPECT_EQ(Evaluate("", {}), "");
}

TEST(PrefixExpressionTest, TakesValuesFromTheRecord) {
  json record = {{"type", "click"},
                 {"n", 42},
                 {"ratio", 1.5},
                 {"ok", true},
                 {"user", {{"country", "KR"}, {"tier", {{"name", "gold"}}}}},
                 {"a.b", "dotted"}};
  EXPECT_EQ(Evaluate("event=!{field:type}/", record), "event=click/");
  EXPECT_EQ(Evaluate("n=!{field:n}/r=!{field:ratio}/ok=!{field:ok}/", record),
            "n=42/r=1.5/ok=true/");
  EXPECT_EQ(Evaluate("c=!{field:user.country}/t=!{field:user.tier.name}/", record), "c=KR/t=gold/");
  EXPECT_EQ(Evaluate("e=!{partitionKeyFromQuery:type}/", record), "e=click/");
  EXPECT_EQ(Evaluate("x=!{partitionKeyFromQuery:a.b}/", record), "x=dotted/")
      << "a top-level name, not a path";
  EXPECT_EQ(Evaluate("dt=!{timestamp:yyyy-MM-dd}/event=!{field:type}/", record),
            "dt=2026-03-07/event=click/");
  EXPECT_EQ(Evaluate("!{field:type}-!{field:n}/", record), "click-42/");
}

TEST(PrefixExpressionTest, SanitizesValuesSoTheyStayInTheirFolder) {
  EXPECT_EQ(Evaluate("e=!{field:v}/", {{"v", "../../etc"}}), "e=____etc/");
  EXPECT_EQ(Evaluate("e=!{field:v}/", {{"v", "a/b\\c"}}), "e=a_b_c/");
  EXPECT_EQ(Evaluate("e=!{field:v}/", {{"v", "line\nbreak\x01\x7f"}}), "e=line_break__/");
  EXPECT_EQ(Evaluate("e=!{field:v}/", {{"v", ""}}), "e=__empty__/");
  EXPECT_EQ(Evaluate("!{field:v}/", {{"v", "."}}), "%5F/");
  EXPECT_EQ(Evaluate("!{field:v}/", {{"v", ".."}}), "%5F/");
  EXPECT_EQ(Evaluate("x-!{field:v}/", {{"v", "."}}), "x-_/");
  EXPECT_EQ(Evaluate("!{field:v}/", {{"v", "v1.2"}}), "v1.2/");
  EXPECT_EQ(Evaluate("!{field:v}/", {{"v", "서울"}}), "서울/") << "UTF-8 text stays";
  EXPECT_EQ(SanitizePathValue("..."), "_.");
}

TEST(PrefixExpressionTest, AFolderNeverStartsWithWhatTableScansSkip) {
  // Table scans skip folders starting with '_' or '.': a value beginning a folder is escaped.
  EXPECT_EQ(Evaluate("!{field:v}/", {{"v", "_acme"}}), "%5Facme/");
  EXPECT_EQ(Evaluate("!{field:v}/", {{"v", ".hidden"}}), "%2Ehidden/");
  EXPECT_EQ(Evaluate("!{field:v}/", {{"v", ""}}), "%5F_empty__/");
  EXPECT_EQ(Evaluate("dt=!{timestamp:yyyy}/!{field:v}/", {{"v", "_x"}}), "dt=2026/%5Fx/");
  EXPECT_EQ(Evaluate("e=!{field:v}/", {{"v", "_acme"}}), "e=_acme/") << "after key= it is safe";
  EXPECT_EQ(Evaluate("a!{field:v}/", {{"v", "_acme"}}), "a_acme/");
}

TEST(PrefixExpressionTest, GlobCharactersInValuesBecomeUnderscores) {
  EXPECT_EQ(Evaluate("e=!{field:v}/", {{"v", "a*b?c[d]"}}), "e=a_b_c_d_/");
}

TEST(PrefixExpressionTest, AnEqualsSignOnlyStaysInAKeyFolder) {
  EXPECT_EQ(Evaluate("e=!{field:v}/", {{"v", "a=b"}}), "e=a=b/");
  EXPECT_EQ(Evaluate("dt=!{timestamp:yyyy}/!{field:v}/", {{"v", "x=y"}}), "dt=2026/x_y/");
  EXPECT_EQ(Evaluate("!{field:v}-!{field:v}/", {{"v", "x=y"}}), "x_y-x_y/");
}

TEST(PrefixExpressionTest, FoldersTooLongForAFileSystemOrS3AreRefused) {
  // 250 bytes is a valid value, but "event=" + 250 bytes is over a folder name's 255.
  Status status = EvaluateError("event=!{field:v}/", {{"v", std::string(250, 'x')}});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("bytes, over 255"), std::string::npos) << status.message();
  EXPECT_EQ(Evaluate("e=!{field:v}/", {{"v", std::string(250, 'x')}}),
            "e=" + std::string(250, 'x') + "/");
  // Four folders of 250 bytes each pass one by one but not together.
  json record = {{"a", std::string(250, 'a')},
                 {"b", std::string(250, 'b')},
                 {"c", std::string(250, 'c')},
                 {"d", std::string(250, 'd')}};
  status = EvaluateError("!{field:a}/!{field:b}/!{field:c}/!{field:d}/", record);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("over 768"), std::string::npos) << status.message();
}

TEST(PrefixExpressionTest, MissingOrNonScalarFieldsAreErrorsNamingTheField) {
  for (const json& record :
       {json{{"other", 1}}, json{{"user", "flat"}}, json{{"user", {{"id", 1}}}}}) {
    Status status = EvaluateError("c=!{field:user.country}/", record);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << record;
    EXPECT_NE(status.message().find("'user.country'"), std::string::npos) << status.message();
  }
  for (const json& value : {json(nullptr), json::array({1}), json::object()}) {
    Status status = EvaluateError("e=!{field:type}/", {{"type", value}});
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << value;
    EXPECT_NE(status.message().find("'type'"), std::string::npos) << status.message();
  }
  EXPECT_EQ(EvaluateError("e=!{field:type}/", json::array()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EvaluateError("e=!{field:type}/", {{"type", std::string(300, 'x')}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(EvaluateError("dt=!{timestamp:yyyy}/", json::array()).ok()) << "no field: any record";
}

TEST(PrefixExpressionTest, RejectsBadExpressionsNamingThePosition) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const Case& bad : {
           Case{"dt=!{timestamp:yyyy-MM-dd/", "not closed by '}' at position 3"},
           Case{"x=!{unknown:a}/",
                "unknown '!{unknown:...}' (expected timestamp, field or partitionKeyFromQuery) at "
                "position 2"},
           Case{"x=!{field}/", "at position 2"},
           Case{"x=!{field:}/", "needs a value after ':' at position 10"},
           Case{"x=!{field:a..b}/", "empty name at position 10"},
           Case{"x=!{timestamp:yyyy-MM-DD}/",
                "unknown date-time pattern 'DD' in a timestamp format (use yyyy, MM, dd, HH, mm, "
                "ss) at position 22"},
           Case{"x=!{timestamp:yy}/", "pattern 'yy'"},
           Case{"x=!{timestamp:M}/", "pattern 'M'"},
           Case{"x=!{timestamp:'T'HH}/", "quoted text is not supported"},
           Case{"/dt=!{timestamp:yyyy}/", "must not start with '/' at position 0"},
           Case{"a//b/", "empty folder name ('//') at position 2"},
           Case{"a/../b/", "folder '..' would leave the stream's prefix at position 4"},
           Case{"./", "folder '.'"},
           Case{"a\nb/", "control character at position 1"},
           Case{"=x/", "needs a key name before '='"},
           Case{"Event=!{field:type}/", "partition key name 'Event' is not valid"},
           Case{"e=!{field:a}/e=!{field:b}/", "partition key 'e' appears twice"},
       }) {
    auto parsed = ParsePrefixExpression(bad.text);
    ASSERT_FALSE(parsed.ok()) << bad.text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad.text;
    EXPECT_NE(parsed.status().message().find(bad.message), std::string::npos)
        << bad.text << " -> " << parsed.status().message();
  }
}

TEST(PrefixExpressionTest, PartitionKeysComeFromKeyEqualsValueFolders) {
  auto keys = [](const char* text) {
    auto parsed = ParsePrefixExpression(text);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return parsed.ok() ? parsed->PartitionKeys() : std::vector<catalog::PartitionKey>{};
  };
  using Keys = std::vector<catalog::PartitionKey>;
  EXPECT_EQ(keys("dt=!{timestamp:yyyy-MM-dd}/event=!{field:type}/"),
            (Keys{{"dt", "DATE"}, {"event", "VARCHAR"}}));
  EXPECT_EQ(keys("hour=!{timestamp:HH}/"), (Keys{{"hour", "VARCHAR"}}));
  EXPECT_EQ(keys("dt=!{timestamp:yyyy-MM-dd HH}/"), (Keys{{"dt", "VARCHAR"}}));
  EXPECT_EQ(keys("dt=x!{timestamp:yyyy-MM-dd}/"), (Keys{{"dt", "VARCHAR"}}));
  EXPECT_EQ(keys("raw/!{timestamp:yyyy/MM}/kind=web/"), (Keys{{"kind", "VARCHAR"}}));
  EXPECT_EQ(keys("dt=!{timestamp:yyyy-MM-dd}"), Keys{})
      << "an unfinished folder is a file name prefix";
  EXPECT_EQ(keys(""), Keys{});
  EXPECT_FALSE(ParsePrefixExpression("dt=!{timestamp:yyyy}/")->ReadsRecord());
  EXPECT_TRUE(ParsePrefixExpression("e=!{field:type}/")->ReadsRecord());
}

}  // namespace
}  // namespace basin::stream

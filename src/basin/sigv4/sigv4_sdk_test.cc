// Requests signed by the official AWS SDK for JavaScript v3 (written by
// tests/e2e/sigv4_sdk_fixtures.mjs): Verify() must accept each, Sign() must reproduce
// each Authorization header byte for byte.
//
//   sigv4_sdk_test <fixtures.json>   (or BASIN_SIGV4_SDK_FIXTURES=<fixtures.json>)
//
// A missing or empty fixture file fails the test: a skip would hide a broken setup.

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "basin/common/crypto.h"
#include "basin/sigv4/sigv4.h"

namespace basin::sigv4 {
namespace {

std::string g_fixtures_path;  // set by main

struct Fixture {
  std::string name;
  Request request;  // as sent, authorization included
  std::string body;
  Credentials credentials;
  std::string region;
  std::string service;
  std::string now;
};

// Loads the fixtures, or fails the calling test and returns none.
std::vector<Fixture> LoadFixtures() {
  std::vector<Fixture> fixtures;
  if (g_fixtures_path.empty()) {
    ADD_FAILURE() << "no fixture file: pass it as the first argument or set "
                     "BASIN_SIGV4_SDK_FIXTURES (written by tests/e2e/sigv4_sdk_fixtures.mjs)";
    return fixtures;
  }
  std::ifstream in(g_fixtures_path);
  if (!in.good()) {
    ADD_FAILURE() << "cannot read fixture file " << g_fixtures_path;
    return fixtures;
  }
  nlohmann::json json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!json.is_array() || json.empty()) {
    ADD_FAILURE() << g_fixtures_path << " is not a non-empty JSON array";
    return fixtures;
  }
  for (const nlohmann::json& entry : json) {
    Fixture f;
    f.name = entry.at("name");
    f.request.method = entry.at("method");
    f.request.path = entry.at("path");
    f.request.query = entry.at("query");
    for (const auto& [name, value] : entry.at("headers").items()) {
      f.request.headers.emplace_back(name, value.get<std::string>());
    }
    f.body = entry.at("body");
    f.credentials = {entry.at("access_key_id"), entry.at("secret"), entry.at("session_token")};
    f.region = entry.at("region");
    f.service = entry.at("service");
    f.now = entry.at("now");
    fixtures.push_back(std::move(f));
  }
  return fixtures;
}

std::string HeaderOf(const Request& request, std::string_view name) {
  for (const auto& [n, v] : request.headers) {
    if (n == name)
      return v;
  }
  return "";
}

Result<std::string> VerifyFixture(const Fixture& f, const Request& request, std::string_view body) {
  SecretLookup lookup = [&](std::string_view key) -> Result<std::string> {
    if (key == f.credentials.access_key_id)
      return f.credentials.secret_access_key;
    return Status::NotFound("unknown key");
  };
  return Verify(request, body, lookup, ParseAmzDate(f.now).value());
}

TEST(SdkFixturesTest, AreThereAndVaried) {
  std::vector<Fixture> fixtures = LoadFixtures();
  EXPECT_GE(fixtures.size(), 6u);
  std::set<std::string> services;
  for (const Fixture& f : fixtures)
    services.insert(f.service);
  EXPECT_GE(services.size(), 2u);
}

TEST(SdkFixturesTest, VerifyAcceptsEverySdkRequest) {
  std::vector<Fixture> fixtures = LoadFixtures();
  ASSERT_FALSE(fixtures.empty());
  for (const Fixture& f : fixtures) {
    SCOPED_TRACE(f.name);
    Result<std::string> key = VerifyFixture(f, f.request, f.body);
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    EXPECT_EQ(*key, f.credentials.access_key_id);
  }
}

TEST(SdkFixturesTest, SignReproducesSdkAuthorization) {
  std::vector<Fixture> fixtures = LoadFixtures();
  ASSERT_FALSE(fixtures.empty());
  for (const Fixture& f : fixtures) {
    SCOPED_TRACE(f.name);
    Request request = f.request;
    // The SDK takes the payload hash from x-amz-content-sha256 when present (that is how
    // UNSIGNED-PAYLOAD is asked for), else hashes the body.
    std::string content_sha256 = HeaderOf(request, "x-amz-content-sha256");
    request.payload_hash = content_sha256.empty() ? Sha256Hex(f.body) : content_sha256;
    std::string sdk_authorization = HeaderOf(request, "authorization");
    Sign(request, f.credentials, f.region, f.service, ParseAmzDate(f.now).value());
    EXPECT_EQ(HeaderOf(request, "Authorization"), sdk_authorization);
  }
}

TEST(SdkFixturesTest, VerifyRejectsTamperedSdkRequests) {
  std::vector<Fixture> fixtures = LoadFixtures();
  ASSERT_FALSE(fixtures.empty());
  for (const Fixture& f : fixtures) {
    SCOPED_TRACE(f.name);
    Request other_path = f.request;
    other_path.path += "x";
    EXPECT_EQ(VerifyFixture(f, other_path, f.body).status().code(), StatusCode::kUnauthenticated);
    Request other_query = f.request;
    other_query.query += other_query.query.empty() ? "a=1" : "&a=1";
    EXPECT_EQ(VerifyFixture(f, other_query, f.body).status().code(), StatusCode::kUnauthenticated);
    if (HeaderOf(f.request, "x-amz-content-sha256") != "UNSIGNED-PAYLOAD") {
      EXPECT_EQ(VerifyFixture(f, f.request, f.body + " ").status().code(),
                StatusCode::kUnauthenticated);
    }
  }
}

}  // namespace
}  // namespace basin::sigv4

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (argc > 1) {
    basin::sigv4::g_fixtures_path = argv[1];
  } else if (const char* env = std::getenv("BASIN_SIGV4_SDK_FIXTURES")) {
    basin::sigv4::g_fixtures_path = env;
  }
  return RUN_ALL_TESTS();
}

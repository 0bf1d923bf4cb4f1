// S3-only behaviour: errors a user meets when the configuration is wrong, and retries.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "basin/storage/test_stores.h"

namespace basin::storage {
namespace {

std::unique_ptr<S3ObjectStore> MakeStore(S3Options options) {
  auto store = S3ObjectStore::Make(std::move(options));
  if (!store.ok())
    throw std::runtime_error(store.status().ToString());
  return std::move(store).value();
}

TEST(S3ObjectStoreTest, WrongSecretIsPermissionDenied) {
  S3Options options = testing::TestS3Options();
  options.credentials.secret_access_key = "not-the-secret";
  Status status = MakeStore(options)->Write("x.csv", "x");
  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << status.ToString();
  EXPECT_NE(status.message().find("HTTP 403"), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find("not-the-secret"), std::string::npos)
      << "secret leaked into a message";
}

TEST(S3ObjectStoreTest, MissingBucketIsFailedPrecondition) {
  S3Options options = testing::TestS3Options();
  options.bucket = "no-such-bucket-" + RandomAlphanumeric(6);
  std::transform(options.bucket.begin(), options.bucket.end(), options.bucket.begin(), ::tolower);
  auto listed = MakeStore(options)->List("", {});
  EXPECT_EQ(listed.status().code(), StatusCode::kFailedPrecondition) << listed.status().ToString();
  EXPECT_NE(listed.status().message().find("bucket does not exist"), std::string::npos);
}

TEST(S3ObjectStoreTest, MissingKeyIsNotFound) {
  auto stat = MakeStore(testing::TestS3Options())->Stat("nope.parquet");
  EXPECT_TRUE(stat.status().IsNotFound()) << stat.status().ToString();
}

TEST(S3ObjectStoreTest, UnreachableEndpointIsUnavailable) {
  S3Options options = testing::TestS3Options();
  options.endpoint = "http://127.0.0.1:1";  // nothing listens on port 1
  auto listed = MakeStore(options)->List("", {});
  EXPECT_EQ(listed.status().code(), StatusCode::kUnavailable) << listed.status().ToString();
  EXPECT_NE(listed.status().message().find("127.0.0.1:1"), std::string::npos);
  EXPECT_NE(listed.status().message().find("after 2 attempts"), std::string::npos);
}

TEST(S3ObjectStoreTest, InvalidEndpointIsRejected) {
  S3Options options = testing::TestS3Options();
  options.endpoint = "ftp://example";
  EXPECT_EQ(S3ObjectStore::Make(options).status().code(), StatusCode::kInvalidArgument);
}

// A fake endpoint on loopback: fails the first requests with 503, then answers.
class FlakyEndpoint {
 public:
  explicit FlakyEndpoint(int failures) : failures_(failures) {
    server_.Get(".*", [this](const httplib::Request&, httplib::Response& response) {
      if (calls_++ < failures_) {
        response.status = 503;
        response.set_content(
            "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>",
            "application/xml");
        return;
      }
      response.set_content(
          "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>p/a.csv</Key><Size>3</"
          "Size>"
          "<LastModified>2026-11-24T10:00:00.000Z</LastModified><ETag>\"e1\"</ETag></Contents></"
          "ListBucketResult>",
          "application/xml");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FlakyEndpoint() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int calls() const { return calls_; }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  int failures_;
  std::atomic<int> calls_{0};
};

TEST(S3ObjectStoreTest, RetriesServerErrorsWithBackoff) {
  FlakyEndpoint endpoint(2);
  S3Options options = testing::TestS3Options();
  options.endpoint = endpoint.url();
  options.prefix = "";
  options.max_attempts = 3;
  auto listed = MakeStore(options)->List("p/", {});
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, "p/a.csv");
  EXPECT_EQ((*listed)[0].etag, "e1");
  EXPECT_EQ(endpoint.calls(), 3);
}

TEST(S3ObjectStoreTest, GivesUpAfterMaxAttempts) {
  FlakyEndpoint endpoint(100);
  S3Options options = testing::TestS3Options();
  options.endpoint = endpoint.url();
  options.max_attempts = 3;
  auto listed = MakeStore(options)->List("p/", {});
  EXPECT_EQ(listed.status().code(), StatusCode::kUnavailable) << listed.status().ToString();
  EXPECT_NE(listed.status().message().find("HTTP 503 SlowDown"), std::string::npos)
      << listed.status().message();
  EXPECT_NE(listed.status().message().find("after 3 attempts"), std::string::npos);
  EXPECT_EQ(endpoint.calls(), 3);
}

}  // namespace
}  // namespace basin::storage

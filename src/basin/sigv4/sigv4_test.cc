// Unit tests of the SigV4 building blocks and of Verify's rejections. The published
// AWS vectors are in sigv4_vectors_test.cc.

#include "basin/sigv4/sigv4.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "basin/common/crypto.h"

namespace basin::sigv4 {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr char kKeyId[] = "AKIDBASINTEST";
constexpr char kSecret[] = "s3cr3t/K7MDENG+bPxRfiCYBASINKEY";

std::chrono::system_clock::time_point At(std::string_view amz_date) {
  return ParseAmzDate(amz_date).value();
}

std::string HeaderOf(const Request& request, std::string_view name) {
  for (const auto& [n, v] : request.headers) {
    if (n == name)
      return v;
  }
  return "<absent>";
}

void SetHeader(Request& request, std::string_view name, std::string value) {
  for (auto& [n, v] : request.headers) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  request.headers.emplace_back(std::string(name), std::move(value));
}

TEST(UriEncodeTest, KeepsOnlyUnreserved) {
  EXPECT_EQ(UriEncode("AZaz09-_.~", false), "AZaz09-_.~");
  EXPECT_EQ(UriEncode("a b+c*d!'()$&=", false), "a%20b%2Bc%2Ad%21%27%28%29%24%26%3D");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("a/b", true), "a/b");
  EXPECT_EQ(UriEncode("\xed\x95\x9c", false), "%ED%95%9C");  // 한
  EXPECT_EQ(UriEncode("%", false), "%25");
}

TEST(UriDecodeTest, DecodesEscapesOnly) {
  EXPECT_EQ(UriDecode("a%20b%2Fc%ed%95%9C"), "a b/c\xed\x95\x9c");
  EXPECT_EQ(UriDecode("a+b"), "a+b");
  EXPECT_EQ(UriDecode("100%"), "100%");
  EXPECT_EQ(UriDecode("%zz%4"), "%zz%4");
}

TEST(AmzDateTest, FormatsAndParses) {
  auto time = std::chrono::sys_days{std::chrono::year{2015} / 8 / 30} + std::chrono::hours{12} +
              minutes{36} + std::chrono::milliseconds{999};
  EXPECT_EQ(FormatAmzDate(time), "20150830T123600Z");
  EXPECT_EQ(FormatAmzDate(At("20240229T235959Z")), "20240229T235959Z");
  EXPECT_FALSE(ParseAmzDate("20150830T123600").ok());
  EXPECT_FALSE(ParseAmzDate("20150230T123600Z").ok());
  EXPECT_FALSE(ParseAmzDate("20150830T243600Z").ok());
  EXPECT_FALSE(ParseAmzDate("2015-08-30T12:36:00Z").ok());
  EXPECT_EQ(ParseAmzDate("2015083xT123600Z").status().code(), StatusCode::kInvalidArgument);
}

TEST(CanonicalRequestTest, S3PathIsUsedAsSent) {
  Request request{"GET", "/b/a%20b//../c.txt", "", {{"Host", "h"}}, "UNSIGNED-PAYLOAD"};
  EXPECT_TRUE(CanonicalRequest(request, {"host"}, "s3").starts_with("GET\n/b/a%20b//../c.txt\n"));
  request.path = "";
  EXPECT_TRUE(CanonicalRequest(request, {"host"}, "s3").starts_with("GET\n/\n"));
}

TEST(CanonicalRequestTest, OtherServicesNormaliseAndEncodeAgain) {
  Request request{"GET", "/a%20b//./c/../d/", "", {{"Host", "h"}}, "UNSIGNED-PAYLOAD"};
  EXPECT_TRUE(CanonicalRequest(request, {"host"}, "firehose").starts_with("GET\n/a%2520b/d/\n"));
  request.path = "/a/..";
  EXPECT_TRUE(CanonicalRequest(request, {"host"}, "firehose").starts_with("GET\n/\n"));
}

TEST(CanonicalRequestTest, Query) {
  Request request{"GET", "/", "", {{"Host", "h"}}, "UNSIGNED-PAYLOAD"};
  auto canonical_query = [&](std::string query) {
    request.query = std::move(query);
    std::string canonical = CanonicalRequest(request, {"host"}, "s3");
    size_t start = canonical.find('\n', canonical.find('\n') + 1) + 1;
    return canonical.substr(start, canonical.find('\n', start) - start);
  };
  EXPECT_EQ(canonical_query("uploads"), "uploads=");
  EXPECT_EQ(canonical_query("uploadId=x&partNumber=2"), "partNumber=2&uploadId=x");
  EXPECT_EQ(canonical_query("a=2&a=1&A=3"), "A=3&a=1&a=2");
  EXPECT_EQ(canonical_query("prefix=a/b c"), "prefix=a%2Fb%20c");
  EXPECT_EQ(canonical_query("prefix=a%2fb%20c"), "prefix=a%2Fb%20c");
  EXPECT_EQ(canonical_query("q=a+b"), "q=a%2Bb");
  EXPECT_EQ(canonical_query("Param-3=x&Param=y"), "Param=y&Param-3=x");
  EXPECT_EQ(canonical_query("a=1&&b=2&"), "a=1&b=2");
  EXPECT_EQ(canonical_query("k=v=w"), "k=v%3Dw");
}

TEST(CanonicalRequestTest, Headers) {
  Request request{"GET",
                  "/",
                  "",
                  {{"Host", "h"},
                   {"X-Multi", "  one  "},
                   {"x-multi", "two\t\tthree"},
                   {"X-Other", "a   b"},
                   {"X-Unsigned", "z"}},
                  "UNSIGNED-PAYLOAD"};
  EXPECT_EQ(CanonicalRequest(request, {"X-Other", "x-multi", "host"}, "s3"),
            "GET\n/\n\nhost:h\nx-multi:one,two three\nx-other:a b\n\nhost;x-multi;x-other\n"
            "UNSIGNED-PAYLOAD");
}

TEST(StringToSignTest, Shape) {
  EXPECT_EQ(StringToSign("20150830T123600Z", {"20150830", "us-east-1", "service"}, ""),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" +
                Sha256Hex(""));
}

TEST(ParseAuthorizationTest, BothSeparators) {
  const std::string sig = "Signature=" + std::string(64, 'a');
  for (const std::string& value : std::vector<std::string>{
           "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s3/aws4_request, "
           "SignedHeaders=host;x-amz-date, " +
               sig,
           "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s3/aws4_request,"
           "SignedHeaders=host;x-amz-date," +
               sig}) {
    Result<Authorization> auth = ParseAuthorization(value);
    ASSERT_TRUE(auth.ok()) << auth.status().ToString();
    EXPECT_EQ(auth->access_key_id, "AK");
    EXPECT_EQ(auth->scope.date, "20150830");
    EXPECT_EQ(auth->scope.region, "us-east-1");
    EXPECT_EQ(auth->scope.service, "s3");
    EXPECT_EQ(auth->signed_headers, (std::vector<std::string>{"host", "x-amz-date"}));
    EXPECT_EQ(auth->signature, std::string(64, 'a'));
  }
}

TEST(ParseAuthorizationTest, NamesWhatIsWrong) {
  const std::string sig = "Signature=" + std::string(64, 'a');
  const std::string cred = "Credential=AK/20150830/us-east-1/s3/aws4_request";
  struct Case {
    std::string value;
    std::string mentions;
  };
  for (const Case& c : std::vector<Case>{
           {"", "algorithm"},
           {"AWS AK:abc", "algorithm"},
           {"AWS4-HMAC-SHA256", "algorithm"},
           {"AWS4-HMAC-SHA256 " + cred + ", " + sig, "SignedHeaders missing"},
           {"AWS4-HMAC-SHA256 SignedHeaders=host, " + sig, "Credential missing"},
           {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host", "Signature missing"},
           {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=xyz", "Signature"},
           {"AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s3, SignedHeaders=host, " + sig,
            "Credential"},
           {"AWS4-HMAC-SHA256 Credential=AK/2015-08-30/us-east-1/s3/aws4_request, "
            "SignedHeaders=host, " +
                sig,
            "YYYYMMDD"},
           {"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x, " + sig, "SignedHeaders"},
           {"AWS4-HMAC-SHA256 " + cred + ", " + cred + ", SignedHeaders=host, " + sig, "twice"},
           {"AWS4-HMAC-SHA256 " + cred + ", Foo=bar, SignedHeaders=host, " + sig, "Foo"},
           {"AWS4-HMAC-SHA256 " + cred + " SignedHeaders=host " + sig, "SignedHeaders missing"},
       }) {
    Result<Authorization> auth = ParseAuthorization(c.value);
    ASSERT_FALSE(auth.ok()) << c.value;
    EXPECT_EQ(auth.status().code(), StatusCode::kInvalidArgument) << c.value;
    EXPECT_NE(auth.status().message().find(c.mentions), std::string::npos)
        << c.value << " -> " << auth.status().message();
  }
}

TEST(SignTest, SetsHeadersAndSkipsUnsignable) {
  Request request{"PUT",
                  "/b/k",
                  "",
                  {{"Host", "h:9000"},
                   {"User-Agent", "curl"},
                   {"Expect", "100-continue"},
                   {"Content-Type", "text/plain"}},
                  Sha256Hex("x")};
  Sign(request, {kKeyId, kSecret, "TOKEN"}, "us-east-1", "s3", At("20240102T030405Z"));
  EXPECT_EQ(HeaderOf(request, "X-Amz-Date"), "20240102T030405Z");
  EXPECT_EQ(HeaderOf(request, "X-Amz-Content-Sha256"), Sha256Hex("x"));
  EXPECT_EQ(HeaderOf(request, "X-Amz-Security-Token"), "TOKEN");
  Result<Authorization> auth = ParseAuthorization(HeaderOf(request, "Authorization"));
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->signed_headers,
            (std::vector<std::string>{"content-type", "host", "x-amz-content-sha256", "x-amz-date",
                                      "x-amz-security-token"}));
  EXPECT_EQ(auth->access_key_id, kKeyId);
  EXPECT_EQ(auth->scope.service, "s3");
  EXPECT_EQ(HeaderOf(request, "Authorization").find(kSecret), std::string::npos);
}

TEST(SignTest, SigningAgainReplacesGeneratedHeaders) {
  Request request{"GET", "/", "", {{"Host", "h"}}, Sha256Hex("")};
  Sign(request, {kKeyId, kSecret, "T"}, "us-east-1", "s3", At("20240102T030405Z"));
  Sign(request, {kKeyId, kSecret, "T"}, "us-east-1", "s3", At("20240102T030505Z"));
  EXPECT_EQ(request.headers.size(), 5u);  // host, date, sha256, token, authorization
  EXPECT_EQ(HeaderOf(request, "X-Amz-Date"), "20240102T030505Z");
}

TEST(SignTest, OnlyS3GetsContentSha256) {
  Request request{"POST", "/", "", {{"Host", "firehose.us-east-1.amazonaws.com"}}, Sha256Hex("{}")};
  Sign(request, {kKeyId, kSecret, ""}, "us-east-1", "firehose", At("20240102T030405Z"));
  EXPECT_EQ(HeaderOf(request, "X-Amz-Content-Sha256"), "<absent>");
  EXPECT_EQ(HeaderOf(request, "X-Amz-Security-Token"), "<absent>");
}

// Verify: a correct request passes; each kind of tampering fails with a reason.
class VerifyTest : public testing::Test {
 protected:
  static constexpr std::string_view kBody = "hello, basin";

  void SetUp() override {
    request_ = {"PUT",
                "/bucket/dir/%ED%95%9C%20key.txt",
                "x-id=PutObject&tagging",
                {{"Host", "127.0.0.1:9000"}, {"Content-Type", "text/plain"}, {"x-amz-meta-a", "1"}},
                Sha256Hex(kBody)};
    Sign(request_, {kKeyId, kSecret, ""}, "us-east-1", "s3", now_);
  }

  Result<std::string> Check(const Request& request, std::string_view body = kBody,
                            std::chrono::system_clock::time_point now = {}) {
    SecretLookup lookup = [&](std::string_view key) -> Result<std::string> {
      if (key == kKeyId)
        return secret_;
      if (key == "BROKEN")
        return Status::Unavailable("key store down");
      return Status::NotFound("no key " + std::string(key));
    };
    return Verify(request, body, lookup, now == decltype(now){} ? now_ : now);
  }

  // Expects Unauthenticated naming `reason`, and no trace of the secret.
  void ExpectRejected(const Result<std::string>& result, std::string_view reason) {
    ASSERT_FALSE(result.ok()) << "accepted, expected: " << reason;
    EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated) << result.status().ToString();
    EXPECT_NE(result.status().message().find(reason), std::string::npos)
        << result.status().message();
    EXPECT_EQ(result.status().message().find(kSecret), std::string::npos);
    EXPECT_EQ(result.status().message().find("s3cr3t"), std::string::npos);
  }

  // Re-signs `request_` by hand with `signed_headers`, so that only the header list
  // differs from a valid request.
  void ResignWith(const std::vector<std::string>& signed_headers) {
    std::erase_if(request_.headers, [](const auto& h) { return h.first == "Authorization"; });
    Scope scope{"20240102", "us-east-1", "s3"};
    std::string sts =
        StringToSign("20240102T030405Z", scope, CanonicalRequest(request_, signed_headers, "s3"));
    std::string signature = HexEncode(HmacSha256(SigningKey(kSecret, scope), sts));
    std::string list;
    for (const std::string& name : signed_headers)
      list += (list.empty() ? "" : ";") + name;
    request_.headers.emplace_back("Authorization",
                                  "AWS4-HMAC-SHA256 Credential=" + std::string(kKeyId) +
                                      "/20240102/us-east-1/s3/aws4_request, SignedHeaders=" + list +
                                      ", Signature=" + signature);
  }

  std::chrono::system_clock::time_point now_ = At("20240102T030405Z");
  std::string secret_ = kSecret;
  Request request_;
};

TEST_F(VerifyTest, AcceptsCorrectRequest) {
  Result<std::string> key = Check(request_);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(*key, kKeyId);
}

TEST_F(VerifyTest, AcceptsReorderedAndRecasedHeadersAndUnsignableExtras) {
  std::reverse(request_.headers.begin(), request_.headers.end());
  for (auto& [name, value] : request_.headers) {
    if (name == "Content-Type")
      name = "CONTENT-TYPE";
  }
  request_.headers.emplace_back("User-Agent", "added by a proxy");
  EXPECT_TRUE(Check(request_).ok());
}

TEST_F(VerifyTest, AcceptsWithinClockSkew) {
  EXPECT_TRUE(Check(request_, kBody, now_ + minutes(14)).ok());
  EXPECT_TRUE(Check(request_, kBody, now_ - minutes(14)).ok());
}

TEST_F(VerifyTest, RejectsWrongSecret) {
  secret_ = "another-secret";
  ExpectRejected(Check(request_), "signature does not match");
}

TEST_F(VerifyTest, RejectsUnknownKey) {
  std::string auth = HeaderOf(request_, "Authorization");
  auth.replace(auth.find(kKeyId), std::string_view(kKeyId).size(), "AKIDNOBODY");
  SetHeader(request_, "Authorization", auth);
  ExpectRejected(Check(request_), "unknown access key id 'AKIDNOBODY'");
}

TEST_F(VerifyTest, PassesOnKeyStoreFailure) {
  std::string auth = HeaderOf(request_, "Authorization");
  auth.replace(auth.find(kKeyId), std::string_view(kKeyId).size(), "BROKEN");
  SetHeader(request_, "Authorization", auth);
  EXPECT_EQ(Check(request_).status().code(), StatusCode::kUnavailable);
}

TEST_F(VerifyTest, RejectsTamperedBody) {
  ExpectRejected(Check(request_, "hello, basiN"), "does not match the body");
}

TEST_F(VerifyTest, RejectsTamperedBodyWithoutContentSha256) {
  Request request{"POST", "/", "", {{"Host", "h"}}, Sha256Hex(kBody)};
  Sign(request, {kKeyId, kSecret, ""}, "us-east-1", "firehose", now_);
  EXPECT_TRUE(Check(request).ok());
  ExpectRejected(Check(request, "hello, basin!"), "signature does not match");
}

TEST_F(VerifyTest, RejectsTamperedSignedHeader) {
  SetHeader(request_, "Content-Type", "text/html");
  ExpectRejected(Check(request_), "signature does not match");
}

TEST_F(VerifyTest, RejectsTamperedQuery) {
  request_.query = "x-id=PutObject&tagging&versionId=1";
  ExpectRejected(Check(request_), "signature does not match");
}

TEST_F(VerifyTest, RejectsTamperedPath) {
  request_.path = "/bucket/dir/other.txt";
  ExpectRejected(Check(request_), "signature does not match");
}

TEST_F(VerifyTest, RejectsTamperedMethod) {
  request_.method = "DELETE";
  ExpectRejected(Check(request_), "signature does not match");
}

TEST_F(VerifyTest, RejectsTimeTwentyMinutesOff) {
  ExpectRejected(Check(request_, kBody, now_ + minutes(20)), "1200s from server time");
  ExpectRejected(Check(request_, kBody, now_ - minutes(20)), "1200s from server time");
}

TEST_F(VerifyTest, RejectsUnsignedHost) {
  ResignWith({"content-type", "x-amz-content-sha256", "x-amz-date", "x-amz-meta-a"});
  ExpectRejected(Check(request_), "host header is not signed");
}

TEST_F(VerifyTest, RejectsUnsignedAmzHeader) {
  ResignWith({"content-type", "host", "x-amz-content-sha256", "x-amz-date"});
  ExpectRejected(Check(request_), "'x-amz-meta-a' is present but not signed");
  ResignWith({"content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-meta-a"});
  EXPECT_TRUE(Check(request_).ok());
  request_.headers.emplace_back("x-amz-copy-source", "/other/object");
  ExpectRejected(Check(request_), "'x-amz-copy-source' is present but not signed");
}

TEST_F(VerifyTest, RejectsSignedHeaderMissingFromRequest) {
  std::erase_if(request_.headers, [](const auto& h) { return h.first == "Content-Type"; });
  ExpectRejected(Check(request_), "signed header 'content-type' is not in the request");
}

TEST_F(VerifyTest, RejectsMissingOrMalformedAuthorization) {
  Request request = request_;
  std::erase_if(request.headers, [](const auto& h) { return h.first == "Authorization"; });
  ExpectRejected(Check(request), "no Authorization header");
  request.headers.emplace_back("Authorization", "AWS AKID:c2ln");
  ExpectRejected(Check(request), "AWS4-HMAC-SHA256");
  request_.headers.emplace_back("authorization", HeaderOf(request_, "Authorization"));
  ExpectRejected(Check(request_), "more than one Authorization header");
}

TEST_F(VerifyTest, RejectsMissingOrBadDate) {
  Request request = request_;
  std::erase_if(request.headers, [](const auto& h) { return h.first == "X-Amz-Date"; });
  ExpectRejected(Check(request), "is not in the request");  // x-amz-date was signed
  SetHeader(request_, "X-Amz-Date", "2024-01-02T03:04:05Z");
  ExpectRejected(Check(request_), "x-amz-date must look like");
}

TEST_F(VerifyTest, RejectsScopeDateOtherThanRequestDate) {
  std::string auth = HeaderOf(request_, "Authorization");
  auth.replace(auth.find("/20240102/"), 10, "/20240103/");
  SetHeader(request_, "Authorization", auth);
  ExpectRejected(Check(request_), "credential date 20240103 is not the request date");
}

TEST_F(VerifyTest, UsesDateHeaderWithoutAmzDate) {
  Request request{
      "GET", "/b/k", "", {{"Host", "h"}, {"Date", "Tue, 02 Jan 2024 03:04:05 GMT"}}, Sha256Hex("")};
  Scope scope{"20240102", "us-east-1", "s3"};
  std::string sts =
      StringToSign("20240102T030405Z", scope, CanonicalRequest(request, {"date", "host"}, "s3"));
  request.headers.emplace_back("Authorization",
                               "AWS4-HMAC-SHA256 Credential=" + std::string(kKeyId) +
                                   "/20240102/us-east-1/s3/aws4_request, SignedHeaders=date;host, "
                                   "Signature=" +
                                   HexEncode(HmacSha256(SigningKey(kSecret, scope), sts)));
  Result<std::string> key = Check(request, "");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  ExpectRejected(Check(request, "", now_ + minutes(16)), "from server time");
  std::erase_if(request.headers, [](const auto& h) { return h.first == "Date"; });
  ExpectRejected(Check(request, ""), "is not in the request");
}

TEST_F(VerifyTest, RejectsRequestWithoutAnyDate) {
  ResignWith({"content-type", "host", "x-amz-content-sha256", "x-amz-meta-a"});
  std::erase_if(request_.headers, [](const auto& h) { return h.first == "X-Amz-Date"; });
  ExpectRejected(Check(request_), "neither x-amz-date nor Date header present");
}

TEST_F(VerifyTest, UnsignedPayloadSkipsBodyCheck) {
  Request request{"PUT", "/b/k", "", {{"Host", "h"}}, "UNSIGNED-PAYLOAD"};
  Sign(request, {kKeyId, kSecret, ""}, "us-east-1", "s3", now_);
  EXPECT_TRUE(Check(request, "any body at all").ok());
}

TEST_F(VerifyTest, StreamingPayloadIsNotImplemented) {
  Request request{"PUT", "/b/k", "", {{"Host", "h"}}, "STREAMING-UNSIGNED-PAYLOAD-TRAILER"};
  Sign(request, {kKeyId, kSecret, ""}, "us-east-1", "s3", now_);
  EXPECT_EQ(Check(request, "5\r\nhello\r\n0\r\n\r\n").status().code(), StatusCode::kNotImplemented);
}

TEST_F(VerifyTest, AcceptsSessionToken) {
  Request request{"GET", "/b/k", "", {{"Host", "h"}}, Sha256Hex("")};
  Sign(request, {kKeyId, kSecret, "FQoGZXIvYXdzEXAMPLE"}, "us-east-1", "s3", now_);
  EXPECT_TRUE(Check(request, "").ok());
}

}  // namespace
}  // namespace basin::sigv4

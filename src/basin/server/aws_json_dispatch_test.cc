#include "basin/server/aws_json_dispatch.h"

#include <string>

#include <gtest/gtest.h>
#include <httplib.h>

namespace basin::server {
namespace {

// A caller is who its Authorization header names ("viewer" or "editor"); without one,
// authentication fails. Counts the calls, to show which errors come before it.
struct FakeAuthenticator {
  int calls = 0;
  Result<auth::Principal> operator()(const httplib::Request& request) {
    ++calls;
    std::string who = request.get_header_value("Authorization");
    if (who.empty())
      return Status::Unauthenticated("authentication required");
    auth::Principal principal;
    principal.user.name = "u";
    principal.user.role =
        who.find("editor") != std::string::npos ? auth::Role::kEditor : auth::Role::kViewer;
    return principal;
  }
};

// An operation that answers with its service's name and what the call carried.
AwsJsonOperation Echo(const std::string& service, auth::Role role = auth::Role::kViewer) {
  return {role, [service](const AwsJsonCall& call, httplib::Response& response) {
            WriteAwsJson(response, 200,
                         {{"service", service},
                          {"operation", call.operation},
                          {"body", call.body},
                          {"region", call.region}});
          }};
}

class AwsJsonDispatcherTest : public ::testing::Test {
 protected:
  AwsJsonDispatcherTest()
      : dispatcher_([this](const httplib::Request& request) { return authenticator_(request); }) {
    dispatcher_.Register(
        {.target_prefix = "Alpha_20200101",
         .operations = {{"Read", Echo("alpha")}, {"Write", Echo("alpha", auth::Role::kEditor)}}});
    dispatcher_.Register({.target_prefix = "Beta", .operations = {{"Read", Echo("beta")}}});
  }

  // POSTs `body` with X-Amz-Target `target` (none when empty) as `who`.
  httplib::Response Post(const std::string& target, const std::string& body = "{}",
                         const std::string& who = "editor") {
    httplib::Request request;
    request.method = "POST";
    request.path = "/";
    if (!target.empty())
      request.headers.emplace("X-Amz-Target", target);
    if (!who.empty())
      request.headers.emplace("Authorization", who);
    request.body = body;
    httplib::Response response;
    dispatcher_.Serve(request, response);
    return response;
  }

  static nlohmann::json Json(const httplib::Response& response) {
    return nlohmann::json::parse(response.body);
  }

  // Asserts an AWS error answer: status, x-amzn-ErrorType and __type, and the message.
  static void ExpectError(const httplib::Response& response, int status, const std::string& type,
                          const std::string& message) {
    EXPECT_EQ(response.status, status);
    EXPECT_EQ(response.get_header_value("Content-Type"), "application/x-amz-json-1.1");
    EXPECT_EQ(response.get_header_value("x-amzn-ErrorType"), type);
    nlohmann::json body = Json(response);
    EXPECT_EQ(body["__type"], type);
    EXPECT_EQ(body["message"], message);
  }

  FakeAuthenticator authenticator_;
  AwsJsonDispatcher dispatcher_;
};

TEST_F(AwsJsonDispatcherTest, RoutesByTargetPrefix) {
  httplib::Response alpha = Post("Alpha_20200101.Read", R"({"Name": "x"})");
  EXPECT_EQ(alpha.status, 200);
  EXPECT_EQ(alpha.get_header_value("Content-Type"), "application/x-amz-json-1.1");
  nlohmann::json answer = Json(alpha);
  EXPECT_EQ(answer["service"], "alpha");
  EXPECT_EQ(answer["operation"], "Read");
  EXPECT_EQ(answer["body"], nlohmann::json({{"Name", "x"}}));
  EXPECT_EQ(answer["region"], "us-east-1");

  httplib::Response beta = Post("Beta.Read", "");
  EXPECT_EQ(beta.status, 200);
  EXPECT_EQ(Json(beta)["service"], "beta");
  EXPECT_EQ(Json(beta)["body"], nlohmann::json::object());  // an empty body is {}
}

TEST_F(AwsJsonDispatcherTest, HandlersGetTheRegionTheClientSignedFor) {
  httplib::Response response =
      Post("Beta.Read", "{}",
           "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/eu-west-3/firehose/aws4_request, "
           "SignedHeaders=host;x-amz-date, Signature=" +
               std::string(64, 'a'));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(Json(response)["region"], "eu-west-3");
}

TEST_F(AwsJsonDispatcherTest, UnknownServicePrefixIsAnUnknownOperationBeforeAuthentication) {
  const std::string expected =
      "X-Amz-Target must be Alpha_20200101.<Operation> or Beta.<Operation>";
  ExpectError(Post("Gamma_1.Read"), 400, "UnknownOperationException", expected);
  ExpectError(Post("Alpha_20200101"), 400, "UnknownOperationException", expected);  // no '.'
  ExpectError(Post("alpha_20200101.Read"), 400, "UnknownOperationException", expected);
  ExpectError(Post("Gamma_1.Read", "{}", ""), 400, "UnknownOperationException", expected);
  EXPECT_EQ(authenticator_.calls, 0);
}

TEST_F(AwsJsonDispatcherTest, MissingTargetHeaderIsAnUnknownOperation) {
  ExpectError(Post(""), 400, "UnknownOperationException",
              "X-Amz-Target must be Alpha_20200101.<Operation> or Beta.<Operation>");
  EXPECT_EQ(authenticator_.calls, 0);
}

TEST_F(AwsJsonDispatcherTest, UnknownOperationOfAKnownService) {
  ExpectError(Post("Beta.Write"), 400, "UnknownOperationException",
              "operation Write is not supported");
  ExpectError(Post("Alpha_20200101."), 400, "UnknownOperationException",
              "operation  is not supported");
  // It needs the editor role, as writes do, and a body that is an object.
  ExpectError(Post("Beta.Nope", "{}", "viewer"), 403, "AccessDeniedException",
              "Nope needs the editor role; user 'u' is viewer");
  ExpectError(Post("Beta.Nope", "[]"), 400, "SerializationException", "body is not a JSON object");
}

TEST_F(AwsJsonDispatcherTest, AuthenticationAndRoles) {
  ExpectError(Post("Alpha_20200101.Read", "{}", ""), 403, "UnrecognizedClientException",
              "authentication required");
  ExpectError(Post("Alpha_20200101.Write", "{}", "viewer"), 403, "AccessDeniedException",
              "Write needs the editor role; user 'u' is viewer");
  EXPECT_EQ(Post("Alpha_20200101.Read", "{}", "viewer").status, 200);
  EXPECT_EQ(Post("Alpha_20200101.Write", "{}", "editor").status, 200);
}

TEST_F(AwsJsonDispatcherTest, BodyMustBeAJsonObject) {
  for (const std::string body : {"[1]", "not json", "\"text\"", "{"})
    ExpectError(Post("Alpha_20200101.Read", body), 400, "SerializationException",
                "body is not a JSON object");
}

TEST(WriteAwsErrorTest, InternalFailureMessagesAreNotShown) {
  httplib::Response response;
  response.set_header("X-Request-Id", "req123");
  WriteAwsError(response, 500, "InternalFailure", "disk /var/lib/basin is full");
  EXPECT_EQ(response.status, 500);
  nlohmann::json body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["__type"], "InternalFailure");
  EXPECT_EQ(body["message"], "internal error (request req123); the server log has the details");
}

}  // namespace
}  // namespace basin::server

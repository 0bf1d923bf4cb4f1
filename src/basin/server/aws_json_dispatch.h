#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "basin/auth/auth_store.h"
#include "basin/auth/role.h"
#include "basin/common/result.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace basin::server {

/// An answer in the AWS JSON 1.1 protocol: `body` with Content-Type
/// application/x-amz-json-1.1.
void WriteAwsJson(httplib::Response& response, int http_status, const nlohmann::json& body);

/// An AWS error answer: header x-amzn-ErrorType `type` and {"__type": type, "message": ...},
/// the shape the AWS SDKs turn into exception classes. A 500's message is logged and
/// replaced (ForClient), as WriteError does.
void WriteAwsError(httplib::Response& response, int http_status, std::string_view type,
                   const std::string& message);

/// One call of an AWS operation, as the dispatcher hands it to the service.
struct AwsJsonCall {
  const httplib::Request& request;
  const auth::Principal& principal;  // authenticated, with the operation's role
  std::string_view operation;        // "PutRecord": the part of X-Amz-Target after the '.'
  const nlohmann::json& body;        // a JSON object ({} for an empty body)
  std::string region;                // the region the client signed for, else "us-east-1"
};

/// One operation of a service: the least role its caller needs, and what answers it.
struct AwsJsonOperation {
  auth::Role role = auth::Role::kEditor;
  std::function<void(const AwsJsonCall& call, httplib::Response& response)> handler;
};

/// An AWS service spoken in the JSON 1.1 protocol, keyed by its X-Amz-Target prefix
/// ("Firehose_20150804", "AWSGlue", "AmazonAthena").
struct AwsJsonService {
  std::string target_prefix;
  std::map<std::string, AwsJsonOperation, std::less<>> operations;
};

/// Routes AWS JSON requests (POST with X-Amz-Target: <Prefix>.<Operation>) to the service
/// registered for the prefix, and owns what every such service shares, in this order:
///   1. a missing X-Amz-Target, or one whose prefix no service has: 400
///      UnknownOperationException naming the accepted prefixes (before authentication);
///   2. authentication (Bearer token, session or SigV4, as every route): 403
///      UnrecognizedClientException when it fails;
///   3. the operation's role: 403 AccessDeniedException. An operation the service does not
///      know needs the editor role, as writes do;
///   4. the body, which must be empty or a JSON object: 400 SerializationException;
///   5. the operation's handler, or 400 UnknownOperationException for an unknown operation.
/// Errors have the AWS shape (WriteAwsError). Register every service before serving;
/// Serve is then thread-safe.
class AwsJsonDispatcher {
 public:
  using Authenticator = std::function<Result<auth::Principal>(const httplib::Request&)>;

  explicit AwsJsonDispatcher(Authenticator authenticate) : authenticate_(std::move(authenticate)) {}

  /// Adds `service`. REQUIRES: no service with its prefix is registered yet.
  void Register(AwsJsonService service);
  /// Whether any service is registered (without one, there is nothing to route).
  bool empty() const { return services_.empty(); }

  /// Answers one request, whatever its path.
  void Serve(const httplib::Request& request, httplib::Response& response) const;

 private:
  // "X-Amz-Target must be A.<Operation> or B.<Operation>".
  std::string ExpectedTargets() const;

  Authenticator authenticate_;
  std::map<std::string, AwsJsonService, std::less<>> services_;
};

}  // namespace basin::server

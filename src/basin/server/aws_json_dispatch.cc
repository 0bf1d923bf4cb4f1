#include "basin/server/aws_json_dispatch.h"

#include <utility>

#include <httplib.h>

#include "basin/server/api_server.h"
#include "basin/sigv4/sigv4.h"

namespace basin::server {
namespace {

constexpr char kContentType[] = "application/x-amz-json-1.1";
constexpr char kUnknownOperation[] = "UnknownOperationException";

// The region the client signed for (ARNs name it), "us-east-1" without a signature.
std::string RegionOf(const httplib::Request& request) {
  Result<sigv4::Authorization> authorization =
      sigv4::ParseAuthorization(request.get_header_value("Authorization"));
  return authorization.ok() ? authorization->scope.region : "us-east-1";
}

}  // namespace

void WriteAwsJson(httplib::Response& response, int http_status, const nlohmann::json& body) {
  response.status = http_status;
  response.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       kContentType);
}

void WriteAwsError(httplib::Response& response, int http_status, std::string_view type,
                   const std::string& message) {
  response.set_header("x-amzn-ErrorType", std::string(type));
  // InternalFailure: the message is logged, not shown (as WriteError does).
  std::string shown =
      http_status == 500 ? ForClient(response, Status::Internal(message)).message() : message;
  WriteAwsJson(response, http_status, {{"__type", type}, {"message", shown}});
}

void AwsJsonDispatcher::Register(AwsJsonService service) {
  std::string prefix = service.target_prefix;
  services_.emplace(std::move(prefix), std::move(service));
}

std::string AwsJsonDispatcher::ExpectedTargets() const {
  std::string targets;
  for (const auto& [prefix, service] : services_)
    targets += (targets.empty() ? "" : " or ") + prefix + ".<Operation>";
  return "X-Amz-Target must be " + targets;
}

void AwsJsonDispatcher::Serve(const httplib::Request& request, httplib::Response& response) const {
  const std::string target = request.get_header_value("X-Amz-Target");
  const size_t dot = target.find('.');
  auto service = dot == std::string::npos ? services_.end()
                                          : services_.find(std::string_view(target).substr(0, dot));
  if (service == services_.end())
    return WriteAwsError(response, 400, kUnknownOperation, ExpectedTargets());
  const std::string operation = target.substr(dot + 1);

  Result<auth::Principal> principal = authenticate_(request);
  if (!principal.ok())
    return WriteAwsError(response, 403, "UnrecognizedClientException",
                         principal.status().message());
  auto found = service->second.operations.find(operation);
  const AwsJsonOperation* known =
      found == service->second.operations.end() ? nullptr : &found->second;
  const auth::Role needed = known != nullptr ? known->role : auth::Role::kEditor;
  if (!auth::RoleAtLeast(principal->user.role, needed)) {
    return WriteAwsError(response, 403, "AccessDeniedException",
                         operation + " needs the " + std::string(auth::RoleName(needed)) +
                             " role; user '" + principal->user.name + "' is " +
                             std::string(auth::RoleName(principal->user.role)));
  }
  nlohmann::json body =
      nlohmann::json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return WriteAwsError(response, 400, "SerializationException", "body is not a JSON object");
  if (known == nullptr)
    return WriteAwsError(response, 400, kUnknownOperation,
                         "operation " + operation + " is not supported");
  known->handler(AwsJsonCall{.request = request,
                             .principal = *principal,
                             .operation = operation,
                             .body = body,
                             .region = RegionOf(request)},
                 response);
}

}  // namespace basin::server

// Users, sessions, API tokens and access keys over HTTP.
#include <charconv>

#include <httplib.h>

#include "basin/common/log.h"
#include "basin/common/time_format.h"
#include "basin/server/api_server.h"
#include "basin/server/json_body.h"

namespace basin::server {
namespace {

constexpr std::string_view kSessionCookie = "basin_session";

nlohmann::json UserJson(const auth::User& user) {
  return {{"id", user.id},
          {"name", user.name},
          {"role", auth::RoleName(user.role)},
          {"created_at", FormatIso8601(user.created_at)},
          {"workgroup", user.workgroup}};
}

nlohmann::json OptionalTime(const std::optional<auth::Timestamp>& time) {
  return time ? nlohmann::json(FormatIso8601(*time)) : nlohmann::json(nullptr);
}

// A user name as logs and messages show it: names are at most 64 characters, so a longer
// one (any text a client sends) is cut there.
std::string ShownName(std::string_view name) {
  constexpr size_t kMaxShown = 64;
  return name.size() <= kMaxShown ? std::string(name)
                                  : std::string(name.substr(0, kMaxShown)) + "...";
}

Status LoginRefused(std::string_view name, const auth::LoginThrottle::Refusal& refusal) {
  const std::string wait = "; try again in " + std::to_string(refusal.retry_after.count()) + " s";
  if (refusal.whole_address)
    return Status::ResourceExhausted("too many failed logins from this address" + wait);
  return Status::ResourceExhausted("too many failed logins for user '" + ShownName(name) +
                                   "' from this address" + wait);
}

// Counts a wrong user name or password and logs it: the name and the client's address,
// never the password.
void RecordFailedLogin(auth::LoginThrottle& throttle, std::string_view name,
                       const std::string& address, const std::string& request_id) {
  auth::LoginThrottle::Failures failures = throttle.RecordFailure(name, address);
  log::Warn("login_failed", {{"request_id", request_id},
                             {"user", ShownName(name)},
                             {"remote", address},
                             {"failures", failures.of_name},
                             {"address_failures", failures.of_address},
                             {"throttled", failures.refusing}});
}

// The "expires_in_days" of a new API token: an integer from 1 to 3650. Checked before any
// arithmetic, so a large number cannot overflow the expiry (10^6 days was listed as 1842).
Result<std::chrono::days> ApiTokenLifetime(const nlohmann::json& days) {
  const int64_t max_days = auth::kMaxApiTokenLifetime.count();
  // Non-negative JSON integers parse as unsigned: get<int64_t>() would wrap one above 2^63.
  bool in_range = false;
  if (days.is_number_unsigned())
    in_range = days.get<uint64_t>() >= 1 && days.get<uint64_t>() <= static_cast<uint64_t>(max_days);
  else if (days.is_number_integer())
    in_range = days.get<int64_t>() >= 1 && days.get<int64_t>() <= max_days;
  if (!in_range) {
    return Status::InvalidArgument("field 'expires_in_days' must be an integer from 1 to " +
                                   std::to_string(max_days) + " (10 years)");
  }
  return std::chrono::days(days.get<int64_t>());
}

}  // namespace

void ApiServer::RegisterAuthRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;

  Route("POST", "/api/auth/login", Access::kPassword,
        [this](const Request& request, Response& response, const RequestContext& context) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          Result<std::string> name = RequiredString(*body, "username");
          Result<std::string> password = RequiredString(*body, "password");
          if (!name.ok())
            return WriteError(response, name.status());
          if (!password.ok())
            return WriteError(response, password.status());
          const std::string& client = request.remote_addr;
          // Refused before the password is checked: guessing must not cost the server an
          // argon2 hash each time.
          if (std::optional<auth::LoginThrottle::Refusal> refusal =
                  login_throttle_.Check(*name, client)) {
            response.set_header("Retry-After", std::to_string(refusal->retry_after.count()));
            return WriteError(response, LoginRefused(*name, *refusal));
          }
          Result<auth::User> user = auth_.CheckPassword(*name, *password);
          if (!user.ok()) {
            // Only wrong credentials count; Unavailable (checks busy) is not a guess.
            if (user.status().code() == StatusCode::kUnauthenticated)
              RecordFailedLogin(login_throttle_, *name, client, context.request_id);
            return WriteError(response, user.status());
          }
          login_throttle_.RecordSuccess(*name, client);
          Result<auth::NewSession> session = auth_.CreateSession(user->id, options_.session_ttl);
          if (!session.ok())
            return WriteError(response, session.status());
          response.set_header("Set-Cookie", "basin_session=" + session->token +
                                                "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                                                std::to_string(options_.session_ttl.count()));
          WriteJson(response, 200,
                    {{"token", session->token},
                     {"expires_at", FormatIso8601(session->expires_at)},
                     {"user", UserJson(*user)}});
        });

  Route("POST", "/api/auth/logout", Access::kViewer,
        [this](const Request& request, Response& response, const RequestContext& context) {
          if (context.principal.kind == auth::CredentialKind::kSession &&
              !context.bearer_token.empty()) {
            Status deleted = auth_.DeleteSession(context.bearer_token);
            if (!deleted.ok())
              return WriteError(response, deleted);
          }
          // The answer tells the browser to drop its session cookie, so that session ends
          // too, even when another credential authenticated the request (an API token, or
          // the Authorization header of a newer session): else a copy of the cookie would
          // stay valid. NotFound is fine: it has ended already or was never a session.
          std::string cookie = CookieValue(request, kSessionCookie);
          if (!cookie.empty() && cookie != context.bearer_token) {
            Status deleted = auth_.DeleteSession(cookie);
            if (!deleted.ok() && deleted.code() != StatusCode::kNotFound)
              return WriteError(response, deleted);
          }
          response.set_header("Set-Cookie",
                              "basin_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
          WriteJson(response, 200, {{"logged_out", true}});
        });

  Route("GET", "/api/me", Access::kViewer,
        [](const Request&, Response& response, const RequestContext& context) {
          WriteJson(response, 200,
                    {{"user", UserJson(context.principal.user)},
                     {"credential", auth::CredentialKindName(context.principal.kind)}});
        });

  RegisterUserRoutes();
}

// Users (admins).
void ApiServer::RegisterUserRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  // --- users (admin) -------------------------------------------------------------------
  Route("GET", "/api/users", Access::kAdmin,
        [this](const Request&, Response& response, const RequestContext&) {
          Result<std::vector<auth::User>> users = auth_.ListUsers();
          if (!users.ok())
            return WriteError(response, users.status());
          nlohmann::json list = nlohmann::json::array();
          for (const auth::User& user : *users)
            list.push_back(UserJson(user));
          WriteJson(response, 200, {{"users", list}});
        });

  Route("POST", "/api/users", Access::kAdmin,
        [this](const Request& request, Response& response, const RequestContext&) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          Result<std::string> name = RequiredString(*body, "name");
          Result<std::string> password = RequiredString(*body, "password");
          Result<std::string> role_name = RequiredString(*body, "role");
          for (const Status& status : {name.status(), password.status(), role_name.status()}) {
            if (!status.ok())
              return WriteError(response, status);
          }
          Result<auth::Role> role = auth::ParseRole(*role_name);
          if (!role.ok())
            return WriteError(response, role.status());
          Result<auth::User> user = auth_.CreateUser(*name, *password, *role);
          if (!user.ok())
            return WriteError(response, user.status());
          WriteJson(response, 201, {{"user", UserJson(*user)}});
        });

  Route("PATCH", R"(/api/users/([^/]+))", Access::kAdmin,
        [this](const Request& request, Response& response, const RequestContext&) {
          std::string name = request.matches[1];
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          if (body->contains("role")) {
            Result<std::string> role_name = RequiredString(*body, "role");
            if (!role_name.ok())
              return WriteError(response, role_name.status());
            Result<auth::Role> role = auth::ParseRole(*role_name);
            if (!role.ok())
              return WriteError(response, role.status());
            if (Status set = auth_.SetRole(name, *role); !set.ok())
              return WriteError(response, set);
          }
          if (body->contains("password")) {
            Result<std::string> password = RequiredString(*body, "password");
            if (!password.ok())
              return WriteError(response, password.status());
            if (Status set = auth_.SetPassword(name, *password); !set.ok())
              return WriteError(response, set);
          }
          Result<auth::User> user = auth_.GetUser(name);
          if (!user.ok())
            return WriteError(response, user.status());
          WriteJson(response, 200, {{"user", UserJson(*user)}});
        });

  Route("DELETE", R"(/api/users/([^/]+))", Access::kAdmin,
        [this](const Request& request, Response& response, const RequestContext&) {
          Status deleted = auth_.DeleteUser(std::string(request.matches[1]));
          if (!deleted.ok())
            return WriteError(response, deleted);
          WriteJson(response, 200, {{"deleted", std::string(request.matches[1])}});
        });

  RegisterTokenRoutes();
}

// API tokens: each user's own.
void ApiServer::RegisterTokenRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  // --- API tokens (own) -------------------------------------------------------------------
  Route("GET", "/api/tokens", Access::kViewer,
        [this](const Request&, Response& response, const RequestContext& context) {
          Result<std::vector<auth::ApiTokenInfo>> tokens =
              auth_.ListApiTokens(context.principal.user.id);
          if (!tokens.ok())
            return WriteError(response, tokens.status());
          nlohmann::json list = nlohmann::json::array();
          for (const auth::ApiTokenInfo& token : *tokens) {
            list.push_back({{"id", token.id},
                            {"name", token.name},
                            {"created_at", FormatIso8601(token.created_at)},
                            {"last_used_at", OptionalTime(token.last_used_at)},
                            {"expires_at", OptionalTime(token.expires_at)},
                            {"revoked_at", OptionalTime(token.revoked_at)}});
          }
          WriteJson(response, 200, {{"tokens", list}});
        });

  Route("POST", "/api/tokens", Access::kViewer,
        [this](const Request& request, Response& response, const RequestContext& context) {
          Result<nlohmann::json> body = ParseJsonBody(request.body);
          if (!body.ok())
            return WriteError(response, body.status());
          Result<std::string> name = RequiredString(*body, "name");
          if (!name.ok())
            return WriteError(response, name.status());
          std::optional<auth::Timestamp> expires;
          if (body->contains("expires_in_days")) {
            Result<std::chrono::days> days = ApiTokenLifetime((*body)["expires_in_days"]);
            if (!days.ok())
              return WriteError(response, days.status());
            expires =
                std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) + *days;
          }
          Result<auth::NewApiToken> token =
              auth_.CreateApiToken(context.principal.user.id, *name, expires);
          if (!token.ok())
            return WriteError(response, token.status());
          WriteJson(response, 201,
                    {{"id", token->id},
                     {"name", token->name},
                     {"token", token->secret},
                     {"expires_at", OptionalTime(token->expires_at)},
                     {"note", "the token is shown only now; store it safely"}});
        });

  Route("DELETE", R"(/api/tokens/(\d+))", Access::kViewer,
        [this](const Request& request, Response& response, const RequestContext& context) {
          int64_t id = 0;
          std::string text = request.matches[1];
          auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
          if (error != std::errc() || end != text.data() + text.size()) {
            return WriteError(response, Status::NotFound("no such API token: " + text));
          }
          Status revoked = auth_.RevokeApiToken(context.principal.user, id);
          if (!revoked.ok())
            return WriteError(response, revoked);
          WriteJson(response, 200, {{"revoked", id}});
        });

  RegisterAccessKeyRoutes();
}

// Access keys: own, or any user's for an admin.
void ApiServer::RegisterAccessKeyRoutes() {
  using Request = httplib::Request;
  using Response = httplib::Response;
  // --- access keys: own, or any user's for an admin ----------------------------------------
  auto target_user = [this](const Request& request,
                            const RequestContext& context) -> Result<auth::User> {
    std::string name = request.get_param_value("user");
    if (name.empty() || name == context.principal.user.name)
      return context.principal.user;
    if (context.principal.user.role != auth::Role::kAdmin) {
      return Status::PermissionDenied("only an admin may manage another user's access keys");
    }
    return auth_.GetUser(name);
  };

  Route("GET", "/api/access-keys", Access::kViewer,
        [this, target_user](const Request& request, Response& response,
                            const RequestContext& context) {
          Result<auth::User> user = target_user(request, context);
          if (!user.ok())
            return WriteError(response, user.status());
          Result<std::vector<auth::AccessKeyInfo>> keys = auth_.ListAccessKeys(user->id);
          if (!keys.ok())
            return WriteError(response, keys.status());
          nlohmann::json list = nlohmann::json::array();
          for (const auth::AccessKeyInfo& key : *keys) {
            list.push_back(
                {{"access_key_id", key.access_key_id},
                 {"created_at", FormatIso8601(key.created_at)},
                 {"status", key.status == auth::AccessKeyStatus::kActive ? "active" : "revoked"}});
          }
          WriteJson(response, 200, {{"user", user->name}, {"access_keys", list}});
        });

  Route("POST", "/api/access-keys", Access::kViewer,
        [this, target_user](const Request& request, Response& response,
                            const RequestContext& context) {
          Result<auth::User> user = target_user(request, context);
          if (!user.ok())
            return WriteError(response, user.status());
          Result<auth::NewAccessKey> key = auth_.CreateAccessKey(user->id);
          if (!key.ok())
            return WriteError(response, key.status());
          WriteJson(response, 201,
                    {{"user", user->name},
                     {"access_key_id", key->access_key_id},
                     {"secret_access_key", key->secret_access_key},
                     {"note", "the secret is shown only now; store it safely"}});
        });

  Route("DELETE", R"(/api/access-keys/([A-Za-z0-9]+))", Access::kViewer,
        [this](const Request& request, Response& response, const RequestContext& context) {
          Status revoked =
              auth_.RevokeAccessKey(context.principal.user, std::string(request.matches[1]));
          if (!revoked.ok())
            return WriteError(response, revoked);
          WriteJson(response, 200, {{"revoked", std::string(request.matches[1])}});
        });
}

}  // namespace basin::server

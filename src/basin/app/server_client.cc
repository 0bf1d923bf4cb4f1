#include "basin/app/server_client.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace basin::app {
namespace {

std::string AddressFile(const std::string& home) {
  return home + "/run/server.json";
}

// The URL in <home>/run/server.json while the process that wrote it lives.
std::optional<std::string> RecordedUrl(const std::string& home) {
  std::ifstream file(AddressFile(home));
  if (!file)
    return std::nullopt;
  nlohmann::json recorded = nlohmann::json::parse(file, nullptr, false);
  if (!recorded.is_object() || !recorded["url"].is_string() || !recorded["pid"].is_number_integer())
    return std::nullopt;
  pid_t pid = recorded["pid"].get<pid_t>();
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM))
    return std::nullopt;  // stale
  return recorded["url"].get<std::string>();
}

// server.listen as a URL to connect to: a wildcard host means this machine.
std::string ListenUrl(const std::string& listen) {
  std::string host = listen, port = "8080";
  if (size_t colon = listen.rfind(':'); colon != std::string::npos) {
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  if (host.empty() || host == "0.0.0.0")
    host = "127.0.0.1";
  if (host == "[::]" || host == "::")
    host = "[::1]";
  return "http://" + host + ":" + port;
}

Result<auth::User> FirstAdmin(auth::AuthStore& auth) {
  BASIN_ASSIGN_OR_RETURN(std::vector<auth::User> users, auth.ListUsers());
  const auth::User* first = nullptr;
  for (const auth::User& user : users) {
    if (user.role == auth::Role::kAdmin && (first == nullptr || user.id < first->id))
      first = &user;
  }
  if (first == nullptr)
    return Status::FailedPrecondition(
        "the home has no admin user to act as; pass --token or set BASIN_TOKEN");
  return *first;
}

}  // namespace

Status WriteServerAddress(const std::string& home, const std::string& url) {
  std::error_code error;
  std::filesystem::create_directories(home + "/run", error);
  if (error)
    return Status::IOError("cannot create " + home + "/run: " + error.message());
  std::string temporary = AddressFile(home) + ".tmp";
  {
    std::ofstream file(temporary, std::ios::trunc);
    // A wildcard listen address is reached through loopback.
    std::string reachable = url;
    if (size_t wildcard = reachable.find("://0.0.0.0:"); wildcard != std::string::npos)
      reachable.replace(wildcard + 3, 7, "127.0.0.1");
    file << nlohmann::json{{"url", reachable}, {"pid", ::getpid()}}.dump() << "\n";
    if (!file)
      return Status::IOError("cannot write " + temporary);
  }
  std::filesystem::rename(temporary, AddressFile(home), error);
  if (error)
    return Status::IOError("cannot write " + AddressFile(home) + ": " + error.message());
  return Status::OK();
}

void RemoveServerAddress(const std::string& home) {
  std::error_code ignored;
  std::filesystem::remove(AddressFile(home), ignored);
}

ServerClient::ServerClient(std::string url, std::string token, auth::AuthStore* session_owner)
    : url_(std::move(url)),
      token_(std::move(token)),
      session_owner_(session_owner),
      http_(std::make_unique<httplib::Client>(url_)) {
  http_->set_connection_timeout(std::chrono::seconds(2));
  http_->set_read_timeout(std::chrono::seconds(120));
  http_->set_write_timeout(std::chrono::seconds(120));
  http_->set_keep_alive(true);
  http_->set_bearer_token_auth(token_.c_str());
}

ServerClient::~ServerClient() {
  if (session_owner_ != nullptr)
    (void)session_owner_->DeleteSession(token_);
}

Result<std::unique_ptr<ServerClient>> ServerClient::Connect(
    Home& home, const std::optional<std::string>& url, const std::optional<std::string>& token) {
  std::map<std::string, std::string> environment = ProcessEnvironment();
  auto env = [&](const char* name) -> std::optional<std::string> {
    auto found = environment.find(name);
    if (found == environment.end() || found->second.empty())
      return std::nullopt;
    return found->second;
  };
  std::string address;
  if (url)
    address = *url;
  else if (auto from_env = env("BASIN_URL"))
    address = *from_env;
  else if (auto recorded = RecordedUrl(home.config().home))
    address = *recorded;
  else
    address = ListenUrl(home.config().listen);
  while (!address.empty() && address.back() == '/')
    address.pop_back();
  if (address.rfind("http://", 0) != 0 && address.rfind("https://", 0) != 0)
    return Status::InvalidArgument("server URL must start with http:// or https://, got '" +
                                   address + "'");

  std::optional<std::string> given = token ? token : env("BASIN_TOKEN");
  if (given)
    return std::unique_ptr<ServerClient>(new ServerClient(address, *given, nullptr));
  BASIN_ASSIGN_OR_RETURN(auth::AuthStore * auth, home.Auth());
  BASIN_ASSIGN_OR_RETURN(auth::User admin, FirstAdmin(*auth));
  BASIN_ASSIGN_OR_RETURN(auth::NewSession session,
                         auth->CreateSession(admin.id, std::chrono::hours(1)));
  return std::unique_ptr<ServerClient>(new ServerClient(address, session.token, auth));
}

Result<ServerResponse> ServerClient::Finish(const std::string& what, const void* opaque) {
  const httplib::Result& result = *static_cast<const httplib::Result*>(opaque);
  if (!result) {
    return Status::Unavailable("cannot reach the basin server at " + url_ + " (" + what +
                               "): " + httplib::to_string(result.error()) +
                               "; start it with 'basin serve', or pass --url");
  }
  return ServerResponse{result->status, result->body, result->get_header_value("Retry-After")};
}

Result<ServerResponse> ServerClient::Get(const std::string& path) {
  httplib::Result result = http_->Get(path);
  return Finish("GET " + path, &result);
}

Result<ServerResponse> ServerClient::Post(const std::string& path, const std::string& body,
                                          const std::string& content_type) {
  httplib::Result result = http_->Post(path, body, content_type);
  return Finish("POST " + path, &result);
}

std::string ErrorMessageOf(const ServerResponse& response) {
  nlohmann::json parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_object() && parsed["error"].is_object() && parsed["error"]["message"].is_string())
    return parsed["error"]["message"].get<std::string>();
  return "HTTP " + std::to_string(response.status) + ": " + response.body.substr(0, 200);
}

}  // namespace basin::app

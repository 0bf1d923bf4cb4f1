// basin init | user | token | access-key: a basin home and who may use it. These work on
// the home's metadata database directly: whoever can read the home is its administrator.
#include <iostream>

#include <CLI/CLI.hpp>

#include "basin/app/cli.h"
#include "basin/common/crypto.h"
#include "basin/common/time_format.h"

namespace basin::app {
namespace {

int RunInit(const GlobalFlags& flags, const std::string& dir, const std::string& lake,
            const std::string& metadata) {
  InitOptions options;
  if (!lake.empty())
    options.lake = lake;
  if (!metadata.empty())
    options.metadata = metadata;
  std::map<std::string, std::string> environment = ProcessEnvironment();
  auto env = [&](const char* name) {
    return environment.count(name) ? environment[name] : std::string();
  };
  options.s3.FillFromEnvironment();
  if (!env("BASIN_S3_ENDPOINT").empty())
    options.s3.endpoint = env("BASIN_S3_ENDPOINT");
  std::string target = dir.empty() ? (flags.home ? *flags.home : env("BASIN_HOME")) : dir;
  if (target.empty())
    target = ".";
  Result<InitOutcome> outcome = InitHome(target, options);
  if (!outcome.ok())
    return ReportError(outcome.status());
  if (flags.json) {
    PrintJson({{"home", outcome->home},
               {"lake", outcome->lake_url},
               {"admin", {{"user", outcome->admin_name}, {"password", outcome->admin_password}}}});
    return kExitOk;
  }
  std::cout << "Created a basin home in " << outcome->home << "\n"
            << "  lake:      " << outcome->lake_url << "\n"
            << "  metadata:  "
            << (options.metadata.find("://") == std::string::npos
                    ? outcome->home + "/" + options.metadata
                    : std::string("the shared PostgreSQL database"))
            << "\n\n";
  if (outcome->admin_password.empty()) {
    std::cout << "The metadata database already has user " << outcome->admin_name
              << "; use its password.\n\n";
  } else {
    std::cout << "Admin user (the password is shown only now; store it safely):\n"
              << "  user:      " << outcome->admin_name << "\n"
              << "  password:  " << outcome->admin_password << "\n\n";
  }
  std::cout << "Start the server with: basin serve --home " << outcome->home << std::endl;
  return kExitOk;
}

nlohmann::json UserJson(const auth::User& user) {
  return {{"name", user.name},
          {"role", auth::RoleName(user.role)},
          {"created_at", FormatIso8601(user.created_at)},
          {"workgroup", user.workgroup}};
}

int RunUserCreate(const GlobalFlags& flags, const std::string& name, const std::string& role_name,
                  std::string password, const std::string& workgroup_name) {
  std::unique_ptr<Home> home;
  Result<auth::AuthStore*> auth = OpenHomeService(flags, home, &Home::Auth);
  if (!auth.ok())
    return ReportError(auth.status());
  Result<auth::Role> role = auth::ParseRole(role_name);
  if (!role.ok())
    return ReportError(role.status());
  Result<workgroup::WorkgroupStore*> workgroups = home->Workgroups();
  if (!workgroups.ok())
    return ReportError(workgroups.status());
  // Checked first, so that a misspelt workgroup does not leave a user behind.
  if (!workgroup_name.empty()) {
    if (Status exists = (*workgroups)->Get(workgroup_name).status(); !exists.ok())
      return ReportError(exists);
  }
  bool generated = password.empty();
  if (generated)
    password = RandomAlphanumeric(20);
  Result<auth::User> user = (*auth)->CreateUser(name, password, *role);
  if (!user.ok())
    return ReportError(user.status());
  if (!workgroup_name.empty()) {
    if (Status assigned = (*workgroups)->AssignUser(user->name, workgroup_name); !assigned.ok()) {
      return ReportError(assigned);
    }
    user->workgroup = workgroup_name;
  }
  nlohmann::json out = UserJson(*user);
  if (generated)
    out["password"] = password;
  if (flags.json) {
    PrintJson(out);
  } else {
    std::cout << "created user " << user->name << " (" << auth::RoleName(user->role) << ")\n";
    if (generated)
      std::cout << "password (shown only now): " << password << "\n";
  }
  return kExitOk;
}

int RunUserList(const GlobalFlags& flags) {
  std::unique_ptr<Home> home;
  Result<auth::AuthStore*> auth = OpenHomeService(flags, home, &Home::Auth);
  if (!auth.ok())
    return ReportError(auth.status());
  Result<std::vector<auth::User>> users = (*auth)->ListUsers();
  if (!users.ok())
    return ReportError(users.status());
  if (flags.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auth::User& user : *users)
      list.push_back(UserJson(user));
    PrintJson(list);
    return kExitOk;
  }
  for (const auth::User& user : *users) {
    std::printf("%-24s %-8s %-20s %s\n", user.name.c_str(),
                std::string(auth::RoleName(user.role)).c_str(), user.workgroup.c_str(),
                FormatIso8601(user.created_at).c_str());
  }
  return kExitOk;
}

int RunUserDelete(const GlobalFlags& flags, const std::string& name) {
  std::unique_ptr<Home> home;
  Result<auth::AuthStore*> auth = OpenHomeService(flags, home, &Home::Auth);
  if (!auth.ok())
    return ReportError(auth.status());
  if (Status deleted = (*auth)->DeleteUser(name); !deleted.ok())
    return ReportError(deleted);
  std::cerr << "deleted user " << name << std::endl;
  return kExitOk;
}

Result<auth::User> UserOrAdmin(auth::AuthStore& auth, const std::string& name) {
  return auth.GetUser(name.empty() ? "admin" : name);
}

int RunTokenCreate(const GlobalFlags& flags, const std::string& user_name,
                   const std::string& token_name, int days) {
  std::unique_ptr<Home> home;
  Result<auth::AuthStore*> auth = OpenHomeService(flags, home, &Home::Auth);
  if (!auth.ok())
    return ReportError(auth.status());
  Result<auth::User> user = UserOrAdmin(**auth, user_name);
  if (!user.ok())
    return ReportError(user.status());
  std::optional<auth::Timestamp> expires;
  if (days > 0) {
    expires = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now()) +
              std::chrono::days(days);
  }
  Result<auth::NewApiToken> token = (*auth)->CreateApiToken(user->id, token_name, expires);
  if (!token.ok())
    return ReportError(token.status());
  if (flags.json) {
    PrintJson({{"id", token->id},
               {"name", token->name},
               {"user", user->name},
               {"token", token->secret},
               {"expires_at",
                expires ? nlohmann::json(FormatIso8601(*expires)) : nlohmann::json(nullptr)}});
  } else {
    std::cout << "API token " << token->id << " (" << token->name << ") for " << user->name
              << "; shown only now:\n"
              << token->secret << std::endl;
  }
  return kExitOk;
}

int RunTokenList(const GlobalFlags& flags, const std::string& user_name) {
  std::unique_ptr<Home> home;
  Result<auth::AuthStore*> auth = OpenHomeService(flags, home, &Home::Auth);
  if (!auth.ok())
    return ReportError(auth.status());
  Result<auth::User> user = UserOrAdmin(**auth, user_name);
  if (!user.ok())
    return ReportError(user.status());
  Result<std::vector<auth::ApiTokenInfo>> tokens = (*auth)->ListApiTokens(user->id);
  if (!tokens.ok())
    return ReportError(tokens.status());
  nlohmann::json list = nlohmann::json::array();
  for (const auth::ApiTokenInfo& token : *tokens) {
    list.push_back({{"id", token.id},
                    {"name", token.name},
                    {"created_at", FormatIso8601(token.created_at)},
                    {"revoked", token.revoked_at.has_value()}});
  }
  if (flags.json) {
    PrintJson(list);
  } else {
    for (const auto& token : list) {
      std::printf("%-6lld %-24s %s%s\n", static_cast<long long>(token["id"].get<int64_t>()),
                  token["name"].get<std::string>().c_str(),
                  token["created_at"].get<std::string>().c_str(),
                  token["revoked"].get<bool>() ? "  revoked" : "");
    }
  }
  return kExitOk;
}

int RunTokenRevoke(const GlobalFlags& flags, int64_t id) {
  std::unique_ptr<Home> home;
  Result<auth::AuthStore*> auth = OpenHomeService(flags, home, &Home::Auth);
  if (!auth.ok())
    return ReportError(auth.status());
  // The local command acts as the home's administrator.
  auth::User admin;
  admin.role = auth::Role::kAdmin;
  if (Status revoked = (*auth)->RevokeApiToken(admin, id); !revoked.ok())
    return ReportError(revoked);
  std::cerr << "revoked token " << id << std::endl;
  return kExitOk;
}

int RunAccessKeyCreate(const GlobalFlags& flags, const std::string& user_name) {
  std::unique_ptr<Home> home;
  Result<auth::AuthStore*> auth = OpenHomeService(flags, home, &Home::Auth);
  if (!auth.ok())
    return ReportError(auth.status());
  Result<auth::User> user = UserOrAdmin(**auth, user_name);
  if (!user.ok())
    return ReportError(user.status());
  Result<auth::NewAccessKey> key = (*auth)->CreateAccessKey(user->id);
  if (!key.ok())
    return ReportError(key.status());
  if (flags.json) {
    PrintJson({{"user", user->name},
               {"access_key_id", key->access_key_id},
               {"secret_access_key", key->secret_access_key}});
  } else {
    std::cout << "access key for " << user->name << " (the secret is shown only now):\n"
              << "  access_key_id:     " << key->access_key_id << "\n"
              << "  secret_access_key: " << key->secret_access_key << std::endl;
  }
  return kExitOk;
}

int RunAccessKeyList(const GlobalFlags& flags, const std::string& user_name) {
  std::unique_ptr<Home> home;
  Result<auth::AuthStore*> auth = OpenHomeService(flags, home, &Home::Auth);
  if (!auth.ok())
    return ReportError(auth.status());
  Result<auth::User> user = UserOrAdmin(**auth, user_name);
  if (!user.ok())
    return ReportError(user.status());
  Result<std::vector<auth::AccessKeyInfo>> keys = (*auth)->ListAccessKeys(user->id);
  if (!keys.ok())
    return ReportError(keys.status());
  nlohmann::json list = nlohmann::json::array();
  for (const auth::AccessKeyInfo& key : *keys) {
    list.push_back(
        {{"access_key_id", key.access_key_id},
         {"created_at", FormatIso8601(key.created_at)},
         {"status", key.status == auth::AccessKeyStatus::kActive ? "active" : "revoked"}});
  }
  if (flags.json) {
    PrintJson(list);
  } else {
    for (const auto& key : list) {
      std::printf("%-22s %s  %s\n", key["access_key_id"].get<std::string>().c_str(),
                  key["created_at"].get<std::string>().c_str(),
                  key["status"].get<std::string>().c_str());
    }
  }
  return kExitOk;
}

int RunAccessKeyRevoke(const GlobalFlags& flags, const std::string& id) {
  std::unique_ptr<Home> home;
  Result<auth::AuthStore*> auth = OpenHomeService(flags, home, &Home::Auth);
  if (!auth.ok())
    return ReportError(auth.status());
  auth::User admin;
  admin.role = auth::Role::kAdmin;
  if (Status revoked = (*auth)->RevokeAccessKey(admin, id); !revoked.ok())
    return ReportError(revoked);
  std::cerr << "revoked access key " << id << std::endl;
  return kExitOk;
}

}  // namespace

void AddAdminCommands(CLI::App& app, GlobalFlags& flags, int& exit_code) {
  static std::string init_dir, init_lake, init_metadata, user_name,
      user_role = "viewer", user_password, token_name, key_id, user_workgroup;
  static int token_days = 0;
  static int64_t token_id = 0;

  CLI::App* init = app.add_subcommand(
      "init", "Create a basin home: config, lake, metadata database, admin user");
  init->add_option("dir", init_dir,
                   "Folder for the new home (default: --home, BASIN_HOME, or the current folder)");
  init->add_option("--lake", init_lake,
                   "Where table data lives: a folder (relative to the home) or s3://bucket/prefix");
  init->add_option("--metadata", init_metadata,
                   "Metadata database: a SQLite file relative to the home (default metadata.db) or "
                   "postgresql://user:password@host/db, shared by several basin nodes");
  init->callback([&] { exit_code = RunInit(flags, init_dir, init_lake, init_metadata); });

  CLI::App* user = app.add_subcommand("user", "Manage users (roles: admin, editor, viewer)");
  user->require_subcommand(1);
  CLI::App* user_create = user->add_subcommand(
      "create", "Create a user; prints a generated password unless --password is given");
  user_create->add_option("name", user_name, "User name")->required();
  user_create->add_option("--role", user_role, "admin, editor or viewer")->default_val("viewer");
  user_create->add_option("--password", user_password, "Password (at least 8 characters)");
  user_create->add_option("--workgroup", user_workgroup,
                          "Workgroup whose limits the user's queries run under (default: primary)");
  user_create->callback([&] {
    exit_code = RunUserCreate(flags, user_name, user_role, user_password, user_workgroup);
  });
  user->add_subcommand("list", "List users")->callback([&] { exit_code = RunUserList(flags); });
  CLI::App* user_delete = user->add_subcommand("delete", "Delete a user and their tokens and keys");
  user_delete->add_option("name", user_name, "User name")->required();
  user_delete->callback([&] { exit_code = RunUserDelete(flags, user_name); });

  CLI::App* token = app.add_subcommand("token", "Manage API tokens (for Authorization: Bearer)");
  token->require_subcommand(1);
  CLI::App* token_create = token->add_subcommand("create", "Create an API token; prints it once");
  token_create->add_option("--user", user_name, "Owner (default: admin)");
  token_create->add_option("--name", token_name, "What the token is for")->required();
  token_create->add_option("--expires-in-days", token_days, "Expiry in days (default: never)");
  token_create->callback(
      [&] { exit_code = RunTokenCreate(flags, user_name, token_name, token_days); });
  CLI::App* token_list = token->add_subcommand("list", "List a user's API tokens");
  token_list->add_option("--user", user_name, "Owner (default: admin)");
  token_list->callback([&] { exit_code = RunTokenList(flags, user_name); });
  CLI::App* token_revoke = token->add_subcommand("revoke", "Revoke an API token");
  token_revoke->add_option("id", token_id, "Token id")->required();
  token_revoke->callback([&] { exit_code = RunTokenRevoke(flags, token_id); });

  CLI::App* key =
      app.add_subcommand("access-key", "Manage access keys for AWS-style (SigV4) clients");
  key->require_subcommand(1);
  CLI::App* key_create =
      key->add_subcommand("create", "Create an access key id and secret; prints the secret once");
  key_create->add_option("--user", user_name, "Owner (default: admin)");
  key_create->callback([&] { exit_code = RunAccessKeyCreate(flags, user_name); });
  CLI::App* key_list = key->add_subcommand("list", "List a user's access keys");
  key_list->add_option("--user", user_name, "Owner (default: admin)");
  key_list->callback([&] { exit_code = RunAccessKeyList(flags, user_name); });
  CLI::App* key_revoke = key->add_subcommand("revoke", "Revoke an access key");
  key_revoke->add_option("id", key_id, "Access key id")->required();
  key_revoke->callback([&] { exit_code = RunAccessKeyRevoke(flags, key_id); });
}

}  // namespace basin::app

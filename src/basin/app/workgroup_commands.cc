// basin workgroup create|list|show|update|delete and basin user set-workgroup: per-query
// limits and a concurrency cap for groups of users. Like the other admin commands, these
// work on the home's metadata database directly.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>

#include "basin/app/cli.h"
#include "basin/workgroup/workgroup_json.h"

namespace basin::app {
namespace {

// The flags of `create` and `update`; an update changes only the flags that were given.
struct SettingsFlags {
  std::string description, bytes_scanned_limit, run_time_limit, memory_limit, queue_timeout;
  int max_concurrent = 0;
  int max_queued = 0;
  CLI::Option* description_option = nullptr;
  CLI::Option* bytes_scanned_limit_option = nullptr;
  CLI::Option* run_time_limit_option = nullptr;
  CLI::Option* memory_limit_option = nullptr;
  CLI::Option* max_concurrent_option = nullptr;
  CLI::Option* max_queued_option = nullptr;
  CLI::Option* queue_timeout_option = nullptr;
};

bool Given(const CLI::Option* option) {
  return option != nullptr && option->count() > 0;
}

// "none" means no limit, as 0 does.
Result<int64_t> SizeFlag(const std::string& text) {
  if (text == "none")
    return 0;
  BASIN_ASSIGN_OR_RETURN(uint64_t bytes, ParseByteSize(text));
  return static_cast<int64_t>(bytes);
}

Result<std::chrono::milliseconds> DurationFlag(const std::string& text) {
  if (text == "none")
    return std::chrono::milliseconds(0);
  return ParseDuration(text);
}

// Flag values are checked while parsing, so a malformed one is a usage error (exit 2).
CLI::Validator SizeValidator() {
  return CLI::Validator(
      [](std::string& text) {
        Result<int64_t> size = SizeFlag(text);
        return size.ok() ? std::string() : size.status().message();
      },
      "SIZE");
}

CLI::Validator DurationValidator() {
  return CLI::Validator(
      [](std::string& text) {
        Result<std::chrono::milliseconds> duration = DurationFlag(text);
        return duration.ok() ? std::string() : duration.status().message();
      },
      "DURATION");
}

void AddSettingsFlags(CLI::App* command, SettingsFlags& flags) {
  flags.description_option =
      command->add_option("--description", flags.description, "What the workgroup is for");
  flags.bytes_scanned_limit_option =
      command
          ->add_option("--bytes-scanned-limit", flags.bytes_scanned_limit,
                       "Stop a query that reads more than this, e.g. 10GiB (0 or none: no limit)")
          ->check(SizeValidator());
  flags.run_time_limit_option =
      command
          ->add_option("--run-time-limit", flags.run_time_limit,
                       "Stop a query that runs longer, e.g. 5m (ms, s, m, h; 0 or none: no limit)")
          ->check(DurationValidator());
  flags.memory_limit_option =
      command
          ->add_option("--memory-limit", flags.memory_limit,
                       "Memory one query may use, e.g. 2GiB (0: the engine's engine.memory_limit)")
          ->check(SizeValidator());
  flags.max_concurrent_option = command->add_option("--max-concurrent", flags.max_concurrent,
                                                    "Queries that run at once (at least 1)");
  flags.max_queued_option = command->add_option(
      "--max-queued", flags.max_queued, "Queries that may wait for a slot; more are refused");
  flags.queue_timeout_option =
      command
          ->add_option("--queue-timeout", flags.queue_timeout,
                       "How long a query may wait for a slot, e.g. 60s (0: as long as it takes)")
          ->check(DurationValidator());
}

Result<workgroup::WorkgroupSettings> SettingsFrom(const SettingsFlags& flags) {
  workgroup::WorkgroupSettings settings;
  if (Given(flags.description_option))
    settings.description = flags.description;
  if (Given(flags.bytes_scanned_limit_option)) {
    BASIN_ASSIGN_OR_RETURN(settings.bytes_scanned_limit, SizeFlag(flags.bytes_scanned_limit));
  }
  if (Given(flags.run_time_limit_option)) {
    BASIN_ASSIGN_OR_RETURN(settings.run_time_limit, DurationFlag(flags.run_time_limit));
  }
  if (Given(flags.memory_limit_option)) {
    BASIN_ASSIGN_OR_RETURN(settings.memory_limit_bytes, SizeFlag(flags.memory_limit));
  }
  if (Given(flags.max_concurrent_option))
    settings.max_concurrent = flags.max_concurrent;
  if (Given(flags.max_queued_option))
    settings.max_queued = flags.max_queued;
  if (Given(flags.queue_timeout_option)) {
    BASIN_ASSIGN_OR_RETURN(settings.queue_timeout, DurationFlag(flags.queue_timeout));
  }
  return settings;
}

// "5m", "60s", "1500ms"; `zero` for 0.
std::string DescribeDuration(std::chrono::milliseconds duration, const char* zero) {
  int64_t ms = duration.count();
  if (ms == 0)
    return zero;
  if (ms % 3600000 == 0)
    return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0)
    return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0)
    return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string DescribeSize(int64_t bytes, const char* zero) {
  return bytes == 0 ? std::string(zero) : HumanBytes(static_cast<uint64_t>(bytes));
}

void PrintWorkgroup(const workgroup::Workgroup& workgroup,
                    const std::vector<std::string>* members) {
  std::cout << "workgroup " << workgroup.name;
  if (!workgroup.description.empty())
    std::cout << ": " << workgroup.description;
  // A limit of 0 is no limit; a set one applies to each query.
  auto per_query = [](bool set, const std::string& value, const char* unset) {
    return set ? value + " per query" : std::string(unset);
  };
  std::cout << "\n  bytes scanned limit  "
            << per_query(workgroup.bytes_scanned_limit > 0,
                         DescribeSize(workgroup.bytes_scanned_limit, ""), "none")
            << "\n  run time limit       "
            << per_query(workgroup.run_time_limit.count() > 0,
                         DescribeDuration(workgroup.run_time_limit, ""), "none")
            << "\n  memory limit         "
            << per_query(workgroup.memory_limit_bytes > 0,
                         DescribeSize(workgroup.memory_limit_bytes, ""),
                         "the engine's (engine.memory_limit)")
            << "\n  max concurrent       " << workgroup.max_concurrent << " queries"
            << "\n  max queued           " << workgroup.max_queued << " queries, waiting "
            << (workgroup.queue_timeout.count() > 0
                    ? "at most " + DescribeDuration(workgroup.queue_timeout, "")
                    : std::string("without a time limit"))
            << "\n";
  if (members != nullptr) {
    std::cout << "  users                ";
    if (members->empty())
      std::cout << "(none)";
    for (size_t i = 0; i < members->size(); ++i)
      std::cout << (i == 0 ? "" : ", ") << (*members)[i];
    std::cout << "\n";
  }
  std::cout << std::flush;
}

// create (a new workgroup) or update (the settings given; the others stay).
int RunSave(const GlobalFlags& flags, const std::string& name, const SettingsFlags& input,
            bool create) {
  Result<workgroup::WorkgroupSettings> settings = SettingsFrom(input);
  if (!settings.ok())
    return ReportError(settings.status());
  std::unique_ptr<Home> home;
  Result<workgroup::WorkgroupStore*> store = OpenHomeService(flags, home, &Home::Workgroups);
  if (!store.ok())
    return ReportError(store.status());
  Result<workgroup::Workgroup> saved =
      create ? (*store)->Create(name, *settings) : (*store)->Update(name, *settings);
  if (!saved.ok())
    return ReportError(saved.status());
  if (flags.json) {
    PrintJson(workgroup::ToJson(*saved));
    return kExitOk;
  }
  std::cout << (create ? "created " : "updated ");
  PrintWorkgroup(*saved, nullptr);
  if (create)
    std::cout << "add users with: basin user set-workgroup USER " << saved->name << std::endl;
  return kExitOk;
}

int RunList(const GlobalFlags& flags) {
  std::unique_ptr<Home> home;
  Result<workgroup::WorkgroupStore*> store = OpenHomeService(flags, home, &Home::Workgroups);
  if (!store.ok())
    return ReportError(store.status());
  Result<std::vector<workgroup::Workgroup>> workgroups = (*store)->List();
  if (!workgroups.ok())
    return ReportError(workgroups.status());
  Result<std::vector<std::pair<std::string, int64_t>>> counts = (*store)->MemberCounts();
  if (!counts.ok())
    return ReportError(counts.status());
  std::map<std::string, int64_t> users(counts->begin(), counts->end());
  if (flags.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const workgroup::Workgroup& workgroup : *workgroups) {
      nlohmann::json item = workgroup::ToJson(workgroup);
      item["users"] = users[workgroup.name];
      list.push_back(std::move(item));
    }
    PrintJson(list);
    return kExitOk;
  }
  std::printf("%-20s %10s %7s %9s %13s %9s %14s %6s\n", "NAME", "CONCURRENT", "QUEUED", "WAIT",
              "BYTES SCANNED", "RUN TIME", "MEMORY", "USERS");
  for (const workgroup::Workgroup& workgroup : *workgroups) {
    std::printf("%-20s %10d %7d %9s %13s %9s %14s %6lld\n", workgroup.name.c_str(),
                workgroup.max_concurrent, workgroup.max_queued,
                DescribeDuration(workgroup.queue_timeout, "no limit").c_str(),
                DescribeSize(workgroup.bytes_scanned_limit, "none").c_str(),
                DescribeDuration(workgroup.run_time_limit, "none").c_str(),
                DescribeSize(workgroup.memory_limit_bytes, "engine default").c_str(),
                static_cast<long long>(users[workgroup.name]));
  }
  return kExitOk;
}

int RunShow(const GlobalFlags& flags, const std::string& name) {
  std::unique_ptr<Home> home;
  Result<workgroup::WorkgroupStore*> store = OpenHomeService(flags, home, &Home::Workgroups);
  if (!store.ok())
    return ReportError(store.status());
  Result<workgroup::Workgroup> found = (*store)->Get(name);
  if (!found.ok())
    return ReportError(found.status());
  Result<std::vector<std::string>> members = (*store)->Members(name);
  if (!members.ok())
    return ReportError(members.status());
  if (flags.json) {
    nlohmann::json out = workgroup::ToJson(*found);
    out["members"] = *members;
    PrintJson(out);
  } else {
    PrintWorkgroup(*found, &*members);
  }
  return kExitOk;
}

int RunDelete(const GlobalFlags& flags, const std::string& name) {
  std::unique_ptr<Home> home;
  Result<workgroup::WorkgroupStore*> store = OpenHomeService(flags, home, &Home::Workgroups);
  if (!store.ok())
    return ReportError(store.status());
  return ReportDeleted(flags, (*store)->Delete(name), "workgroup", name);
}

int RunSetWorkgroup(const GlobalFlags& flags, const std::string& user,
                    const std::string& workgroup) {
  std::unique_ptr<Home> home;
  Result<workgroup::WorkgroupStore*> store = OpenHomeService(flags, home, &Home::Workgroups);
  if (!store.ok())
    return ReportError(store.status());
  if (Status assigned = (*store)->AssignUser(user, workgroup); !assigned.ok())
    return ReportError(assigned);
  if (flags.json) {
    PrintJson({{"user", user}, {"workgroup", workgroup}});
  } else {
    std::cout << "user " << user << " is now in workgroup " << workgroup << std::endl;
  }
  return kExitOk;
}

}  // namespace

void AddWorkgroupCommands(CLI::App& app, GlobalFlags& flags, int& exit_code) {
  static std::string name, user_name;
  static SettingsFlags create_flags, update_flags;

  CLI::App* workgroup = app.add_subcommand(
      "workgroup",
      "Workgroups: per-query limits and a cap on concurrent queries with a queue. Sizes take B, "
      "KB, MB, GB, TB "
      "(powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024); durations ms, s, m, h");
  workgroup->require_subcommand(1);
  CLI::App* create =
      workgroup->add_subcommand("create",
                                "Create a workgroup (defaults: no limits, 4 at once, "
                                "100 queued, 60s queue timeout)");
  create->add_option("name", name, "Workgroup name")->required();
  AddSettingsFlags(create, create_flags);
  create->callback([&] { exit_code = RunSave(flags, name, create_flags, /*create=*/true); });

  workgroup->add_subcommand("list", "List workgroups and their limits")->callback([&] {
    exit_code = RunList(flags);
  });

  CLI::App* show = workgroup->add_subcommand("show", "Show a workgroup and its users");
  show->add_option("name", name, "Workgroup name")->required();
  show->callback([&] { exit_code = RunShow(flags, name); });

  CLI::App* update =
      workgroup->add_subcommand("update", "Change the settings given; the others stay");
  update->add_option("name", name, "Workgroup name")->required();
  AddSettingsFlags(update, update_flags);
  update->callback([&] { exit_code = RunSave(flags, name, update_flags, /*create=*/false); });

  CLI::App* remove =
      workgroup->add_subcommand("delete", "Delete a workgroup that has no users (not 'primary')");
  remove->add_option("name", name, "Workgroup name")->required();
  remove->callback([&] { exit_code = RunDelete(flags, name); });

  // `basin user` belongs to the admin commands, registered before these.
  CLI::App* user = app.get_subcommand("user");
  CLI::App* set_workgroup = user->add_subcommand("set-workgroup", "Move a user into a workgroup");
  set_workgroup->add_option("user", user_name, "User name")->required();
  set_workgroup->add_option("workgroup", name, "Workgroup name")->required();
  set_workgroup->callback([&] { exit_code = RunSetWorkgroup(flags, user_name, name); });
}

}  // namespace basin::app

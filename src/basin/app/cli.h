#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "basin/app/home.h"
#include "basin/common/result.h"
#include "basin/common/status.h"

namespace CLI {
class App;
}

namespace basin::app {

/// Exit codes of the basin command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitInterrupted = 130;

/// Flags every command shares.
struct GlobalFlags {
  std::optional<std::string> home;
  bool json = false;
};

/// Prints "basin: <message> (hint: <hint>)" on one stderr line and returns kExitFailure.
int ReportError(const Status& status);

/// Prints a JSON document on stdout.
void PrintJson(const nlohmann::json& document);

/// Opens the basin home that the flags and environment name.
Result<std::unique_ptr<Home>> OpenHome(const GlobalFlags& flags);

/// Opens the home the flags name into `home`, then one of its services:
/// `OpenHomeService(flags, home, &Home::Auth)`. `home` keeps the service open for as
/// long as it is used; the home opens nothing else (Home opens each service on first use).
template <typename Service>
Result<Service*> OpenHomeService(const GlobalFlags& flags, std::unique_ptr<Home>& home,
                                 Result<Service*> (Home::*service)()) {
  BASIN_ASSIGN_OR_RETURN(home, OpenHome(flags));
  return ((*home).*service)();
}

/// A store over the home's metadata database (saved queries, streams, ...); `home` keeps
/// the database open for as long as the store is used.
template <typename Store>
Result<Store> OpenMetadataStore(const GlobalFlags& flags, std::unique_ptr<Home>& home) {
  BASIN_ASSIGN_OR_RETURN(metadata::Database * database,
                         OpenHomeService(flags, home, &Home::Metadata));
  return Store(*database);
}

/// The end of a `delete` command: the error, or {"deleted": name} / "deleted KIND NAME".
int ReportDeleted(const GlobalFlags& flags, const Status& deleted, std::string_view kind,
                  const std::string& name);

/// Set by SIGINT while a long command runs; long loops check it and stop cleanly.
extern std::atomic<bool> interrupted;
void InstallInterruptFlag();

/// A progress line on stderr ("\r 12.0 MiB / 100.0 MiB  12%  40.1 MiB/s"), drawn only when
/// stderr is a terminal and the work is large enough to be worth it.
class ProgressBar {
 public:
  ProgressBar(std::string label, uint64_t total_bytes);
  void Add(uint64_t bytes);
  void Finish();

 private:
  void Draw(bool final);
  std::string label_;
  uint64_t total_;
  uint64_t done_ = 0;
  bool enabled_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
};

/// "12.3 MiB".
std::string HumanBytes(uint64_t bytes);

// Command groups register their subcommands on the root app.
void AddLakeCommands(CLI::App& app, GlobalFlags& flags, int& exit_code);
void AddAdminCommands(CLI::App& app, GlobalFlags& flags, int& exit_code);
void AddServeCommand(CLI::App& app, GlobalFlags& flags, int& exit_code);
void AddCatalogCommands(CLI::App& app, GlobalFlags& flags, int& exit_code);
void AddQueryCommand(CLI::App& app, GlobalFlags& flags, int& exit_code);
void AddHistoryCommand(CLI::App& app, GlobalFlags& flags, int& exit_code);
void AddSavedQueryCommands(CLI::App& app, GlobalFlags& flags, int& exit_code);
/// Also adds `basin user set-workgroup`: call after AddAdminCommands.
void AddWorkgroupCommands(CLI::App& app, GlobalFlags& flags, int& exit_code);
void AddStreamCommands(CLI::App& app, GlobalFlags& flags, int& exit_code);
void AddSourceCommands(CLI::App& app, GlobalFlags& flags, int& exit_code);

}  // namespace basin::app

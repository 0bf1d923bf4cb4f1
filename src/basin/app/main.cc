// The basin command: one binary for the server and every command-line tool.
#include <iostream>

#include <CLI/CLI.hpp>

#include "basin/app/cli.h"
#include "basin/query/engine.h"

int main(int argc, char** argv) {
  using namespace basin::app;  // NOLINT(google-build-using-namespace): main only
  // DuckDB's C++ ABI changes between patch releases: refuse a mismatched library early.
  std::string source_id = basin::query::Engine::LoadedSourceId();
  if (source_id.rfind(basin::query::kDuckDbSourceId, 0) != 0) {
    std::cerr << "basin: libduckdb.so is " << basin::query::Engine::LoadedVersion() << " ("
              << source_id << ") but basin needs " << basin::query::kDuckDbVersion << " ("
              << basin::query::kDuckDbSourceId
              << ") (hint: reinstall basin so that the library beside the binary matches)"
              << std::endl;
    return kExitFailure;
  }

  CLI::App app{"basin: a self-hosted analytics lake in one program"};
  app.require_subcommand(1);
  // Usage errors in the same one-line shape as every other error.
  app.failure_message([](const CLI::App* root, const CLI::Error& error) {
    // CLI11 passes the root: name the deepest subcommand that was parsed.
    std::string command;
    for (const CLI::App* app = root; !app->get_subcommands().empty();) {
      app = app->get_subcommands().front();
      command += " " + app->get_name();
    }
    return "basin: " + std::string(error.what()) + " (hint: see 'basin" + command + " --help')\n";
  });
  app.set_version_flag("--version",
                       "basin 0.1.0 (DuckDB " + basin::query::Engine::LoadedVersion() + ")");
  GlobalFlags flags;
  app.add_option("--home", flags.home,
                 "The basin home (default: BASIN_HOME, or the nearest folder with basin.yaml)")
      ->envname("BASIN_HOME");
  app.add_flag("--json", flags.json, "Machine-readable output");
  int exit_code = kExitOk;
  // Global flags may come after the subcommand too ("basin ls --json"); subcommands
  // inherit this setting when they are created, so it must come first.
  app.fallthrough();
  AddAdminCommands(app, flags, exit_code);
  AddServeCommand(app, flags, exit_code);
  AddLakeCommands(app, flags, exit_code);
  AddCatalogCommands(app, flags, exit_code);
  AddQueryCommand(app, flags, exit_code);
  AddHistoryCommand(app, flags, exit_code);
  AddSavedQueryCommands(app, flags, exit_code);
  AddWorkgroupCommands(app, flags, exit_code);
  AddStreamCommands(app, flags, exit_code);
  AddSourceCommands(app, flags, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return exit_code;
}

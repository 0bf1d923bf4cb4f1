// basin serve: the HTTP server, until SIGTERM or SIGINT; requests in flight finish first.
#include <pthread.h>

#include <csignal>
#include <thread>

#include <CLI/CLI.hpp>

#include "basin/app/cli.h"
#include "basin/app/server_client.h"
#include "basin/app/write_command.h"
#include "basin/common/log.h"
#include "basin/delivery/stream_service.h"
#include "basin/server/api_server.h"
#include "basin/service/query_service.h"
#include "basin/stream/stream_store.h"
#include "basin/writer/write_statement.h"

namespace basin::app {
namespace {

Result<std::pair<std::string, int>> ParseListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument("listen address must be HOST:PORT, got '" + listen + "'");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (...) {
  }
  if (port < 0 || port > 65535)
    return Status::InvalidArgument("listen port must be 0-65535, got '" + listen + "'");
  return std::make_pair(host, port);
}

int RunServe(const GlobalFlags& flags, const std::string& listen_flag,
             const std::string& log_level_flag) {
  // Signals go to one thread that asks the server to stop; every other thread, including
  // DuckDB's workers started below, must block them, so this comes before anything else.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Result<std::unique_ptr<Home>> home = OpenHome(flags);
  if (!home.ok())
    return ReportError(home.status());
  const Config& config = (*home)->config();
  std::string level = log_level_flag.empty() ? config.log_level : log_level_flag;
  if (!log::SetLevel(level))
    return ReportError(Status::InvalidArgument("unknown log level '" + level + "'"));
  Result<std::pair<std::string, int>> address =
      ParseListen(listen_flag.empty() ? config.listen : listen_flag);
  if (!address.ok())
    return ReportError(address.status());

  Result<auth::AuthStore*> auth = (*home)->Auth();
  if (!auth.ok())
    return ReportError(auth.status());
  Result<std::shared_ptr<storage::StoreResolver>> stores = (*home)->Stores();
  if (!stores.ok())
    return ReportError(stores.status());
  // Starting the engine now checks the DuckDB library before any request arrives.
  Result<query::Engine*> engine = (*home)->Engine();
  if (!engine.ok())
    return ReportError(engine.status());
  Result<query::Engine*> internal_engine = (*home)->InternalEngine();
  if (!internal_engine.ok())
    return ReportError(internal_engine.status());
  Result<crawler::Crawler*> crawler = (*home)->Crawler();
  if (!crawler.ok())
    return ReportError(crawler.status());

  server::ServerOptions options{.host = address->first,
                                .port = address->second,
                                .max_request_bytes = config.max_request_bytes,
                                .worker_threads = config.server_threads,
                                .read_timeout = config.server_read_timeout,
                                .sync_max_rows = config.sync_result_max_rows,
                                .sync_max_bytes = config.sync_result_max_bytes};
  // An address may try four times as many names as one name may be tried (docs/configuration.md).
  options.login_throttle.max_failures = config.login_max_failures;
  options.login_throttle.max_failures_per_address = 4 * config.login_max_failures;
  options.login_throttle.window =
      std::chrono::duration_cast<std::chrono::seconds>(config.login_failure_window);
  Result<metadata::Database*> database = (*home)->Metadata();
  if (!database.ok())
    return ReportError(database.status());
  query::QueryHistory history(**database);
  query::SavedQueryStore saved_queries(**database);
  stream::StreamStore streams(**database);
  // Recovers the stream write-ahead log: undelivered records are delivered again.
  Result<std::unique_ptr<delivery::StreamService>> stream_service = delivery::StreamService::Open(
      {.wal_folder = config.home + "/streams/wal",
       .wal = {.segment_bytes = config.stream_wal_segment_bytes,
               .max_bytes = config.stream_wal_max_bytes},
       .max_buffered_bytes = config.stream_buffer_max_bytes,
       .refuse_when_failing_for = config.stream_refuse_when_failing_for,
       .delivery_workers = config.stream_delivery_workers,
       .max_record_depth = config.stream_max_record_depth},
      streams, (*crawler)->catalog(), **stores, **internal_engine);
  if (!stream_service.ok())
    return ReportError(stream_service.status());
  Result<workgroup::WorkgroupStore*> workgroups = (*home)->Workgroups();
  if (!workgroups.ok())
    return ReportError(workgroups.status());
  Result<writer::TableWriter*> table_writer = (*home)->Writer();
  if (!table_writer.ok())
    return ReportError(table_writer.status());
  Result<source::SourceStore*> sources = (*home)->Sources();
  if (!sources.ok())
    return ReportError(sources.status());
  Result<std::string> results_secret = (*home)->DerivedSecret("query-results");
  if (!results_secret.ok())
    return ReportError(results_secret.status());
  Home* home_ptr = home->get();
  service::QueryService queries({
      .engine_for =
          [home_ptr](const workgroup::Workgroup& group) { return home_ptr->EngineFor(group); },
      .history = &history,
      .workgroups = *workgroups,
      .admission = &home_ptr->Admission(),
      .write_statements = WriteStatementRunnerFor(**table_writer),
      .is_write_statement = [](const std::string& sql) { return writer::IsWriteStatement(sql); },
      .results_secret = *results_secret,
      .default_run_time_limit = config.query_default_run_time_limit,
  });
  server::ApiServer server(options, **auth, *stores, *crawler, *engine, &history, &saved_queries,
                           *workgroups, &(*home)->Admission(), &queries, &streams,
                           stream_service->get(), *sources);
  if (Status bound = server.Bind(); !bound.ok())
    return ReportError(bound);
  std::string url = "http://" + options.host + ":" + std::to_string(server.port());
  // So that `basin stream put` and friends find a server on a port the OS picked.
  if (Status written = WriteServerAddress(config.home, url); !written.ok())
    log::Warn("server_address_not_written", {{"error", written.ToString()}});
  log::Info("server_started", {{"url", url},
                               {"port", server.port()},
                               {"home", config.home},
                               {"lake", (*stores)->lake().Describe()},
                               {"duckdb", query::Engine::LoadedVersion()}});

  const std::chrono::milliseconds timeout = config.shutdown_timeout;
  std::thread signal_thread([&server, signals, timeout] {
    int signal = 0;
    sigwait(&signals, &signal);
    log::Info("server_stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    // Stopping waits for running work, which is asked to stop but may not notice (a DuckDB
    // operator that never checks for interrupts). Past the timeout the process exits anyway:
    // acknowledged records are in the write-ahead log and delivered after the next start,
    // and committed tables are already in the catalog.
    std::thread([timeout] {
      std::this_thread::sleep_for(timeout);
      log::Error("server_stop_timed_out", {{"timeout_ms", static_cast<int64_t>(timeout.count())}});
      std::_Exit(kExitFailure);
    }).detach();
    server.Stop();
  });
  Status ran = server.Run();
  // Wake the signal thread if the server stopped by itself.
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  // Graceful: the buffers are delivered now rather than after the next start, unless that
  // takes more than half the shutdown timeout (then they are, from the log).
  if (Status flushed = (*stream_service)->Stop(timeout / 2); !flushed.ok())
    log::Warn("stream_flush_failed", {{"error", flushed.ToString()}});
  RemoveServerAddress(config.home);
  log::Info("server_stopped");
  return ran.ok() ? kExitOk : ReportError(ran);
}

}  // namespace

void AddServeCommand(CLI::App& app, GlobalFlags& flags, int& exit_code) {
  static std::string listen, log_level;
  CLI::App* serve = app.add_subcommand(
      "serve", "Run the HTTP server (web UI, JSON API, AWS-compatible endpoints)");
  serve->add_option("--listen", listen,
                    "HOST:PORT to listen on (default: server.listen, 127.0.0.1:8080)");
  serve->add_option("--log-level", log_level, "debug, info, warn or error");
  serve->callback([&] { exit_code = RunServe(flags, listen, log_level); });
}

}  // namespace basin::app

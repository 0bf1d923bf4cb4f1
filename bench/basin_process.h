#pragma once

// The basin program as a benchmark drives it: CLI commands run to completion, and
// `basin serve` started on a loopback port and stopped again. Only the command line and
// the server's log line are used, so the benchmark measures what a user would.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace basin::bench {

/// This process's environment without what would point basin at another home, lake or
/// S3 account (BASIN_* but BASIN_TEST_*, AWS_*), plus `extra` ("NAME=value").
inline std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view item(*entry);
    bool basin = item.starts_with("BASIN_") && !item.starts_with("BASIN_TEST_");
    if (!basin && !item.starts_with("AWS_"))
      env.emplace_back(item);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

struct CommandOutput {
  int exit_code = -1;  // -1: did not start or ended by a signal
  std::string out;
  std::string err;
};

namespace internal {

// NULL-terminated char* arrays over strings that outlive the spawn.
inline std::vector<char*> Pointers(const std::vector<std::string>& items) {
  std::vector<char*> pointers;
  for (const std::string& item : items)
    pointers.push_back(const_cast<char*>(item.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

inline void ReadAll(int fd, std::string& into) {
  char buffer[65536];
  for (ssize_t got; (got = ::read(fd, buffer, sizeof buffer)) > 0;)
    into.append(buffer, static_cast<size_t>(got));
}

}  // namespace internal

/// Runs `args` (args[0] a path) with `env` and returns its exit code and output.
/// stderr goes to a temp file while stdout is read, so neither pipe can fill up and block.
inline CommandOutput RunCommand(const std::vector<std::string>& args,
                                const std::vector<std::string>& env) {
  CommandOutput output;
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    return output;
  FILE* err_file = std::tmpfile();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  if (err_file != nullptr)
    posix_spawn_file_actions_adddup2(&actions, fileno(err_file), 2);
  std::vector<char*> argv = internal::Pointers(args);
  std::vector<char*> envp = internal::Pointers(env);
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  if (spawned == 0) {
    internal::ReadAll(out_pipe[0], output.out);
    int status = 0;
    ::waitpid(pid, &status, 0);
    output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  } else {
    output.err = "cannot start " + args[0] + ": " + std::strerror(spawned);
  }
  ::close(out_pipe[0]);
  if (err_file != nullptr) {
    std::rewind(err_file);
    internal::ReadAll(fileno(err_file), output.err);
    std::fclose(err_file);
  }
  return output;
}

/// `basin serve` in a child process, listening on a loopback port the OS picks; its JSON
/// log goes to `log_path`. Stop() (or the destructor) sends SIGTERM and waits.
class ServerProcess {
 public:
  /// Starts the server and waits up to `timeout` for its server_started log line.
  /// Returns nullopt (with the log's tail in `error`) when it did not start.
  static std::optional<ServerProcess> Start(
      const std::string& basin, const std::string& home, const std::vector<std::string>& env,
      const std::string& log_path, std::string& error,
      std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::vector<std::string> args = {basin, "--home", home, "serve", "--listen", "127.0.0.1:0"};
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    std::vector<char*> argv = internal::Pointers(args);
    std::vector<char*> envp = internal::Pointers(env);
    pid_t pid = 0;
    int spawned = posix_spawn(&pid, basin.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
      error = "cannot start " + basin + ": " + std::strerror(spawned);
      return std::nullopt;
    }
    ServerProcess server(pid);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream log(log_path);
      for (std::string line; std::getline(log, line);) {
        if (line.find("server_started") == std::string::npos)
          continue;
        nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
        if (event.is_object() && event.value("port", 0) > 0) {
          server.port_ = event["port"].get<int>();
          return server;
        }
      }
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        server.pid_ = 0;
        error = "basin serve exited before it started:\n" + Tail(log_path);
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    error = "basin serve did not start within " + std::to_string(timeout.count()) + " s:\n" +
            Tail(log_path);
    return std::nullopt;
  }

  ServerProcess(ServerProcess&& other) noexcept : pid_(other.pid_), port_(other.port_) {
    other.pid_ = 0;
  }
  ServerProcess& operator=(ServerProcess&& other) noexcept {
    if (this != &other) {
      Stop();
      pid_ = other.pid_;
      port_ = other.port_;
      other.pid_ = 0;
    }
    return *this;
  }
  ~ServerProcess() { Stop(); }

  int port() const { return port_; }
  /// The server's process id (0 once stopped), for reading /proc/<pid>/status.
  pid_t pid() const { return pid_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// SIGTERM, then SIGKILL if it has not exited after 10 s.
  void Stop() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 1000; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
  }

 private:
  explicit ServerProcess(pid_t pid) : pid_(pid) {}

  static std::string Tail(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::string all = text.str();
    return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
  }

  pid_t pid_ = 0;
  int port_ = 0;
};

}  // namespace basin::bench

#include "basin/app/cli.h"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

namespace basin::app {

std::atomic<bool> interrupted{false};

namespace {

std::string HintFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return "check the name or path, e.g. with 'basin ls'";
    case StatusCode::kPermissionDenied:
      return "check the credentials, role or file permissions";
    case StatusCode::kUnauthenticated:
      return "check the user name, password or token";
    case StatusCode::kUnavailable:
      return "check that the endpoint is reachable, then retry";
    case StatusCode::kAlreadyExists:
      return "choose another name or remove the existing one first";
    case StatusCode::kInvalidArgument:
      return "see 'basin <command> --help'";
    case StatusCode::kFailedPrecondition:
      return "fix the precondition named above, then retry";
    case StatusCode::kCancelled:
      return "the operation was cancelled; run it again to finish";
    default:
      return "run with --log-level debug for details";
  }
}

}  // namespace

int ReportError(const Status& status) {
  std::string message = status.message();
  for (char& c : message) {
    if (c == '\n')
      c = ' ';
  }
  std::cerr << "basin: " << message << " (hint: " << HintFor(status) << ")" << std::endl;
  return status.code() == StatusCode::kCancelled ? kExitInterrupted : kExitFailure;
}

void PrintJson(const nlohmann::json& document) {
  std::cout << document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

Result<std::unique_ptr<Home>> OpenHome(const GlobalFlags& flags) {
  std::map<std::string, std::string> environment = ProcessEnvironment();
  BASIN_ASSIGN_OR_RETURN(std::string home, LocateHome(flags.home, environment));
  BASIN_ASSIGN_OR_RETURN(Config config, LoadConfig(home, environment));
  return std::make_unique<Home>(std::move(config));
}

int ReportDeleted(const GlobalFlags& flags, const Status& deleted, std::string_view kind,
                  const std::string& name) {
  if (!deleted.ok())
    return ReportError(deleted);
  if (flags.json)
    PrintJson({{"deleted", name}});
  else
    std::cout << "deleted " << kind << " " << name << std::endl;
  return kExitOk;
}

void InstallInterruptFlag() {
  struct sigaction action {};
  // The first Ctrl-C asks the work to stop; work that does not look (a library call that
  // never checks) would hold the terminal, so a second one ends the process at once.
  action.sa_handler = [](int) {
    if (interrupted.exchange(true)) {
      static const char kMessage[] = "\ninterrupted twice: exiting\n";
      (void)!write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
      _exit(130);
    }
  };
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
}

std::string HumanBytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof(text), unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

ProgressBar::ProgressBar(std::string label, uint64_t total_bytes)
    : label_(std::move(label)),
      total_(total_bytes),
      enabled_(::isatty(STDERR_FILENO) && total_bytes >= (8u << 20)) {}

void ProgressBar::Add(uint64_t bytes) {
  done_ += bytes;
  auto now = std::chrono::steady_clock::now();
  if (enabled_ && now - last_draw_ > std::chrono::milliseconds(100)) {
    last_draw_ = now;
    Draw(false);
  }
}

void ProgressBar::Finish() {
  if (enabled_)
    Draw(true);
}

void ProgressBar::Draw(bool final) {
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0;
  int percent = total_ == 0 ? 100 : static_cast<int>(done_ * 100 / total_);
  std::fprintf(stderr, "\r%s  %s / %s  %3d%%  %s/s   %s", label_.c_str(), HumanBytes(done_).c_str(),
               HumanBytes(total_).c_str(), percent, HumanBytes(static_cast<uint64_t>(rate)).c_str(),
               final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace basin::app

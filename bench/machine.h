#pragma once

// What the benchmarks print about the machine they ran on (shared by every bench program).

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace basin::bench {

/// The value after the first "key ... :" line of a /proc file ("" when none).
inline std::string FirstMatch(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key, 0) != 0)
      continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos)
      continue;
    size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

/// "2 CPUs (nproc) AMD EPYC, 23.5 GiB RAM, Linux 6.1 x86_64".
inline std::string Machine() {
  std::string model = FirstMatch("/proc/cpuinfo", "model name");
  double memory_gib =
      std::strtod(FirstMatch("/proc/meminfo", "MemTotal").c_str(), nullptr) / (1 << 20);
  utsname name{};
  uname(&name);
  char text[512];
  std::snprintf(text, sizeof text, "%ld CPUs (nproc) %s, %.1f GiB RAM, Linux %s %s",
                sysconf(_SC_NPROCESSORS_ONLN), model.empty() ? "unknown CPU" : model.c_str(),
                memory_gib, name.release, name.machine);
  return text;
}

/// The 1-minute load average: other work on the machine skews every number.
inline std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one_minute;
  in >> one_minute;
  return one_minute.empty() ? "?" : one_minute;
}

/// printf-style formatting of one number.
inline std::string Format(const char* format, double value) {
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

}  // namespace basin::bench

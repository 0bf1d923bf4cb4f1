#pragma once

// How the benchmarks that drive `basin serve` stop on an error: Fail throws, main catches,
// so that servers stop and scratch files go on the way out.

#include <cstdio>
#include <stdexcept>
#include <string>

namespace basin::bench {

struct BenchFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void Fail(const std::string& message) {
  throw BenchFailure(message);
}

/// A progress line on stderr: "<program>: <message>".
inline void NoteAs(const char* program, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", program, message.c_str());
}

}  // namespace basin::bench

#pragma once

// How the benchmarks read their command lines: "--flag VALUE" pairs and bare switches,
// --help (or -h) printing the usage, and one message shape for every mistake.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace basin::bench {

/// Walks argv[1..]: `while (flags.Next()) { if (flags.flag() == "--rows") ... }`.
/// Mistakes go to `fail` (the benchmark's Fail: it prints and exits, or throws), with
/// messages "--rows needs a value" + usage, "--rows needs a non-negative number, not 'x'",
/// "unknown flag --x" + usage.
class FlagReader {
 public:
  using FailFunction = void (*)(const std::string& message);

  FlagReader(int argc, char** argv, const char* usage, FailFunction fail)
      : argc_(argc), argv_(argv), usage_(usage), fail_(fail) {}

  /// Moves to the next flag; false after the last. --help and -h print the usage and exit.
  bool Next() {
    if (++index_ >= argc_)
      return false;
    flag_ = argv_[index_];
    if (flag_ == "--help" || flag_ == "-h") {
      std::fputs(usage_, stdout);
      std::exit(0);
    }
    return true;
  }

  const std::string& flag() const { return flag_; }

  /// The argument after the flag (and moves past it).
  std::string Value() {
    if (index_ + 1 >= argc_)
      Fail(flag_ + " needs a value\n" + usage_);
    return argv_[++index_];
  }

  /// The argument as a whole non-negative number.
  int64_t Count() { return CountOf(Value()); }

  /// The argument as a non-negative number, which may have a fraction.
  double Number() {
    std::string value = Value();
    char* end = nullptr;
    double parsed = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || parsed < 0)
      Fail(flag_ + " needs a non-negative number, not '" + value + "'");
    return parsed;
  }

  /// The argument as a comma-separated list of whole non-negative numbers ("1,3").
  template <typename T = int64_t>
  std::vector<T> Counts() {
    std::vector<T> list;
    std::stringstream items(Value());
    for (std::string item; std::getline(items, item, ',');)
      list.push_back(static_cast<T>(CountOf(item)));
    return list;
  }

  /// Fails for a flag the benchmark does not know.
  [[noreturn]] void Unknown() { Fail("unknown flag " + flag_ + "\n" + usage_); }

 private:
  [[noreturn]] void Fail(const std::string& message) {
    fail_(message);
    std::abort();  // `fail` does not return
  }

  int64_t CountOf(const std::string& value) {
    try {
      size_t used = 0;
      long long parsed = std::stoll(value, &used);
      if (used != value.size() || parsed < 0)
        throw std::invalid_argument(value);
      return parsed;
    } catch (const std::exception&) {
      Fail(flag_ + " needs a non-negative number, not '" + value + "'");
    }
  }

  const int argc_;
  char** const argv_;
  const char* const usage_;
  const FailFunction fail_;
  int index_ = 0;
  std::string flag_;
};

}  // namespace basin::bench

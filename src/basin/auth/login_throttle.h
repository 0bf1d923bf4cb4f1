#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace basin::auth {

struct LoginThrottleOptions {
  /// Failed logins of one user name from one client address, within `window`, after which
  /// that name's logins from that address are refused for `window`.
  int max_failures = 5;
  /// Failed logins from one client address, whatever the names, within `window`, after
  /// which every login from that address is refused for `window` (guessing across names).
  int max_failures_per_address = 20;
  std::chrono::seconds window{15 * 60};
  /// Entries kept per kind of count. When full, expired ones go first, then the oldest.
  size_t max_entries = 10000;
  /// The time source; the steady clock when empty.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

/// Counts failed password logins per (user name, client address) and per client address,
/// so that repeated guessing is refused before a password is checked (argon2 costs time
/// and memory). In memory: a restart forgets the counts. Bounded by max_entries.
/// Thread-safe.
class LoginThrottle {
 public:
  explicit LoginThrottle(LoginThrottleOptions options = {});
  LoginThrottle(const LoginThrottle&) = delete;
  LoginThrottle& operator=(const LoginThrottle&) = delete;

  /// Why logins are refused, and for how much longer (at least 1 s).
  struct Refusal {
    std::chrono::seconds retry_after{0};
    bool whole_address = false;  // every name from the address, not only this one
  };
  /// Whether a login of `name` from `address` is refused now.
  std::optional<Refusal> Check(std::string_view name, std::string_view address);

  /// What RecordFailure counted.
  struct Failures {
    int of_name = 0;        // of the name from the address, in its window
    int of_address = 0;     // from the address, in its window
    bool refusing = false;  // this failure reached a limit: logins are refused from now on
  };
  /// Counts a failed login of `name` from `address`.
  Failures RecordFailure(std::string_view name, std::string_view address);

  /// Forgets the failures of `name` from `address` after a successful login. The address's
  /// count stays: logging in to one's own account does not excuse guesses at others.
  void RecordSuccess(std::string_view name, std::string_view address);

  /// Entries held, of both kinds (for tests).
  size_t size() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    int failures = 0;
    Clock::time_point window_end;     // the count starts again after this
    Clock::time_point refused_until;  // logins are refused before this
  };
  using Entries = std::unordered_map<std::string, Entry>;

  Clock::time_point Now() const;
  // Counts one failure under `key`, reaching its limit at `limit` failures.
  Entry& Count(Entries& entries, const std::string& key, int limit, Clock::time_point now);
  // Makes room for one more entry: drops expired ones, or else the oldest.
  void MakeRoom(Entries& entries, Clock::time_point now) const;

  const LoginThrottleOptions options_;
  mutable std::mutex mutex_;
  Entries by_name_;     // GUARDED_BY(mutex_); keyed by address, '\n', name
  Entries by_address_;  // GUARDED_BY(mutex_)
};

}  // namespace basin::auth

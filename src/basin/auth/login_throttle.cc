#include "basin/auth/login_throttle.h"

#include <algorithm>

namespace basin::auth {
namespace {

// Longer user names cannot exist (CreateUser allows 64 characters), so counting them by
// their first 64 bytes loses nothing and bounds each key. Addresses are short anyway.
constexpr size_t kMaxKeyNameBytes = 64;
constexpr size_t kMaxKeyAddressBytes = 64;

std::string AddressKey(std::string_view address) {
  return std::string(address.substr(0, kMaxKeyAddressBytes));
}

std::string NameKey(std::string_view name, std::string_view address) {
  return AddressKey(address) + '\n' + std::string(name.substr(0, kMaxKeyNameBytes));
}

}  // namespace

LoginThrottle::LoginThrottle(LoginThrottleOptions options) : options_(std::move(options)) {}

LoginThrottle::Clock::time_point LoginThrottle::Now() const {
  return options_.clock ? options_.clock() : Clock::now();
}

std::optional<LoginThrottle::Refusal> LoginThrottle::Check(std::string_view name,
                                                           std::string_view address) {
  const Clock::time_point now = Now();
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<Refusal> refusal;
  auto consider = [&](const Entries& entries, const std::string& key, bool whole_address) {
    auto found = entries.find(key);
    if (found == entries.end() || found->second.refused_until <= now)
      return;
    // Rounded up: a client that waits Retry-After seconds is let in.
    auto left = std::chrono::ceil<std::chrono::seconds>(found->second.refused_until - now);
    if (!refusal || left > refusal->retry_after)
      refusal = Refusal{std::max(left, std::chrono::seconds(1)), whole_address};
  };
  consider(by_name_, NameKey(name, address), false);
  consider(by_address_, AddressKey(address), true);
  return refusal;
}

LoginThrottle::Failures LoginThrottle::RecordFailure(std::string_view name,
                                                     std::string_view address) {
  const Clock::time_point now = Now();
  std::lock_guard<std::mutex> lock(mutex_);
  const Entry& of_name = Count(by_name_, NameKey(name, address), options_.max_failures, now);
  const Entry& of_address =
      Count(by_address_, AddressKey(address), options_.max_failures_per_address, now);
  return Failures{of_name.failures, of_address.failures,
                  of_name.refused_until > now || of_address.refused_until > now};
}

void LoginThrottle::RecordSuccess(std::string_view name, std::string_view address) {
  std::lock_guard<std::mutex> lock(mutex_);
  by_name_.erase(NameKey(name, address));
}

size_t LoginThrottle::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return by_name_.size() + by_address_.size();
}

LoginThrottle::Entry& LoginThrottle::Count(Entries& entries, const std::string& key, int limit,
                                           Clock::time_point now) {
  auto found = entries.find(key);
  if (found == entries.end()) {
    MakeRoom(entries, now);
    found = entries.emplace(key, Entry{}).first;
  }
  Entry& entry = found->second;
  if (now >= entry.window_end && now >= entry.refused_until)
    entry = Entry{0, now + options_.window, {}};  // a new window from this failure
  ++entry.failures;
  if (entry.failures >= limit && entry.refused_until <= now)
    entry.refused_until = now + options_.window;
  return entry;
}

void LoginThrottle::MakeRoom(Entries& entries, Clock::time_point now) const {
  if (entries.size() < options_.max_entries)
    return;
  std::erase_if(entries, [now](const Entries::value_type& item) {
    return now >= item.second.window_end && now >= item.second.refused_until;
  });
  // Still full of live counts: the one that ends first goes.
  while (!entries.empty() && entries.size() >= options_.max_entries) {
    auto ends = [](const Entry& entry) {
      return std::max(entry.window_end, entry.refused_until);
    };
    entries.erase(std::min_element(entries.begin(), entries.end(),
                                   [&](const Entries::value_type& a, const Entries::value_type& b) {
                                     return ends(a.second) < ends(b.second);
                                   }));
  }
}

}  // namespace basin::auth

#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "basin/common/result.h"
#include "basin/common/status.h"

namespace basin::auth {

/// argon2id cost parameters for new password hashes. The defaults follow RFC 9106's
/// second recommendation (t=3, m=64 MiB, p=1), about 0.1-0.3 s per hash on a server
/// core; tests pass a cheap setting. Verifying reads the cost from the stored encoding,
/// so hashes made under an older cost keep working.
struct PasswordCost {
  uint32_t time_cost = 3;           // passes over memory
  uint32_t memory_kib = 64 * 1024;  // KiB of memory per hash
  uint32_t parallelism = 1;         // lanes (threads)
};

inline constexpr size_t kMinPasswordCharacters = 8;
inline constexpr size_t kMaxPasswordBytes = 1024;

/// OK when `password` is acceptable: at least 8 characters (UTF-8 code points, so
/// "비밀번호입니다만" counts 8) and at most 1024 bytes. InvalidArgument otherwise; the
/// message never contains the password.
Status ValidatePassword(std::string_view password);

/// The argon2id encoding ("$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>") of `password`
/// with a fresh random 16-byte salt and a 32-byte hash. InvalidArgument when the
/// password fails ValidatePassword or the cost is out of argon2's range. Slow by design:
/// call it without holding locks. Thread-safe.
Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost);

/// Whether `password` matches `encoded` (from HashPassword). Internal when `encoded` is
/// not a valid argon2id encoding. Thread-safe.
Result<bool> VerifyPassword(std::string_view password, const std::string& encoded);

/// Hashes and verifies passwords, at most `max_concurrent` at once: each argon2 run holds
/// its cost's memory (64 MiB by default), so unbounded parallel logins exhaust the server
/// (24 bad logins at once took it from 63 MB to 1.6 GB). Callers beyond the limit wait up
/// to `max_wait` for a slot, then get Unavailable. Thread-safe.
class PasswordHasher {
 public:
  /// REQUIRES: max_concurrent >= 1.
  PasswordHasher(PasswordCost cost, int max_concurrent, std::chrono::milliseconds max_wait);
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  /// One of the `max_concurrent` slots, held until destroyed. Move-only.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : hasher_(std::exchange(other.hasher_, nullptr)) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    friend class PasswordHasher;
    explicit Slot(PasswordHasher* hasher) : hasher_(hasher) {}
    PasswordHasher* hasher_;
  };

  /// Waits up to max_wait for a slot. Unavailable when none frees up in time. Hash and
  /// Verify take one themselves; hold one to run HashPassword or VerifyPassword directly.
  Result<Slot> Acquire();

  /// HashPassword with this hasher's cost, in a slot. Also Unavailable (see Acquire).
  Result<std::string> Hash(std::string_view password);
  /// VerifyPassword in a slot. Also Unavailable (see Acquire).
  Result<bool> Verify(std::string_view password, const std::string& encoded);

  const PasswordCost& cost() const { return cost_; }
  int max_concurrent() const { return max_concurrent_; }

 private:
  void Release();

  const PasswordCost cost_;
  const int max_concurrent_;
  const std::chrono::milliseconds max_wait_;
  std::mutex mutex_;
  std::condition_variable freed_;
  int in_use_ = 0;  // GUARDED_BY(mutex_)
};

}  // namespace basin::auth

#include "basin/auth/password.h"

#include <argon2.h>

#include <algorithm>
#include <vector>

#include "basin/common/crypto.h"

namespace basin::auth {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

size_t CountCodePoints(std::string_view text) {
  size_t count = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80)
      ++count;  // every byte except UTF-8 continuation bytes
  }
  return count;
}

}  // namespace

Status ValidatePassword(std::string_view password) {
  if (CountCodePoints(password) < kMinPasswordCharacters) {
    return Status::InvalidArgument("password is too short: it needs at least " +
                                   std::to_string(kMinPasswordCharacters) + " characters");
  }
  if (password.size() > kMaxPasswordBytes) {
    return Status::InvalidArgument("password is too long: at most " +
                                   std::to_string(kMaxPasswordBytes) + " bytes");
  }
  return Status::OK();
}

Result<std::string> HashPassword(std::string_view password, const PasswordCost& cost) {
  BASIN_RETURN_IF_ERROR(ValidatePassword(password));
  const std::string salt = RandomBytes(kSaltBytes);
  std::vector<char> encoded(argon2_encodedlen(cost.time_cost, cost.memory_kib, cost.parallelism,
                                              kSaltBytes, kHashBytes, Argon2_id) +
                            1);
  const int code = argon2id_hash_encoded(cost.time_cost, cost.memory_kib, cost.parallelism,
                                         password.data(), password.size(), salt.data(), salt.size(),
                                         kHashBytes, encoded.data(), encoded.size());
  if (code == ARGON2_MEMORY_ALLOCATION_ERROR) {
    return Status::ResourceExhausted("password hashing failed: " +
                                     std::string(argon2_error_message(code)));
  }
  if (code != ARGON2_OK) {
    return Status::InvalidArgument(
        "password hashing failed: " + std::string(argon2_error_message(code)) +
        " (t=" + std::to_string(cost.time_cost) + ", m=" + std::to_string(cost.memory_kib) +
        " KiB, p=" + std::to_string(cost.parallelism) + ")");
  }
  return std::string(encoded.data());
}

Result<bool> VerifyPassword(std::string_view password, const std::string& encoded) {
  const int code = argon2id_verify(encoded.c_str(), password.data(), password.size());
  if (code == ARGON2_OK)
    return true;
  if (code == ARGON2_VERIFY_MISMATCH)
    return false;
  if (code == ARGON2_MEMORY_ALLOCATION_ERROR) {
    return Status::ResourceExhausted("password verification failed: " +
                                     std::string(argon2_error_message(code)));
  }
  return Status::Internal("password verification failed: stored hash is not usable: " +
                          std::string(argon2_error_message(code)));
}

PasswordHasher::PasswordHasher(PasswordCost cost, int max_concurrent,
                               std::chrono::milliseconds max_wait)
    : cost_(cost), max_concurrent_(std::max(max_concurrent, 1)), max_wait_(max_wait) {}

PasswordHasher::Slot::~Slot() {
  if (hasher_ != nullptr)
    hasher_->Release();
}

Result<PasswordHasher::Slot> PasswordHasher::Acquire() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!freed_.wait_for(lock, max_wait_, [this] { return in_use_ < max_concurrent_; })) {
    return Status::Unavailable("password checks are busy (" + std::to_string(max_concurrent_) +
                               " at once, none free after " + std::to_string(max_wait_.count()) +
                               " ms); retry shortly");
  }
  ++in_use_;
  return Slot(this);
}

void PasswordHasher::Release() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --in_use_;
  }
  freed_.notify_one();
}

Result<std::string> PasswordHasher::Hash(std::string_view password) {
  BASIN_RETURN_IF_ERROR(ValidatePassword(password));  // before waiting for a slot
  BASIN_ASSIGN_OR_RETURN(Slot slot, Acquire());
  return HashPassword(password, cost_);
}

Result<bool> PasswordHasher::Verify(std::string_view password, const std::string& encoded) {
  BASIN_ASSIGN_OR_RETURN(Slot slot, Acquire());
  return VerifyPassword(password, encoded);
}

}  // namespace basin::auth

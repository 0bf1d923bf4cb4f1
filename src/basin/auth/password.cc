#include "basin/auth/password.h"

#include <argon2.h>

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

}  // namespace basin::auth

#pragma once

#include <string>
#include <string_view>

namespace basin {

/// Lower-case hex of `bytes`.
std::string HexEncode(std::string_view bytes);

/// Raw 32-byte SHA-256 digest of `data`.
std::string Sha256(std::string_view data);

/// Lower-case hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);

/// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);

/// `count` bytes from the operating system's CSPRNG (OpenSSL RAND_bytes). Aborts if the
/// generator fails: no caller could continue safely without randomness.
std::string RandomBytes(size_t count);

/// A random string of `length` characters from [A-Za-z0-9], for tokens and secrets.
std::string RandomAlphanumeric(size_t length);

/// Compares in time that depends only on the lengths, for secrets and signatures.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace basin

#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "basin/common/result.h"

/// The master key of a basin home: 32 random bytes in a 0600 file that encrypt the
/// secrets basin must be able to read back (access-key secrets, which SigV4 needs in
/// the clear to verify a signature). Losing the file makes those secrets unreadable;
/// leaking it together with the metadata database reveals them.
namespace basin::auth {

inline constexpr size_t kMasterKeyBytes = 32;

/// Reads the master key from `path`, creating it first (32 bytes from the CSPRNG, mode
/// 0600, written to a temporary file and linked into place, so neither a crash nor a
/// concurrent creator leaves a partial key) when there is none. FailedPrecondition when
/// the file does not hold exactly 32 bytes, is not a regular file, or is accessible to
/// group or others; IOError when it cannot be read or created.
Result<std::string> LoadOrCreateMasterKey(const std::string& path);

/// Encrypts `plaintext` with AES-256-GCM under `master_key` and a random 96-bit nonce,
/// authenticating `associated_data` too (it must be given again to open). Returns
/// printable text: "v1:" + hex(nonce || ciphertext || tag). InvalidArgument when the
/// key is not 32 bytes. Thread-safe.
Result<std::string> SealSecret(std::string_view master_key, std::string_view plaintext,
                               std::string_view associated_data);

/// The plaintext of a SealSecret result. FailedPrecondition when authentication fails
/// (another master key, other associated data, or altered text); InvalidArgument when
/// the key is not 32 bytes or `sealed` is not in the sealed format. Thread-safe.
Result<std::string> OpenSealedSecret(std::string_view master_key, std::string_view sealed,
                                     std::string_view associated_data);

}  // namespace basin::auth

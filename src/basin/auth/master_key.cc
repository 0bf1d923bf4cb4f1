#include "basin/auth/master_key.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "basin/common/crypto.h"

namespace basin::auth {
namespace {

constexpr std::string_view kSealedPrefix = "v1:";
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

Status ErrnoStatus(std::string_view what, const std::string& path) {
  return Status::IOError(std::string(what) + ": " + std::strerror(errno) + ": " + path);
}

// Closes a file descriptor on every path out of a function.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Result<std::string> ReadMasterKey(const std::string& path, int raw_fd) {
  FileDescriptor fd(raw_fd);
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0)
    return ErrnoStatus("master key file stat failed", path);
  if (!S_ISREG(info.st_mode)) {
    return Status::FailedPrecondition("master key file is not a regular file: " + path);
  }
  if ((info.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return Status::FailedPrecondition("master key file is accessible to group or others (mode " +
                                      std::string(mode) + "); chmod 600 " + path);
  }
  if (static_cast<size_t>(info.st_size) != kMasterKeyBytes) {
    return Status::FailedPrecondition("master key file has " + std::to_string(info.st_size) +
                                      " bytes, expected " + std::to_string(kMasterKeyBytes) + ": " +
                                      path);
  }
  std::string key(kMasterKeyBytes, '\0');
  size_t done = 0;
  while (done < key.size()) {
    const ssize_t n = ::read(fd.get(), key.data() + done, key.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return ErrnoStatus("master key file read failed", path);
    if (n == 0)
      return Status::IOError("master key file shrank while being read: " + path);
    done += static_cast<size_t>(n);
  }
  return key;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return ErrnoStatus("master key file write failed", path);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

// Writes a new key beside `path` and links it into place. link() fails when `path`
// exists, so a concurrent creator wins cleanly and is never overwritten.
Status CreateMasterKey(const std::string& path) {
  std::string temporary = path + ".tmp-XXXXXX";
  const int raw_fd = ::mkstemp(temporary.data());  // mode 0600
  if (raw_fd < 0)
    return ErrnoStatus("master key file create failed", path);
  Status status = [&]() -> Status {
    FileDescriptor fd(raw_fd);
    if (::fchmod(fd.get(), 0600) != 0)
      return ErrnoStatus("master key file chmod failed", path);
    BASIN_RETURN_IF_ERROR(WriteAll(fd.get(), RandomBytes(kMasterKeyBytes), path));
    if (::fsync(fd.get()) != 0)
      return ErrnoStatus("master key file fsync failed", path);
    if (::link(temporary.c_str(), path.c_str()) != 0 && errno != EEXIST) {
      return ErrnoStatus("master key file create failed", path);
    }
    return Status::OK();
  }();
  ::unlink(temporary.c_str());
  BASIN_RETURN_IF_ERROR(status);
  const std::string directory = std::filesystem::path(path).parent_path().string();
  FileDescriptor dir(::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_CLOEXEC));
  if (dir.get() < 0 || ::fsync(dir.get()) != 0) {
    return ErrnoStatus("master key directory fsync failed", path);
  }
  return Status::OK();
}

Result<std::string> HexDecode(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2 != 0)
    return Status::InvalidArgument("sealed secret: odd hex length");
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    const int high = nibble(hex[2 * i]);
    const int low = nibble(hex[2 * i + 1]);
    if (high < 0 || low < 0)
      return Status::InvalidArgument("sealed secret: not lower-case hex");
    out[i] = static_cast<char>(high << 4 | low);
  }
  return out;
}

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter>;

const unsigned char* Bytes(std::string_view data) {
  return reinterpret_cast<const unsigned char*>(data.data());
}
unsigned char* Bytes(std::string& data) {
  return reinterpret_cast<unsigned char*>(data.data());
}

Status CheckKey(std::string_view master_key) {
  if (master_key.size() != kMasterKeyBytes) {
    return Status::InvalidArgument("master key has " + std::to_string(master_key.size()) +
                                   " bytes, expected " + std::to_string(kMasterKeyBytes));
  }
  return Status::OK();
}

}  // namespace

Result<std::string> LoadOrCreateMasterKey(const std::string& path) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
      return ReadMasterKey(path, fd);
    if (errno != ENOENT)
      return ErrnoStatus("master key file open failed", path);
    BASIN_RETURN_IF_ERROR(CreateMasterKey(path));
  }
  return Status::IOError("master key file vanished after it was created: " + path);
}

Result<std::string> SealSecret(std::string_view master_key, std::string_view plaintext,
                               std::string_view associated_data) {
  BASIN_RETURN_IF_ERROR(CheckKey(master_key));
  const std::string nonce = RandomBytes(kNonceBytes);
  std::string ciphertext(plaintext.size(), '\0');
  std::string tag(kTagBytes, '\0');
  CipherContext context(EVP_CIPHER_CTX_new());
  int length = 0;
  int final_length = 0;
  const bool ok =
      context != nullptr &&
      EVP_EncryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
      EVP_EncryptInit_ex(context.get(), nullptr, nullptr, Bytes(master_key), Bytes(nonce)) == 1 &&
      EVP_EncryptUpdate(context.get(), nullptr, &length, Bytes(associated_data),
                        static_cast<int>(associated_data.size())) == 1 &&
      EVP_EncryptUpdate(context.get(), Bytes(ciphertext), &length, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) == 1 &&
      EVP_EncryptFinal_ex(context.get(), Bytes(ciphertext) + length, &final_length) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, Bytes(tag)) == 1;
  if (!ok)
    return Status::Internal("sealing a secret failed in OpenSSL (AES-256-GCM)");
  return std::string(kSealedPrefix) + HexEncode(nonce + ciphertext + tag);
}

Result<std::string> OpenSealedSecret(std::string_view master_key, std::string_view sealed,
                                     std::string_view associated_data) {
  BASIN_RETURN_IF_ERROR(CheckKey(master_key));
  if (!sealed.starts_with(kSealedPrefix)) {
    return Status::InvalidArgument("sealed secret: unknown format (expected v1:)");
  }
  BASIN_ASSIGN_OR_RETURN(std::string bytes, HexDecode(sealed.substr(kSealedPrefix.size())));
  if (bytes.size() < kNonceBytes + kTagBytes) {
    return Status::InvalidArgument("sealed secret: too short");
  }
  const std::string_view all(bytes);
  const std::string_view nonce = all.substr(0, kNonceBytes);
  const std::string_view ciphertext =
      all.substr(kNonceBytes, bytes.size() - kNonceBytes - kTagBytes);
  std::string tag(all.substr(bytes.size() - kTagBytes));
  std::string plaintext(ciphertext.size(), '\0');
  CipherContext context(EVP_CIPHER_CTX_new());
  int length = 0;
  int final_length = 0;
  const bool ready =
      context != nullptr &&
      EVP_DecryptInit_ex(context.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) == 1 &&
      EVP_DecryptInit_ex(context.get(), nullptr, nullptr, Bytes(master_key), Bytes(nonce)) == 1 &&
      EVP_DecryptUpdate(context.get(), nullptr, &length, Bytes(associated_data),
                        static_cast<int>(associated_data.size())) == 1 &&
      EVP_DecryptUpdate(context.get(), Bytes(plaintext), &length, Bytes(ciphertext),
                        static_cast<int>(ciphertext.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(context.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, Bytes(tag)) == 1;
  if (!ready)
    return Status::Internal("opening a sealed secret failed in OpenSSL (AES-256-GCM)");
  if (EVP_DecryptFinal_ex(context.get(), Bytes(plaintext) + length, &final_length) != 1) {
    return Status::FailedPrecondition(
        "sealed secret does not authenticate: wrong master key or altered data");
  }
  return plaintext;
}

}  // namespace basin::auth

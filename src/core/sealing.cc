// sealing.cc: AES-256-GCM via OpenSSL EVP.
#include "core/sealing.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "core/crypto.h"

namespace keyward::core {
namespace {

constexpr unsigned char kVersion = 0x01;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

}  // namespace

struct Sealer::Keyed {
  CtxPtr encrypt, decrypt;  // initialised with the key, no nonce; only copied from
};

namespace {

// Fetched once: EVP_aes_256_gcm() makes every init look the cipher up in the
// provider again.
const EVP_CIPHER* Aes256Gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

// A context for one operation, copied from `keyed` (the key already
// expanded), its nonce set.
CtxPtr Prepared(const EVP_CIPHER_CTX* keyed, const unsigned char* nonce, bool encrypt) {
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || !keyed || EVP_CIPHER_CTX_copy(ctx.get(), keyed) != 1) return nullptr;
  const int ok = encrypt ? EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, nonce)
                         : EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, nullptr, nonce);
  return ok == 1 ? std::move(ctx) : nullptr;
}

constexpr std::string_view kFingerprintLabel = "keyward seal key fingerprint v1";

// Creates `path` exclusively with mode 0600 and writes `text`, fsync'd.
Status WritePrivateFile(const std::string& path, const std::string& text) {
  int out = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (out < 0) return UnavailableError("cannot create " + path + ": " + std::strerror(errno));
  bool ok = write(out, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(out) == 0;
  close(out);
  if (!ok) return UnavailableError("cannot write " + path);
  return OkStatus();
}

}  // namespace

Sealer::Sealer(const std::array<unsigned char, kSealKeyBytes>& key) : key_(key) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(kFingerprintLabel.data()), kFingerprintLabel.size(), mac, &n);
  fingerprint_ = core::HexEncode(mac, 8);
  auto keyed = std::make_shared<Keyed>();
  keyed->encrypt.reset(EVP_CIPHER_CTX_new());
  keyed->decrypt.reset(EVP_CIPHER_CTX_new());
  if (Aes256Gcm() && keyed->encrypt && keyed->decrypt &&
      EVP_EncryptInit_ex(keyed->encrypt.get(), Aes256Gcm(), nullptr, key_.data(), nullptr) == 1 &&
      EVP_DecryptInit_ex(keyed->decrypt.get(), Aes256Gcm(), nullptr, key_.data(), nullptr) == 1) {
    keyed_ = std::move(keyed);  // else Seal() and Open() fail
  }
}

StatusOr<Sealer> Sealer::Generate() {
  std::array<unsigned char, kSealKeyBytes> key{};
  KW_RETURN_IF_ERROR(core::RandomBytes(key.data(), key.size()));
  Sealer s(key);
  OPENSSL_cleanse(key.data(), key.size());
  return s;
}

std::string Sealer::KeyHex() const { return core::HexEncode(key_.data(), key_.size()); }

Status Sealer::WriteKeyFile(const std::string& path) const {
  std::string hex = KeyHex() + "\n";
  Status st = WritePrivateFile(path, hex);
  OPENSSL_cleanse(hex.data(), hex.size());
  return st;
}

StatusOr<Sealer> Sealer::FromHex(std::string_view hex) {
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == '\r' || hex.back() == ' ')) {
    hex.remove_suffix(1);
  }
  if (hex.size() != 2 * kSealKeyBytes) {
    return InvalidArgumentError("seal key must be 64 hex characters (32 bytes)");
  }
  std::array<unsigned char, kSealKeyBytes> key{};
  for (std::size_t i = 0; i < kSealKeyBytes; ++i) {
    int hi = core::HexDigitValue(hex[2 * i]), lo = core::HexDigitValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return InvalidArgumentError("seal key must be 64 hex characters (32 bytes)");
    key[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return Sealer(key);
}

StatusOr<Sealer> Sealer::FromKeyFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {
    KW_ASSIGN_OR_RETURN(Sealer fresh, Generate());
    // If another process created it first, this write fails and theirs is read.
    Status written = fresh.WriteKeyFile(path);
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && !written.ok()) return written;
  }
  if (fd < 0) return UnavailableError("cannot read seal key file " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    close(fd);
    return FailedPreconditionError("seal key file " + path + " must not be readable by group or others (chmod 600)");
  }
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n <= 0) return UnavailableError("cannot read seal key file " + path);
  StatusOr<Sealer> s = FromHex(std::string_view(buf, static_cast<std::size_t>(n)));
  OPENSSL_cleanse(buf, sizeof buf);
  return s;
}

StatusOr<std::string> Sealer::Seal(std::string_view plaintext, std::string_view context) const {
  std::string out(1 + kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  p[0] = kVersion;
  // A nonce must never repeat, not stay secret: the pooled draw (it is
  // sealed into every queue entry, on the enqueue path).
  KW_RETURN_IF_ERROR(core::PooledRandomBytes(p + 1, kNonceBytes));
  CtxPtr ctx = Prepared(keyed_ ? keyed_->encrypt.get() : nullptr, p + 1, true);
  int len = 0;
  if (!ctx ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(context.data()),
                        static_cast<int>(context.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), p + 1 + kNonceBytes, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), p + 1 + kNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          p + 1 + kNonceBytes + plaintext.size()) != 1) {
    return InternalError("AES-256-GCM encryption failed");
  }
  return out;
}

StatusOr<std::string> Sealer::Open(std::string_view sealed, std::string_view context) const {
  Status bad = PermissionDeniedError("sealed credential does not open (tampered, wrong key or wrong entry)");
  if (sealed.size() < 1 + kNonceBytes + kTagBytes || static_cast<unsigned char>(sealed[0]) != kVersion) {
    return bad;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(sealed.data());
  const std::size_t n = sealed.size() - 1 - kNonceBytes - kTagBytes;
  std::string out(n, '\0');
  CtxPtr ctx = Prepared(keyed_ ? keyed_->decrypt.get() : nullptr, p + 1, false);
  int len = 0;
  unsigned char tag[kTagBytes];
  std::memcpy(tag, p + 1 + kNonceBytes + n, kTagBytes);
  if (!ctx ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(context.data()),
                        static_cast<int>(context.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        p + 1 + kNonceBytes, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return bad;
  }
  return out;
}

}  // namespace keyward::core

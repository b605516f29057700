// crypto.cc: SHA-256, CSPRNG and constant-time compare via OpenSSL 3.
//
// SHA-256 uses OpenSSL's low-level SHA256_* functions: deprecated in 3.0 in
// favour of EVP, but still shipped and, for a 44-byte key, about twice as
// fast (measured ~75 ns vs ~140 ns with a reused EVP context), because they
// skip the provider dispatch. This is the one place that needs it.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "core/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <pthread.h>

#include <atomic>
#include <climits>
#include <cstring>
#include <memory>
#include <cstdlib>

namespace keyward::core {
Sha256Digest Sha256(std::string_view data) {
  Sha256Digest out{};
  SHA256_CTX ctx;
  if (SHA256_Init(&ctx) != 1 || SHA256_Update(&ctx, data.data(), data.size()) != 1 ||
      SHA256_Final(out.data(), &ctx) != 1) {
    // SHA-256 cannot fail short of a broken OpenSSL.
    std::abort();
  }
  return out;
}

Sha256Digest HmacSha256(std::string_view key, std::string_view data) {
  // One fetched HMAC and one context per thread, re-keyed per call: the
  // one-shot HMAC() fetches the algorithm on every call (measured on a
  // 260-byte signature base: 1.23 µs one-shot, 0.86 µs this way).
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  struct CtxFree {
    void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
  };
  thread_local std::unique_ptr<EVP_MAC_CTX, CtxFree> ctx(mac ? EVP_MAC_CTX_new(mac) : nullptr);
  char digest_name[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest_name, 0), OSSL_PARAM_construct_end()};
  Sha256Digest out{};
  std::size_t len = 0;
  if (!ctx ||
      EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1 || len != out.size()) {
    std::abort();  // cannot fail short of a broken OpenSSL
  }
  return out;
}

Sha256Digest HkdfSha256(std::string_view ikm, std::string_view salt, std::string_view info) {
  Sha256Digest out{};
  std::size_t len = out.size();
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  auto u = [](std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  bool ok = ctx && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()) == 1 &&
            // An empty salt is HKDF's default (zeros); OpenSSL refuses a zero-length one.
            (salt.empty() || EVP_PKEY_CTX_set1_hkdf_salt(ctx, u(salt), static_cast<int>(salt.size())) == 1) &&
            EVP_PKEY_CTX_set1_hkdf_key(ctx, u(ikm), static_cast<int>(ikm.size())) == 1 &&
            EVP_PKEY_CTX_add1_hkdf_info(ctx, u(info), static_cast<int>(info.size())) == 1 &&
            EVP_PKEY_derive(ctx, out.data(), &len) == 1 && len == out.size();
  EVP_PKEY_CTX_free(ctx);
  if (!ok) std::abort();  // cannot fail short of a broken OpenSSL
  return out;
}

Status RandomBytes(unsigned char* out, std::size_t n) {
  while (n > 0) {
    int chunk = n > INT_MAX ? INT_MAX : static_cast<int>(n);
    if (RAND_bytes(out, chunk) != 1) return InternalError("the system CSPRNG failed");
    out += chunk;
    n -= static_cast<std::size_t>(chunk);
  }
  return OkStatus();
}

namespace {

// Bumped in a forked child, so that no buffer filled before the fork is
// used again there (parent and child would make the same identifiers).
std::atomic<unsigned> fork_generation{0};

struct RandomPool {
  unsigned char bytes[4096];
  std::size_t used = sizeof bytes;  // empty
  unsigned generation = 0;
  ~RandomPool() { OPENSSL_cleanse(bytes, sizeof bytes); }
};

}  // namespace

Status PooledRandomBytes(unsigned char* out, std::size_t n) {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });
    return true;
  }();
  (void)registered;
  thread_local RandomPool pool;
  if (n > sizeof pool.bytes) return RandomBytes(out, n);
  const unsigned generation = fork_generation.load(std::memory_order_relaxed);
  if (pool.generation != generation || sizeof pool.bytes - pool.used < n) {
    KW_RETURN_IF_ERROR(RandomBytes(pool.bytes, sizeof pool.bytes));
    pool.used = 0;
    pool.generation = generation;
  }
  std::memcpy(out, pool.bytes + pool.used, n);
  OPENSSL_cleanse(pool.bytes + pool.used, n);  // each byte is handed out once
  pool.used += n;
  return OkStatus();
}

bool ConstantTimeEqual(const void* a, const void* b, std::size_t n) {
  return CRYPTO_memcmp(a, b, n) == 0;
}

std::string HexEncode(const unsigned char* data, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0xf];
  }
  return out;
}

}  // namespace keyward::core

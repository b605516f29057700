// Tests for AES-256-GCM sealing of queued credentials (src/core/sealing.h).
#include "core/sealing.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <optional>
#include <thread>
#include <vector>

#include "support/temp_dir.h"

namespace keyward::core {
namespace {

const std::string kHex(64, 'a');

TEST(Sealer, RoundTripsAndHidesThePlaintext) {
  Sealer s = *Sealer::FromHex(kHex);
  std::string secret = "kw_live_XgmlOiWmUjE9rDTUtm5KoKS2fwl64w3gytD9";
  StatusOr<std::string> sealed = s.Seal(secret, "qen_1");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find(secret), std::string::npos);
  EXPECT_EQ(sealed->find("kw_live_"), std::string::npos);
  EXPECT_EQ(*s.Open(*sealed, "qen_1"), secret);
  // A fresh nonce each time.
  EXPECT_NE(*s.Seal(secret, "qen_1"), *sealed);
}

TEST(Sealer, TamperingWrongKeyAndWrongContextAreRefused) {
  Sealer s = *Sealer::FromHex(kHex);
  std::string sealed = *s.Seal("secret", "qen_1");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    std::string t = sealed;
    t[i] ^= 0x01;
    EXPECT_EQ(s.Open(t, "qen_1").status().code(), StatusCode::kPermissionDenied) << i;
  }
  EXPECT_FALSE(s.Open(sealed, "qen_2").ok());
  EXPECT_FALSE(Sealer::FromHex(std::string(64, 'b'))->Open(sealed, "qen_1").ok());
  EXPECT_FALSE(s.Open(sealed.substr(0, 10), "qen_1").ok());
  EXPECT_FALSE(s.Open("", "qen_1").ok());
}

// The sealed form, pinned with OpenSSL's one-shot AES-256-GCM rather than
// the sealer's own code: values sealed by earlier builds must still open.
std::string GcmByHand(bool encrypt, const std::string& key, const std::string& nonce,
                      const std::string& aad, const std::string& in, std::string& tag) {
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  std::string out(in.size(), '\0');
  int len = 0;
  auto u = [](const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); };
  EXPECT_EQ(EVP_CipherInit_ex(c, EVP_aes_256_gcm(), nullptr, u(key), u(nonce), encrypt ? 1 : 0), 1);
  EXPECT_EQ(EVP_CipherUpdate(c, nullptr, &len, u(aad), static_cast<int>(aad.size())), 1);
  EXPECT_EQ(EVP_CipherUpdate(c, reinterpret_cast<unsigned char*>(out.data()), &len, u(in),
                             static_cast<int>(in.size())), 1);
  if (!encrypt) {
    EXPECT_EQ(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag.data()), 1);
  }
  EXPECT_EQ(EVP_CipherFinal_ex(c, reinterpret_cast<unsigned char*>(out.data()) + len, &len), 1);
  if (encrypt) {
    tag.assign(16, '\0');
    EXPECT_EQ(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag.data()), 1);
  }
  EVP_CIPHER_CTX_free(c);
  return out;
}

TEST(Sealer, TheSealedFormIsVersionNonceCiphertextTag) {
  Sealer s = *Sealer::FromHex(kHex);
  const std::string key(32, '\xaa'), secret = "kw_live_XgmlOiWmUjE9rDTUtm5KoKS2fwl64w3gytD9";
  // Sealed by hand: opens with the sealer.
  const std::string nonce = "0123456789ab";
  std::string tag;
  std::string ct = GcmByHand(true, key, nonce, "qen_7", secret, tag);
  EXPECT_EQ(*s.Open(std::string(1, '\x01') + nonce + ct + tag, "qen_7"), secret);
  // Sealed by the sealer (twice: the second copies the same prepared key):
  // opens by hand.
  for (int i = 0; i < 2; ++i) {
    std::string sealed = *s.Seal(secret, "qen_8");
    ASSERT_EQ(sealed.size(), 1 + 12 + secret.size() + 16);
    EXPECT_EQ(sealed[0], '\x01');
    tag = sealed.substr(sealed.size() - 16);
    EXPECT_EQ(GcmByHand(false, key, sealed.substr(1, 12), "qen_8", sealed.substr(13, secret.size()), tag),
              secret);
  }
}

// Copies share the prepared key; every thread seals and opens at once.
TEST(Sealer, CopiesAndThreadsShareOneKey) {
  std::optional<Sealer> original = *Sealer::FromHex(kHex);
  Sealer copy = *original;
  const std::string early = *original->Seal("before", "qen_0");
  original.reset();  // the copy outlives it
  EXPECT_EQ(*copy.Open(early, "qen_0"), "before");
  Sealer moved_from = copy;
  Sealer moved = std::move(moved_from);
  EXPECT_EQ(*moved.Open(early, "qen_0"), "before");
  EXPECT_EQ(*moved_from.Open(early, "qen_0"), "before");  // NOLINT(bugprone-use-after-move): no move
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&copy, &failures, t] {
      for (int i = 0; i < 500; ++i) {
        const std::string plain = "secret-" + std::to_string(t) + "-" + std::to_string(i);
        const std::string context = "qen_" + std::to_string(i);
        StatusOr<std::string> sealed = copy.Seal(plain, context);
        StatusOr<std::string> opened = sealed.ok() ? copy.Open(*sealed, context) : sealed.status();
        if (!opened.ok() || *opened != plain) ++failures[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(Sealer, KeyMustBe64Hex) {
  EXPECT_FALSE(Sealer::FromHex("").ok());
  EXPECT_FALSE(Sealer::FromHex(std::string(63, 'a')).ok());
  EXPECT_FALSE(Sealer::FromHex(std::string(64, 'g')).ok());
  EXPECT_TRUE(Sealer::FromHex(kHex + "\n").ok());
}

TEST(Sealer, KeyFileIsCreatedPrivateAndReused) {
  testing::TempDir dir;
  std::string path = dir.File("seal.key");
  StatusOr<Sealer> first = Sealer::FromKeyFile(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::string sealed = *first->Seal("x", "c");
  EXPECT_EQ(*Sealer::FromKeyFile(path)->Open(sealed, "c"), "x");
  chmod(path.c_str(), 0644);
  EXPECT_EQ(Sealer::FromKeyFile(path).status().code(), StatusCode::kFailedPrecondition);
}

TEST(Sealer, AFingerprintNamesTheKeyWithoutRevealingIt) {
  Sealer a = *Sealer::FromHex(kHex);
  EXPECT_EQ(a.fingerprint().size(), 16u);
  EXPECT_EQ(a.fingerprint(), Sealer::FromHex(kHex)->fingerprint());
  EXPECT_NE(a.fingerprint(), Sealer::FromHex(std::string(64, 'b'))->fingerprint());
  EXPECT_EQ(kHex.find(a.fingerprint()), std::string::npos);
  Sealer g1 = *Sealer::Generate(), g2 = *Sealer::Generate();
  EXPECT_NE(g1.fingerprint(), g2.fingerprint());
  EXPECT_EQ(Sealer::FromHex(g1.KeyHex())->fingerprint(), g1.fingerprint());
}

TEST(Sealer, ANewKeyFileIsPrivateAndNeverOverwritten) {
  testing::TempDir dir;
  std::string path = dir.File("k");
  Sealer g = *Sealer::Generate();
  ASSERT_TRUE(g.WriteKeyFile(path).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Sealer::FromKeyFile(path)->fingerprint(), g.fingerprint());
  EXPECT_FALSE(Sealer::Generate()->WriteKeyFile(path).ok());
  EXPECT_EQ(Sealer::FromKeyFile(path)->fingerprint(), g.fingerprint());
}

}  // namespace
}  // namespace keyward::core

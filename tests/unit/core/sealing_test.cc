// Tests for AES-256-GCM sealing of queued credentials (src/core/sealing.h).
#include "core/sealing.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

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

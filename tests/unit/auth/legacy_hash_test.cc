// Tests for the hashes imported from djangorestframework-api-key
// (src/auth/legacy_hash.h). The expected values were computed with Python's
// hashlib, which Django's own hashers use: pbkdf2_hmac('sha256', key, salt,
// iterations, 32) in base64, and sha512(key).hexdigest().
#include "auth/legacy_hash.h"

#include <gtest/gtest.h>

namespace keyward::auth {
namespace {

constexpr const char* kKey = "Ab12Cd34.s3cr3tKeyMaterial0123456789abcd";

TEST(LegacyHash, Pbkdf2Sha256AsDjangoWritesIt) {
  for (const char* encoded : {"pbkdf2_sha256$1000$s4lt$xvbxZ58Rw7mp+BnShKJRsMWk2NYx/YNCFQF3Kjw38EI=",
                              "pbkdf2_sha256$260000$hQ2xk9ZpL1vR$Snt7SuXr15Kd/JH7CyK9IYAuBtsbLRSDWoHflpOOJc8="}) {
    StatusOr<LegacyHash> h = ParseLegacyHash(encoded);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    EXPECT_EQ(h->kind, LegacyHash::Kind::kPbkdf2Sha256);
    EXPECT_TRUE(VerifyLegacyKey(*h, kKey)) << encoded;
    EXPECT_FALSE(VerifyLegacyKey(*h, "Ab12Cd34.s3cr3tKeyMaterial0123456789abce"));
    EXPECT_FALSE(VerifyLegacyKey(*h, "s3cr3tKeyMaterial0123456789abcd"));  // the secret alone
  }
}

TEST(LegacyHash, Sha512AsVersionThreeWritesIt) {
  StatusOr<LegacyHash> h = ParseLegacyHash(
      "sha512$$86422a652a2fd27638adeda7090596f551c97f5906e310efaf903bbf053f8337150f34311b6c5231d02a27e995bfa08c98719a1b843047cc5a1377ee41f6f4a9");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->kind, LegacyHash::Kind::kSha512);
  EXPECT_TRUE(VerifyLegacyKey(*h, kKey));
  EXPECT_FALSE(VerifyLegacyKey(*h, std::string(kKey) + "x"));
  EXPECT_FALSE(VerifyLegacyKey(*h, ""));
}

TEST(LegacyHash, AnythingElseIsRefusedNamingWhy) {
  struct Case {
    const char* encoded;
    const char* says;
  } cases[] = {
      {"argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA", "algorithm 'argon2'"},
      {"bcrypt_sha256$$2b$12$abc", "algorithm 'bcrypt_sha256'"},
      {"", "algorithm ''"},
      {"pbkdf2_sha256$1000$salt", "<iterations>$<salt>$<hash>"},
      {"pbkdf2_sha256$1000$s$a$b", "<iterations>$<salt>$<hash>"},
      {"pbkdf2_sha256$-1$s4lt$xvbxZ58Rw7mp+BnShKJRsMWk2NYx/YNCFQF3Kjw38EI=", "must be a number"},
      {"pbkdf2_sha256$0$s4lt$xvbxZ58Rw7mp+BnShKJRsMWk2NYx/YNCFQF3Kjw38EI=", "from 1 to"},
      // Each wrong guess would cost this many HMACs: refused.
      {"pbkdf2_sha256$2000001$s4lt$xvbxZ58Rw7mp+BnShKJRsMWk2NYx/YNCFQF3Kjw38EI=", "from 1 to"},
      {"pbkdf2_sha256$99999999999$s4lt$xvbxZ58Rw7mp+BnShKJRsMWk2NYx/YNCFQF3Kjw38EI=", "must be a number"},
      {"pbkdf2_sha256$1000$$xvbxZ58Rw7mp+BnShKJRsMWk2NYx/YNCFQF3Kjw38EI=", "salt"},
      {"pbkdf2_sha256$1000$s4lt$xvbx", "32 bytes"},
      {"pbkdf2_sha256$1000$s4lt$not base64!", "32 bytes"},
      {"sha512$$86422a", "128 lower-case hex"},
      {"sha512$$86422A652A2FD27638ADEDA7090596F551C97F5906E310EFAF903BBF053F8337150F34311B6C5231D02A27E995BFA08C98719A1B843047CC5A1377EE41F6F4A9",
       "128 lower-case hex"},
  };
  for (const Case& c : cases) {
    StatusOr<LegacyHash> h = ParseLegacyHash(c.encoded);
    ASSERT_FALSE(h.ok()) << c.encoded;
    EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(h.status().message().find(c.says), std::string::npos) << c.encoded << ": " << h.status().message();
  }
}

}  // namespace
}  // namespace keyward::auth

// Tests for keys imported from djangorestframework-api-key (issue 12): the
// verifier's legacy path (auth/legacy_keys.h) — a first use checks the
// imported hash and rehashes, wrong secrets are bounded — and the import's
// time parsing (auth/drf_import.h).
#include "auth/legacy_keys.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "auth/drf_import.h"
#include "core/base64.h"
#include "keyward/verifier.h"
#include "support/store_fixture.h"

namespace keyward {
namespace {

// Django's pbkdf2_sha256 encoding of `key` (few iterations: a test).
std::string Pbkdf2(const std::string& key, int iterations = 1000) {
  const std::string salt = "saltsaltsalt";
  unsigned char out[32];
  PKCS5_PBKDF2_HMAC(key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), sizeof out, out);
  return "pbkdf2_sha256$" + std::to_string(iterations) + "$" + salt + "$" +
         core::Base64Encode(std::string_view(reinterpret_cast<const char*>(out), sizeof out));
}

class LegacyKeysTest : public testing::StoreTest {
 protected:
  // Imports "<prefix>.<secret>" for a new user; returns the key id.
  std::string Import(const std::string& prefix, const std::string& secret) {
    auth::CreatedUser u = NewUser(prefix, false);
    LegacyImport item;
    item.key.id = "key_" + prefix;
    item.key.user_id = u.user.id;
    item.key.name = "imported";
    item.key.display = prefix + ".…";
    item.key.hash = HashKey("placeholder " + prefix);  // never a key's: a placeholder
    item.key.created_at = clock_.Now();
    item.legacy = LegacyKey{item.key.id, prefix, Pbkdf2(prefix + "." + secret), "drf:test"};
    EXPECT_TRUE(keys().ImportLegacyKeys({item}).ok());
    return item.key.id;
  }
  VerifyOutcome Check(Verifier& v, const std::string& key) {
    StatusOr<Verification> r = v.Verify({key});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->outcome : VerifyOutcome::kMissing;
  }
};

TEST_F(LegacyKeysTest, FirstUseChecksTheImportedHashThenTheKeyHasItsSha256) {
  const std::string id = Import("Ab12Cd34", "s3cretS3cretS3cret");
  Verifier v(keys(), clock_);
  EXPECT_EQ(Check(v, "Ab12Cd34.s3cretS3cretS3cret"), VerifyOutcome::kValid);
  StatusOr<std::pair<KeyWithUser, LegacyKey>> after = keys().LookupLegacyKey("Ab12Cd34");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->second.legacy_hash, "");  // PBKDF2 never runs for it again
  StatusOr<KeyWithUser> by_hash = keys().LookupKey(HashKey("Ab12Cd34.s3cretS3cretS3cret"));
  ASSERT_TRUE(by_hash.ok());
  EXPECT_EQ(by_hash->key.id, id);
  // A verifier that never saw the legacy hash (another node) accepts it too.
  Verifier other(keys(), clock_);
  EXPECT_EQ(Check(other, "Ab12Cd34.s3cretS3cretS3cret"), VerifyOutcome::kValid);
  EXPECT_EQ(Check(other, "Ab12Cd34.wrongwrongwrong"), VerifyOutcome::kNotFound);
}

TEST_F(LegacyKeysTest, AWrongSecretMakesItsPrefixWaitAndUnknownPrefixesAreRefused) {
  Import("Pq78Rs90", "rightRightRight");
  Verifier v(keys(), clock_);
  EXPECT_EQ(Check(v, "Zz00Zz00.rightRightRight"), VerifyOutcome::kNotFound);
  EXPECT_EQ(Check(v, "Pq78Rs90.wrongWrongWrong"), VerifyOutcome::kNotFound);
  // Within the back-off, the prefix is not checked at all, even the right key.
  EXPECT_EQ(Check(v, "Pq78Rs90.wrongWrongWrong2"), VerifyOutcome::kRateLimited);
  EXPECT_EQ(Check(v, "Pq78Rs90.rightRightRight"), VerifyOutcome::kRateLimited);
  clock_.Advance(1'000);
  EXPECT_EQ(Check(v, "Pq78Rs90.rightRightRight"), VerifyOutcome::kValid);
  EXPECT_EQ(Check(v, "not.a-legacy-key"), VerifyOutcome::kMalformed);
}

TEST_F(LegacyKeysTest, ChecksOfImportedHashesAreBoundedPerSecondInAll) {
  for (const char* p : {"Aa000001", "Aa000002", "Aa000003"}) Import(p, "secretSecret");
  VerifierOptions o;
  o.legacy_checks_per_second = 2;
  Verifier v(keys(), clock_, o);
  EXPECT_EQ(Check(v, "Aa000001.wrongWrong"), VerifyOutcome::kNotFound);
  EXPECT_EQ(Check(v, "Aa000002.wrongWrong"), VerifyOutcome::kNotFound);
  EXPECT_EQ(Check(v, "Aa000003.secretSecret"), VerifyOutcome::kRateLimited);
  clock_.Advance(500);  // one token back
  EXPECT_EQ(Check(v, "Aa000003.secretSecret"), VerifyOutcome::kValid);
}

TEST_F(LegacyKeysTest, AKeyImportedWhileServingIsSeenAfterTheRefreshPeriod) {
  Verifier v(keys(), clock_);
  EXPECT_EQ(Check(v, "Late0001.secretSecret"), VerifyOutcome::kNotFound);
  Import("Late0001", "secretSecret");
  EXPECT_EQ(Check(v, "Late0001.secretSecret"), VerifyOutcome::kNotFound);  // the list is fresh
  clock_.Advance(10'000);
  EXPECT_EQ(Check(v, "Late0001.secretSecret"), VerifyOutcome::kValid);
}

// With refresh_ahead (as the server runs), an imported key in use is re-read
// ahead of its TTL like any other: another writer's revocation shows before
// the TTL, and the imported hash is not checked again.
TEST_F(LegacyKeysTest, AnImportedKeyInUseIsRefreshedAheadOfItsTtl) {
  const std::string id = Import("Rf12Rf34", "secretSecretSecret");
  const std::string key = "Rf12Rf34.secretSecretSecret";
  VerifierOptions o;
  o.cache = true;
  o.cache_ttl_ms = 4'000;
  o.refresh_ahead = true;
  Verifier v(keys(), clock_, o);
  EXPECT_EQ(Check(v, key), VerifyOutcome::kValid);
  clock_.Advance(3'000);
  EXPECT_EQ(Check(v, key), VerifyOutcome::kValid);  // a hit in the TTL's last quarter: queued
  ASSERT_TRUE(keys().RevokeKey(id, clock_.Now()).ok());  // another writer
  EXPECT_EQ(Check(v, key), VerifyOutcome::kValid);  // the cached record
  ASSERT_TRUE(v.RefreshCached().ok());
  EXPECT_EQ(v.stats().refreshes, 1u);
  EXPECT_EQ(Check(v, key), VerifyOutcome::kRevoked);  // a second before its TTL
  const std::uint64_t misses = v.stats().cache_misses;
  clock_.Advance(1'500);  // past the first read's TTL, within the refreshed one's
  EXPECT_EQ(Check(v, key), VerifyOutcome::kRevoked);
  EXPECT_EQ(v.stats().cache_misses, misses);
}

TEST(LegacyKeyShape, PrefixDotSecretOfLettersAndDigits) {
  std::string_view prefix;
  EXPECT_TRUE(auth::SplitLegacyKey("Ab12Cd34.xyzXYZ019", &prefix));
  EXPECT_EQ(prefix, "Ab12Cd34");
  for (const char* bad : {"", ".abc", "abc.", "ab_c.def", "abc.de.f", "abc.d-f", "kw_live_abc"}) {
    EXPECT_FALSE(auth::SplitLegacyKey(bad, &prefix)) << bad;
  }
  EXPECT_FALSE(auth::SplitLegacyKey(std::string(65, 'a') + ".b", &prefix));
  EXPECT_FALSE(auth::SplitLegacyKey("a." + std::string(129, 'b'), &prefix));
}

TEST(DjangoTime, OffsetsNaiveTimesAndZones) {
  // 2026-12-06 07:00:00 UTC
  constexpr UnixMillis kAt = 1796540400000;
  EXPECT_EQ(*auth::ParseDjangoTime("2026-12-06 07:00:00", "UTC"), kAt);
  EXPECT_EQ(*auth::ParseDjangoTime("2026-12-06 07:00:00.250", "UTC"), kAt + 250);
  EXPECT_EQ(*auth::ParseDjangoTime("2026-12-06 07:00:00.123456+00", "UTC"), kAt + 123);
  EXPECT_EQ(*auth::ParseDjangoTime("2026-12-06T09:00:00+02:00", "UTC"), kAt);
  EXPECT_EQ(*auth::ParseDjangoTime("2026-12-06 07:00:00Z", "Europe/Berlin"), kAt);
  // Naive times are read in the given zone: winter +1, summer +2.
  EXPECT_EQ(*auth::ParseDjangoTime("2026-12-06 08:00:00", "Europe/Berlin"), kAt);
  EXPECT_EQ(*auth::ParseDjangoTime("2026-07-01 12:00:00", "Europe/Berlin"),
            *auth::ParseDjangoTime("2026-07-01 10:00:00", "UTC"));
  for (const char* bad : {"", "2026-13-01 00:00:00", "2026-02-30 00:00:00", "2026-12-06", "yesterday", "2026-12-06 07:00:00+2",
                          "2026-12-06 07:00:00.", "2026-12-06 07:00:00 junk"}) {
    EXPECT_FALSE(auth::ParseDjangoTime(bad, "UTC").ok()) << bad;
  }
  EXPECT_FALSE(auth::ParseDjangoTime("2026-12-06 07:00:00", "Mars/Olympus").ok());
  EXPECT_FALSE(auth::ParseDjangoTime("2026-12-06 07:00:00", "../../etc/passwd").ok());
}

}  // namespace
}  // namespace keyward

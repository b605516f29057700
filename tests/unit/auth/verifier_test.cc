// Tests for Verifier (include/keyward/verifier.h): every outcome it decides,
// with time driven by a FakeClock.
#include "keyward/verifier.h"

#include <gtest/gtest.h>

#include "auth/scopes.h"
#include "support/store_fixture.h"

namespace keyward {
namespace {

class VerifierTest : public testing::StoreTest {
 protected:
  VerifyOutcome Check(const std::string& key, std::vector<std::string> scopes = {},
                      std::optional<Environment> env = std::nullopt) {
    Verifier verifier(keys(), clock_);
    StatusOr<Verification> v = verifier.Verify({key, std::move(scopes), env});
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? v->outcome : VerifyOutcome::kMissing;
  }
};

TEST_F(VerifierTest, ValidKeyYieldsItsOwner) {
  auth::CreateUserRequest req;
  req.name = "Acme";
  req.external_id = "acme-42";
  StatusOr<auth::CreatedUser> u = accounts_->CreateUser(req);
  ASSERT_TRUE(u.ok());
  Verifier verifier(keys(), clock_);
  StatusOr<Verification> v = verifier.Verify({u->key->secret, {}, std::nullopt});
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->outcome, VerifyOutcome::kValid);
  EXPECT_EQ(v->principal->user_id, u->user.id);
  EXPECT_EQ(v->principal->external_id, "acme-42");
  EXPECT_EQ(v->principal->key_id, u->key->record.id);
  EXPECT_EQ(v->principal->environment, Environment::kLive);
}

TEST_F(VerifierTest, MissingMalformedAndUnknownKeys) {
  EXPECT_EQ(Check(""), VerifyOutcome::kMissing);
  EXPECT_EQ(Check("kw_live_short"), VerifyOutcome::kMalformed);
  std::string unknown = *GenerateKey(Environment::kLive);
  EXPECT_EQ(Check(unknown), VerifyOutcome::kNotFound);
}

TEST_F(VerifierTest, KeyExpiresExactlyAtItsTtlWithoutSleeping) {
  auth::CreatedUser u = NewUser("A", false);
  auth::IssueKeyRequest req;
  req.user_id = u.user.id;
  req.ttl_ms = 90'000;
  StatusOr<auth::IssuedKey> k = accounts_->IssueKey(req);
  ASSERT_TRUE(k.ok());
  clock_.Advance(89'999);
  EXPECT_EQ(Check(k->secret), VerifyOutcome::kValid);
  clock_.Advance(1);
  EXPECT_EQ(Check(k->secret), VerifyOutcome::kExpired);
}

TEST_F(VerifierTest, RotatedKeyWorksAtOnceAndOldKeyUntilGraceEnds) {
  auth::CreatedUser u = NewUser();
  StatusOr<auth::RotatedKey> r = accounts_->RotateKey(u.key->record.id, 24 * 3'600'000LL);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Check(r->new_key.secret), VerifyOutcome::kValid);
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kValid);
  clock_.Advance(24 * 3'600'000LL - 1);
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kValid);
  clock_.Advance(1);
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kExpired);
  EXPECT_EQ(Check(r->new_key.secret), VerifyOutcome::kValid);
}

TEST_F(VerifierTest, RevokedBeatsExpiredAndIsFinal) {
  auth::CreatedUser u = NewUser();
  ASSERT_TRUE(accounts_->RotateKey(u.key->record.id, 1000).ok());
  ASSERT_TRUE(accounts_->RevokeKey(u.key->record.id).ok());
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kRevoked);
  clock_.Advance(5000);
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kRevoked);
  EXPECT_EQ(accounts_->RotateKey(u.key->record.id, 0).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST_F(VerifierTest, DisabledUsersKeysAreRefusedUntilEnabled) {
  auth::CreatedUser u = NewUser();
  auth::UserUpdate off;
  off.disabled = true;
  ASSERT_TRUE(accounts_->UpdateUser(u.user.id, off).ok());
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kUserDisabled);
  auth::UserUpdate on;
  on.disabled = false;
  ASSERT_TRUE(accounts_->UpdateUser(u.user.id, on).ok());
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kValid);
}

TEST_F(VerifierTest, EnvironmentAndScopesAreEnforced) {
  auth::CreatedUser u = NewUser("A", false);
  auth::IssueKeyRequest req;
  req.user_id = u.user.id;
  req.environment = Environment::kTest;
  req.scopes = {"jobs:write"};
  StatusOr<auth::IssuedKey> k = accounts_->IssueKey(req);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(Check(k->secret, {}, Environment::kLive), VerifyOutcome::kWrongEnvironment);
  EXPECT_EQ(Check(k->secret, {}, Environment::kTest), VerifyOutcome::kValid);
  EXPECT_EQ(Check(k->secret, {"jobs:write"}), VerifyOutcome::kValid);
  EXPECT_EQ(Check(k->secret, {"jobs:write", "admin"}), VerifyOutcome::kInsufficientScope);
  // Narrowing the user's plan takes effect on existing keys.
  auth::UserUpdate narrow;
  narrow.allowed_scopes = std::vector<std::string>{"jobs:read"};
  ASSERT_TRUE(accounts_->UpdateUser(u.user.id, narrow).ok());
  EXPECT_EQ(Check(k->secret, {"jobs:write"}), VerifyOutcome::kInsufficientScope);
}

TEST_F(VerifierTest, DeletedKeyIsNotFound) {
  auth::CreatedUser u = NewUser();
  ASSERT_TRUE(accounts_->DeleteKey(u.key->record.id).ok());
  EXPECT_EQ(Check(u.key->secret), VerifyOutcome::kNotFound);
}

// Issue 7, finding 8: a key revoked while its record was being read from the
// store was cached as valid until the cache TTL.
class RevokingStore final : public KeyStore {
 public:
  explicit RevokingStore(KeyStore& inner) : inner_(inner) {}
  std::function<void()> during_lookup;
  int reads = 0;  // every read of keys: by hash, by prefix, the prefix list
  StatusOr<KeyWithUser> LookupKey(const KeyHash& h) override {
    ++reads;
    StatusOr<KeyWithUser> r = inner_.LookupKey(h);
    if (during_lookup) std::exchange(during_lookup, nullptr)();
    return r;
  }
  Status CreateUser(const User& u, const ApiKey* k) override { return inner_.CreateUser(u, k); }
  StatusOr<User> GetUser(const std::string& id) override { return inner_.GetUser(id); }
  StatusOr<User> FindUserByExternalId(const std::string& e) override { return inner_.FindUserByExternalId(e); }
  StatusOr<Page<User>> ListUsers(const PageRequest& p) override { return inner_.ListUsers(p); }
  Status UpdateUser(const User& u) override { return inner_.UpdateUser(u); }
  Status DeleteUser(const std::string& id) override { return inner_.DeleteUser(id); }
  Status InsertKey(const ApiKey& k) override { return inner_.InsertKey(k); }
  StatusOr<ApiKey> GetKey(const std::string& id) override { return inner_.GetKey(id); }
  StatusOr<Page<ApiKey>> ListKeys(const std::string& u, const PageRequest& p) override { return inner_.ListKeys(u, p); }
  StatusOr<ApiKey> RevokeKey(const std::string& id, UnixMillis t) override { return inner_.RevokeKey(id, t); }
  StatusOr<std::int64_t> RevokeAllKeys(const std::string& u, UnixMillis t) override { return inner_.RevokeAllKeys(u, t); }
  Status RotateKey(const ApiKey& k, UnixMillis t) override { return inner_.RotateKey(k, t); }
  Status DeleteKey(const std::string& id) override { return inner_.DeleteKey(id); }
  bool refuse_touches = false;
  Status TouchKeys(const std::vector<std::pair<std::string, UnixMillis>>& u) override {
    return refuse_touches ? UnavailableError("refused by the test") : inner_.TouchKeys(u);
  }
  using KeyStore::ImportLegacyKeys;
  Status ImportLegacyKeys(const std::vector<LegacyImport>& b, const LegacyKeyUpdates& u) override {
    return inner_.ImportLegacyKeys(b, u);
  }
  StatusOr<std::vector<std::pair<std::string, bool>>> ListLegacyPrefixes() override {
    ++reads;
    return inner_.ListLegacyPrefixes();
  }
  StatusOr<std::pair<KeyWithUser, LegacyKey>> LookupLegacyKey(const std::string& p) override {
    ++reads;
    return inner_.LookupLegacyKey(p);
  }
  Status CompleteLegacyKey(const std::string& id, const KeyHash& h) override { return inner_.CompleteLegacyKey(id, h); }
  StatusOr<KeyWithUser> LookupKeyById(const std::string& id) override {
    ++reads;
    return inner_.LookupKeyById(id);
  }
  Status SetSigningSecrets(const std::vector<std::pair<std::string, std::string>>& s) override {
    return inner_.SetSigningSecrets(s);
  }
  StatusOr<std::vector<std::pair<std::string, std::string>>> ListSigningSecrets() override {
    return inner_.ListSigningSecrets();
  }

 private:
  KeyStore& inner_;
};

TEST_F(VerifierTest, Issue7_ARevocationDuringALookupIsNotCachedAsValid) {
  auth::CreatedUser u = NewUser();
  RevokingStore racing(keys());
  VerifierOptions o;
  o.cache = true;
  Verifier verifier(racing, clock_, o);
  auth::Accounts accounts(racing, clock_);
  accounts.set_change_listener([&](const std::string& id) { verifier.InvalidateUser(id); });
  // The lookup reads the unrevoked record; the revocation commits and
  // invalidates before the verifier caches what it read.
  racing.during_lookup = [&] { ASSERT_TRUE(accounts.RevokeKey(u.key->record.id).ok()); };
  StatusOr<Verification> first = verifier.Verify({.key = u.key->secret});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->outcome, VerifyOutcome::kValid);  // decided on what was read: the race itself
  StatusOr<Verification> second = verifier.Verify({.key = u.key->secret});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->outcome, VerifyOutcome::kRevoked);  // not served stale from the cache
}

// A key in use is re-read ahead of its TTL off the request path: the
// lookup after the TTL is a hit, and a change another writer made (not
// reported through InvalidateUser) shows at the refresh, before the TTL.
// A 4 s cache whose records in use are queued for RefreshCached().
VerifierOptions Refreshing() {
  VerifierOptions o;
  o.cache = true;
  o.cache_ttl_ms = 4'000;
  o.refresh_ahead = true;
  return o;
}

TEST_F(VerifierTest, KeysInUseAreRefreshedAheadOfTheirTtl) {
  auth::CreatedUser u = NewUser(), v = NewUser("B");
  RevokingStore counted(keys());
  Verifier verifier(counted, clock_, Refreshing());
  auto outcome = [&](const std::string& key) {
    StatusOr<Verification> r = verifier.Verify({.key = key});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->outcome : VerifyOutcome::kMissing;
  };
  EXPECT_EQ(outcome(u.key->secret), VerifyOutcome::kValid);
  EXPECT_EQ(outcome(v.key->secret), VerifyOutcome::kValid);
  EXPECT_EQ(counted.reads, 2);
  clock_.Advance(2'999);
  EXPECT_EQ(outcome(u.key->secret), VerifyOutcome::kValid);  // not due yet
  ASSERT_TRUE(verifier.RefreshCached().ok());
  EXPECT_EQ(counted.reads, 2);
  clock_.Advance(1);
  EXPECT_EQ(outcome(u.key->secret), VerifyOutcome::kValid);  // due: queued
  EXPECT_EQ(outcome(v.key->secret), VerifyOutcome::kValid);
  EXPECT_EQ(counted.reads, 2);  // the lookups themselves read nothing
  ASSERT_TRUE(keys().RevokeKey(v.key->record.id, clock_.Now()).ok());  // another writer
  ASSERT_TRUE(verifier.RefreshCached().ok());
  EXPECT_EQ(counted.reads, 4);
  EXPECT_EQ(verifier.stats().refreshes, 2u);
  EXPECT_EQ(outcome(v.key->secret), VerifyOutcome::kRevoked);  // a second before its TTL
  clock_.Advance(2'000);  // past the first read's TTL
  const std::uint64_t misses = verifier.stats().cache_misses;
  EXPECT_EQ(outcome(u.key->secret), VerifyOutcome::kValid);
  EXPECT_EQ(verifier.stats().cache_misses, misses);  // a hit
  EXPECT_EQ(counted.reads, 4);
  // A key deleted meanwhile leaves the cache at its refresh.
  clock_.Advance(1'000);
  EXPECT_EQ(outcome(u.key->secret), VerifyOutcome::kValid);  // due again
  ASSERT_TRUE(keys().DeleteKey(u.key->record.id).ok());
  ASSERT_TRUE(verifier.RefreshCached().ok());
  EXPECT_EQ(outcome(u.key->secret), VerifyOutcome::kNotFound);
}

// Last uses a refused flush took are written by the next one (they used to
// be dropped), the later time winning over a use noted meanwhile.
TEST_F(VerifierTest, LastUsesOfARefusedFlushAreWrittenByTheNext) {
  auth::CreatedUser u = NewUser(), v = NewUser("B");
  RevokingStore store(keys());
  VerifierOptions o;
  o.track_last_used = true;
  Verifier verifier(store, clock_, o);
  const UnixMillis first = clock_.Now();
  ASSERT_TRUE(verifier.Verify({.key = u.key->secret}).ok());
  ASSERT_TRUE(verifier.Verify({.key = v.key->secret}).ok());
  store.refuse_touches = true;
  EXPECT_FALSE(verifier.FlushLastUsed().ok());
  EXPECT_EQ(verifier.unflushed().last_uses, 2u);
  clock_.Advance(5'000);
  ASSERT_TRUE(verifier.Verify({.key = v.key->secret}).ok());  // noted again, later
  store.refuse_touches = false;
  ASSERT_TRUE(verifier.FlushLastUsed().ok());
  EXPECT_EQ(verifier.unflushed().last_uses, 0u);
  EXPECT_EQ(keys().GetKey(u.key->record.id)->last_used_at, first);
  EXPECT_EQ(keys().GetKey(v.key->record.id)->last_used_at, first + 5'000);
  EXPECT_EQ(verifier.stats().flush_failures, 1u);
}

// A pass stops at once when told to (a shutdown): what it did not re-read
// is served until its TTL and then read again on the request path.
TEST_F(VerifierTest, ARefreshPassStopsWhenToldTo) {
  auth::CreatedUser u = NewUser(), v = NewUser("B");
  RevokingStore counted(keys());
  Verifier verifier(counted, clock_, Refreshing());
  ASSERT_TRUE(verifier.Verify({.key = u.key->secret}).ok());
  ASSERT_TRUE(verifier.Verify({.key = v.key->secret}).ok());
  clock_.Advance(3'000);
  ASSERT_TRUE(verifier.Verify({.key = u.key->secret}).ok());  // both queued
  ASSERT_TRUE(verifier.Verify({.key = v.key->secret}).ok());
  std::atomic<bool> stop{false};
  counted.during_lookup = [&] { stop = true; };  // told during the first re-read
  ASSERT_TRUE(verifier.RefreshCached(&stop).ok());
  EXPECT_EQ(counted.reads, 3);
  EXPECT_EQ(verifier.stats().refreshes, 1u);
  counted.during_lookup = nullptr;
  ASSERT_TRUE(verifier.RefreshCached().ok());  // the other was dropped, not kept
  EXPECT_EQ(counted.reads, 3);
  EXPECT_EQ(verifier.stats().refreshes, 1u);
}

// Without refresh_ahead (a library user that never calls RefreshCached())
// nothing is queued and a record is re-read when its TTL is over.
TEST_F(VerifierTest, WithoutRefreshAheadARecordIsReReadAtItsTtl) {
  auth::CreatedUser u = NewUser();
  RevokingStore counted(keys());
  VerifierOptions o;
  o.cache = true;
  o.cache_ttl_ms = 4'000;
  Verifier verifier(counted, clock_, o);
  ASSERT_TRUE(verifier.Verify({.key = u.key->secret}).ok());
  clock_.Advance(3'500);
  ASSERT_TRUE(verifier.Verify({.key = u.key->secret}).ok());
  ASSERT_TRUE(verifier.RefreshCached().ok());
  EXPECT_EQ(counted.reads, 1);
  clock_.Advance(500);
  ASSERT_TRUE(verifier.Verify({.key = u.key->secret}).ok());
  EXPECT_EQ(counted.reads, 2);
  EXPECT_EQ(verifier.stats().refreshes, 0u);
}

// Issue 7, finding 3.
TEST_F(VerifierTest, AJobBoundKeyIsRefusedWhereNoScopeIsRequired) {
  auth::CreatedUser u = NewUser("A", false);
  auth::IssueKeyRequest req;
  req.user_id = u.user.id;
  req.scopes = {auth::JobSubmitScope("j1")};
  StatusOr<auth::IssuedKey> k = accounts_->IssueKey(req);
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(Check(k->secret), VerifyOutcome::kInsufficientScope);
  EXPECT_EQ(Check(k->secret, {"jobs:write"}), VerifyOutcome::kInsufficientScope);
  EXPECT_EQ(Check(k->secret, {auth::JobSubmitScope("j1")}), VerifyOutcome::kValid);
  Verifier verifier(keys(), clock_);
  VerifyRequest deferred{.key = k->secret};
  deferred.defer_job_scope = true;
  EXPECT_EQ(verifier.Verify(deferred)->outcome, VerifyOutcome::kValid);
}

TEST(VerifyOutcomeName, NamesMatchTheContract) {
  EXPECT_EQ(VerifyOutcomeName(VerifyOutcome::kValid), "VALID");
  EXPECT_EQ(VerifyOutcomeName(VerifyOutcome::kUserDisabled), "USER_DISABLED");
  EXPECT_EQ(VerifyOutcomeName(VerifyOutcome::kWrongEnvironment), "WRONG_ENVIRONMENT");
  EXPECT_EQ(VerifyOutcomeName(VerifyOutcome::kQuotaExceeded), "QUOTA_EXCEEDED");
}

// Issue 12: imported keys carry no checksum; their prefixes are held in
// memory so that a key of that shape whose prefix was never imported costs
// no read of the store.
TEST_F(VerifierTest, Issue12_AnUnknownLegacyPrefixIsRefusedWithoutReadingTheStore) {
  auth::CreatedUser u = NewUser();
  LegacyImport item;
  item.key = u.key->record;
  item.key.id = "key_legacy";
  item.key.hash = HashKey("placeholder");
  item.legacy = LegacyKey{"key_legacy", "Known123", "sha512$$00", "drf:t"};
  ASSERT_TRUE(keys().ImportLegacyKeys({item}).ok());
  RevokingStore counting(keys());
  VerifierOptions o;
  o.cache = true;
  Verifier verifier(counting, clock_, o);
  ASSERT_EQ(verifier.Verify({"Unknown1.secretSecret"})->outcome, VerifyOutcome::kNotFound);
  const int after_first = counting.reads;  // the prefix list, read once
  EXPECT_EQ(after_first, 1);
  for (int i = 0; i < 1000; ++i) {
    const std::string key = "Unk" + std::to_string(10000 + i) + ".secretSecret";
    ASSERT_EQ(verifier.Verify({key})->outcome, VerifyOutcome::kNotFound);
  }
  EXPECT_EQ(counting.reads, after_first);
  // A known prefix does read (and here the secret is wrong).
  EXPECT_EQ(verifier.Verify({"Known123.secretSecret"})->outcome, VerifyOutcome::kNotFound);
  EXPECT_GT(counting.reads, after_first);
}

}  // namespace
}  // namespace keyward

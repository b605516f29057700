// Signed requests through the Verifier (RFC 9421, hmac-sha256): the order
// of its checks, the created window at its edges with a FakeClock, replay,
// require_signature, the secret sealed at issue or learned at a bearer use,
// and the nonce cache's bounds.
#include <gtest/gtest.h>

#include "auth/nonce_cache.h"
#include "core/http_signature.h"
#include "core/sealing.h"
#include "keyward/verifier.h"
#include "support/store_fixture.h"

namespace keyward {
namespace {

using core::httpsig::Message;

class SignedRequestTest : public testing::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    sealer_ = std::make_unique<core::Sealer>(*core::Sealer::Generate());
    accounts_->set_sealer(sealer_.get());
  }

  VerifierOptions Options() {
    VerifierOptions o;
    o.sealer = sealer_.get();
    o.cache = true;
    return o;
  }

  // A request signed with `key` (id `key_id`) at `created` seconds.
  struct Signed {
    std::vector<std::pair<std::string, std::string>> headers;
    core::httpsig::ReceivedSignature sig;
    SignedRequest request;
  };
  std::unique_ptr<Signed> Sign(const std::string& key, const std::string& key_id, std::int64_t created,
                               std::string nonce = "", std::string path = "/v1/ai/jobs") {
    auto s = std::make_unique<Signed>();
    s->headers = {{"host", "keyward.test"}};
    Message msg{"GET", "https", "keyward.test", path, "", &s->headers};
    core::httpsig::SignOptions o;
    o.key_id = key_id;
    o.created = created;
    o.nonce = nonce;
    auto f = core::httpsig::Sign(msg, "", key, o);
    EXPECT_TRUE(f.ok());
    s->headers.emplace_back("signature-input", f->signature_input);
    s->headers.emplace_back("signature", f->signature);
    Message read_as{"GET", "https", "keyward.test", path, "", &s->headers};
    auto r = core::httpsig::ReadSignature(read_as, false);
    EXPECT_TRUE(r.ok()) << r.status().message();
    s->sig = *r;
    s->request = SignedRequest{s->sig.key_id, s->sig.created, s->sig.expires, s->sig.nonce, s->sig.signature,
                               s->sig.base};
    return s;
  }

  std::int64_t NowS() const { return clock_.Now() / 1000; }

  VerifyOutcome Check(Verifier& v, const Signed& s) {
    VerifyRequest r;
    r.signed_request = &s.request;
    StatusOr<Verification> out = v.Verify(r);
    EXPECT_TRUE(out.ok()) << out.status().message();
    return out.ok() ? out->outcome : VerifyOutcome::kMissing;
  }

  std::unique_ptr<core::Sealer> sealer_;
};

TEST_F(SignedRequestTest, AKeyIssuedWithASealerSignsAtOnce) {
  auth::CreatedUser u = NewUser();
  EXPECT_FALSE(u.key->record.signing_secret.empty());
  Verifier v(keys(), clock_, Options());
  auto s = Sign(u.key->secret, u.key->record.id, NowS());
  VerifyRequest r;
  r.signed_request = &s->request;
  StatusOr<Verification> out = v.Verify(r);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->outcome, VerifyOutcome::kValid);
  EXPECT_EQ(out->principal->user_id, u.user.id);
  EXPECT_EQ(out->principal->key_id, u.key->record.id);
}

TEST_F(SignedRequestTest, TheStoredSecretIsSealedNotTheSecretItself) {
  auth::CreatedUser u = NewUser();
  core::httpsig::Secret plain = core::httpsig::DeriveSigningSecret(u.key->secret);
  const std::string& stored = u.key->record.signing_secret;
  EXPECT_EQ(stored.find(core::httpsig::SecretBytes(plain)), std::string::npos);
  // Opens only under its own key id (AES-GCM context).
  EXPECT_TRUE(sealer_->Open(stored, u.key->record.id).ok());
  EXPECT_FALSE(sealer_->Open(stored, "key_other").ok());
  // And under no other seal key.
  core::Sealer other = *core::Sealer::Generate();
  EXPECT_FALSE(other.Open(stored, u.key->record.id).ok());
}

TEST_F(SignedRequestTest, WrongSecretUnknownKeyAndWrongKeyId) {
  auth::CreatedUser a = NewUser("A");
  auth::CreatedUser b = NewUser("B");
  Verifier v(keys(), clock_, Options());
  // Signed with B's key but naming A's id: the HMAC does not hold.
  EXPECT_EQ(Check(v, *Sign(b.key->secret, a.key->record.id, NowS())), VerifyOutcome::kSignatureInvalid);
  EXPECT_EQ(Check(v, *Sign(a.key->secret, "key_doesnotexist000000", NowS())), VerifyOutcome::kNotFound);
}

TEST_F(SignedRequestTest, CreatedWindowEdgesWithAnInjectedClock) {
  auth::CreatedUser u = NewUser();
  VerifierOptions o = Options();
  o.signature_window_ms = 300'000;
  Verifier v(keys(), clock_, o);
  clock_.Set(1'800'000'000'000);  // a whole second: created is in seconds
  const std::int64_t now = NowS();
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, now - 300)), VerifyOutcome::kValid);
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, now + 300)), VerifyOutcome::kValid);
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, now - 301)), VerifyOutcome::kSignatureInvalid);
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, now + 301)), VerifyOutcome::kSignatureInvalid);
  // A signature accepted at the edge goes out a millisecond later.
  auto edge = Sign(u.key->secret, u.key->record.id, now - 299);
  clock_.Advance(1'000);
  EXPECT_EQ(Check(v, *edge), VerifyOutcome::kValid);
  clock_.Advance(1);
  auto late = Sign(u.key->secret, u.key->record.id, now - 299);
  EXPECT_EQ(Check(v, *late), VerifyOutcome::kSignatureInvalid);
}

TEST_F(SignedRequestTest, ANonceIsAcceptedOnceWhileItsSignatureIsInTheWindow) {
  auth::CreatedUser u = NewUser();
  Verifier v(keys(), clock_, Options());
  auto s = Sign(u.key->secret, u.key->record.id, NowS(), "n-1");
  EXPECT_EQ(Check(v, *s), VerifyOutcome::kValid);
  EXPECT_EQ(Check(v, *s), VerifyOutcome::kReplayed);
  // The same nonce on another path is still a replay of the nonce.
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS(), "n-1", "/other")), VerifyOutcome::kReplayed);
  // Another key may use the same nonce.
  auth::IssuedKey k2 = Issue(u.user.id);
  EXPECT_EQ(Check(v, *Sign(k2.secret, k2.record.id, NowS(), "n-1")), VerifyOutcome::kValid);
  // Once the window has passed, the old signature is refused by its time.
  clock_.Advance(300'001);
  EXPECT_EQ(Check(v, *s), VerifyOutcome::kSignatureInvalid);
}

TEST_F(SignedRequestTest, AnInvalidSignatureTakesNoNonce) {
  auth::CreatedUser a = NewUser("A");
  auth::CreatedUser b = NewUser("B");
  Verifier v(keys(), clock_, Options());
  EXPECT_EQ(Check(v, *Sign(b.key->secret, a.key->record.id, NowS(), "same")), VerifyOutcome::kSignatureInvalid);
  EXPECT_EQ(v.stats().nonces, 0u);
  EXPECT_EQ(Check(v, *Sign(a.key->secret, a.key->record.id, NowS(), "same")), VerifyOutcome::kValid);
}

TEST_F(SignedRequestTest, KeyStateHoldsForSignedRequestsToo) {
  auth::CreatedUser u = NewUser();
  Verifier v(keys(), clock_, Options());
  ASSERT_TRUE(accounts_->RevokeKey(u.key->record.id).ok());
  v.InvalidateAll();
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS())), VerifyOutcome::kRevoked);
}

TEST_F(SignedRequestTest, RequireSignatureRefusesBearerUseOnly) {
  auth::CreatedUser u = NewUser("A", false);
  auth::IssueKeyRequest req;
  req.user_id = u.user.id;
  req.require_signature = true;
  StatusOr<auth::IssuedKey> k = accounts_->IssueKey(req);
  ASSERT_TRUE(k.ok());
  Verifier v(keys(), clock_, Options());
  EXPECT_EQ(v.Verify({k->secret})->outcome, VerifyOutcome::kSignatureRequired);
  EXPECT_EQ(Check(v, *Sign(k->secret, k->record.id, NowS())), VerifyOutcome::kValid);
  // Rotation keeps the requirement.
  StatusOr<auth::RotatedKey> r = accounts_->RotateKey(k->record.id);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->new_key.record.require_signature);
  EXPECT_EQ(v.Verify({r->new_key.secret})->outcome, VerifyOutcome::kSignatureRequired);
}

TEST_F(SignedRequestTest, RequireSignatureOnThePlanCoversEveryKey) {
  auth::CreatedUser u = NewUser();
  Verifier v(keys(), clock_, Options());
  EXPECT_EQ(v.Verify({u.key->secret})->outcome, VerifyOutcome::kValid);
  auth::UserUpdate up;
  up.require_signature = true;
  ASSERT_TRUE(accounts_->UpdateUser(u.user.id, up).ok());
  v.InvalidateUser(u.user.id);
  EXPECT_EQ(v.Verify({u.key->secret})->outcome, VerifyOutcome::kSignatureRequired);
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS())), VerifyOutcome::kValid);
}

TEST_F(SignedRequestTest, AKeyIssuedWithoutASealerLearnsItsSecretAtItsFirstBearerUse) {
  accounts_->set_sealer(nullptr);
  auth::CreatedUser u = NewUser();
  ASSERT_TRUE(u.key->record.signing_secret.empty());
  Verifier v(keys(), clock_, Options());
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS(), "a")), VerifyOutcome::kSigningSecretUnknown);
  // A bearer use proves the plaintext: the secret is derived and works at once.
  EXPECT_EQ(v.Verify({u.key->secret})->outcome, VerifyOutcome::kValid);
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS(), "b")), VerifyOutcome::kValid);
  // The flush stores it sealed; a fresh verifier (another node) uses it.
  ASSERT_TRUE(v.FlushLastUsed().ok());
  StatusOr<ApiKey> stored = keys().GetKey(u.key->record.id);
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->signing_secret.empty());
  Verifier other(keys(), clock_, Options());
  EXPECT_EQ(Check(other, *Sign(u.key->secret, u.key->record.id, NowS(), "c")), VerifyOutcome::kValid);
}

TEST_F(SignedRequestTest, ALearnedSecretIsNotHeldOnceWrittenAndIsNotLearnedAgain) {
  accounts_->set_sealer(nullptr);
  auth::CreatedUser u = NewUser();
  Verifier v(keys(), clock_, Options());
  // Both of the key's records are cached without a secret: by id (this
  // signed request) and by hash (the bearer use that learns it).
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS(), "a")), VerifyOutcome::kSigningSecretUnknown);
  EXPECT_EQ(v.Verify({u.key->secret})->outcome, VerifyOutcome::kValid);
  EXPECT_EQ(v.unflushed().signing_secrets, 1u);
  ASSERT_TRUE(v.FlushLastUsed().ok());
  EXPECT_EQ(v.unflushed().signing_secrets, 0u);
  // The record cached by id before the write was dropped: read again, with it.
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS(), "b")), VerifyOutcome::kValid);
  // The cached bearer record still lacks it; its uses do not learn it again.
  EXPECT_EQ(v.Verify({u.key->secret})->outcome, VerifyOutcome::kValid);
  EXPECT_EQ(v.unflushed().signing_secrets, 0u);
  // Once every record read before the write has aged out, a fresh read has it.
  clock_.Advance(2 * Options().cache_ttl_ms + 1);
  ASSERT_TRUE(v.FlushLastUsed().ok());
  EXPECT_EQ(v.Verify({u.key->secret})->outcome, VerifyOutcome::kValid);
  EXPECT_EQ(v.unflushed().signing_secrets, 0u);
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS(), "c")), VerifyOutcome::kValid);
}

// A key used by id (signed requests) is refreshed ahead of its TTL too: a
// revocation by another writer shows at the refresh, before the TTL.
TEST_F(SignedRequestTest, AKeyInUseByIdIsRefreshedAheadOfItsTtl) {
  auth::CreatedUser u = NewUser();
  VerifierOptions o = Options();
  o.cache_ttl_ms = 4'000;
  o.refresh_ahead = true;
  Verifier v(keys(), clock_, o);
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS(), "a")), VerifyOutcome::kValid);
  clock_.Advance(3'000);
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS(), "b")), VerifyOutcome::kValid);  // queued
  ASSERT_TRUE(keys().RevokeKey(u.key->record.id, clock_.Now()).ok());  // another writer
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS(), "c")), VerifyOutcome::kValid);  // cached
  ASSERT_TRUE(v.RefreshCached().ok());
  EXPECT_EQ(v.stats().refreshes, 1u);
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS(), "d")), VerifyOutcome::kRevoked);
}

TEST_F(SignedRequestTest, WithoutASealerSignedRequestsAreRefusedNotTrusted) {
  auth::CreatedUser u = NewUser();
  Verifier v(keys(), clock_);  // no sealer: in-process library use
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS())), VerifyOutcome::kSigningSecretUnknown);
}

TEST_F(SignedRequestTest, ASecretSealedUnderAnotherSealKeyIsUnknownNotAccepted) {
  auth::CreatedUser u = NewUser();
  core::Sealer other = *core::Sealer::Generate();
  VerifierOptions o = Options();
  o.sealer = &other;
  Verifier v(keys(), clock_, o);
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS())), VerifyOutcome::kSigningSecretUnknown);
}

TEST_F(SignedRequestTest, AFullNonceCacheRefusesInsteadOfEvicting) {
  auth::CreatedUser u = NewUser();
  VerifierOptions o = Options();
  o.nonce_capacity = 3;
  Verifier v(keys(), clock_, o);
  for (const char* n : {"1", "2", "3"}) EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS(), n)), VerifyOutcome::kValid);
  auto fourth = Sign(u.key->secret, u.key->record.id, NowS(), "4");
  VerifyRequest r;
  r.signed_request = &fourth->request;
  StatusOr<Verification> full = v.Verify(r);
  EXPECT_EQ(full.status().code(), StatusCode::kUnavailable);
  // The first three are still remembered.
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS(), "1")), VerifyOutcome::kReplayed);
  // Once they leave the window there is room again.
  clock_.Advance(300'001);
  EXPECT_EQ(Check(v, *Sign(u.key->secret, u.key->record.id, NowS(), "4")), VerifyOutcome::kValid);
}

TEST(NonceCache, BoundsInAllAndPerKey) {
  auth::NonceCache c({.capacity = 10, .capacity_per_key = 2});
  using R = auth::NonceCache::Result;
  EXPECT_EQ(c.Remember("key_a", "1", 100, 0), R::kFresh);
  EXPECT_EQ(c.Remember("key_a", "2", 100, 0), R::kFresh);
  EXPECT_EQ(c.Remember("key_a", "3", 100, 0), R::kFull);
  EXPECT_EQ(c.Remember("key_b", "1", 100, 0), R::kFresh);
  EXPECT_EQ(c.Remember("key_a", "1", 100, 50), R::kReplayed);
  EXPECT_EQ(c.Remember("key_a", "1", 200, 100), R::kReplayed);  // kept until its expiry, inclusive
  EXPECT_EQ(c.Remember("key_a", "1", 300, 101), R::kFresh);     // then gone
}

TEST(NonceCache, ExpiredEntriesOfIdleKeysDoNotFillTheCache) {
  auth::NonceCache c({.capacity = 3, .capacity_per_key = 3});
  using R = auth::NonceCache::Result;
  // Keys whose shards nobody touches again.
  EXPECT_EQ(c.Remember("key_a", "1", 100, 0), R::kFresh);
  EXPECT_EQ(c.Remember("key_b", "1", 100, 0), R::kFresh);
  EXPECT_EQ(c.Remember("key_c", "1", 100, 0), R::kFresh);
  EXPECT_EQ(c.Remember("key_d", "1", 200, 50), R::kFull);
  // Once they have expired, a new key has room.
  EXPECT_EQ(c.Remember("key_d", "1", 200, 101), R::kFresh);
  EXPECT_EQ(c.size(), 1u);
}

}  // namespace
}  // namespace keyward

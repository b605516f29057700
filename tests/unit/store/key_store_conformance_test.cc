// The KeyStore contract (keyward/store.h), one suite run against every
// backend: SQLite on a file in a temporary folder, PostgreSQL on a database
// of its own on the test server. A backend is conformant when it passes
// every test here unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <ostream>
#include <set>
#include <string>

#include "store/backend.h"
#include "store/postgres/connection.h"
#include "store/postgres/key_store.h"
#include "store/postgres/schema.h"
#include "support/postgres_fixture.h"
#include "support/temp_dir.h"

namespace keyward {
namespace {

enum class Kind { kSqlite, kPostgres };
void PrintTo(Kind k, std::ostream* os) { *os << (k == Kind::kSqlite ? "sqlite" : "postgres"); }

class KeyStoreConformance : public testing::PostgresTest,
                            public ::testing::WithParamInterface<Kind> {
 protected:
  void SetUp() override {
    if (GetParam() == Kind::kSqlite) {
      StatusOr<store::BackendPtr> b = store::OpenBackend({.location = dir_.File("k.db")});
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      sqlite_ = std::move(b).value();
      store_ = &sqlite_->keys();
      return;
    }
    testing::PostgresTest::SetUp();
    if (HasFatalFailure()) return;
    pool_ = std::make_unique<store::postgres::Pool>(store::postgres::ConnOptions{.conninfo = ConnInfo()}, 4);
    StatusOr<store::postgres::Pool::Lease> c = pool_->Acquire();
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    StatusOr<store::postgres::SchemaState> s = store::postgres::Migrate(**c);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    pg_ = std::make_unique<store::postgres::PgKeyStore>(*pool_);
    store_ = pg_.get();
  }
  void TearDown() override {
    pg_.reset();
    pool_.reset();
    if (GetParam() == Kind::kPostgres) testing::PostgresTest::TearDown();
  }

  KeyStore& keys() { return *store_; }

  static User MakeUser(const std::string& id, UnixMillis at = 1000) {
    User u;
    u.id = id;
    u.name = "name of " + id;
    u.created_at = at;
    return u;
  }
  static ApiKey MakeKey(const std::string& id, const std::string& user, UnixMillis at = 2000) {
    ApiKey k;
    k.id = id;
    k.user_id = user;
    k.name = "key " + id;
    k.display = "kw_live_" + id.substr(0, 4);
    const std::size_t h = std::hash<std::string>{}(id);  // distinct per id
    for (std::size_t i = 0; i < k.hash.size(); ++i) {
      k.hash[i] = static_cast<unsigned char>((h >> (8 * (i % 8))) ^ i);
    }
    k.created_at = at;
    return k;
  }

 private:
  testing::TempDir dir_;
  store::BackendPtr sqlite_;
  std::unique_ptr<store::postgres::Pool> pool_;
  std::unique_ptr<store::postgres::PgKeyStore> pg_;
  KeyStore* store_ = nullptr;
};

TEST_P(KeyStoreConformance, AUserAndItsFirstKeyAreCreatedTogetherOrNotAtAll) {
  User a = MakeUser("usr_a");
  a.external_id = "ext-1";
  ApiKey ka = MakeKey("key_a", "usr_a");
  ASSERT_TRUE(keys().CreateUser(a, &ka).ok());

  User b = MakeUser("usr_b");
  b.external_id = "ext-1";  // taken
  ApiKey kb = MakeKey("key_b", "usr_b");
  EXPECT_EQ(keys().CreateUser(b, &kb).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(keys().GetKey("key_b").status().code(), StatusCode::kNotFound);

  User c = MakeUser("usr_c");
  ApiKey clash = MakeKey("key_a", "usr_c");  // the key's id is taken: the user goes too
  EXPECT_EQ(keys().CreateUser(c, &clash).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(keys().GetUser("usr_c").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(keys().CreateUser(MakeUser("usr_a"), nullptr).code(), StatusCode::kAlreadyExists);
}

TEST_P(KeyStoreConformance, AUserRoundTripsWithItsPlan) {
  User u = MakeUser("usr_p", 1234);
  u.external_id = "acme-42";
  u.email = "ops@acme.example";
  u.plan.rate_limit = 2.5;
  u.plan.test_rate_limit = 0.1;
  u.plan.monthly_credits = 1000;
  u.plan.allowed_scopes = {"jobs:read", "jobs:write"};
  ASSERT_TRUE(keys().CreateUser(u, nullptr).ok());
  for (StatusOr<User> got : {keys().GetUser("usr_p"), keys().FindUserByExternalId("acme-42")}) {
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->id, "usr_p");
    EXPECT_EQ(got->external_id, "acme-42");
    EXPECT_EQ(got->email, "ops@acme.example");
    EXPECT_EQ(got->created_at, 1234);
    EXPECT_FALSE(got->disabled);
    EXPECT_EQ(got->plan.rate_limit, 2.5);
    EXPECT_EQ(got->plan.test_rate_limit, 0.1);
    EXPECT_EQ(got->plan.monthly_credits, 1000);
    EXPECT_EQ(got->plan.allowed_scopes, (std::vector<std::string>{"jobs:read", "jobs:write"}));
  }
  EXPECT_EQ(keys().GetUser("usr_none").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(keys().FindUserByExternalId("nobody").status().code(), StatusCode::kNotFound);
}

TEST_P(KeyStoreConformance, UpdatesReplaceThePlanAndRefuseATakenExternalId) {
  User u = MakeUser("usr_u");
  u.plan.monthly_credits = 5;
  ASSERT_TRUE(keys().CreateUser(u, nullptr).ok());
  User other = MakeUser("usr_o");
  other.external_id = "taken";
  ASSERT_TRUE(keys().CreateUser(other, nullptr).ok());

  u.disabled = true;
  u.name = "renamed";
  u.plan.monthly_credits.reset();
  u.plan.rate_limit = 7;
  ASSERT_TRUE(keys().UpdateUser(u).ok());
  StatusOr<User> got = keys().GetUser("usr_u");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->disabled);
  EXPECT_EQ(got->name, "renamed");
  EXPECT_FALSE(got->plan.monthly_credits.has_value());
  EXPECT_EQ(got->plan.rate_limit, 7.0);

  u.external_id = "taken";
  EXPECT_EQ(keys().UpdateUser(u).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(keys().UpdateUser(MakeUser("usr_none")).code(), StatusCode::kNotFound);
}

TEST_P(KeyStoreConformance, ListingsPageWithoutLosingOrRepeatingAnything) {
  std::set<std::string> want;
  for (int i = 0; i < 23; ++i) {
    std::string id = "usr_" + std::to_string(100 + i);
    ASSERT_TRUE(keys().CreateUser(MakeUser(id, 1000 + i / 3), nullptr).ok());  // ties in time
    want.insert(id);
  }
  std::set<std::string> seen;
  PageRequest page{.limit = 5, .after = {}};
  int pages = 0;
  for (;;) {
    StatusOr<Page<User>> p = keys().ListUsers(page);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    for (const User& u : p->items) EXPECT_TRUE(seen.insert(u.id).second) << "repeated " << u.id;
    ++pages;
    if (!p->next) break;
    page.after = *p->next;
  }
  EXPECT_EQ(seen, want);
  EXPECT_EQ(pages, 5);

  ASSERT_TRUE(keys().InsertKey(MakeKey("key_1", "usr_100", 5)).ok());
  ASSERT_TRUE(keys().InsertKey(MakeKey("key_2", "usr_100", 5)).ok());
  ASSERT_TRUE(keys().InsertKey(MakeKey("key_3", "usr_100", 4)).ok());
  StatusOr<Page<ApiKey>> first = keys().ListKeys("usr_100", {.limit = 2, .after = {}});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 2u);
  EXPECT_EQ(first->items[0].id, "key_3");  // oldest first
  ASSERT_TRUE(first->next.has_value());
  StatusOr<Page<ApiKey>> second = keys().ListKeys("usr_100", {.limit = 2, .after = *first->next});
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_FALSE(second->next.has_value());
  EXPECT_EQ(keys().ListKeys("usr_none", {.limit = 2, .after = {}}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(keys().ListUsers({.limit = 5, .after = "not a cursor"}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_P(KeyStoreConformance, AKeyRoundTripsAndIsFoundByItsHash) {
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_k"), nullptr).ok());
  ApiKey k = MakeKey("key_k", "usr_k");
  k.environment = Environment::kTest;
  k.scopes = {"jobs:read", "jobs:submit:ab"};
  k.expires_at = 9000;
  k.rotated_from = "key_old";
  ASSERT_TRUE(keys().InsertKey(k).ok());
  StatusOr<KeyWithUser> found = keys().LookupKey(k.hash);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->key.id, "key_k");
  EXPECT_EQ(found->key.hash, k.hash);
  EXPECT_EQ(found->key.environment, Environment::kTest);
  EXPECT_EQ(found->key.scopes, k.scopes);
  EXPECT_EQ(found->key.expires_at, 9000);
  EXPECT_EQ(found->key.rotated_from, "key_old");
  EXPECT_FALSE(found->key.revoked_at.has_value());
  EXPECT_EQ(found->user.id, "usr_k");

  KeyHash unknown = k.hash;
  unknown[0] ^= 0xff;
  EXPECT_EQ(keys().LookupKey(unknown).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(keys().InsertKey(MakeKey("key_x", "usr_none")).code(), StatusCode::kNotFound);
  ApiKey same_hash = MakeKey("key_y", "usr_k");
  same_hash.hash = k.hash;
  EXPECT_EQ(keys().InsertKey(same_hash).code(), StatusCode::kAlreadyExists);
}

TEST_P(KeyStoreConformance, ARevocationIsFinalAndKeepsItsFirstTime) {
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_r"), nullptr).ok());
  for (const char* id : {"key_r1", "key_r2", "key_r3"}) ASSERT_TRUE(keys().InsertKey(MakeKey(id, "usr_r")).ok());
  StatusOr<ApiKey> r = keys().RevokeKey("key_r1", 5000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->revoked_at, 5000);
  r = keys().RevokeKey("key_r1", 6000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->revoked_at, 5000);
  StatusOr<std::int64_t> all = keys().RevokeAllKeys("usr_r", 7000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, 2);
  EXPECT_EQ(keys().GetKey("key_r1")->revoked_at, 5000);
  EXPECT_EQ(keys().GetKey("key_r3")->revoked_at, 7000);
  EXPECT_EQ(keys().RevokeKey("key_none", 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(keys().RevokeAllKeys("usr_none", 1).status().code(), StatusCode::kNotFound);
}

TEST_P(KeyStoreConformance, ARotationInsertsTheNewKeyAndShortensTheOldOneTogether) {
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_rot"), nullptr).ok());
  ASSERT_TRUE(keys().InsertKey(MakeKey("key_old", "usr_rot")).ok());
  ApiKey fresh = MakeKey("key_new", "usr_rot");
  fresh.rotated_from = "key_old";
  ASSERT_TRUE(keys().RotateKey(fresh, 8000).ok());
  EXPECT_EQ(keys().GetKey("key_old")->expires_at, 8000);
  EXPECT_EQ(keys().GetKey("key_new")->rotated_from, "key_old");

  ApiKey orphan = MakeKey("key_orphan", "usr_rot");
  orphan.rotated_from = "key_gone";
  EXPECT_EQ(keys().RotateKey(orphan, 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(keys().GetKey("key_orphan").status().code(), StatusCode::kNotFound);
  ApiKey clash = MakeKey("key_new", "usr_rot");  // id taken: the old key stays as it was
  clash.rotated_from = "key_old";
  EXPECT_EQ(keys().RotateKey(clash, 1).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(keys().GetKey("key_old")->expires_at, 8000);
  EXPECT_EQ(keys().RotateKey(MakeKey("key_z", "usr_rot"), 1).code(), StatusCode::kInvalidArgument);
}

TEST_P(KeyStoreConformance, DeletingAUserDeletesItsKeys) {
  ApiKey k = MakeKey("key_d", "usr_d");
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_d"), &k).ok());
  ASSERT_TRUE(keys().InsertKey(MakeKey("key_d2", "usr_d")).ok());
  ASSERT_TRUE(keys().DeleteKey("key_d2").ok());
  EXPECT_EQ(keys().DeleteKey("key_d2").code(), StatusCode::kNotFound);
  ASSERT_TRUE(keys().DeleteUser("usr_d").ok());
  EXPECT_EQ(keys().LookupKey(k.hash).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(keys().GetKey("key_d").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(keys().DeleteUser("usr_d").code(), StatusCode::kNotFound);
}

TEST_P(KeyStoreConformance, LastUseNeverGoesBackwardsAndUnknownKeysAreSkipped) {
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_t"), nullptr).ok());
  ASSERT_TRUE(keys().InsertKey(MakeKey("key_t", "usr_t")).ok());
  ASSERT_TRUE(keys().TouchKeys({{"key_t", 500}, {"key_unknown", 600}}).ok());
  ASSERT_TRUE(keys().TouchKeys({{"key_t", 400}}).ok());
  EXPECT_EQ(keys().GetKey("key_t")->last_used_at, 500);
  ASSERT_TRUE(keys().TouchKeys({}).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, KeyStoreConformance,
                         ::testing::Values(Kind::kSqlite, Kind::kPostgres),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                           return info.param == Kind::kSqlite ? std::string("Sqlite")
                                                              : std::string("Postgres");
                         });

}  // namespace
}  // namespace keyward

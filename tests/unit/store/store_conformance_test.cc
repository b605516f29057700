// The storage contracts — KeyStore (keyward/store.h), JobStore, UsageStore —
// one suite run against every backend: SQLite on a file in a temporary
// folder, PostgreSQL on a database of its own on the test server. A backend
// is conformant when it passes every test here unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <ostream>
#include <set>
#include <string>

#include "store/backend.h"
#include "store/postgres/connection.h"
#include "store/postgres/job_store.h"
#include "store/postgres/key_store.h"
#include "store/postgres/schema.h"
#include "support/postgres_fixture.h"
#include "support/temp_dir.h"

namespace keyward {
namespace {

enum class Kind { kSqlite, kPostgres };
void PrintTo(Kind k, std::ostream* os) { *os << (k == Kind::kSqlite ? "sqlite" : "postgres"); }

class StoreConformance : public testing::PostgresTest,
                            public ::testing::WithParamInterface<Kind> {
 protected:
  void SetUp() override {
    if (GetParam() == Kind::kSqlite) {
      StatusOr<store::BackendPtr> b = store::OpenBackend({.location = dir_.File("k.db")});
      ASSERT_TRUE(b.ok()) << b.status().ToString();
      sqlite_ = std::move(b).value();
      store_ = &sqlite_->keys();
      jobs_ = &sqlite_->jobs();
      usage_ = &sqlite_->usage();
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
    pg_jobs_ = std::make_unique<store::postgres::PgJobStore>(*pool_);
    pg_usage_ = std::make_unique<store::postgres::PgUsageStore>(*pool_);
    store_ = pg_.get();
    jobs_ = pg_jobs_.get();
    usage_ = pg_usage_.get();
  }
  void TearDown() override {
    pg_usage_.reset();
    pg_jobs_.reset();
    pg_.reset();
    pool_.reset();
    if (GetParam() == Kind::kPostgres) testing::PostgresTest::TearDown();
  }

  KeyStore& keys() { return *store_; }
  JobStore& jobs() { return *jobs_; }
  UsageStore& usage() { return *usage_; }

  static JobStore::NewJob MakeJob(const std::string& id, const std::string& user, const std::string& job_id,
                                  UnixMillis at, std::int64_t charge) {
    JobStore::NewJob n;
    n.job.id = id;
    n.job.user_id = user;
    n.job.job_id = job_id;
    n.job.key_id = "key_j";
    n.job.task = "echo";
    n.job.payload = "{\"n\":1}";
    n.job.cost = charge;
    n.job.created_at = at;
    n.charge = charge > 0;
    return n;
  }

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
  std::unique_ptr<store::postgres::PgJobStore> pg_jobs_;
  std::unique_ptr<store::postgres::PgUsageStore> pg_usage_;
  KeyStore* store_ = nullptr;
  JobStore* jobs_ = nullptr;
  UsageStore* usage_ = nullptr;
};

TEST_P(StoreConformance, AUserAndItsFirstKeyAreCreatedTogetherOrNotAtAll) {
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

TEST_P(StoreConformance, AUserRoundTripsWithItsPlan) {
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

TEST_P(StoreConformance, UpdatesReplaceThePlanAndRefuseATakenExternalId) {
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

TEST_P(StoreConformance, ListingsPageWithoutLosingOrRepeatingAnything) {
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

TEST_P(StoreConformance, AKeyRoundTripsAndIsFoundByItsHash) {
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

TEST_P(StoreConformance, ARevocationIsFinalAndKeepsItsFirstTime) {
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

TEST_P(StoreConformance, ARotationInsertsTheNewKeyAndShortensTheOldOneTogether) {
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

TEST_P(StoreConformance, DeletingAUserDeletesItsKeys) {
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

// Issue 12: keys imported from djangorestframework-api-key.
TEST_P(StoreConformance, ImportedKeysGoInTogetherAreFoundByPrefixAndRehashOnce) {
  LegacyImport a;
  a.new_user = MakeUser("usr_dj1");
  a.key = MakeKey("key_dj1", "usr_dj1");
  a.legacy = LegacyKey{"key_dj1", "Ab12Cd34", "pbkdf2_sha256$1000$salt$aGFzaA==", "drf:t"};
  LegacyImport b;  // the same owner: created by the first item
  b.key = MakeKey("key_dj2", "usr_dj1");
  b.key.environment = Environment::kTest;
  b.legacy = LegacyKey{"key_dj2", "Ef56Gh78", "sha512$$00", "drf:t"};
  ASSERT_TRUE(keys().ImportLegacyKeys({a, b}).ok());

  // All or nothing: a taken prefix in the second item undoes the first.
  LegacyImport c;
  c.new_user = MakeUser("usr_dj3");
  c.key = MakeKey("key_dj3", "usr_dj3");
  c.legacy = LegacyKey{"key_dj3", "Zz000000", "sha512$$00", "drf:t"};
  LegacyImport clash;
  clash.key = MakeKey("key_dj4", "usr_dj3");
  clash.legacy = LegacyKey{"key_dj4", "Ab12Cd34", "sha512$$00", "drf:t"};
  LegacyKeyUpdates updates{.revoke = {"key_dj2"}, .revoked_at = 900, .expire = {{"key_dj1", 5000}}};
  EXPECT_EQ(keys().ImportLegacyKeys({c, clash}, updates).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(keys().GetUser("usr_dj3").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(keys().LookupLegacyKey("Zz000000").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(keys().GetKey("key_dj2")->revoked_at);  // the revocation went with it
  EXPECT_FALSE(keys().GetKey("key_dj1")->expires_at);  // and the expiry

  // Revocations and earlier expiries of keys imported before (changed in
  // their source since) go in the same transaction; a key revoked already
  // keeps its time, and an expiry never moves later.
  ASSERT_TRUE(keys().RevokeKey("key_dj1", 800).ok());
  ASSERT_TRUE(keys().ImportLegacyKeys({}, {.revoke = {"key_dj1", "key_dj2"}, .revoked_at = 900,
                                           .expire = {{"key_dj1", 5000}, {"key_dj2", 7000}}}).ok());
  EXPECT_EQ(keys().GetKey("key_dj1")->revoked_at, 800);
  EXPECT_EQ(keys().GetKey("key_dj2")->revoked_at, 900);
  EXPECT_EQ(keys().GetKey("key_dj1")->expires_at, 5000);  // had none
  EXPECT_EQ(keys().GetKey("key_dj2")->expires_at, 7000);
  LegacyKeyUpdates later_and_earlier;
  later_and_earlier.expire = {{"key_dj1", 6000}, {"key_dj2", 4000}};
  ASSERT_TRUE(keys().ImportLegacyKeys({}, later_and_earlier).ok());
  EXPECT_EQ(keys().GetKey("key_dj1")->expires_at, 5000);  // not later
  EXPECT_EQ(keys().GetKey("key_dj2")->expires_at, 4000);  // earlier

  StatusOr<std::vector<std::pair<std::string, bool>>> prefixes = keys().ListLegacyPrefixes();
  ASSERT_TRUE(prefixes.ok()) << prefixes.status().ToString();
  std::sort(prefixes->begin(), prefixes->end());
  EXPECT_EQ(*prefixes, (std::vector<std::pair<std::string, bool>>{{"Ab12Cd34", true}, {"Ef56Gh78", true}}));
  StatusOr<std::pair<KeyWithUser, LegacyKey>> found = keys().LookupLegacyKey("Ef56Gh78");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->first.key.id, "key_dj2");
  EXPECT_EQ(found->first.key.environment, Environment::kTest);
  EXPECT_EQ(found->first.user.id, "usr_dj1");
  EXPECT_EQ(found->second.legacy_hash, "sha512$$00");
  EXPECT_EQ(found->second.source, "drf:t");

  // The first use stores the SHA-256 and drops the imported hash, once.
  KeyHash sha = MakeKey("the real key", "x").hash;
  ASSERT_TRUE(keys().CompleteLegacyKey("key_dj1", sha).ok());
  EXPECT_EQ(keys().LookupKey(sha)->key.id, "key_dj1");
  EXPECT_EQ(keys().LookupLegacyKey("Ab12Cd34")->second.legacy_hash, "");
  KeyHash other = MakeKey("another", "x").hash;
  ASSERT_TRUE(keys().CompleteLegacyKey("key_dj1", other).ok());  // done already: nothing changes
  EXPECT_EQ(keys().LookupKey(sha)->key.id, "key_dj1");
  EXPECT_EQ(keys().CompleteLegacyKey("key_none", sha).code(), StatusCode::kNotFound);
  prefixes = keys().ListLegacyPrefixes();
  std::sort(prefixes->begin(), prefixes->end());
  EXPECT_EQ(*prefixes, (std::vector<std::pair<std::string, bool>>{{"Ab12Cd34", false}, {"Ef56Gh78", true}}));

  // Deleting the user takes its imported keys along.
  ASSERT_TRUE(keys().DeleteUser("usr_dj1").ok());
  EXPECT_EQ(keys().LookupLegacyKey("Ef56Gh78").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(keys().ListLegacyPrefixes()->empty());
}

TEST_P(StoreConformance, LastUseNeverGoesBackwardsAndUnknownKeysAreSkipped) {
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_t"), nullptr).ok());
  ASSERT_TRUE(keys().InsertKey(MakeKey("key_t", "usr_t")).ok());
  ASSERT_TRUE(keys().TouchKeys({{"key_t", 500}, {"key_unknown", 600}}).ok());
  ASSERT_TRUE(keys().TouchKeys({{"key_t", 400}}).ok());
  EXPECT_EQ(keys().GetKey("key_t")->last_used_at, 500);
  ASSERT_TRUE(keys().TouchKeys({}).ok());
}

TEST_P(StoreConformance, JobsAreInsertedWithTheirChargeOnceEachAndAllOrNothing) {
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_j"), nullptr).ok());
  StatusOr<std::vector<bool>> first = jobs().InsertJobs(
      {MakeJob("job_1", "usr_j", "a", 100, 3), MakeJob("job_2", "usr_j", "b", 101, 2)});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, (std::vector<bool>{true, true}));
  // A repeated job_id writes neither the job nor its charge.
  StatusOr<std::vector<bool>> again = jobs().InsertJobs(
      {MakeJob("job_3", "usr_j", "a", 102, 5), MakeJob("job_4", "usr_j", "c", 103, 1)});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, (std::vector<bool>{false, true}));
  EXPECT_EQ(*usage().SumUsage("usr_j", Environment::kLive, 0, 1000), 6);
  // A batch naming a user that does not exist writes nothing at all.
  StatusOr<std::vector<bool>> bad = jobs().InsertJobs(
      {MakeJob("job_5", "usr_j", "d", 104, 1), MakeJob("job_6", "usr_none", "e", 105, 1)});
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(jobs().GetJob("usr_j", Environment::kLive, "d").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*usage().SumUsage("usr_j", Environment::kLive, 0, 1000), 6);
}

TEST_P(StoreConformance, AJobIsFoundByEitherIdByItsOwnerOnly) {
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_g"), nullptr).ok());
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_h"), nullptr).ok());
  ASSERT_TRUE(jobs().InsertJobs({MakeJob("job_g", "usr_g", "mine", 100, 0)}).ok());
  for (const char* id : {"job_g", "mine"}) {
    StatusOr<Job> j = jobs().GetJob("usr_g", Environment::kLive, id);
    ASSERT_TRUE(j.ok()) << id;
    EXPECT_EQ(j->id, "job_g");
    EXPECT_EQ(j->payload, "{\"n\":1}");
    EXPECT_EQ(j->status, JobStatus::kQueued);
  }
  EXPECT_EQ(jobs().GetJob("usr_h", Environment::kLive, "job_g").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(jobs().GetJob("usr_g", Environment::kTest, "job_g").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreConformance, UpdatesMoveJobsOutOfThePendingSet) {
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_q"), nullptr).ok());
  std::vector<JobStore::NewJob> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(MakeJob("job_q" + std::to_string(i), "usr_q", "q" + std::to_string(i), 100 + i, 0));
  }
  ASSERT_TRUE(jobs().InsertJobs(batch).ok());
  EXPECT_EQ(jobs().ListUnfinishedJobs({.limit = 10, .after = {}})->items.size(), 5u);
  Job done = *jobs().GetJob("usr_q", Environment::kLive, "job_q1");
  done.status = JobStatus::kSucceeded;
  done.result = "{\"echo\":1}";
  done.started_at = 200;
  done.finished_at = 201;
  Job gone = done;
  gone.id = "job_missing";  // skipped
  ASSERT_TRUE(jobs().UpdateJobs({done, gone}).ok());
  EXPECT_EQ(jobs().ListUnfinishedJobs({.limit = 10, .after = {}})->items.size(), 4u);
  StatusOr<Job> read = jobs().GetJob("usr_q", Environment::kLive, "job_q1");
  EXPECT_EQ(read->result, "{\"echo\":1}");
  EXPECT_EQ(read->finished_at, 201);

  // Unfinished jobs, oldest first, in pages, full.
  std::vector<std::string> unfinished;
  PageRequest page{.limit = 3, .after = {}};
  for (;;) {
    StatusOr<Page<Job>> p = jobs().ListUnfinishedJobs(page);
    ASSERT_TRUE(p.ok());
    for (const Job& j : p->items) {
      unfinished.push_back(j.id);
      EXPECT_FALSE(j.payload.empty());
    }
    if (!p->next) break;
    page.after = *p->next;
  }
  EXPECT_EQ(unfinished, (std::vector<std::string>{"job_q0", "job_q2", "job_q3", "job_q4"}));

  // A user's jobs, newest first, as summaries.
  StatusOr<Page<Job>> listed = jobs().ListJobs("usr_q", Environment::kLive, {.limit = 2, .after = {}});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->items.size(), 2u);
  EXPECT_EQ(listed->items[0].id, "job_q4");
  EXPECT_TRUE(listed->items[0].payload.empty());
  StatusOr<Page<Job>> rest = jobs().ListJobs("usr_q", Environment::kLive, {.limit = 10, .after = *listed->next});
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->items.size(), 3u);
}

// Outcomes of jobs that ran and new jobs in one call (one transaction on
// SQLite); when the new jobs fail, none of them is written.
TEST_P(StoreConformance, CommitJobsWritesOutcomesWithNewJobs) {
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_w"), nullptr).ok());
  ASSERT_TRUE(jobs().InsertJobs({MakeJob("job_w1", "usr_w", "w1", 100, 1)}).ok());
  Job done = *jobs().GetJob("usr_w", Environment::kLive, "job_w1");
  done.status = JobStatus::kFailed;
  done.error = "boom";
  done.started_at = 150;
  done.finished_at = 151;
  StatusOr<std::vector<bool>> r = jobs().CommitJobs(
      {MakeJob("job_w2", "usr_w", "w2", 200, 2), MakeJob("job_w3", "usr_w", "w1", 201, 2)}, {done});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (std::vector<bool>{true, false}));  // w1 is taken: neither job nor charge
  StatusOr<Job> read = jobs().GetJob("usr_w", Environment::kLive, "job_w1");
  EXPECT_EQ(read->status, JobStatus::kFailed);
  EXPECT_EQ(read->error, "boom");
  EXPECT_EQ(read->finished_at, 151);
  EXPECT_EQ(*usage().SumUsage("usr_w", Environment::kLive, 0, 1000), 3);

  // Outcomes alone.
  done.error = "again";
  ASSERT_TRUE(jobs().CommitJobs({}, {done}).ok());
  EXPECT_EQ(jobs().GetJob("usr_w", Environment::kLive, "job_w1")->error, "again");

  // A batch with a user that does not exist writes none of its jobs.
  StatusOr<std::vector<bool>> bad =
      jobs().CommitJobs({MakeJob("job_w4", "usr_w", "w4", 300, 1), MakeJob("job_w5", "usr_nobody", "w5", 301, 1)},
                        {done});
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(jobs().GetJob("usr_w", Environment::kLive, "job_w4").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*usage().SumUsage("usr_w", Environment::kLive, 0, 1000), 3);
}

TEST_P(StoreConformance, UsageIsSummedPerEnvironmentAndReportedPerKey) {
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_m"), nullptr).ok());
  ASSERT_TRUE(usage().AppendUsage({
      {"usr_m", "key_1", Environment::kLive, 3, "verify", 100},
      {"usr_m", "key_1", Environment::kLive, 4, "job:echo", 150},
      {"usr_m", "key_2", Environment::kLive, 5, "verify", 199},
      {"usr_m", "key_2", Environment::kTest, 7, "verify", 120},
      {"usr_m", "key_1", Environment::kLive, 100, "verify", 200},  // outside [100, 200)
  }).ok());
  EXPECT_EQ(*usage().SumUsage("usr_m", Environment::kLive, 100, 200), 12);
  EXPECT_EQ(*usage().SumUsage("usr_m", Environment::kTest, 100, 200), 7);
  StatusOr<std::vector<UsageByKey>> report = usage().UsageReport("usr_m", 100, 200);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->size(), 3u);
  EXPECT_EQ((*report)[0].key_id, "key_1");
  EXPECT_EQ((*report)[0].units, 7);
  EXPECT_EQ((*report)[0].entries, 2);
  EXPECT_EQ((*report)[2].environment, Environment::kTest);
  EXPECT_EQ(usage().UsageReport("usr_none", 0, 1).status().code(), StatusCode::kNotFound);
  // All or nothing: one entry for a missing user refuses the whole batch.
  EXPECT_EQ(usage().AppendUsage({{"usr_m", "k", Environment::kLive, 1, "verify", 150},
                                 {"usr_none", "k", Environment::kLive, 1, "verify", 150}}).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(*usage().SumUsage("usr_m", Environment::kLive, 100, 200), 12);
}

// A job's charge is kept on its row; the ledger holds every other charge
// (and the jobs' of earlier versions, written with charge = false here).
TEST_P(StoreConformance, JobChargesAndLedgerEntriesAreReportedTogether) {
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_r"), nullptr).ok());
  JobStore::NewJob test_job = MakeJob("job_r3", "usr_r", "c", 130, 4);
  test_job.job.environment = Environment::kTest;
  JobStore::NewJob earlier = MakeJob("job_r4", "usr_r", "d", 140, 5);
  earlier.charge = false;  // its charge is the ledger entry below
  ASSERT_TRUE(jobs().InsertJobs({MakeJob("job_r1", "usr_r", "a", 100, 3), MakeJob("job_r2", "usr_r", "b", 199, 2),
                                 test_job, earlier}).ok());
  ASSERT_TRUE(usage().AppendUsage({{"usr_r", "key_j", Environment::kLive, 5, "job:echo", 140},
                                   {"usr_r", "key_v", Environment::kLive, 7, "verify", 150}}).ok());
  EXPECT_EQ(*usage().SumUsage("usr_r", Environment::kLive, 100, 200), 17);
  EXPECT_EQ(*usage().SumUsage("usr_r", Environment::kLive, 101, 199), 12);
  EXPECT_EQ(*usage().SumUsage("usr_r", Environment::kTest, 100, 200), 4);
  StatusOr<std::vector<UsageByKey>> report = usage().UsageReport("usr_r", 100, 199);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  ASSERT_EQ(report->size(), 3u);
  EXPECT_EQ((*report)[0].key_id, "key_j");  // job_r1 (3) and the earlier job's entry (5)
  EXPECT_EQ((*report)[0].environment, Environment::kLive);
  EXPECT_EQ((*report)[0].units, 8);
  EXPECT_EQ((*report)[0].entries, 2);
  EXPECT_EQ((*report)[1].key_id, "key_v");
  EXPECT_EQ((*report)[1].units, 7);
  EXPECT_EQ((*report)[2].environment, Environment::kTest);
  EXPECT_EQ((*report)[2].units, 4);
  EXPECT_EQ((*report)[2].entries, 1);
}

TEST_P(StoreConformance, TheStoreRefusesALiveChargePastTheMonthlyCredits) {
  User u = MakeUser("usr_c");
  u.plan.monthly_credits = 5;
  ASSERT_TRUE(keys().CreateUser(u, nullptr).ok());
  constexpr UnixMillis kNov = 1793491200000, kDec = 1796083200000;  // 2026-11-01, 2026-12-01 UTC
  ASSERT_TRUE(jobs().InsertJobs({MakeJob("job_c1", "usr_c", "a", kNov, 3)}).ok());
  // 3 + 3 > 5: neither the job nor its charge is written.
  StatusOr<std::vector<bool>> over = jobs().InsertJobs({MakeJob("job_c2", "usr_c", "b", kNov + 1, 3)});
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(jobs().GetJob("usr_c", Environment::kLive, "b").status().code(), StatusCode::kNotFound);
  // Exactly up to the limit is fine; one more unit is not, also through the ledger.
  ASSERT_TRUE(jobs().InsertJobs({MakeJob("job_c3", "usr_c", "c", kNov + 2, 2)}).ok());
  EXPECT_EQ(usage().AppendUsage({{"usr_c", "k", Environment::kLive, 1, "verify", kDec - 1}}).code(),
            StatusCode::kResourceExhausted);
  // A batch with one charge too many writes nothing at all.
  EXPECT_EQ(usage().AppendUsage({{"usr_c", "k", Environment::kTest, 1, "verify", kNov},
                                 {"usr_c", "k", Environment::kLive, 1, "verify", kNov}}).code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(*usage().SumUsage("usr_c", Environment::kTest, kNov, kDec), 0);
  // Test traffic is never charged; a new month starts from zero.
  EXPECT_TRUE(usage().AppendUsage({{"usr_c", "k", Environment::kTest, 50, "verify", kNov}}).ok());
  EXPECT_TRUE(usage().AppendUsage({{"usr_c", "k", Environment::kLive, 5, "verify", kDec}}).ok());
  EXPECT_EQ(*usage().SumUsage("usr_c", Environment::kLive, kNov, kDec), 5);
  // Raising the plan lifts the refusal at once; unlimited plans still count.
  u.plan.monthly_credits = 6;
  ASSERT_TRUE(keys().UpdateUser(u).ok());
  EXPECT_TRUE(usage().AppendUsage({{"usr_c", "k", Environment::kLive, 1, "verify", kNov}}).ok());
  u.plan.monthly_credits.reset();
  ASSERT_TRUE(keys().UpdateUser(u).ok());
  EXPECT_TRUE(usage().AppendUsage({{"usr_c", "k", Environment::kLive, 10, "verify", kNov}}).ok());
  u.plan.monthly_credits = 16;
  ASSERT_TRUE(keys().UpdateUser(u).ok());
  EXPECT_EQ(usage().AppendUsage({{"usr_c", "k", Environment::kLive, 1, "verify", kNov}}).code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(*usage().SumUsage("usr_c", Environment::kLive, kNov, kDec), 16);
}

TEST_P(StoreConformance, ABatchKeepsEveryByteAndTheFirstOfTwoEqualJobIds) {
  ASSERT_TRUE(keys().CreateUser(MakeUser("usr_b"), nullptr).ok());
  JobStore::NewJob odd = MakeJob("job_b1", "usr_b", "x", 100, 2);
  odd.job.payload = R"({"s":"a\"b\\c,{}\u00e9 NULL","t":"é ✓","n":null})";
  odd.job.error = "NULL";
  JobStore::NewJob twin = MakeJob("job_b2", "usr_b", "x", 101, 5);  // same job_id: skipped
  JobStore::NewJob plain = MakeJob("job_b3", "usr_b", "y", 102, 0);
  StatusOr<std::vector<bool>> r = jobs().InsertJobs({odd, twin, plain});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (std::vector<bool>{true, false, true}));
  StatusOr<Job> got = jobs().GetJob("usr_b", Environment::kLive, "x");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->id, "job_b1");
  EXPECT_EQ(got->payload, odd.job.payload);
  EXPECT_EQ(got->error, std::optional<std::string>("NULL"));
  EXPECT_FALSE(got->result.has_value());
  EXPECT_EQ(*usage().SumUsage("usr_b", Environment::kLive, 0, 1000), 2);  // the twin's charge is not written
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance,
                         ::testing::Values(Kind::kSqlite, Kind::kPostgres),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                           return info.param == Kind::kSqlite ? std::string("Sqlite")
                                                              : std::string("Postgres");
                         });

}  // namespace
}  // namespace keyward

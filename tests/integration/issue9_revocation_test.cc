// Regression tests for issue 9: a change made by another writer — the CLI on
// the same database (SQLite, or PostgreSQL in the postgres/ run) — reaches
// the running server through the change feed, not after the cache TTL (set
// to an hour here, so it cannot be the cause).
#include <gtest/gtest.h>

#include <chrono>

#include "support/eventually.h"
#include "support/server_fixture.h"
#include "support/subprocess.h"

namespace keyward {
namespace {

using nlohmann::json;
using testing::HttpReply;

class CliRevocation : public testing::ServerTest {
 protected:
  void SetUp() override { Start({}, {"KEYWARD_CACHE_TTL=1h"}); }

  // The second node's environment: the same settings as the first.
  std::vector<std::string> OtherNodeEnv() {
    std::vector<std::string> env = {"KEYWARD_CACHE_TTL=1h"};
    if (OnPostgres()) env.push_back("KEYWARD_SEAL_KEY_FILE=" + dir_.File("seal.key"));
    return env;
  }

  void Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::KeywardBinary(), "--db", db_});
    testing::RunResult r = testing::Run(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // The status `send()` answers once it becomes `want`, or the last one seen
  // after a bounded wait (the feed is polled every 10 ms).
  template <typename Send>
  static int StatusBecomes(Send send, int want) {
    int status = 0;
    testing::Eventually([&] { return (status = send()) == want; }, std::chrono::seconds(10),
                        std::chrono::milliseconds(5));
    return status;
  }
  int AuthzBecomes(const std::string& key, int want, const std::string& query = "") {
    return StatusBecomes([&] { return Authz(key, query).status; }, want);
  }
};

TEST_F(CliRevocation, Issue9_EveryKindOfChangeFromTheCliReachesTheServer) {
  testing::CreatedUser revoked = NewUser({{"name", "revoked"}});
  testing::CreatedUser all = NewUser({{"name", "all"}});
  testing::CreatedUser disabled = NewUser({{"name", "disabled"}});
  testing::CreatedUser deleted = NewUser({{"name", "deleted"}});
  testing::CreatedUser key_deleted = NewUser({{"name", "key deleted"}});
  testing::CreatedUser narrowed = NewUser({{"name", "narrowed"}});
  auto [second, second_id] = Issue(all.id);
  for (const std::string& k : {revoked.key, all.key, second, disabled.key, deleted.key, key_deleted.key, narrowed.key}) {
    ASSERT_EQ(Authz(k).status, 200);  // now cached
  }
  ASSERT_EQ(Authz(narrowed.key, "?scope=jobs:write").status, 200);
  Cli({"key", "revoke", revoked.key_id});
  Cli({"key", "revoke-all", all.id});
  Cli({"user", "disable", disabled.id});
  Cli({"user", "delete", deleted.id});
  Cli({"key", "delete", key_deleted.key_id});
  EXPECT_EQ(AuthzBecomes(revoked.key, 401), 401);
  EXPECT_EQ(AuthzBecomes(all.key, 401), 401);
  EXPECT_EQ(AuthzBecomes(second, 401), 401);
  EXPECT_EQ(AuthzBecomes(disabled.key, 401), 401);
  EXPECT_EQ(AuthzBecomes(deleted.key, 401), 401);
  EXPECT_EQ(AuthzBecomes(key_deleted.key, 401), 401);
  EXPECT_EQ(Json(Authz(revoked.key))["error"]["code"], "REVOKED");
  EXPECT_EQ(Json(Authz(disabled.key))["error"]["code"], "USER_DISABLED");
  // A plan change made by another writer: narrowing the allowed scopes.
  ExecSql("UPDATE users SET allowed_scopes = 'jobs:read' WHERE id = '" + narrowed.id + "'");
  EXPECT_EQ(AuthzBecomes(narrowed.key, 403, "?scope=jobs:write"), 403);
  EXPECT_EQ(Authz(narrowed.key, "?scope=jobs:read").status, 200);
  // Unchanged users are untouched.
  testing::CreatedUser bystander = NewUser({{"name", "bystander"}});
  EXPECT_EQ(Authz(bystander.key).status, 200);
}

// Two servers on one database (two nodes): a revocation made through one
// node's admin API reaches the other one's cache through the feed.
TEST_F(CliRevocation, ARevocationOnOneNodeReachesTheOther) {
  testing::ServerProcess other(db_, dir_.File("other.log"), {}, OtherNodeEnv());
  ASSERT_TRUE(other.started()) << other.Errors();
  testing::CreatedUser u = NewUser();
  ASSERT_EQ(testing::HttpGet(other.address(), "/v1/authz", {testing::KeyAuth(u.key)}).status, 200);
  ASSERT_EQ(Admin("POST", "/v1/keys/" + u.key_id + "/revoke").status, 200);
  auto authz_other = [&] {
    return testing::HttpGet(other.address(), "/v1/authz", {testing::KeyAuth(u.key)}).status;
  };
  EXPECT_EQ(StatusBecomes(authz_other, 401), 401);
}

}  // namespace
}  // namespace keyward

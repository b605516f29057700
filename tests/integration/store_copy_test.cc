// Issue 11: `keyward store copy` moves a SQLite database that a server
// filled into PostgreSQL; a server on PostgreSQL then serves the same keys,
// jobs, ledger and queue, with the credits exact; a re-run copies nothing
// new; bad input and a target holding other data change nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "support/postgres_fixture.h"
#include "support/server_process.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace keyward {
namespace {

using nlohmann::json;
using testing::HttpReply;

class StoreCopy : public ::testing::Test {
 protected:
  void SetUp() override { pg_.Create(); }

  testing::RunResult Copy(const std::string& from, const std::string& to) {
    return testing::Run({testing::KeywardBinary(), "--json", "store", "copy", "--from", from, "--to", to});
  }
  static json Tables(const testing::RunResult& r) {
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j.is_discarded() ? json::object() : j["tables"];
  }
  static HttpReply Admin(const std::string& addr, const std::string& method, const std::string& path,
                         const json& body = nullptr) {
    testing::HttpConnection c(addr);
    return c.Send(method, path, {testing::AdminAuth()}, body.is_null() ? "" : body.dump());
  }
  static HttpReply Verify(const std::string& addr, const std::string& key, int cost) {
    testing::HttpConnection c(addr);
    return c.Send("POST", "/v1/keys/verify", {}, json{{"key", key}, {"cost", cost}}.dump());
  }
  static HttpReply Submit(const std::string& addr, const std::string& key, const std::string& job_id,
                          const std::string& path = "/v1/ai/jobs") {
    testing::HttpConnection c(addr);
    return c.Send("POST", path, {testing::KeyAuth(key)}, json{{"job_id", job_id}, {"task", "echo"}}.dump());
  }

  testing::TempDir dir_;
  testing::PostgresDatabase pg_;
  std::string sqlite_ = dir_.File("keyward.db");
};

TEST_F(StoreCopy, ASqliteDatabaseMovesToPostgresAndKeepsWorking) {
  std::string key, revoked, user_id, test_key;
  {
    testing::ServerProcess s(sqlite_, dir_.File("a.log"));
    ASSERT_TRUE(s.started()) << s.Errors();
    json u = json::parse(Admin(s.address(), "POST", "/v1/users",
                               {{"name", "Acme"}, {"external_id", "acme-1"},
                                {"plan", {{"monthly_credits", 10}, {"rate_limit", 1000}}}})
                             .body);
    user_id = u["user"]["id"];
    key = u["key"]["secret"];
    json r = json::parse(Admin(s.address(), "POST", "/v1/users/" + user_id + "/keys", json::object()).body);
    revoked = r["key"]["secret"];
    ASSERT_EQ(Admin(s.address(), "POST", "/v1/keys/" + std::string(r["key"]["id"]) + "/revoke").status, 200);
    test_key = json::parse(Admin(s.address(), "POST", "/v1/users/" + user_id + "/keys",
                                 {{"environment", "test"}}).body)["key"]["secret"];
    for (int i = 0; i < 3; ++i) ASSERT_EQ(Submit(s.address(), key, "live-" + std::to_string(i)).status, 201);
    ASSERT_EQ(Submit(s.address(), test_key, "test-0").status, 201);
    ASSERT_EQ(Submit(s.address(), key, "queued-0", "/v1/queue/jobs").status, 201);
    ASSERT_EQ(Admin(s.address(), "POST", "/v1/users", {{"name", "Second"}}).status, 201);
    // A charge of the ledger's own (job charges are kept on the jobs' rows).
    ASSERT_EQ(Verify(s.address(), key, 1).status, 200);
  }

  testing::RunResult first = Copy("sqlite:" + sqlite_, pg_.Uri());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  json t = Tables(first);
  EXPECT_EQ(t["users"]["source"], 2);
  EXPECT_EQ(t["users"]["copied"], 2);
  EXPECT_EQ(t["api_keys"]["copied"], t["api_keys"]["source"]);
  EXPECT_GE(t["api_keys"]["source"], 4);  // with the queue entry's own key
  EXPECT_EQ(t["jobs"]["copied"], 4);
  EXPECT_EQ(t["usage"]["copied"], 1);
  EXPECT_EQ(t["queue"]["copied"], 1);
  EXPECT_EQ(t["meta"]["copied"], t["meta"]["source"]);

  // Again: nothing new, everything verified.
  testing::RunResult again = Copy(sqlite_, pg_.Uri());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  json t2 = Tables(again);
  EXPECT_EQ(t2["users"]["copied"], 0);
  EXPECT_EQ(t2["users"]["already_there"], 2);
  EXPECT_EQ(t2["usage"]["copied"], 0);

  // A server on PostgreSQL, with the same seal key, serves what was copied.
  testing::ServerProcess pg(pg_.Uri(), dir_.File("b.log"), {},
                            {"KEYWARD_SEAL_KEY_FILE=" + sqlite_ + ".sealkey"});
  ASSERT_TRUE(pg.started()) << pg.Errors();
  EXPECT_EQ(testing::HttpGet(pg.address(), "/v1/authz", {testing::KeyAuth(key)}).status, 200);
  EXPECT_EQ(testing::HttpGet(pg.address(), "/v1/authz", {testing::KeyAuth(revoked)}).status, 401);
  EXPECT_EQ(testing::HttpGet(pg.address(), "/v1/ai/jobs/live-1", {testing::KeyAuth(key)}).status, 200);
  EXPECT_EQ(testing::HttpGet(pg.address(), "/v1/queue/jobs/queued-0", {testing::KeyAuth(key)}).status, 200);
  json usage = json::parse(Admin(pg.address(), "GET", "/v1/users/" + user_id + "/usage").body);
  EXPECT_EQ(usage["credits"]["used_this_month"], 4);  // three jobs and the ledger's charge
  EXPECT_EQ(usage["credits"]["remaining"], 6);
  EXPECT_EQ(usage["environments"]["live"]["entries"], 4);
  EXPECT_EQ(usage["environments"]["test"]["units"], 1);
  // The credit count came across: 6 more live jobs fit in 10, the 7th does not.
  for (int i = 0; i < 6; ++i) EXPECT_EQ(Submit(pg.address(), key, "more-" + std::to_string(i)).status, 201);
  HttpReply over = Submit(pg.address(), key, "more-6");
  EXPECT_EQ(over.status, 429);
  EXPECT_NE(over.body.find("QUOTA_EXCEEDED"), std::string::npos);
  // A new charge's ledger number follows the copied ones.
  EXPECT_EQ(Verify(pg.address(), test_key, 1).status, 200);
  EXPECT_EQ(json::parse(Admin(pg.address(), "GET", "/v1/users/" + user_id + "/usage").body)
                ["environments"]["test"]["units"], 2);

  // The target now holds data the source has not: a copy is refused whole.
  ASSERT_EQ(Admin(pg.address(), "POST", "/v1/users", {{"name", "Only in PostgreSQL"}}).status, 201);
  testing::RunResult refused = Copy(sqlite_, pg_.Uri());
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("not from this source"), std::string::npos) << refused.err;
}

TEST_F(StoreCopy, BadLocationsAreRefusedWithAClearMessage) {
  testing::RunResult to_sqlite = Copy(sqlite_, dir_.File("other.db"));
  EXPECT_EQ(to_sqlite.exit_code, 2);
  EXPECT_NE(to_sqlite.err.find("--to must be a postgres"), std::string::npos) << to_sqlite.err;
  testing::RunResult missing = Copy(dir_.File("missing.db"), pg_.Uri());
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos) << missing.err;
  testing::RunResult from_pg = Copy(pg_.Uri(), pg_.Uri());
  EXPECT_EQ(from_pg.exit_code, 2);
  EXPECT_NE(from_pg.err.find("--from must be a SQLite file"), std::string::npos) << from_pg.err;
}

}  // namespace
}  // namespace keyward

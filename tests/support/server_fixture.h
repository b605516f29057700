// server_fixture.h: a test fixture with a fresh database and a running
// `keyward serve`, plus helpers that create users and keys over HTTP. The
// database is a SQLite file, or — when ctest runs the suite against
// PostgreSQL (KEYWARD_TEST_POSTGRES) — a fresh PostgreSQL database.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "support/http_client.h"
#include "support/postgres_fixture.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace keyward::testing {

struct CreatedUser {
  std::string id;
  std::string key;     // secret of the first live key ("" if none)
  std::string key_id;
};

// Runs `sql` on `database`: a postgres:// or postgresql:// URI, else a
// SQLite file.
inline void ExecSqlOn(const std::string& database, const std::string& sql) {
  if (database.rfind("postgres", 0) == 0) {
    auto c = store::postgres::Conn::Open({.conninfo = database});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    Status st = (*c)->Run(sql);
    ASSERT_TRUE(st.ok()) << st.ToString();
    return;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(database.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  // True when this run is against PostgreSQL.
  static bool OnPostgres() { return std::getenv("KEYWARD_TEST_POSTGRES") != nullptr; }

  void Start(std::vector<std::string> args = {}, std::vector<std::string> env = {}) {
    if (OnPostgres() && db_.rfind("postgres", 0) != 0) {
      pg_.Create();
      if (HasFatalFailure()) return;
      db_ = pg_.Uri();
    }
    if (OnPostgres()) env.push_back("KEYWARD_SEAL_KEY_FILE=" + dir_.File("seal.key"));
    server_ = std::make_unique<ServerProcess>(db_, log_, std::move(args), std::move(env));
    ASSERT_TRUE(server_->started()) << server_->Errors();
  }
  const std::string& addr() const { return server_->address(); }
  // The environment a CLI process needs for the server's seal key (a file
  // of its own on PostgreSQL; beside the database file on SQLite).
  std::vector<std::string> SealEnv() {
    if (!OnPostgres()) return {};
    return {"KEYWARD_SEAL_KEY_FILE=" + dir_.File("seal.key")};
  }

  nlohmann::json Json(const HttpReply& r) {
    nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.status << " " << r.body;
    return j;
  }

  HttpReply Admin(const std::string& method, const std::string& path, const std::string& body = "") {
    HttpConnection c(addr());
    return c.Send(method, path, {AdminAuth()}, body);
  }

  CreatedUser NewUser(nlohmann::json body = {{"name", "Acme"}}) {
    HttpReply r = Admin("POST", "/v1/users", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    nlohmann::json j = Json(r);
    CreatedUser u;
    u.id = j["user"]["id"];
    if (!j["key"].is_null()) {
      u.key = j["key"]["secret"];
      u.key_id = j["key"]["id"];
    }
    return u;
  }

  // Issues a key; returns {secret, id}.
  std::pair<std::string, std::string> Issue(const std::string& user_id, nlohmann::json body = nlohmann::json::object()) {
    HttpReply r = Admin("POST", "/v1/users/" + user_id + "/keys", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    nlohmann::json j = Json(r);
    return {j["key"]["secret"], j["key"]["id"]};
  }

  // `n` more keys of `user_id` over one connection: (secret, id) each; fewer
  // after a failure.
  std::vector<std::pair<std::string, std::string>> IssueMany(const std::string& user_id, int n) {
    HttpConnection c(addr());
    std::vector<std::pair<std::string, std::string>> keys;
    for (int i = 0; i < n; ++i) {
      HttpReply r = c.Send("POST", "/v1/users/" + user_id + "/keys", {AdminAuth()}, "{}");
      EXPECT_EQ(r.status, 201) << r.body;
      if (r.status != 201) break;
      nlohmann::json j = Json(r);
      keys.emplace_back(j["key"]["secret"], j["key"]["id"]);
    }
    return keys;
  }

  HttpReply Authz(const std::string& key, const std::string& query = "") {
    return HttpGet(addr(), "/v1/authz" + query, {KeyAuth(key)});
  }

  nlohmann::json Verify(nlohmann::json body) {
    HttpReply r = HttpPost(addr(), "/v1/keys/verify", body.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r);
  }

  HttpReply SubmitJob(const std::string& key, const std::string& job_id,
                      const std::string& task = "echo",
                      nlohmann::json payload = {{"n", 1}}) {
    return HttpPost(addr(), "/v1/ai/jobs",
                    nlohmann::json{{"job_id", job_id}, {"task", task}, {"payload", payload}}.dump(),
                    {KeyAuth(key)});
  }

  // Hand-written SQL on the server's database, as another writer would run
  // it (the statements used here read the same on SQLite and PostgreSQL).
  void ExecSql(const std::string& sql) { ExecSqlOn(db_, sql); }

  TempDir dir_;
  PostgresDatabase pg_;  // declared before server_: the server stops first
  std::string db_ = dir_.File("keyward.db");
  std::string log_ = dir_.File("access.log");
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace keyward::testing

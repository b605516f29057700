// Integration tests: the built `keyward` binary, run as a user would run it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace keyward {
namespace {

using nlohmann::json;
using testing::RunResult;

class CliTest : public ::testing::Test {
 protected:
  RunResult Kw(std::vector<std::string> args, const std::string& input = "",
               std::vector<std::string> env = {}) {
    args.insert(args.begin(), {testing::KeywardBinary(), "--db", db_});
    return testing::Run(args, input, env);
  }
  // Runs with --json, expects exit 0 and one JSON object.
  json KwJson(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    RunResult r = Kw(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }

  testing::TempDir dir_;
  std::string db_ = dir_.File("keyward.db");
};

TEST_F(CliTest, WholeLifecycle) {
  json created = KwJson({"user", "add", "Acme Corp", "--external-id", "acme-1", "--email",
                         "ops@acme.test", "--monthly-credits", "500", "--rate-limit", "20"});
  std::string user = created["user"]["id"];
  EXPECT_EQ(user.rfind("usr_", 0), 0u);
  EXPECT_EQ(created["user"]["external_id"], "acme-1");
  EXPECT_EQ(created["user"]["plan"]["monthly_credits"], 500);
  std::string live = created["key"]["secret"];
  std::string live_id = created["key"]["id"];
  EXPECT_EQ(live.rfind("kw_live_", 0), 0u);

  json test_key = KwJson({"key", "issue", user, "--test", "--name", "staging", "--scope",
                          "jobs:write", "--ttl", "30d"});
  std::string test = test_key["key"]["secret"];
  EXPECT_EQ(test.rfind("kw_test_", 0), 0u);
  EXPECT_EQ(test_key["key"]["scopes"], json::array({"jobs:write"}));
  EXPECT_FALSE(test_key["key"]["expires_at"].is_null());

  json listed = KwJson({"key", "list", user});
  ASSERT_EQ(listed["keys"].size(), 2u);
  for (const auto& k : listed["keys"]) EXPECT_FALSE(k.contains("secret"));
  EXPECT_EQ(Kw({"key", "list", user}).out.find(live), std::string::npos);

  json v = KwJson({"verify", live});
  EXPECT_EQ(v["valid"], true);
  EXPECT_EQ(v["code"], "VALID");
  EXPECT_EQ(v["principal"]["user_id"], user);
  EXPECT_EQ(v["principal"]["external_id"], "acme-1");
  EXPECT_EQ(v["principal"]["key_id"], live_id);
  EXPECT_EQ(v["principal"]["environment"], "live");

  // The key can come from stdin, out of argv.
  RunResult from_stdin = Kw({"--json", "verify", "-", "--env", "test", "--scope", "jobs:write"},
                            test + "\n");
  EXPECT_EQ(from_stdin.exit_code, 0) << from_stdin.err;

  json rotated = KwJson({"key", "rotate", live_id, "--grace", "1h"});
  std::string fresh = rotated["key"]["secret"];
  EXPECT_EQ(rotated["key"]["rotated_from"], live_id);
  EXPECT_EQ(rotated["old_key"]["id"], live_id);
  EXPECT_FALSE(rotated["old_key"]["expires_at"].is_null());
  EXPECT_FALSE(rotated["old_key"].contains("secret"));
  EXPECT_EQ(Kw({"verify", live}).exit_code, 0);   // still within grace
  EXPECT_EQ(Kw({"verify", fresh}).exit_code, 0);  // works at once

  KwJson({"key", "revoke", live_id});
  RunResult revoked = Kw({"--json", "verify", live});
  EXPECT_EQ(revoked.exit_code, 1);
  EXPECT_EQ(json::parse(revoked.out)["code"], "REVOKED");

  KwJson({"user", "disable", user});
  EXPECT_EQ(json::parse(Kw({"--json", "verify", fresh}).out)["code"], "USER_DISABLED");
  KwJson({"user", "enable", user});
  EXPECT_EQ(Kw({"verify", fresh}).exit_code, 0);

  json all = KwJson({"key", "revoke-all", user});
  EXPECT_EQ(all["revoked"], 2);  // fresh + test; live was already revoked
  EXPECT_EQ(Kw({"verify", test}).exit_code, 1);

  std::string test_id = test_key["key"]["id"];
  KwJson({"key", "delete", test_id});
  EXPECT_EQ(Kw({"key", "show", test_id}).exit_code, 3);

  KwJson({"user", "delete", user});
  EXPECT_EQ(Kw({"user", "show", user}).exit_code, 3);
  EXPECT_EQ(json::parse(Kw({"--json", "verify", fresh}).out)["code"], "NOT_FOUND");
}

TEST_F(CliTest, UserAddWithoutKeyPrintsNullKey) {
  json j = KwJson({"user", "add", "Quiet", "--no-key"});
  EXPECT_TRUE(j["key"].is_null());
  EXPECT_TRUE(KwJson({"key", "list", j["user"]["id"]})["keys"].empty());
}

TEST_F(CliTest, HumanOutputShowsTheSecretOnceWithAWarning) {
  RunResult r = Kw({"user", "add", "Acme"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("kw_live_"), std::string::npos);
  EXPECT_NE(r.out.find("never show it again"), std::string::npos);
  RunResult list = Kw({"user", "list"});
  EXPECT_NE(list.out.find("Acme"), std::string::npos);
  EXPECT_EQ(list.out.find("kw_live_"), std::string::npos);
}

TEST_F(CliTest, ExitCodesMatchTheDocumentation) {
  json u = KwJson({"user", "add", "A"});
  std::string user = u["user"]["id"];
  // 1: refused
  EXPECT_EQ(Kw({"verify", "kw_live_nope"}).exit_code, 1);
  // 2: usage errors, each one line on stderr
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"key", "issue", user, "--ttl", "3 days"},
           {"key", "issue", user, "--expires", "tomorrow"},
           {"key", "issue", user, "--ttl", "1d", "--expires", "2030-01-01T00:00:00Z"},
           {"key", "issue", user, "--expires", "2001-01-01T00:00:00Z"},
           {"key", "issue", user, "--scope", "NOT A SCOPE"},
           {"key", "rotate", u["key"]["id"], "--grace", "soon"},
           {"user", "add", "B", "--email", "nope"},
           {"user", "add", "B", "--monthly-credits", "lots"},
           {"verify", "x", "--env", "prod"},
           {"user", "frobnicate"},
           {"--no-such-flag", "user", "list"},
           {},
       }) {
    RunResult r = Kw(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.rfind("keyward: ", 0), 0u) << r.err;
  }
  KwJson({"user", "add", "C", "--external-id", "dup"});
  EXPECT_EQ(Kw({"user", "add", "D", "--external-id", "dup"}).exit_code, 2);
  // 3: unknown ids
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"user", "show", "usr_missing"}, {"user", "delete", "usr_missing"},
           {"user", "disable", "usr_missing"}, {"key", "issue", "usr_missing"},
           {"key", "list", "usr_missing"}, {"key", "show", "key_missing"},
           {"key", "revoke", "key_missing"}, {"key", "revoke-all", "usr_missing"},
           {"key", "rotate", "key_missing"}, {"key", "delete", "key_missing"},
           {"user", "show", "usr_'; DROP TABLE users; --"}, {"key", "show", "../../etc/passwd"}}) {
    RunResult r = Kw(args);
    EXPECT_EQ(r.exit_code, 3) << ::testing::PrintToString(args) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  // 0: help
  EXPECT_EQ(testing::Run({testing::KeywardBinary(), "--help"}).exit_code, 0);
  EXPECT_NE(testing::Run({testing::KeywardBinary(), "--help"}).out.find("Exit codes"),
            std::string::npos);
}

TEST_F(CliTest, StorageErrorsExitFour) {
  RunResult missing_dir = testing::Run(
      {testing::KeywardBinary(), "--db", dir_.File("no/such/dir/k.db"), "user", "list"});
  EXPECT_EQ(missing_dir.exit_code, 4) << missing_dir.err;
  EXPECT_NE(missing_dir.err.find("cannot open database"), std::string::npos) << missing_dir.err;

  std::string junk = dir_.File("junk.db");
  std::FILE* f = std::fopen(junk.c_str(), "w");
  std::fputs("definitely not an SQLite database, but long enough to have a header", f);
  std::fclose(f);
  RunResult not_db = testing::Run({testing::KeywardBinary(), "--db", junk, "user", "list"});
  EXPECT_EQ(not_db.exit_code, 4);
  EXPECT_NE(not_db.err.find("not a keyward database"), std::string::npos) << not_db.err;
}

TEST_F(CliTest, NewerSchemaIsRefusedWithAClearMessage) {
  KwJson({"user", "list"});
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_version VALUES (9999, 'future', 0)", nullptr,
                         nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  RunResult r = Kw({"user", "list"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("newer than this keyward"), std::string::npos) << r.err;
}

TEST_F(CliTest, LockedDatabaseFailsWithStorageErrorNotAHang) {
  KwJson({"user", "list"});
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  RunResult r = Kw({"user", "add", "Blocked"}, "", {"KEYWARD_BUSY_TIMEOUT_MS=200"});
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("locked"), std::string::npos) << r.err;
  EXPECT_TRUE(KwJson({"user", "list"})["users"].empty());
}

TEST_F(CliTest, NoPlaintextKeyIsEverWrittenToTheDatabaseOrWal) {
  std::vector<std::string> secrets;
  for (int i = 0; i < 5; ++i) {
    json u = KwJson({"user", "add", "U" + std::to_string(i)});
    secrets.push_back(u["key"]["secret"]);
    std::string id = u["user"]["id"];
    json t = KwJson({"key", "issue", id, "--test"});
    secrets.push_back(t["key"]["secret"]);
    json r = KwJson({"key", "rotate", t["key"]["id"]});
    secrets.push_back(r["key"]["secret"]);
  }
  for (const auto& s : secrets) ASSERT_EQ(Kw({"verify", s}).exit_code, 0);
  std::string bytes;
  for (const char* suffix : {"", "-wal", "-shm"}) bytes += testing::ReadFileBytes(db_ + suffix);
  ASSERT_GT(bytes.size(), 4096u);
  for (const auto& s : secrets) {
    EXPECT_EQ(bytes.find(s), std::string::npos) << "plaintext key found at rest";
    // Nor the secret part without the prefix.
    EXPECT_EQ(bytes.find(s.substr(12)), std::string::npos);
  }
}

TEST_F(CliTest, KeywardDbEnvironmentVariableChoosesTheFile) {
  std::string other = dir_.File("from-env.db");
  RunResult r = testing::Run({testing::KeywardBinary(), "--json", "user", "add", "Env"}, "",
                             {"KEYWARD_DB=" + other});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RunResult list = testing::Run({testing::KeywardBinary(), "--db", other, "user", "list"});
  EXPECT_NE(list.out.find("Env"), std::string::npos);
}

}  // namespace
}  // namespace keyward

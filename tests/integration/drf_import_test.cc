// Issue 12: keys made by djangorestframework-api-key's own create_key() in a
// real Django project (Debian's python3-django and
// python3-djangorestframework-api-key) keep working after `keyward import
// drf`: the very same plaintext keys authenticate on every route that takes
// a key, a revoked or expired one is refused with its code, a wrong secret
// or an unknown prefix is refused, and a re-run imports nothing twice. The
// Django database is SQLite, or PostgreSQL when the suite runs on it.
#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "support/eventually.h"
#include "support/server_fixture.h"
#include "support/subprocess.h"

namespace keyward {
namespace {

using nlohmann::json;

class DrfImport : public testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    std::vector<std::string> argv = {"/usr/bin/python3", KEYWARD_SOURCE_DIR "/tests/support/django/make_db.py",
                                     dir_.File("django")};
    if (OnPostgres()) {
      django_pg_.Create();
      ASSERT_FALSE(HasFatalFailure());
      argv.insert(argv.end(), {"--engine", "postgres", "--pg-uri", django_pg_.Uri()});
    }
    testing::RunResult made = testing::Run(argv);
    ASSERT_EQ(made.exit_code, 0) << made.err;
    django_ = json::parse(made.out, nullptr, false);
    ASSERT_FALSE(django_.is_discarded()) << made.out;
  }

  // `keyward import drf` of the Django database into `db` (the server's by
  // default), with --json unless `as_json` is false.
  testing::RunResult Import(std::vector<std::string> extra = {}, const std::string& db = "", bool as_json = true) {
    std::vector<std::string> argv = {testing::KeywardBinary(), "--db", db.empty() ? db_ : db};
    if (as_json) argv.push_back("--json");
    argv.insert(argv.end(), {"import", "drf", "--from", django_["database"], "--table", django_["table"]});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::Run(argv, "", SealEnv());
  }
  // Imports the Django database into a new keyward database at `db`.
  testing::RunResult ImportInto(const std::string& db) { return Import({}, db); }
  std::string Key(const char* which) { return django_["keys"][which]; }
  // The first import, after which bob's and alice's live keys both work.
  void FirstRunThenBothKeysWork() {
    testing::RunResult r = Import();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(Authz(Key("bob")).status, 200);
    ASSERT_EQ(Authz(Key("live")).status, 200);
  }
  // Runs `sql` on the Django database (SQLite, or PostgreSQL when the suite
  // runs on it).
  void DjangoSql(const std::string& sql) { testing::ExecSqlOn(django_["database"], sql); }

  json django_;
  testing::PostgresDatabase django_pg_;
};

TEST_F(DrfImport, TheDjangoStacksOwnKeysWorkAfterImport) {
  testing::RunResult r = Import();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(r.out);
  EXPECT_EQ(report["imported"].size(), 6u) << r.out;
  EXPECT_EQ(report["skipped"].size(), 0u);
  EXPECT_EQ(report["users_created"].size(), 2u);

  // Valid, as the right user, in the right environment — the 2.x PBKDF2
  // rows and the 3.x SHA-512 row alike.
  for (const char* which : {"live", "test", "bob", "sha512"}) {
    testing::HttpReply a = Authz(Key(which));
    EXPECT_EQ(a.status, 200) << which << ": " << a.body;
  }
  json alice = Verify({{"key", Key("live")}});
  EXPECT_EQ(alice["code"], "VALID") << alice;
  EXPECT_EQ(alice["principal"]["external_id"], "django:" + std::to_string(django_["users"]["alice"].get<int>()));
  EXPECT_EQ(alice["principal"]["environment"], "live");
  EXPECT_EQ(Verify({{"key", Key("test")}})["principal"]["environment"], "test");
  EXPECT_EQ(Verify({{"key", Key("bob")}})["principal"]["external_id"],
            "django:" + std::to_string(django_["users"]["bob"].get<int>()));

  // Refused with the right codes.
  EXPECT_EQ(Verify({{"key", Key("revoked")}})["code"], "REVOKED");
  EXPECT_EQ(Verify({{"key", Key("expired")}})["code"], "EXPIRED");
  std::string wrong = Key("bob");
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(Verify({{"key", wrong}})["code"], "NOT_FOUND");
  EXPECT_EQ(Verify({{"key", "Zz9Zz9Zz.NoSuchSecretAtAll0123456789abcd"}})["code"], "NOT_FOUND");
  EXPECT_EQ(Verify({{"key", "not.a-legacy-key"}})["code"], "MALFORMED");

  // The compute API charges the Django user's keyward user.
  testing::HttpReply job = SubmitJob(Key("live"), "django-job-1");
  EXPECT_EQ(job.status, 201) << job.body;
  EXPECT_EQ(Json(job)["job"]["user_id"], alice["principal"]["user_id"]);

  // The queue and the worker: the legacy key is sealed with its entry and
  // presented by `keyward worker` to the compute API.
  testing::HttpReply queued = testing::HttpPost(
      addr(), "/v1/queue/jobs", json{{"job_id", "django-queued-1"}, {"task", "echo"}, {"payload", {{"n", 1}}}}.dump(),
      {testing::KeyAuth(Key("bob"))});
  ASSERT_EQ(queued.status, 201) << queued.body;
  const std::string entry_id = Json(queued)["entry"]["id"];
  testing::RunResult w = testing::Run({testing::KeywardBinary(), "--db", db_, "worker", "--server", "http://" + addr(),
                                       "--once"},
                                      "", SealEnv());
  EXPECT_EQ(w.exit_code, 0) << w.err;
  json entry = Json(testing::HttpGet(addr(), "/v1/queue/jobs/" + entry_id, {testing::KeyAuth(Key("bob"))}));
  EXPECT_EQ(entry["entry"]["status"], "done") << entry;

  // A re-run imports nothing twice.
  r = Import();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  report = json::parse(r.out);
  EXPECT_EQ(report["imported"].size(), 0u) << r.out;
  EXPECT_EQ(report["skipped"].size(), 6u);
  EXPECT_EQ(report["skipped"][0]["reason"], "imported already");

  // The key now has its SHA-256: it keeps working after a restart (no
  // cache), and a wrong secret on its prefix is refused.
  server_.reset();
  Start();
  EXPECT_EQ(Authz(Key("live")).status, 200);
  wrong = Key("live");
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(Authz(wrong).status, 401);
}

// A key revoked in Django after the import is revoked by the next run; one
// revoked in keyward stays revoked. The running server learns it from the
// change feed.
TEST_F(DrfImport, ARerunRevokesKeysRevokedInDjangoSinceTheImport) {
  FirstRunThenBothKeysWork();
  ASSERT_FALSE(HasFatalFailure());
  DjangoSql("UPDATE keysapp_customapikey SET revoked = true WHERE name = 'bob live'");
  testing::RunResult r = Import();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(r.out);
  EXPECT_EQ(report["imported"].size(), 0u) << r.out;
  ASSERT_EQ(report["revoked"].size(), 1u) << r.out;
  EXPECT_EQ(report["revoked"][0]["prefix"], Key("bob").substr(0, Key("bob").find('.')));
  EXPECT_EQ(report["skipped"].size(), 5u);  // the key revoked at import among them
  EXPECT_TRUE(testing::Eventually([&] { return Authz(Key("bob")).status == 401; }));
  EXPECT_EQ(Verify({{"key", Key("bob")}})["code"], "REVOKED");
  EXPECT_EQ(Authz(Key("live")).status, 200);
  // Nothing more to do: a third run revokes nothing again.
  r = Import();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["revoked"].size(), 0u) << r.out;
  // Human output counts it.
  DjangoSql("UPDATE keysapp_customapikey SET revoked = true WHERE name = 'alice live'");
  testing::RunResult human = Import({}, "", /*as_json=*/false);
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("0 imported, 5 skipped, 1 revoked, 0 expiring earlier, 0 users created."),
            std::string::npos) << human.out;
}

// An expiry set or brought forward in Django after the import is carried by
// the next run; one moved later is not (an expiry only ever tightens).
TEST_F(DrfImport, ARerunCarriesAnEarlierExpiryFromDjango) {
  FirstRunThenBothKeysWork();
  ASSERT_FALSE(HasFatalFailure());
  DjangoSql("UPDATE keysapp_customapikey SET expiry_date = '2020-01-02 03:04:05+00:00' WHERE name = 'bob live'");
  DjangoSql("UPDATE keysapp_customapikey SET expiry_date = '2999-01-01 00:00:00+00:00' WHERE name = 'alice live'");
  testing::RunResult r = Import();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json report = json::parse(r.out);
  ASSERT_EQ(report["expiry_moved"].size(), 2u) << r.out;
  std::map<std::string, std::string> moved;
  for (const json& k : report["expiry_moved"]) moved[k["prefix"]] = k["expires_at"];
  auto prefix = [&](const char* which) { return Key(which).substr(0, Key(which).find('.')); };
  EXPECT_EQ(moved[prefix("bob")], "2020-01-02T03:04:05Z") << r.out;
  EXPECT_EQ(moved[prefix("live")], "2999-01-01T00:00:00Z") << r.out;
  EXPECT_EQ(report["skipped"].size(), 4u) << r.out;  // the Django key expired at import among them
  EXPECT_EQ(report["revoked"].size(), 0u);
  EXPECT_TRUE(testing::Eventually([&] { return Authz(Key("bob")).status == 401; }));
  EXPECT_EQ(Verify({{"key", Key("bob")}})["code"], "EXPIRED");
  EXPECT_EQ(Authz(Key("live")).status, 200);  // expiring in 2999

  // Moved later in Django: not carried, the key stays expired.
  DjangoSql("UPDATE keysapp_customapikey SET expiry_date = NULL WHERE name = 'bob live'");
  r = Import();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["expiry_moved"].size(), 0u) << r.out;
  EXPECT_EQ(Verify({{"key", Key("bob")}})["code"], "EXPIRED");
  DjangoSql("UPDATE keysapp_customapikey SET expiry_date = '2030-01-01 00:00:00+00:00' WHERE name = 'alice live'");
  testing::RunResult human = Import({}, "", /*as_json=*/false);
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("expires earlier, at 2030-01-01T00:00:00Z"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("0 imported, 5 skipped, 0 revoked, 1 expiring earlier, 0 users created."),
            std::string::npos) << human.out;
}

TEST_F(DrfImport, BadInputImportsNothing) {
  testing::RunResult r = testing::Run({testing::KeywardBinary(), "--db", db_, "import", "drf", "--from",
                                       django_["database"], "--table", "no_such_table"},
                                      "", SealEnv());
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("no table no_such_table"), std::string::npos) << r.err;
  r = Import({"--table", "x; DROP TABLE users"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = Import({"--time-zone", "Mars/Olympus"});
  // Times with an offset (PostgreSQL) do not need the zone; naive ones do.
  if (!OnPostgres()) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("unknown time zone"), std::string::npos) << r.err;
  }
  if (OnPostgres()) return;  // the rows below are changed with SQLite's API
  // A key name or user name keyward's own API would refuse (a control
  // character) is refused here too, naming the row; nothing is imported.
  DjangoSql("UPDATE keysapp_customapikey SET name = 'bad' || char(7) || 'name' WHERE name = 'alice staging'");
  testing::RunResult named = ImportInto(dir_.File("named.db"));
  EXPECT_EQ(named.exit_code, 2) << named.err;
  EXPECT_NE(named.err.find("key name must be UTF-8 text without control characters"), std::string::npos)
      << named.err;
  DjangoSql("UPDATE keysapp_customapikey SET name = 'alice staging' WHERE name LIKE 'bad%'");
  DjangoSql("UPDATE auth_user SET username = 'al' || char(10) || 'ice' WHERE username = 'alice'");
  named = ImportInto(dir_.File("named2.db"));
  EXPECT_EQ(named.exit_code, 2) << named.err;
  EXPECT_NE(named.err.find("name must be UTF-8 text"), std::string::npos) << named.err;
  DjangoSql("UPDATE auth_user SET username = 'alice' WHERE username LIKE 'al%ice'");

  // A row in a format keyward cannot check: the whole import is refused.
  DjangoSql("UPDATE keysapp_customapikey SET hashed_key = 'argon2$argon2id$v=19$x' WHERE name = 'bob live'");
  testing::RunResult fresh = ImportInto(dir_.File("other.db"));
  EXPECT_EQ(fresh.exit_code, 2) << fresh.err;
  EXPECT_NE(fresh.err.find("row 5"), std::string::npos) << fresh.err;  // names the row
  sqlite3* kw = nullptr;
  ASSERT_EQ(sqlite3_open(dir_.File("other.db").c_str(), &kw), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(kw, "SELECT count(*) FROM api_keys", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 0);  // nothing half-way
  sqlite3_finalize(s);
  sqlite3_close(kw);
}

}  // namespace
}  // namespace keyward

// End to end: back ends enqueue users' jobs (HTTP with the user's key, and
// the CLI with a user id), `keyward worker` drains the queue through the
// compute API, and the compute side charges and stores under the right user.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <thread>

#include "support/server_fixture.h"
#include "support/subprocess.h"

namespace keyward {
namespace {

using nlohmann::json;
using testing::HttpReply;

class WorkerFlow : public testing::ServerTest {
 protected:
  // Runs a keyward CLI command on the test database.
  testing::RunResult Kw(std::vector<std::string> args) {
    args.insert(args.begin(), {testing::KeywardBinary(), "--db", db_});
    return testing::Run(args);
  }
  json KwJson(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    testing::RunResult r = Kw(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out, nullptr, false);
  }
  testing::RunResult WorkerOnce(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"worker", "--server", "http://" + addr(), "--once"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Kw(args);
  }
  HttpReply EnqueueHttp(const std::string& key, const std::string& job_id, const std::string& task,
                        json payload) {
    return testing::HttpPost(addr(), "/v1/queue/jobs",
                             json{{"job_id", job_id}, {"task", task}, {"payload", payload}}.dump(),
                             {testing::KeyAuth(key)});
  }
  // Every queue entry (in `status`), across as many pages as it takes.
  json Entries(const std::string& status = "") {
    json all = json::array();
    std::string after;
    for (;;) {
      std::vector<std::string> args = {"job", "list", "--limit", "1000"};
      if (!status.empty()) args.insert(args.end(), {"--status", status});
      if (!after.empty()) args.insert(args.end(), {"--after", after});
      json page = KwJson(args);
      for (const json& e : page["entries"]) all.push_back(e);
      if (page["next"].is_null()) return all;
      after = page["next"];
    }
  }
};

TEST_F(WorkerFlow, JobsFromBothEnqueuePathsRunAsTheirUsers) {
  testing::CreatedUser acme = NewUser({{"name", "Acme"}, {"plan", {{"monthly_credits", 100}}}});
  testing::CreatedUser beta = NewUser({{"name", "Beta"}});
  auto [acme_test, acme_test_id] = Issue(acme.id, {{"environment", "test"}});
  ASSERT_EQ(EnqueueHttp(acme.key, "acme-1", "wordcount", {{"text", "one two two"}}).status, 201);
  ASSERT_EQ(EnqueueHttp(acme.key, "acme-1", "wordcount", {{"text", "one two two"}}).status, 200);
  ASSERT_EQ(EnqueueHttp(acme_test, "acme-t", "echo", {{"x", 1}}).status, 201);
  json cli = KwJson({"job", "enqueue", "--user", beta.id, "--task", "sha256", "--payload",
                     R"({"data":"abc"})", "--job-id", "beta-1"});
  ASSERT_EQ(cli["created"], true);
  EXPECT_EQ(Entries("queued").size(), 3u);

  testing::RunResult w = WorkerOnce();
  ASSERT_EQ(w.exit_code, 0) << w.err;
  json done = Entries("done");
  ASSERT_EQ(done.size(), 3u) << Entries();

  auto job = [&](const std::string& key, const std::string& id) {
    return Json(testing::HttpGet(addr(), "/v1/ai/jobs/" + id, {testing::KeyAuth(key)}))["job"];
  };
  json a = job(acme.key, "acme-1");
  EXPECT_EQ(a["user_id"], acme.id);
  EXPECT_EQ(a["environment"], "live");
  EXPECT_EQ(a["result"]["words"], 3);
  EXPECT_EQ(job(acme_test, "acme-t")["environment"], "test");
  EXPECT_EQ(job(beta.key, "beta-1")["result"]["sha256"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Tenants stay apart: Beta cannot see Acme's job.
  EXPECT_EQ(testing::HttpGet(addr(), "/v1/ai/jobs/acme-1", {testing::KeyAuth(beta.key)}).status, 404);
  // Acme was charged for its live job only (wordcount = 2), test usage recorded free.
  json usage = Json(Admin("GET", "/v1/users/" + acme.id + "/usage"));
  EXPECT_EQ(usage["environments"]["live"]["charged"], 2);
  EXPECT_EQ(usage["environments"]["test"]["units"], 1);
  EXPECT_EQ(usage["environments"]["test"]["charged"], 0);
  // The key issued for Beta's CLI-enqueued job was revoked when it finished.
  json keys = Json(Admin("GET", "/v1/users/" + beta.id + "/keys"))["keys"];
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[1]["state"], "revoked");
  ASSERT_EQ(keys[1]["scopes"].size(), 1u);  // it could submit that one job only
  EXPECT_EQ(keys[1]["scopes"][0].get<std::string>().rfind("jobs:submit:", 0), 0u);
}

TEST_F(WorkerFlow, NoPlaintextKeyIsStoredInTheQueue) {
  testing::CreatedUser u = NewUser();
  auto [test_key, id] = Issue(u.id, {{"environment", "test"}});
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(EnqueueHttp(u.key, "h" + std::to_string(i), "echo", json::object()).status, 201);
    ASSERT_EQ(EnqueueHttp(test_key, "t" + std::to_string(i), "echo", json::object()).status, 201);
    KwJson({"job", "enqueue", "--user", u.id, "--task", "echo", "--job-id", "c" + std::to_string(i)});
  }
  std::string bytes;
  for (const char* suffix : {"", "-wal"}) bytes += testing::ReadFileBytes(db_ + suffix);
  EXPECT_EQ(bytes.find(u.key), std::string::npos);
  EXPECT_EQ(bytes.find(test_key), std::string::npos);
  EXPECT_EQ(bytes.find(u.key.substr(12)), std::string::npos);
  // No full key of any kind, including the job-scoped ones keyward issued itself.
  std::regex full_key("kw_(live|test)_[0-9A-Za-z]{36}");
  EXPECT_FALSE(std::regex_search(bytes, full_key));
  ASSERT_EQ(WorkerOnce().exit_code, 0);
  EXPECT_EQ(Entries("done").size(), 15u);
}

TEST_F(WorkerFlow, ARevokedKeyFailsItsJobWithRevoked) {
  testing::CreatedUser u = NewUser();
  ASSERT_EQ(EnqueueHttp(u.key, "after-revoke", "echo", json::object()).status, 201);
  ASSERT_EQ(Admin("POST", "/v1/keys/" + u.key_id + "/revoke").status, 200);
  ASSERT_EQ(WorkerOnce().exit_code, 0);
  json failed = Entries("failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["last_error"].get<std::string>().rfind("REVOKED", 0), 0u) << failed[0];
  EXPECT_EQ(failed[0]["attempts"], 1);  // a 4xx is final
}

TEST_F(WorkerFlow, UnreachableServerIsRetriedWithBackoffThenDead) {
  testing::CreatedUser u = NewUser();
  ASSERT_EQ(EnqueueHttp(u.key, "nowhere", "echo", json::object()).status, 201);
  testing::RunResult w = Kw({"worker", "--server", "http://127.0.0.1:1", "--once", "--backoff", "10ms"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  json dead = Entries("dead");
  ASSERT_EQ(dead.size(), 1u) << Entries();
  EXPECT_EQ(dead[0]["attempts"], 5);
  EXPECT_FALSE(dead[0]["last_error"].is_null());
}

TEST_F(WorkerFlow, KilledAndRestartedWorkersRunEveryJobExactlyOnce) {
  testing::CreatedUser u = NewUser({{"name", "Busy"}, {"plan", {{"monthly_credits", 100000}}}});
  constexpr int kJobs = 240;
  {
    testing::HttpConnection c(addr());
    for (int i = 0; i < kJobs; ++i) {
      HttpReply r = c.Send("POST", "/v1/queue/jobs", {testing::KeyAuth(u.key)},
                           json{{"job_id", "k" + std::to_string(i)}, {"task", "wordcount"},
                                {"payload", {{"text", std::string(2000, 'a') + " b"}}}}.dump());
      ASSERT_EQ(r.status, 201) << r.body;
    }
  }
  // Start a worker, SIGKILL it once some jobs are done, four times over.
  for (int round = 1; round <= 4; ++round) {
    pid_t pid = fork();
    if (pid == 0) {
      std::string bin = testing::KeywardBinary(), server = "http://" + addr();
      execl(bin.c_str(), bin.c_str(), "--db", db_.c_str(), "worker", "--server", server.c_str(),
            "--concurrency", "4", "--lease", "1s", static_cast<char*>(nullptr));
      _exit(127);
    }
    std::size_t target = static_cast<std::size_t>(round * kJobs / 6);
    for (int i = 0; i < 3000 && Entries("done").size() < target; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
  }
  testing::RunResult w = WorkerOnce({"--lease", "1s", "--concurrency", "4"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(Entries("done").size(), static_cast<std::size_t>(kJobs)) << Entries();
  // Exactly one compute job per job_id, and exactly one charge each.
  json jobs = Json(testing::HttpGet(addr(), "/v1/ai/jobs?limit=1000", {testing::KeyAuth(u.key)}))["jobs"];
  EXPECT_EQ(jobs.size(), static_cast<std::size_t>(kJobs));
  json usage = Json(Admin("GET", "/v1/users/" + u.id + "/usage"));
  EXPECT_EQ(usage["environments"]["live"]["entries"], kJobs);
  EXPECT_EQ(usage["environments"]["live"]["units"], 2 * kJobs);
}

// The sealed credentials in the queue table, by entry id.
std::map<std::string, std::string> SealedCredentials(const std::string& db_path) {
  std::map<std::string, std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) return out;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT id, sealed_key FROM queue WHERE sealed_key IS NOT NULL", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    out[reinterpret_cast<const char*>(sqlite3_column_text(st, 0))] =
        std::string(static_cast<const char*>(sqlite3_column_blob(st, 1)), sqlite3_column_bytes(st, 1));
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

void Checkpoint(const std::string& db_path) {
  sqlite3* db = nullptr;
  sqlite3_open(db_path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
}

// Issue 7, finding 4: a backup of the folder held every key ever queued.
// Once entries finish, their sealed credentials are gone from the files,
// and the keys issued for them alone are revoked.
TEST_F(WorkerFlow, Issue7_FinishedEntriesLeaveNoSealedCredentialBehind) {
  testing::CreatedUser u = NewUser();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(EnqueueHttp(u.key, "h" + std::to_string(i), "echo", json::object()).status, 201);
    KwJson({"job", "enqueue", "--user", u.id, "--task", "echo", "--job-id", "c" + std::to_string(i)});
  }
  std::map<std::string, std::string> sealed = SealedCredentials(db_);
  ASSERT_EQ(sealed.size(), 6u);
  ASSERT_EQ(WorkerOnce().exit_code, 0);
  EXPECT_EQ(Entries("done").size(), 6u);
  EXPECT_TRUE(SealedCredentials(db_).empty());
  server_->Stop();
  Checkpoint(db_);
  std::string bytes = testing::ReadFileBytes(db_) + testing::ReadFileBytes(db_ + "-wal");
  for (const auto& [id, blob] : sealed) EXPECT_EQ(bytes.find(blob), std::string::npos) << id;
  Start();
  for (const json& e : Entries()) {
    if (e["scoped_key_id"].is_null()) continue;
    json key = Json(Admin("GET", "/v1/keys/" + e["scoped_key_id"].get<std::string>()));
    EXPECT_EQ(key["key"]["state"], "revoked") << e;
  }
}

// Issue 7, finding 5: with the key file moved away (or another key in
// KEYWARD_SEAL_KEY), every queued entry used to go dead. Now nothing starts
// with a key other than the one the queue is sealed under.
TEST_F(WorkerFlow, Issue7_AProcessWithAnotherSealKeyRefusesToStart) {
  testing::CreatedUser u = NewUser();
  ASSERT_EQ(EnqueueHttp(u.key, "j1", "echo", json::object()).status, 201);
  std::string other = "KEYWARD_SEAL_KEY=" + std::string(64, 'e');
  std::string recorded = KwJson({"seal", "status"})["recorded"];
  ASSERT_EQ(recorded.size(), 16u);
  // The worker, the CLI and another server, each with another key.
  testing::RunResult w = testing::Run({testing::KeywardBinary(), "--db", db_, "worker", "--server",
                                       "http://" + addr(), "--once"}, "", {other});
  EXPECT_EQ(w.exit_code, 4);
  EXPECT_NE(w.err.find(recorded), std::string::npos) << w.err;
  testing::RunResult e = testing::Run({testing::KeywardBinary(), "--db", db_, "job", "enqueue", "--user", u.id,
                                       "--task", "echo"}, "", {other});
  EXPECT_EQ(e.exit_code, 4);
  EXPECT_NE(e.err.find("seal key"), std::string::npos) << e.err;
  server_->Stop();
  testing::ServerProcess refused(db_, dir_.File("refused.log"), {}, {other});
  EXPECT_FALSE(refused.started());
  EXPECT_NE(refused.Errors().find(recorded), std::string::npos) << refused.Errors();
  // The key file moved away: a new one would be made, and is refused.
  std::rename((db_ + ".sealkey").c_str(), (db_ + ".sealkey.moved").c_str());
  testing::ServerProcess moved(db_, dir_.File("moved.log"));
  EXPECT_FALSE(moved.started());
  std::remove((db_ + ".sealkey").c_str());
  std::rename((db_ + ".sealkey.moved").c_str(), (db_ + ".sealkey").c_str());
  Start();
  ASSERT_EQ(WorkerOnce().exit_code, 0);
  EXPECT_EQ(Entries("done").size(), 1u);
}

// Issue 7, finding 5: `keyward seal rotate` moves in-flight entries to a new
// key; a lost key can be given up explicitly.
TEST_F(WorkerFlow, Issue7_SealRotateReSealsInFlightEntriesAndForgetsALostKey) {
  testing::CreatedUser u = NewUser();
  ASSERT_EQ(EnqueueHttp(u.key, "before", "echo", json::object()).status, 201);
  std::string old_fp = KwJson({"seal", "status"})["recorded"];
  server_->Stop();
  json rotated = KwJson({"seal", "rotate"});
  EXPECT_EQ(rotated["old"], old_fp);
  EXPECT_NE(rotated["new"], old_fp);
  EXPECT_EQ(rotated["resealed"], 1);
  EXPECT_TRUE(std::filesystem::exists(db_ + ".sealkey.retired-" + old_fp));
  EXPECT_EQ(KwJson({"seal", "status"})["matches"], true);
  Start();
  ASSERT_EQ(EnqueueHttp(u.key, "after", "echo", json::object()).status, 201);
  ASSERT_EQ(WorkerOnce().exit_code, 0);
  EXPECT_EQ(Entries("done").size(), 2u);
  // Lose the key with an entry in flight.
  ASSERT_EQ(EnqueueHttp(u.key, "orphan", "echo", json::object()).status, 201);
  server_->Stop();
  std::remove((db_ + ".sealkey").c_str());
  testing::RunResult refused = Kw({"seal", "rotate"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("--forget-lost-key"), std::string::npos) << refused.err;
  json forgot = KwJson({"seal", "rotate", "--forget-lost-key"});
  EXPECT_EQ(forgot["abandoned"], 1);
  Start();
  json dead = Entries("dead");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0]["job_id"], "orphan");
}

// Issue 7, finding 8: the worker treated 429 as final. A limited job waits
// for the server's Retry-After and runs.
TEST_F(WorkerFlow, Issue7_ARateLimitedJobWaitsAndRuns) {
  testing::CreatedUser u = NewUser({{"name", "Slow"}, {"plan", {{"rate_limit", 2}}}});
  for (int i = 0; i < 6; ++i) {
    HttpReply r = EnqueueHttp(u.key, "r" + std::to_string(i), "echo", json::object());
    if (r.status == 429) {  // enqueueing is rate limited too: wait and retry
      std::this_thread::sleep_for(std::chrono::milliseconds(600));
      r = EnqueueHttp(u.key, "r" + std::to_string(i), "echo", json::object());
    }
    ASSERT_EQ(r.status, 201) << r.body;
  }
  testing::RunResult w = WorkerOnce({"--concurrency", "4"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(Entries("done").size(), 6u) << Entries();
  EXPECT_TRUE(Entries("failed").empty());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(w.err, m, std::regex("throttled (\\d+)"))) << w.err;
  EXPECT_GT(std::stoi(m[1]), 0);
  for (const json& e : Entries()) EXPECT_LE(e["attempts"].get<int>(), 1) << e;  // 429s are not attempts
}

TEST_F(WorkerFlow, GlobalFlagsMayFollowTheCommand) {
  testing::RunResult r = testing::Run({testing::KeywardBinary(), "worker", "--db", db_, "--server",
                                       "http://" + addr(), "--once", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(testing::Run({testing::KeywardBinary(), "job", "list", "--db", db_}).exit_code, 0);
}

TEST_F(WorkerFlow, SigtermStopsTheWorkerCleanly) {
  std::string err = dir_.File("worker.err");
  pid_t pid = fork();
  if (pid == 0) {
    std::freopen(err.c_str(), "w", stderr);
    std::string bin = testing::KeywardBinary(), server = "http://" + addr();
    execl(bin.c_str(), bin.c_str(), "--db", db_.c_str(), "worker", "--server", server.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Wait until it has started and polls an empty queue (without --once it
  // keeps running).
  for (int i = 0; i < 2000 && testing::ReadFileBytes(err).find("started") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_NE(testing::ReadFileBytes(err).find("started"), std::string::npos);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "worker exited early";
  kill(pid, SIGTERM);
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace keyward

// Operations: durability of acknowledged charges across kill -9, graceful
// shutdown, zero-downtime rotation, access log hygiene, metrics, health.
#include <gtest/gtest.h>

#include <sched.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/time_format.h"
#include "support/eventually.h"
#include "support/server_fixture.h"
#include "support/subprocess.h"

namespace keyward {
namespace {

using nlohmann::json;
using testing::HttpReply;
using testing::ServerTest;

TEST_F(ServerTest, AcknowledgedChargesSurviveKillDashNine) {
  testing::CreatedUser u = NewUser({{"name", "Durable"}, {"plan", {{"monthly_credits", 100000}}}});
  int acknowledged_units = 0;
  std::vector<std::string> acknowledged_jobs;
  for (int round = 0; round < 3; ++round) {
    testing::HttpConnection c(addr());
    for (int i = 0; i < 40; ++i) {
      HttpReply v = c.Send("POST", "/v1/keys/verify", {}, json{{"key", u.key}, {"cost", 2}}.dump());
      if (v.status == 200 && Json(v)["valid"] == true) acknowledged_units += 2;
      std::string job_id = "r" + std::to_string(round) + "-" + std::to_string(i);
      HttpReply j = c.Send("POST", "/v1/ai/jobs", {testing::KeyAuth(u.key)},
                           json{{"job_id", job_id}, {"task", "echo"}}.dump());
      if (j.status == 201) {
        acknowledged_units += 1;
        acknowledged_jobs.push_back(job_id);
      }
    }
    // Kill right after the last acknowledged response: no clean shutdown.
    server_->Kill();
    Start();
  }
  EXPECT_EQ(acknowledged_units, 3 * 40 * 3);
  json usage = Json(Admin("GET", "/v1/users/" + u.id + "/usage"));
  EXPECT_EQ(usage["environments"]["live"]["units"], acknowledged_units);
  EXPECT_EQ(usage["credits"]["used_this_month"], acknowledged_units);
  for (const auto& id : acknowledged_jobs) {
    EXPECT_EQ(testing::HttpGet(addr(), "/v1/ai/jobs/" + id, {testing::KeyAuth(u.key)}).status, 200) << id;
  }
  // Resubmitting after the crash is still idempotent.
  EXPECT_EQ(SubmitJob(u.key, acknowledged_jobs.front(), "echo", json::object()).status, 200);
}

TEST_F(ServerTest, JobsAcceptedButNotRunBeforeACrashRunAtTheNextStart) {
  testing::CreatedUser u = NewUser();
  ASSERT_EQ(server_->Stop(), 0);
  // A job the previous server had accepted (durable, charged) but not run.
  ExecSql("INSERT INTO jobs (id, user_id, environment, job_id, key_id, task, payload, status, cost, "
          "created_at) VALUES ('job_orphan', '" + u.id + "', 'live', 'orphan', '" + u.key_id +
          "', 'wordcount', '{\"text\":\"left behind\"}', 'running', 2, 1)");
  Start();
  json job;
  for (int i = 0; i < 2000; ++i) {
    job = Json(testing::HttpGet(addr(), "/v1/ai/jobs/orphan", {testing::KeyAuth(u.key)}))["job"];
    if (job["status"] == "succeeded") break;
    std::this_thread::yield();
  }
  EXPECT_EQ(job["status"], "succeeded") << job;
  EXPECT_EQ(job["result"]["words"], 2);
  EXPECT_NE(server_->Errors().find("resuming 1 unfinished"), std::string::npos) << server_->Errors();
}

TEST_F(ServerTest, SigtermStopsCleanlyWithExitZero) {
  testing::CreatedUser u = NewUser();
  ASSERT_EQ(SubmitJob(u.key, "before-stop").status, 201);
  EXPECT_EQ(server_->Stop(), 0);
  EXPECT_NE(server_->Errors().find("stopped"), std::string::npos);
  Start();
  json job = Json(testing::HttpGet(addr(), "/v1/ai/jobs/before-stop", {testing::KeyAuth(u.key)}))["job"];
  EXPECT_EQ(job["status"], "succeeded");  // accepted work was finished before exit
}

TEST_F(ServerTest, RotationHasNoDowntimeAndTheOldKeyStopsAtGraceEnd) {
  testing::CreatedUser u = NewUser();
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, refused{0};
  std::thread hammer([&] {
    testing::HttpConnection c(addr());
    for (int i = 0; i < 100000 && !stop; ++i) {
      (c.Send("GET", "/v1/authz", {testing::KeyAuth(u.key)}).status == 200 ? ok : refused)++;
    }
  });
  while (ok < 50 && refused == 0) std::this_thread::yield();
  HttpReply rot = Admin("POST", "/v1/keys/" + u.key_id + "/rotate", R"({"grace_seconds":3600})");
  ASSERT_EQ(rot.status, 201);
  std::string fresh = Json(rot)["key"]["secret"];
  EXPECT_EQ(Authz(fresh).status, 200);  // the new key works at once
  int seen = ok;
  while (ok < seen + 200 && refused == 0) std::this_thread::yield();
  stop = true;
  hammer.join();
  EXPECT_EQ(refused.load(), 0);

  // Rotate the new key with a 1 s grace: it keeps working until the grace
  // ends and is refused (EXPIRED) only after its expires_at.
  HttpReply rot2 = Admin("POST", "/v1/keys/" + Json(rot)["key"]["id"].get<std::string>() + "/rotate",
                         R"({"grace_seconds":1})");
  ASSERT_EQ(rot2.status, 201);
  UnixMillis expires_at = *core::ParseRfc3339(Json(rot2)["old_key"]["expires_at"].get<std::string>());
  testing::HttpConnection c(addr());
  HttpReply last;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    last = c.Send("GET", "/v1/authz", {testing::KeyAuth(fresh)});
    if (last.status != 200) break;
  }
  UnixMillis refused_at = SystemClock().Now();
  EXPECT_EQ(last.status, 401);
  EXPECT_EQ(Json(last)["error"]["code"], "EXPIRED");
  EXPECT_GE(refused_at, expires_at);
}

TEST_F(ServerTest, AccessLogHasOneJsonLinePerRequestAndNoSecrets) {
  testing::CreatedUser u = NewUser();
  auto [test_key, test_id] = Issue(u.id, {{"environment", "test"}});
  HttpReply rot = Admin("POST", "/v1/keys/" + u.key_id + "/rotate", "{}");
  std::string rotated = Json(rot)["key"]["secret"];
  std::vector<std::string> secrets = {u.key, test_key, rotated};
  int requests = 3;
  for (const auto& k : secrets) {
    Authz(k);
    Verify({{"key", k}});
    SubmitJob(k, "j-" + k.substr(8, 6));
    testing::HttpGet(addr(), "/v1/users/" + k, {testing::AdminAuth()});  // key pasted in a URL
    requests += 4;
  }
  ASSERT_EQ(server_->Stop(), 0);
  std::string log = server_->Output();
  for (const auto& k : secrets) {
    EXPECT_EQ(log.find(k), std::string::npos) << "secret in access log";
    EXPECT_EQ(log.find(k.substr(12)), std::string::npos) << "secret body in access log";
  }
  EXPECT_EQ(log.find(testing::kAdminToken), std::string::npos);
  EXPECT_EQ(log.find("Api-Key"), std::string::npos);
  std::istringstream lines(log);
  std::string line;
  std::getline(lines, line);  // "listening on …"
  int count = 0, test_lines = 0;
  while (std::getline(lines, line)) {
    json j = json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    for (const char* f : {"time", "method", "path", "status", "latency_ms"}) EXPECT_TRUE(j.contains(f)) << line;
    if (j.value("environment", "") == "test") {
      ++test_lines;
      EXPECT_EQ(j["test"], true);
      EXPECT_EQ(j["key"].get<std::string>().rfind("kw_test_", 0), 0u);
    }
    if (j["path"] == "/v1/authz" && j["status"] == 200) {
      EXPECT_EQ(j["user_id"], u.id);
    }
    ++count;
  }
  EXPECT_EQ(count, requests);
  EXPECT_EQ(test_lines, 3);  // authz, verify and job with the test key
}

TEST_F(ServerTest, MetricsCountRoutesOutcomesCacheAndLedger) {
  testing::CreatedUser u = NewUser();
  for (int i = 0; i < 3; ++i) Authz(u.key);
  Authz("kw_live_bad");
  Verify({{"key", u.key}, {"cost", 1}});
  HttpReply m = testing::HttpGet(addr(), "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.Header("content-type").find("text/plain"), std::string::npos);
  for (const char* s : {"keyward_http_requests_total{method=\"GET\",route=\"/v1/authz\",status=\"200\"} 3",
                        "keyward_http_requests_total{method=\"GET\",route=\"/v1/authz\",status=\"401\"} 1",
                        "keyward_verifications_total{outcome=\"VALID\"} 4",
                        "keyward_verifications_total{outcome=\"MALFORMED\"} 1",
                        "keyward_http_request_duration_seconds_bucket{le=\"+Inf\"}",
                        "keyward_key_cache_hits_total 3", "keyward_key_cache_misses_total 1",
                        "keyward_ledger_entries_total 1", "keyward_ledger_batches_total 1"}) {
    EXPECT_NE(m.body.find(s), std::string::npos) << s << "\n" << m.body;
  }
  for (const char* s : {"\nkeyward_io_threads_in_use ", "\nkeyward_connections_moved_total "}) {
    EXPECT_NE(m.body.find(s), std::string::npos) << s;
  }
}

TEST_F(ServerTest, HealthAndReadiness) {
  EXPECT_EQ(testing::HttpGet(addr(), "/healthz").status, 200);
  EXPECT_EQ(testing::HttpGet(addr(), "/readyz").status, 200);
  HttpReply head = testing::HttpConnection(addr()).RoundTrip("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(head.status, 200);
}

TEST_F(ServerTest, LastUsedIsRecordedWithoutAWritePerRequest) {
  testing::CreatedUser u = NewUser();
  EXPECT_TRUE(Json(Admin("GET", "/v1/keys/" + u.key_id))["key"]["last_used_at"].is_null());
  for (int i = 0; i < 20; ++i) Authz(u.key);
  ASSERT_EQ(server_->Stop(), 0);  // flushed at shutdown at the latest
  Start();
  EXPECT_FALSE(Json(Admin("GET", "/v1/keys/" + u.key_id))["key"]["last_used_at"].is_null());
}

TEST_F(ServerTest, LastUsesOfManyKeysAreWrittenBeforeTheFlushPeriod) {
  server_.reset();
  Start({}, {"KEYWARD_LAST_USED_FLUSH=1h"});
  testing::CreatedUser u = NewUser();
  // More keys in use than the server keeps last uses unwritten (32,768):
  // they are written within moments, not at the next hourly flush in one
  // long write.
  std::vector<std::pair<std::string, std::string>> keys = IssueMany(u.id, 33'000);
  ASSERT_EQ(keys.size(), 33'000u);
  testing::HttpConnection c(addr());
  for (const auto& [key, id] : keys) ASSERT_EQ(c.Send("GET", "/v1/authz", {testing::KeyAuth(key)}).status, 200);
  auto used = [&](const std::string& id) {
    return !Json(Admin("GET", "/v1/keys/" + id))["key"]["last_used_at"].is_null();
  };
  EXPECT_TRUE(testing::Eventually([&] { return used(keys.front().second); }));
}

// The server re-reads a key in use ahead of its cache TTL on a thread of
// its own (the refresher), counted in /metrics.
TEST_F(ServerTest, KeysInUseAreRefreshedOffTheRequestPath) {
  server_.reset();
  Start({}, {"KEYWARD_CACHE_TTL=1s"});
  testing::CreatedUser u = NewUser();
  testing::HttpConnection c(addr());
  EXPECT_TRUE(testing::Eventually([&] {
    EXPECT_EQ(c.Send("GET", "/v1/authz", {testing::KeyAuth(u.key)}).status, 200);
    return testing::MetricValue(addr(), "keyward_key_cache_refreshes_total") > 0;
  }));
}

TEST(ServeConfig, FlagsBeatEnvironmentBeatFile) {
  testing::TempDir dir;
  std::string cfg = dir.File("keyward.toml");
  {
    std::FILE* f = std::fopen(cfg.c_str(), "w");
    std::fprintf(f, "listen = \"127.0.0.1:1\"\nadmin_token = \"file-token-0123456789\"\nmax_body_bytes = 2048\n");
    std::fclose(f);
  }
  // The file's listen address is overridden by the flag (port 0).
  testing::ServerProcess s(dir.File("k.db"), dir.File("log"), {"--config", cfg},
                           {"KEYWARD_ADMIN_TOKEN=env-token-0123456789"});
  ASSERT_TRUE(s.started()) << s.Errors();
  EXPECT_EQ(testing::HttpGet(s.address(), "/v1/users", {{"Authorization", "Bearer env-token-0123456789"}}).status, 200);
  EXPECT_EQ(testing::HttpGet(s.address(), "/v1/users", {{"Authorization", "Bearer file-token-0123456789"}}).status, 401);
  HttpReply big = testing::HttpPost(s.address(), "/v1/keys/verify", std::string(4096, ' '));
  EXPECT_EQ(big.status, 413);  // max_body_bytes from the file applies

  std::FILE* f = std::fopen(cfg.c_str(), "w");
  std::fprintf(f, "bogus_setting = 1\n");
  std::fclose(f);
  testing::RunResult bad = testing::Run({testing::KeywardBinary(), "--db", dir.File("k.db"), "serve", "--config", cfg});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("unknown setting 'bogus_setting'"), std::string::npos) << bad.err;
}

// A thread of the server as /proc/<pid>/task/<tid>/stat shows it.
struct ThreadInfo {
  pid_t tid = 0;
  std::string name;
  int nice = 0;
  int policy = 0;  // SCHED_OTHER, SCHED_BATCH, ...
};

std::vector<ThreadInfo> ThreadsOf(pid_t pid) {
  std::vector<ThreadInfo> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream in(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t open = text.find('('), close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    ThreadInfo t;
    t.tid = std::stoi(text.substr(0, open));
    t.name = text.substr(open + 1, close - open - 1);
    std::istringstream rest(text.substr(close + 2));
    std::vector<std::string> fields{std::istream_iterator<std::string>(rest), {}};
    if (fields.size() < 39) continue;
    t.nice = std::stoi(fields[16]);    // field 19
    t.policy = std::stoi(fields[38]);  // field 41
    out.push_back(t);
  }
  return out;
}

TEST_F(ServerTest, BackgroundThreadsYieldToThoseThatAnswerRequests) {
  // Default: every thread but the I/O threads and the request pool runs 10
  // nicer, as SCHED_BATCH.
  Authz("kw_live_warmup");
  std::vector<ThreadInfo> threads = ThreadsOf(server_->pid());
  int base = -100;  // the niceness the process started with (the main thread's)
  for (const ThreadInfo& t : threads) {
    if (t.tid == server_->pid()) base = t.nice;
  }
  ASSERT_NE(base, -100);
  int background = 0, io = 0;
  for (const ThreadInfo& t : threads) {
    if (t.tid == server_->pid() || t.name == "kw-io" || t.name == "kw-requests") {
      ++io;
      EXPECT_EQ(t.nice, base) << t.name;
      EXPECT_EQ(t.policy, SCHED_OTHER) << t.name;
    } else if (t.name.rfind("kw-", 0) == 0) {
      ++background;
      EXPECT_EQ(t.nice, std::min(19, base + 10)) << t.name;
      EXPECT_EQ(t.policy, SCHED_BATCH) << t.name;
    }
  }
  EXPECT_GE(io, 5);          // the main thread and the request pool's four
  EXPECT_GE(background, 3);  // at least the job pool's two and a commit thread
  // background_nice = 0: every thread as the I/O threads.
  ASSERT_EQ(server_->Stop(), 0);
  Start({}, {"KEYWARD_BACKGROUND_NICE=0"});
  for (const ThreadInfo& t : ThreadsOf(server_->pid())) {
    EXPECT_EQ(t.nice, base) << t.name;
    EXPECT_EQ(t.policy, SCHED_OTHER) << t.name;
  }
}

}  // namespace
}  // namespace keyward

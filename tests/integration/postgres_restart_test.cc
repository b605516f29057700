// Issue 11, faults: PostgreSQL is stopped and started again while keyward
// serves under load. The server reconnects by itself; during the outage a
// key it cannot look up gets 503, never 401; a cached key follows the
// configured policy (fail-closed by default, or served for the
// store_outage_grace); and no acknowledged write — a key issued, a job
// accepted with its charge — is lost. A cluster of this test's own (the
// shared test cluster must not go down under the other tests).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "store/postgres/connection.h"
#include "support/server_process.h"
#include "support/subprocess.h"
#include "support/http_client.h"
#include "support/own_cluster.h"
#include "support/temp_dir.h"

namespace keyward {
namespace {

using nlohmann::json;
using testing::HttpReply;
using namespace std::chrono_literals;

json Parse(const HttpReply& r) { return json::parse(r.body, nullptr, false); }

// The status `probe` answers once it answers `want`, or the last one after a
// bounded wait (the bound only turns a hang into a failure).
template <typename Probe>
int Becomes(int want, Probe probe, std::chrono::milliseconds bound = 30s) {
  const auto end = std::chrono::steady_clock::now() + bound;
  int status = 0;
  while (std::chrono::steady_clock::now() < end) {
    status = probe();
    if (status == want) return status;
    std::this_thread::sleep_for(10ms);
  }
  return status;
}

TEST(PostgresRestart, KeywardReconnectsRefusesWhatItCannotDecideAndLosesNoAcknowledgedWrite) {
  testing::TempDir dir;
  testing::OwnCluster cluster(dir.File("pg.state"));
  testing::RunResult started = cluster.Script("start");
  ASSERT_EQ(started.exit_code, 0) << started.err;
  const std::string server = cluster.Server();
  ASSERT_FALSE(server.empty());
  {
    auto admin = store::postgres::Conn::Open({.conninfo = server + "/postgres"});
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    ASSERT_TRUE((*admin)->Run("CREATE DATABASE keyward").ok());
  }
  const std::string db = server + "/keyward";
  const std::vector<std::string> common = {"KEYWARD_SEAL_KEY_FILE=" + dir.File("seal.key"),
                                           "KEYWARD_CACHE_TTL=1h",
                                           "KEYWARD_MAX_PENDING_JOBS_PER_USER=1000000"};
  // A: the default policy (fail-closed). B: serves cached decisions for an hour.
  testing::ServerProcess a(db, dir.File("a.log"), {}, common);
  ASSERT_TRUE(a.started()) << a.Errors();
  std::vector<std::string> lenient = common;
  lenient.push_back("KEYWARD_STORE_OUTAGE_GRACE=1h");
  testing::ServerProcess b(db, dir.File("b.log"), {}, lenient);
  ASSERT_TRUE(b.started()) << b.Errors();

  auto admin = [&](const std::string& method, const std::string& path, const json& body) {
    testing::HttpConnection c(a.address());
    return c.Send(method, path, {testing::AdminAuth()}, body.is_null() ? "" : body.dump());
  };
  auto authz = [](const std::string& addr, const std::string& key) {
    return testing::HttpGet(addr, "/v1/authz", {testing::KeyAuth(key)}).status;
  };
  json user = Parse(admin("POST", "/v1/users", {{"name", "Acme"}}));
  const std::string user_id = user["user"]["id"], key = user["key"]["secret"];
  // Cached on both nodes before the outage.
  ASSERT_EQ(authz(a.address(), key), 200);
  ASSERT_EQ(authz(b.address(), key), 200);
  // Exists, but neither node has looked it up.
  const std::string unseen = Parse(admin("POST", "/v1/users/" + user_id + "/keys", json::object()))["key"]["secret"];
  // Was valid, but its user is gone: not cached either.
  json gone = Parse(admin("POST", "/v1/users", {{"name", "Gone"}}));
  ASSERT_EQ(admin("DELETE", "/v1/users/" + std::string(gone["user"]["id"]), nullptr).status, 200);
  const std::string deleted = gone["key"]["secret"];

  // Load on node A: job submissions and key issues, recording what was acknowledged.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::string> jobs_acked, keys_acked;
  std::atomic<int> refused{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const std::string job_id = "t" + std::to_string(t) + "-" + std::to_string(i);
        testing::HttpConnection c(a.address());
        HttpReply r = c.Send("POST", "/v1/ai/jobs", {testing::KeyAuth(key)},
                             json{{"job_id", job_id}, {"task", "echo"}}.dump());
        if (r.status == 201) {
          std::lock_guard lock(mu);
          jobs_acked.push_back(job_id);
        } else {
          refused++;
          std::this_thread::sleep_for(5ms);
        }
      }
    });
  }
  load.emplace_back([&] {
    while (!stop) {
      HttpReply r = admin("POST", "/v1/users/" + user_id + "/keys", json::object());
      if (r.status == 201) {
        std::lock_guard lock(mu);
        keys_acked.push_back(Parse(r)["key"]["secret"]);
      } else {
        std::this_thread::sleep_for(5ms);
      }
    }
  });
  struct Joiner {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~Joiner() {
      stop = true;
      for (auto& t : threads) t.join();
    }
  } joiner{stop, load};
  std::this_thread::sleep_for(500ms);

  testing::RunResult halted = cluster.Script("halt");
  ASSERT_EQ(halted.exit_code, 0) << halted.err;
  EXPECT_EQ(Becomes(503, [&] { return testing::HttpGet(a.address(), "/readyz").status; }), 503);
  // What a node cannot look up is not decided: 503, never 401.
  EXPECT_EQ(authz(a.address(), unseen), 503);
  EXPECT_EQ(authz(a.address(), deleted), 503);
  EXPECT_EQ(authz(b.address(), unseen), 503);
  // A cached key: refused by the fail-closed node once it notices the
  // outage, served by the lenient one.
  EXPECT_EQ(Becomes(503, [&] { return authz(a.address(), key); }, 5s), 503);
  EXPECT_EQ(authz(a.address(), key), 503);
  EXPECT_EQ(authz(b.address(), key), 200);
  std::size_t acked_before;
  {
    std::lock_guard lock(mu);
    acked_before = jobs_acked.size();
  }
  std::this_thread::sleep_for(300ms);

  testing::RunResult resumed = cluster.Script("resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  // Back by itself: no restart of keyward.
  EXPECT_EQ(Becomes(200, [&] { return testing::HttpGet(a.address(), "/readyz").status; }), 200);
  EXPECT_EQ(Becomes(200, [&] { return authz(a.address(), key); }), 200);
  EXPECT_EQ(authz(a.address(), unseen), 200);
  EXPECT_EQ(authz(a.address(), deleted), 401);
  EXPECT_EQ(Becomes(200, [&] { return authz(b.address(), unseen); }), 200);
  // Work is accepted again.
  const auto wait_until = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (jobs_acked.size() > acked_before + 20) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), wait_until) << "no job accepted after the restart";
    std::this_thread::sleep_for(20ms);
  }
  stop = true;
  for (auto& t : load) t.join();
  load.clear();

  std::lock_guard lock(mu);
  EXPECT_GT(refused.load(), 0) << "the outage refused nothing: it did not happen under load";
  // Every acknowledged job is there, charged once.
  for (const std::string& job_id : jobs_acked) {
    ASSERT_EQ(testing::HttpGet(a.address(), "/v1/ai/jobs/" + job_id, {testing::KeyAuth(key)}).status, 200)
        << job_id;
  }
  auto c = store::postgres::Conn::Open({.conninfo = db});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  StatusOr<store::postgres::Result> counts = (*c)->Exec(
      "SELECT (SELECT count(*) FROM jobs WHERE user_id = $1), "
      "(SELECT count(*) FROM jobs WHERE user_id = $1 AND charged), "
      "(SELECT coalesce(sum(used), 0) FROM credit_months WHERE user_id = $1), "
      "(SELECT coalesce(sum(cost), 0) FROM jobs WHERE user_id = $1 AND charged AND environment = 'live') + "
      "(SELECT coalesce(sum(units), 0) FROM usage WHERE user_id = $1 AND environment = 'live')",
      {user_id});
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_GE(counts->Int(0, 0), static_cast<std::int64_t>(jobs_acked.size()));
  // Each job's charge, exactly once: on its row, and counted once in its month.
  EXPECT_EQ(counts->Int(0, 1), counts->Int(0, 0));
  EXPECT_EQ(counts->Int(0, 2), counts->Int(0, 3));
  EXPECT_GT(counts->Int(0, 2), 0);
  // Every acknowledged key works.
  for (const std::string& k : keys_acked) EXPECT_EQ(authz(a.address(), k), 200);
  EXPECT_GT(keys_acked.size(), 0u);
}

}  // namespace
}  // namespace keyward

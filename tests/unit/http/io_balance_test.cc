#include "http/io_balance.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "http/access_log.h"
#include "http/metrics.h"
#include "http/router.h"
#include "http/server.h"
#include "keyward/clock.h"
#include "support/eventually.h"
#include "support/http_client.h"

namespace keyward::http {
namespace {

// `saturated` threads busy, the machine with `idle` cores to spare.
IoLoad Busy(double rate, double idle = 1.0, int saturated = 1) {
  IoLoad load;
  load.seconds = 0.25;
  load.idle_cpus = idle;
  load.running = {0.0, 0.0, 0.0, 0.0};
  for (int i = 0; i < saturated; ++i) load.running[static_cast<std::size_t>(i)] = 0.97;
  load.requests_per_second = rate;
  return load;
}

IoLoad Spread(double rate, int threads) {
  IoLoad load = Busy(rate, 0.1);
  for (int i = 0; i < threads; ++i) load.running[static_cast<std::size_t>(i)] = 0.7;
  return load;
}

IoLoad Light() {
  IoLoad load;
  load.seconds = 0.25;
  load.idle_cpus = 1.5;
  load.running = {0.1, 0.1, 0.1, 0.1};
  load.requests_per_second = 1000;
  return load;
}

// Runs a trial of one more to its end with `rate` in its periods.
int FinishTrial(IoBalancer& b, double rate, int threads) {
  int n = 0;
  for (int i = 0; i < IoBalancer::kTrialPeriods; ++i) n = b.Update(Spread(rate, threads));
  return n;
}

TEST(IoBalancerTest, StartsWithOneThreadAndTriesASecondAfterTwoSaturatedPeriods) {
  IoBalancer b(2);
  EXPECT_EQ(b.in_use(), 1);
  EXPECT_EQ(b.Update(Busy(100'000)), 1);  // one period is not enough
  EXPECT_EQ(b.Update(Busy(100'000)), 2);
  // A quarter more requests: the thread stays.
  EXPECT_EQ(FinishTrial(b, 125'000, 2), 2);
  // Never more than there are.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b.Update(Spread(125'000, 2)), 2);
}

TEST(IoBalancerTest, NeedsABusyThreadAndACoreToSpareTwoPeriodsInARow) {
  IoBalancer b(2);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(b.Update(Busy(100'000, /*idle=*/0.1)), 1);
  IoLoad half = Busy(50'000);
  half.running[0] = 0.5;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(b.Update(half), 1);
  // Busy, then not, then busy: no two in a row.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(b.Update(Busy(100'000)), 1);
    EXPECT_EQ(b.Update(Busy(100'000, 0.05)), 1);
  }
}

TEST(IoBalancerTest, GivesTheThreadBackWhenTheRateDoesNotRiseAndWaitsLongerEachTime) {
  IoBalancer b(2);
  b.Update(Busy(100'000));
  ASSERT_EQ(b.Update(Busy(100'000)), 2);
  // +3 %: below kGain.
  EXPECT_EQ(FinishTrial(b, 103'000, 2), 1);
  // Held for kFirstHold periods (counted from the trial's end).
  int waited = 0;
  while (b.Update(Busy(100'000)) == 1) ++waited;
  EXPECT_EQ(waited, IoBalancer::kFirstHold);
  // The second failure holds twice as long.
  EXPECT_EQ(FinishTrial(b, 80'000, 2), 1);
  waited = 0;
  while (b.Update(Busy(100'000)) == 1) ++waited;
  EXPECT_EQ(waited, 2 * IoBalancer::kFirstHold);
  // A success starts the holds over.
  EXPECT_EQ(FinishTrial(b, 130'000, 2), 2);
}

TEST(IoBalancerTest, TheFirstPeriodOfATrialIsNotCounted) {
  IoBalancer b(2);
  b.Update(Busy(100'000));
  ASSERT_EQ(b.Update(Busy(100'000)), 2);
  b.Update(Spread(10, 2));  // connections moving: ignored
  for (int i = 1; i < IoBalancer::kTrialPeriods - 1; ++i) b.Update(Spread(120'000, 2));
  EXPECT_EQ(b.Update(Spread(120'000, 2)), 2);
}

TEST(IoBalancerTest, ALightLoadGoesBackToFewerThreadsAtOnce) {
  IoBalancer b(4);
  for (int want = 2; want <= 4; ++want) {
    b.Update(Busy(100'000, 1.0, want - 1));
    ASSERT_EQ(b.Update(Busy(100'000, 1.0, want - 1)), want);
    ASSERT_EQ(FinishTrial(b, 200'000 * want, want), want);
  }
  EXPECT_EQ(b.Update(Light()), 3);
  EXPECT_EQ(b.Update(Light()), 2);
  EXPECT_EQ(b.Update(Light()), 1);
  EXPECT_EQ(b.Update(Light()), 1);
}

TEST(IoBalancerTest, RechecksWithOneThreadFewerAndKeepsWhatServesMore) {
  IoBalancer b(2);
  b.Update(Busy(100'000));
  b.Update(Busy(100'000));
  ASSERT_EQ(FinishTrial(b, 130'000, 2), 2);
  int n = 2;
  for (int i = 1; i < IoBalancer::kRecheck; ++i) n = b.Update(Spread(130'000, 2));
  EXPECT_EQ(n, 2);
  EXPECT_EQ(b.Update(Spread(130'000, 2)), 1);  // the trial of one fewer
  // One thread serves a fifth less: the second comes back.
  for (int i = 0; i < IoBalancer::kTrialPeriods - 1; ++i) EXPECT_EQ(b.Update(Busy(104'000, 0.1)), 1);
  EXPECT_EQ(b.Update(Busy(104'000, 0.1)), 2);
  // Next time one thread serves as many: it stays at one, held.
  for (int i = 1; i < IoBalancer::kRecheck; ++i) b.Update(Spread(130'000, 2));
  ASSERT_EQ(b.Update(Spread(130'000, 2)), 1);
  for (int i = 0; i < IoBalancer::kTrialPeriods; ++i) n = b.Update(Busy(128'000, 0.1));
  EXPECT_EQ(n, 1);
  for (int i = 0; i < IoBalancer::kFirstHold - 1; ++i) EXPECT_EQ(b.Update(Busy(128'000)), 1);
}

TEST(IoBalancerTest, MissingThreadsCountAsIdle) {
  IoBalancer b(2);
  IoLoad none;
  none.seconds = 0.25;
  none.idle_cpus = 2;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b.Update(none), 1);
}

TEST(ProcLoadProbeTest, ReadsTheThreadsAndTheMachine) {
  std::unique_ptr<IoLoadProbe> probe = MakeProcLoadProbe(1);
  EXPECT_FALSE(probe->Sample().has_value());  // thread 0 has not started
  probe->ThreadStarted(0);
  EXPECT_FALSE(probe->Sample().has_value());  // the baseline
  // Spin for 100 ms on this thread.
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(100);
  volatile unsigned sink = 0;
  while (std::chrono::steady_clock::now() < end) sink = sink + 1;
  std::optional<IoLoad> load = probe->Sample();
  ASSERT_TRUE(load.has_value());
  EXPECT_GT(load->seconds, 0.09);
  ASSERT_EQ(load->running.size(), 1u);
  EXPECT_GT(load->running[0], 0.05);  // it ran (preemption can take some)
  EXPECT_LE(load->running[0], 1.1);
  EXPECT_GE(load->idle_cpus, 0.0);
  EXPECT_LE(load->idle_cpus, std::thread::hardware_concurrency() + 0.5);
}

// A load the test sets: "busy" (thread 0 saturated, a core to spare) or
// "light" (every thread nearly idle).
class ScriptedProbe final : public IoLoadProbe {
 public:
  std::atomic<bool> busy{false};
  void ThreadStarted(int) override {}
  std::optional<IoLoad> Sample() override {
    IoLoad load;
    load.seconds = 0.05;
    load.idle_cpus = 1.0;
    load.running = {busy ? 1.0 : 0.05, 0.05};
    return load;
  }
};

// Answers with the id of the thread that served the request.
class WhichThread final : public Handler {
 public:
  std::optional<HttpResponse> Head(Exchange&) override { return std::nullopt; }
  void Body(Exchange& ex, Reply& reply) override {
    std::ostringstream id;
    id << std::this_thread::get_id();
    HttpResponse res;
    res.content_type = "text/plain";
    res.body = id.str() + " " + std::to_string(ex.request.body.size());
    reply.Send(std::move(res));
  }
};

class MovingConnectionsTest : public ::testing::Test {
 protected:
  void Start(int idle_timeout_ms = 60'000) {
    router_.Add("POST", "/which", "which", std::make_unique<WhichThread>());
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.idle_timeout_ms = idle_timeout_ms;
    options.io_balance_ms = kPeriodMs;
    options.io_load_probe = probe_;
    server_ = std::make_unique<Server>(options, router_, metrics_, log_, SystemClock());
    auto bound = server_->Listen();
    ASSERT_TRUE(bound.ok());
    address_ = *bound;
    runner_ = std::thread([this] { server_->Run(); });
  }
  // Waits until `n` threads are in use and stay so past a trial.
  bool Settled(int n) {
    return testing::Eventually([&] {
      if (metrics_.io_threads_in_use.load() != n) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(kPeriodMs * (IoBalancer::kTrialPeriods + 1)));
      return metrics_.io_threads_in_use.load() == n;
    });
  }

  void TearDown() override {
    if (server_) server_->Stop();
    if (runner_.joinable()) runner_.join();
  }

  // The thread that served a POST on `c` (body of `size` bytes).
  std::string Which(testing::HttpConnection& c, std::size_t size = 3) {
    testing::HttpReply r = c.Send("POST", "/which", {}, std::string(size, 'x'));
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body.substr(r.body.find(' ') + 1), std::to_string(size));
    return r.body.substr(0, r.body.find(' '));
  }

  static constexpr int kPeriodMs = 50;
  std::shared_ptr<ScriptedProbe> probe_ = std::make_shared<ScriptedProbe>();
  Router router_;
  Metrics metrics_;
  AccessLog log_{nullptr, 0, metrics_};
  std::unique_ptr<Server> server_;
  std::string address_;
  std::thread runner_;
};

TEST_F(MovingConnectionsTest, KeepAliveConnectionsMoveToTheirThreadBetweenRequests) {
  Start();
  // One thread in use: four connections, all on it.
  std::vector<std::unique_ptr<testing::HttpConnection>> conns;
  std::string first;
  for (int i = 0; i < 4; ++i) {
    conns.push_back(std::make_unique<testing::HttpConnection>(address_));
    ASSERT_TRUE(conns.back()->connected());
    std::string t = Which(*conns.back());
    if (i == 0) first = t;
    EXPECT_EQ(t, first);
  }
  EXPECT_EQ(metrics_.io_threads_in_use.load(), 1);

  // Thread 0 saturated with a core to spare: a second thread is tried, and
  // kept once a trial saw no fewer requests than the periods before it
  // (none: the test sends nothing meanwhile).
  probe_->busy = true;
  ASSERT_TRUE(Settled(2));
  // Each connection's next request is still served where it waited; the
  // ones numbered 1 and 3 then move to the second thread.
  for (auto& c : conns) EXPECT_EQ(Which(*c), first);
  std::string second = Which(*conns[1]);
  EXPECT_NE(second, first);
  EXPECT_EQ(Which(*conns[0]), first);
  EXPECT_EQ(Which(*conns[3], 70'000), second);  // a body read in several pieces
  EXPECT_EQ(Which(*conns[2]), first);
  EXPECT_EQ(metrics_.connections_moved_total.load(), 2u);
  // A new connection is dealt to the threads in turn as before (number 4).
  testing::HttpConnection fifth(address_);
  EXPECT_EQ(Which(fifth), first);
  EXPECT_EQ(Which(fifth), first);

  // Light load: back to one thread; the moved ones come back.
  probe_->busy = false;
  ASSERT_TRUE(Settled(1));
  for (auto& c : conns) Which(*c);
  for (auto& c : conns) EXPECT_EQ(Which(*c), first);
  EXPECT_EQ(metrics_.connections_moved_total.load(), 4u);
  EXPECT_EQ(metrics_.connections_total.load(), 5u);  // a move is not a new connection
}

TEST_F(MovingConnectionsTest, AMovedConnectionIsStillWatchedForItsIdleTimeout) {
  Start(/*idle_timeout_ms=*/300);
  // Accepted while one thread is in use; their first requests come after.
  testing::HttpConnection a(address_), b(address_);
  probe_->busy = true;
  ASSERT_TRUE(Settled(2));
  std::string first = Which(a);
  EXPECT_EQ(Which(b), first);  // served where it was accepted
  EXPECT_NE(Which(b), first);  // then moved
  ASSERT_EQ(metrics_.connections_moved_total.load(), 1u);
  // Idle past 300 ms on its new thread: closed by the server, like the one
  // that never moved.
  EXPECT_TRUE(b.PeerClosed());
  EXPECT_TRUE(a.PeerClosed());
}

}  // namespace
}  // namespace keyward::http

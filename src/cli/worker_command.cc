// worker_command.cc: `keyward worker` — runs the queue worker until SIGTERM
// (or, with --once, until the queue is drained).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "cli/cli.h"
#include "core/time_format.h"
#include "jobs/worker.h"

namespace keyward::cli {
namespace {

struct WorkerArgs {
  std::string server = "http://127.0.0.1:8080";
  int concurrency = 2;
  bool once = false;
  std::string lease = "30s";
  std::string backoff = "500ms";
  int http_timeout_s = 10;
};

int RunWorker(Cli& cli, const WorkerArgs& a) {
  auto ms = [](const std::string& s) -> std::optional<std::int64_t> {
    if (s.size() > 2 && s.substr(s.size() - 2) == "ms") {
      char* end = nullptr;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (end == s.c_str() + s.size() - 2 && v > 0) return v;
      return std::nullopt;
    }
    return core::ParseDuration(s);
  };
  std::optional<std::int64_t> lease = ms(a.lease), backoff = ms(a.backoff);
  if (!lease || !backoff) {
    std::cerr << "keyward: invalid --lease or --backoff: use e.g. 30s, 500ms\n";
    return kExitUsage;
  }
  auth::KeyService* keys = cli.service();
  const jobs::Sealer* sealer = keys ? cli.sealer() : nullptr;
  if (!sealer) return kExitStorage;
  jobs::WorkerOptions o;
  o.server_url = a.server;
  o.concurrency = a.concurrency;
  o.once = a.once;
  o.lease_ms = *lease;
  o.backoff_base_ms = *backoff;
  o.http_timeout_ms = a.http_timeout_s * 1000;
  jobs::Worker worker(*cli.store(), cli.clock(), *sealer, *keys, o);

  // SIGTERM/SIGINT: stop claiming, finish what is in flight, exit 0.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread signals([&] {
    int sig = 0;
    sigwait(&set, &sig);
    worker.Stop();
  });
  worker.Run();
  if (signals.joinable()) {
    pthread_kill(signals.native_handle(), SIGTERM);  // wakes sigwait if no signal came
    signals.join();
  }
  const jobs::WorkerStats& s = worker.stats();
  std::cerr << "keyward worker: done " << s.done << ", failed " << s.failed << ", dead " << s.dead
            << ", retried " << s.retried << "\n";
  return kExitOk;
}

}  // namespace

void AddWorkerCommand(CLI::App& app, Cli& cli) {
  auto a = std::make_shared<WorkerArgs>();
  CLI::App* w = app.add_subcommand("worker", "Drain the job queue: call the compute API with each job's own key");
  w->add_option("--server", a->server, "keyward base URL (default http://127.0.0.1:8080)");
  w->add_option("--concurrency", a->concurrency, "Jobs in flight at once (default 2)")->check(CLI::Range(1, 256));
  w->add_flag("--once", a->once, "Drain what is queued, then exit");
  w->add_option("--lease", a->lease, "Claim lease; a dead worker's jobs return after it (default 30s)");
  w->add_option("--backoff", a->backoff, "First retry delay, doubled per attempt (default 500ms)");
  w->add_option("--http-timeout", a->http_timeout_s, "Seconds per compute call (default 10)")->check(CLI::Range(1, 600));
  w->callback([&cli, a] { cli.action = [&cli, a] { return RunWorker(cli, *a); }; });
}

}  // namespace keyward::cli

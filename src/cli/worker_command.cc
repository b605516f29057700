// worker_command.cc: `keyward worker` — runs the queue worker until SIGTERM
// (or, with --once, until the queue is drained).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "cli/cli.h"
#include "core/process.h"
#include "core/time_format.h"
#include "queue/worker.h"

namespace keyward::cli {
namespace {

// Flags as text, defaulted from WorkerOptions so that each default is
// stated once.
struct WorkerArgs {
  queue::WorkerOptions options;
  std::string lease = core::FormatDuration(options.lease_ms);
  std::string backoff = core::FormatDuration(options.backoff_base_ms);
  std::string http_timeout = core::FormatDuration(options.http_timeout_ms);
};

int RunWorker(Cli& cli, WorkerArgs& a) {
  constexpr std::int64_t kHour = 3'600'000;
  for (auto [flag, text, target] : {std::tuple{"--lease", &a.lease, &a.options.lease_ms},
                                    std::tuple{"--backoff", &a.backoff, &a.options.backoff_base_ms}}) {
    std::optional<std::int64_t> ms = core::ParseDuration(*text, kHour);
    if (!ms || *ms == 0) {
      std::cerr << "keyward: invalid " << flag << " '" << *text << "': use a duration from 1ms to 1h, e.g. 30s, 500ms\n";
      return kExitUsage;
    }
    *target = *ms;
  }
  std::optional<std::int64_t> timeout = core::ParseDuration(a.http_timeout, 10 * 60'000);
  if (!timeout || *timeout < 100) {
    std::cerr << "keyward: invalid --http-timeout '" << a.http_timeout << "': use a duration from 100ms to 10m\n";
    return kExitUsage;
  }
  a.options.http_timeout_ms = static_cast<int>(*timeout);
  if (a.options.client_cert_file.empty() != a.options.client_key_file.empty()) {
    std::cerr << "keyward: --client-cert and --client-key go together\n";
    return kExitUsage;
  }
  if (a.options.insecure_skip_tls_verify) {
    std::cerr << "keyward worker: warning: --insecure-skip-tls-verify: the server's certificate is not checked\n";
  }
  core::DisableCoreDumps().IgnoreError();  // keys are opened in this process's memory
  store::Backend* st = cli.store();
  const core::Sealer* sealer = st ? cli.sealer() : nullptr;
  if (!sealer) return kExitStorage;
  // SIGTERM/SIGINT: stop claiming, finish what is in flight, exit 0. Blocked
  // before any thread starts (threads inherit the mask), so that only the
  // signal thread below ever takes them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  queue::Worker worker(st->queue(), cli.clock(), *sealer, a.options);
  std::cerr << "keyward worker: started (server " << a.options.server_url << ", concurrency "
            << a.options.concurrency << ", seal key " << sealer->fingerprint() << ")\n";
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
  const queue::WorkerStats& s = worker.stats();
  std::cerr << "keyward worker: done " << s.done << ", failed " << s.failed << ", dead " << s.dead
            << ", retried " << s.retried << ", throttled " << s.throttled << "\n";
  return kExitOk;
}

}  // namespace

void AddWorkerCommand(CLI::App& app, Cli& cli) {
  auto a = std::make_shared<WorkerArgs>();
  CLI::App* w = app.add_subcommand("worker", "Drain the job queue: call the compute API with each job's own key");
  w->add_option("--server", a->options.server_url, "keyward base URL (default " + a->options.server_url + ")");
  w->add_option("--concurrency", a->options.concurrency,
                "Jobs in flight at once (default " + std::to_string(a->options.concurrency) + ")")
      ->check(CLI::Range(1, 256));
  w->add_flag("--once", a->options.once, "Drain what is queued, then exit");
  w->add_flag("!--no-sign", a->options.sign,
              "Send every job as a bearer Api-Key, also those whose job key could sign its request");
  w->add_option("--lease", a->lease, "Claim lease; a dead worker's jobs return after it (default " + a->lease + ")");
  w->add_option("--backoff", a->backoff, "First retry delay, doubled per attempt (default " + a->backoff + ")");
  w->add_option("--http-timeout", a->http_timeout, "Time allowed per compute call (default " + a->http_timeout + ")");
  w->add_option("--ca-file", a->options.ca_file, "PEM CA bundle that signs an https server's certificate "
                "(default: the system's)");
  w->add_option("--client-cert", a->options.client_cert_file, "PEM client certificate, for mutual TLS");
  w->add_option("--client-key", a->options.client_key_file, "PEM key of --client-cert");
  w->add_flag("--insecure-skip-tls-verify", a->options.insecure_skip_tls_verify,
              "Do not verify the server's certificate (tests only: anyone on the path can read the keys)");
  w->callback([&cli, a] { cli.action = [&cli, a] { return RunWorker(cli, *a); }; });
}

}  // namespace keyward::cli

// serve_command.cc: `keyward serve` — wires store, verifier, gate, compute
// and the HTTP server together, runs until SIGTERM/SIGINT, then drains.
#include <CLI/CLI.hpp>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <thread>

#include "auth/gate.h"
#include "cli/cli.h"
#include "cli/serve_config.h"
#include "http/access_log.h"
#include "http/handlers/context.h"
#include "http/routes.h"
#include "http/server.h"
#include "jobs/queue.h"

namespace keyward::cli {
namespace {

struct ServeArgs {
  std::string listen, db, config;
  int threads = 0;
};

// Periodically writes last-used times until stopped.
class Flusher {
 public:
  Flusher(Verifier& verifier, std::int64_t period_ms) : verifier_(verifier) {
    thread_ = std::thread([this, period_ms] {
      std::unique_lock lock(mu_);
      while (!cv_.wait_for(lock, std::chrono::milliseconds(period_ms), [&] { return stop_; })) {
        lock.unlock();
        verifier_.FlushLastUsed().IgnoreError();
        lock.lock();
      }
    });
  }
  ~Flusher() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    verifier_.FlushLastUsed().IgnoreError();
  }

 private:
  Verifier& verifier_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

int RunServe(Cli& cli, const ServeArgs& a, const CLI::App& sub, bool global_db_flag) {
  ServeConfig config;
  Status st;
  if (!a.config.empty()) st = ApplyTomlFile(&config, a.config);
  if (st.ok()) st = ApplyEnvironment(&config);
  if (st.ok() && global_db_flag) st = ApplySetting(&config, "db", cli.db_path, "--db");
  if (st.ok() && sub.count("--db")) st = ApplySetting(&config, "db", a.db, "--db");
  if (st.ok() && sub.count("--listen")) st = ApplySetting(&config, "listen", a.listen, "--listen");
  if (st.ok() && sub.count("--threads")) st = ApplySetting(&config, "threads", std::to_string(a.threads), "--threads");
  if (!st.ok()) {
    std::cerr << "keyward: " << st.message() << "\n";
    return kExitUsage;
  }
  http::ServerOptions options;
  if (Status s = SplitListen(config.listen, &options.host, &options.port); !s.ok()) return cli.Fail(s);
  options.threads = config.threads;
  options.max_header_bytes = static_cast<std::size_t>(config.max_header_bytes);
  options.max_body_bytes = static_cast<std::size_t>(config.max_body_bytes);
  options.read_timeout_ms = static_cast<int>(config.read_timeout_ms);
  options.idle_timeout_ms = static_cast<int>(config.idle_timeout_ms);

  cli.db_path = config.db;
  Store* store = cli.store();
  if (!store) return kExitStorage;
  const Clock& clock = cli.clock();
  auth::KeyService keys(*store, clock);
  VerifierOptions vopts;
  vopts.cache = true;
  vopts.cache_ttl_ms = config.cache_ttl_ms;
  vopts.cache_capacity = static_cast<std::size_t>(config.cache_capacity);
  vopts.track_last_used = true;
  vopts.last_used_resolution_ms = config.last_used_flush_ms;
  Verifier verifier(*store, clock, vopts);
  keys.set_change_listener([&verifier](const std::string& user_id) { verifier.InvalidateUser(user_id); });
  http::Metrics metrics;
  auth::RateLimiter limiter;
  auth::Quota quota(*store, clock);
  auth::UsageLedger ledger(*store);
  ledger.set_batch_observer([&metrics](std::size_t n) { metrics.ObserveLedgerBatch(n); });
  auth::Gate gate(verifier, limiter, quota, ledger, clock);
  jobs::TaskRegistry tasks = jobs::TaskRegistry::BuiltIn();
  jobs::Executor executor(config.job_threads);
  jobs::ComputeService compute(*store, clock, quota, tasks, executor);
  if (StatusOr<std::size_t> resumed = compute.ResumeUnfinished(); !resumed.ok()) {
    return cli.Fail(resumed.status());
  } else if (*resumed > 0) {
    std::cerr << "keyward: resuming " << *resumed << " unfinished compute job(s)\n";
  }
  const jobs::Sealer* sealer = cli.sealer();
  if (!sealer) return kExitStorage;
  jobs::JobQueue queue(*store, clock, *sealer, tasks, keys);

  http::ServiceContext ctx{*store, keys, verifier, gate, quota, compute, queue, tasks, metrics,
                           clock, config.admin_token};
  http::Router router;
  http::AddAllRoutes(router, ctx);

  std::FILE* log_file = nullptr;
  if (config.access_log == "-") {
    log_file = stdout;
  } else if (config.access_log != "off") {
    log_file = std::fopen(config.access_log.c_str(), "a");
    if (!log_file) {
      std::cerr << "keyward: cannot open access log " << config.access_log << "\n";
      return kExitStorage;
    }
  }
  http::AccessLog access_log(log_file);
  http::Server server(options, router, metrics, access_log, clock);
  StatusOr<std::string> bound = server.Listen();
  if (!bound.ok()) return cli.Fail(bound.status());
  std::printf("listening on %s\n", bound->c_str());
  std::fflush(stdout);
  if (config.admin_token.empty()) {
    std::cerr << "keyward: admin API disabled (no admin token configured: set KEYWARD_ADMIN_TOKEN)\n";
  }
  {
    Flusher flusher(verifier, config.last_used_flush_ms);
    server.Run();
    executor.Stop();  // finish compute jobs already accepted
  }
  access_log.Stop();
  if (log_file && log_file != stdout) std::fclose(log_file);
  std::cerr << "keyward: stopped\n";
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, Cli& cli) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* serve = app.add_subcommand("serve", "Run the HTTP service (admin, verify, authz, compute API)");
  serve->add_option("--listen", a->listen, "HOST:PORT (default 127.0.0.1:8080; port 0 = any free port)");
  serve->add_option("--db", a->db, "SQLite database file");
  serve->add_option("--config", a->config, "TOML configuration file");
  serve->add_option("--threads", a->threads, "I/O threads (default: number of cores)");
  std::string settings = "Settings (TOML key / KEYWARD_<KEY> variable); flags > environment > file > defaults:\n";
  for (const auto& [k, v] : ServeSettingHelp()) settings += "  " + k + ": " + v + "\n";
  serve->footer(settings);
  serve->callback([&cli, a, serve, &app] {
    bool global_db = app.count("--db") > 0;
    cli.action = [&cli, a, serve, global_db] { return RunServe(cli, *a, *serve, global_db); };
  });
}

}  // namespace keyward::cli

// serve_command.cc: `keyward serve` — reads the settings, starts the service
// (service/service.h) and the HTTP server over it, runs until SIGTERM/SIGINT,
// then drains.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/cli.h"
#include "cli/serve_config.h"
#include "core/process.h"
#include "http/access_log.h"
#include "http/handlers/context.h"
#include "http/routes.h"
#include "http/server.h"

namespace keyward::cli {
namespace {

struct ServeArgs {
  std::string listen, db, config;
  int threads = 0;
};

// The settings from every source, in order of precedence.
StatusOr<ServeConfig> ReadConfig(Cli& cli, const ServeArgs& a, const CLI::App& sub, bool global_db) {
  ServeConfig config;
  if (!a.config.empty()) KW_RETURN_IF_ERROR(ApplyTomlFile(&config, a.config));
  // Secrets leave the environment as they are read (see core/process.h).
  std::string token = core::TakeSecretFromEnvironment("KEYWARD_ADMIN_TOKEN");
  KW_RETURN_IF_ERROR(ApplyEnvironment(&config));
  if (!token.empty()) KW_RETURN_IF_ERROR(ApplySetting(&config, "admin_token", token, "KEYWARD_ADMIN_TOKEN"));
  if (global_db) KW_RETURN_IF_ERROR(ApplySetting(&config, "db", cli.db_path, "--db"));
  if (sub.count("--db")) KW_RETURN_IF_ERROR(ApplySetting(&config, "db", a.db, "--db"));
  if (sub.count("--listen")) KW_RETURN_IF_ERROR(ApplySetting(&config, "listen", a.listen, "--listen"));
  if (sub.count("--threads")) {
    KW_RETURN_IF_ERROR(ApplySetting(&config, "threads", std::to_string(a.threads), "--threads"));
  }
  return config;
}

int RunServe(Cli& cli, const ServeArgs& a, const CLI::App& sub, bool global_db_flag) {
  StatusOr<ServeConfig> read = ReadConfig(cli, a, sub, global_db_flag);
  if (!read.ok()) {
    std::cerr << "keyward: " << read.status().message() << "\n";
    return kExitUsage;
  }
  ServeConfig& config = *read;
  if (!config.allow_core_dumps) {
    if (Status st = core::DisableCoreDumps(); !st.ok()) std::cerr << "keyward: " << st.message() << "\n";
  }
  cli.db_path = config.service.store.location;
  core::SetBackgroundNice(config.background_nice);
  StatusOr<std::unique_ptr<service::Service>> started =
      service::Service::Start(config.service, cli.seal_key_source(), cli.clock());
  if (!started.ok()) return cli.Fail(started.status());
  service::Service& svc = **started;
  if (svc.resumed() > 0) {
    std::cerr << "keyward: resuming " << svc.resumed() << " unfinished compute job(s)\n";
  }

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
  http::Metrics metrics;
  svc.ledger().set_batch_observer([&metrics](std::size_t n) { metrics.ObserveLedgerBatch(n); });
  http::AccessLog access_log(log_file, static_cast<std::size_t>(config.access_log_buffer_bytes), metrics);
  http::ServiceContext ctx{svc, metrics, config.admin_token};
  http::Router router;
  http::AddAllRoutes(router, ctx);
  http::Server server(config.server, router, metrics, access_log, cli.clock());
  StatusOr<std::string> bound = server.Listen();
  if (!bound.ok()) return cli.Fail(bound.status());
  std::printf("listening on %s\n", bound->c_str());
  std::fflush(stdout);
  if (!server.plain_address().empty()) {
    std::cerr << "keyward: plain HTTP also on " << server.plain_address() << "\n";
    if (!IsLoopbackHost(config.server.plain_host)) {
      std::cerr << "keyward: warning: plain_listen " << config.server.plain_host
                << " is not a loopback address: API keys cross the network readable\n";
    }
  }
  if (config.server.tls.enabled()) {
    std::cerr << "keyward: HTTPS (TLS 1.2+, ALPN http/1.1"
              << (config.server.tls.client_ca_file.empty() ? "" : ", client certificates required") << "), "
              << server.tls_description() << "; SIGHUP reloads it\n";
  } else if (!IsLoopbackHost(config.server.host)) {
    std::cerr << "keyward: warning: plain HTTP on " << config.server.host
              << ", not a loopback address: API keys cross the network readable; set tls_cert and tls_key,"
                 " or keep keyward behind a TLS-terminating proxy on this machine\n";
  }
  if (config.admin_token.empty()) {
    std::cerr << "keyward: admin API disabled (no admin token configured: set KEYWARD_ADMIN_TOKEN)\n";
  }
  if (server.max_connections() < config.server.max_connections) {
    std::cerr << "keyward: max_connections lowered to " << server.max_connections()
              << " by the open file limit\n";
  }
  server.Run();
  // Replies still owed to connections are delivered (or dropped) before the
  // server and its connections go away.
  svc.Stop();
  access_log.Stop();
  if (log_file && log_file != stdout) std::fclose(log_file);
  std::cerr << "keyward: stopped\n";
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, Cli& cli) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* serve = app.add_subcommand("serve", "Run the HTTP service (admin, verify, authz, compute API)");
  ServeConfig defaults;
  serve->add_option("--listen", a->listen, "HOST:PORT (default " + ServeSettings()[0].show(defaults) +
                                               "; port 0 = any free port)");
  serve->add_option("--db", a->db, "SQLite database file");
  serve->add_option("--config", a->config, "TOML configuration file");
  serve->add_option("--threads", a->threads, "I/O threads (default: number of cores)");
  std::string settings =
      "Settings (TOML key / KEYWARD_<KEY> variable, default); flags > environment > file > defaults:\n";
  for (const Setting& s : ServeSettings()) {
    settings += "  " + s.name + ": " + s.help;
    if (!s.secret) settings += " [" + s.show(defaults) + "]";
    settings += "\n";
  }
  serve->footer(settings);
  serve->callback([&cli, a, serve, &app] {
    bool global_db = app.count("--db") > 0;
    cli.action = [&cli, a, serve, global_db] { return RunServe(cli, *a, *serve, global_db); };
  });
}

}  // namespace keyward::cli

// server.h: the HTTP/1.1 server — listener, sessions (I/O only), limits,
// timeouts, graceful shutdown. Boost.Beast lives in server.cc alone; the
// server hands each request to its route's Handler as a plain HttpRequest,
// headers first (Handler::Head) and the body only if the route goes on.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "http/tls.h"
#include "http/types.h"
#include "keyward/status.h"

namespace keyward {
class Clock;
}

namespace keyward::http {

class Router;
class Metrics;
class AccessLog;
class IoLoadProbe;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;              // 0 picks a free port
  int threads = 0;              // I/O threads; 0 = number of cores
  // How often the server decides how many of the I/O threads take
  // connections (io_balance.h); 0: all of them, always.
  int io_balance_ms = 250;
  // Where that decision's load comes from; null: /proc. For tests.
  std::shared_ptr<IoLoadProbe> io_load_probe;
  std::size_t max_header_bytes = 8 * 1024;     // larger header block -> 431
  std::size_t max_body_bytes = 1024 * 1024;    // larger body -> 413
  // A request, from its first byte to its last, and a response write, must
  // each finish within this; a new connection must start its first request
  // within it too.
  int read_timeout_ms = 30'000;
  int idle_timeout_ms = 60'000;   // a keep-alive connection waiting for its next request
  int shutdown_grace_ms = 10'000; // in-flight requests get this long after SIGTERM
  // Open connections at most: at the limit the server stops accepting (new
  // connections wait in the kernel's backlog) until one closes. Lowered to
  // what the process's file descriptor limit allows.
  int max_connections = 4096;
  // HTTPS when set (tls.h); plain HTTP otherwise.
  TlsOptions tls;
  // A second listener that always speaks plain HTTP (beside a TLS `listen`:
  // for a TLS-terminating proxy or health checks on this machine); none
  // when plain_port < 0.
  std::string plain_host = "127.0.0.1";
  int plain_port = -1;
};

// Owns the listening socket and the I/O threads. Thread-safe: Stop() may be
// called from any thread (e.g. a signal handler thread).
class Server {
 public:
  Server(ServerOptions options, const Router& router, Metrics& metrics, AccessLog& log,
         const Clock& clock);
  ~Server();

  // Binds and listens. Returns the bound "host:port" (real port when 0).
  // kUnavailable if the address cannot be bound.
  StatusOr<std::string> Listen();
  // The connection limit in force (max_connections, lowered to the file
  // descriptor limit if need be); valid after Listen().
  int max_connections() const;
  // Serves until SIGINT/SIGTERM or Stop(); then stops accepting, lets
  // in-flight requests finish (up to shutdown_grace_ms) and returns.
  void Run();
  void Stop();
  // Builds the TLS context again from its files (SIGHUP does this): new
  // connections use the new certificate, established ones keep theirs. On
  // an error the server keeps the context it has. kFailedPrecondition when
  // the server does not speak TLS.
  Status ReloadTls();
  // The bound plain_listen "host:port" ("" when there is none); after Listen().
  std::string plain_address() const;
  // The certificate in use ("" without TLS), for the start-up banner.
  std::string tls_description() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward::http

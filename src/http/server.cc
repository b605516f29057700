// server.cc: Boost.Beast/Asio with C++20 coroutines. One coroutine per
// connection reads a request (with header/body limits), passes it to the
// Router, writes the response, and loops for keep-alive. Limit violations
// are answered (431/413/400) before the connection closes.
//
// Deadlines: instead of arming a timer for every read and write (which
// beast::tcp_stream does, and which cost ~15% of throughput here), each
// connection has one watchdog coroutine on the connection's strand. The
// session moves a deadline forward; the watchdog sleeps until the deadline it
// last saw, re-arms if it moved, and closes the socket once it has passed.
#include "http/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "http/access_log.h"
#include "http/error_mapping.h"
#include "http/metrics.h"
#include "http/router.h"
#include "keyward/clock.h"

namespace keyward::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using net::awaitable;
using net::use_awaitable;

constexpr auto kAsTuple = net::as_tuple(use_awaitable);

HttpRequest ToRequest(bhttp::request<bhttp::string_body>&& r, const std::string& remote) {
  HttpRequest out;
  out.method = std::string(r.method_string());
  std::string_view target = r.target();
  std::size_t q = target.find('?');
  out.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
  out.headers.reserve(8);
  for (const auto& f : r) {
    std::string name(f.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  out.body = std::move(r.body());
  out.remote = remote;
  return out;
}

bhttp::response<bhttp::string_body> ToBeast(HttpResponse&& res, unsigned version, bool keep_alive,
                                            bool head) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), version};
  out.set(bhttp::field::server, "keyward");
  out.set(bhttp::field::content_type, res.content_type);
  for (auto& [k, v] : res.headers) out.set(k, v);
  out.body() = std::move(res.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  if (head) out.body().clear();
  return out;
}

}  // namespace

// A connection's socket, deadline and watchdog timer; touched only on the
// connection's strand.
struct Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
  tcp::socket socket;
  net::steady_timer timer;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool done = false;

  void ExpiresAfter(int ms) { deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms); }
};

awaitable<void> Watchdog(std::shared_ptr<Connection> c) {
  while (!c->done) {
    c->timer.expires_at(c->deadline);
    co_await c->timer.async_wait(kAsTuple);
    if (!c->done && std::chrono::steady_clock::now() >= c->deadline) {
      beast::error_code ignored;
      c->socket.shutdown(tcp::socket::shutdown_both, ignored);
      c->socket.close(ignored);
      co_return;
    }
  }
}

struct Server::Impl {
  ServerOptions options;
  const Router& router;
  Metrics& metrics;
  AccessLog& log;
  const Clock& clock;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::atomic<bool> stopping{false};
  std::atomic<int> in_flight{0};
  std::thread stopper;  // started once by Stop(), joined by Run()

  Impl(ServerOptions o, const Router& r, Metrics& m, AccessLog& l, const Clock& c)
      : options(std::move(o)), router(r), metrics(m), log(l), clock(c),
        ioc(options.threads > 0 ? options.threads : 1) {}

  // Writes a response built from `res`; returns false if the write failed.
  awaitable<bool> Send(Connection& c, HttpResponse res, unsigned version, bool keep_alive,
                       bool head) {
    auto msg = ToBeast(std::move(res), version, keep_alive, head);
    c.ExpiresAfter(options.read_timeout_ms);
    auto [ec, n] = co_await bhttp::async_write(c.socket, msg, kAsTuple);
    co_return !ec;
  }

  awaitable<void> Session(tcp::socket socket) {
    beast::error_code ignored;
    std::string remote = socket.remote_endpoint(ignored).address().to_string();
    auto conn = std::make_shared<Connection>(std::move(socket));
    conn->ExpiresAfter(options.idle_timeout_ms);
    net::co_spawn(conn->socket.get_executor(), Watchdog(conn), net::detached);
    co_await Serve(*conn, remote);
    conn->done = true;
    conn->timer.cancel();
    conn->socket.shutdown(tcp::socket::shutdown_send, ignored);
  }

  awaitable<void> Serve(Connection& conn, const std::string& remote) {
    beast::flat_buffer buffer(8192);
    metrics.connections_total++;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      // A new request must arrive within the idle timeout; one already
      // started (bytes buffered) within the read timeout.
      conn.ExpiresAfter(buffer.size() > 0 ? options.read_timeout_ms : options.idle_timeout_ms);
      auto [ec, n] = co_await bhttp::async_read(conn.socket, buffer, parser, kAsTuple);
      if (ec == bhttp::error::end_of_stream || ec == net::error::eof) break;
      if (ec) {
        int status = 0;
        const char* code = "BAD_REQUEST";
        std::string msg = "malformed HTTP request";
        if (ec == bhttp::error::header_limit) {
          status = 431, code = "HEADERS_TOO_LARGE", msg = "request header block exceeds " +
                                                         std::to_string(options.max_header_bytes) + " bytes";
        } else if (ec == bhttp::error::body_limit) {
          status = 413, code = "BODY_TOO_LARGE", msg = "request body exceeds " +
                                                      std::to_string(options.max_body_bytes) + " bytes";
        } else if (ec.category() == beast::error_code(bhttp::error::header_limit).category() ||
                   ec == bhttp::error::bad_target) {
          status = 400;
        }
        if (status != 0 && !stopping) {
          HttpRequest pseudo;
          pseudo.method = "-";
          pseudo.path = "-";
          pseudo.remote = remote;
          HttpResponse res = ErrorResponse(status, code, msg);
          res.route = "(rejected)";
          log.Log(pseudo, res, 0, clock.Now());
          metrics.ObserveRequest("-", res.route, status, 0);
          co_await Send(conn, std::move(res), 11, false, false);
        }
        break;
      }
      in_flight++;
      auto start = std::chrono::steady_clock::now();
      bhttp::request<bhttp::string_body> breq = parser.release();
      const unsigned version = breq.version();
      bool keep_alive = breq.keep_alive() && !stopping;
      HttpRequest req = ToRequest(std::move(breq), remote);
      HttpResponse res;
      try {
        res = router.Handle(req);
      } catch (const std::exception& e) {
        res = ErrorResponse(500, "INTERNAL", "internal error");
        res.route = "(exception)";
      }
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      metrics.ObserveRequest(req.method, res.route, res.status, secs);
      log.Log(req, res, secs, clock.Now());
      bool ok = co_await Send(conn, std::move(res), version, keep_alive, req.method == "HEAD");
      in_flight--;
      if (!ok || !keep_alive) break;
    }
  }

  awaitable<void> Accept() {
    for (;;) {
      // Each connection gets its own strand: its session and watchdog never
      // run at the same time, whatever the number of I/O threads.
      auto [ec, socket] = co_await acceptor.async_accept(net::make_strand(ioc), kAsTuple);
      if (ec) {
        if (!acceptor.is_open() || stopping) co_return;
        continue;  // e.g. EMFILE: keep serving existing connections
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto executor = socket.get_executor();
      net::co_spawn(executor, Session(std::move(socket)), [](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            std::fprintf(stderr, "keyward: connection ended by error: %s\n", ex.what());
          }
        }
      });
    }
  }
};

Server::Server(ServerOptions options, const Router& router, Metrics& metrics, AccessLog& log,
               const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics, log, clock)) {}

Server::~Server() = default;

StatusOr<std::string> Server::Listen() {
  Impl& s = *impl_;
  beast::error_code ec;
  auto addr = net::ip::make_address(s.options.host, ec);
  if (ec) return InvalidArgumentError("invalid listen address '" + s.options.host + "'");
  if (s.options.port < 0 || s.options.port > 65535) return InvalidArgumentError("invalid port");
  tcp::endpoint ep(addr, static_cast<unsigned short>(s.options.port));
  s.acceptor.open(ep.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(ep, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError("cannot listen on " + s.options.host + ":" +
                            std::to_string(s.options.port) + ": " + ec.message());
  }
  tcp::endpoint bound = s.acceptor.local_endpoint();
  std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                             : bound.address().to_string();
  return host + ":" + std::to_string(bound.port());
}

void Server::Run() {
  Impl& s = *impl_;
  net::co_spawn(s.ioc, s.Accept(), net::detached);
  net::signal_set signals(s.ioc, SIGINT, SIGTERM);
  signals.async_wait([this](const beast::error_code& ec, int) {
    if (!ec) Stop();
  });
  int n = s.options.threads > 0 ? s.options.threads
                                : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : threads) t.join();
  if (s.stopper.joinable()) s.stopper.join();
}

void Server::Stop() {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) return;
  net::post(s.ioc, [&s] {
    beast::error_code ec;
    s.acceptor.close(ec);
  });
  // Let in-flight requests finish, then stop the loop (idle keep-alive
  // connections are simply closed).
  s.stopper = std::thread([&s] {
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(s.options.shutdown_grace_ms);
    // Give a request whose read just completed the chance to be counted.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    while (s.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    s.ioc.stop();
  });
}

}  // namespace keyward::http

// server.cc: Boost.Beast/Asio with C++20 coroutines. One coroutine per
// connection reads a request's header, lets the route's Handler decide on it
// (Head), reads the body only if the route goes on, hands the request to the
// Handler (Body), waits for its Reply if that comes later, writes the
// response, and loops for keep-alive. Limit violations are answered
// (431/413/400) before the connection closes.
//
// Deadlines: instead of arming a timer for every read and write (which
// beast::tcp_stream does, and which cost ~15% of throughput here), each
// connection has one watchdog coroutine on the connection's strand. The
// session moves a deadline forward; the watchdog sleeps until the deadline it
// last saw, re-arms if it moved, and closes the socket once it has passed.
// A keep-alive connection waits for the first byte of its next request under
// the idle timeout; from that byte on the request has the read timeout, and
// so does a new connection's first request from the moment it is accepted.
#include "http/server.h"

#include <strings.h>
#include <sys/resource.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <mutex>
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
using Parser = bhttp::request_parser<bhttp::string_body>;

// The request line and headers, before any of the body.
HttpRequest FromHeader(const bhttp::request<bhttp::string_body>& r, const std::string& remote) {
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
  out.remote = remote;
  return out;
}

bhttp::response<bhttp::string_body> ToBeast(HttpResponse&& res, unsigned version, bool keep_alive,
                                            bool head) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), version};
  out.set(bhttp::field::server, "keyward");
  out.set(bhttp::field::content_type, res.content_type);
  for (auto& [k, v] : res.headers) out.insert(k, v);
  out.body() = std::move(res.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  if (head) out.body().clear();
  return out;
}

// The response for a read error, or status 0 when the connection just ends.
HttpResponse ReadErrorResponse(const beast::error_code& ec, const ServerOptions& o) {
  if (ec == bhttp::error::header_limit) {
    return ErrorResponse(431, "HEADERS_TOO_LARGE",
                         "request header block exceeds " + std::to_string(o.max_header_bytes) + " bytes");
  }
  if (ec == bhttp::error::body_limit) {
    return ErrorResponse(413, "BODY_TOO_LARGE",
                         "request body exceeds " + std::to_string(o.max_body_bytes) + " bytes");
  }
  if (ec.category() == beast::error_code(bhttp::error::header_limit).category() ||
      ec == bhttp::error::bad_target) {
    return ErrorResponse(400, "BAD_REQUEST", "malformed HTTP request");
  }
  HttpResponse none;
  none.status = 0;
  return none;
}

}  // namespace

// A connection's socket, deadline, watchdog timer and reply timer; touched
// only on the connection's strand.
struct Connection {
  explicit Connection(tcp::socket s)
      : socket(std::move(s)), timer(socket.get_executor()), reply_timer(socket.get_executor()) {}
  tcp::socket socket;
  net::steady_timer timer;
  net::steady_timer reply_timer;  // a session waiting for a late Reply sleeps on it
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool done = false;

  // Moves the deadline; a deadline earlier than the one the watchdog sleeps
  // on wakes it, so that it re-arms for the earlier one.
  void ExpiresAfter(int ms) {
    auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    if (next < deadline) timer.cancel();
    deadline = next;
  }
};

namespace {

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

// The Reply a session hands to Body(): Send() from the session's own strand
// is seen when Body() returns; from another thread it wakes the session.
class ConnectionReply final : public Reply {
 public:
  explicit ConnectionReply(std::shared_ptr<Connection> conn) : conn_(std::move(conn)) {}

  void Send(HttpResponse response) override {
    {
      std::lock_guard lock(mu_);
      response_ = std::move(response);
    }
    // Wake a waiting session; a wake-up with nothing to take is harmless.
    net::post(conn_->socket.get_executor(), [c = conn_] { c->reply_timer.cancel(); });
  }

  std::optional<HttpResponse> Take() {
    std::lock_guard lock(mu_);
    return std::exchange(response_, std::nullopt);
  }

 private:
  std::shared_ptr<Connection> conn_;
  std::mutex mu_;
  std::optional<HttpResponse> response_;
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  const Router& router;
  Metrics& metrics;
  AccessLog& log;
  const Clock& clock;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  net::strand<net::io_context::executor_type> accept_strand{net::make_strand(ioc)};
  net::steady_timer accept_gate{accept_strand};  // the acceptor sleeps on it at the limit
  std::atomic<bool> stopping{false};
  std::atomic<int> in_flight{0};
  std::atomic<int> open_connections{0};
  int max_connections = 0;
  std::thread stopper;  // started once by Stop(), joined by Run()

  static int Threads(const ServerOptions& o) {
    return o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }

  Impl(ServerOptions o, const Router& r, Metrics& m, AccessLog& l, const Clock& c)
      : options(std::move(o)), router(r), metrics(m), log(l), clock(c), ioc(Threads(options)) {}

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
    conn->ExpiresAfter(options.read_timeout_ms);
    net::co_spawn(conn->socket.get_executor(), Watchdog(conn), net::detached);
    co_await Serve(conn, remote);
    conn->done = true;
    conn->timer.cancel();
    conn->socket.shutdown(tcp::socket::shutdown_send, ignored);
    conn->socket.close(ignored);
    if (open_connections.fetch_sub(1) >= max_connections) {
      net::post(accept_strand, [this] { accept_gate.cancel(); });
    }
  }

  void Observe(const HttpRequest& req, const HttpResponse& res,
               std::chrono::steady_clock::time_point start) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics.ObserveRequest(req.method, res.route, res.status, secs);
    log.Log(req, res, secs, clock.Now());
  }

  // Runs Body() and waits for its reply, however late it comes.
  awaitable<HttpResponse> Answer(const std::shared_ptr<Connection>& conn, const Handler& handler,
                                 Exchange& ex) {
    ConnectionReply reply(conn);
    try {
      const_cast<Handler&>(handler).Body(ex, reply);
    } catch (const std::exception&) {
      reply.Send(ErrorResponse(500, "INTERNAL", "internal error"));
    }
    for (;;) {
      if (std::optional<HttpResponse> res = reply.Take()) co_return std::move(*res);
      conn->reply_timer.expires_at(std::chrono::steady_clock::time_point::max());
      co_await conn->reply_timer.async_wait(kAsTuple);
    }
  }

  awaitable<void> Serve(std::shared_ptr<Connection> conn_ptr, const std::string& remote) {
    Connection& conn = *conn_ptr;
    beast::flat_buffer buffer(8192);
    metrics.connections_total++;
    for (bool first = true;; first = false) {
      Parser parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      if (!first && buffer.size() == 0) {
        // Keep-alive: the idle timeout until the next request's first byte.
        conn.ExpiresAfter(options.idle_timeout_ms);
        auto [wec] = co_await conn.socket.async_wait(tcp::socket::wait_read, kAsTuple);
        if (wec) break;
      }
      conn.ExpiresAfter(options.read_timeout_ms);
      auto [ec, n] = co_await bhttp::async_read_header(conn.socket, buffer, parser, kAsTuple);
      if (ec == bhttp::error::end_of_stream || ec == net::error::eof) break;
      if (ec) {
        co_await Reject(conn, ReadErrorResponse(ec, options), remote);
        break;
      }
      in_flight++;
      auto start = std::chrono::steady_clock::now();
      const unsigned version = parser.get().version();
      bool keep_alive = parser.get().keep_alive() && !stopping;
      const bool head_method = parser.get().method() == bhttp::verb::head;
      Exchange ex{FromHeader(parser.get(), remote), {}, {}, std::nullopt};
      HttpResponse res;
      bool ok = true;
      std::variant<RouteMatch, HttpResponse> found = router.Find(ex.request.method, ex.request.path);
      std::optional<HttpResponse> early;
      if (auto* refused = std::get_if<HttpResponse>(&found)) early = std::move(*refused);
      const RouteMatch* match = std::get_if<RouteMatch>(&found);
      if (match) {
        ex.params = match->params;
        ex.route = match->route->pattern;
        try {
          early = match->route->handler->Head(ex);
        } catch (const std::exception&) {
          early = ErrorResponse(500, "INTERNAL", "internal error");
        }
      }
      if (early) {
        res = std::move(*early);
        // The body was never read: the connection cannot carry another request.
        if (!parser.is_done()) keep_alive = false;
      } else {
        if (!parser.is_done()) {
          // The route accepted the head: tell a client that waits (curl
          // does, for larger bodies) to send the body now.
          const std::string* expect = ex.request.Header("expect");
          if (expect && expect->size() == 12 && strncasecmp(expect->data(), "100-continue", 12) == 0) {
            bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
            co_await bhttp::async_write(conn.socket, cont, kAsTuple);
          }
          auto [bec, bn] = co_await bhttp::async_read(conn.socket, buffer, parser, kAsTuple);
          if (bec) {
            HttpResponse rejected = ReadErrorResponse(bec, options);
            in_flight--;
            if (rejected.status != 0) co_await Reject(conn, std::move(rejected), remote);
            break;
          }
        }
        ex.request.body = std::move(parser.get().body());
        conn.ExpiresAfter(options.read_timeout_ms);
        res = co_await Answer(conn_ptr, *match->route->handler, ex);
      }
      if (res.route.empty()) res.route = match ? std::string_view(match->route->pattern) : "(rejected)";
      Observe(ex.request, res, start);
      ok = co_await Send(conn, std::move(res), version, keep_alive, head_method);
      in_flight--;
      if (!ok || !keep_alive) break;
    }
  }

  // Answers a request that could not be read (431/413/400) and logs it.
  awaitable<void> Reject(Connection& conn, HttpResponse res, const std::string& remote) {
    if (res.status == 0 || stopping) co_return;
    HttpRequest pseudo;
    pseudo.method = "-";
    pseudo.path = "-";
    pseudo.remote = remote;
    res.route = "(rejected)";
    log.Log(pseudo, res, 0, clock.Now());
    metrics.ObserveRequest("-", res.route, res.status, 0);
    co_await Send(conn, std::move(res), 11, false, false);
  }

  awaitable<void> Accept() {
    for (;;) {
      while (open_connections.load() >= max_connections && !stopping) {
        // At the limit: leave new connections in the backlog until one closes.
        accept_gate.expires_after(std::chrono::milliseconds(100));
        co_await accept_gate.async_wait(kAsTuple);
      }
      // Each connection gets its own strand: its session and watchdog never
      // run at the same time, whatever the number of I/O threads.
      auto [ec, socket] = co_await acceptor.async_accept(net::make_strand(ioc), kAsTuple);
      if (ec) {
        if (!acceptor.is_open() || stopping) co_return;
        // Out of descriptors or memory: back off instead of spinning.
        accept_gate.expires_after(std::chrono::milliseconds(50));
        co_await accept_gate.async_wait(kAsTuple);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      open_connections++;
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

int Server::max_connections() const { return impl_->max_connections; }

StatusOr<std::string> Server::Listen() {
  Impl& s = *impl_;
  // Each connection holds one descriptor; keep some for the database, logs
  // and the listener, and raise the soft limit as far as the hard one allows.
  rlimit nofile{};
  int limit = s.options.max_connections;
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    if (nofile.rlim_cur < nofile.rlim_max) {
      nofile.rlim_cur = nofile.rlim_max;
      setrlimit(RLIMIT_NOFILE, &nofile);
      getrlimit(RLIMIT_NOFILE, &nofile);
    }
    if (nofile.rlim_cur != RLIM_INFINITY) {
      limit = static_cast<int>(std::min<rlim_t>(static_cast<rlim_t>(limit),
                                                nofile.rlim_cur > 64 ? nofile.rlim_cur - 64 : 1));
    }
  }
  s.max_connections = std::max(1, limit);
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
  net::co_spawn(s.accept_strand, s.Accept(), net::detached);
  net::signal_set signals(s.ioc, SIGINT, SIGTERM);
  signals.async_wait([this](const beast::error_code& ec, int) {
    if (!ec) Stop();
  });
  int n = Impl::Threads(s.options);
  std::vector<std::thread> threads;
  for (int i = 1; i < n; ++i) threads.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : threads) t.join();
  if (s.stopper.joinable()) s.stopper.join();
}

void Server::Stop() {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) return;
  net::post(s.accept_strand, [&s] {
    beast::error_code ec;
    s.acceptor.close(ec);
    s.accept_gate.cancel();
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

// server.cc: Boost.Asio with C++20 coroutines and Beast's HTTP/1.1 parser.
// One coroutine per connection reads a request's header, lets the route's
// Handler decide on it (Head), reads the body only if the route goes on,
// hands the request to the Handler (Body), waits for its Reply if that comes
// later, writes the response, and loops for keep-alive. Limit violations are
// answered (431/413/400) before the connection closes.
//
// The request path does no work per request that a connection can do once:
// - Threads: one io_context per I/O thread, each run by its own thread, and
//   a connection is served by one of them at a time; so there are no
//   strands, no locks in the scheduler (concurrency hint 1) and no handler
//   ever hops threads. How many threads take connections follows the load
//   (io_balance.h): connection number s belongs to thread s % in_use, and a
//   plain-HTTP keep-alive connection whose thread changed moves between two
//   requests (its socket released on one thread, adopted on the other).
// - Reading: a basic_parser subclass writes the request line and headers
//   straight into the connection's reused HttpRequest (names lower-cased in
//   place; strings keep their capacity from one request to the next) and
//   appends the body as it arrives. One read loop serves both the idle wait
//   for the next request and the header itself.
// - Writing: the status line and headers are formatted into a reused string
//   and sent with the body in one gathered write; no serializer.
// - A reply given before Body() returns (the common case) is taken without a
//   wake-up; a later one wakes the session through its timer.
//
// Deadlines: instead of arming a timer for every read and write, each
// connection has one watchdog coroutine. The session moves a deadline
// forward; the watchdog sleeps until the deadline it last saw, re-arms if it
// moved, and closes the socket once it has passed. A keep-alive connection
// waits for the first byte of its next request under the idle timeout; from
// that byte on the request has the read timeout, and so does a new
// connection's first request from the moment it is accepted.
#include "http/server.h"

#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/process.h"
#include "http/access_log.h"
#include "http/error_mapping.h"
#include "http/io_balance.h"
#include "http/metrics.h"
#include "http/router.h"
#include "keyward/clock.h"

namespace keyward::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = net::ip::tcp;
using Executor = net::io_context::executor_type;
using Socket = net::basic_stream_socket<tcp, Executor>;
using TlsStream = net::ssl::stream<Socket&>;
using TlsContext = net::ssl::context;
using Acceptor = net::basic_socket_acceptor<tcp, Executor>;
using Timer = net::basic_waitable_timer<std::chrono::steady_clock,
                                        net::wait_traits<std::chrono::steady_clock>, Executor>;
template <typename T>
using Task = net::awaitable<T, Executor>;

constexpr auto kAsTuple = net::as_tuple(net::use_awaitable_t<Executor>{});
constexpr std::size_t kReadChunk = 16 * 1024;

// Fills a reused HttpRequest from Beast's parser callbacks.
class RequestParser final : public bhttp::basic_parser<true> {
 public:
  explicit RequestParser(HttpRequest& req) : req_(req) {}

  unsigned version() const { return version_; }
  bhttp::verb verb() const { return verb_; }

 private:
  void on_request_impl(bhttp::verb method, beast::string_view method_str, beast::string_view target,
                       int version, beast::error_code&) override {
    verb_ = method;
    version_ = static_cast<unsigned>(version);
    req_.method.assign(method_str.data(), method_str.size());
    std::string_view t(target.data(), target.size());
    std::size_t q = t.find('?');
    req_.path.assign(t.substr(0, q));
    if (q == std::string_view::npos) {
      req_.query.clear();
    } else {
      req_.query.assign(t.substr(q + 1));
    }
  }

  void on_response_impl(int, beast::string_view, int, beast::error_code& ec) override {
    ec = bhttp::error::bad_version;  // never called for requests
  }

  void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    if (fields_ == req_.headers.size()) req_.headers.emplace_back();
    auto& [n, v] = req_.headers[fields_++];
    n.assign(name.data(), name.size());
    for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    v.assign(value.data(), value.size());
  }

  void on_header_impl(beast::error_code&) override { req_.headers.resize(fields_); }

  void on_body_init_impl(const boost::optional<std::uint64_t>& length, beast::error_code&) override {
    // The body limit is checked against a declared length before this.
    if (length) req_.body.reserve(static_cast<std::size_t>(*length));
  }

  std::size_t on_body_impl(beast::string_view body, beast::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}

  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code&) override {
    req_.body.append(body.data(), body.size());
    return body.size();
  }

  void on_finish_impl(beast::error_code&) override {}

  HttpRequest& req_;
  std::size_t fields_ = 0;
  unsigned version_ = 11;
  bhttp::verb verb_ = bhttp::verb::unknown;
};

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
  if (ec.category() == beast::error_code(bhttp::error::header_limit).category() &&
      ec != bhttp::error::partial_message && ec != bhttp::error::end_of_stream) {
    return ErrorResponse(400, "BAD_REQUEST", "malformed HTTP request");
  }
  HttpResponse none;
  none.status = 0;
  return none;
}

void AppendNumber(std::string& out, std::uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// The status line and headers of `res` into `out` (cleared first).
void FormatHead(std::string& out, const HttpResponse& res, unsigned version, bool keep_alive) {
  out.clear();
  out += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  AppendNumber(out, static_cast<std::uint64_t>(res.status));
  out += ' ';
  beast::string_view reason = bhttp::obsolete_reason(static_cast<bhttp::status>(res.status));
  out.append(reason.data(), reason.size());
  out += "\r\nServer: keyward\r\nContent-Type: ";
  out += res.content_type;
  out += "\r\nContent-Length: ";
  AppendNumber(out, res.body.size());
  out += "\r\n";
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (version == 10) {
    out += "Connection: keep-alive\r\n";
  }
  out += res.header_lines();
  out += "\r\n";
}

}  // namespace

// A connection's socket, deadline, watchdog timer and reply slot. Everything
// but the reply slot is touched only by the connection's I/O thread.
struct Connection {
  Connection(Socket s, int shortest_timeout_ms)
      : socket(std::move(s)), timer(socket.get_executor()), reply_timer(socket.get_executor()),
        wake_every(shortest_timeout_ms) {}
  Socket socket;
  // Over TLS: the stream on top of `socket`, and the context it was made
  // with (kept alive here across a certificate reload).
  std::shared_ptr<TlsContext> tls_context;
  std::optional<TlsStream> tls;
  Timer timer;
  Timer reply_timer;  // a session waiting for a late Reply sleeps on it
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // The watchdog never sleeps longer than the shortest timeout the session
  // sets, so a deadline moved later and then earlier again (every keep-alive
  // request: idle timeout, then read timeout) lands after the timer's expiry
  // and needs no wake-up; only an idle connection is visited, once per this
  // period.
  const std::chrono::milliseconds wake_every;
  bool done = false;

  // The reply slot: Body()'s answer, from whichever thread gives it.
  std::mutex reply_mu;
  std::optional<HttpResponse> reply;  // guarded by reply_mu
  bool reply_waiting = false;         // the session sleeps on reply_timer; guarded by reply_mu

  // Moves the deadline; a deadline before the watchdog's next wake-up wakes
  // it, so that it re-arms for the earlier one.
  void ExpiresAfter(int ms) {
    auto next = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    if (next < timer.expiry()) timer.cancel();
    deadline = next;
  }
};

namespace {

Task<void> Watchdog(std::shared_ptr<Connection> c) {
  while (!c->done) {
    auto now = std::chrono::steady_clock::now();
    c->timer.expires_at(c->deadline - now > c->wake_every ? now + c->wake_every : c->deadline);
    co_await c->timer.async_wait(kAsTuple);
    if (!c->done && std::chrono::steady_clock::now() >= c->deadline) {
      beast::error_code ignored;
      c->socket.shutdown(tcp::socket::shutdown_both, ignored);
      c->socket.close(ignored);
      co_return;
    }
  }
}

// The Reply a session hands to Body(): the response goes into the
// connection's slot; a session already asleep is woken on its own thread.
class ConnectionReply final : public Reply {
 public:
  explicit ConnectionReply(std::shared_ptr<Connection> conn) : conn_(std::move(conn)) {}

  void Send(HttpResponse response) override {
    // Once the response is in the slot the session may go on and destroy
    // this object: only the local copy of the connection is used after.
    std::shared_ptr<Connection> c = conn_;
    bool wake;
    {
      std::lock_guard lock(c->reply_mu);
      c->reply = std::move(response);
      wake = c->reply_waiting;
    }
    if (wake) net::post(c->socket.get_executor(), [c] { c->reply_timer.cancel(); });
  }

 private:
  std::shared_ptr<Connection> conn_;
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  const Router& router;
  Metrics& metrics;
  AccessLog& log;
  const Clock& clock;
  // One io_context per I/O thread; the first also runs the acceptor.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  std::vector<net::executor_work_guard<Executor>> guards;
  std::uint64_t next_slot = 0;  // numbers accepted connections; accept coroutine only
  // How many I/O threads take connections (io_balance.h); the balancer on
  // the first thread sets it.
  std::atomic<int> in_use{1};
  std::shared_ptr<IoLoadProbe> probe;  // null: no balancing, every thread in use
  std::unique_ptr<Timer> balance_timer;
  // A listening socket; the first is `listen`, a second `plain_listen`.
  struct Listener {
    std::unique_ptr<Acceptor> acceptor;
    std::unique_ptr<Timer> gate;  // the acceptor sleeps on it at the limit
    bool tls = false;             // connections speak TLS (when the server has it)
  };
  std::vector<Listener> listeners;
  std::atomic<bool> stopping{false};
  std::atomic<int> in_flight{0};
  std::atomic<int> open_connections{0};
  int max_connections = 0;
  std::thread stopper;  // started once by Stop(), joined by Run()
  mutable std::mutex tls_mu;
  std::shared_ptr<TlsContext> tls_context;  // null: plain HTTP; guarded by tls_mu
  std::string plain_address;                // the bound plain_listen address, if any

  std::shared_ptr<TlsContext> CurrentTls() const {
    std::lock_guard lock(tls_mu);
    return tls_context;
  }

  static int Threads(const ServerOptions& o) {
    return o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }

  Impl(ServerOptions o, const Router& r, Metrics& m, AccessLog& l, const Clock& c)
      : options(std::move(o)), router(r), metrics(m), log(l), clock(c) {
    for (int i = 0; i < Threads(options); ++i) {
      contexts.push_back(std::make_unique<net::io_context>(1));
      guards.push_back(net::make_work_guard(contexts.back()->get_executor()));
    }
    const int n = static_cast<int>(contexts.size());
    if (options.io_balance_ms > 0 && n > 1) {
      probe = options.io_load_probe ? options.io_load_probe : MakeProcLoadProbe(n);
    }
    SetInUse(probe ? 1 : n);
    balance_timer = std::make_unique<Timer>(contexts[0]->get_executor());
    auto add_listener = [&](bool tls) {
      listeners.push_back({std::make_unique<Acceptor>(contexts[0]->get_executor()),
                           std::make_unique<Timer>(contexts[0]->get_executor()), tls});
    };
    add_listener(/*tls=*/true);
    if (options.plain_port >= 0) add_listener(/*tls=*/false);
    std::vector<std::pair<std::string_view, std::string_view>> declared;
    for (const Route& route : router.routes()) declared.emplace_back(route.method, route.pattern);
    metrics.DeclareRoutes(declared);
  }

  void WakeAcceptors() {
    for (Listener& l : listeners) l.gate->cancel();
  }

  void SetInUse(int n) {
    in_use.store(n, std::memory_order_relaxed);
    metrics.io_threads_in_use.store(n, std::memory_order_relaxed);
  }

  // The I/O thread that connection number `slot` belongs to now.
  int HomeOf(std::uint64_t slot) const {
    return static_cast<int>(slot % static_cast<std::uint64_t>(in_use.load(std::memory_order_relaxed)));
  }

  // Every io_balance_ms, on the first I/O thread: reads the load and sets
  // how many threads are in use. Without a reading four periods running
  // (no /proc), every thread takes connections from then on.
  Task<void> Balance() {
    IoBalancer balancer(static_cast<int>(contexts.size()));
    int misses = 0;
    std::uint64_t requests = metrics.requests_observed();
    while (!stopping) {
      balance_timer->expires_after(std::chrono::milliseconds(options.io_balance_ms));
      co_await balance_timer->async_wait(kAsTuple);
      if (stopping) co_return;
      std::optional<IoLoad> load = probe->Sample();
      const std::uint64_t now = metrics.requests_observed();
      const std::uint64_t answered = now - requests;
      requests = now;
      if (!load) {
        if (++misses > 4) {
          SetInUse(static_cast<int>(contexts.size()));
          std::fprintf(stderr, "keyward: cannot read the I/O threads' load; all %zu take connections\n",
                       contexts.size());
          co_return;
        }
        continue;
      }
      misses = 0;
      load->requests_per_second = static_cast<double>(answered) / std::max(1e-3, load->seconds);
      SetInUse(balancer.Update(*load));
    }
  }

  static void ReportSessionEnd(std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "keyward: connection ended by error: %s\n", ex.what());
      }
    }
  }

  void ConnectionClosed() {
    if (open_connections.fetch_sub(1) >= max_connections) {
      net::post(contexts[0]->get_executor(), [this] { WakeAcceptors(); });
    }
  }

  // Hands the connection's socket to I/O thread `to`, where a new session
  // takes it up as a keep-alive connection waiting for its next request.
  // False if the socket could not be released (the caller closes it).
  bool MoveTo(Connection& conn, int to, std::uint64_t slot, std::string& remote) {
    beast::error_code ec;
    tcp::endpoint local = conn.socket.local_endpoint(ec);
    if (ec) return false;
    Socket::native_handle_type fd = conn.socket.release(ec);
    if (ec) return false;
    metrics.connections_moved_total++;
    net::co_spawn(contexts[static_cast<std::size_t>(to)]->get_executor(),
                  Adopt(fd, local.protocol(), slot, to, std::move(remote)), ReportSessionEnd);
    return true;
  }

  Task<void> Adopt(Socket::native_handle_type fd, tcp protocol, std::uint64_t slot, int home,
                   std::string remote) {
    Socket socket(contexts[static_cast<std::size_t>(home)]->get_executor());
    beast::error_code ec;
    socket.assign(protocol, fd, ec);
    if (ec) {
      ::close(fd);
      ConnectionClosed();
      co_return;
    }
    co_await Session(std::move(socket), /*tls=*/false, slot, home, std::move(remote), /*moved=*/true);
  }

  // Serves one connection on I/O thread `home` until it closes or moves to
  // another thread. `moved`: it comes from another thread, between two
  // requests, with its `remote` address.
  Task<void> Session(Socket socket, bool tls, std::uint64_t slot, int home, std::string remote,
                     bool moved) {
    beast::error_code ignored;
    if (!moved) remote = socket.remote_endpoint(ignored).address().to_string();
    // At least 1 ms: a zero timeout must not make the watchdog spin.
    auto conn = std::make_shared<Connection>(
        std::move(socket), std::max(1, std::min(options.read_timeout_ms, options.idle_timeout_ms)));
    conn->ExpiresAfter(moved ? options.idle_timeout_ms : options.read_timeout_ms);
    net::co_spawn(conn->socket.get_executor(), Watchdog(conn), net::detached);
    bool ready = true;
    if (std::shared_ptr<TlsContext> ctx = tls ? CurrentTls() : nullptr) {
      // The handshake runs under the first request's read timeout.
      conn->tls_context = std::move(ctx);
      conn->tls.emplace(conn->socket, *conn->tls_context);
      auto [ec] = co_await conn->tls->async_handshake(net::ssl::stream_base::server, kAsTuple);
      if (ec) {
        metrics.tls_handshake_failures_total++;
        ready = false;
      }
    }
    int move_to = -1;
    if (ready) move_to = co_await Serve(conn, remote, slot, home, moved);
    conn->done = true;
    conn->timer.cancel();
    if (move_to >= 0 && MoveTo(*conn, move_to, slot, remote)) co_return;
    conn->socket.shutdown(tcp::socket::shutdown_send, ignored);
    conn->socket.close(ignored);
    ConnectionClosed();
  }

  void Observe(const HttpRequest& req, const HttpResponse& res, const Route* route, bool head,
               std::chrono::steady_clock::time_point start) {
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (route && !head) {
      metrics.ObserveRoute(route->index, res.status, secs);
    } else {
      metrics.ObserveRequest(req.method, res.route, res.status, secs);
    }
    if (log.enabled()) log.Log(req, res, secs, clock.Now());
  }

  // Runs Body() and waits for its reply, however late it comes.
  Task<HttpResponse> Answer(const std::shared_ptr<Connection>& conn, Handler& handler, Exchange& ex) {
    {
      std::lock_guard lock(conn->reply_mu);
      conn->reply.reset();
      conn->reply_waiting = false;
    }
    ConnectionReply reply(conn);
    try {
      handler.Body(ex, reply);
    } catch (const std::exception&) {
      reply.Send(ErrorResponse(500, "INTERNAL", "internal error"));
    }
    for (;;) {
      {
        std::lock_guard lock(conn->reply_mu);
        if (conn->reply) {
          HttpResponse res = std::move(*conn->reply);
          conn->reply.reset();
          conn->reply_waiting = false;
          co_return res;
        }
        conn->reply_waiting = true;
      }
      conn->reply_timer.expires_at(std::chrono::steady_clock::time_point::max());
      co_await conn->reply_timer.async_wait(kAsTuple);
    }
  }

  // Reads more bytes into `buffer`; an error code on failure.
  static Task<beast::error_code> ReadSome(Connection& c, beast::flat_buffer& buffer) {
    auto [ec, n] = c.tls ? co_await c.tls->async_read_some(buffer.prepare(kReadChunk), kAsTuple)
                         : co_await c.socket.async_read_some(buffer.prepare(kReadChunk), kAsTuple);
    buffer.commit(n);
    co_return ec;
  }

  // Writes all of `buffers`; an error code on failure.
  template <typename Buffers>
  static Task<beast::error_code> WriteAll(Connection& c, const Buffers& buffers) {
    auto [ec, n] = c.tls ? co_await net::async_write(*c.tls, buffers, kAsTuple)
                         : co_await net::async_write(c.socket, buffers, kAsTuple);
    co_return ec;
  }

  // Serves requests until the connection ends (-1) or, between two
  // requests, belongs to another thread (its index).
  Task<int> Serve(std::shared_ptr<Connection> conn_ptr, const std::string& remote, std::uint64_t slot,
                  int home, bool moved) {
    Connection& conn = *conn_ptr;
    beast::flat_buffer buffer;
    std::string head_text;  // the response's status line and headers
    Exchange ex;
    ex.request.remote = remote;
    ex.request.tls = conn.tls.has_value();
    if (!moved) metrics.connections_total++;
    for (bool first = !moved;; first = false) {
      // A TLS stream stays on the thread where its handshake ran; bytes
      // already read (a pipelined request) keep the connection where it is.
      if (!first && buffer.size() == 0 && !conn.tls && !stopping) {
        if (int want = HomeOf(slot); want != home) co_return want;
      }
      ex.request.body.clear();
      if (ex.request.body.capacity() > 64 * 1024) ex.request.body.shrink_to_fit();
      ex.params.clear();
      ex.caller.reset();
      ex.check_content_digest = false;
      RequestParser parser(ex.request);
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);

      // The header. A keep-alive connection waits under the idle timeout
      // until the next request's first byte arrives.
      bool idle = !first && buffer.size() == 0;
      conn.ExpiresAfter(idle ? options.idle_timeout_ms : options.read_timeout_ms);
      beast::error_code ec;
      for (;;) {
        if (buffer.size() > 0) {
          buffer.consume(parser.put(buffer.data(), ec));
          if (ec == bhttp::error::need_more) {
            ec = {};
          } else if (ec || parser.is_header_done()) {
            break;
          }
        }
        ec = co_await ReadSome(conn, buffer);
        if (ec) {
          if (ec == net::error::eof && parser.got_some()) ec = bhttp::error::partial_message;
          break;
        }
        if (idle) {
          idle = false;
          conn.ExpiresAfter(options.read_timeout_ms);
        }
      }
      if (ec) {
        co_await Reject(conn, ReadErrorResponse(ec, options), ex.request.remote);
        break;
      }

      in_flight++;
      auto start = std::chrono::steady_clock::now();
      const unsigned version = parser.version();
      bool keep_alive = parser.keep_alive() && !stopping;
      const bool head_method = parser.verb() == bhttp::verb::head;
      HttpResponse res;
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
            static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
            co_await WriteAll(conn, net::buffer(kContinue.data(), kContinue.size()));
          }
          beast::error_code bec;
          while (!parser.is_done()) {
            if (buffer.size() > 0) {
              buffer.consume(parser.put(buffer.data(), bec));
              if (bec == bhttp::error::need_more) {
                bec = {};
              } else if (bec) {
                break;
              } else {
                continue;
              }
            }
            bec = co_await ReadSome(conn, buffer);
            if (bec == net::error::eof) bec = bhttp::error::partial_message;
            if (bec) break;
          }
          if (bec) {
            HttpResponse rejected = ReadErrorResponse(bec, options);
            in_flight--;
            if (rejected.status != 0) co_await Reject(conn, std::move(rejected), ex.request.remote);
            break;
          }
        }
        conn.ExpiresAfter(options.read_timeout_ms);
        res = co_await Answer(conn_ptr, *match->route->handler, ex);
      }
      if (res.route.empty()) res.route = match ? std::string_view(match->route->pattern) : "(rejected)";
      Observe(ex.request, res, match ? match->route : nullptr, head_method, start);
      bool ok = co_await Send(conn, res, head_text, version, keep_alive, head_method);
      in_flight--;
      if (!ok || !keep_alive) break;
    }
    co_return -1;
  }

  // Writes `res`; false if the write failed.
  Task<bool> Send(Connection& c, const HttpResponse& res, std::string& head_text, unsigned version,
                  bool keep_alive, bool head) {
    FormatHead(head_text, res, version, keep_alive);
    c.ExpiresAfter(options.read_timeout_ms);
    std::array<net::const_buffer, 2> parts{net::buffer(head_text),
                                           head ? net::const_buffer() : net::buffer(res.body)};
    beast::error_code ec = co_await WriteAll(c, parts);
    co_return !ec;
  }

  // Answers a request that could not be read (431/413/400) and logs it.
  Task<void> Reject(Connection& conn, HttpResponse res, const std::string& remote) {
    if (res.status == 0 || stopping) co_return;
    HttpRequest pseudo;
    pseudo.method = "-";
    pseudo.path = "-";
    pseudo.remote = remote;
    res.route = "(rejected)";
    if (log.enabled()) log.Log(pseudo, res, 0, clock.Now());
    metrics.ObserveRequest("-", res.route, res.status, 0);
    std::string head_text;
    co_await Send(conn, res, head_text, 11, false, false);
  }

  Task<void> Accept(Listener& l) {
    for (;;) {
      while (open_connections.load() >= max_connections && !stopping) {
        // At the limit: leave new connections in the backlog until one closes.
        l.gate->expires_after(std::chrono::milliseconds(100));
        co_await l.gate->async_wait(kAsTuple);
      }
      // Connections are dealt in turn to the I/O threads in use.
      const std::uint64_t slot = next_slot++;
      const int home = HomeOf(slot);
      net::io_context& context = *contexts[static_cast<std::size_t>(home)];
      auto [ec, socket] = co_await l.acceptor->async_accept(context.get_executor(), kAsTuple);
      if (ec) {
        if (!l.acceptor->is_open() || stopping) co_return;
        // Out of descriptors or memory: back off instead of spinning.
        l.gate->expires_after(std::chrono::milliseconds(50));
        co_await l.gate->async_wait(kAsTuple);
        continue;
      }
      socket.set_option(tcp::no_delay(true), ec);
      open_connections++;
      net::co_spawn(context.get_executor(), Session(std::move(socket), l.tls, slot, home, {}, false),
                    ReportSessionEnd);
    }
  }
};

Server::Server(ServerOptions options, const Router& router, Metrics& metrics, AccessLog& log,
               const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), router, metrics, log, clock)) {}

Server::~Server() = default;

int Server::max_connections() const { return impl_->max_connections; }

namespace {

// Binds and listens; returns the bound "host:port".
StatusOr<std::string> BindListener(Acceptor& acceptor, const std::string& host_text, int port) {
  beast::error_code ec;
  auto addr = net::ip::make_address(host_text, ec);
  if (ec) return InvalidArgumentError("invalid listen address '" + host_text + "'");
  if (port < 0 || port > 65535) return InvalidArgumentError("invalid port");
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return UnavailableError("cannot listen on " + host_text + ":" + std::to_string(port) + ": " + ec.message());
  tcp::endpoint bound = acceptor.local_endpoint();
  std::string host = bound.address().is_v6() ? "[" + bound.address().to_string() + "]"
                                             : bound.address().to_string();
  return host + ":" + std::to_string(bound.port());
}

}  // namespace

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
  if (s.options.tls.enabled()) {
    KW_ASSIGN_OR_RETURN(std::shared_ptr<TlsContext> ctx, MakeServerTlsContext(s.options.tls));
    std::lock_guard lock(s.tls_mu);
    s.tls_context = std::move(ctx);
  }
  KW_ASSIGN_OR_RETURN(std::string main, BindListener(*s.listeners[0].acceptor, s.options.host, s.options.port));
  if (s.listeners.size() > 1) {
    KW_ASSIGN_OR_RETURN(s.plain_address, BindListener(*s.listeners[1].acceptor, s.options.plain_host,
                                                      s.options.plain_port));
  }
  return main;
}

std::string Server::plain_address() const { return impl_->plain_address; }

void Server::Run() {
  Impl& s = *impl_;
  net::io_context& first = *s.contexts[0];
  for (Impl::Listener& l : s.listeners) net::co_spawn(first.get_executor(), s.Accept(l), net::detached);
  if (s.probe) net::co_spawn(first.get_executor(), s.Balance(), net::detached);
  net::signal_set signals(first, SIGINT, SIGTERM);
  signals.async_wait([this](const beast::error_code& ec, int) {
    if (!ec) Stop();
  });
  // SIGHUP: reload the certificate and key (and never the default action,
  // which would end the process).
  net::signal_set hangup(first, SIGHUP);
  std::function<void()> await_hangup = [&] {
    hangup.async_wait([&](const beast::error_code& ec, int) {
      if (ec) return;
      if (s.options.tls.enabled()) {
        Status st = ReloadTls();
        if (st.ok()) {
          std::fprintf(stderr, "keyward: TLS reloaded: %s\n", tls_description().c_str());
        } else {
          std::fprintf(stderr, "keyward: TLS reload failed, keeping the certificate in use: %s\n",
                       st.message().c_str());
        }
      }
      await_hangup();
    });
  };
  await_hangup();
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < s.contexts.size(); ++i) {
    threads.emplace_back([ctx = s.contexts[i].get(), probe = s.probe, i] {
      core::NameThread("kw-io");
      if (probe) probe->ThreadStarted(static_cast<int>(i));
      ctx->run();
    });
  }
  if (s.probe) s.probe->ThreadStarted(0);
  first.run();
  for (auto& t : threads) t.join();
  if (s.stopper.joinable()) s.stopper.join();
}

Status Server::ReloadTls() {
  Impl& s = *impl_;
  if (!s.options.tls.enabled()) return FailedPreconditionError("the server does not speak TLS");
  KW_ASSIGN_OR_RETURN(std::shared_ptr<TlsContext> ctx, MakeServerTlsContext(s.options.tls));
  std::lock_guard lock(s.tls_mu);
  s.tls_context = std::move(ctx);
  return OkStatus();
}

std::string Server::tls_description() const {
  std::shared_ptr<TlsContext> ctx = impl_->CurrentTls();
  return ctx ? DescribeCertificate(*ctx) : "";
}

void Server::Stop() {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) return;
  net::post(s.contexts[0]->get_executor(), [&s] {
    beast::error_code ec;
    for (Impl::Listener& l : s.listeners) {
      l.acceptor->close(ec);
      l.gate->cancel();
    }
    s.balance_timer->cancel();
  });
  // Let in-flight requests finish, then stop the loops (idle keep-alive
  // connections are simply closed).
  s.stopper = std::thread([&s] {
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(s.options.shutdown_grace_ms);
    // Give a request whose read just completed the chance to be counted.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    while (s.in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    for (auto& g : s.guards) g.reset();
    for (auto& c : s.contexts) c->stop();
  });
}

}  // namespace keyward::http

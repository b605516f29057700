// http_request_fuzz.cc: raw bytes on a connection to a running `keyward
// serve` server in this process — Beast's request parser, the session loop
// (head step, body, keep-alive, pipelining), routing and the handlers. Each
// input is one connection: the bytes are written, the write side is closed,
// and every response is read until the server closes. The server and its
// in-memory store live for the whole run; routes refuse unknown keys, so
// inputs cannot change what later inputs see beyond rate limits.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "fuzz_world.h"
#include "http/access_log.h"
#include "http/server.h"

namespace {

struct Running {
  Running() : log(nullptr, 1 << 20, metrics) {
    keyward::http::ServerOptions o;
    o.port = 0;
    o.threads = 1;
    o.read_timeout_ms = 2000;
    o.idle_timeout_ms = 2000;
    server = std::make_unique<keyward::http::Server>(o, world.router(), metrics, log, keyward::SystemClock());
    keyward::StatusOr<std::string> bound = server->Listen();
    if (!bound.ok()) __builtin_trap();
    port = std::stoi(bound->substr(bound->rfind(':') + 1));
    thread = std::thread([this] { server->Run(); });
  }
  keyward::fuzz::World world;
  keyward::http::Metrics metrics;
  keyward::http::AccessLog log;
  std::unique_ptr<keyward::http::Server> server;
  int port = 0;
  std::thread thread;
};

// A reply that breaks the contract: shown in the log, then a crash.
[[noreturn]] void Finding(const std::string& reply) {
  std::fprintf(stderr, "finding: the server replied:\n%.*s\n", static_cast<int>(std::min<std::size_t>(reply.size(), 4096)),
               reply.data());
  __builtin_trap();
}

// The harness itself could not run an input.
[[noreturn]] void Broken(const char* what) {
  std::perror(what);
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Running* running = new Running();  // lives for the whole run
  std::string bytes = running->world.Fill(std::string_view(reinterpret_cast<const char*>(data), size));
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(running->port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0) Broken("socket");
  // libFuzzer's -timeout runs on SIGALRM, which interrupts these calls: an
  // interrupted call is retried, never taken for a silent server.
  // (An interrupted connect goes on in the background: EALREADY until it is
  // done, then EISCONN.)
  while (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EISCONN) {
    if (errno != EINTR && errno != EALREADY) Broken("connect");
  }
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may answer and close before reading everything
    sent += static_cast<std::size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  std::string reply;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, 10'000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {  // the server must answer or close
      Broken("no answer within 10 s");
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  // Whatever came back is well-formed HTTP/1.x responses with sane statuses.
  for (std::size_t at = reply.find("HTTP/1."); at != std::string::npos; at = reply.find("\r\nHTTP/1.", at + 1)) {
    std::size_t s = reply.find(' ', at);
    int status = s == std::string::npos ? 0 : std::atoi(reply.c_str() + s + 1);
    if (status < 100 || status > 599 || (status >= 500 && status != 503)) Finding(reply);
  }
  if (!reply.empty() && reply.rfind("HTTP/1.", 0) != 0) Finding(reply);
  return 0;
}

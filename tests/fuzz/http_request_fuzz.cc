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
#include <cstdint>
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Running* running = new Running();  // lives for the whole run
  std::string bytes = running->world.Fill(std::string_view(reinterpret_cast<const char*>(data), size));
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(running->port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) __builtin_trap();
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer and close before reading everything
    sent += static_cast<std::size_t>(n);
  }
  shutdown(fd, SHUT_WR);
  std::string reply;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10'000) <= 0) {  // the server must answer or close
      if (std::getenv("KEYWARD_FUZZ_GDB")) {
        std::string cmd = "gdb -p " + std::to_string(getpid()) + " -batch -ex 'thread apply all bt' > /tmp/hang.txt 2>&1";
        (void)std::system(cmd.c_str());
      }
      __builtin_trap();
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    reply.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  // Whatever came back is well-formed HTTP/1.x responses with sane statuses.
  for (std::size_t at = reply.find("HTTP/1."); at != std::string::npos; at = reply.find("\r\nHTTP/1.", at + 1)) {
    std::size_t s = reply.find(' ', at);
    int status = s == std::string::npos ? 0 : std::atoi(reply.c_str() + s + 1);
    if (status < 100 || status > 599 || (status >= 500 && status != 503)) __builtin_trap();
  }
  if (!reply.empty() && reply.rfind("HTTP/1.", 0) != 0) __builtin_trap();
  return 0;
}

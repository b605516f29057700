// http_client.cc: blocking socket client with Content-Length framing.
#include "support/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fcntl.h>

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

namespace keyward::testing {
namespace {

// Appends one exchange to $KEYWARD_CONTRACT_LOG (one JSON line, one write,
// O_APPEND: lines from concurrent test processes never interleave). The
// contract test checks every line against the OpenAPI document.
void RecordForContract(const std::string& raw_request, const HttpReply& reply) {
  const char* path = std::getenv("KEYWARD_CONTRACT_LOG");
#ifdef KEYWARD_CONTRACT_LOG
  if (!path || !*path) path = KEYWARD_CONTRACT_LOG;
#endif
  if (!path || !*path || reply.status == 0) return;
  std::size_t sp1 = raw_request.find(' ');
  std::size_t sp2 = raw_request.find(' ', sp1 + 1);
  std::size_t eol = raw_request.find("\r\n");
  if (sp1 == std::string::npos || sp2 == std::string::npos || sp2 > eol) return;
  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [k, v] : reply.headers) headers[k] = v;
  nlohmann::json line{{"method", raw_request.substr(0, sp1)},
                      {"target", raw_request.substr(sp1 + 1, sp2 - sp1 - 1)},
                      {"status", reply.status},
                      {"headers", headers},
                      {"body", reply.body}};
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  ssize_t ignored = write(fd, text.data(), text.size());
  (void)ignored;
  close(fd);
}

}  // namespace

std::string HttpReply::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

HttpConnection::HttpConnection(const std::string& address) {
  std::size_t colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  int port = std::stoi(address.substr(colon + 1));
  bool v6 = host.size() > 1 && host.front() == '[';
  if (v6) host = host.substr(1, host.size() - 2);
  fd_ = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{5, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int rc;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET6, host.c_str(), &a.sin6_addr);
    rc = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    rc = connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  if (rc != 0) {
    close(fd_);
    fd_ = -1;
  }
}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) close(fd_);
}

HttpReply HttpConnection::RoundTrip(const std::string& raw) {
  HttpReply reply;
  if (fd_ < 0) return reply;
  std::size_t sent = 0;
  while (sent < raw.size()) {
    ssize_t n = send(fd_, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (413/431) before reading everything
    sent += static_cast<std::size_t>(n);
  }
  // Read until headers complete, then the body by Content-Length.
  std::size_t header_end;
  char buf[65536];
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return reply;
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
  std::string head = buffer_.substr(0, header_end);
  std::size_t line_end = head.find("\r\n");
  std::string status_line = head.substr(0, line_end);
  if (status_line.size() >= 12) reply.status = std::atoi(status_line.c_str() + 9);
  std::size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    std::size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string line = head.substr(pos, e - pos);
    std::size_t c = line.find(':');
    if (c != std::string::npos) {
      std::string name = line.substr(0, c);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::string value = line.substr(c + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      reply.headers.emplace(name, value);
    }
    pos = e + 2;
  }
  bool head_request = raw.rfind("HEAD ", 0) == 0;
  std::size_t length = head_request ? 0 : std::stoul(reply.Header("content-length").empty() ? "0" : reply.Header("content-length"));
  std::size_t body_start = header_end + 4;
  while (buffer_.size() < body_start + length) {
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
  reply.body = buffer_.substr(body_start, length);
  buffer_.erase(0, std::min(buffer_.size(), body_start + length));
  RecordForContract(raw, reply);
  return reply;
}

HttpReply HttpConnection::Send(const std::string& method, const std::string& path,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body) {
  std::string raw = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) raw += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH") {
    raw += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  raw += "\r\n" + body;
  return RoundTrip(raw);
}

void HttpConnection::Write(const std::string& raw) {
  if (fd_ >= 0) send(fd_, raw.data(), raw.size(), MSG_NOSIGNAL);
}

bool HttpConnection::Readable(int ms) {
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  return poll(&p, 1, ms) > 0;
}

bool HttpConnection::PeerClosed() {
  if (fd_ < 0) return true;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, 2000) <= 0) return false;
  char c;
  return recv(fd_, &c, 1, MSG_PEEK) == 0;
}

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

HttpReply HttpGet(const std::string& address, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpConnection c(address);
  return c.Send("GET", path, headers);
}

HttpReply HttpPost(const std::string& address, const std::string& path, const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpConnection c(address);
  return c.Send("POST", path, headers, body);
}

long long MetricValue(const std::string& address, const std::string& name) {
  const std::string body = "\n" + HttpGet(address, "/metrics").body;
  const std::size_t at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::atoll(body.c_str() + at + name.size() + 2);
}

}  // namespace keyward::testing

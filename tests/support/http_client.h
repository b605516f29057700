// http_client.h: a deliberately small HTTP/1.1 client over a raw TCP socket,
// so tests can send exactly the bytes they mean — including broken ones.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace keyward::testing {

struct HttpReply {
  int status = 0;                              // 0: no response (connection closed/failed)
  std::multimap<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string Header(const std::string& name) const;
};

class HttpConnection {
 public:
  // Connects to "127.0.0.1:PORT" (or "[::1]:PORT").
  explicit HttpConnection(const std::string& address);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends raw bytes and reads one response (5 s receive timeout).
  HttpReply RoundTrip(const std::string& raw);
  // Builds and sends a request with Content-Length.
  HttpReply Send(const std::string& method, const std::string& path,
                 const std::vector<std::pair<std::string, std::string>>& headers = {},
                 const std::string& body = "");
  // True if the peer has closed the connection (EOF within 2 s).
  bool PeerClosed();
  // Sends raw bytes without waiting for an answer.
  void Write(const std::string& raw);
  // True if bytes (or EOF) arrive within `ms`.
  bool Readable(int ms);

 private:
  int fd_ = -1;
  std::string buffer_;
};

// One-shot helpers on a new connection.
// A loopback port that was free a moment ago (for servers that cannot be
// told to pick their own; a small race remains).
int FreeLoopbackPort();

HttpReply HttpGet(const std::string& address, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& headers = {});
HttpReply HttpPost(const std::string& address, const std::string& path, const std::string& body,
                   const std::vector<std::pair<std::string, std::string>>& headers = {});

// The value of the unlabelled metric `name` in the server's GET /metrics
// (Prometheus text), or -1 when it is not there.
long long MetricValue(const std::string& address, const std::string& name);

}  // namespace keyward::testing

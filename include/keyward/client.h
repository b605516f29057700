// client.h: a small HTTP client for keyward's API, for C++ services and
// workers: submit and read compute jobs, verify a key, ask /v1/authz.
//
// A Client keeps its connection open between calls (HTTP keep-alive). It is
// not thread-safe: use one per thread. Transport failures (refused,
// timed out, reset) are kUnavailable; any HTTP answer, 4xx and 5xx included,
// is a ClientResponse for the caller to judge. Keys passed in are sent only
// in the Authorization header (or the verify body) and never logged; a
// Credential with a key id is not sent at all: the request is signed.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "keyward/status.h"

namespace keyward {

struct ClientOptions {
  // Where keyward listens, e.g. "http://127.0.0.1:8080".
  std::string base_url = "http://127.0.0.1:8080";
  // Whole-request timeout.
  int timeout_ms = 10'000;
  int connect_timeout_ms = 2'000;
  // https:// only. The server's certificate is always verified (name and
  // chain), against the system's CAs or, when set, the PEM bundle ca_file.
  std::string ca_file;
  // Mutual TLS: a PEM client certificate and its key.
  std::string client_cert_file;
  std::string client_key_file;
  // Skips verifying the server's certificate: a test against a server whose
  // CA you do not have, never production. Off unless set by name.
  bool insecure_skip_tls_verify = false;
};

// What a call authenticates with: a key sent as `Authorization: Api-Key`,
// or, given the key's id too ("key_…"), a request signed with the key
// (RFC 9421 hmac-sha256 over @method, @target-uri and Content-Digest, with
// created and nonce; the secret is derived from the key, which never leaves
// the process). Converts from the key alone.
struct Credential {
  Credential(std::string_view k) : key(k) {}         // NOLINT(google-explicit-constructor)
  Credential(const std::string& k) : key(k) {}       // NOLINT(google-explicit-constructor)
  Credential(const char* k) : key(k) {}              // NOLINT(google-explicit-constructor)
  Credential(std::string_view k, std::string_view id) : key(k), key_id(id) {}
  std::string_view key;
  std::string_view key_id;  // set: sign instead of sending the key
};

struct ClientResponse {
  int status = 0;
  std::string body;  // JSON
  // The value of a response header (case-insensitive name), "" if absent.
  std::string Header(std::string_view name) const;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
};

class Client {
 public:
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // POST /v1/ai/jobs. `payload_json` must be a JSON object (kInvalidArgument
  // otherwise, nothing sent).
  StatusOr<ClientResponse> SubmitJob(const Credential& credential, std::string_view job_id,
                                     std::string_view task, std::string_view payload_json);
  // GET /v1/ai/jobs/{id}.
  StatusOr<ClientResponse> GetJob(const Credential& credential, std::string_view id);
  // POST /v1/keys/verify.
  StatusOr<ClientResponse> Verify(std::string_view key, const std::vector<std::string>& scopes = {});
  // GET /v1/authz.
  StatusOr<ClientResponse> Authz(const Credential& credential);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keyward

// fuzz_world.h: a whole keyward service — an in-memory SQLite store, a user
// with a live and a test key — and the route table on top. Reset() puts the
// store back to that first state and drops every cache, so that each input
// starts from the same world and a crash reproduces from its input alone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/handlers/context.h"
#include "http/router.h"
#include "http/routes.h"
#include "service/service.h"

namespace keyward::fuzz {

inline constexpr const char* kAdminToken = "fuzz-admin-token-0123456789";

class World {
 public:
  World() {
    service::ServiceOptions o;
    o.store.location = "sqlite::memory:";
    o.job_threads = 0;          // jobs run within their submission: no threads,
    o.request_threads = 0;      // requests answered on the calling thread,
    o.last_used_flush_ms = 0;   // nothing that outlives the input
    o.gate.default_test_rate_limit = 1e9;  // no limit that depends on timing
    o.changes.poll_ms = 0;                 // one connection: no feed to follow

    StatusOr<std::unique_ptr<service::Service>> s = service::Service::Start(
        o, service::SealKeySource{std::string(64, '3'), ""}, SystemClock());
    if (!s.ok()) __builtin_trap();
    svc_ = std::move(s).value();
    ctx_ = std::make_unique<http::ServiceContext>(http::ServiceContext{*svc_, metrics_, kAdminToken});
    http::AddAllRoutes(router_, *ctx_);
    auth::CreateUserRequest req;
    req.name = "fuzz";
    req.external_id = "fuzz-1";
    StatusOr<auth::CreatedUser> u = svc_->accounts().CreateUser(req);
    if (!u.ok()) __builtin_trap();
    user_id = u->user.id;
    key = u->key->secret;
    key_id = u->key->record.id;
    auth::IssueKeyRequest test;
    test.user_id = user_id;
    test.environment = Environment::kTest;
    test_key = svc_->accounts().IssueKey(test)->secret;
    StatusOr<std::string> image = svc_->backend().TEST_Snapshot();
    if (!image.ok()) __builtin_trap();
    image_ = std::move(image).value();
  }

  // Back to the state just after construction.
  void Reset() {
    if (!svc_->backend().TEST_Restore(image_).ok()) __builtin_trap();
    svc_->verifier().InvalidateAll();
    svc_->credits().Forget(user_id);
  }
  ~World() { svc_->Stop(); }

  // Replaces the placeholders @USER@, @KEY@, @KEYID@ and @TESTKEY@ so that
  // inputs can name this world's real ids and keys.
  std::string Fill(std::string_view text) const {
    std::string s(text);
    for (auto [from, to] : {std::pair<std::string_view, const std::string*>{"@USER@", &user_id},
                            {"@KEYID@", &key_id}, {"@TESTKEY@", &test_key}, {"@KEY@", &key}}) {
      for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to->size())) {
        s.replace(at, from.size(), *to);
      }
    }
    return s;
  }

  http::HttpResponse Call(std::string method, std::string target,
                          std::vector<std::pair<std::string, std::string>> headers, std::string body) {
    http::HttpRequest r;
    r.method = std::move(method);
    std::size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.headers = std::move(headers);
    r.body = std::move(body);
    r.remote = "127.0.0.1";
    return http::HandleNow(router_, std::move(r));
  }

  const http::Router& router() const { return router_; }

  std::string user_id, key, key_id, test_key;

 private:
  std::unique_ptr<service::Service> svc_;
  std::string image_;
  http::Metrics metrics_;
  std::unique_ptr<http::ServiceContext> ctx_;
  http::Router router_;
};

// Every response keyward gives is a JSON error or a JSON document, with a
// status it documents: anything else is a finding.
inline void CheckResponse(const http::HttpResponse& r) {
  if (r.status < 200 || r.status > 599) __builtin_trap();
  if (r.status >= 500 && r.status != 503) __builtin_trap();  // 500: a bug, not input
}

}  // namespace keyward::fuzz

// service_fixture.h: the whole service as `keyward serve` wires it
// (service::Service), over a fresh SQLite file and a FakeClock, with the
// route table on top, for in-process handler and service tests.
#pragma once

#include <gtest/gtest.h>

#include "http/handlers/context.h"
#include "http/router.h"
#include "http/routes.h"
#include "service/service.h"
#include "support/fake_clock.h"
#include "support/temp_dir.h"

namespace keyward::testing {

inline constexpr const char* kTestSealKeyHex =
    "7777777777777777777777777777777777777777777777777777777777777777";
inline constexpr const char* kTestAdminToken = "admin-token-for-tests";

class ServiceTest : public ::testing::Test {
 protected:
  // Override to change what the service is started with.
  virtual service::ServiceOptions Options() {
    service::ServiceOptions o;
    o.job_threads = 1;
    return o;
  }

  void SetUp() override {
    service::ServiceOptions o = Options();
    o.store.location = dir_.File("keyward.db");
    StatusOr<std::unique_ptr<service::Service>> s =
        service::Service::Start(o, service::SealKeySource{kTestSealKeyHex, ""}, clock_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    svc_ = std::move(s).value();
    ctx_ = std::make_unique<http::ServiceContext>(http::ServiceContext{*svc_, metrics_, kTestAdminToken});
    http::AddAllRoutes(router_, *ctx_);
  }
  void TearDown() override {
    if (svc_) svc_->Stop();
  }

  store::Backend& store() { return svc_->backend(); }
  auth::Accounts& accounts() { return svc_->accounts(); }

  auth::CreatedUser NewUser(const std::string& name = "Acme", Plan plan = {}) {
    auth::CreateUserRequest req;
    req.name = name;
    req.plan = std::move(plan);
    StatusOr<auth::CreatedUser> u = accounts().CreateUser(req);
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    return u.ok() ? *u : auth::CreatedUser{};
  }

  auth::IssuedKey Issue(const std::string& user_id, Environment env = Environment::kLive,
                        std::vector<std::string> scopes = {}) {
    auth::IssueKeyRequest req;
    req.user_id = user_id;
    req.environment = env;
    req.scopes = std::move(scopes);
    StatusOr<auth::IssuedKey> k = accounts().IssueKey(req);
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return k.ok() ? *k : auth::IssuedKey{};
  }

  // One request through the route table, as the server would run it.
  http::HttpResponse Handle(const std::string& method, const std::string& target,
                            std::vector<std::pair<std::string, std::string>> headers = {},
                            std::string body = "") {
    http::HttpRequest r;
    r.method = method;
    std::size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.headers = std::move(headers);
    r.body = std::move(body);
    return http::HandleNow(router_, std::move(r));
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<service::Service> svc_;
  http::Metrics metrics_;
  std::unique_ptr<http::ServiceContext> ctx_;
  http::Router router_;
};

}  // namespace keyward::testing

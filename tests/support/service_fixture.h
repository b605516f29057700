// service_fixture.h: every service `keyward serve` wires together, over a
// fresh SQLite file and a FakeClock, for in-process handler tests.
#pragma once

#include "auth/gate.h"
#include "http/handlers/context.h"
#include "http/routes.h"
#include "jobs/queue.h"
#include "support/store_fixture.h"

namespace keyward::testing {

class ServiceTest : public StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    VerifierOptions vo;
    vo.cache = true;
    verifier_ = std::make_unique<Verifier>(*store_, clock_, vo);
    service_->set_change_listener([this](const std::string& id) { verifier_->InvalidateUser(id); });
    quota_ = std::make_unique<auth::Quota>(*store_, clock_);
    ledger_ = std::make_unique<auth::UsageLedger>(*store_);
    gate_ = std::make_unique<auth::Gate>(*verifier_, limiter_, *quota_, *ledger_, clock_);
    executor_ = std::make_unique<jobs::Executor>(1);
    compute_ = std::make_unique<jobs::ComputeService>(*store_, clock_, *quota_, tasks_, *executor_);
    queue_ = std::make_unique<jobs::JobQueue>(*store_, clock_, sealer_, tasks_, *service_);
    ctx_ = std::make_unique<http::ServiceContext>(http::ServiceContext{
        *store_, *service_, *verifier_, *gate_, *quota_, *compute_, *queue_, tasks_, metrics_,
        clock_, "admin-token-for-tests"});
    http::AddAllRoutes(router_, *ctx_);
  }
  void TearDown() override { executor_->Stop(); }

  std::unique_ptr<Verifier> verifier_;
  auth::RateLimiter limiter_;
  std::unique_ptr<auth::Quota> quota_;
  std::unique_ptr<auth::UsageLedger> ledger_;
  std::unique_ptr<auth::Gate> gate_;
  jobs::TaskRegistry tasks_ = jobs::TaskRegistry::BuiltIn();
  std::unique_ptr<jobs::Executor> executor_;
  std::unique_ptr<jobs::ComputeService> compute_;
  jobs::Sealer sealer_ = *jobs::Sealer::FromHex(std::string(64, '7'));
  std::unique_ptr<jobs::JobQueue> queue_;
  http::Metrics metrics_;
  std::unique_ptr<http::ServiceContext> ctx_;
  http::Router router_;
};

}  // namespace keyward::testing

// Tests for the pure decision about a known key (src/auth/key_check.h).
#include "auth/key_check.h"

#include <gtest/gtest.h>

#include "auth/scopes.h"

namespace keyward::auth {
namespace {

KeyWithUser Record() {
  KeyWithUser r;
  r.key.id = "key_1";
  r.key.user_id = r.user.id = "usr_1";
  r.key.environment = Environment::kLive;
  r.key.scopes = {"jobs:read", "jobs:write"};
  r.user.plan.allowed_scopes = {"*"};
  r.user.external_id = "ext";
  return r;
}

VerifyRequest Wants(std::vector<std::string> scopes = {}, std::optional<Environment> env = {}) {
  VerifyRequest r;
  r.required_scopes = std::move(scopes);
  r.required_environment = env;
  return r;
}

TEST(KeyCheck, ChecksInTheDocumentedOrder) {
  KeyWithUser r = Record();
  r.key.revoked_at = 5;
  r.key.expires_at = 10;
  r.user.disabled = true;
  EXPECT_EQ(CheckKeyRecord(r, Wants({"admin"}, Environment::kTest), 100), VerifyOutcome::kRevoked);
  r.key.revoked_at.reset();
  EXPECT_EQ(CheckKeyRecord(r, Wants({"admin"}, Environment::kTest), 100), VerifyOutcome::kExpired);
  r.key.expires_at = 101;
  EXPECT_EQ(CheckKeyRecord(r, Wants({"admin"}, Environment::kTest), 100), VerifyOutcome::kUserDisabled);
  r.user.disabled = false;
  EXPECT_EQ(CheckKeyRecord(r, Wants({"admin"}, Environment::kTest), 100), VerifyOutcome::kWrongEnvironment);
  EXPECT_EQ(CheckKeyRecord(r, Wants({"admin"}, Environment::kLive), 100), VerifyOutcome::kInsufficientScope);
  EXPECT_EQ(CheckKeyRecord(r, Wants({"jobs:read"}, Environment::kLive), 100), VerifyOutcome::kValid);
}

TEST(KeyCheck, ExpiryIsInclusiveOfItsInstant) {
  KeyWithUser r = Record();
  r.key.expires_at = 1000;
  EXPECT_EQ(CheckKeyRecord(r, Wants(), 999), VerifyOutcome::kValid);
  EXPECT_EQ(CheckKeyRecord(r, Wants(), 1000), VerifyOutcome::kExpired);
}

TEST(KeyCheck, TheCompactStateDecidesLikeTheRecord) {
  KeyWithUser r = Record();
  for (int revoked = 0; revoked < 2; ++revoked) {
    for (int disabled = 0; disabled < 2; ++disabled) {
      for (int job_bound = 0; job_bound < 2; ++job_bound) {
        r.key.revoked_at = revoked ? std::optional<UnixMillis>(1) : std::nullopt;
        r.user.disabled = disabled;
        r.key.scopes = job_bound ? std::vector<std::string>{JobSubmitScope("j")}
                                 : std::vector<std::string>{"jobs:read"};
        for (auto env : {std::optional<Environment>(), std::optional(Environment::kTest)}) {
          EXPECT_EQ(CheckKeyState(StateOf(r), Wants({}, env), 0), CheckKeyRecord(r, Wants({}, env), 0));
        }
      }
    }
  }
}

TEST(KeyCheck, APrincipalCarriesTheOwnerAndTheKey) {
  Principal p = MakePrincipal(Record());
  EXPECT_EQ(p.user_id, "usr_1");
  EXPECT_EQ(p.external_id, "ext");
  EXPECT_EQ(p.key_id, "key_1");
  EXPECT_EQ(p.scopes, (std::vector<std::string>{"jobs:read", "jobs:write"}));
}

}  // namespace
}  // namespace keyward::auth

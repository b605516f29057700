// Tests for scope rules (src/auth/scopes.h).
#include "auth/scopes.h"

#include <gtest/gtest.h>

namespace keyward::auth {
namespace {

TEST(Scopes, ValidNames) {
  EXPECT_TRUE(IsValidScope("jobs:write"));
  EXPECT_TRUE(IsValidScope("a.b_c-d:9"));
  EXPECT_TRUE(IsValidScope("*"));
  EXPECT_FALSE(IsValidScope(""));
  EXPECT_FALSE(IsValidScope("Jobs"));
  EXPECT_FALSE(IsValidScope("jobs write"));
  EXPECT_FALSE(IsValidScope("a*"));
  EXPECT_TRUE(IsValidScope(std::string(128, 'a')));
  EXPECT_FALSE(IsValidScope(std::string(129, 'a')));
}

TEST(Scopes, GrantNeedsBothTheKeyAndThePlan) {
  std::vector<std::string> any = {"*"};
  std::vector<std::string> jobs = {"jobs:read", "jobs:write"};
  EXPECT_TRUE(Grants(any, any, "x"));
  EXPECT_TRUE(Grants(jobs, any, "jobs:read"));
  EXPECT_FALSE(Grants(jobs, any, "admin"));
  EXPECT_TRUE(Grants(any, jobs, "jobs:write"));
  EXPECT_FALSE(Grants(any, jobs, "admin"));
  EXPECT_FALSE(Grants({}, any, "jobs:read"));
}

TEST(Scopes, AllowedCheckNamesTheOffender) {
  Status s = CheckScopesAllowed({"jobs:read", "billing"}, {"jobs:read"});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("billing"), std::string::npos);
  EXPECT_TRUE(CheckScopesAllowed({"*"}, {"*"}).ok());
  EXPECT_FALSE(CheckScopesAllowed({"*"}, {"jobs:read"}).ok());
}

TEST(Scopes, AJobSubmitScopeAllowsExactlyOneJob) {
  std::string only = JobSubmitScope("report-7");
  EXPECT_TRUE(IsValidScope(only));
  EXPECT_EQ(only.rfind("jobs:submit:", 0), 0u);
  EXPECT_NE(only, JobSubmitScope("report-8"));
  std::vector<std::string> any = {"*"}, jobs = {"jobs:write"}, reader = {"jobs:read"};
  EXPECT_TRUE(MaySubmitJob({only}, any, "report-7"));
  EXPECT_FALSE(MaySubmitJob({only}, any, "report-8"));
  EXPECT_TRUE(MaySubmitJob(jobs, any, "anything"));
  EXPECT_FALSE(MaySubmitJob({only}, reader, "report-7"));  // the plan must allow jobs:write
  EXPECT_TRUE(CheckScopesAllowed({only}, jobs).ok());
  EXPECT_FALSE(CheckScopesAllowed({only}, reader).ok());
}

// Issue 7, finding 3: a 64-bit scope could be matched by a second job id
// found by brute force; the scope carries all 256 bits of the hash.
TEST(Scopes, AJobSubmitScopeCarriesTheWholeHash) {
  std::string s = JobSubmitScope("abc");
  EXPECT_EQ(s, "jobs:submit:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Scopes, AKeyHoldingOnlyJobSubmitScopesIsJobBound) {
  EXPECT_TRUE(IsJobBound({JobSubmitScope("a")}));
  EXPECT_TRUE(IsJobBound({JobSubmitScope("a"), JobSubmitScope("b")}));
  EXPECT_FALSE(IsJobBound({JobSubmitScope("a"), "jobs:read"}));
  EXPECT_FALSE(IsJobBound({"*"}));
  EXPECT_FALSE(IsJobBound({}));
  EXPECT_FALSE(IsJobSubmitScope("jobs:submit:"));
}

TEST(Scopes, AJobKeyReadsItsOwnJobOnly) {
  std::vector<std::string> any = {"*"};
  std::string only = JobSubmitScope("j1");
  EXPECT_TRUE(MayReadJob({only}, any, "j1"));
  EXPECT_FALSE(MayReadJob({only}, any, "j2"));
  EXPECT_TRUE(MayReadJob({"jobs:read"}, any, "j2"));
  EXPECT_FALSE(MayReadJob({"jobs:write"}, any, "j2"));
}

}  // namespace
}  // namespace keyward::auth

// The served routes and the OpenAPI document list the same set.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "auth/accounts.h"
#include "core/time_format.h"
#include "http/server.h"
#include "json/parse.h"
#include "support/service_fixture.h"

namespace keyward {
namespace {

class OpenApi : public testing::ServiceTest {};

TEST_F(OpenApi, DocumentListsExactlyTheServedRoutes) {
  nlohmann::json doc = nlohmann::json::parse(http::OpenApiDocument(), nullptr, false);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc["openapi"], "3.1.0");
  std::set<std::string> documented, served;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      std::string m = method;
      for (char& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(m + " " + path);
      EXPECT_TRUE(op.contains("responses")) << m << " " << path;
    }
  }
  for (const auto& r : router_.routes()) served.insert(r.method + " " + r.pattern);
  EXPECT_EQ(documented, served);
}

// Issue 8: every operation has an operationId, the one the router uses.
TEST_F(OpenApi, OperationIdsAreTheRoutersAndUnique) {
  nlohmann::json doc = nlohmann::json::parse(http::OpenApiDocument());
  std::set<std::string> ids;
  for (const auto& r : router_.routes()) {
    std::string m = r.method;
    for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ASSERT_TRUE(doc["paths"][r.pattern].contains(m)) << r.pattern;
    EXPECT_EQ(doc["paths"][r.pattern][m]["operationId"], r.operation_id) << r.pattern;
    EXPECT_TRUE(ids.insert(r.operation_id).second) << r.operation_id;
  }
}

// Issue 15: the limits the document states are the ones the code enforces.
TEST_F(OpenApi, StatedLimitsAreTheEnforcedOnes) {
  nlohmann::json doc = nlohmann::json::parse(http::OpenApiDocument());
  const nlohmann::json& s = doc["components"]["schemas"];
  EXPECT_EQ(s["RotateKeyRequest"]["properties"]["grace_seconds"]["maximum"], auth::kMaxGraceMs / 1000);
  EXPECT_EQ(s["RotateKeyRequest"]["properties"]["grace_seconds"]["default"], auth::kDefaultGraceMs / 1000);
  EXPECT_EQ(s["IssueKeyRequest"]["properties"]["ttl_seconds"]["maximum"], auth::kMaxTtlMs / 1000);
  EXPECT_EQ(s["VerifyRequest"]["properties"]["cost"]["maximum"], 1'000'000'000);
  EXPECT_EQ(s["JobRequest"]["properties"]["job_id"]["maxLength"], 128);
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      for (const auto& p : op.value("parameters", nlohmann::json::array())) {
        if (p["name"] != "limit") continue;
        EXPECT_EQ(p["schema"]["maximum"], kMaxPageLimit) << path;
        EXPECT_EQ(p["schema"]["default"], kDefaultPageLimit) << path;
      }
    }
  }
}

TEST_F(OpenApi, EveryReferencedSchemaExists) {
  std::string text = http::OpenApiDocument();
  nlohmann::json doc = nlohmann::json::parse(text);
  const std::string prefix = "#/components/schemas/";
  for (std::size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 1)) {
    std::size_t end = text.find('"', at);
    std::string name = text.substr(at + prefix.size(), end - at - prefix.size());
    EXPECT_TRUE(doc["components"]["schemas"].contains(name)) << name;
  }
}

TEST_F(OpenApi, DocumentIsServedAtItsRoute) {
  http::HttpResponse res = Handle("GET", "/openapi.json");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, http::OpenApiDocument());
}

// Issue 15: docs/api.md states each limit once, and states the enforced one.
TEST_F(OpenApi, TheLimitsTableInApiMdStatesTheEnforcedLimits) {
  std::string doc = testing::ReadFileBytes(std::string(KEYWARD_SOURCE_DIR) + "/docs/api.md");
  ASSERT_FALSE(doc.empty());
  auto row = [&](const std::string& what) {
    std::size_t at = doc.find("| " + what + " |");
    EXPECT_NE(at, std::string::npos) << what;
    return at == std::string::npos ? std::string() : doc.substr(at, doc.find('\n', at) - at);
  };
  auto has = [](const std::string& line, const std::string& text) {
    EXPECT_NE(line.find(text), std::string::npos) << line << " lacks " << text;
  };
  std::string page = row("`limit` of a list");
  has(page, "1–" + std::to_string(kMaxPageLimit));
  has(page, "| " + std::to_string(kDefaultPageLimit) + " |");
  has(row("key lifetime (`ttl`, `ttl_seconds`, `expires_at`)"), core::FormatDuration(auth::kMaxTtlMs));
  std::string grace = row("rotation grace (`grace`, `grace_seconds`)");
  has(grace, core::FormatDuration(auth::kMaxGraceMs));
  has(grace, std::to_string(auth::kDefaultGraceMs / 3'600'000) + "h");
  compute::ComputeOptions c;
  has(row("compute jobs waiting per user"), std::to_string(c.max_pending_per_user));
  has(row("compute jobs waiting in total"), "10,000");
  EXPECT_EQ(c.max_pending_total, 10'000);
  has(row("a job's result"), std::to_string(c.max_result_bytes / 1024) + " KiB");
  EXPECT_EQ(queue::QueueOptions{}.max_unfinished_per_user, 1'000);
  has(row("unfinished queue entries per user"), "1,000");
  has(row("test-environment requests per second, per user"),
      std::to_string(static_cast<int>(metering::GateOptions{}.default_test_rate_limit)) + "/s");
  EXPECT_EQ(http::ServerOptions{}.max_body_bytes, 1024u * 1024);
  has(row("request body"), "1 MiB");
  has(row("JSON nesting"), std::to_string(jsonio::kDefaultJsonLimits.max_depth));
}

}  // namespace
}  // namespace keyward

// The served routes and the OpenAPI document list the same set.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "auth/accounts.h"
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

}  // namespace
}  // namespace keyward

// The served routes and the OpenAPI document list the same set.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

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
  http::HttpRequest req;
  req.method = "GET";
  req.path = "/openapi.json";
  http::HttpResponse res = router_.Handle(req);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, http::OpenApiDocument());
}

}  // namespace
}  // namespace keyward

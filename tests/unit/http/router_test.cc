// Tests for the router and the error mapping (src/http/router.h, error_mapping.h).
#include "http/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http/error_mapping.h"

namespace keyward::http {
namespace {

HttpRequest Req(std::string method, std::string path, std::string query = "") {
  HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  return r;
}

TEST(Router, CapturesParamsAndAnswers404And405) {
  Router router;
  std::string seen;
  router.Add("GET", "/v1/users/{id}/keys", [&](const HttpRequest&, const PathParams& p) {
    seen = p[0];
    return JsonResponse(200, {{"ok", true}});
  });
  router.Add("POST", "/v1/users/{id}/keys", [](const HttpRequest&, const PathParams&) {
    return JsonResponse(201, {});
  });
  HttpResponse r = router.Handle(Req("GET", "/v1/users/usr_1/keys"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(seen, "usr_1");
  EXPECT_EQ(r.route, "/v1/users/{id}/keys");
  EXPECT_EQ(router.Handle(Req("GET", "/v1/users//keys")).status, 404);
  EXPECT_EQ(router.Handle(Req("GET", "/v1/users/a/b/keys")).status, 404);
  HttpResponse m = router.Handle(Req("DELETE", "/v1/users/x/keys"));
  EXPECT_EQ(m.status, 405);
  ASSERT_EQ(m.headers.size(), 1u);
  EXPECT_EQ(m.headers[0].second, "GET, POST");
  EXPECT_EQ(router.Handle(Req("GET", "relative")).status, 400);
}

TEST(Router, QueryParamsArePercentDecoded) {
  HttpRequest r = Req("GET", "/", "a=1&external_id=acme%2042&b=x+y");
  EXPECT_EQ(*r.QueryParam("external_id"), "acme 42");
  EXPECT_EQ(*r.QueryParam("b"), "x y");
  ASSERT_TRUE(r.QueryParam("missing").ok());
  EXPECT_FALSE(r.QueryParam("missing")->has_value());
  EXPECT_FALSE(PercentDecode("%zz").has_value());
  EXPECT_FALSE(PercentDecode("%0").has_value());
  EXPECT_FALSE(PercentDecode("%00").has_value());
}

// Issue 15: a repeated single-valued parameter is refused, never "first wins";
// a badly escaped query is refused, never read as if the parameter were absent.
TEST(Router, RepeatedOrBadlyEscapedQueryParametersAreRefused) {
  HttpRequest r = Req("GET", "/", "limit=1&limit=2");
  EXPECT_EQ(r.QueryParam("limit").status().code(), StatusCode::kInvalidArgument);
  std::vector<std::string> all;
  ASSERT_TRUE(r.QueryValues("limit", &all));
  EXPECT_EQ(all, (std::vector<std::string>{"1", "2"}));
  HttpRequest bad = Req("GET", "/", "scope=%zz");
  EXPECT_FALSE(bad.QueryValues("scope", &all));
  EXPECT_EQ(bad.QueryParam("scope").status().code(), StatusCode::kInvalidArgument);
}

TEST(ErrorMapping, OutcomesMapToTheContract) {
  EXPECT_EQ(OutcomeHttpStatus(VerifyOutcome::kRevoked), 401);
  EXPECT_EQ(OutcomeHttpStatus(VerifyOutcome::kUserDisabled), 401);
  EXPECT_EQ(OutcomeHttpStatus(VerifyOutcome::kWrongEnvironment), 403);
  EXPECT_EQ(OutcomeHttpStatus(VerifyOutcome::kInsufficientScope), 403);
  EXPECT_EQ(OutcomeHttpStatus(VerifyOutcome::kQuotaExceeded), 429);
  HttpResponse r = OutcomeResponse(VerifyOutcome::kRateLimited, 1500);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Retry-After", "2"}));
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], "RATE_LIMITED");
  HttpResponse u = OutcomeResponse(VerifyOutcome::kExpired, 0);
  EXPECT_EQ(u.headers[0], (std::pair<std::string, std::string>{"WWW-Authenticate", "Api-Key"}));
}

TEST(ErrorMapping, StatusCodesMapToHttp) {
  EXPECT_EQ(StatusResponse(InvalidArgumentError("x")).status, 400);
  EXPECT_EQ(StatusResponse(NotFoundError("x")).status, 404);
  EXPECT_EQ(StatusResponse(AlreadyExistsError("x")).status, 409);
  EXPECT_EQ(StatusResponse(UnavailableError("x")).status, 503);
  EXPECT_EQ(nlohmann::json::parse(StatusResponse(NotFoundError("gone")).body)["error"]["message"], "gone");
}

}  // namespace
}  // namespace keyward::http

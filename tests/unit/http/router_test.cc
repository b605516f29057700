// Tests for the router, the request helpers and the error mapping
// (src/http/router.h, types.h, error_mapping.h).
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

// A handler that answers with its route's captured params.
class Echo final : public Handler {
 public:
  explicit Echo(int status, bool refuse_in_head = false) : status_(status), refuse_(refuse_in_head) {}
  std::optional<HttpResponse> Head(Exchange&) override {
    if (refuse_) return ErrorResponse(401, "MISSING", "no key");
    return std::nullopt;
  }
  void Body(Exchange& ex, Reply& reply) override {
    nlohmann::json params = ex.params;
    reply.Send(JsonResponse(status_, {{"params", params}, {"body", ex.request.body}}));
  }

 private:
  int status_;
  bool refuse_;
};

// Answers from another thread, later: the interface allows it.
class Later final : public Handler {
 public:
  std::optional<HttpResponse> Head(Exchange&) override { return std::nullopt; }
  void Body(Exchange&, Reply& reply) override {
    std::thread([&reply] {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      reply.Send(JsonResponse(202, {{"later", true}}));
    }).detach();
  }
};

TEST(Router, CapturesParamsAndAnswers404And405) {
  Router router;
  router.Add("GET", "/v1/users/{id}/keys", "listUserKeys", std::make_unique<Echo>(200));
  router.Add("POST", "/v1/users/{id}/keys", "issueKey", std::make_unique<Echo>(201));
  HttpResponse r = HandleNow(router, Req("GET", "/v1/users/usr_1/keys"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(nlohmann::json::parse(r.body)["params"][0], "usr_1");
  EXPECT_EQ(r.route, "/v1/users/{id}/keys");
  EXPECT_EQ(HandleNow(router, Req("GET", "/v1/users//keys")).status, 404);
  EXPECT_EQ(HandleNow(router, Req("GET", "/v1/users/a/b/keys")).status, 404);
  HttpResponse m = HandleNow(router, Req("DELETE", "/v1/users/x/keys"));
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.Header("Allow").value_or(""), "GET, POST");
  EXPECT_EQ(HandleNow(router, Req("GET", "relative")).status, 400);
  EXPECT_EQ(HandleNow(router, Req("HEAD", "/v1/users/u/keys")).status, 200);
}

// Issue 15: GET /v1/keys/verify was routed as /v1/keys/{id}. A literal
// segment wins over a capture, so the path is the verify resource: 405.
TEST(Router, ALiteralSegmentWinsOverACapture) {
  Router router;
  router.Add("GET", "/v1/keys/{id}", "getKey", std::make_unique<Echo>(200));
  router.Add("DELETE", "/v1/keys/{id}", "deleteKey", std::make_unique<Echo>(200));
  router.Add("POST", "/v1/keys/verify", "verifyKey", std::make_unique<Echo>(200));
  EXPECT_EQ(HandleNow(router, Req("POST", "/v1/keys/verify")).route, "/v1/keys/verify");
  for (const char* method : {"GET", "DELETE"}) {
    HttpResponse r = HandleNow(router, Req(method, "/v1/keys/verify"));
    EXPECT_EQ(r.status, 405) << method;
  }
  EXPECT_EQ(HandleNow(router, Req("GET", "/v1/keys/key_1")).status, 200);
}

TEST(Router, ARefusalInTheHeadStepSkipsTheBody) {
  Router router;
  router.Add("POST", "/x", "x", std::make_unique<Echo>(200, /*refuse_in_head=*/true));
  HttpRequest r = Req("POST", "/x");
  r.body = "never looked at";
  HttpResponse res = HandleNow(router, r);
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.body.find("never"), std::string::npos);
}

TEST(Router, AHandlerMayAnswerLaterFromAnotherThread) {
  Router router;
  router.Add("POST", "/later", "later", std::make_unique<Later>());
  HttpResponse r = HandleNow(router, Req("POST", "/later"));
  EXPECT_EQ(r.status, 202);
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

// Issue 15: unknown query parameters are refused, like unknown body fields.
TEST(Router, OnlyDeclaredQueryParametersAreAccepted) {
  EXPECT_TRUE(Req("GET", "/", "limit=1&after=x").OnlyQueryParams({"limit", "after"}).ok());
  EXPECT_TRUE(Req("GET", "/", "").OnlyQueryParams({}).ok());
  Status st = Req("GET", "/", "limit=1&cache_bust=2").OnlyQueryParams({"limit"});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("cache_bust"), std::string::npos);
  EXPECT_FALSE(Req("GET", "/", "%zz=1").OnlyQueryParams({"limit"}).ok());
}

TEST(ErrorMapping, OutcomesMapToTheContract) {
  EXPECT_EQ(OutcomeHttpStatus(VerifyOutcome::kRevoked), 401);
  EXPECT_EQ(OutcomeHttpStatus(VerifyOutcome::kUserDisabled), 401);
  EXPECT_EQ(OutcomeHttpStatus(VerifyOutcome::kWrongEnvironment), 403);
  EXPECT_EQ(OutcomeHttpStatus(VerifyOutcome::kInsufficientScope), 403);
  EXPECT_EQ(OutcomeHttpStatus(VerifyOutcome::kQuotaExceeded), 429);
  HttpResponse r = OutcomeResponse(VerifyOutcome::kRateLimited, 1500);
  EXPECT_EQ(r.status, 429);
  auto header = [](const HttpResponse& res, const std::string& name) {
    return std::string(res.Header(name).value_or(""));
  };
  EXPECT_EQ(header(r, "Retry-After"), "2");
  EXPECT_EQ(header(r, "X-Keyward-Error"), "RATE_LIMITED");
  nlohmann::json body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], "RATE_LIMITED");
  HttpResponse u = OutcomeResponse(VerifyOutcome::kExpired, 0);
  EXPECT_EQ(header(u, "WWW-Authenticate"), "Api-Key");
  EXPECT_EQ(header(StatusResponse(UnavailableError("x")), "Retry-After"), "1");
}

TEST(ErrorMapping, StatusCodesMapToHttp) {
  EXPECT_EQ(StatusResponse(InvalidArgumentError("x")).status, 400);
  EXPECT_EQ(StatusResponse(NotFoundError("x")).status, 404);
  EXPECT_EQ(StatusResponse(AlreadyExistsError("x")).status, 409);
  EXPECT_EQ(StatusResponse(UnavailableError("x")).status, 503);
  EXPECT_EQ(StatusResponse(ResourceExhaustedError("x")).status, 429);
  EXPECT_EQ(nlohmann::json::parse(StatusResponse(NotFoundError("gone")).body)["error"]["message"], "gone");
}

TEST(HttpResponse, HeaderValuesCannotEndTheHeaderBlock) {
  HttpResponse r;
  r.SetHeader("X-Keyward-External-Id", std::string_view("acme\r\nSet-Cookie: x=1\0z", 23));
  r.SetHeader("Location", "/v1/users/usr_1");
  EXPECT_EQ(r.header_lines(), "X-Keyward-External-Id: acme  Set-Cookie: x=1 z\r\nLocation: /v1/users/usr_1\r\n");
  EXPECT_EQ(r.Header("location").value_or(""), "/v1/users/usr_1");
  EXPECT_FALSE(r.Header("Set-Cookie").has_value());
  // At either end, and several in a row.
  HttpResponse edges;
  edges.SetHeader("X-A", std::string_view("\0a\r\n\r\nb\n", 8));
  edges.SetHeader("X-B", "");
  EXPECT_EQ(edges.header_lines(), "X-A:  a    b \r\nX-B: \r\n");
}

TEST(Router, PathsWithManySegmentsAreNotFound) {
  Router router;
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "/a";
  auto found = router.Find("GET", deep);
  ASSERT_TRUE(std::holds_alternative<HttpResponse>(found));
  EXPECT_EQ(std::get<HttpResponse>(found).status, 404);
}

}  // namespace
}  // namespace keyward::http

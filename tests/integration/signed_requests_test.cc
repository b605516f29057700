// Signed requests (RFC 9421, hmac-sha256) against the real server over
// HTTP: the compute API as the signing key's user, tampering and replay
// refused, require_signature, a secret learned at a bearer use (and its
// write-back when the store refuses it), a signed enqueue run by `keyward
// worker` with signed submissions, /v1/authz over forwarded headers, and the
// seal key rotation that re-seals secrets.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <thread>

#include "core/http_signature.h"
#include "support/eventually.h"
#include "support/server_fixture.h"
#include "support/subprocess.h"

// Requests are written as designated initializers of Signing; every field
// has a default.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace keyward {
namespace {

using nlohmann::json;
using testing::HttpReply;
using Headers = std::vector<std::pair<std::string, std::string>>;

class SignedRequests : public testing::ServerTest {
 protected:
  // Restarts the server with an hourly last-use flush and issues `n` keys of
  // one new user as if before signing existed (no secret stored): (secret,
  // id) each.
  std::vector<std::pair<std::string, std::string>> KeysWithoutSecrets(int n) {
    server_.reset();
    Start({}, {"KEYWARD_LAST_USED_FLUSH=1h"});
    testing::CreatedUser u = NewUser();
    std::vector<std::pair<std::string, std::string>> keys = IssueMany(u.id, n);
    ExecSql("UPDATE api_keys SET signing_secret = NULL");
    return keys;
  }
  // One bearer use of each key, over one connection.
  void UseEachOnce(const std::vector<std::pair<std::string, std::string>>& keys) {
    testing::HttpConnection c(addr());
    for (const auto& [key, id] : keys) {
      ASSERT_EQ(c.Send("GET", "/v1/authz", {testing::KeyAuth(key)}).status, 200);
    }
  }

  struct Signing {
    std::string method = "GET";
    std::string target;  // path?query as signed
    std::string body;
    std::int64_t created = static_cast<std::int64_t>(std::time(nullptr));
    std::string nonce;
    std::string authority;  // default: the test client's Host, 127.0.0.1
  };

  // The headers that sign `s` with `key` (id `key_id`).
  Headers SignHeaders(const std::string& key, const std::string& key_id, const Signing& s) {
    std::string uri = "http://" + (s.authority.empty() ? std::string("127.0.0.1") : s.authority) + s.target;
    core::httpsig::Message msg;
    msg.method = s.method;
    EXPECT_TRUE(core::httpsig::SplitTargetUri(uri, &msg).ok()) << uri;
    core::httpsig::SignOptions o;
    o.key_id = key_id;
    o.created = s.created;
    o.nonce = s.nonce;
    auto f = core::httpsig::Sign(msg, s.body, key, o);
    EXPECT_TRUE(f.ok()) << f.status().message();
    Headers h = {{"Signature-Input", f->signature_input}, {"Signature", f->signature}};
    if (!f->content_digest.empty()) h.emplace_back("Content-Digest", f->content_digest);
    return h;
  }

  HttpReply Send(const std::string& method, const std::string& target, const Headers& h, const std::string& body = "") {
    testing::HttpConnection c(addr());
    return c.Send(method, target, h, body);
  }

  // Signs and sends exactly what was signed.
  HttpReply Signed(const std::string& key, const std::string& key_id, const Signing& s) {
    return Send(s.method, s.target, SignHeaders(key, key_id, s), s.body);
  }

  std::string Code(const HttpReply& r) { return Json(r)["error"]["code"]; }

  // Whether the admin API shows key `id`'s signing secret as stored.
  bool SigningReady(const std::string& id) {
    return Json(Admin("GET", "/v1/keys/" + id))["key"]["signing_ready"] == true;
  }
  static std::string JobBody(const std::string& job_id) {
    return json{{"job_id", job_id}, {"task", "echo"}, {"payload", {{"n", 1}}}}.dump();
  }
};

TEST_F(SignedRequests, ASignedJobRunsAsTheKeysUserAndTheKeyNeverTravels) {
  testing::CreatedUser u = NewUser({{"name", "Signer"}, {"plan", {{"monthly_credits", 5}}}});
  HttpReply r = Signed(u.key, u.key_id, {.method = "POST", .target = "/v1/ai/jobs", .body = JobBody("signed-1")});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Json(r)["job"]["user_id"], u.id);
  EXPECT_EQ(Json(r)["job"]["key_id"], u.key_id);
  HttpReply got = Signed(u.key, u.key_id, {.target = "/v1/ai/jobs/signed-1"});
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Json(got)["job"]["job_id"], "signed-1");
  // Charged to the user like a bearer call.
  EXPECT_EQ(Json(Admin("GET", "/v1/users/" + u.id + "/usage"))["credits"]["remaining"], 4);
  // The key appears nowhere in the access log.
  EXPECT_EQ(server_->Output().find(u.key), std::string::npos);
}

TEST_F(SignedRequests, TamperingWithMethodPathQueryBodyOrDigestIsRefused) {
  testing::CreatedUser u = NewUser();
  // Path and query.
  Headers list = SignHeaders(u.key, u.key_id, {.target = "/v1/ai/jobs?limit=5"});
  EXPECT_EQ(Code(Send("GET", "/v1/ai/jobs?limit=6", list)), "SIGNATURE_INVALID");
  EXPECT_EQ(Code(Send("GET", "/v1/ai/jobs", list)), "SIGNATURE_INVALID");
  EXPECT_EQ(Code(Send("GET", "/v1/queue/jobs?limit=5", list)), "SIGNATURE_INVALID");
  EXPECT_EQ(Send("GET", "/v1/ai/jobs?limit=5", list).status, 200);
  // Method: a signed GET replayed as a POST.
  std::string body = JobBody("tamper-1");
  Headers get = SignHeaders(u.key, u.key_id, {.target = "/v1/ai/jobs"});
  EXPECT_EQ(Code(Send("POST", "/v1/ai/jobs", get, body)), "SIGNATURE_INVALID");
  // Body: the signed digest no longer matches the body sent.
  Headers post = SignHeaders(u.key, u.key_id, {.method = "POST", .target = "/v1/ai/jobs", .body = body});
  HttpReply swapped = Send("POST", "/v1/ai/jobs", post, JobBody("tamper-2"));
  EXPECT_EQ(swapped.status, 401);
  EXPECT_EQ(Code(swapped), "SIGNATURE_INVALID");
  EXPECT_NE(Json(swapped)["error"]["message"].get<std::string>().find("Content-Digest"), std::string::npos);
  // Digest: replaced to match the new body, the signature breaks instead.
  Headers redigested = post;
  for (auto& [k, v] : redigested) {
    if (k == "Content-Digest") v = core::httpsig::ContentDigest(JobBody("tamper-3"));
  }
  EXPECT_EQ(Code(Send("POST", "/v1/ai/jobs", redigested, JobBody("tamper-3"))), "SIGNATURE_INVALID");
  // A body without a covered digest.
  Headers bare = SignHeaders(u.key, u.key_id, {.method = "POST", .target = "/v1/ai/jobs"});
  EXPECT_EQ(Code(Send("POST", "/v1/ai/jobs", bare, body)), "SIGNATURE_INVALID");
  // The authority: signed for another host.
  Headers other = SignHeaders(u.key, u.key_id, {.target = "/v1/ai/jobs", .authority = "evil.example"});
  EXPECT_EQ(Code(Send("GET", "/v1/ai/jobs", other)), "SIGNATURE_INVALID");
  // Nothing tampered was submitted.
  EXPECT_EQ(Signed(u.key, u.key_id, {.target = "/v1/ai/jobs/tamper-2"}).status, 404);
}

TEST_F(SignedRequests, ReplayTimeWindowAndWrongKeyId) {
  testing::CreatedUser u = NewUser();
  testing::CreatedUser other = NewUser({{"name", "Other"}});
  Headers once = SignHeaders(u.key, u.key_id, {.target = "/v1/ai/jobs", .nonce = "only-once"});
  EXPECT_EQ(Send("GET", "/v1/ai/jobs", once).status, 200);
  HttpReply again = Send("GET", "/v1/ai/jobs", once);
  EXPECT_EQ(again.status, 401);
  EXPECT_EQ(Code(again), "REPLAYED");
  const std::int64_t now = std::time(nullptr);
  EXPECT_EQ(Code(Signed(u.key, u.key_id, {.target = "/v1/ai/jobs", .created = now - 3600})), "SIGNATURE_INVALID");
  EXPECT_EQ(Code(Signed(u.key, u.key_id, {.target = "/v1/ai/jobs", .created = now + 3600})), "SIGNATURE_INVALID");
  // Another user's key id with this key's secret; an id that does not exist.
  EXPECT_EQ(Code(Signed(u.key, other.key_id, {.target = "/v1/ai/jobs"})), "SIGNATURE_INVALID");
  EXPECT_EQ(Code(Signed(u.key, "key_000000000000000000000", {.target = "/v1/ai/jobs"})), "NOT_FOUND");
  // Hostile header values: refused with a reason, never a crash.
  for (const Headers& h : std::vector<Headers>{
           {{"Signature-Input", "sig=("}, {"Signature", "sig=:AAAA:"}},
           {{"Signature-Input", "sig=(\"@method\");keyid=\"key_x\""}},
           {{"Signature", "sig=:" + std::string(2000, 'A') + ":"}},
           {{"Signature-Input", std::string(4000, '(')}, {"Signature", "x"}},
       }) {
    HttpReply r = Send("GET", "/v1/ai/jobs", h);
    EXPECT_EQ(r.status, 401) << r.body;
    EXPECT_EQ(Code(r), "SIGNATURE_INVALID");
  }
}

TEST_F(SignedRequests, ARequireSignatureKeyIsRefusedAsABearerKey) {
  testing::CreatedUser u = NewUser();
  auto [key, id] = Issue(u.id, {{"require_signature", true}});
  HttpReply bearer = SubmitJob(key, "bearer-1");
  EXPECT_EQ(bearer.status, 401);
  EXPECT_EQ(Code(bearer), "SIGNATURE_REQUIRED");
  EXPECT_EQ(Code(Authz(key)), "SIGNATURE_REQUIRED");
  EXPECT_EQ(Signed(key, id, {.method = "POST", .target = "/v1/ai/jobs", .body = JobBody("signed-2")}).status, 201);
  json shown = Json(Admin("GET", "/v1/keys/" + id));
  EXPECT_EQ(shown["key"]["require_signature"], true);
  EXPECT_EQ(shown["key"]["signing_ready"], true);
  // On the plan: every key of the user.
  ASSERT_EQ(Admin("PATCH", "/v1/users/" + u.id, R"({"plan":{"require_signature":true}})").status, 200);
  EXPECT_EQ(Code(SubmitJob(u.key, "bearer-2")), "SIGNATURE_REQUIRED");
  EXPECT_EQ(Signed(u.key, u.key_id, {.target = "/v1/ai/jobs"}).status, 200);
  ASSERT_EQ(Admin("PATCH", "/v1/users/" + u.id, R"({"plan":{"require_signature":false}})").status, 200);
  EXPECT_EQ(SubmitJob(u.key, "bearer-3").status, 201);
}

TEST_F(SignedRequests, AKeyWhoseSecretIsNotKnownLearnsItAtItsNextBearerUse) {
  server_.reset();
  Start({}, {"KEYWARD_LAST_USED_FLUSH=100ms"});
  testing::CreatedUser u = NewUser();
  // As a key issued before signing existed: no secret stored.
  ExecSql("UPDATE api_keys SET signing_secret = NULL WHERE id = '" + u.key_id + "'");
  HttpReply unknown;
  testing::Eventually([&] {  // the change feed reaches the server's cache
    unknown = Signed(u.key, u.key_id, {.target = "/v1/ai/jobs"});
    return unknown.status == 401;
  });
  ASSERT_EQ(unknown.status, 401) << unknown.body;
  EXPECT_EQ(Code(unknown), "SIGNING_SECRET_UNKNOWN");
  EXPECT_EQ(Authz(u.key).status, 200);  // one bearer call
  EXPECT_EQ(Signed(u.key, u.key_id, {.target = "/v1/ai/jobs"}).status, 200);
  // Stored for every node and restart: after one, it still signs.
  EXPECT_TRUE(testing::Eventually([&] { return SigningReady(u.key_id); }));
  server_.reset();
  Start();
  EXPECT_EQ(Signed(u.key, u.key_id, {.target = "/v1/ai/jobs"}).status, 200);
}

TEST_F(SignedRequests, ABurstOfFirstUsesIsWrittenBeforeTheFlushPeriod) {
  // More keys issued before signing existed than the server keeps learned
  // secrets unwritten: their first bearer uses get them written within
  // moments, not at the next hourly flush.
  std::vector<std::pair<std::string, std::string>> keys = KeysWithoutSecrets(4'200);
  ASSERT_EQ(keys.size(), 4'200u);
  ASSERT_NO_FATAL_FAILURE(UseEachOnce(keys));
  EXPECT_TRUE(testing::Eventually([&] { return SigningReady(keys.front().second); }));
  // Written and no longer held by the server: signed requests read it back.
  EXPECT_EQ(Signed(keys.front().first, keys.front().second, {.target = "/v1/ai/jobs"}).status, 200);
  EXPECT_EQ(Signed(keys[4'000].first, keys[4'000].second, {.target = "/v1/ai/jobs"}).status, 200);
}

// After a write the store refused (it may be down), the flusher does not try
// again at every tick because much still waits: the next try is at the
// period (or at shutdown).
TEST_F(SignedRequests, AFailedEarlyFlushIsNotRetriedAtEveryTick) {
  std::vector<std::pair<std::string, std::string>> keys = KeysWithoutSecrets(4'200);
  ASSERT_EQ(keys.size(), 4'200u);
  if (OnPostgres()) {
    ExecSql("CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$");
    ExecSql("CREATE TRIGGER test_refuse_secrets BEFORE UPDATE OF signing_secret ON api_keys "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse()");
  } else {
    ExecSql("CREATE TRIGGER test_refuse_secrets BEFORE UPDATE OF signing_secret ON api_keys "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
  }
  ASSERT_NO_FATAL_FAILURE(UseEachOnce(keys));
  auto metric = [&](const std::string& name) { return testing::MetricValue(addr(), name); };
  EXPECT_TRUE(testing::Eventually([&] { return metric("keyward_last_used_flush_failures_total") >= 1; }));
  // Eight ticks of the flusher, everything still waiting: no other try.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(metric("keyward_last_used_flush_failures_total"), 1);
  EXPECT_EQ(metric("keyward_last_used_flushes_total"), 1);
}

TEST_F(SignedRequests, ASignedEnqueueIsRunByTheWorkerWithASignedSubmission) {
  testing::CreatedUser u = NewUser();
  std::string body = JobBody("queued-signed-1");
  HttpReply q = Signed(u.key, u.key_id, {.method = "POST", .target = "/v1/queue/jobs", .body = body});
  ASSERT_EQ(q.status, 201) << q.body;
  const std::string entry = Json(q)["entry"]["id"];
  testing::RunResult w = testing::Run(
      {testing::KeywardBinary(), "--db", db_, "worker", "--server", "http://" + addr(), "--once"}, "", SealEnv());
  ASSERT_EQ(w.exit_code, 0) << w.err;
  json e = Json(Signed(u.key, u.key_id, {.target = "/v1/queue/jobs/" + entry}));
  EXPECT_EQ(e["entry"]["status"], "done") << e;
  // The job was submitted with a key of its own that only signs.
  json job = Json(Signed(u.key, u.key_id, {.target = "/v1/ai/jobs/queued-signed-1"}))["job"];
  EXPECT_EQ(job["user_id"], u.id);
  ASSERT_NE(job["key_id"], u.key_id);
  json job_key = Json(Admin("GET", "/v1/keys/" + job["key_id"].get<std::string>()))["key"];
  EXPECT_EQ(job_key["require_signature"], true);
  // The worker's submission was signed: a bearer use would have been refused.
  EXPECT_EQ(server_->Output().find("SIGNATURE_REQUIRED"), std::string::npos);
}

TEST_F(SignedRequests, AuthzVerifiesTheRequestTheFrontForwarded) {
  testing::CreatedUser u = NewUser();
  auto forwarded = [&](const std::string& method, const std::string& uri, Headers h) {
    h.emplace_back("X-Keyward-Original-Method", method);
    h.emplace_back("X-Keyward-Original-Uri", uri);
    return testing::HttpGet(addr(), "/v1/authz?environment=live", h);
  };
  Headers h = SignHeaders(u.key, u.key_id, {.target = "/app/orders?id=7", .authority = "shop.example"});
  HttpReply ok = forwarded("GET", "http://shop.example/app/orders?id=7", h);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Header("x-keyward-user-id"), u.id);
  Headers h2 = SignHeaders(u.key, u.key_id, {.target = "/app/orders?id=7", .authority = "shop.example"});
  EXPECT_EQ(Code(forwarded("GET", "http://shop.example/app/orders?id=8", h2)), "SIGNATURE_INVALID");
  EXPECT_EQ(Code(forwarded("DELETE", "http://shop.example/app/orders?id=7", h2)), "SIGNATURE_INVALID");
  // Without the forwarded request there is nothing to check against.
  HttpReply none = testing::HttpGet(addr(), "/v1/authz", h2);
  EXPECT_EQ(Code(none), "SIGNATURE_INVALID");
  EXPECT_NE(Json(none)["error"]["message"].get<std::string>().find("X-Keyward-Original-Method"), std::string::npos);
  // The environment requirement still holds for a signed request.
  auto [test_key, test_id] = Issue(u.id, {{"environment", "test"}});
  Headers t = SignHeaders(test_key, test_id, {.target = "/app", .authority = "shop.example"});
  EXPECT_EQ(Code(forwarded("GET", "http://shop.example/app", t)), "WRONG_ENVIRONMENT");
}

TEST_F(SignedRequests, AFullNonceCacheAnswers503WithRetryAfterAndEvictsNothing) {
  server_.reset();
  Start({}, {"KEYWARD_NONCE_CAPACITY=2"});
  testing::CreatedUser u = NewUser();
  Headers first = SignHeaders(u.key, u.key_id, {.target = "/v1/ai/jobs", .nonce = "a"});
  EXPECT_EQ(Send("GET", "/v1/ai/jobs", first).status, 200);
  EXPECT_EQ(Signed(u.key, u.key_id, {.target = "/v1/ai/jobs", .nonce = "b"}).status, 200);
  HttpReply full = Signed(u.key, u.key_id, {.target = "/v1/ai/jobs", .nonce = "c"});
  EXPECT_EQ(full.status, 503) << full.body;
  EXPECT_EQ(Code(full), "UNAVAILABLE");
  EXPECT_GE(std::stoi(full.Header("retry-after")), 1);
  // Nothing was evicted to make room: the first request is still a replay.
  EXPECT_EQ(Code(Send("GET", "/v1/ai/jobs", first)), "REPLAYED");
  // Bearer keys are not affected.
  EXPECT_EQ(Authz(u.key).status, 200);
}

TEST_F(SignedRequests, RotatingTheSealKeyReSealsSigningSecrets) {
  testing::CreatedUser u = NewUser();
  EXPECT_EQ(Signed(u.key, u.key_id, {.target = "/v1/ai/jobs"}).status, 200);
  server_.reset();
  testing::RunResult r = testing::Run({testing::KeywardBinary(), "--db", db_, "--json", "seal", "rotate"}, "", SealEnv());
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  json report = json::parse(r.out);
  EXPECT_GE(report["signing_secrets"].get<int>(), 1) << r.out;
  EXPECT_EQ(report["signing_secrets_forgotten"], 0);
  Start();
  EXPECT_EQ(Signed(u.key, u.key_id, {.target = "/v1/ai/jobs"}).status, 200);
}

}  // namespace
}  // namespace keyward

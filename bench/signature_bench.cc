// signature_bench.cc: what a signed request (RFC 9421, hmac-sha256) costs
// in process, beside a bearer key's cache hit (verify_bench.cc): reading
// the headers into a signature base, the whole verification (key by id from
// the cache, unsealing the secret, the HMAC, the window, the nonce), the
// nonce cache alone, and signing on the client's side.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "auth/accounts.h"
#include "auth/nonce_cache.h"
#include "core/crypto.h"
#include "core/http_signature.h"
#include "core/sealing.h"
#include "keyward/store.h"
#include "keyward/verifier.h"

namespace keyward {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
constexpr std::string_view kBody = R"({"job_id":"report-2026-12","task":"wordcount","payload":{"text":"a b c"}})";

struct SignedFixture {
  std::string dir;
  KeyStorePtr store;
  core::Sealer sealer = *core::Sealer::Generate();
  std::string key, key_id;
  std::vector<Headers> requests;  // each with its own nonce

  explicit SignedFixture(std::size_t n) {
    dir = (std::filesystem::temp_directory_path() / ("keyward-sigbench-" + std::to_string(getpid()))).string();
    std::filesystem::create_directories(dir);
    store = std::move(OpenKeyStore({.location = dir + "/bench.db"})).value();
    auth::Accounts accounts(*store, SystemClock());
    accounts.set_sealer(&sealer);
    auth::CreateUserRequest req;
    req.name = "signer";
    auth::CreatedUser u = *accounts.CreateUser(req);
    key = u.key->secret;
    key_id = u.key->record.id;
    const std::int64_t now = SystemClock().Now() / 1000;
    for (std::size_t i = 0; i < n; ++i) requests.push_back(Sign(now, "n" + std::to_string(i)));
  }
  ~SignedFixture() { std::filesystem::remove_all(dir); }

  Headers Sign(std::int64_t created, const std::string& nonce) const {
    Headers h = {{"host", "api.example.com"}, {"content-type", "application/json"}};
    core::httpsig::Message msg{"POST", "https", "api.example.com", "/v1/ai/jobs", "", &h};
    core::httpsig::SignOptions o;
    o.key_id = key_id;
    o.created = created;
    o.nonce = nonce;
    core::httpsig::SignedFields f = *core::httpsig::Sign(msg, kBody, key, o);
    h.emplace_back("signature-input", f.signature_input);
    h.emplace_back("signature", f.signature);
    h.emplace_back("content-digest", f.content_digest);
    return h;
  }
};

constexpr std::size_t kRequests = 200'000;

SignedFixture& Shared() {
  static SignedFixture f(kRequests);
  return f;
}

core::httpsig::Message MessageOf(const Headers& h) {
  return core::httpsig::Message{"POST", "https", "api.example.com", "/v1/ai/jobs", "", &h};
}

void BM_SignedReadHeaders(benchmark::State& state) {
  SignedFixture& f = Shared();
  std::size_t i = 0;
  for (auto _ : state) {
    auto sig = core::httpsig::ReadSignature(MessageOf(f.requests[i++ % kRequests]), true);
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_SignedReadHeaders);

// Everything keyward does for a signed request before the route runs, as
// the HTTP layer does it: read the headers, then the verifier.
void BM_SignedVerifyWhole(benchmark::State& state) {
  SignedFixture& f = Shared();
  VerifierOptions o;
  o.cache = true;
  o.cache_ttl_ms = 3'600'000;
  o.sealer = &f.sealer;
  o.signature_window_ms = 3'600'000;
  o.nonce_capacity = 10'000'000;
  o.nonce_capacity_per_key = 10'000'000;
  Verifier v(*f.store, SystemClock(), o);
  std::size_t i = 0;
  for (auto _ : state) {
    auto sig = core::httpsig::ReadSignature(MessageOf(f.requests[i++ % kRequests]), true);
    SignedRequest sr{sig->key_id, sig->created, sig->expires, sig->nonce, sig->signature, sig->base};
    VerifyRequest r;
    r.signed_request = &sr;
    StatusOr<Verification> out = v.Verify(r);
    benchmark::DoNotOptimize(out);
    if (i <= kRequests && (!out.ok() || !out->valid())) state.SkipWithError("a signed request was refused");
  }
}
BENCHMARK(BM_SignedVerifyWhole)->Iterations(kRequests);

void BM_ContentDigestCheck(benchmark::State& state) {
  std::string field = core::httpsig::ContentDigest(kBody);
  for (auto _ : state) benchmark::DoNotOptimize(core::httpsig::ContentDigestMatches(field, kBody));
}
BENCHMARK(BM_ContentDigestCheck);

void BM_NonceCacheRemember(benchmark::State& state) {
  auth::NonceCache c({.capacity = 100'000'000, .capacity_per_key = 100'000'000});
  std::size_t i = 0;
  const std::string key_id = "key_0123456789abcdefghij";
  for (auto _ : state) {
    benchmark::DoNotOptimize(c.Remember(key_id, std::to_string(i++), 2'000'000'000'000, 1'000'000'000'000));
  }
}
BENCHMARK(BM_NonceCacheRemember);

void BM_SignOnTheClient(benchmark::State& state) {
  SignedFixture& f = Shared();
  const std::int64_t now = SystemClock().Now() / 1000;
  for (auto _ : state) benchmark::DoNotOptimize(f.Sign(now, ""));
}
BENCHMARK(BM_SignOnTheClient);

}  // namespace
}  // namespace keyward

namespace keyward {
namespace {

// The two primitives of the verifier's share.
void BM_UnsealSecret(benchmark::State& state) {
  core::Sealer sealer = *core::Sealer::Generate();
  std::string sealed = *sealer.Seal(std::string(32, 's'), "key_0123456789abcdefghij");
  for (auto _ : state) benchmark::DoNotOptimize(sealer.Open(sealed, "key_0123456789abcdefghij"));
}
BENCHMARK(BM_UnsealSecret);

// What the enqueue path pays to seal the caller's key into its entry.
void BM_SealQueueKey(benchmark::State& state) {
  core::Sealer sealer = *core::Sealer::Generate();
  const std::string key = "kw_live_" + std::string(50, 'k');
  for (auto _ : state) benchmark::DoNotOptimize(sealer.Seal(key, "qen_0123456789abcdefghijklmn"));
}
BENCHMARK(BM_SealQueueKey);

void BM_HmacSha256Base(benchmark::State& state) {
  std::string secret(32, 's'), base(260, 'b');
  for (auto _ : state) benchmark::DoNotOptimize(core::HmacSha256(secret, base));
}
BENCHMARK(BM_HmacSha256Base);

}  // namespace
}  // namespace keyward

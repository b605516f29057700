// verify_bench.cc: the in-process verification hot path, against baselines —
// a cache hit, a cache miss that reads SQLite, a malformed key (no storage),
// an unknown key from the negative cache, and the pieces (SHA-256, parse).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "auth/accounts.h"
#include "auth/legacy_hash.h"
#include "core/crypto.h"
#include "keyward/key_format.h"
#include "keyward/store.h"
#include "keyward/verifier.h"

namespace keyward {
namespace {

// A store with `n` users of one key each, in a temp file.
struct Fixture {
  std::string dir;
  KeyStorePtr store;
  std::vector<std::string> keys;
  std::string flat;  // all keys back to back, as request buffers would hold them

  std::string_view Key(std::size_t i) const {
    return std::string_view(flat).substr((i % keys.size()) * kKeyLength, kKeyLength);
  }

  explicit Fixture(int n) {
    dir = (std::filesystem::temp_directory_path() / ("keyward-bench-" + std::to_string(getpid()))).string();
    std::filesystem::create_directories(dir);
    store = std::move(OpenKeyStore({.location = dir + "/bench.db"})).value();
    auth::Accounts svc(*store, SystemClock());
    for (int i = 0; i < n; ++i) {
      auth::CreateUserRequest req;
      req.name = "user" + std::to_string(i);
      keys.push_back(svc.CreateUser(req)->key->secret);
      flat += keys.back();
    }
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
};

Fixture& Shared() {
  static Fixture f(10'000);
  return f;
}

void BM_VerifyCacheHit(benchmark::State& state) {
  Fixture& f = Shared();
  VerifierOptions o;
  o.cache = true;
  o.cache_ttl_ms = 3'600'000;
  Verifier v(*f.store, SystemClock(), o);
  for (const auto& k : f.keys) (void)v.Verify({k, {}, std::nullopt});
  std::size_t i = 0;
  for (auto _ : state) {
    StatusOr<Verification> r = v.Verify({f.Key(i++), {}, std::nullopt});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_VerifyCacheHit)->ThreadRange(1, 2);

// The same key over and over: the floor, with everything in L1/L2.
void BM_VerifyCacheHitOneKey(benchmark::State& state) {
  Fixture& f = Shared();
  VerifierOptions o;
  o.cache = true;
  o.cache_ttl_ms = 3'600'000;
  Verifier v(*f.store, SystemClock(), o);
  const std::string& key = f.keys[state.thread_index()];
  for (auto _ : state) {
    StatusOr<Verification> r = v.Verify({key, {}, std::nullopt});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_VerifyCacheHitOneKey)->ThreadRange(1, 2);

void BM_VerifyCacheMissSqlite(benchmark::State& state) {
  Fixture& f = Shared();
  Verifier v(*f.store, SystemClock());  // no cache: every call reads SQLite
  std::size_t i = 0;
  for (auto _ : state) {
    StatusOr<Verification> r = v.Verify({f.Key(i++), {}, std::nullopt});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_VerifyCacheMissSqlite);

void BM_VerifyMalformed(benchmark::State& state) {
  Fixture& f = Shared();
  Verifier v(*f.store, SystemClock());
  std::string bad = f.keys[0];
  bad[20] = bad[20] == 'A' ? 'B' : 'A';
  for (auto _ : state) {
    StatusOr<Verification> r = v.Verify({bad, {}, std::nullopt});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_VerifyMalformed);

void BM_VerifyUnknownNegativeCache(benchmark::State& state) {
  Fixture& f = Shared();
  VerifierOptions o;
  o.cache = true;
  Verifier v(*f.store, SystemClock(), o);
  std::string unknown = *GenerateKey(Environment::kLive);
  for (auto _ : state) {
    StatusOr<Verification> r = v.Verify({unknown, {}, std::nullopt});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_VerifyUnknownNegativeCache);

void BM_Sha256Key(benchmark::State& state) {
  std::string key = *GenerateKey(Environment::kLive);
  for (auto _ : state) benchmark::DoNotOptimize(HashKey(key));
}
BENCHMARK(BM_Sha256Key);

void BM_ParseKey(benchmark::State& state) {
  std::string key = *GenerateKey(Environment::kLive);
  for (auto _ : state) benchmark::DoNotOptimize(ParseKey(key));
}
BENCHMARK(BM_ParseKey);

void BM_GenerateKey(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(GenerateKey(Environment::kLive));
}
BENCHMARK(BM_GenerateKey);

// A key imported from djangorestframework-api-key, checked against its
// stored hash: PBKDF2-HMAC-SHA256 at the iteration count in the argument
// (Django 3.2 wrote 260,000; 4.2 writes 600,000), and 3.x's SHA-512.
void BM_LegacyPbkdf2(benchmark::State& state) {
  const std::string encoded = "pbkdf2_sha256$" + std::to_string(state.range(0)) +
                              "$hQ2xk9ZpL1vR$Snt7SuXr15Kd/JH7CyK9IYAuBtsbLRSDWoHflpOOJc8=";
  const auth::LegacyHash h = *auth::ParseLegacyHash(encoded);
  for (auto _ : state) benchmark::DoNotOptimize(auth::VerifyLegacyKey(h, "Ab12Cd34.s3cr3tKeyMaterial0123456789abcd"));
}
BENCHMARK(BM_LegacyPbkdf2)->Arg(260'000)->Arg(600'000)->Unit(benchmark::kMillisecond);

void BM_LegacySha512(benchmark::State& state) {
  const auth::LegacyHash h = *auth::ParseLegacyHash(
      "sha512$$86422a652a2fd27638adeda7090596f551c97f5906e310efaf903bbf053f8337150f34311b6c5231d02a27e995bfa08c98719a1b843047cc5a1377ee41f6f4a9");
  for (auto _ : state) benchmark::DoNotOptimize(auth::VerifyLegacyKey(h, "Ab12Cd34.s3cr3tKeyMaterial0123456789abcd"));
}
BENCHMARK(BM_LegacySha512);

}  // namespace
}  // namespace keyward

BENCHMARK_MAIN();

// verify_bench.cc: the in-process verification hot path, against baselines —
// a cache hit, a cache miss that reads SQLite, a malformed key (no storage),
// an unknown key from the negative cache, and the pieces (SHA-256, parse).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "auth/accounts.h"
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

}  // namespace
}  // namespace keyward

BENCHMARK_MAIN();

// http_bench.cc: the per-request text the HTTP layer writes besides the
// socket calls: an access log line (as `GET /v1/authz` logs it, to a file
// that discards it) and the headers of an authz answer.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>

#include "http/access_log.h"
#include "http/metrics.h"
#include "http/types.h"
#include "keyward/store.h"

namespace keyward::http {
namespace {

void BM_AccessLogLine(benchmark::State& state) {
  std::FILE* out = std::fopen("/dev/null", "w");
  Metrics metrics;
  HttpRequest req;
  req.method = "GET";
  req.path = "/v1/authz";
  req.remote = "127.0.0.1:52814";
  HttpResponse res;
  res.status = 200;
  res.route = "/v1/authz";
  res.log_outcome = "VALID";
  auto identity = std::make_shared<KeyWithUser>();
  identity->user.id = "usr_01JF3Q6W8YHZK2V4N5R7T9XBCD";
  identity->key.display = "kw_live_AbCd";
  identity->key.environment = Environment::kLive;
  res.identity = identity;
  long long now_ms = 1764547200000;
  {
    AccessLog log(out, 64u << 20, metrics);
    for (auto _ : state) log.Log(req, res, 0.000123, now_ms++ / 4);
    log.Stop();
  }
  std::fclose(out);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AccessLogLine);

void BM_AuthzHeaders(benchmark::State& state) {
  for (auto _ : state) {
    HttpResponse res;
    res.SetHeader("X-Keyward-User-Id", "usr_01JF3Q6W8YHZK2V4N5R7T9XBCD");
    res.SetHeader("X-Keyward-External-Id", "acme-corp-4711");
    res.SetHeader("X-Keyward-Key-Id", "key_01JF3Q6W8YHZK2V4N5R7T9XBCE");
    res.SetHeader("X-Keyward-Environment", "live");
    res.SetHeader("X-Keyward-Scopes", "ai:jobs queue:write");
    benchmark::DoNotOptimize(res.header_lines().data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AuthzHeaders);

}  // namespace
}  // namespace keyward::http

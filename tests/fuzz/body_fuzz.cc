// body_fuzz.cc: one route family's JSON bodies, through the route table and
// the handlers, on an in-memory store reset to the same state per input. Built once per family
// (KEYWARD_FUZZ_FAMILY: admin, verify, compute, queue). The first input byte
// picks the route within the family; the rest is the body, with @KEY@,
// @USER@, @KEYID@ and @TESTKEY@ replaced by the world's real values.
#include <cstddef>
#include <cstdint>

#include "fuzz_world.h"

namespace {

using keyward::fuzz::World;

struct Route {
  const char* method;
  const char* target;
  bool admin;
  bool test_key;
};

#if KEYWARD_FUZZ_FAMILY == 1  // admin
constexpr Route kRoutes[] = {
    {"POST", "/v1/users", true, false},
    {"PATCH", "/v1/users/@USER@", true, false},
    {"POST", "/v1/users/@USER@/keys", true, false},
    {"POST", "/v1/keys/@KEYID@/rotate", true, false},
};
#elif KEYWARD_FUZZ_FAMILY == 2  // verify
constexpr Route kRoutes[] = {{"POST", "/v1/keys/verify", false, false}};
#elif KEYWARD_FUZZ_FAMILY == 3  // compute
constexpr Route kRoutes[] = {{"POST", "/v1/ai/jobs", false, false}, {"POST", "/v1/ai/jobs", false, true}};
#else  // queue
constexpr Route kRoutes[] = {{"POST", "/v1/queue/jobs", false, false}, {"POST", "/v1/queue/jobs", false, true}};
#endif

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Route& route = kRoutes[data[0] % (sizeof kRoutes / sizeof kRoutes[0])];
  static World* world_ptr = new World();  // reset below, not rebuilt
  World& world = *world_ptr;
  world.Reset();
  std::string body = world.Fill(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  std::vector<std::pair<std::string, std::string>> headers;
  if (route.admin) headers.emplace_back("authorization", std::string("Bearer ") + keyward::fuzz::kAdminToken);
  else headers.emplace_back("authorization", "Api-Key " + (route.test_key ? world.test_key : world.key));
  keyward::http::HttpResponse r = world.Call(route.method, world.Fill(route.target), headers, body);
  keyward::fuzz::CheckResponse(r);
  // A job or entry accepted from this body is read back and run (at Stop).
  if (r.status == 201 || r.status == 200) {
    world.Call("GET", "/v1/ai/jobs?limit=5", {{"authorization", "Api-Key " + world.key}}, "");
  }
  return 0;
}

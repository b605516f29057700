// authorization_fuzz.cc: the Authorization header — API-key and admin
// bearer parsing — with any value (and sometimes twice), then the gate on a
// fresh world: it must decide, never crash, and never accept a key it did
// not issue.
#include <strings.h>

#include <cstddef>
#include <cstdint>

#include "fuzz_world.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static keyward::fuzz::World world;  // verification changes no state that matters here
  std::string value(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<std::string, std::string>> headers = {{"authorization", value}};
  if (size > 0 && data[0] == '2') headers.emplace_back("authorization", value);
  keyward::http::HttpResponse r = world.Call("GET", "/v1/authz", headers, "");
  keyward::fuzz::CheckResponse(r);
  // Only the world's own keys (which the fuzzer never sees) pass.
  if (r.status == 200) __builtin_trap();
  // The admin API opens only to "<bearer in any case> <the token>", once.
  keyward::http::HttpResponse admin = world.Call("GET", "/v1/users", headers, "");
  const std::string token = keyward::fuzz::kAdminToken;
  bool exact = value.size() == 7 + token.size() && strncasecmp(value.c_str(), "bearer ", 7) == 0 &&
               value.compare(7, std::string::npos, token) == 0 && headers.size() == 1;
  if (admin.status == 200 && !exact) __builtin_trap();
  return 0;
}

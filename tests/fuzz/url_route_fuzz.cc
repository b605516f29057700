// url_route_fuzz.cc: request targets — path segments, percent escapes,
// query strings — through routing and each route's head step, with the
// operator token so that admin routes get past authentication.
#include <cstddef>
#include <cstdint>

#include "fuzz_world.h"
#include "http/types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static keyward::fuzz::World world;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // First byte: the method; the rest: the request target.
  static constexpr const char* kMethods[] = {"GET", "POST", "PATCH", "DELETE", "HEAD", "PUT"};
  std::string method = size ? kMethods[data[0] % 6] : "GET";
  std::string target = world.Fill(size ? in.substr(1) : in);
  bool as_key = size && (data[0] & 0x80);
  keyward::http::HttpResponse r =
      world.Call(method, target,
                 {{"authorization", as_key ? "Api-Key " + world.key
                                           : std::string("Bearer ") + keyward::fuzz::kAdminToken}},
                 "");
  keyward::fuzz::CheckResponse(r);
  // The query helpers agree with each other on any query.
  keyward::http::HttpRequest q;
  std::size_t at = target.find('?');
  q.query = at == std::string::npos ? "" : target.substr(at + 1);
  std::vector<std::string> values;
  bool decoded = q.QueryValues("limit", &values);
  auto one = q.QueryParam("limit");
  if (!decoded && one.ok()) __builtin_trap();
  if (decoded && values.size() <= 1 && !one.ok()) __builtin_trap();
  (void)keyward::http::PercentDecode(target);
  return 0;
}

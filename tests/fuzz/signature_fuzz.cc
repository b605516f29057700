// signature_fuzz.cc: the signed-request headers (RFC 9421 over RFC 8941
// structured fields) with any values. The input is up to five lines:
// Signature-Input, Signature, Content-Digest, and the method and URI a
// front forwards; @KEYID@ becomes the world's real key id so that inputs
// reach the HMAC check. Properties: the parser's output serializes to text
// that parses to the same serialization (a fixed point); and no signature
// the fuzzer makes passes — it cannot know the key's secret — neither on a
// route of the compute API nor through /v1/authz.
#include <cstddef>
#include <cstdint>

#include "core/http_signature.h"
#include "core/structured_fields.h"
#include "fuzz_world.h"

namespace {

std::vector<std::string> Lines(std::string_view in, std::size_t n) {
  std::vector<std::string> out;
  while (out.size() + 1 < n) {
    std::size_t nl = in.find('\n');
    if (nl == std::string_view::npos) break;
    out.emplace_back(in.substr(0, nl));
    in.remove_prefix(nl + 1);
  }
  out.emplace_back(in);
  out.resize(n);
  return out;
}

void CheckFixedPoint(const std::string& text) {
  using namespace keyward::core::sf;
  keyward::StatusOr<Dictionary> d = ParseDictionary(text);
  if (!d.ok()) return;
  std::string once = SerializeDictionary(*d);
  keyward::StatusOr<Dictionary> again = ParseDictionary(once);
  if (!again.ok() || SerializeDictionary(*again) != once) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static keyward::fuzz::World world;
  world.Reset();
  std::vector<std::string> f =
      Lines(world.Fill(std::string_view(reinterpret_cast<const char*>(data), size)), 5);
  for (const std::string& field : f) CheckFixedPoint(field);
  std::string body;
  if (!f[2].empty()) {
    body = R"({"job_id":"fuzz","task":"echo","payload":{}})";
    (void)keyward::core::httpsig::ContentDigestMatches(f[2], body);
  }

  std::vector<std::pair<std::string, std::string>> headers = {{"host", "127.0.0.1"},
                                                              {"signature-input", f[0]},
                                                              {"signature", f[1]}};
  if (!f[2].empty()) headers.emplace_back("content-digest", f[2]);
  keyward::http::HttpResponse direct = world.Call(body.empty() ? "GET" : "POST", "/v1/ai/jobs", headers, body);
  keyward::fuzz::CheckResponse(direct);
  if (direct.status < 300) __builtin_trap();

  headers.emplace_back("x-keyward-original-method", f[3]);
  headers.emplace_back("x-keyward-original-uri", f[4]);
  keyward::http::HttpResponse authz = world.Call("GET", "/v1/authz", headers, "");
  keyward::fuzz::CheckResponse(authz);
  if (authz.status == 200) __builtin_trap();
  return 0;
}

// RFC 9421 signatures with hmac-sha256 and RFC 9530 digests: the RFC's own
// test vector, a sign → read → verify round trip, and every tampering and
// malformed signature refused with a sentence that says why.
#include "core/http_signature.h"

#include <gtest/gtest.h>

#include "core/base64.h"
#include "core/crypto.h"
#include "keyward/content_digest.h"

namespace keyward::core::httpsig {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kKey = "kw_live_0123456789abcdefghijABCDEFGHIJ000000";

std::string Hex(const Sha256Digest& d) { return HexEncode(d.data(), d.size()); }

TEST(Crypto, HmacSha256Rfc4231Case2) {
  EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, HkdfSha256Rfc5869Case3EmptySaltAndInfo) {
  EXPECT_EQ(Hex(HkdfSha256(std::string(22, '\x0b'), "", "")),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d");
}

TEST(Crypto, HkdfSha256Rfc5869Case1) {
  std::string ikm(22, '\x0b');
  std::string salt, info;
  for (int i = 0; i <= 0x0c; ++i) salt += static_cast<char>(i);
  for (int i = 0xf0; i <= 0xf9; ++i) info += static_cast<char>(i);
  // The first 32 of the RFC's 42 bytes of output.
  EXPECT_EQ(Hex(HkdfSha256(ikm, salt, info)), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf");
}

// RFC 9421 Appendix B.2.5: the request of B.2 signed with hmac-sha256 under
// the shared secret of B.1.5.
TEST(HttpSignature, Rfc9421AppendixB25) {
  Headers headers = {{"host", "example.com"},
                     {"date", "Tue, 20 Apr 2021 02:07:55 GMT"},
                     {"content-type", "application/json"},
                     {"content-length", "18"}};
  Message msg{"POST", "https", "example.com", "/foo", "param=Value&Pet=dog", &headers};
  auto base = SignatureBase(msg, R"(("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret")");
  ASSERT_TRUE(base.ok()) << base.status().message();
  EXPECT_EQ(*base,
            "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n"
            "\"@authority\": example.com\n"
            "\"content-type\": application/json\n"
            "\"@signature-params\": (\"date\" \"@authority\" \"content-type\");created=1618884473;"
            "keyid=\"test-shared-secret\"");
  auto secret = Base64Decode("uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==");
  ASSERT_TRUE(secret);
  Sha256Digest mac = HmacSha256(*secret, *base);
  EXPECT_EQ(Base64Encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())),
            "pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=");
}

TEST(HttpSignature, DerivedComponents) {
  Headers headers = {{"x-a", " one "}, {"x-a", "two"}};
  Message msg{"GET", "HTTPS", "Example.COM:443", "/v1/x", "a=1&b=%20", &headers};
  EXPECT_EQ(*ComponentValue(msg, "@target-uri"), "https://example.com/v1/x?a=1&b=%20");
  EXPECT_EQ(*ComponentValue(msg, "@authority"), "example.com");
  EXPECT_EQ(*ComponentValue(msg, "@scheme"), "https");
  EXPECT_EQ(*ComponentValue(msg, "@path"), "/v1/x");
  EXPECT_EQ(*ComponentValue(msg, "@query"), "?a=1&b=%20");
  EXPECT_EQ(*ComponentValue(msg, "@request-target"), "/v1/x?a=1&b=%20");
  EXPECT_EQ(*ComponentValue(msg, "x-a"), "one, two");
  Message plain{"GET", "http", "h:8080", "", "", &headers};
  EXPECT_EQ(*ComponentValue(plain, "@target-uri"), "http://h:8080/");
  EXPECT_EQ(*ComponentValue(plain, "@query"), "?");
  EXPECT_FALSE(ComponentValue(plain, "@status").ok());
  EXPECT_FALSE(ComponentValue(plain, "x-missing").ok());
}

struct Signed {
  Headers headers;
  std::string body;
};

Signed MakeSigned(std::string_view method, std::string_view path, std::string_view query, std::string body,
                  SignOptions options = {}) {
  Signed s{{{"host", "api.example:8443"}, {"content-type", "application/json"}}, std::move(body)};
  Message msg{method, "https", "api.example:8443", path, query, &s.headers};
  if (options.key_id.empty()) options.key_id = "key_abc";
  if (options.created == 0) options.created = 1'700'000'000;
  auto f = Sign(msg, s.body, kKey, options);
  EXPECT_TRUE(f.ok()) << f.status().message();
  s.headers.emplace_back("signature-input", f->signature_input);
  s.headers.emplace_back("signature", f->signature);
  if (!f->content_digest.empty()) s.headers.emplace_back("content-digest", f->content_digest);
  return s;
}

StatusOr<ReceivedSignature> Read(const Signed& s, std::string_view method = "POST",
                                 std::string_view path = "/v1/ai/jobs", std::string_view query = "") {
  Message msg{method, "https", "api.example:8443", path, query, &s.headers};
  return ReadSignature(msg, !s.body.empty());
}

std::string SecretOf(std::string_view key) {
  Secret s = DeriveSigningSecret(key);
  return std::string(SecretBytes(s));
}

TEST(HttpSignature, SignReadVerifyRoundTrip) {
  Signed s = MakeSigned("POST", "/v1/ai/jobs", "", R"({"job_id":"j1"})");
  auto sig = Read(s);
  ASSERT_TRUE(sig.ok()) << sig.status().message();
  EXPECT_EQ(sig->key_id, "key_abc");
  EXPECT_EQ(sig->created, 1'700'000'000);
  EXPECT_FALSE(sig->nonce.empty());
  EXPECT_TRUE(sig->covers_content_digest);
  EXPECT_TRUE(Verify(*sig, SecretOf(kKey)));
  EXPECT_FALSE(Verify(*sig, SecretOf("kw_live_0123456789abcdefghijABCDEFGHIJ000001")));
}

TEST(HttpSignature, TamperingBreaksTheSignature) {
  Signed s = MakeSigned("POST", "/v1/ai/jobs", "a=1", R"({"job_id":"j1"})");
  ASSERT_TRUE(Verify(*Read(s, "POST", "/v1/ai/jobs", "a=1"), SecretOf(kKey)));
  EXPECT_FALSE(Verify(*Read(s, "PUT", "/v1/ai/jobs", "a=1"), SecretOf(kKey)));   // method
  EXPECT_FALSE(Verify(*Read(s, "POST", "/v1/ai/job", "a=1"), SecretOf(kKey)));   // path
  EXPECT_FALSE(Verify(*Read(s, "POST", "/v1/ai/jobs", "a=2"), SecretOf(kKey)));  // query
  EXPECT_FALSE(Verify(*Read(s, "POST", "/v1/ai/jobs", ""), SecretOf(kKey)));     // query dropped
  Signed digest = s;
  for (auto& [k, v] : digest.headers) {
    if (k == "content-digest") v = ContentDigest("{}");
  }
  EXPECT_FALSE(Verify(*Read(digest, "POST", "/v1/ai/jobs", "a=1"), SecretOf(kKey)));  // digest swapped
  // A changed body with the old digest: the signature holds, the digest does not.
  const std::string* d = nullptr;
  for (auto& [k, v] : s.headers) {
    if (k == "content-digest") d = &v;
  }
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(*ContentDigestMatches(*d, s.body));
  EXPECT_FALSE(*ContentDigestMatches(*d, R"({"job_id":"j2"})"));
}

TEST(HttpSignature, PublicContentDigestHelper) {
  const std::string body = R"({"order":7})";
  EXPECT_TRUE(BodyMatchesContentDigest(ContentDigestOf(body), body));
  EXPECT_FALSE(BodyMatchesContentDigest(ContentDigestOf(body), body + " "));
  EXPECT_FALSE(BodyMatchesContentDigest("", body));
  EXPECT_FALSE(BodyMatchesContentDigest("sha-512=:AAAA:", body));
  EXPECT_FALSE(BodyMatchesContentDigest("((", body));
}

TEST(HttpSignature, ContentDigestFieldParsing) {
  EXPECT_TRUE(*ContentDigestMatches("sha-512=:AAAA:, " + ContentDigest("x"), "x"));
  EXPECT_FALSE(ContentDigestMatches("sha-512=:AAAA:", "x").ok());  // no sha-256: refused, not ignored
  EXPECT_FALSE(ContentDigestMatches("sha-256=abc", "x").ok());
  EXPECT_FALSE(ContentDigestMatches("sha-256=:AAAA", "x").ok());
}

Signed WithInput(std::string input, std::string signature = ":" + std::string(43, 'A') + "=:") {
  return Signed{{{"host", "api.example:8443"}, {"signature-input", "sig=" + input}, {"signature", "sig=" + signature}},
                ""};
}

TEST(HttpSignature, RefusesIncompleteOrForeignSignatures) {
  const std::string ok_params = R"(;created=1;keyid="key_a";nonce="n")";
  EXPECT_TRUE(Read(WithInput(R"(("@method" "@target-uri"))" + ok_params)).ok());
  EXPECT_TRUE(Read(WithInput(R"(("@method" "@authority" "@path" "@query"))" + ok_params)).ok());
  struct Case {
    std::string input;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {R"(("@target-uri"))" + ok_params, "@method"},
           {R"(("@method" "@path"))" + ok_params, "@target-uri"},
           {R"(("@method" "@target-uri");keyid="key_a";nonce="n")", "created"},
           {R"(("@method" "@target-uri");created=1;keyid="key_a")", "nonce"},
           {R"(("@method" "@target-uri");created=1;keyid="key_a";nonce="")", "nonce"},
           {R"(("@method" "@target-uri");created=1;keyid="key_a";nonce=n)", "nonce"},
           {R"(("@method" "@target-uri");created="1";keyid="key_a";nonce="n")", "created"},
           {R"(("@method" "@target-uri");created=1;keyid="other";nonce="n")", "keyward keyid"},
           {R"(("@method" "@target-uri"))" + ok_params + R"(;alg="ed25519")", "alg"},
           {R"(("@method" "@target-uri" "@method"))" + ok_params, "twice"},
           {R"(("@method" "@target-uri" "Host"))" + ok_params, "lower-case"},
           {R"(("@method" "@target-uri" "host";sf))" + ok_params, "parameters"},
           {R"(("@method" "@target-uri" "x-absent"))" + ok_params, "x-absent"},
           {R"(("@method" "@target-uri" "@signature-params"))" + ok_params, "@signature-params"},
           {R"(("@method" "@target-uri" "@status"))" + ok_params, "@status"},
           {R"(("@method" "@target-uri" 1))" + ok_params, "strings"},
           {R"(("@method" "@target-uri")" + ok_params, "Signature-Input"},
       }) {
    auto r = Read(WithInput(c.input));
    ASSERT_FALSE(r.ok()) << c.input;
    EXPECT_NE(r.status().message().find(c.says), std::string::npos) << c.input << " -> " << r.status().message();
  }
  // Signature value: missing label, wrong type, wrong length.
  EXPECT_FALSE(Read(WithInput(R"(("@method" "@target-uri"))" + ok_params, ":AAAA:")).ok());
  EXPECT_FALSE(Read(WithInput(R"(("@method" "@target-uri"))" + ok_params, "tok")).ok());
  Signed other = WithInput(R"(("@method" "@target-uri"))" + ok_params);
  other.headers[2].second = "other=:" + std::string(43, 'A') + "=:";
  EXPECT_FALSE(Read(other).ok());
  // Two keyward signatures: which one holds is not guessed.
  Signed two = WithInput(R"(("@method" "@target-uri"))" + ok_params);
  two.headers.emplace_back("signature-input", R"(b=("@method" "@target-uri"))" + ok_params);
  EXPECT_NE(Read(two).status().message().find("more than one"), std::string::npos);
  // A body must be covered by content-digest.
  Signed body = WithInput(R"(("@method" "@target-uri"))" + ok_params);
  body.body = "{}";
  EXPECT_NE(Read(body).status().message().find("content-digest"), std::string::npos);
  // Only one of the two fields.
  Signed half{{{"signature-input", "sig=(\"@method\")"}}, ""};
  EXPECT_FALSE(Read(half).ok());
}

TEST(HttpSignature, AnotherSignersLabelIsLeftAlone) {
  SignOptions named;
  named.label = "mine";
  Signed s = MakeSigned("GET", "/v1/ai/jobs", "", "", named);
  for (auto& [k, v] : s.headers) {
    if (k == "signature-input") v = R"(proxy=("@method");created=1;keyid="edge-1", )" + v;
    if (k == "signature") v = "proxy=:AAAA:, " + v;
  }
  auto sig = Read(s, "GET");
  ASSERT_TRUE(sig.ok()) << sig.status().message();
  EXPECT_EQ(sig->label, "mine");
  EXPECT_TRUE(Verify(*sig, SecretOf(kKey)));
}

TEST(HttpSignature, SplitTargetUri) {
  Message m;
  ASSERT_TRUE(SplitTargetUri("https://Api.Example:8443/v1/ai/jobs?limit=5", &m).ok());
  EXPECT_EQ(m.scheme, "https");
  EXPECT_EQ(m.authority, "Api.Example:8443");
  EXPECT_EQ(m.path, "/v1/ai/jobs");
  EXPECT_EQ(m.query, "limit=5");
  ASSERT_TRUE(SplitTargetUri("http://h", &m).ok());
  EXPECT_EQ(m.path, "");
  EXPECT_EQ(m.query, "");
  for (const char* bad : {"/v1/x", "ftp://h/x", "https:///x", "https://u@h/x", "https://h/x#f", "https://h/x y",
                          "https://h/x\r\n", "htt://h/"}) {
    EXPECT_FALSE(SplitTargetUri(bad, &m).ok()) << bad;
  }
}

}  // namespace
}  // namespace keyward::core::httpsig

// http_signature.h: HTTP Message Signatures (RFC 9421) with hmac-sha256, and
// Content-Digest (RFC 9530) with sha-256, for requests — the parts a signer
// (keyward::Client, keyward worker, `keyward sign`) and the verifier share.
//
// The secret: HKDF-SHA256 of the API key itself (salt empty, info
// kSigningSecretInfo, 32 bytes), so a client needs nothing but its key and
// the key's id (the signature's `keyid`), and the server can derive the same
// secret whenever it sees the key's plaintext.
//
// What keyward accepts (ReadSignature): one signature whose `keyid` is a
// keyward key id; `alg`, when given, "hmac-sha256"; parameters `created`
// (integer) and `nonce` (string) present; covered components that include
// "@method" and either "@target-uri" or all of "@authority", "@path" and
// "@query", and "content-digest" when the request has a body. Covered
// header fields and the derived components @method, @target-uri,
// @authority, @scheme, @request-target, @path and @query are supported,
// without component parameters. All pure and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keyward/status.h"

namespace keyward::core {
class Sealer;
}

namespace keyward::core::httpsig {

inline constexpr std::string_view kAlgorithm = "hmac-sha256";
inline constexpr std::string_view kSigningSecretInfo = "keyward request signing v1";
inline constexpr std::size_t kMaxNonceLength = 128;

using Secret = std::array<unsigned char, 32>;

// The signing secret of an API key.
Secret DeriveSigningSecret(std::string_view api_key);
inline std::string_view SecretBytes(const Secret& s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}
// The signing secret of `api_key`, sealed under `sealer` for key `key_id`
// (its associated data) as keyward stores it; the clear secret is wiped.
StatusOr<std::string> SealSigningSecret(const Sealer& sealer, std::string_view api_key, std::string_view key_id);

// Every field line of header `name` (lower-case) in order, each trimmed,
// joined with ", " (RFC 9110 §5.3); nullopt when there is none.
std::optional<std::string> JoinedField(const std::vector<std::pair<std::string, std::string>>& headers,
                                       std::string_view name);

// The request a signature covers. Header names lower-case.
struct Message {
  std::string_view method;     // "POST"
  std::string_view scheme;     // "http" or "https"
  std::string_view authority;  // as in Host: host[:port]
  std::string_view path;       // as sent, not decoded; "" means "/"
  std::string_view query;      // as sent after '?', not decoded; "" if none
  const std::vector<std::pair<std::string, std::string>>* headers = nullptr;
};

// "sha-256=:<base64 of SHA-256(body)>:", a Content-Digest field value.
std::string ContentDigest(std::string_view body);
// True if `field` (a Content-Digest value) has a sha-256 member equal to the
// body's SHA-256. kInvalidArgument if the field does not parse or has no
// sha-256 member (other algorithms are ignored, not trusted).
StatusOr<bool> ContentDigestMatches(std::string_view field, std::string_view body);

// The value of one covered component of `msg`; kInvalidArgument naming it
// when it cannot be had (a header the request lacks, an unsupported one).
StatusOr<std::string> ComponentValue(const Message& msg, std::string_view name);

// The signature base (RFC 9421 §2.5) for the components and parameters of
// `signature_params` (an Inner List as in Signature-Input), and the
// serialized parameters line it ends with.
StatusOr<std::string> SignatureBase(const Message& msg, std::string_view signature_params);

// One signature as keyward reads it from a request.
struct ReceivedSignature {
  std::string label;
  std::string key_id;
  std::int64_t created = 0;                 // seconds since the epoch
  std::optional<std::int64_t> expires;      // seconds since the epoch
  std::string nonce;
  std::string signature;                    // the HMAC, 32 bytes
  std::string base;                         // the signature base it covers
  bool covers_content_digest = false;
};

// Whether a request carries a signature at all (either header present).
bool HasSignatureHeaders(const std::vector<std::pair<std::string, std::string>>& headers);

// Finds and checks keyward's signature in `msg`'s Signature-Input and
// Signature fields (every field line of each joined, as RFC 8941 says) and
// builds its base. `has_body`: the request carries content, so
// content-digest must be covered. kInvalidArgument with a sentence saying
// what is wrong; the HMAC itself is not checked here (Verify()).
StatusOr<ReceivedSignature> ReadSignature(const Message& msg, bool has_body);

// True if `sig` is the HMAC-SHA256 of its base under `secret` (constant time).
bool Verify(const ReceivedSignature& sig, std::string_view secret);

// What a signer adds to a request.
struct SignedFields {
  std::string signature_input;  // Signature-Input field value
  std::string signature;        // Signature field value
  std::string content_digest;   // Content-Digest value; empty when no body
};

struct SignOptions {
  std::string_view key_id;
  std::int64_t created = 0;  // seconds since the epoch
  std::string_view nonce;    // empty: 16 random bytes, base64url
  std::string_view label = "sig";
  // Covered components; empty: "@method" "@target-uri", plus
  // "content-digest" when there is a body.
  std::vector<std::string> components;
};

// Signs `msg` (whose body is `body`, possibly empty) with the secret of
// `api_key`. When there is a body, `msg.headers` need not hold the
// Content-Digest: it is computed and covered. kInvalidArgument for a
// component the message lacks; kInternal if the CSPRNG fails.
StatusOr<SignedFields> Sign(const Message& msg, std::string_view body, std::string_view api_key,
                            const SignOptions& options);

// Splits an absolute http(s) URI ("https://host:8443/v1/x?y=1") into a
// Message's scheme, authority, path and query (views into `uri`).
// kInvalidArgument for anything else (no scheme, a fragment, a CR or LF).
Status SplitTargetUri(std::string_view uri, Message* msg);

}  // namespace keyward::core::httpsig

// content_digest.h: Content-Digest (RFC 9530, sha-256) for applications
// behind a front that asks keyward about signed requests. nginx
// auth_request sends keyward no body, so keyward checks the signature over
// the Content-Digest header and the application checks that the body it
// received matches that header:
//
//   if (!keyward::BodyMatchesContentDigest(req.header("Content-Digest"), req.body)) reject(401);
//
// Thread-safe and pure.
#pragma once

#include <string>
#include <string_view>

namespace keyward {

// "sha-256=:<base64 of SHA-256(body)>:".
std::string ContentDigestOf(std::string_view body);

// True if `field` (a Content-Digest value) parses and its sha-256 member
// equals the body's SHA-256. False for a field without a sha-256 member
// (other algorithms are not trusted) or one that does not parse.
bool BodyMatchesContentDigest(std::string_view field, std::string_view body);

}  // namespace keyward

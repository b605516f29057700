// utf8.h: strict UTF-8 validation (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
#pragma once

#include <string>
#include <string_view>

namespace keyward::core {

bool IsValidUtf8(std::string_view s);

// Appends `s` to *out as a JSON string, quotes included: '"', '\\' and
// control characters escaped; if `s` is not valid UTF-8, each byte above
// 0x7F becomes U+FFFD, so the line stays valid JSON whatever came in.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace keyward::core

// base64.h: Base64 (RFC 4648 §4) and its URL-safe form without padding (§5),
// strict in what they decode.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace keyward::core {

std::string Base64Encode(std::string_view bytes);
std::string Base64UrlEncode(std::string_view bytes);  // no '=' padding

// nullopt on any character outside the alphabet, wrong padding or length,
// or non-zero bits left over in the last character.
std::optional<std::string> Base64Decode(std::string_view text);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace keyward::core

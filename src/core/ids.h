// ids.h: opaque random identifiers such as "usr_3kTq…" and "key_9ZbW…".
#pragma once

#include <string>
#include <string_view>

#include "keyward/status.h"

namespace keyward::core {

inline constexpr std::size_t kIdRandomChars = 20;  // ~119 bits

// "<prefix>_" + kIdRandomChars base62 characters from the CSPRNG.
StatusOr<std::string> NewId(std::string_view prefix);

// True if `id` is "<prefix>_" followed by kIdRandomChars base62 characters.
// Lets callers reject hostile ids ("../", quotes, NUL) before any lookup.
bool IsValidId(std::string_view id, std::string_view prefix);

}  // namespace keyward::core

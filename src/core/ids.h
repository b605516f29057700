// ids.h: opaque random identifiers such as "usr_3kTq…" and "key_9ZbW…".
// Rows written at a high rate (jobs, queue entries) get time-ordered ids of
// the same shape, so that a store's primary-key index grows at one end
// instead of at random pages.
#pragma once

#include <string>
#include <string_view>

#include "keyward/clock.h"
#include "keyward/status.h"

namespace keyward::core {

inline constexpr std::size_t kIdRandomChars = 20;  // ~119 bits

// "<prefix>_" + kIdRandomChars base62 characters from the CSPRNG.
StatusOr<std::string> NewId(std::string_view prefix);

// The same shape, ordered by creation time: the first kIdTimeChars
// characters are `now` (milliseconds, clamped to 0…62^8-1) in base62, whose
// alphabet is in byte order, so ids sort bytewise by their millisecond; the
// other kIdRandomChars - kIdTimeChars (~71 bits) come from the CSPRNG. Such
// an id tells its creation time to whoever sees it (as the row's created_at
// does) and is still unguessable.
inline constexpr std::size_t kIdTimeChars = 8;
StatusOr<std::string> NewTimeOrderedId(std::string_view prefix, UnixMillis now);

// True if `id` is "<prefix>_" followed by kIdRandomChars base62 characters.
// Lets callers reject hostile ids ("../", quotes, NUL) before any lookup.
bool IsValidId(std::string_view id, std::string_view prefix);

}  // namespace keyward::core

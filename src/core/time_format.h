// time_format.h: RFC 3339 timestamps and human durations ("30d", "12h", "90s").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "keyward/clock.h"

namespace keyward::core {

// "2026-11-28T13:30:39Z", with ".123" milliseconds when not whole seconds.
std::string FormatRfc3339(UnixMillis t);

// Parses "YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)" (a space may stand for 'T',
// 't'/'z' accepted). nullopt on anything else, including impossible dates.
std::optional<UnixMillis> ParseRfc3339(std::string_view s);

inline constexpr std::int64_t kMaxDurationMs = 100LL * 366 * 86'400'000;

// The one duration syntax of keyward (CLI flags, settings, JSON fields named
// ttl/grace/lease): "0", or one or more <digits><unit> with unit ms, s, m, h,
// d or w — "500ms", "0s", "90s", "15m", "1h30m", "24h", "30d". Returns
// milliseconds; nullopt if malformed or longer than `max_ms`. Zero is a valid
// duration; callers that need a positive one say so.
std::optional<std::int64_t> ParseDuration(std::string_view s, std::int64_t max_ms = kMaxDurationMs);

// The shortest exact form of `ms` in the syntax above: "0", "500ms", "90s",
// "15m", "24h", "30d", "1h30m".
std::string FormatDuration(std::int64_t ms);

}  // namespace keyward::core

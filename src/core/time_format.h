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

// Parses "<n><unit>" with unit s, m, h, d or w (e.g. "30d", "90s"), or a
// sum like "1h30m". Returns milliseconds; nullopt if malformed, zero or
// longer than 100 years.
std::optional<std::int64_t> ParseDuration(std::string_view s);

}  // namespace keyward::core

// time_format.cc: RFC 3339 and duration parsing/formatting on UTC civil time.
#include "core/time_format.h"

#include <chrono>
#include <cstdio>

namespace keyward::core {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

bool ReadDigits(std::string_view s, std::size_t pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::string FormatRfc3339(UnixMillis t) {
  std::int64_t ms = t % 1000;
  std::int64_t secs = t / 1000;
  if (ms < 0) { ms += 1000; secs -= 1; }
  std::int64_t day_count = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) { sod += 86400; day_count -= 1; }
  year_month_day ymd{sys_days{days{day_count}}};
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d",
                        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                        static_cast<unsigned>(ymd.day()), static_cast<int>(sod / 3600),
                        static_cast<int>(sod / 60 % 60), static_cast<int>(sod % 60));
  std::string out(buf, static_cast<std::size_t>(n));
  if (ms != 0) {
    std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(ms));
    out += buf;
  }
  out += 'Z';
  return out;
}

std::optional<UnixMillis> ParseRfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (!ReadDigits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !ReadDigits(s, 5, 2, &mo) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, &d) ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !ReadDigits(s, 11, 2, &h) ||
      s[13] != ':' || !ReadDigits(s, 14, 2, &mi) || s[16] != ':' || !ReadDigits(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                     std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  std::size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) millis = millis * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return std::nullopt;
    for (std::size_t i = digits; i < 3; ++i) millis *= 10;
  }
  std::int64_t offset_secs = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!ReadDigits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !ReadDigits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_secs = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  std::int64_t day_count = sys_days{ymd}.time_since_epoch().count();
  std::int64_t secs = day_count * 86400 + h * 3600 + mi * 60 + (sec == 60 ? 59 : sec) - offset_secs;
  return secs * 1000 + millis;
}

std::optional<std::int64_t> ParseDuration(std::string_view s, std::int64_t max_ms) {
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  std::int64_t total = 0;
  std::size_t pos = 0;
  while (pos < s.size()) {
    std::int64_t n = 0;
    std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      n = n * 10 + (s[pos] - '0');
      if (n > kMaxDurationMs) return std::nullopt;
      ++pos;
    }
    if (pos == start || pos == s.size()) return std::nullopt;
    std::int64_t unit;
    if (s.substr(pos, 2) == "ms") {
      unit = 1;
      pos += 2;
    } else {
      switch (s[pos]) {
        case 's': unit = 1000; break;
        case 'm': unit = 60 * 1000; break;
        case 'h': unit = 3600 * 1000; break;
        case 'd': unit = 86400 * 1000; break;
        case 'w': unit = 7 * 86400 * 1000LL; break;
        default: return std::nullopt;
      }
      ++pos;
    }
    if (n > kMaxDurationMs / unit) return std::nullopt;
    total += n * unit;
    if (total > max_ms || total > kMaxDurationMs) return std::nullopt;
  }
  return total;
}

std::string FormatDuration(std::int64_t ms) {
  if (ms == 0) return "0";
  struct Unit {
    std::int64_t ms;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}, {1, "ms"}};
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  for (const Unit& u : kUnits) {
    if (ms >= u.ms) {
      out += std::to_string(ms / u.ms) + u.name;
      ms %= u.ms;
    }
  }
  return out;
}

}  // namespace keyward::core

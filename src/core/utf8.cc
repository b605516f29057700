// utf8.cc: a byte-at-a-time UTF-8 validator.
#include "core/utf8.h"

namespace keyward::core {

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;        // no overlong
      if (c == 0xED) hi = 0x9F;        // no surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;        // no overlong
      if (c == 0xF4) hi = 0x8F;        // nothing above U+10FFFF
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;  // truncated sequence
    unsigned c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return false;
    for (std::size_t k = 2; k <= n; ++k) {
      unsigned ck = static_cast<unsigned char>(s[i + k]);
      if (ck < 0x80 || ck > 0xBF) return false;
    }
    i += n + 1;
  }
  return true;
}

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Printable ASCII other than '"' and '\\' is copied as it is.
  auto plain = [](unsigned char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; };
  std::size_t i = 0;
  while (i < s.size() && plain(static_cast<unsigned char>(s[i]))) ++i;
  // The prefix is ASCII, so the rest decides whether the whole is UTF-8.
  const bool valid = IsValidUtf8(s.substr(i));
  out->reserve(out->size() + s.size() + 2);
  *out += '"';
  std::size_t kept = 0;  // s[kept, i) is kept as it is, appended in one go
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (plain(c) || (c >= 0x80 && valid)) continue;
    out->append(s.data() + kept, i - kept);
    kept = i + 1;
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      *out += "\\u00";
      *out += kHex[c >> 4];
      *out += kHex[c & 15];
    } else {
      *out += "\\ufffd";
    }
  }
  out->append(s.data() + kept, s.size() - kept);
  *out += '"';
}

}  // namespace keyward::core

// Tests for strict UTF-8 validation (src/core/utf8.h).
#include "core/utf8.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace keyward::core {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  for (const char* ok : {"", "plain", "Ünïcödé", "日本語", "\xf0\x9f\x94\x91", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_TRUE(IsValidUtf8(ok)) << ok;
  }
}

TEST(Utf8, RefusesWhatRfc3629Forbids) {
  for (const char* bad : {"\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                          "\xc3", "\xe6\x97", "\x80", "a\xc3(b", "\xf8\x88\x80\x80\x80"}) {
    EXPECT_FALSE(IsValidUtf8(bad)) << ::testing::PrintToString(std::string(bad));
  }
}

TEST(AppendJsonString, EscapesQuotesBackslashesAndControls) {
  std::string out = "x=";
  AppendJsonString(&out, std::string_view("a\"b\\c\n\x01\x7f", 8));
  EXPECT_EQ(out, "x=\"a\\\"b\\\\c\\u000a\\u0001\\u007f\"");
}

TEST(AppendJsonString, KeepsValidUtf8AndReplacesInvalidBytes) {
  std::string ok;
  AppendJsonString(&ok, "caf\xc3\xa9");
  EXPECT_EQ(ok, "\"caf\xc3\xa9\"");
  std::string bad;
  AppendJsonString(&bad, "a\xff\xc3");
  EXPECT_EQ(bad, "\"a\\ufffd\\ufffd\"");
}

// The escaping rules byte by byte, as the header states them.
std::string ReferenceJsonString(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool valid = IsValidUtf8(s);
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else if (c >= 0x80 && !valid) {
      out += "\\ufffd";
    } else {
      out += ch;
    }
  }
  return out + '"';
}

TEST(AppendJsonString, EscapesWhereverTheByteSits) {
  // Escapes and non-ASCII text after a plain prefix, between plain runs and
  // at the end: the copied runs must stop exactly at each of them.
  for (std::string_view s : {std::string_view("/v1/authz"), std::string_view("plain\""),
                             std::string_view("\"lead"), std::string_view("a\nb\tc\"d\\e"),
                             std::string_view("caf\xc3\xa9 au lait"), std::string_view("caf\xc3"),
                             std::string_view("ok\xff then \xc3\xa9"), std::string_view("x\0y", 3),
                             std::string_view("tail\x7f")}) {
    std::string out = "k=";
    AppendJsonString(&out, s);
    EXPECT_EQ(out, "k=" + ReferenceJsonString(s)) << ::testing::PrintToString(std::string(s));
  }
}

TEST(AppendJsonString, MatchesTheByteRulesOnRandomInput) {
  std::mt19937 rng(20261208);
  // Mostly printable ASCII with the bytes that matter mixed in, so that both
  // valid and invalid UTF-8 strings come up.
  const std::string alphabet = std::string("abcXYZ09/-_.~ ") + "\"\\\n\x01\x1f\x7f" +
                               "\xc3\xa9\xe6\x97\xa5\xf0\x9f\x94\x91\xff\x80";
  for (int n = 0; n < 20000; ++n) {
    std::string s(rng() % 24, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    std::string out;
    AppendJsonString(&out, s);
    ASSERT_EQ(out, ReferenceJsonString(s)) << ::testing::PrintToString(s);
  }
}

}  // namespace
}  // namespace keyward::core

// Tests for strict UTF-8 validation (src/core/utf8.h).
#include "core/utf8.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace keyward::core

// Tests for RFC 3339 and duration parsing (src/core/time_format.h).
#include "core/time_format.h"

#include <gtest/gtest.h>

namespace keyward::core {
namespace {

TEST(TimeFormat, FormatsWholeSecondsAndMillis) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(1'800'000'000'000), "2027-01-15T08:00:00Z");
  EXPECT_EQ(FormatRfc3339(1'800'000'000'123), "2027-01-15T08:00:00.123Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999Z");
}

TEST(TimeFormat, ParsesWhatItFormats) {
  for (UnixMillis t : {0LL, 1'800'000'000'000LL, 1'800'000'000'123LL, 951'782'400'000LL}) {
    EXPECT_EQ(ParseRfc3339(FormatRfc3339(t)), t);
  }
}

TEST(TimeFormat, ParsesOffsetsAndFractions) {
  EXPECT_EQ(ParseRfc3339("2027-01-15T09:00:00+01:00"), 1'800'000'000'000);
  EXPECT_EQ(ParseRfc3339("2027-01-15T03:30:00-04:30"), 1'800'000'000'000);
  EXPECT_EQ(ParseRfc3339("2027-01-15t08:00:00.5z"), 1'800'000'000'500);
  EXPECT_EQ(ParseRfc3339("2027-01-15 08:00:00.123456Z"), 1'800'000'000'123);
}

TEST(TimeFormat, RejectsMalformedAndImpossibleDates) {
  for (const char* bad : {"", "2027-01-15", "2027-01-15T08:00:00", "2027-02-30T00:00:00Z",
                          "2027-13-01T00:00:00Z", "2027-01-15T24:00:00Z", "2027-01-15T08:00:00.Z",
                          "2027-01-15T08:00:00+0100", "2027-01-15T08:00:00Zjunk", "yesterday"}) {
    EXPECT_FALSE(ParseRfc3339(bad).has_value()) << bad;
  }
}

TEST(Duration, ParsesUnitsAndSums) {
  EXPECT_EQ(ParseDuration("90s"), 90'000);
  EXPECT_EQ(ParseDuration("15m"), 900'000);
  EXPECT_EQ(ParseDuration("12h"), 43'200'000);
  EXPECT_EQ(ParseDuration("30d"), 2'592'000'000);
  EXPECT_EQ(ParseDuration("2w"), 1'209'600'000);
  EXPECT_EQ(ParseDuration("1h30m"), 5'400'000);
  EXPECT_EQ(ParseDuration("500ms"), 500);
  EXPECT_EQ(ParseDuration("1s250ms"), 1250);
}

// Issue 8: one parser everywhere; "0s" was refused while "0" worked.
TEST(Duration, ZeroIsADurationInBothSpellings) {
  EXPECT_EQ(ParseDuration("0"), 0);
  EXPECT_EQ(ParseDuration("0s"), 0);
  EXPECT_EQ(ParseDuration("0d"), 0);
}

TEST(Duration, HonoursTheCallersCap) {
  EXPECT_EQ(ParseDuration("366d", 366LL * 86'400'000), 366LL * 86'400'000);
  EXPECT_FALSE(ParseDuration("367d", 366LL * 86'400'000).has_value());
  EXPECT_FALSE(ParseDuration("1ms", 0).has_value());
}

TEST(Duration, FormatsTheShortestExactForm) {
  EXPECT_EQ(FormatDuration(0), "0");
  EXPECT_EQ(FormatDuration(500), "500ms");
  EXPECT_EQ(FormatDuration(90'000), "1m30s");
  EXPECT_EQ(FormatDuration(86'400'000), "1d");
  EXPECT_EQ(FormatDuration(5'400'000), "1h30m");
  for (std::int64_t ms : {1LL, 999LL, 61'001LL, 2'592'000'000LL}) {
    EXPECT_EQ(ParseDuration(FormatDuration(ms)), ms);
  }
}

TEST(Duration, RejectsBadInput) {
  for (const char* bad : {"", "30", "d", "3x", "-5s", "1.5h", "s30", "99999999999999999999d",
                          "40000d", "00", "5 s", "5S", "ms", "5mss", "1m1"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace keyward::core

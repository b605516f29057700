// Tests for random prefixed ids (src/core/ids.h).
#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace keyward::core {
namespace {

TEST(Ids, NewIdsHaveThePrefixAndAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    StatusOr<std::string> id = NewId("usr");
    ASSERT_TRUE(id.ok());
    EXPECT_TRUE(IsValidId(*id, "usr")) << *id;
    EXPECT_TRUE(seen.insert(*id).second);
  }
}

TEST(Ids, TimeOrderedIdsSortByTheirMillisecondAndKeepTheShape) {
  std::string previous;
  std::set<std::string> seen;
  // Across digit carries (61 -> 62, 3843 -> 3844 ms) and a wide range.
  for (UnixMillis t : {UnixMillis{0}, UnixMillis{61}, UnixMillis{62}, UnixMillis{3843}, UnixMillis{3844},
                       UnixMillis{1796000000000}, UnixMillis{1796000000001}, UnixMillis{4102444800000}}) {
    for (int i = 0; i < 50; ++i) {
      StatusOr<std::string> id = NewTimeOrderedId("job", t);
      ASSERT_TRUE(id.ok());
      EXPECT_TRUE(IsValidId(*id, "job")) << *id;
      EXPECT_TRUE(seen.insert(*id).second);
      EXPECT_EQ(id->substr(0, 4 + kIdTimeChars),
                (*NewTimeOrderedId("job", t)).substr(0, 4 + kIdTimeChars));
    }
    const std::string first = (*NewTimeOrderedId("job", t)).substr(0, 4 + kIdTimeChars);
    EXPECT_LT(previous, first) << t;
    previous = first;
  }
  // Out-of-range clocks clamp instead of wrapping.
  EXPECT_EQ((*NewTimeOrderedId("job", -5)).substr(4, kIdTimeChars), "00000000");
  EXPECT_EQ((*NewTimeOrderedId("job", INT64_MAX)).substr(4, kIdTimeChars), "zzzzzzzz");
}

TEST(Ids, HostileIdsAreInvalid) {
  for (const char* bad : {"", "usr_", "key_AAAAAAAAAAAAAAAAAAAA", "usr_../../etc/passwdAAAAA",
                          "usr_AAAAAAAAAAAAAAAAAAA'", "usr_AAAAAAAAAAAAAAAAAAAAA",
                          "usr_AAAAAAAAAA%00AAAAAAA"}) {
    EXPECT_FALSE(IsValidId(bad, "usr")) << bad;
  }
  EXPECT_TRUE(IsValidId("usr_AAAAAAAAAAAAAAAAAAAA", "usr"));
}

}  // namespace
}  // namespace keyward::core

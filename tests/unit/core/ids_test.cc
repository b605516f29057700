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

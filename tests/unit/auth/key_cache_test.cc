// Tests for the key caches (src/auth/key_cache.h): TTLs, bounds,
// invalidation and the epoch that keeps stale reads out.
#include "auth/key_cache.h"

#include <gtest/gtest.h>

namespace keyward::auth {
namespace {

CachedKey Entry(const std::string& user, const std::string& key) {
  KeyWithUser r;
  r.user.id = user;
  r.key.id = key;
  r.key.user_id = user;
  r.key.hash = HashKey(key);
  return MakeCachedKey(std::move(r));
}

TEST(KeyCache, EntriesLiveForTheirTtl) {
  KeyCache c({.capacity = 100, .ttl_ms = 1000, .negative_capacity = 100, .negative_ttl_ms = 50});
  KeyHash h = HashKey("a");
  c.Put(h, Entry("usr_1", "a"), 0, c.epoch());
  CachedKey out;
  EXPECT_TRUE(c.Find(h, 999, &out));
  EXPECT_EQ(out.record->key.id, "a");
  EXPECT_FALSE(c.Find(h, 1000, &out));
  KeyHash m = HashKey("missing");
  c.PutMissing(m, 0, c.epoch());
  EXPECT_TRUE(c.KnownMissing(m, 49));
  EXPECT_FALSE(c.KnownMissing(m, 50));
}

TEST(KeyCache, InvalidationDropsOnlyThatUsersRecords) {
  KeyCache c({});
  c.Put(HashKey("a"), Entry("usr_1", "a"), 0, c.epoch());
  c.Put(HashKey("b"), Entry("usr_2", "b"), 0, c.epoch());
  c.InvalidateUser("usr_1");
  CachedKey out;
  EXPECT_FALSE(c.Find(HashKey("a"), 0, &out));
  EXPECT_TRUE(c.Find(HashKey("b"), 0, &out));
  c.Clear();
  EXPECT_EQ(c.size(), 0u);
}

TEST(KeyCache, ARecordReadBeforeAnInvalidationIsNotCached) {
  KeyCache c({});
  std::uint64_t seen = c.epoch();  // a lookup starts reading the store …
  c.InvalidateUser("usr_1");       // … a change commits and invalidates …
  c.Put(HashKey("a"), Entry("usr_1", "a"), 0, seen);  // … the stale read arrives
  CachedKey out;
  EXPECT_FALSE(c.Find(HashKey("a"), 0, &out));
  c.PutMissing(HashKey("x"), 0, seen);
  EXPECT_FALSE(c.KnownMissing(HashKey("x"), 0));
  c.Put(HashKey("a"), Entry("usr_1", "a"), 0, c.epoch());
  EXPECT_TRUE(c.Find(HashKey("a"), 0, &out));
}

TEST(KeyCache, StaysWithinItsCapacity) {
  KeyCache c({.capacity = 64, .ttl_ms = 1'000'000, .negative_capacity = 64, .negative_ttl_ms = 1'000'000});
  for (int i = 0; i < 10'000; ++i) {
    std::string k = "k" + std::to_string(i);
    c.Put(HashKey(k), Entry("usr_1", k), 0, c.epoch());
  }
  EXPECT_LE(c.size(), 64u);
}

TEST(KeyCache, ZeroCapacityDisablesCaching) {
  KeyCache c({.capacity = 0, .ttl_ms = 1000, .negative_capacity = 0, .negative_ttl_ms = 1000});
  c.Put(HashKey("a"), Entry("usr_1", "a"), 0, c.epoch());
  c.PutMissing(HashKey("b"), 0, c.epoch());
  CachedKey out;
  EXPECT_FALSE(c.Find(HashKey("a"), 0, &out));
  EXPECT_FALSE(c.KnownMissing(HashKey("b"), 0));
}

}  // namespace
}  // namespace keyward::auth

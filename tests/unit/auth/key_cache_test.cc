// Tests for the key caches (src/auth/key_cache.h): TTLs, bounds,
// invalidation and the epoch that keeps stale reads out.
#include "auth/key_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

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

// `n` keys whose hashes fall in one shard of the cache (16 shards by byte 8).
std::vector<std::string> KeysOfOneShard(std::size_t n) {
  std::vector<std::string> same;
  const std::uint8_t shard = HashKey("k0")[8] % 16;
  for (int i = 0; same.size() < n; ++i) {
    std::string k = "k" + std::to_string(i);
    if (HashKey(k)[8] % 16 == shard) same.push_back(k);
  }
  return same;
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

// A record in the last quarter of its TTL is handed out for a re-read once;
// the record put back starts a new TTL and may be claimed again.
TEST(KeyCache, ARecordNearItsTtlIsClaimedForARefreshOnce) {
  KeyCache c({.capacity = 100, .ttl_ms = 1000, .negative_capacity = 100, .negative_ttl_ms = 50});
  KeyHash h = HashKey("a");
  c.Put(h, Entry("usr_1", "a"), 0, c.epoch());
  CachedKey out;
  bool refresh = true;
  EXPECT_TRUE(c.Find(h, 749, &out, &refresh));
  EXPECT_FALSE(refresh);  // three quarters not yet gone
  EXPECT_TRUE(c.Find(h, 750, &out));  // not asked: claims nothing
  EXPECT_TRUE(c.Find(h, 750, &out, &refresh));
  EXPECT_TRUE(refresh);
  EXPECT_TRUE(c.Find(h, 800, &out, &refresh));
  EXPECT_FALSE(refresh);  // claimed already
  EXPECT_FALSE(c.Find(h, 1000, &out, &refresh));
  EXPECT_FALSE(refresh);
  c.Put(h, Entry("usr_1", "a"), 800, c.epoch());  // the re-read
  EXPECT_TRUE(c.Find(h, 1000, &out, &refresh));
  EXPECT_FALSE(refresh);
  EXPECT_TRUE(c.Find(h, 1550, &out, &refresh));
  EXPECT_TRUE(refresh);
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

TEST(KeyCache, ABatchOfUsersIsOneInvalidation) {
  // 300 users with three keys each, spread over every shard.
  KeyCache c({});
  auto key = [](int u, int k) { return "k" + std::to_string(u) + "-" + std::to_string(k); };
  auto user = [](int u) { return "usr_" + std::to_string(u); };
  for (int u = 0; u < 300; ++u) {
    for (int k = 0; k < 3; ++k) c.Put(HashKey(key(u, k)), Entry(user(u), key(u, k)), 0, c.epoch());
  }
  // A key that changed hands is dropped with its new owner.
  c.Put(HashKey(key(0, 0)), Entry(user(299), key(0, 0)), 0, c.epoch());
  std::vector<std::string> batch;
  for (int u = 100; u < 300; ++u) batch.push_back(user(u));
  std::sort(batch.begin(), batch.end());
  const std::uint64_t before = c.epoch();
  c.InvalidateUsers(batch);
  EXPECT_EQ(c.epoch(), before + 1);
  CachedKey out;
  EXPECT_FALSE(c.Find(HashKey(key(0, 0)), 0, &out));
  for (int u = 0; u < 300; ++u) {
    for (int k = (u == 0 ? 1 : 0); k < 3; ++k) {
      EXPECT_EQ(c.Find(HashKey(key(u, k)), 0, &out), u < 100) << key(u, k);
    }
  }
  EXPECT_EQ(c.size(), 100u * 3 - 1);
  // Re-cached after the invalidation, and dropped again by the next one.
  c.Put(HashKey(key(150, 0)), Entry(user(150), key(150, 0)), 0, c.epoch());
  c.InvalidateUser(user(150));
  EXPECT_FALSE(c.Find(HashKey(key(150, 0)), 0, &out));
  EXPECT_TRUE(c.Find(HashKey(key(50, 0)), 0, &out));
}

TEST(KeyCache, InvalidatingSlotsDropsThoseRecordsAndTurnsAwayEarlierReads) {
  KeyCache c({});
  c.Put(HashKey("a"), Entry("usr_1", "a"), 0, c.epoch());
  c.Put(HashKey("b"), Entry("usr_1", "b"), 0, c.epoch());
  c.PutMissing(HashKey("gone"), 0, c.epoch());
  const std::uint64_t read_before = c.epoch();
  const KeyHash slots[] = {HashKey("a"), HashKey("gone"), HashKey("never cached")};
  c.Invalidate(slots);
  EXPECT_EQ(c.epoch(), read_before + 1);
  CachedKey out;
  EXPECT_FALSE(c.Find(HashKey("a"), 0, &out));
  EXPECT_TRUE(c.Find(HashKey("b"), 0, &out));  // the same user's other record stays
  EXPECT_TRUE(c.KnownMissing(HashKey("gone"), 0));
  c.Put(HashKey("a"), Entry("usr_1", "a"), 0, read_before);  // read before: stale
  EXPECT_FALSE(c.Find(HashKey("a"), 0, &out));
  c.Put(HashKey("a"), Entry("usr_1", "a"), 0, c.epoch());
  EXPECT_TRUE(c.Find(HashKey("a"), 0, &out));
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

// A full cache makes room by dropping a few records, not a whole shard: its
// size stays between seven eighths of the capacity and the capacity.
TEST(KeyCache, AFullCacheDropsAFewRecordsNotAShard) {
  KeyCache c({.capacity = 1600, .ttl_ms = 1'000'000, .negative_capacity = 64, .negative_ttl_ms = 1'000'000});
  std::size_t least = 1600;
  for (int i = 0; i < 20'000; ++i) {
    std::string k = "k" + std::to_string(i);
    c.Put(HashKey(k), Entry("usr_1", k), 0, c.epoch());
    if (i >= 4'000) least = std::min(least, c.size());
  }
  EXPECT_GE(least, 1600u * 7 / 8);
  EXPECT_LE(c.size(), 1600u);
}

// Records past their TTL are the first to go: a full shard keeps its fresh
// records when expired ones make room.
TEST(KeyCache, AFullShardDropsExpiredRecordsFirst) {
  // 16 records a shard.
  KeyCache c({.capacity = 16 * 16, .ttl_ms = 1000, .negative_capacity = 64, .negative_ttl_ms = 1000});
  std::vector<std::string> same = KeysOfOneShard(17);
  for (int i = 0; i < 8; ++i) c.Put(HashKey(same[i]), Entry("usr_1", same[i]), 0, c.epoch());
  for (int i = 8; i < 16; ++i) c.Put(HashKey(same[i]), Entry("usr_1", same[i]), 1500, c.epoch());
  c.Put(HashKey(same[16]), Entry("usr_1", same[16]), 1500, c.epoch());
  CachedKey out;
  for (int i = 8; i < 17; ++i) EXPECT_TRUE(c.Find(HashKey(same[i]), 1500, &out)) << same[i];
  EXPECT_EQ(c.size(), 9u);
}

// Otherwise the records read longest ago make room (the nearest to their
// TTL), an eighth of the shard at a time.
TEST(KeyCache, AFullShardDropsTheRecordsReadLongestAgo) {
  KeyCache c({.capacity = 16 * 16, .ttl_ms = 1'000'000, .negative_capacity = 64, .negative_ttl_ms = 1000});
  std::vector<std::string> same = KeysOfOneShard(17);
  for (int i = 0; i < 16; ++i) c.Put(HashKey(same[i]), Entry("usr_1", same[i]), 100 * i, c.epoch());
  c.Put(HashKey(same[16]), Entry("usr_1", same[16]), 1600, c.epoch());
  CachedKey out;
  EXPECT_FALSE(c.Find(HashKey(same[0]), 1600, &out));
  EXPECT_FALSE(c.Find(HashKey(same[1]), 1600, &out));
  for (int i = 2; i < 17; ++i) EXPECT_TRUE(c.Find(HashKey(same[i]), 1600, &out)) << same[i];
  EXPECT_EQ(c.size(), 15u);
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

// change_feed.h: the feed of changes that can make a cached verification
// wrong — a key revoked, rotated, re-scoped or deleted, a user disabled,
// re-planned or deleted — written by the database itself in the same
// transaction as the change, whoever makes it (this server, the CLI, another
// process or node, even hand-written SQL), so that every server can drop
// what it has cached about that user within moments.
//
// Each change has a sequence number; a reader remembers the last it has seen
// and asks for the ones after it. Old entries are pruned: a reader that asks
// for entries already pruned is told so (`gap`) and must drop its whole cache.
// Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "keyward/store.h"

namespace keyward {

struct Change {
  std::int64_t seq = 0;
  std::string user_id;  // whose cached records are stale
};

struct ChangeBatch {
  std::vector<Change> changes;  // oldest first
  // Entries after the reader's position were pruned before it read them:
  // the reader cannot know what changed and must forget everything.
  bool gap = false;
  std::int64_t last_seq = 0;  // the reader's new position
};

class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;

  // Where a new reader starts: the newest sequence number (0 if none).
  virtual StatusOr<std::int64_t> LatestChange() = 0;
  // True if anything may have been committed since the last call, by any
  // connection but the backend's own (whose changes its owner hears about
  // directly); a cheap check that costs no read of the feed.
  virtual StatusOr<bool> MaybeChanged() = 0;
  // Up to `limit` changes with seq > after, oldest first.
  virtual StatusOr<ChangeBatch> ReadChanges(std::int64_t after, int limit) = 0;
  // Deletes entries older than `before` (UnixMillis); returns how many.
  virtual StatusOr<std::int64_t> PruneChanges(UnixMillis before) = 0;
};

}  // namespace keyward

// change_follower.h: keeps a verifier's cache in step with changes made by
// any writer, by following the store's change feed.
//
// DESIGN
// A thread checks the feed every poll_ms; the check is one cheap query
// (SQLite: PRAGMA data_version on a second connection) that reads nothing
// unless another connection has committed. When something was committed it
// reads the new changes and invalidates each named user's cached records. A
// follower that finds its position pruned from the feed (it fell behind, or
// the feed was pruned while it was stopped) cannot know what changed and
// drops the whole cache. Every prune_every_ms it also prunes entries older
// than retention_ms, which bounds the feed. The cache's TTL stays as the last
// safety net, no longer the revocation delay.
//
// While the feed cannot be read (the database is down or unreachable) the
// cache cannot learn of revocations. After outage_grace_ms of failed reads
// (at least kOutageNoticeMs, so one slow read is not an outage) the
// follower drops the whole cache, and keeps it empty until a read succeeds:
// every decision then needs the store, which answers "unavailable" (503),
// never "unknown key". outage_grace_ms = 0 (the default) is fail-closed;
// larger values serve cached decisions for that long — each still bounded by
// its own cache TTL.
// Thread-safe; Stop() (or destruction) joins the thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "keyward/verifier.h"
#include "store/change_feed.h"

namespace keyward::auth {

struct ChangeFollowerOptions {
  std::int64_t poll_ms = 10;              // how often the feed is checked
  std::int64_t retention_ms = 15 * 60'000;  // feed entries are kept this long
  std::int64_t prune_every_ms = 60'000;   // how often old entries are pruned
  int batch = 1000;                       // changes read per query
  std::int64_t outage_grace_ms = 0;       // cached decisions served in an outage
};

// Failed feed reads for this long count as an outage.
inline constexpr std::int64_t kOutageNoticeMs = 100;

struct ChangeFollowerStats {
  std::atomic<std::uint64_t> changes{0};      // users invalidated
  std::atomic<std::uint64_t> full_flushes{0}; // gaps: the whole cache dropped
  std::atomic<std::uint64_t> errors{0};       // feed reads that failed (retried next poll)
  std::atomic<std::uint64_t> outages{0};      // outages that dropped the cache
};

class ChangeFollower {
 public:
  // Borrows `feed`, `verifier` and `clock`. Starts at the feed's newest entry.
  ChangeFollower(ChangeFeed& feed, Verifier& verifier, const Clock& clock,
                 ChangeFollowerOptions options = {});
  ~ChangeFollower();

  // Starts the polling thread. kUnavailable if the feed cannot be read.
  Status Start();
  void Stop();
  // One poll, on the caller's thread (tests; the thread calls it too).
  Status PollOnce();
  // What the thread does each period: PollOnce(), then the outage rule
  // above. Public for tests.
  void Tick();

  const ChangeFollowerStats& stats() const { return stats_; }

 private:
  void Loop();

  ChangeFeed& feed_;
  Verifier& verifier_;
  const Clock& clock_;
  const ChangeFollowerOptions options_;
  std::int64_t position_ = 0;  // last change seen; used by the polling thread only
  UnixMillis last_prune_ = 0;
  UnixMillis failing_since_ = 0;  // 0: the last poll succeeded
  bool dropped_ = false;          // the cache was dropped in this outage
  ChangeFollowerStats stats_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace keyward::auth

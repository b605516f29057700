// change_feed.h: the change feed (store/change_feed.h) on PostgreSQL. The
// triggers of migration 0002 number changes in commit order and NOTIFY
// keyward_changes; MaybeChanged() listens on a connection of its own, and
// also answers true once per resync period whatever it heard, so that a
// lost notification (a dropped listener, a server restart) delays a change
// by at most that period, never forever.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>

#include "store/change_feed.h"
#include "store/postgres/connection.h"

namespace keyward::store::postgres {

class PgChangeFeed final : public ChangeFeed {
 public:
  // `pool` must outlive the feed; the listener connects with `listen`.
  PgChangeFeed(Pool& pool, ConnOptions listen, std::chrono::milliseconds resync)
      : pool_(pool), listen_options_(std::move(listen)), resync_(resync) {}

  StatusOr<std::int64_t> LatestChange() override;
  StatusOr<bool> MaybeChanged() override;
  StatusOr<ChangeBatch> ReadChanges(std::int64_t after, int limit) override;
  StatusOr<std::int64_t> PruneChanges(UnixMillis before) override;

 private:
  Pool& pool_;
  const ConnOptions listen_options_;
  const std::chrono::milliseconds resync_;
  std::mutex mu_;
  std::unique_ptr<Conn> listener_;                   // guarded by mu_
  std::chrono::steady_clock::time_point last_yes_;   // guarded by mu_
};

}  // namespace keyward::store::postgres

// change_feed.cc: see change_feed.h.
#include "store/postgres/change_feed.h"

namespace keyward::store::postgres {

StatusOr<std::int64_t> PgChangeFeed::LatestChange() {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("SELECT seq FROM change_counter"));
  return r.Int(0, 0);
}

StatusOr<bool> PgChangeFeed::MaybeChanged() {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  bool heard = false;
  if (listener_ && listener_->ok()) {
    StatusOr<int> n = listener_->DrainNotifications();
    if (n.ok()) {
      heard = *n > 0;
    } else {
      listener_.reset();
    }
  }
  if (!listener_) {
    // (Re)connect; whatever was announced meanwhile went unheard, so say
    // "maybe" and let the reader look.
    StatusOr<std::unique_ptr<Conn>> c = Conn::Open(listen_options_);
    if (c.ok() && (*c)->Run("LISTEN keyward_changes").ok()) listener_ = std::move(c).value();
    heard = true;
  }
  if (heard || now - last_yes_ >= resync_) {
    last_yes_ = now;
    return true;
  }
  return false;
}

StatusOr<ChangeBatch> PgChangeFeed::ReadChanges(std::int64_t after, int limit) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  Transaction tx(*c);
  // One snapshot for the bounds and the rows.
  KW_RETURN_IF_ERROR(tx.Begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
  KW_ASSIGN_OR_RETURN(Result bounds, c->Exec(
      "SELECT (SELECT seq FROM change_counter), (SELECT min(seq) FROM changes)"));
  const std::int64_t latest = bounds.Int(0, 0);
  // Numbers are handed out without holes, so the oldest row kept tells
  // what was pruned; none kept means everything up to `latest` was.
  const std::int64_t first = bounds.IsNull(0, 1) ? latest + 1 : bounds.Int(0, 1);
  ChangeBatch out;
  if (after < first - 1) {
    out.gap = true;
    after = first - 1;
  }
  KW_ASSIGN_OR_RETURN(Result rows, c->Exec("SELECT seq, user_id FROM changes WHERE seq > $1 "
                                           "ORDER BY seq LIMIT $2",
                                           {std::to_string(after), std::to_string(limit)}));
  for (int i = 0; i < rows.rows(); ++i) out.changes.push_back(Change{rows.Int(i, 0), rows.Text(i, 1)});
  out.last_seq = out.changes.empty() ? after : out.changes.back().seq;
  KW_RETURN_IF_ERROR(tx.Commit());
  return out;
}

StatusOr<std::int64_t> PgChangeFeed::PruneChanges(UnixMillis before) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("DELETE FROM changes WHERE at < $1", {std::to_string(before)}));
  return r.affected();
}

}  // namespace keyward::store::postgres

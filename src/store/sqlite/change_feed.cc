// change_feed.cc: the change feed on SQLite — rows written by triggers
// (migration 0005), read through a second connection, and PRAGMA
// data_version to learn cheaply that another connection has committed.
// SQLite has one writer at a time, so sequence order is commit order.
#include "store/sqlite/parts.h"

namespace keyward::store::sqlite {
namespace {

// The connection the feed reads through, and the lock that guards it.
struct Watcher {
  explicit Watcher(Shared& s)
      : lock(s.has_watch ? s.watch_mu : s.mu), db(s.has_watch ? s.watch : s.db) {}
  std::unique_lock<std::mutex> lock;
  Db& db;
};

constexpr const char* kLatestSql =
    "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)";

}  // namespace

StatusOr<std::int64_t> SqliteChangeFeed::LatestChange() {
  Watcher r(shared_);
  return r.db.QueryInt(kLatestSql);
}

StatusOr<bool> SqliteChangeFeed::MaybeChanged() {
  if (!shared_.has_watch) return false;  // one connection: its owner hears of every change
  std::lock_guard lock(shared_.watch_mu);
  KW_ASSIGN_OR_RETURN(std::int64_t version, shared_.watch.QueryInt("PRAGMA data_version"));
  bool changed = version != data_version_;
  data_version_ = version;
  return changed;
}

StatusOr<ChangeBatch> SqliteChangeFeed::ReadChanges(std::int64_t after, int limit) {
  Watcher r(shared_);
  ChangeBatch out;
  out.last_seq = after;
  // One snapshot for the bounds and the rows.
  KW_RETURN_IF_ERROR(r.db.Exec("BEGIN"));
  struct EndRead {
    Db& db;
    ~EndRead() { db.Exec("COMMIT").IgnoreError(); }
  } end{r.db};
  KW_ASSIGN_OR_RETURN(std::int64_t latest, r.db.QueryInt(kLatestSql));
  KW_ASSIGN_OR_RETURN(std::int64_t first,
                      r.db.QueryInt("SELECT coalesce(min(seq), 0) FROM changes"));
  if (first == 0) first = latest + 1;  // everything pruned (or nothing yet)
  if (after < first - 1) {
    out.gap = true;
    after = first - 1;
  }
  KW_ASSIGN_OR_RETURN(Stmt s, r.db.Prepare(
      "SELECT seq, user_id FROM changes WHERE seq > ? ORDER BY seq LIMIT ?"));
  s.Bind(1, after).Bind(2, static_cast<std::int64_t>(limit));
  KW_ASSIGN_OR_RETURN(out.changes, All(s, [](const Stmt& row) { return Change{row.Int(0), row.Text(1)}; }));
  out.last_seq = out.changes.empty() ? after : out.changes.back().seq;
  return out;
}

StatusOr<std::int64_t> SqliteChangeFeed::PruneChanges(UnixMillis before) {
  std::lock_guard lock(shared_.mu);
  KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare("DELETE FROM changes WHERE at < ?"));
  s.Bind(1, before);
  KW_RETURN_IF_ERROR(s.Run());
  return db().Changes();
}

}  // namespace keyward::store::sqlite

// backend.cc: the SQLite backend — one file in WAL mode; a writer
// connection, a reader connection and the change feed's watcher, each
// guarded by its own mutex; opened and migrated here — and OpenBackend().
#include <memory>

#include "store/postgres/backend.h"
#include "store/sqlite/parts.h"
#include "store/sqlite/schema.h"

namespace keyward {
namespace store {
namespace sqlite {
namespace {

class SqliteBackend final : public Backend {
 public:
  SqliteBackend()
      : keys_(shared_), jobs_(shared_), usage_(shared_), queue_(shared_), changes_(shared_) {}

  Status Open(const std::string& path, int busy_timeout_ms) {
    shared_.path = path;
    Db& db = shared_.db;
    KW_RETURN_IF_ERROR(db.Open(path, busy_timeout_ms));
    KW_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys = ON"));
    // Deleted and overwritten content (sealed credentials of finished queue
    // entries) is zeroed on disk, not left in free space.
    KW_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete = ON"));
    KW_RETURN_IF_ERROR(RefuseNewerSchema(db, path));
    Status wal = db.Exec("PRAGMA journal_mode = WAL");
    if (!wal.ok()) return Status(wal.code(), "enable WAL: " + wal.message());
    KW_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = NORMAL"));
    // The pages every commit touches (the busiest users' index leaves, the
    // tables' last pages) stay in the writer's 8 MiB cache instead of being read
    // back from the WAL each commit: SQLite's default of 2 MiB held a fraction
    // of them with a hundred users writing (three reads per job submission).
    KW_RETURN_IF_ERROR(db.Exec("PRAGMA cache_size = -8192"));
    KW_RETURN_IF_ERROR(Migrate(db));
    if (path != ":memory:") {
      KW_RETURN_IF_ERROR(shared_.checkpointer.Attach(db, shared_.mu, path, busy_timeout_ms));
      KW_RETURN_IF_ERROR(shared_.watch.Open(path, busy_timeout_ms));
      KW_RETURN_IF_ERROR(shared_.watch.Exec("PRAGMA query_only = ON"));
      shared_.has_watch = true;
      KW_RETURN_IF_ERROR(shared_.reader.Open(path, busy_timeout_ms));
      KW_RETURN_IF_ERROR(shared_.reader.Exec("PRAGMA query_only = ON"));
      shared_.has_reader = true;
    }
    return OkStatus();
  }

  KeyStore& keys() override { return keys_; }
  JobStore& jobs() override { return jobs_; }
  UsageStore& usage() override { return usage_; }
  QueueStore& queue() override { return queue_; }
  ChangeFeed& changes() override { return changes_; }

  // Migrated to this build's version, or refused when newer (SQLite runs
  // one process family per file: no rolling upgrades).
  SchemaInfo schema() const override { return {LatestSchemaVersion(), LatestSchemaVersion()}; }

  Status Ping() override {
    std::lock_guard lock(shared_.mu);
    return shared_.db.QueryInt("SELECT 1").status();
  }

  StatusOr<std::string> TEST_Snapshot() override {
    std::lock_guard lock(shared_.mu);
    if (shared_.path != ":memory:") return FailedPreconditionError("not an in-memory database");
    return shared_.db.Serialize();
  }

  Status TEST_Restore(const std::string& image) override {
    std::lock_guard lock(shared_.mu);
    if (shared_.path != ":memory:") return FailedPreconditionError("not an in-memory database");
    return shared_.db.Deserialize(image);
  }

 private:
  Shared shared_;
  SqliteKeyStore keys_;
  SqliteJobStore jobs_;
  SqliteUsageStore usage_;
  SqliteQueueStore queue_;
  SqliteChangeFeed changes_;
};

}  // namespace
}  // namespace sqlite

bool IsPostgresLocation(std::string_view location) {
  return location.rfind("postgres://", 0) == 0 || location.rfind("postgresql://", 0) == 0;
}

std::string SqlitePath(std::string_view location) {
  if (location.rfind("sqlite:", 0) == 0) location.remove_prefix(7);
  return std::string(location);
}

StatusOr<BackendPtr> OpenBackend(const StoreOptions& options) {
  const std::string path = SqlitePath(options.location);
  if (IsPostgresLocation(path)) return postgres::OpenBackend(options);
  if (path.empty()) return InvalidArgumentError("no database location given");
  auto backend = std::make_unique<sqlite::SqliteBackend>();
  KW_RETURN_IF_ERROR(backend->Open(path, options.busy_timeout_ms));
  return BackendPtr(std::move(backend));
}

}  // namespace store

StatusOr<KeyStorePtr> OpenKeyStore(const StoreOptions& options) {
  KW_ASSIGN_OR_RETURN(store::BackendPtr backend, store::OpenBackend(options));
  // The KeyStore part shares ownership of the whole backend behind it.
  std::shared_ptr<store::Backend> owner(std::move(backend));
  return KeyStorePtr(owner, &owner->keys());
}

}  // namespace keyward

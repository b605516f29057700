// backend.h: one storage backend — all of keyward's data in one database —
// seen through its parts: users and keys, compute jobs, the usage ledger,
// the job queue and the change feed. A backend implements every part over one connection pool,
// so a write that spans parts (a job and its charge) is one transaction.
// Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "keyward/store.h"
#include "store/change_feed.h"
#include "store/job_store.h"
#include "store/queue_store.h"
#include "store/usage_store.h"

namespace keyward::store {

// The database's schema version beside the newest this build knows. A
// PostgreSQL node may run against a schema one version ahead (a rolling
// upgrade in progress); it says so in /readyz.
struct SchemaInfo {
  int version = 0;
  int supported = 0;
  bool ahead() const { return version > supported; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual KeyStore& keys() = 0;
  virtual JobStore& jobs() = 0;
  virtual UsageStore& usage() = 0;
  virtual QueueStore& queue() = 0;
  virtual ChangeFeed& changes() = 0;
  // OK if the backend can serve requests (for readiness probes).
  virtual Status Ping() = 0;
  // As found (and migrated) when the backend was opened.
  virtual SchemaInfo schema() const = 0;

  // Test hooks (fuzzers reset one in-memory store between inputs instead of
  // building a new one each time). An image of the whole database, and
  // putting one back. kFailedPrecondition unless the backend is in memory.
  virtual StatusOr<std::string> TEST_Snapshot() = 0;
  virtual Status TEST_Restore(const std::string& image) = 0;
};

using BackendPtr = std::unique_ptr<Backend>;

// What a location (StoreOptions::location) names: a PostgreSQL database
// (postgres:// or postgresql://), or else a SQLite file, whose path is the
// location without an optional "sqlite:" in front.
bool IsPostgresLocation(std::string_view location);
std::string SqlitePath(std::string_view location);

// Opens the backend named by options.location (see keyward/store.h).
StatusOr<BackendPtr> OpenBackend(const StoreOptions& options);

}  // namespace keyward::store

// backend.cc: see backend.h.
#include "store/postgres/backend.h"

#include <chrono>

#include "store/postgres/change_feed.h"
#include "store/postgres/connection.h"
#include "store/postgres/job_store.h"
#include "store/postgres/key_store.h"
#include "store/postgres/queue_store.h"
#include "store/postgres/schema.h"

namespace keyward::store::postgres {
namespace {

constexpr int kPoolSize = 8;
// How often the change feed looks even when no notification came.
constexpr std::chrono::milliseconds kResync{1000};

class PgBackend final : public Backend {
 public:
  explicit PgBackend(const ConnOptions& options)
      : pool_(options, kPoolSize),
        keys_(pool_),
        jobs_(pool_),
        usage_(pool_),
        queue_(pool_),
        changes_(pool_, options, kResync) {}

  Status Open() {
    KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
    KW_ASSIGN_OR_RETURN(SchemaState state, Migrate(*c));
    schema_ = SchemaInfo{state.version, LatestSchemaVersion()};
    return OkStatus();
  }

  SchemaInfo schema() const override { return schema_; }

  KeyStore& keys() override { return keys_; }
  JobStore& jobs() override { return jobs_; }
  UsageStore& usage() override { return usage_; }
  QueueStore& queue() override { return queue_; }
  ChangeFeed& changes() override { return changes_; }

  Status Ping() override {
    KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
    return c->Exec("SELECT 1").status();
  }

  StatusOr<std::string> TEST_Snapshot() override {
    return FailedPreconditionError("not an in-memory database");
  }
  Status TEST_Restore(const std::string&) override {
    return FailedPreconditionError("not an in-memory database");
  }

 private:
  Pool pool_;
  PgKeyStore keys_;
  PgJobStore jobs_;
  PgUsageStore usage_;
  PgQueueStore queue_;
  PgChangeFeed changes_;
  SchemaInfo schema_;
};

}  // namespace

StatusOr<BackendPtr> OpenBackend(const StoreOptions& options) {
  ConnOptions conn{.conninfo = options.location,
                   .statement_timeout_ms = options.busy_timeout_ms > 0 ? options.busy_timeout_ms : 5000};
  auto backend = std::make_unique<PgBackend>(conn);
  KW_RETURN_IF_ERROR(backend->Open());
  return BackendPtr(std::move(backend));
}

}  // namespace keyward::store::postgres

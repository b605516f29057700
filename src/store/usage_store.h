// usage_store.h: the append-only usage ledger — every charge of a user's
// credits (live) and every recorded use (test).
// Implementations are thread-safe; errors as in keyward/store.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "keyward/store.h"

namespace keyward {

struct UsageEntry {
  std::string user_id;
  std::string key_id;
  Environment environment = Environment::kLive;
  std::int64_t units = 0;
  std::string reason;  // "job:<task>", "verify", ...
  UnixMillis at = 0;
};

// Usage of one key in one environment over a period.
struct UsageByKey {
  std::string key_id;
  Environment environment = Environment::kLive;
  std::int64_t units = 0;
  std::int64_t entries = 0;
};

class UsageStore {
 public:
  virtual ~UsageStore() = default;
  // Appends entries in one transaction (all or none). kNotFound if a user is
  // gone; kResourceExhausted if a live entry would take its user's month
  // (UTC) past the plan's monthly_credits (see JobStore::InsertJobs).
  virtual Status AppendUsage(const std::vector<UsageEntry>& entries) = 0;
  // Sum of units for user+env with from <= at < to.
  virtual StatusOr<std::int64_t> SumUsage(const std::string& user_id, Environment env,
                                          UnixMillis from, UnixMillis to) = 0;
  // Per key and environment, from <= at < to. kNotFound if the user does not exist.
  virtual StatusOr<std::vector<UsageByKey>> UsageReport(const std::string& user_id,
                                                        UnixMillis from, UnixMillis to) = 0;
};

}  // namespace keyward

// quota.h: per-user monthly live credits, exact within one process.
//
// The first charge of a user in a calendar month (UTC) loads what the ledger
// already holds for that month; after that the count lives in memory. A
// charge is reserved under the user's lock before it is written, and
// refunded if the write fails, so concurrent requests can never overspend.
// Test-environment usage is never charged. Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "keyward/store.h"

namespace keyward::auth {

struct CreditState {
  std::optional<std::int64_t> limit;  // nullopt = unlimited
  std::int64_t used = 0;              // this month, live
  std::optional<std::int64_t> remaining() const {
    if (!limit) return std::nullopt;
    return *limit > used ? *limit - used : 0;
  }
};

// "2026-11" style month index: year * 12 + month - 1, UTC.
int MonthIndex(UnixMillis t);
// [start, end) of the month containing t.
std::pair<UnixMillis, UnixMillis> MonthBounds(UnixMillis t);

class Quota {
 public:
  Quota(Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Reserves `units` of user's live credits for this month. Returns false in
  // *granted (and reserves nothing) if that would exceed `limit`.
  // kUnavailable if the month's usage could not be loaded.
  StatusOr<CreditState> Reserve(const std::string& user_id, std::optional<std::int64_t> limit,
                                std::int64_t units, bool* granted);
  // Gives back a reservation whose write failed (same month as reserved).
  void Refund(const std::string& user_id, std::int64_t units, int month);
  // Current state without charging.
  StatusOr<CreditState> Peek(const std::string& user_id, std::optional<std::int64_t> limit);
  // Forgets the in-memory count (after the user is deleted).
  void Forget(const std::string& user_id);

 private:
  struct Account {
    int month = -1;
    std::int64_t used = 0;
  };
  StatusOr<Account*> Load(const std::string& user_id, UnixMillis now);  // REQUIRES: mu_ held

  Store& store_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Account> accounts_;  // guarded by mu_
};

}  // namespace keyward::auth

// credits.h: per-user monthly live credits, exact within one process, and
// the one way to charge them: Reserve() -> write -> Settle().
//
// The first charge of a user in a calendar month (UTC) loads what the ledger
// already holds for that month; after that the count lives in memory. A
// charge is reserved under the lock before anything is written and settled
// once the write (a ledger entry, or a job with its charge) is known to have
// committed or failed: a failed write gives the credits back, so concurrent
// requests can never overspend and a failure never loses credits.
// Test-environment usage is never charged. Thread-safe.
//
// The in-memory count is this process's view. Other processes (nodes on one
// PostgreSQL, the CLI, a second server on one SQLite file) charge the same
// user, so the store has the last word: it refuses a live charge that would
// pass the user's monthly_credits (kResourceExhausted, nothing written).
// Settling with that status drops this process's count, so the next charge
// reads the ledger again. Exact across nodes; the count here only ever lags below the
// truth, so a refusal here is always right.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "store/usage_store.h"

namespace keyward::metering {

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

class Credits;

// Credits held for one charge until its write is known. Move-only. Settle()
// with the write's Status; a reservation destroyed unsettled is refunded.
class Reservation {
 public:
  Reservation() = default;
  Reservation(Reservation&& other) noexcept { *this = std::move(other); }
  Reservation& operator=(Reservation&& other) noexcept;
  ~Reservation();

  // False if the charge would exceed the user's limit: nothing is held.
  bool granted() const { return granted_; }
  // The user's credits with this charge counted (when granted).
  const CreditState& state() const { return state_; }
  // Keeps the credits if `written` is OK, gives them back otherwise; on
  // kResourceExhausted (the store refused the charge: other writers spent
  // what this count missed) forgets the user's count instead.
  void Settle(const Status& written);

 private:
  friend class Credits;
  Credits* credits_ = nullptr;  // null: nothing to settle
  std::string user_id_;
  std::int64_t units_ = 0;
  std::uint64_t epoch_ = 0;
  bool granted_ = false;
  CreditState state_;
};

class Credits {
 public:
  Credits(UsageStore& usage, const Clock& clock) : usage_(usage), clock_(clock) {}

  // Reserves `units` of the user's live credits for this month under `limit`
  // (nullopt: unlimited, still counted). Not granted (nothing reserved) if it
  // would exceed the limit. kUnavailable if the month's usage cannot be loaded.
  StatusOr<Reservation> Reserve(const std::string& user_id, std::optional<std::int64_t> limit,
                                std::int64_t units);
  // Current state without charging.
  StatusOr<CreditState> Peek(const std::string& user_id, std::optional<std::int64_t> limit);
  // Forgets the in-memory count (after the user is deleted, or when the
  // store refused a charge that this count allowed: Reservation::Settle).
  void Forget(const std::string& user_id);

 private:
  friend class Reservation;
  struct Account {
    int month = -1;
    std::uint64_t epoch = 0;  // which load of the count this is
    std::int64_t used = 0;
  };
  StatusOr<Account*> Load(const std::string& user_id, UnixMillis now);  // REQUIRES: mu_ held
  void Refund(const std::string& user_id, std::int64_t units, std::uint64_t epoch);

  UsageStore& usage_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Account> accounts_;  // guarded by mu_
  std::uint64_t loads_ = 0;                            // guarded by mu_
};

}  // namespace keyward::metering

// quota.cc: monthly credit accounting in memory, seeded from the ledger.
#include "auth/quota.h"

#include <chrono>

namespace keyward::auth {

int MonthIndex(UnixMillis t) {
  using namespace std::chrono;
  year_month_day ymd{floor<days>(sys_time<milliseconds>(milliseconds(t)))};
  return static_cast<int>(ymd.year()) * 12 + static_cast<int>(static_cast<unsigned>(ymd.month())) - 1;
}

std::pair<UnixMillis, UnixMillis> MonthBounds(UnixMillis t) {
  using namespace std::chrono;
  year_month_day ymd{floor<days>(sys_time<milliseconds>(milliseconds(t)))};
  sys_days start{ymd.year() / ymd.month() / day{1}};
  sys_days end{(ymd.year() / ymd.month() + months{1}) / day{1}};
  auto ms = [](sys_days d) { return duration_cast<milliseconds>(d.time_since_epoch()).count(); };
  return {ms(start), ms(end)};
}

StatusOr<Quota::Account*> Quota::Load(const std::string& user_id, UnixMillis now) {
  int month = MonthIndex(now);
  Account& a = accounts_[user_id];
  if (a.month != month) {
    auto [from, to] = MonthBounds(now);
    StatusOr<std::int64_t> used = store_.SumUsage(user_id, Environment::kLive, from, to);
    if (!used.ok()) {
      accounts_.erase(user_id);
      return used.status();
    }
    a.month = month;
    a.used = *used;
  }
  return &a;
}

StatusOr<CreditState> Quota::Reserve(const std::string& user_id,
                                     std::optional<std::int64_t> limit, std::int64_t units,
                                     bool* granted) {
  std::lock_guard lock(mu_);
  KW_ASSIGN_OR_RETURN(Account * a, Load(user_id, clock_.Now()));
  *granted = !limit || a->used + units <= *limit;
  if (*granted) a->used += units;
  return CreditState{limit, a->used};
}

void Quota::Refund(const std::string& user_id, std::int64_t units, int month) {
  std::lock_guard lock(mu_);
  auto it = accounts_.find(user_id);
  if (it != accounts_.end() && it->second.month == month) it->second.used -= units;
}

StatusOr<CreditState> Quota::Peek(const std::string& user_id, std::optional<std::int64_t> limit) {
  std::lock_guard lock(mu_);
  KW_ASSIGN_OR_RETURN(Account * a, Load(user_id, clock_.Now()));
  return CreditState{limit, a->used};
}

void Quota::Forget(const std::string& user_id) {
  std::lock_guard lock(mu_);
  accounts_.erase(user_id);
}

}  // namespace keyward::auth

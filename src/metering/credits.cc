// credits.cc: monthly credit accounting in memory, seeded from the ledger.
#include "metering/credits.h"

#include <chrono>

namespace keyward::metering {

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

StatusOr<Credits::Account*> Credits::Load(const std::string& user_id, UnixMillis now) {
  int month = MonthIndex(now);
  Account& a = accounts_[user_id];
  if (a.month != month) {
    auto [from, to] = MonthBounds(now);
    StatusOr<std::int64_t> used = usage_.SumUsage(user_id, Environment::kLive, from, to);
    if (!used.ok()) {
      accounts_.erase(user_id);
      return used.status();
    }
    a.month = month;
    a.epoch = ++loads_;
    a.used = *used;
  }
  return &a;
}

StatusOr<Reservation> Credits::Reserve(const std::string& user_id,
                                       std::optional<std::int64_t> limit, std::int64_t units) {
  std::lock_guard lock(mu_);
  const UnixMillis now = clock_.Now();
  KW_ASSIGN_OR_RETURN(Account * a, Load(user_id, now));
  Reservation r;
  r.granted_ = !limit || a->used + units <= *limit;
  if (r.granted_) {
    a->used += units;
    r.credits_ = this;
    r.user_id_ = user_id;
    r.units_ = units;
    r.epoch_ = a->epoch;
  }
  r.state_ = CreditState{limit, a->used};
  return r;
}

void Credits::Refund(const std::string& user_id, std::int64_t units, std::uint64_t epoch) {
  std::lock_guard lock(mu_);
  // A count loaded after the reservation never included it.
  auto it = accounts_.find(user_id);
  if (it != accounts_.end() && it->second.epoch == epoch) it->second.used -= units;
}

StatusOr<CreditState> Credits::Peek(const std::string& user_id, std::optional<std::int64_t> limit) {
  std::lock_guard lock(mu_);
  KW_ASSIGN_OR_RETURN(Account * a, Load(user_id, clock_.Now()));
  return CreditState{limit, a->used};
}

void Credits::Forget(const std::string& user_id) {
  std::lock_guard lock(mu_);
  accounts_.erase(user_id);
}

Reservation& Reservation::operator=(Reservation&& other) noexcept {
  if (this != &other) {
    Settle(UnavailableError("reservation replaced"));
    credits_ = std::exchange(other.credits_, nullptr);
    user_id_ = std::move(other.user_id_);
    units_ = other.units_;
    epoch_ = other.epoch_;
    granted_ = other.granted_;
    state_ = other.state_;
  }
  return *this;
}

Reservation::~Reservation() { Settle(UnavailableError("reservation abandoned")); }

void Reservation::Settle(const Status& written) {
  if (!credits_) return;
  if (written.code() == StatusCode::kResourceExhausted) {
    credits_->Forget(user_id_);
  } else if (!written.ok()) {
    credits_->Refund(user_id_, units_, epoch_);
  }
  credits_ = nullptr;
}

}  // namespace keyward::metering

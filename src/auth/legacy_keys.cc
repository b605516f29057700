// legacy_keys.cc: see legacy_keys.h.
#include "auth/legacy_keys.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "auth/legacy_hash.h"

namespace keyward::auth {
namespace {

bool AllAlnum(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
}

}  // namespace

bool SplitLegacyKey(std::string_view key, std::string_view* prefix) {
  const std::size_t dot = key.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 64) return false;
  const std::string_view head = key.substr(0, dot), secret = key.substr(dot + 1);
  if (secret.empty() || secret.size() > 128 || !AllAlnum(head) || !AllAlnum(secret)) return false;
  *prefix = head;
  return true;
}

struct LegacyKeys::Impl {
  Impl(KeyStore& s, const Clock& c, LegacyKeyOptions o) : store(s), clock(c), options(o) {}

  // Marks `prefix` as rehashed in the list (another node may have done it).
  void MarkRehashed(std::string_view prefix) {
    std::unique_lock lock(list_mu);
    auto it = pending.find(std::string(prefix));
    if (it != pending.end()) it->second = false;
  }

  // Takes one PBKDF2 run from the bucket; false when it is empty.
  bool TakeCheck(UnixMillis now) {
    std::lock_guard lock(budget_mu);
    const double rate = std::max(options.checks_per_second, 0.0);
    if (last_refill == 0) tokens = rate, last_refill = now;
    tokens = std::min(rate, tokens + rate * static_cast<double>(now - last_refill) / 1000.0);
    last_refill = now;
    if (tokens < 1.0) return false;
    tokens -= 1.0;
    return true;
  }

  // Whether `prefix` failed less than failure_backoff_ms ago.
  bool BackingOff(const std::string& prefix, UnixMillis now) {
    std::lock_guard lock(budget_mu);
    auto it = failed_at.find(prefix);
    return it != failed_at.end() && now - it->second < options.failure_backoff_ms;
  }

  void NoteFailure(const std::string& prefix, UnixMillis now) {
    std::lock_guard lock(budget_mu);
    // Only imported, still pending prefixes reach here: the map is bounded by
    // the import; entries past their wait are dropped when it grows.
    if (failed_at.size() >= 4096) {
      erase_if(failed_at, [&](const auto& kv) { return now - kv.second >= options.failure_backoff_ms; });
    }
    failed_at[prefix] = now;
  }

  KeyStore& store;
  const Clock& clock;
  const LegacyKeyOptions options;

  std::shared_mutex list_mu;
  std::unordered_map<std::string, bool> pending;  // prefix → still pending; guarded by list_mu
  std::optional<UnixMillis> read_at;              // last attempt; guarded by list_mu
  bool loaded = false;                            // a read succeeded; guarded by list_mu

  // Whether the list may be re-read now: refresh_ms after the last read, or
  // one second after a failed first read.
  bool Stale(UnixMillis now) const {
    return !read_at || now - *read_at >= (loaded ? options.refresh_ms : 1'000);
  }

  std::mutex budget_mu;
  double tokens = 0;                                   // guarded by budget_mu
  UnixMillis last_refill = 0;                          // guarded by budget_mu
  std::unordered_map<std::string, UnixMillis> failed_at;  // guarded by budget_mu
};

LegacyKeys::LegacyKeys(KeyStore& store, const Clock& clock, LegacyKeyOptions options)
    : impl_(std::make_unique<Impl>(store, clock, options)) {}

LegacyKeys::~LegacyKeys() = default;

StatusOr<LegacyState> LegacyKeys::Classify(std::string_view prefix) {
  const UnixMillis now = impl_->clock.Now();
  const std::string key(prefix);
  {
    std::shared_lock lock(impl_->list_mu);
    auto it = impl_->pending.find(key);
    if (it != impl_->pending.end()) return it->second ? LegacyState::kPending : LegacyState::kRehashed;
    if (!impl_->Stale(now)) return LegacyState::kUnknown;
  }
  std::unique_lock lock(impl_->list_mu);
  if (impl_->Stale(now)) {  // another thread may have re-read it meanwhile
    impl_->read_at = now;
    auto prefixes = impl_->store.ListLegacyPrefixes();
    if (!prefixes.ok()) {
      if (!impl_->loaded) return prefixes.status();
    } else {
      impl_->pending.clear();
      for (auto& [p, waiting] : *prefixes) impl_->pending.emplace(std::move(p), waiting);
      impl_->loaded = true;
    }
  }
  auto it = impl_->pending.find(key);
  if (it == impl_->pending.end()) return LegacyState::kUnknown;
  return it->second ? LegacyState::kPending : LegacyState::kRehashed;
}

StatusOr<KeyWithUser> LegacyKeys::Check(std::string_view key, std::string_view prefix, const KeyHash& sha256) {
  const std::string p(prefix);
  const UnixMillis now = impl_->clock.Now();
  if (impl_->BackingOff(p, now)) return ResourceExhaustedError("a wrong secret was tried for this prefix just now");
  KW_ASSIGN_OR_RETURN(auto found, impl_->store.LookupLegacyKey(p));
  auto& [record, legacy] = found;
  if (legacy.legacy_hash.empty()) {  // rehashed by another node or process
    impl_->MarkRehashed(prefix);
    if (!KeyHashEqual(record.key.hash, sha256)) return NotFoundError("no such key");
    return std::move(record);
  }
  StatusOr<LegacyHash> parsed = ParseLegacyHash(legacy.legacy_hash);
  if (!parsed.ok()) return NotFoundError("the imported hash is unusable");  // refused at import
  if (parsed->kind == LegacyHash::Kind::kPbkdf2Sha256 && !impl_->TakeCheck(now)) {
    return ResourceExhaustedError("too many checks of imported keys right now");
  }
  if (!VerifyLegacyKey(*parsed, key)) {
    impl_->NoteFailure(p, now);
    return NotFoundError("no such key");
  }
  KW_RETURN_IF_ERROR(impl_->store.CompleteLegacyKey(record.key.id, sha256));
  impl_->MarkRehashed(prefix);
  record.key.hash = sha256;
  return std::move(record);
}

void LegacyKeys::Forget() {
  std::unique_lock lock(impl_->list_mu);
  impl_->read_at.reset();
}

}  // namespace keyward::auth

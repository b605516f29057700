// wire.h: every JSON shape a client sees — users, keys, jobs, queue entries,
// verifications, usage, and the small envelopes around them — built here and
// nowhere else, so the CLI's --json and the HTTP API speak one language.
// Times are RFC 3339 UTC strings; absent optional values are null.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "auth/accounts.h"
#include "keyward/store.h"
#include "keyward/verifier.h"
#include "metering/gate.h"
#include "store/job_store.h"
#include "store/queue_store.h"
#include "store/usage_store.h"

namespace keyward::api {

// "active", "revoked", "expired", or "expiring" (an expiry is set, still valid).
std::string KeyStateName(const ApiKey& key, UnixMillis now);

nlohmann::json UserJson(const User& user);
// Never includes the hash. `now` decides "state".
nlohmann::json KeyJson(const ApiKey& key, UnixMillis now);
// KeyJson plus "secret": used only where a key is issued.
nlohmann::json IssuedKeyJson(const auth::IssuedKey& key, UnixMillis now);
// {"user", "key": issued key | null}
nlohmann::json CreatedUserJson(const auth::CreatedUser& created, UnixMillis now);
// {"key": the new key with its secret, "old_key": the replaced key}
nlohmann::json RotatedKeyJson(const auth::RotatedKey& rotated, UnixMillis now);
// {"user_id", "revoked": n}
nlohmann::json RevokedAllJson(const std::string& user_id, std::int64_t revoked);
// {"deleted": id}
nlohmann::json DeletedJson(const std::string& id);
// {"<items_name>": [...], "next": cursor | null}
nlohmann::json PageJson(const char* items_name, nlohmann::json items,
                        const std::optional<std::string>& next);

nlohmann::json PrincipalJson(const Principal& principal);
// {"valid", "code", "principal" | null}
nlohmann::json VerificationJson(const Verification& v);
// VerificationJson plus "credits", "rate_limit" and "retry_after_seconds".
nlohmann::json GateResultJson(const metering::GateResult& result);

// A compute job. Full: with payload and result; else the summary of a
// listing (no payload or result: those come from GET …/{id}).
nlohmann::json JobJson(const Job& job, bool full = true);

// A queue entry as its owner sees it (HTTP) or as the operator sees it (the
// CLI: lease, scoped key, attempts left). Never the sealed credential.
enum class EntryView { kCaller, kOperator };
nlohmann::json QueueEntryJson(const QueueEntry& entry, EntryView view);

// A user's usage from `from` to `to`: per environment, per key, and the
// monthly credits (null if they could not be read).
nlohmann::json UsageJson(const std::string& user_id, UnixMillis from, UnixMillis to,
                         const std::vector<UsageByKey>& rows, const Plan& plan,
                         const std::optional<metering::CreditState>& credits);

}  // namespace keyward::api

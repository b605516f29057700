// wire.h: the JSON shapes of users, keys and verifications, shared by the CLI
// (--json) and the HTTP API so both speak the same representation.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "keyward/store.h"
#include "keyward/verifier.h"

namespace keyward::api {

// "active", "revoked", "expired", or "expiring" (an expiry is set, still valid).
std::string KeyState(const ApiKey& key, UnixMillis now);

nlohmann::json UserJson(const User& user);
// Never includes the hash. `now` decides "state".
nlohmann::json KeyJson(const ApiKey& key, UnixMillis now);
// KeyJson plus "secret": used only where a key is issued.
nlohmann::json IssuedKeyJson(const ApiKey& key, const std::string& secret, UnixMillis now);
nlohmann::json PrincipalJson(const Principal& principal);
// {"valid","code","principal"|null}
nlohmann::json VerificationJson(const Verification& v);

}  // namespace keyward::api

// principal.h: who a verified API key acts for. A handler gets a Principal
// instead of a logged-in user; quota, rate limits and billing are charged to
// principal.user_id, never to the key.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "keyward/key_format.h"

namespace keyward {

struct Principal {
  std::string user_id;                     // "usr_…"
  std::optional<std::string> external_id;  // the user's id in the customer's own app
  std::string key_id;                      // "key_…"
  std::string key_display;                 // "kw_live_AbCd…", safe for logs
  Environment environment = Environment::kLive;
  std::vector<std::string> scopes;         // the key's scopes
};

}  // namespace keyward

// fill_keys.cc: `keyward_fill DB KEYS [KEYS_PER_USER]` issues KEYS live keys
// (KEYS_PER_USER per user, default 10) into the SQLite database DB through
// the accounts service — the same path as the admin API, minus HTTP — and
// prints each key, one per line, for the load scripts (bench/load/memory.sh).
// With KEYWARD_SEAL_KEY (64 hex digits) set, each key gets its sealed
// request-signing secret at issue, as keys issued by a server do; without it
// the keys are like those issued before signed requests existed, and learn
// their secret at their first use.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "auth/accounts.h"
#include "core/sealing.h"
#include "keyward/store.h"

int main(int argc, char** argv) {
  using namespace keyward;
  if (argc < 3) {
    std::fprintf(stderr, "usage: keyward_fill DB KEYS [KEYS_PER_USER]\n");
    return 2;
  }
  const long keys = std::strtol(argv[2], nullptr, 10);
  const long per_user = argc > 3 ? std::max(1L, std::strtol(argv[3], nullptr, 10)) : 10;
  StatusOr<KeyStorePtr> store = OpenKeyStore({.location = argv[1]});
  if (!store.ok()) {
    std::fprintf(stderr, "keyward_fill: %s\n", store.status().ToString().c_str());
    return 1;
  }
  auth::Accounts accounts(**store, SystemClock());
  std::optional<core::Sealer> sealer;
  if (const char* hex = std::getenv("KEYWARD_SEAL_KEY"); hex && *hex) {
    StatusOr<core::Sealer> s = core::Sealer::FromHex(hex);
    if (!s.ok()) {
      std::fprintf(stderr, "keyward_fill: KEYWARD_SEAL_KEY: %s\n", s.status().ToString().c_str());
      return 1;
    }
    sealer.emplace(std::move(*s));
    accounts.set_sealer(&*sealer);
  }
  std::string user_id;
  for (long i = 0; i < keys; ++i) {
    StatusOr<std::string> secret = InternalError("unset");
    if (i % per_user == 0) {
      auth::CreateUserRequest req;
      req.name = "fill-" + std::to_string(i / per_user);
      StatusOr<auth::CreatedUser> u = accounts.CreateUser(req);
      if (!u.ok()) {
        std::fprintf(stderr, "keyward_fill: %s\n", u.status().ToString().c_str());
        return 1;
      }
      user_id = u->user.id;
      secret = u->key->secret;
    } else {
      auth::IssueKeyRequest req;
      req.user_id = user_id;
      StatusOr<auth::IssuedKey> k = accounts.IssueKey(req);
      if (!k.ok()) {
        std::fprintf(stderr, "keyward_fill: %s\n", k.status().ToString().c_str());
        return 1;
      }
      secret = k->secret;
    }
    std::fwrite(secret->data(), 1, secret->size(), stdout);
    std::fputc('\n', stdout);
  }
  return 0;
}

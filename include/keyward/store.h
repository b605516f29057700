// store.h: users, their plans and API keys, and the KeyStore that persists
// them — the part of keyward's storage that verification needs.
//
// No backend type or SQL dialect appears here. All timestamps are UnixMillis
// (UTC). Implementations are thread-safe. Errors, for every method:
//   kNotFound           a named user or key does not exist
//   kAlreadyExists      a unique field (id, external_id, key hash) is taken
//   kInvalidArgument    a value the schema refuses, or a page cursor that is
//                       not one this store handed out
//   kUnavailable        storage busy or unreachable; retrying may help
//   kFailedPrecondition a database this build cannot use (e.g. newer schema)
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "keyward/clock.h"
#include "keyward/key_format.h"
#include "keyward/status.h"

namespace keyward {

// What a user may consume. Charged to the user, never to a key.
struct Plan {
  // Live requests per second (token bucket, per user). nullopt = unlimited.
  std::optional<double> rate_limit;
  // Test-environment requests per second, a bucket of its own. nullopt = the
  // server's default for test traffic (test traffic is never unlimited).
  std::optional<double> test_rate_limit;
  // Live credits per calendar month (UTC). nullopt = unlimited. Test usage is
  // recorded but never charged.
  std::optional<std::int64_t> monthly_credits;
  // Scopes this user's keys may hold; "*" allows any scope.
  std::vector<std::string> allowed_scopes = {"*"};
  // Every key of this user must sign its requests (RFC 9421): sent as a
  // bearer Api-Key it is refused with SIGNATURE_REQUIRED.
  bool require_signature = false;
};

struct User {
  std::string id;                          // "usr_…"
  std::optional<std::string> external_id;  // unique when set
  std::string name;
  std::optional<std::string> email;
  bool disabled = false;
  UnixMillis created_at = 0;
  Plan plan;
};

// An API key's record. The plaintext is never part of it.
struct ApiKey {
  std::string id;       // "key_…"
  std::string user_id;  // owner; deleting the user deletes the key
  std::string name;
  Environment environment = Environment::kLive;
  std::vector<std::string> scopes;
  std::string display;  // non-secret start of the key, e.g. "kw_live_AbCd…"
  KeyHash hash{};       // SHA-256 of the full key
  UnixMillis created_at = 0;
  std::optional<UnixMillis> expires_at;
  std::optional<UnixMillis> revoked_at;
  std::optional<UnixMillis> last_used_at;   // coarse; may lag
  std::optional<std::string> rotated_from;  // id of the key this one replaced
  // The key's request-signing secret, sealed under the seal key (context:
  // the key id); empty until keyward has seen the plaintext since signing
  // existed. Never the secret itself.
  std::string signing_secret;
  // Refused as a bearer credential: only signed requests (SIGNATURE_REQUIRED).
  bool require_signature = false;
};

// A key together with its owner, as verification needs them.
struct KeyWithUser {
  ApiKey key;
  User user;
};

// A key imported from another system (djangorestframework-api-key) whose
// plaintext keyward has not seen yet. Such a key has the form
// "<prefix>.<secret>"; the prefix finds it. Its ApiKey row holds a random
// placeholder hash until its first successful use, when the key's SHA-256
// replaces the placeholder and legacy_hash is cleared.
struct LegacyKey {
  std::string key_id;
  std::string prefix;       // unique across imported keys
  std::string legacy_hash;  // the other system's encoding; empty once rehashed
  std::string source;       // where it came from, e.g. "drf:app_customapikey"
};

// One imported key, and its owner when the import creates it.
struct LegacyImport {
  std::optional<User> new_user;  // inserted before the key when set
  ApiKey key;                    // key.hash: a random placeholder
  LegacyKey legacy;              // legacy.key_id == key.id
};

// What a re-run of an import carries to keys it imported before, from
// changes made in their source since. Both only ever tighten a key: a
// revocation keeps its first time, and an expiry never moves later.
struct LegacyKeyUpdates {
  std::vector<std::string> revoke;  // key ids, revoked at `revoked_at` unless revoked already
  UnixMillis revoked_at = 0;
  // (key id, time): the key's expiry becomes the time unless it is earlier already.
  std::vector<std::pair<std::string, UnixMillis>> expire;
};

// One page of a listing. `after` is empty for the first page, else the
// `next` of the previous page, which the store made and only it reads.
struct PageRequest {
  int limit = 100;  // 1..kMaxPageLimit
  std::string after;
};
inline constexpr int kDefaultPageLimit = 100;
inline constexpr int kMaxPageLimit = 1000;

template <typename T>
struct Page {
  std::vector<T> items;
  // The cursor of the following page; nullopt when this page is the last.
  std::optional<std::string> next;
};

// Users and keys. Every change a method makes is durable when it returns OK.
class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // --- users ---------------------------------------------------------------
  // Inserts `user` and, if `first_key` is not null, that key, atomically.
  // kAlreadyExists if user.id or user.external_id is taken.
  virtual Status CreateUser(const User& user, const ApiKey* first_key) = 0;
  // kNotFound if there is no such user.
  virtual StatusOr<User> GetUser(const std::string& id) = 0;
  // kNotFound if no user has that external id.
  virtual StatusOr<User> FindUserByExternalId(const std::string& external_id) = 0;
  // Users oldest first, one page.
  virtual StatusOr<Page<User>> ListUsers(const PageRequest& page) = 0;
  // Replaces external_id, name, email, disabled and plan of user.id.
  // kNotFound, kAlreadyExists (external_id).
  virtual Status UpdateUser(const User& user) = 0;
  // Deletes the user and, by cascade, its keys, jobs, usage and queue
  // entries. kNotFound.
  virtual Status DeleteUser(const std::string& id) = 0;

  // --- keys ----------------------------------------------------------------
  // kNotFound if key.user_id does not exist; kAlreadyExists on an id/hash clash.
  virtual Status InsertKey(const ApiKey& key) = 0;
  // kNotFound.
  virtual StatusOr<ApiKey> GetKey(const std::string& id) = 0;
  // The key with this hash and its owner; kNotFound if none.
  virtual StatusOr<KeyWithUser> LookupKey(const KeyHash& hash) = 0;
  // The key with this id and its owner (a signed request names its key by
  // id); kNotFound if none.
  virtual StatusOr<KeyWithUser> LookupKeyById(const std::string& id) = 0;
  // Stores sealed signing secrets (key id, sealed secret) in one
  // transaction, each only where the key has none yet; ids that no longer
  // exist are skipped.
  virtual Status SetSigningSecrets(const std::vector<std::pair<std::string, std::string>>& sealed) = 0;
  // Every key's sealed signing secret (key id, sealed), for re-sealing.
  virtual StatusOr<std::vector<std::pair<std::string, std::string>>> ListSigningSecrets() = 0;
  // A user's keys, oldest first, one page. kNotFound if the user does not exist.
  virtual StatusOr<Page<ApiKey>> ListKeys(const std::string& user_id, const PageRequest& page) = 0;
  // Sets revoked_at = now unless already revoked (a revocation is final and
  // keeps its first time). Returns the key as stored afterwards. kNotFound.
  virtual StatusOr<ApiKey> RevokeKey(const std::string& id, UnixMillis now) = 0;
  // Revokes every unrevoked key of the user in one statement; returns how
  // many were revoked. kNotFound if the user does not exist.
  virtual StatusOr<std::int64_t> RevokeAllKeys(const std::string& user_id, UnixMillis now) = 0;
  // Atomically inserts `new_key` (whose rotated_from names the old key) and
  // sets the old key's expires_at to `old_expires_at`. kNotFound if the old
  // key is gone; kInvalidArgument if new_key.rotated_from is unset.
  virtual Status RotateKey(const ApiKey& new_key, UnixMillis old_expires_at) = 0;
  // kNotFound.
  virtual Status DeleteKey(const std::string& id) = 0;
  // Records last use times in one transaction (ids that no longer exist are
  // skipped). A later time never goes backwards.
  virtual Status TouchKeys(const std::vector<std::pair<std::string, UnixMillis>>& uses) = 0;

  // --- imported keys (see LegacyKey) ------------------------------------------
  // Inserts every user and key of `batch` and applies `updates` to keys
  // imported before, in one transaction: all or none. kAlreadyExists if a
  // prefix, key id or external id is taken; kNotFound if a key's owner
  // neither exists nor comes with it.
  virtual Status ImportLegacyKeys(const std::vector<LegacyImport>& batch, const LegacyKeyUpdates& updates) = 0;
  Status ImportLegacyKeys(const std::vector<LegacyImport>& batch) { return ImportLegacyKeys(batch, {}); }
  // Every imported prefix, and whether its key still waits for its first use
  // (true) or has its SHA-256 already (false).
  virtual StatusOr<std::vector<std::pair<std::string, bool>>> ListLegacyPrefixes() = 0;
  // The imported key with this prefix and its owner. kNotFound.
  virtual StatusOr<std::pair<KeyWithUser, LegacyKey>> LookupLegacyKey(const std::string& prefix) = 0;
  // After the plaintext matched legacy_hash: stores `hash` (the key's
  // SHA-256) as the key's hash and clears legacy_hash, atomically. Does
  // nothing if the key was rehashed already. kNotFound.
  virtual Status CompleteLegacyKey(const std::string& key_id, const KeyHash& hash) = 0;
};

// Shared: the KeyStore keeps the database behind it open.
using KeyStorePtr = std::shared_ptr<KeyStore>;

struct StoreOptions {
  // Where the data lives: a SQLite file path (optionally "sqlite:PATH"),
  // created with mode 0600 if missing; "sqlite::memory:" is a private
  // in-memory database that lives as long as the store; or a PostgreSQL
  // database, "postgres://user@host:port/db?sslmode=verify-full" (libpq's
  // URI syntax), whose schema is created or migrated on open.
  std::string location;
  // How long a write waits for another process's lock (SQLite) or a
  // statement may run (PostgreSQL) before kUnavailable.
  int busy_timeout_ms = 5000;
};

// Opens (creating if needed) keyward's database and applies pending schema
// migrations. kFailedPrecondition, with nothing modified, if the database was
// written by a newer keyward; kUnavailable if it cannot be opened, is not a
// keyward database, or stays locked; kInvalidArgument for a location this
// build cannot open.
StatusOr<KeyStorePtr> OpenKeyStore(const StoreOptions& options);

}  // namespace keyward

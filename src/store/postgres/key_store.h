// key_store.h: users and API keys on PostgreSQL — the KeyStore interface
// (keyward/store.h) over a connection pool. Thread-safe; each call takes a
// connection for its own duration.
#pragma once

#include "keyward/store.h"

namespace keyward::store::postgres {

class Pool;

class PgKeyStore final : public KeyStore {
 public:
  // `pool` must outlive the store; its schema must be migrated.
  explicit PgKeyStore(Pool& pool) : pool_(pool) {}

  Status CreateUser(const User& user, const ApiKey* first_key) override;
  StatusOr<User> GetUser(const std::string& id) override;
  StatusOr<User> FindUserByExternalId(const std::string& external_id) override;
  StatusOr<Page<User>> ListUsers(const PageRequest& page) override;
  Status UpdateUser(const User& user) override;
  Status DeleteUser(const std::string& id) override;
  Status InsertKey(const ApiKey& key) override;
  StatusOr<ApiKey> GetKey(const std::string& id) override;
  StatusOr<KeyWithUser> LookupKey(const KeyHash& hash) override;
  StatusOr<KeyWithUser> LookupKeyById(const std::string& id) override;
  Status SetSigningSecrets(const std::vector<std::pair<std::string, std::string>>& sealed) override;
  StatusOr<std::vector<std::pair<std::string, std::string>>> ListSigningSecrets() override;
  StatusOr<Page<ApiKey>> ListKeys(const std::string& user_id, const PageRequest& page) override;
  StatusOr<ApiKey> RevokeKey(const std::string& id, UnixMillis now) override;
  StatusOr<std::int64_t> RevokeAllKeys(const std::string& user_id, UnixMillis now) override;
  Status RotateKey(const ApiKey& new_key, UnixMillis old_expires_at) override;
  Status DeleteKey(const std::string& id) override;
  Status TouchKeys(const std::vector<std::pair<std::string, UnixMillis>>& uses) override;
  using KeyStore::ImportLegacyKeys;
  Status ImportLegacyKeys(const std::vector<LegacyImport>& batch, const LegacyKeyUpdates& updates) override;
  StatusOr<std::vector<std::pair<std::string, bool>>> ListLegacyPrefixes() override;
  StatusOr<std::pair<KeyWithUser, LegacyKey>> LookupLegacyKey(const std::string& prefix) override;
  Status CompleteLegacyKey(const std::string& key_id, const KeyHash& hash) override;

 private:
  Pool& pool_;
};

}  // namespace keyward::store::postgres

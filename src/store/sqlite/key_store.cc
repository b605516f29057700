// key_store.cc: users and API keys on SQLite.
#include "store/sqlite/parts.h"

#include "store/cursor.h"

namespace keyward::store::sqlite {

namespace {

#define KW_USER_COLUMNS \
  "u.id, u.external_id, u.name, u.email, u.disabled, u.created_at, u.rate_limit, " \
  "u.test_rate_limit, u.monthly_credits, u.allowed_scopes, u.require_signature"
constexpr int kUserColumns = 11;
#define KW_KEY_COLUMNS \
  "k.id, k.user_id, k.name, k.environment, k.scopes, k.display, k.hash, k.created_at, " \
  "k.expires_at, k.revoked_at, k.last_used_at, k.rotated_from, k.signing_secret, k.require_signature"
constexpr int kKeyColumns = 14;

User ReadUser(const Stmt& s, int c) {
  User u;
  u.id = s.Text(c + 0);
  u.external_id = s.OptText(c + 1);
  u.name = s.Text(c + 2);
  u.email = s.OptText(c + 3);
  u.disabled = s.Int(c + 4) != 0;
  u.created_at = s.Int(c + 5);
  u.plan.rate_limit = s.OptDouble(c + 6);
  u.plan.test_rate_limit = s.OptDouble(c + 7);
  u.plan.monthly_credits = s.OptInt(c + 8);
  u.plan.allowed_scopes = SplitScopes(s.Text(c + 9));
  u.plan.require_signature = s.Int(c + 10) != 0;
  return u;
}

ApiKey ReadKey(const Stmt& s, int c) {
  ApiKey k;
  k.id = s.Text(c + 0);
  k.user_id = s.Text(c + 1);
  k.name = s.Text(c + 2);
  k.environment = ReadEnv(s, c + 3);
  k.scopes = SplitScopes(s.Text(c + 4));
  k.display = s.Text(c + 5);
  std::string hash = s.Blob(c + 6);
  if (hash.size() == k.hash.size()) std::copy(hash.begin(), hash.end(), k.hash.begin());
  k.created_at = s.Int(c + 7);
  k.expires_at = s.OptInt(c + 8);
  k.revoked_at = s.OptInt(c + 9);
  k.last_used_at = s.OptInt(c + 10);
  k.rotated_from = s.OptText(c + 11);
  k.signing_secret = s.Blob(c + 12);
  k.require_signature = s.Int(c + 13) != 0;
  return k;
}

User ReadUserRow(const Stmt& s) { return ReadUser(s, 0); }
ApiKey ReadKeyRow(const Stmt& s) { return ReadKey(s, 0); }

// Binds ?1..?11 in users column order (?6, created_at, is the caller's).
void BindUser(Stmt& s, const User& u) {
  s.Bind(1, u.id).Bind(2, u.external_id).Bind(3, u.name).Bind(4, u.email);
  s.Bind(5, static_cast<std::int64_t>(u.disabled ? 1 : 0));
  s.Bind(7, u.plan.rate_limit).Bind(8, u.plan.test_rate_limit).Bind(9, u.plan.monthly_credits);
  s.Bind(10, JoinScopes(u.plan.allowed_scopes));
  s.Bind(11, static_cast<std::int64_t>(u.plan.require_signature ? 1 : 0));
}


}  // namespace

Status SqliteKeyStore::UserExistsLocked(const std::string& user_id) {
  KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare("SELECT 1 FROM users WHERE id = ?"));
  s.Bind(1, user_id);
  return One(s, [](const Stmt&) { return true; }, "user " + user_id + " does not exist").status();
}

Status SqliteKeyStore::InsertKeyLocked(const ApiKey& k) {
  KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
      "INSERT INTO api_keys (id, user_id, name, environment, scopes, display, hash, "
      "created_at, expires_at, revoked_at, last_used_at, rotated_from, signing_secret, require_signature) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  s.Bind(1, k.id).Bind(2, k.user_id).Bind(3, k.name).Bind(4, EnvText(k.environment));
  s.Bind(5, JoinScopes(k.scopes)).Bind(6, k.display).BindBlob(7, k.hash.data(), k.hash.size());
  s.Bind(8, k.created_at).Bind(9, k.expires_at).Bind(10, k.revoked_at);
  s.Bind(11, k.last_used_at).Bind(12, k.rotated_from);
  s.BindBlobOrNull(13, k.signing_secret);
  s.Bind(14, static_cast<std::int64_t>(k.require_signature ? 1 : 0));
  Status st = s.Run();
  if (st.code() == StatusCode::kNotFound) return NotFoundError("user " + k.user_id + " does not exist");
  if (st.code() == StatusCode::kAlreadyExists) return AlreadyExistsError("key id or hash clash");
  return st;
}

// Revokes at `at` unless revoked already (a revocation keeps its first time).
Status SqliteKeyStore::RevokeKeyLocked(Db& db, const std::string& id, UnixMillis at) {
  KW_ASSIGN_OR_RETURN(Stmt s, db.Prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"));
  return s.Bind(1, at).Bind(2, id).Run();
}

StatusOr<ApiKey> SqliteKeyStore::GetKeyLocked(Db& db, const std::string& id) {
  KW_ASSIGN_OR_RETURN(Stmt s, db.Prepare("SELECT " KW_KEY_COLUMNS " FROM api_keys k WHERE k.id = ?"));
  s.Bind(1, id);
  return One(s, ReadKeyRow, "key " + id + " does not exist");
}

Status SqliteKeyStore::InsertUserLocked(const User& user) {
  KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
      "INSERT INTO users (id, external_id, name, email, disabled, created_at, rate_limit, "
      "test_rate_limit, monthly_credits, allowed_scopes, require_signature) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  BindUser(s, user);
  s.Bind(6, user.created_at);
  Status st = s.Run();
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError(user.external_id
                                  ? "a user with external_id '" + *user.external_id + "' already exists"
                                  : "user id clash");
  }
  return st;
}

Status SqliteKeyStore::CreateUser(const User& user, const ApiKey* first_key) {
  std::lock_guard lock(shared_.mu);
  Transaction tx(db());
  KW_RETURN_IF_ERROR(tx.Begin());
  KW_RETURN_IF_ERROR(InsertUserLocked(user));
  if (first_key) KW_RETURN_IF_ERROR(InsertKeyLocked(*first_key));
  return tx.Commit();
}

StatusOr<User> SqliteKeyStore::GetUser(const std::string& id) {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare("SELECT " KW_USER_COLUMNS " FROM users u WHERE u.id = ?"));
  s.Bind(1, id);
  return One(s, ReadUserRow, "user " + id + " does not exist");
}

StatusOr<User> SqliteKeyStore::FindUserByExternalId(const std::string& external_id) {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      "SELECT " KW_USER_COLUMNS " FROM users u WHERE u.external_id = ?"));
  s.Bind(1, external_id);
  return One(s, ReadUserRow, "no user has external_id '" + external_id + "'");
}

StatusOr<Page<User>> SqliteKeyStore::ListUsers(const PageRequest& page) {
  KW_ASSIGN_OR_RETURN(std::optional<CursorPosition> after, CheckPage(page));
  Reader r = ForRead();
  // Two statements, so that each walks the (created_at, id) index from its start.
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      after ? "SELECT " KW_USER_COLUMNS " FROM users u WHERE (u.created_at, u.id) > (?1, ?2) "
              "ORDER BY u.created_at, u.id LIMIT ?3"
            : "SELECT " KW_USER_COLUMNS " FROM users u ORDER BY u.created_at, u.id LIMIT ?3"));
  if (after) s.Bind(1, after->at).Bind(2, after->id);
  s.Bind(3, static_cast<std::int64_t>(page.limit) + 1);
  KW_ASSIGN_OR_RETURN(std::vector<User> rows, All(s, ReadUserRow));
  return MakePage(std::move(rows), page.limit,
                  [](const User& u) { return EncodeCursor(u.created_at, u.id); });
}

Status SqliteKeyStore::UpdateUser(const User& user) {
  std::lock_guard lock(shared_.mu);
  KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
      "UPDATE users SET external_id = ?2, name = ?3, email = ?4, disabled = ?5, "
      "rate_limit = ?7, test_rate_limit = ?8, monthly_credits = ?9, allowed_scopes = ?10, "
      "require_signature = ?11 WHERE id = ?1"));
  BindUser(s, user);
  Status st = s.Run();
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("another user already has that external_id");
  }
  KW_RETURN_IF_ERROR(st);
  if (db().Changes() == 0) return NotFoundError("user " + user.id + " does not exist");
  return OkStatus();
}

Status SqliteKeyStore::DeleteUser(const std::string& id) {
  std::lock_guard lock(shared_.mu);
  KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare("DELETE FROM users WHERE id = ?"));
  s.Bind(1, id);
  KW_RETURN_IF_ERROR(s.Run());
  if (db().Changes() == 0) return NotFoundError("user " + id + " does not exist");
  return OkStatus();
}

Status SqliteKeyStore::InsertKey(const ApiKey& key) {
  std::lock_guard lock(shared_.mu);
  return InsertKeyLocked(key);
}

StatusOr<ApiKey> SqliteKeyStore::GetKey(const std::string& id) {
  Reader r = ForRead();
  return GetKeyLocked(r.db(), id);
}

StatusOr<KeyWithUser> SqliteKeyStore::LookupKey(const KeyHash& hash) {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      "SELECT " KW_KEY_COLUMNS ", " KW_USER_COLUMNS
      " FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.hash = ?"));
  s.BindBlob(1, hash.data(), hash.size());
  return One(s, [](const Stmt& r) { return KeyWithUser{ReadKey(r, 0), ReadUser(r, kKeyColumns)}; },
             "no such key");
}

StatusOr<KeyWithUser> SqliteKeyStore::LookupKeyById(const std::string& id) {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      "SELECT " KW_KEY_COLUMNS ", " KW_USER_COLUMNS
      " FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = ?"));
  s.Bind(1, id);
  return One(s, [](const Stmt& r) { return KeyWithUser{ReadKey(r, 0), ReadUser(r, kKeyColumns)}; },
             "no such key");
}

Status SqliteKeyStore::SetSigningSecrets(const std::vector<std::pair<std::string, std::string>>& sealed) {
  if (sealed.empty()) return OkStatus();
  std::lock_guard lock(shared_.mu);
  Transaction tx(db());
  KW_RETURN_IF_ERROR(tx.Begin());
  for (const auto& [id, value] : sealed) {
    KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
        "UPDATE api_keys SET signing_secret = ?1 WHERE id = ?2 AND signing_secret IS NULL"));
    s.BindBlob(1, value.data(), value.size()).Bind(2, id);
    KW_RETURN_IF_ERROR(s.Run());
  }
  return tx.Commit();
}

StatusOr<std::vector<std::pair<std::string, std::string>>> SqliteKeyStore::ListSigningSecrets() {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      "SELECT id, signing_secret FROM api_keys WHERE signing_secret IS NOT NULL ORDER BY id"));
  return All(s, [](const Stmt& row) { return std::make_pair(row.Text(0), row.Blob(1)); });
}

StatusOr<Page<ApiKey>> SqliteKeyStore::ListKeys(const std::string& user_id, const PageRequest& page) {
  KW_ASSIGN_OR_RETURN(std::optional<CursorPosition> after, CheckPage(page));
  Reader r = ForRead();
  KW_RETURN_IF_ERROR(UserExistsLocked(user_id));
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      after ? "SELECT " KW_KEY_COLUMNS " FROM api_keys k WHERE k.user_id = ?4 "
              "AND (k.created_at, k.id) > (?1, ?2) ORDER BY k.created_at, k.id LIMIT ?3"
            : "SELECT " KW_KEY_COLUMNS " FROM api_keys k WHERE k.user_id = ?4 "
              "ORDER BY k.created_at, k.id LIMIT ?3"));
  if (after) s.Bind(1, after->at).Bind(2, after->id);
  s.Bind(3, static_cast<std::int64_t>(page.limit) + 1).Bind(4, user_id);
  KW_ASSIGN_OR_RETURN(std::vector<ApiKey> rows, All(s, ReadKeyRow));
  return MakePage(std::move(rows), page.limit,
                  [](const ApiKey& k) { return EncodeCursor(k.created_at, k.id); });
}

StatusOr<ApiKey> SqliteKeyStore::RevokeKey(const std::string& id, UnixMillis now) {
  std::lock_guard lock(shared_.mu);
  KW_RETURN_IF_ERROR(RevokeKeyLocked(db(), id, now));
  return GetKeyLocked(db(), id);
}

StatusOr<std::int64_t> SqliteKeyStore::RevokeAllKeys(const std::string& user_id, UnixMillis now) {
  std::lock_guard lock(shared_.mu);
  KW_RETURN_IF_ERROR(UserExistsLocked(user_id));
  KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
      "UPDATE api_keys SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL"));
  s.Bind(1, now).Bind(2, user_id);
  KW_RETURN_IF_ERROR(s.Run());
  return db().Changes();
}

Status SqliteKeyStore::RotateKey(const ApiKey& new_key, UnixMillis old_expires_at) {
  if (!new_key.rotated_from) return InvalidArgumentError("new key does not name the key it replaces");
  std::lock_guard lock(shared_.mu);
  Transaction tx(db());
  KW_RETURN_IF_ERROR(tx.Begin());
  KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare("UPDATE api_keys SET expires_at = ? WHERE id = ?"));
  s.Bind(1, old_expires_at).Bind(2, *new_key.rotated_from);
  KW_RETURN_IF_ERROR(s.Run());
  if (db().Changes() == 0) return NotFoundError("key " + *new_key.rotated_from + " does not exist");
  KW_RETURN_IF_ERROR(InsertKeyLocked(new_key));
  return tx.Commit();
}

Status SqliteKeyStore::DeleteKey(const std::string& id) {
  std::lock_guard lock(shared_.mu);
  KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare("DELETE FROM api_keys WHERE id = ?"));
  s.Bind(1, id);
  KW_RETURN_IF_ERROR(s.Run());
  if (db().Changes() == 0) return NotFoundError("key " + id + " does not exist");
  return OkStatus();
}

Status SqliteKeyStore::TouchKeys(const std::vector<std::pair<std::string, UnixMillis>>& uses) {
  if (uses.empty()) return OkStatus();
  std::lock_guard lock(shared_.mu);
  Transaction tx(db());
  KW_RETURN_IF_ERROR(tx.Begin());
  for (const auto& [id, at] : uses) {
    KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
        "UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 "
        "AND (last_used_at IS NULL OR last_used_at < ?1)"));
    s.Bind(1, at).Bind(2, id);
    KW_RETURN_IF_ERROR(s.Run());
  }
  return tx.Commit();
}

Status SqliteKeyStore::ImportLegacyKeys(const std::vector<LegacyImport>& batch, const LegacyKeyUpdates& updates) {
  std::lock_guard lock(shared_.mu);
  Transaction tx(db());
  KW_RETURN_IF_ERROR(tx.Begin());
  for (const LegacyImport& item : batch) {
    if (item.new_user) KW_RETURN_IF_ERROR(InsertUserLocked(*item.new_user));
    KW_RETURN_IF_ERROR(InsertKeyLocked(item.key));
    KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
        "INSERT INTO legacy_keys (key_id, prefix, legacy_hash, source) VALUES (?, ?, ?, ?)"));
    s.Bind(1, item.key.id).Bind(2, item.legacy.prefix).Bind(3, item.legacy.legacy_hash);
    s.Bind(4, item.legacy.source);
    Status st = s.Run();
    if (st.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError("prefix " + item.legacy.prefix + " is imported already");
    }
    KW_RETURN_IF_ERROR(st);
  }
  for (const std::string& id : updates.revoke) KW_RETURN_IF_ERROR(RevokeKeyLocked(db(), id, updates.revoked_at));
  for (const auto& [id, at] : updates.expire) {
    KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare(
        "UPDATE api_keys SET expires_at = ?1 WHERE id = ?2 AND (expires_at IS NULL OR expires_at > ?1)"));
    KW_RETURN_IF_ERROR(s.Bind(1, at).Bind(2, id).Run());
  }
  return tx.Commit();
}

StatusOr<std::vector<std::pair<std::string, bool>>> SqliteKeyStore::ListLegacyPrefixes() {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare("SELECT prefix, legacy_hash IS NOT NULL FROM legacy_keys"));
  return All(s, [](const Stmt& row) { return std::make_pair(row.Text(0), row.Int(1) != 0); });
}

StatusOr<std::pair<KeyWithUser, LegacyKey>> SqliteKeyStore::LookupLegacyKey(const std::string& prefix) {
  Reader r = ForRead();
  KW_ASSIGN_OR_RETURN(Stmt s, r.db().Prepare(
      "SELECT " KW_KEY_COLUMNS ", " KW_USER_COLUMNS ", l.prefix, l.legacy_hash, l.source"
      " FROM legacy_keys l JOIN api_keys k ON k.id = l.key_id JOIN users u ON u.id = k.user_id"
      " WHERE l.prefix = ?"));
  s.Bind(1, prefix);
  return One(s, [](const Stmt& row) {
    constexpr int c = kKeyColumns + kUserColumns;
    KeyWithUser kw{ReadKey(row, 0), ReadUser(row, kKeyColumns)};
    LegacyKey legacy{kw.key.id, row.Text(c), row.OptText(c + 1).value_or(""), row.Text(c + 2)};
    return std::make_pair(std::move(kw), std::move(legacy));
  }, "no key was imported with prefix " + prefix);
}

Status SqliteKeyStore::CompleteLegacyKey(const std::string& key_id, const KeyHash& hash) {
  std::lock_guard lock(shared_.mu);
  Transaction tx(db());
  KW_RETURN_IF_ERROR(tx.Begin());
  KW_ASSIGN_OR_RETURN(Stmt pending, db().Prepare(
      "UPDATE legacy_keys SET legacy_hash = NULL WHERE key_id = ? AND legacy_hash IS NOT NULL"));
  pending.Bind(1, key_id);
  KW_RETURN_IF_ERROR(pending.Run());
  if (db().Changes() == 0) {
    KW_ASSIGN_OR_RETURN(Stmt known, db().Prepare("SELECT 1 FROM legacy_keys WHERE key_id = ?"));
    known.Bind(1, key_id);
    KW_RETURN_IF_ERROR(One(known, [](const Stmt&) { return true; }, "key " + key_id + " was not imported").status());
    return tx.Commit();  // rehashed already
  }
  KW_ASSIGN_OR_RETURN(Stmt s, db().Prepare("UPDATE api_keys SET hash = ? WHERE id = ?"));
  s.BindBlob(1, hash.data(), hash.size()).Bind(2, key_id);
  Status st = s.Run();
  if (st.code() == StatusCode::kAlreadyExists) return AlreadyExistsError("key hash clash");
  KW_RETURN_IF_ERROR(st);
  return tx.Commit();
}

}  // namespace keyward::store::sqlite

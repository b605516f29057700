// key_store.cc: users and API keys on PostgreSQL. Values travel as text
// parameters; key hashes as bytea in hex form.
#include "store/postgres/key_store.h"

#include <cstdlib>

#include "store/cursor.h"
#include "store/postgres/connection.h"
#include "store/rows.h"

namespace keyward::store::postgres {
namespace {

#define KW_USER_COLUMNS \
  "u.id, u.external_id, u.name, u.email, u.disabled, u.created_at, u.rate_limit, " \
  "u.test_rate_limit, u.monthly_credits, u.allowed_scopes, u.require_signature"
#define KW_KEY_COLUMNS \
  "k.id, k.user_id, k.name, k.environment, k.scopes, k.display, encode(k.hash, 'hex'), " \
  "k.created_at, k.expires_at, k.revoked_at, k.last_used_at, k.rotated_from, " \
  "encode(k.signing_secret, 'hex'), k.require_signature"
constexpr int kKeyColumns = 14;
constexpr int kUserColumns = 11;

std::string HashParam(const KeyHash& h) {
  return ByteaParam(std::string_view(reinterpret_cast<const char*>(h.data()), h.size()));
}

std::optional<double> OptDouble(const Result& r, int row, int col) {
  if (r.IsNull(row, col)) return std::nullopt;
  return std::strtod(r.Text(row, col).c_str(), nullptr);
}

User ReadUser(const Result& r, int row, int c) {
  User u;
  u.id = r.Text(row, c + 0);
  u.external_id = r.OptText(row, c + 1);
  u.name = r.Text(row, c + 2);
  u.email = r.OptText(row, c + 3);
  u.disabled = r.Text(row, c + 4) == "t";
  u.created_at = r.Int(row, c + 5);
  u.plan.rate_limit = OptDouble(r, row, c + 6);
  u.plan.test_rate_limit = OptDouble(r, row, c + 7);
  u.plan.monthly_credits = r.OptInt(row, c + 8);
  u.plan.allowed_scopes = SplitScopes(r.Text(row, c + 9));
  u.plan.require_signature = r.Text(row, c + 10) == "t";
  return u;
}

ApiKey ReadKey(const Result& r, int row, int c) {
  ApiKey k;
  k.id = r.Text(row, c + 0);
  k.user_id = r.Text(row, c + 1);
  k.name = r.Text(row, c + 2);
  k.environment = ReadEnv(r.Text(row, c + 3));
  k.scopes = SplitScopes(r.Text(row, c + 4));
  k.display = r.Text(row, c + 5);
  const std::string hash = FromHex(r.Text(row, c + 6));
  if (hash.size() == k.hash.size()) std::copy(hash.begin(), hash.end(), k.hash.begin());
  k.created_at = r.Int(row, c + 7);
  k.expires_at = r.OptInt(row, c + 8);
  k.revoked_at = r.OptInt(row, c + 9);
  k.last_used_at = r.OptInt(row, c + 10);
  k.rotated_from = r.OptText(row, c + 11);
  if (!r.IsNull(row, c + 12)) k.signing_secret = FromHex(r.Text(row, c + 12));
  k.require_signature = r.Text(row, c + 13) == "t";
  return k;
}

// $1..$10: the user's fields a caller may change, id first (created_at, set
// once, is appended by the insert as $11).
Params UserFields(const User& u) {
  return {u.id, u.external_id, u.name, u.email, u.disabled ? "true" : "false",
          Num(u.plan.rate_limit), Num(u.plan.test_rate_limit), Num(u.plan.monthly_credits),
          JoinScopes(u.plan.allowed_scopes), u.plan.require_signature ? "true" : "false"};
}

std::optional<std::string> OptBytea(const std::string& bytes) {
  if (bytes.empty()) return std::nullopt;
  return ByteaParam(bytes);
}

Status InsertKeyOn(Conn& c, const ApiKey& k) {
  Status st = c.Exec(
      "INSERT INTO api_keys (id, user_id, name, environment, scopes, display, hash, created_at, "
      "expires_at, revoked_at, last_used_at, rotated_from, signing_secret, require_signature) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7::bytea, $8, $9, $10, $11, $12, $13::bytea, $14)",
      {k.id, k.user_id, k.name, Env(k.environment), JoinScopes(k.scopes),
       k.display, HashParam(k.hash), Num(k.created_at), Num(k.expires_at), Num(k.revoked_at),
       Num(k.last_used_at), k.rotated_from, OptBytea(k.signing_secret),
       k.require_signature ? "true" : "false"}).status();
  if (st.code() == StatusCode::kNotFound) return NotFoundError("user " + k.user_id + " does not exist");
  if (st.code() == StatusCode::kAlreadyExists) return AlreadyExistsError("key id or hash clash");
  return st;
}

// Revokes at `at` unless revoked already (a revocation keeps its first time).
Status RevokeKeyOn(Conn& c, const std::string& id, UnixMillis at) {
  return c.Exec("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", {Num(at), id}).status();
}

StatusOr<ApiKey> GetKeyOn(Conn& c, const std::string& id) {
  KW_ASSIGN_OR_RETURN(Result r, c.Exec("SELECT " KW_KEY_COLUMNS " FROM api_keys k WHERE k.id = $1", {id}));
  if (r.rows() == 0) return NotFoundError("key " + id + " does not exist");
  return ReadKey(r, 0, 0);
}

Status UserExistsOn(Conn& c, const std::string& id) {
  KW_ASSIGN_OR_RETURN(Result r, c.Exec("SELECT 1 FROM users WHERE id = $1", {id}));
  if (r.rows() == 0) return NotFoundError("user " + id + " does not exist");
  return OkStatus();
}

StatusOr<User> OneUser(StatusOr<Result> r, std::string not_found) {
  KW_RETURN_IF_ERROR(r.status());
  if (r->rows() == 0) return NotFoundError(std::move(not_found));
  return ReadUser(*r, 0, 0);
}

Status InsertUserOn(Conn& c, const User& user) {
  Status st = c.Exec(
      "INSERT INTO users (id, external_id, name, email, disabled, rate_limit, test_rate_limit, "
      "monthly_credits, allowed_scopes, require_signature, created_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
      [&] {
        Params p = UserFields(user);
        p.push_back(Num(user.created_at));
        return p;
      }()).status();
  if (st.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError(user.external_id
                                  ? "a user with external_id '" + *user.external_id + "' already exists"
                                  : "user id clash");
  }
  return st;
}

}  // namespace

Status PgKeyStore::CreateUser(const User& user, const ApiKey* first_key) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  Transaction tx(*c);
  KW_RETURN_IF_ERROR(tx.Begin());
  KW_RETURN_IF_ERROR(InsertUserOn(*c, user));
  if (first_key) KW_RETURN_IF_ERROR(InsertKeyOn(*c, *first_key));
  return tx.Commit();
}

StatusOr<User> PgKeyStore::GetUser(const std::string& id) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  return OneUser(c->Exec("SELECT " KW_USER_COLUMNS " FROM users u WHERE u.id = $1", {id}),
                 "user " + id + " does not exist");
}

StatusOr<User> PgKeyStore::FindUserByExternalId(const std::string& external_id) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  return OneUser(c->Exec("SELECT " KW_USER_COLUMNS " FROM users u WHERE u.external_id = $1", {external_id}),
                 "no user has external_id '" + external_id + "'");
}

StatusOr<Page<User>> PgKeyStore::ListUsers(const PageRequest& page) {
  KW_ASSIGN_OR_RETURN(std::optional<CursorPosition> after, CheckPage(page));
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, ExecPage(*c, page.limit, after,
                                         "SELECT " KW_USER_COLUMNS " FROM users u "
                                         "ORDER BY u.created_at, u.id LIMIT $1",
                                         "SELECT " KW_USER_COLUMNS " FROM users u "
                                         "WHERE (u.created_at, u.id) > ($2, $3) "
                                         "ORDER BY u.created_at, u.id LIMIT $1",
                                         {}));
  std::vector<User> rows;
  for (int i = 0; i < r.rows(); ++i) rows.push_back(ReadUser(r, i, 0));
  return MakePage(std::move(rows), page.limit,
                  [](const User& u) { return EncodeCursor(u.created_at, u.id); });
}

Status PgKeyStore::UpdateUser(const User& user) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  StatusOr<Result> r = c->Exec(
      "UPDATE users SET external_id = $2, name = $3, email = $4, disabled = $5, "
      "rate_limit = $6, test_rate_limit = $7, monthly_credits = $8, allowed_scopes = $9, "
      "require_signature = $10 WHERE id = $1",
      UserFields(user));
  if (r.status().code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("another user already has that external_id");
  }
  KW_RETURN_IF_ERROR(r.status());
  if (r->affected() == 0) return NotFoundError("user " + user.id + " does not exist");
  return OkStatus();
}

Status PgKeyStore::DeleteUser(const std::string& id) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("DELETE FROM users WHERE id = $1", {id}));
  if (r.affected() == 0) return NotFoundError("user " + id + " does not exist");
  return OkStatus();
}

Status PgKeyStore::InsertKey(const ApiKey& key) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  return InsertKeyOn(*c, key);
}

StatusOr<ApiKey> PgKeyStore::GetKey(const std::string& id) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  return GetKeyOn(*c, id);
}

StatusOr<KeyWithUser> PgKeyStore::LookupKey(const KeyHash& hash) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("SELECT " KW_KEY_COLUMNS ", " KW_USER_COLUMNS
                                        " FROM api_keys k JOIN users u ON u.id = k.user_id "
                                        "WHERE k.hash = $1::bytea",
                                        {HashParam(hash)}));
  if (r.rows() == 0) return NotFoundError("no such key");
  return KeyWithUser{ReadKey(r, 0, 0), ReadUser(r, 0, kKeyColumns)};
}

StatusOr<KeyWithUser> PgKeyStore::LookupKeyById(const std::string& id) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("SELECT " KW_KEY_COLUMNS ", " KW_USER_COLUMNS
                                        " FROM api_keys k JOIN users u ON u.id = k.user_id "
                                        "WHERE k.id = $1",
                                        {id}));
  if (r.rows() == 0) return NotFoundError("no such key");
  return KeyWithUser{ReadKey(r, 0, 0), ReadUser(r, 0, kKeyColumns)};
}

Status PgKeyStore::SetSigningSecrets(const std::vector<std::pair<std::string, std::string>>& sealed) {
  if (sealed.empty()) return OkStatus();
  std::vector<std::optional<std::string>> ids, values;
  for (const auto& [id, value] : sealed) ids.push_back(id), values.push_back(ByteaParam(value));
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  return c->ExecOnce("UPDATE api_keys k SET signing_secret = s.value "
                     "FROM (SELECT id, value FROM unnest($1::text[], $2::bytea[]) AS t(id, value) "
                     "ORDER BY id) s "
                     "WHERE k.id = s.id AND k.signing_secret IS NULL",
                     {ArrayParam(ids), ArrayParam(values)})
      .status();
}

StatusOr<std::vector<std::pair<std::string, std::string>>> PgKeyStore::ListSigningSecrets() {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("SELECT id, encode(signing_secret, 'hex') FROM api_keys "
                                        "WHERE signing_secret IS NOT NULL ORDER BY id"));
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0), FromHex(r.Text(i, 1)));
  return out;
}

StatusOr<Page<ApiKey>> PgKeyStore::ListKeys(const std::string& user_id, const PageRequest& page) {
  KW_ASSIGN_OR_RETURN(std::optional<CursorPosition> after, CheckPage(page));
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_RETURN_IF_ERROR(UserExistsOn(*c, user_id));
  KW_ASSIGN_OR_RETURN(Result r, ExecPage(*c, page.limit, after,
                                         "SELECT " KW_KEY_COLUMNS " FROM api_keys k WHERE k.user_id = $2 "
                                         "ORDER BY k.created_at, k.id LIMIT $1",
                                         "SELECT " KW_KEY_COLUMNS " FROM api_keys k WHERE k.user_id = $2 "
                                         "AND (k.created_at, k.id) > ($3, $4) "
                                         "ORDER BY k.created_at, k.id LIMIT $1",
                                         {user_id}));
  std::vector<ApiKey> rows;
  for (int i = 0; i < r.rows(); ++i) rows.push_back(ReadKey(r, i, 0));
  return MakePage(std::move(rows), page.limit,
                  [](const ApiKey& k) { return EncodeCursor(k.created_at, k.id); });
}

StatusOr<ApiKey> PgKeyStore::RevokeKey(const std::string& id, UnixMillis now) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_RETURN_IF_ERROR(RevokeKeyOn(*c, id, now));
  return GetKeyOn(*c, id);
}

StatusOr<std::int64_t> PgKeyStore::RevokeAllKeys(const std::string& user_id, UnixMillis now) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_RETURN_IF_ERROR(UserExistsOn(*c, user_id));
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("UPDATE api_keys SET revoked_at = $1 "
                                        "WHERE user_id = $2 AND revoked_at IS NULL",
                                        {Num(now), user_id}));
  return r.affected();
}

Status PgKeyStore::RotateKey(const ApiKey& new_key, UnixMillis old_expires_at) {
  if (!new_key.rotated_from) return InvalidArgumentError("new key does not name the key it replaces");
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  Transaction tx(*c);
  KW_RETURN_IF_ERROR(tx.Begin());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("UPDATE api_keys SET expires_at = $1 WHERE id = $2",
                                        {Num(old_expires_at), *new_key.rotated_from}));
  if (r.affected() == 0) return NotFoundError("key " + *new_key.rotated_from + " does not exist");
  KW_RETURN_IF_ERROR(InsertKeyOn(*c, new_key));
  return tx.Commit();
}

Status PgKeyStore::DeleteKey(const std::string& id) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("DELETE FROM api_keys WHERE id = $1", {id}));
  if (r.affected() == 0) return NotFoundError("key " + id + " does not exist");
  return OkStatus();
}

// One statement for every use remembered since the last flush, in id order
// (concurrent flushes from several nodes lock rows in one order).
Status PgKeyStore::TouchKeys(const std::vector<std::pair<std::string, UnixMillis>>& uses) {
  if (uses.empty()) return OkStatus();
  std::vector<std::optional<std::string>> ids, ats;
  for (const auto& [id, at] : uses) ids.push_back(id), ats.push_back(Num(at));
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  return c->ExecOnce("UPDATE api_keys k SET last_used_at = u.at "
                 "FROM (SELECT id, max(at) AS at FROM unnest($1::text[], $2::bigint[]) AS t(id, at) "
                 "GROUP BY id ORDER BY id) u "
                 "WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)",
                 {ArrayParam(ids), ArrayParam(ats)})
      .status();
}

Status PgKeyStore::ImportLegacyKeys(const std::vector<LegacyImport>& batch, const LegacyKeyUpdates& updates) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  Transaction tx(*c);
  KW_RETURN_IF_ERROR(tx.Begin());
  for (const LegacyImport& item : batch) {
    if (item.new_user) KW_RETURN_IF_ERROR(InsertUserOn(*c, *item.new_user));
    KW_RETURN_IF_ERROR(InsertKeyOn(*c, item.key));
    Status st = c->Exec("INSERT INTO legacy_keys (key_id, prefix, legacy_hash, source) VALUES ($1, $2, $3, $4)",
                        {item.key.id, item.legacy.prefix, item.legacy.legacy_hash, item.legacy.source})
                    .status();
    if (st.code() == StatusCode::kAlreadyExists) {
      return AlreadyExistsError("prefix " + item.legacy.prefix + " is imported already");
    }
    KW_RETURN_IF_ERROR(st);
  }
  for (const std::string& id : updates.revoke) KW_RETURN_IF_ERROR(RevokeKeyOn(*c, id, updates.revoked_at));
  for (const auto& [id, at] : updates.expire) {
    KW_RETURN_IF_ERROR(c->Exec("UPDATE api_keys SET expires_at = $1 WHERE id = $2 "
                               "AND (expires_at IS NULL OR expires_at > $1)",
                               {Num(at), id}).status());
  }
  return tx.Commit();
}

StatusOr<std::vector<std::pair<std::string, bool>>> PgKeyStore::ListLegacyPrefixes() {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec("SELECT prefix, legacy_hash IS NOT NULL FROM legacy_keys"));
  std::vector<std::pair<std::string, bool>> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.Text(i, 0), r.Text(i, 1) == "t");
  return out;
}

StatusOr<std::pair<KeyWithUser, LegacyKey>> PgKeyStore::LookupLegacyKey(const std::string& prefix) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  KW_ASSIGN_OR_RETURN(Result r, c->Exec(
      "SELECT " KW_KEY_COLUMNS ", " KW_USER_COLUMNS ", l.prefix, l.legacy_hash, l.source"
      " FROM legacy_keys l JOIN api_keys k ON k.id = l.key_id JOIN users u ON u.id = k.user_id"
      " WHERE l.prefix = $1",
      {prefix}));
  if (r.rows() == 0) return NotFoundError("no key was imported with prefix " + prefix);
  constexpr int col = kKeyColumns + kUserColumns;
  KeyWithUser kw{ReadKey(r, 0, 0), ReadUser(r, 0, kKeyColumns)};
  LegacyKey legacy{kw.key.id, r.Text(0, col), r.OptText(0, col + 1).value_or(""), r.Text(0, col + 2)};
  return std::make_pair(std::move(kw), std::move(legacy));
}

Status PgKeyStore::CompleteLegacyKey(const std::string& key_id, const KeyHash& hash) {
  KW_ASSIGN_OR_RETURN(Pool::Lease c, pool_.Acquire());
  Transaction tx(*c);
  KW_RETURN_IF_ERROR(tx.Begin());
  KW_ASSIGN_OR_RETURN(Result pending, c->Exec("UPDATE legacy_keys SET legacy_hash = NULL "
                                              "WHERE key_id = $1 AND legacy_hash IS NOT NULL",
                                              {key_id}));
  if (pending.affected() == 0) {
    KW_ASSIGN_OR_RETURN(Result known, c->Exec("SELECT 1 FROM legacy_keys WHERE key_id = $1", {key_id}));
    if (known.rows() == 0) return NotFoundError("key " + key_id + " was not imported");
    return tx.Commit();  // rehashed already
  }
  Status st = c->Exec("UPDATE api_keys SET hash = $1::bytea WHERE id = $2", {HashParam(hash), key_id}).status();
  if (st.code() == StatusCode::kAlreadyExists) return AlreadyExistsError("key hash clash");
  KW_RETURN_IF_ERROR(st);
  return tx.Commit();
}

}  // namespace keyward::store::postgres

// drf_import.cc: see drf_import.h. The Django database is only read: every
// value is selected as text, so that one reader serves SQLite and
// PostgreSQL alike.
#include "auth/drf_import.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <set>

#include "auth/accounts.h"
#include "auth/legacy_hash.h"
#include "auth/legacy_keys.h"
#include "core/crypto.h"
#include "core/ids.h"
#include "core/time_format.h"
#include "store/backend.h"
#include "store/postgres/connection.h"
#include "store/sqlite/connection.h"

namespace keyward::auth {
namespace {

using Row = std::vector<std::optional<std::string>>;

// The Django database, read only.
class Source {
 public:
  virtual ~Source() = default;
  // The table's column names; empty if there is no such table.
  virtual StatusOr<std::set<std::string>> Columns(const std::string& table) = 0;
  virtual StatusOr<std::vector<Row>> Rows(const std::string& sql) = 0;
  // An SQL expression for `column` as text.
  virtual std::string AsText(const std::string& column) const = 0;
};

class SqliteSource final : public Source {
 public:
  Status Open(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return NotFoundError("no Django database at " + path);
    }
    return db_.Open(path, 5000);
  }
  StatusOr<std::set<std::string>> Columns(const std::string& table) override {
    KW_ASSIGN_OR_RETURN(store::sqlite::Stmt s, db_.Prepare("SELECT name FROM pragma_table_info(?)"));
    s.Bind(1, table);
    std::set<std::string> out;
    Status st;
    while (s.Step(&st)) out.insert(s.Text(0));
    KW_RETURN_IF_ERROR(st);
    return out;
  }
  StatusOr<std::vector<Row>> Rows(const std::string& sql) override {
    KW_ASSIGN_OR_RETURN(store::sqlite::Stmt s, db_.Prepare(sql.c_str()));
    std::vector<Row> out;
    Status st;
    const int n = s.ColumnCount();
    while (s.Step(&st)) {
      Row r;
      for (int i = 0; i < n; ++i) r.push_back(s.OptText(i));
      out.push_back(std::move(r));
    }
    KW_RETURN_IF_ERROR(st);
    return out;
  }
  std::string AsText(const std::string& column) const override { return "CAST(" + column + " AS TEXT)"; }

 private:
  store::sqlite::Db db_;
};

class PostgresSource final : public Source {
 public:
  Status Open(const std::string& uri) {
    KW_ASSIGN_OR_RETURN(conn_, store::postgres::Conn::Open({.conninfo = uri, .statement_timeout_ms = 0, .connect_timeout_s = 5}));
    // Times with a zone print in UTC, with their offset.
    return conn_->Run("SET TimeZone = 'UTC'; SET default_transaction_read_only = on");
  }
  StatusOr<std::set<std::string>> Columns(const std::string& table) override {
    KW_ASSIGN_OR_RETURN(store::postgres::Result r, conn_->Exec(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = $1", {table}));
    std::set<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.insert(r.Text(i, 0));
    return out;
  }
  StatusOr<std::vector<Row>> Rows(const std::string& sql) override {
    KW_ASSIGN_OR_RETURN(store::postgres::Result r, conn_->Exec(sql));
    std::vector<Row> out;
    for (int i = 0; i < r.rows(); ++i) {
      Row row;
      for (int c = 0; c < r.columns(); ++c) row.push_back(r.OptText(i, c));
      out.push_back(std::move(row));
    }
    return out;
  }
  std::string AsText(const std::string& column) const override { return column + "::text"; }

 private:
  std::unique_ptr<store::postgres::Conn> conn_;
};

bool IsIdentifier(const std::string& s) {
  if (s.empty() || s.size() > 63 || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
}

std::string Quote(const std::string& id) { return "\"" + id + "\""; }  // REQUIRES: IsIdentifier(id)

bool Truthy(const std::optional<std::string>& v) {
  return v && (*v == "1" || *v == "t" || *v == "true" || *v == "True");
}

// The offset from UTC, in seconds, of a naive local time in `zone`; uses
// the C library's time zone database through TZ (the CLI is one thread).
StatusOr<std::int64_t> ZoneOffset(const std::string& zone, std::int64_t naive_utc_seconds) {
  if (zone == "UTC" || zone == "Etc/UTC") return std::int64_t{0};
  const std::string file = "/usr/share/zoneinfo/" + zone;
  struct stat st {};
  if (zone.find("..") != std::string::npos || ::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return InvalidArgumentError("unknown time zone '" + zone + "' (an IANA name, e.g. Europe/Berlin)");
  }
  const char* old = std::getenv("TZ");
  const std::string saved = old ? old : "";
  ::setenv("TZ", zone.c_str(), 1);
  ::tzset();
  std::time_t t = static_cast<std::time_t>(naive_utc_seconds);
  std::tm parts{};
  ::gmtime_r(&t, &parts);
  parts.tm_isdst = -1;
  const std::time_t local = std::mktime(&parts);
  if (old) ::setenv("TZ", saved.c_str(), 1); else ::unsetenv("TZ");
  ::tzset();
  return static_cast<std::int64_t>(naive_utc_seconds - local);
}

}  // namespace

StatusOr<UnixMillis> ParseDjangoTime(const std::string& text, const std::string& time_zone) {
  auto bad = [&] { return InvalidArgumentError("not a time: '" + text.substr(0, 64) + "'"); };
  // Django prints "YYYY-MM-DD HH:MM:SS[.ffffff]", with PostgreSQL's offset
  // "+HH" (or "+HH:MM", "+HHMM") when the value has one; core::ParseRfc3339
  // reads it once the offset is in RFC 3339's form ("Z" for a naive time,
  // which is then moved by the zone's offset).
  if (text.find_first_of("tz") != std::string::npos) return bad();  // Django never prints these
  std::size_t end = std::min<std::size_t>(text.size(), 19);
  if (end < text.size() && text[end] == '.') {
    const std::size_t digits = std::min(text.find_first_not_of("0123456789", end + 1), text.size());
    if (digits - end - 1 > 9) return bad();
    end = digits;
  }
  std::string offset = text.substr(end);
  const bool naive = offset.empty();
  const bool sign = !naive && (offset[0] == '+' || offset[0] == '-');
  if (naive) {
    offset = "Z";
  } else if (sign && offset.size() == 3) {
    offset += ":00";
  } else if (sign && offset.size() == 5 && offset[3] != ':') {
    offset.insert(3, ":");
  }
  std::optional<UnixMillis> at = core::ParseRfc3339(text.substr(0, end) + offset);
  if (!at) return bad();
  if (!naive) return *at;
  KW_ASSIGN_OR_RETURN(std::int64_t zone_offset, ZoneOffset(time_zone, *at / 1000));
  return *at - zone_offset * 1000;
}

StatusOr<DrfImportReport> ImportDrf(KeyStore& store, const Clock& clock, const DrfImportOptions& options) {
  for (const std::string* id : {&options.table, &options.user_table}) {
    if (!IsIdentifier(*id)) return InvalidArgumentError("'" + *id + "' is not a table name (letters, digits, _)");
  }
  std::unique_ptr<Source> source;
  if (store::IsPostgresLocation(options.from)) {
    auto pg = std::make_unique<PostgresSource>();
    KW_RETURN_IF_ERROR(pg->Open(options.from));
    source = std::move(pg);
  } else {
    auto lite = std::make_unique<SqliteSource>();
    KW_RETURN_IF_ERROR(lite->Open(store::SqlitePath(options.from)));
    source = std::move(lite);
  }

  KW_ASSIGN_OR_RETURN(std::set<std::string> columns, source->Columns(options.table));
  if (columns.empty()) return NotFoundError("the Django database has no table " + options.table);
  for (const char* c : {"prefix", "hashed_key", "name", "created", "revoked", "expiry_date"}) {
    if (!columns.count(c)) {
      return NotFoundError("table " + options.table + " has no column " + c +
                           ": is it a djangorestframework-api-key table?");
    }
  }
  const bool has_user = columns.count("user_id") > 0, has_test = columns.count("is_test") > 0;
  if (has_user && options.owner) return InvalidArgumentError("--owner is for key tables without user_id");
  if (!has_user && !options.owner) {
    return InvalidArgumentError("table " + options.table + " has no user_id column: name the keys' owner with --owner");
  }
  auto text = [&](const char* c) { return source->AsText(Quote(c)); };
  std::string sql = "SELECT " + text("prefix") + ", " + text("hashed_key") + ", " + text("name") + ", " +
                    text("created") + ", " + text("revoked") + ", " + text("expiry_date") + ", " +
                    (has_user ? text("user_id") : std::string("NULL")) + ", " +
                    (has_test ? text("is_test") : std::string("NULL")) + " FROM " + Quote(options.table) +
                    " ORDER BY " + text("created") + ", " + text("prefix");
  KW_ASSIGN_OR_RETURN(std::vector<Row> rows, source->Rows(sql));

  // The owners: from the user table, by Django pk.
  std::map<std::string, Row> django_users;  // pk → username, email, first, last, is_active
  if (has_user) {
    KW_ASSIGN_OR_RETURN(std::set<std::string> ucols, source->Columns(options.user_table));
    if (!ucols.count("id")) return NotFoundError("the Django database has no user table " + options.user_table);
    auto opt = [&](const char* c) { return ucols.count(c) ? text(c) : std::string("NULL"); };
    KW_ASSIGN_OR_RETURN(std::vector<Row> users, source->Rows(
        "SELECT " + text("id") + ", " + opt("username") + ", " + opt("email") + ", " + opt("first_name") + ", " +
        opt("last_name") + ", " + opt("is_active") + " FROM " + Quote(options.user_table)));
    for (Row& u : users) {
      if (u[0]) django_users[*u[0]] = Row(u.begin() + 1, u.end());
    }
  }
  std::optional<User> fixed_owner;
  if (options.owner) {
    StatusOr<User> u = store.GetUser(*options.owner);
    if (!u.ok() && u.status().code() == StatusCode::kNotFound) u = store.FindUserByExternalId(*options.owner);
    if (!u.ok()) return NotFoundError("no keyward user " + *options.owner + " (--owner: a user id or external id)");
    fixed_owner = *u;
  }

  DrfImportReport report;
  std::vector<LegacyImport> batch;
  LegacyKeyUpdates updates;  // for keys revoked or given an earlier expiry in Django since their import
  std::map<std::string, std::string> owner_ids;  // external id → keyward user id (existing or new)
  std::set<std::string> prefixes;
  const UnixMillis now = clock.Now();
  const std::string source_name = "drf:" + options.table;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const std::string prefix = r[0].value_or("");
    const std::string where = "row " + std::to_string(i + 1) + " (prefix '" + prefix.substr(0, 64) + "')";
    std::string_view parsed_prefix;
    if (!SplitLegacyKey(prefix + ".x", &parsed_prefix) || parsed_prefix != prefix) {
      return InvalidArgumentError(where + ": a prefix is 1-64 letters or digits");
    }
    if (!prefixes.insert(prefix).second) return InvalidArgumentError(where + ": the prefix appears twice");
    const std::string hashed = r[1].value_or("");
    StatusOr<LegacyHash> hash = ParseLegacyHash(hashed);
    if (!hash.ok()) return InvalidArgumentError(where + ": " + hash.status().message());
    DrfImportedKey out;
    out.prefix = prefix;
    out.environment = Truthy(r[7]) ? "test" : "live";
    if (r[5]) {
      StatusOr<UnixMillis> expiry = ParseDjangoTime(*r[5], options.time_zone);
      if (!expiry.ok()) return InvalidArgumentError(where + ": expiry_date: " + expiry.status().message());
      out.expires_at = *expiry;
    }
    StatusOr<std::pair<KeyWithUser, LegacyKey>> known = store.LookupLegacyKey(prefix);
    if (known.ok()) {
      const ApiKey& mine = known->first.key;
      out.key_id = mine.id;
      out.user_id = known->first.user.id;
      bool changed = false;
      if (Truthy(r[4]) && !mine.revoked_at) {
        updates.revoke.push_back(out.key_id);
        report.revoked.push_back(out);
        changed = true;
      }
      if (out.expires_at && (!mine.expires_at || *mine.expires_at > *out.expires_at)) {
        updates.expire.emplace_back(out.key_id, *out.expires_at);
        report.expiry_moved.push_back(out);
        changed = true;
      }
      if (!changed) {
        out.reason = "imported already";
        report.skipped.push_back(std::move(out));
      }
      continue;
    }
    if (known.status().code() != StatusCode::kNotFound) return known.status();

    LegacyImport item;
    if (fixed_owner) {
      item.key.user_id = fixed_owner->id;
    } else {
      if (!r[6]) return InvalidArgumentError(where + ": no user_id");
      const std::string external_id = options.external_id_prefix + *r[6];
      auto seen = owner_ids.find(external_id);
      if (seen != owner_ids.end()) {
        item.key.user_id = seen->second;
      } else {
        StatusOr<User> existing = store.FindUserByExternalId(external_id);
        if (existing.ok()) {
          item.key.user_id = existing->id;
        } else if (existing.status().code() != StatusCode::kNotFound) {
          return existing.status();
        } else {
          auto du = django_users.find(*r[6]);
          if (du == django_users.end()) {
            return InvalidArgumentError(where + ": user " + *r[6] + " is not in " + options.user_table);
          }
          const Row& d = du->second;
          User u;
          KW_ASSIGN_OR_RETURN(u.id, core::NewId("usr"));
          u.external_id = external_id;
          std::string full = d[2].value_or("") + (d[2] && d[3] && !d[3]->empty() ? " " : "") + d[3].value_or("");
          u.name = d[0] && !d[0]->empty() ? *d[0] : !full.empty() ? full : "django user " + *r[6];
          if (d[1] && !d[1]->empty()) u.email = d[1];
          u.disabled = d[4] && !Truthy(d[4]);
          u.created_at = now;
          // The same rules as for a user made through the API.
          Status valid = ValidateName("name", u.name);
          if (valid.ok()) valid = ValidateExternalId(external_id);
          if (valid.ok() && u.email) valid = ValidateEmail(*u.email);
          if (!valid.ok()) return InvalidArgumentError(where + ": user " + *r[6] + ": " + valid.message());
          item.key.user_id = u.id;
          item.new_user = std::move(u);
          report.users_created.push_back(item.key.user_id);
        }
        owner_ids[external_id] = item.key.user_id;
      }
    }
    KW_ASSIGN_OR_RETURN(item.key.id, core::NewId("key"));
    item.key.name = r[2] && !r[2]->empty() ? *r[2] : "imported " + prefix;
    if (Status valid = ValidateName("key name", item.key.name); !valid.ok()) {
      return InvalidArgumentError(where + ": " + valid.message());
    }
    item.key.environment = out.environment == "test" ? Environment::kTest : Environment::kLive;
    item.key.scopes = {"*"};
    item.key.display = prefix + ".…";
    KW_RETURN_IF_ERROR(core::RandomBytes(item.key.hash.data(), item.key.hash.size()));  // placeholder
    if (!r[3]) return InvalidArgumentError(where + ": no created time");
    StatusOr<UnixMillis> created = ParseDjangoTime(*r[3], options.time_zone);
    if (!created.ok()) return InvalidArgumentError(where + ": created: " + created.status().message());
    item.key.created_at = *created;
    item.key.expires_at = out.expires_at;
    // Django keeps no revocation time: the import's is the nearest known.
    if (Truthy(r[4])) item.key.revoked_at = now;
    item.legacy = LegacyKey{item.key.id, prefix, hashed, source_name};
    out.key_id = item.key.id;
    out.user_id = item.key.user_id;
    report.imported.push_back(std::move(out));
    batch.push_back(std::move(item));
  }
  updates.revoked_at = now;
  if (!batch.empty() || !updates.revoke.empty() || !updates.expire.empty()) {
    KW_RETURN_IF_ERROR(store.ImportLegacyKeys(batch, updates));
  }
  return report;
}

}  // namespace keyward::auth

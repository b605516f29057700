// drf_import.h: `keyward import drf` — reads a Django database that holds
// djangorestframework-api-key keys and makes each key a keyward key of the
// matching user, without the plaintext (issue 12).
//
// Each row of the key table (prefix, hashed_key, name, created, revoked,
// expiry_date, and the custom user_id and is_test columns when present)
// becomes a key whose prefix and imported hash keyward keeps (LegacyKey):
// the customer's "<prefix>.<secret>" keeps working. Its owner is the user
// whose external id is external_id_prefix + the Django user's pk, created
// from the user table if missing. Rows already imported (same prefix) are
// skipped, so the import can be re-run, except that a key revoked in Django
// since its import is revoked in keyward too, and one whose Django expiry is
// now earlier than its keyward expiry expires then. Every row is checked before anything
// is written, and everything is written in one transaction: a bad row, a
// missing table or column, or an unknown hash format imports nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "keyward/clock.h"
#include "keyward/status.h"
#include "keyward/store.h"

namespace keyward::auth {

struct DrfImportOptions {
  std::string from;  // a SQLite file path, or a postgres:// / postgresql:// URI
  std::string table = "rest_framework_api_key_apikey";
  std::string user_table = "auth_user";
  std::string external_id_prefix = "django:";
  // The zone of times stored without one (Django's USE_TZ = False), as an
  // IANA name; times that carry an offset are read as they are.
  std::string time_zone = "UTC";
  // For a key table without user_id: the keyward user (id or external id)
  // that owns every key. Refused when the table has user_id.
  std::optional<std::string> owner;
};

struct DrfImportedKey {
  std::string prefix;
  std::string key_id;   // empty when skipped
  std::string user_id;  // empty when skipped
  std::string environment;
  std::string reason;   // why it was skipped; empty when imported
  std::optional<UnixMillis> expires_at;  // imported, or moved to (expiry_moved)
};

struct DrfImportReport {
  std::vector<DrfImportedKey> imported;
  std::vector<DrfImportedKey> skipped;
  // Imported by an earlier run, revoked in Django since: revoked now.
  std::vector<DrfImportedKey> revoked;
  // Imported by an earlier run, given an earlier expiry in Django since (or
  // one where it had none): expiring then now. A later expiry is not carried.
  std::vector<DrfImportedKey> expiry_moved;
  std::vector<std::string> users_created;  // keyward user ids
};

// kInvalidArgument for bad options or rows (naming the row), kNotFound for a
// missing table, column or owner, kUnavailable when a database cannot be
// reached. Nothing is written unless it returns OK.
StatusOr<DrfImportReport> ImportDrf(KeyStore& store, const Clock& clock, const DrfImportOptions& options);

// "YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]|Z]" (as Django's SQLite and
// PostgreSQL backends print times) to Unix milliseconds; a time without an
// offset is read in `time_zone`. Exposed for tests.
StatusOr<UnixMillis> ParseDjangoTime(const std::string& text, const std::string& time_zone);

}  // namespace keyward::auth

// store_commands.cc: `keyward store copy` — moving a SQLite database into
// PostgreSQL (src/store/copy.h) — and `keyward import drf`, keys from a
// Django database (src/auth/drf_import.h).
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "auth/drf_import.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "core/time_format.h"
#include "store/backend.h"
#include "store/copy.h"

namespace keyward::cli {
namespace {

struct CopyArgs {
  std::string from;
  std::string to;
};

int RunCopy(Cli& cli, const CopyArgs& a) {
  StatusOr<std::vector<store::CopiedTable>> copied = store::CopySqliteToPostgres(a.from, a.to);
  if (!copied.ok()) return cli.Fail(copied.status());
  if (cli.json) {
    nlohmann::json tables = nlohmann::json::object();
    for (const store::CopiedTable& t : *copied) {
      tables[t.name] = {{"source", t.source}, {"copied", t.copied}, {"already_there", t.present}};
    }
    cli.PrintJson({{"verified", true}, {"tables", tables}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const store::CopiedTable& t : *copied) {
    rows.push_back({t.name, std::to_string(t.source), std::to_string(t.copied), std::to_string(t.present)});
  }
  std::cout << RenderTable({"TABLE", "SOURCE", "COPIED", "ALREADY THERE"}, rows)
            << "Verified: every table holds as many rows in PostgreSQL as in " << store::SqlitePath(a.from)
            << ".\n";
  return kExitOk;
}

nlohmann::json KeyJson(const auth::DrfImportedKey& k) {
  nlohmann::json j = {{"prefix", k.prefix}, {"environment", k.environment}};
  if (!k.key_id.empty()) j["key_id"] = k.key_id;
  if (!k.user_id.empty()) j["user_id"] = k.user_id;
  if (!k.reason.empty()) j["reason"] = k.reason;
  if (k.expires_at) j["expires_at"] = core::FormatRfc3339(*k.expires_at);
  return j;
}

int RunImportDrf(Cli& cli, const auth::DrfImportOptions& o) {
  store::Backend* backend = cli.store();
  if (!backend) return kExitStorage;
  StatusOr<auth::DrfImportReport> report = auth::ImportDrf(backend->keys(), cli.clock(), o);
  if (!report.ok()) return cli.Fail(report.status());
  if (cli.json) {
    nlohmann::json imported = nlohmann::json::array(), skipped = nlohmann::json::array(),
                   revoked = nlohmann::json::array(), expiry_moved = nlohmann::json::array();
    for (const auto& k : report->imported) imported.push_back(KeyJson(k));
    for (const auto& k : report->skipped) skipped.push_back(KeyJson(k));
    for (const auto& k : report->revoked) revoked.push_back(KeyJson(k));
    for (const auto& k : report->expiry_moved) expiry_moved.push_back(KeyJson(k));
    cli.PrintJson({{"imported", imported}, {"skipped", skipped}, {"revoked", revoked},
                   {"expiry_moved", expiry_moved}, {"users_created", report->users_created}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : report->imported) rows.push_back({k.prefix, "imported", k.key_id, k.user_id, k.environment});
  for (const auto& k : report->skipped) rows.push_back({k.prefix, "skipped: " + k.reason, k.key_id, k.user_id, k.environment});
  for (const auto& k : report->revoked) rows.push_back({k.prefix, "revoked (in Django since its import)", k.key_id, k.user_id, k.environment});
  for (const auto& k : report->expiry_moved) {
    rows.push_back({k.prefix, "expires earlier, at " + core::FormatRfc3339(*k.expires_at) + " (as in Django since its import)",
                    k.key_id, k.user_id, k.environment});
  }
  if (!rows.empty()) std::cout << RenderTable({"PREFIX", "RESULT", "KEY", "USER", "ENV"}, rows);
  std::cout << report->imported.size() << " imported, " << report->skipped.size() << " skipped, "
            << report->revoked.size() << " revoked, " << report->expiry_moved.size() << " expiring earlier, "
            << report->users_created.size() << " users created.\n";
  return kExitOk;
}

}  // namespace

void AddStoreCommands(CLI::App& app, Cli& cli) {
  CLI::App* import = app.add_subcommand("import", "Import API keys from another system");
  import->require_subcommand(1);
  auto o = std::make_shared<auth::DrfImportOptions>();
  CLI::App* drf = import->add_subcommand(
      "drf", "Import djangorestframework-api-key keys from a Django database; the keys keep working; safe to re-run");
  drf->add_option("--from", o->from, "the Django database: a SQLite file path, or a postgres:// URI")->required();
  drf->add_option("--table", o->table, "the key model's table (e.g. myapp_customapikey)")->capture_default_str();
  drf->add_option("--user-table", o->user_table, "the user model's table")->capture_default_str();
  drf->add_option("--external-id-prefix", o->external_id_prefix,
                  "keyward external id of a Django user: this prefix + its pk")->capture_default_str();
  drf->add_option("--time-zone", o->time_zone,
                  "zone of times stored without one (Django USE_TZ = False), e.g. Europe/Berlin")
      ->capture_default_str();
  drf->add_option("--owner", o->owner, "for a key table without user_id: the keyward user (id or external id) owning every key");
  drf->callback([&cli, o] { cli.action = [&cli, o] { return RunImportDrf(cli, *o); }; });

  CLI::App* store = app.add_subcommand("store", "Move data between stores");
  store->require_subcommand(1);
  auto a = std::make_shared<CopyArgs>();
  CLI::App* copy = store->add_subcommand(
      "copy", "Copy a SQLite database into PostgreSQL (users, keys, jobs, ledger, queue); safe to re-run");
  copy->add_option("--from", a->from, "sqlite:PATH (or PATH) of the database to copy")->required();
  copy->add_option("--to", a->to, "postgres:// or postgresql:// URI of the target database")->required();
  copy->callback([&cli, a] { cli.action = [&cli, a] { return RunCopy(cli, *a); }; });
}

}  // namespace keyward::cli

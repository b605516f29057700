// store_commands.cc: `keyward store copy` — moving a SQLite database into
// PostgreSQL (src/store/copy.h).
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/output.h"
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

}  // namespace

void AddStoreCommands(CLI::App& app, Cli& cli) {
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

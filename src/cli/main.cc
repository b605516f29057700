// main.cc: the `keyward` command line — global flags, subcommands, exit codes.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "cli/cli.h"

namespace {

constexpr const char* kFooter = R"(Exit codes:
  0  success (verify: the key is VALID)
  1  verify: the key was refused (the outcome code is printed)
  2  usage error: bad flag or value, or a request refused as given
  3  not found: unknown user or key id
  4  storage error: database unreadable, locked, or from a newer keyward

The database is --db, else $KEYWARD_DB, else ./keyward.db.)";

}  // namespace

int main(int argc, char** argv) {
  using keyward::cli::Cli;
  Cli cli;
  const char* env_db = std::getenv("KEYWARD_DB");
  cli.db_path = env_db && *env_db ? env_db : "keyward.db";

  CLI::App app("keyward: API keys that give machine clients an identity", "keyward");
  app.footer(kFooter);
  app.require_subcommand(1);
  // Global flags may also follow the command: `keyward worker --db PATH`.
  app.fallthrough();
  app.add_option("--db", cli.db_path, "SQLite database file");
  app.add_flag("--json", cli.json, "Print one JSON object instead of text");
  keyward::cli::AddUserCommands(app, cli);
  keyward::cli::AddKeyCommands(app, cli);
  keyward::cli::AddVerifyCommand(app, cli);
  keyward::cli::AddSignCommand(app, cli);
  keyward::cli::AddServeCommand(app, cli);
  keyward::cli::AddJobCommands(app, cli);
  keyward::cli::AddWorkerCommand(app, cli);
  keyward::cli::AddSealCommands(app, cli);
  keyward::cli::AddStoreCommands(app, cli);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "keyward: " << e.what() << " (see keyward --help)\n";
    return keyward::cli::kExitUsage;
  }
  if (!cli.action) {
    std::cerr << "keyward: no command given (see keyward --help)\n";
    return keyward::cli::kExitUsage;
  }
  return cli.action();
}

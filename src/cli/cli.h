// cli.h: what every `keyward` subcommand shares — global flags, the lazily
// opened store and services, the exit-code contract and output helpers.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "auth/accounts.h"
#include "core/sealing.h"
#include "service/service.h"
#include "store/backend.h"

namespace CLI {
class App;
}

namespace keyward::cli {

// The documented exit codes.
enum ExitCode : int {
  kExitOk = 0,
  kExitRefused = 1,   // verify: the key is not valid
  kExitUsage = 2,     // bad flag, bad value, or a request refused as given
  kExitNotFound = 3,  // unknown user or key id
  kExitStorage = 4,   // database unreadable, locked, newer schema, I/O
};

class Cli {
 public:
  std::string db_path;  // --db, else $KEYWARD_DB, else ./keyward.db
  bool json = false;    // --json
  // The parsed subcommand's action; returns the exit code.
  std::function<int()> action;

  // Opens the store on first use. On failure prints the error and returns null.
  store::Backend* store();
  auth::Accounts* accounts();
  // Where the seal key comes from for this database (KEYWARD_SEAL_KEY, read
  // once and then removed from the environment, else KEYWARD_SEAL_KEY_FILE,
  // else <db>.sealkey for a SQLite database).
  const service::SealKeySource& seal_key_source();
  // The seal key, checked against the one recorded for the queue. Null
  // (error printed) on failure.
  const core::Sealer* sealer();
  const Clock& clock() const { return SystemClock(); }

  // Prints "keyward: <message>" on stderr and returns the exit code for `s`.
  int Fail(const Status& s) const;
  // Prints one JSON document on stdout.
  void PrintJson(const nlohmann::json& j) const;

 private:
  // Loads and checks the seal key into sealer_ once; the reason when it cannot.
  Status LoadSealer(store::Backend& st);

  store::BackendPtr store_;
  std::unique_ptr<auth::Accounts> accounts_;
  std::unique_ptr<core::Sealer> sealer_;
  std::optional<service::SealKeySource> seal_source_;
};

// Maps a Status from a lifecycle operation to an exit code.
int ExitCodeFor(const Status& s);

// Adds --limit and --after (a listing's page) to `cmd`.
void AddPageOptions(CLI::App* cmd, PageRequest* page);

// Registration of subcommands, one file each.
void AddUserCommands(CLI::App& app, Cli& cli);
void AddKeyCommands(CLI::App& app, Cli& cli);
void AddVerifyCommand(CLI::App& app, Cli& cli);
void AddSignCommand(CLI::App& app, Cli& cli);
void AddServeCommand(CLI::App& app, Cli& cli);
void AddJobCommands(CLI::App& app, Cli& cli);
void AddWorkerCommand(CLI::App& app, Cli& cli);
void AddSealCommands(CLI::App& app, Cli& cli);
void AddStoreCommands(CLI::App& app, Cli& cli);

}  // namespace keyward::cli

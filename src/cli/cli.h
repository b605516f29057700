// cli.h: what every `keyward` subcommand shares — global flags, the lazily
// opened store, the exit-code contract and output helpers.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "auth/key_service.h"
#include "jobs/sealing.h"
#include "keyward/store.h"

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
  Store* store();
  // The queue's sealing key: $KEYWARD_SEAL_KEY (64 hex), else the file
  // <db>.sealkey, created (0600) on first use. Null (error printed) on failure.
  const jobs::Sealer* sealer();
  auth::KeyService* service();
  const Clock& clock() const { return SystemClock(); }

  // Prints "keyward: <message>" on stderr and returns the exit code for `s`.
  int Fail(const Status& s) const;
  // Prints one JSON document on stdout.
  void PrintJson(const nlohmann::json& j) const;

 private:
  StorePtr store_;
  std::unique_ptr<auth::KeyService> service_;
  std::unique_ptr<jobs::Sealer> sealer_;
};

// Maps a Status from a lifecycle operation to an exit code.
int ExitCodeFor(const Status& s);

// Registration of subcommands, one file each.
void AddUserCommands(CLI::App& app, Cli& cli);
void AddKeyCommands(CLI::App& app, Cli& cli);
void AddVerifyCommand(CLI::App& app, Cli& cli);
void AddServeCommand(CLI::App& app, Cli& cli);
void AddJobCommands(CLI::App& app, Cli& cli);
void AddWorkerCommand(CLI::App& app, Cli& cli);

}  // namespace keyward::cli

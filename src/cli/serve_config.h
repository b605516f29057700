// serve_config.h: `keyward serve` settings — one table of named settings,
// each bound to a field of the parts' own option structs (whose initial
// values are the defaults) — read from a TOML file, KEYWARD_* environment
// variables and flags; later sources win:
//   defaults < --config FILE < environment < command-line flags.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "http/server.h"
#include "keyward/status.h"
#include "service/service.h"

namespace keyward::cli {

struct ServeConfig {
  http::ServerOptions server;
  service::ServiceOptions service;
  std::string admin_token;      // empty: admin API disabled
  std::string access_log = "-";  // "-" stdout, "off", or a file path
  // Log lines buffered while the writer catches up; beyond this they are
  // dropped and counted (keyward_access_log_dropped_lines_total).
  std::int64_t access_log_buffer_bytes = 8 * 1024 * 1024;
  // Core dumps would hold the admin token, the seal key and keys in flight:
  // off unless the operator says otherwise.
  bool allow_core_dumps = false;
  // Added niceness of the background threads, which also run as
  // SCHED_BATCH (core::BackgroundThread); 0 leaves them as the threads
  // that answer requests.
  int background_nice = 10;

  ServeConfig() { service.store.location = "keyward.db"; }
};

struct Setting {
  std::string name;  // as in TOML; KEYWARD_<NAME> in the environment
  std::string help;
  // Applies a value given as text; kInvalidArgument says what is wrong.
  std::function<Status(ServeConfig&, const std::string&)> apply;
  // The value in `config`, as text (for help and for tests).
  std::function<std::string(const ServeConfig&)> show;
  bool secret = false;  // never shown
};

// Every setting, in the order of `keyward serve --help`.
const std::vector<Setting>& ServeSettings();

// Applies `name = value` from `source` (named in errors).
Status ApplySetting(ServeConfig* config, const std::string& name, const std::string& value,
                    const std::string& source);

// Applies every setting found in the TOML file at `path`.
Status ApplyTomlFile(ServeConfig* config, const std::string& path);
// Applies every setting found in TOML text (`source` names it in errors).
Status ApplyToml(ServeConfig* config, std::string_view text, const std::string& source);

// Applies every KEYWARD_<NAME> environment variable that is set.
Status ApplyEnvironment(ServeConfig* config);

// Splits "HOST:PORT" / "[v6]:PORT".
Status SplitListen(const std::string& listen, std::string* host, int* port);

// Whether only this machine can connect to `host` (127.0.0.0/8, ::1): plain
// HTTP anywhere else gets a warning at start.
bool IsLoopbackHost(const std::string& host);

}  // namespace keyward::cli

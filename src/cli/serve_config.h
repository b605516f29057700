// serve_config.h: `keyward serve` settings from defaults, a TOML file,
// KEYWARD_* environment variables and flags — later sources win:
//   defaults < --config FILE < environment < command-line flags.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "keyward/status.h"

namespace keyward::cli {

struct ServeConfig {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 = any free port
  std::string db = "keyward.db";
  int threads = 0;                         // I/O threads; 0 = cores
  int job_threads = 2;                     // compute job executor
  std::string admin_token;                 // empty: admin API disabled
  std::string access_log = "-";            // "-" stdout, "off", or a file path
  std::int64_t max_header_bytes = 8 * 1024;
  std::int64_t max_body_bytes = 1024 * 1024;
  std::int64_t read_timeout_ms = 30'000;
  std::int64_t idle_timeout_ms = 60'000;
  std::int64_t cache_ttl_ms = 5'000;
  std::int64_t cache_capacity = 100'000;
  std::int64_t last_used_flush_ms = 5'000;
};

// The setting names, as they appear in TOML (and upper-cased with a
// KEYWARD_ prefix in the environment).
const std::map<std::string, std::string>& ServeSettingHelp();

// Applies `name = value` (value as text) to config. kInvalidArgument names
// the setting and the problem.
Status ApplySetting(ServeConfig* config, const std::string& name, const std::string& value,
                    const std::string& source);

// Applies every setting found in the TOML file at `path`.
Status ApplyTomlFile(ServeConfig* config, const std::string& path);

// Applies every KEYWARD_<NAME> environment variable that is set.
Status ApplyEnvironment(ServeConfig* config);

// Splits "HOST:PORT" / "[v6]:PORT".
Status SplitListen(const std::string& listen, std::string* host, int* port);

}  // namespace keyward::cli

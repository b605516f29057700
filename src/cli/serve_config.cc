// serve_config.cc: parsing and layering of server settings.
#include "cli/serve_config.h"

#include <cstdlib>
#include <toml++/toml.h>

namespace keyward::cli {
namespace {

bool ParseInt(const std::string& s, std::int64_t lo, std::int64_t hi, std::int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

}  // namespace

const std::map<std::string, std::string>& ServeSettingHelp() {
  static const std::map<std::string, std::string> kHelp = {
      {"listen", "HOST:PORT to listen on (port 0: any free port)"},
      {"db", "SQLite database file"},
      {"threads", "I/O threads (0 = number of cores)"},
      {"job_threads", "threads running compute jobs"},
      {"admin_token", "operator token for the admin API (empty: admin API off)"},
      {"access_log", "'-' for stdout, 'off', or a file path"},
      {"max_header_bytes", "largest request header block (431 above)"},
      {"max_body_bytes", "largest request body (413 above)"},
      {"read_timeout_ms", "time allowed to receive one request"},
      {"idle_timeout_ms", "how long an idle keep-alive connection is kept"},
      {"cache_ttl_ms", "how long a cached key record is trusted"},
      {"cache_capacity", "most key records cached"},
      {"last_used_flush_ms", "how often last_used_at is written"},
  };
  return kHelp;
}

Status ApplySetting(ServeConfig* c, const std::string& name, const std::string& value,
                    const std::string& source) {
  auto bad = [&](const std::string& why) {
    return InvalidArgumentError(source + ": invalid " + name + " '" + value + "': " + why);
  };
  auto integer = [&](std::int64_t lo, std::int64_t hi, auto* field) -> Status {
    std::int64_t v;
    if (!ParseInt(value, lo, hi, &v)) {
      return bad("expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    }
    *field = static_cast<std::remove_pointer_t<decltype(field)>>(v);
    return OkStatus();
  };
  if (name == "listen") {
    std::string host;
    int port;
    KW_RETURN_IF_ERROR(SplitListen(value, &host, &port));
    c->listen = value;
    return OkStatus();
  }
  if (name == "db") return value.empty() ? bad("must not be empty") : (c->db = value, OkStatus());
  if (name == "admin_token") {
    if (!value.empty() && value.size() < 16) return InvalidArgumentError(source + ": admin_token must be at least 16 characters");
    c->admin_token = value;
    return OkStatus();
  }
  if (name == "access_log") return value.empty() ? bad("must not be empty") : (c->access_log = value, OkStatus());
  if (name == "threads") return integer(0, 256, &c->threads);
  if (name == "job_threads") return integer(1, 256, &c->job_threads);
  if (name == "max_header_bytes") return integer(1024, 1 << 20, &c->max_header_bytes);
  if (name == "max_body_bytes") return integer(1024, 1LL << 30, &c->max_body_bytes);
  if (name == "read_timeout_ms") return integer(100, 3'600'000, &c->read_timeout_ms);
  if (name == "idle_timeout_ms") return integer(100, 3'600'000, &c->idle_timeout_ms);
  if (name == "cache_ttl_ms") return integer(0, 3'600'000, &c->cache_ttl_ms);
  if (name == "cache_capacity") return integer(0, 100'000'000, &c->cache_capacity);
  if (name == "last_used_flush_ms") return integer(100, 3'600'000, &c->last_used_flush_ms);
  return InvalidArgumentError(source + ": unknown setting '" + name + "'");
}

Status ApplyTomlFile(ServeConfig* config, const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& err) {
    return InvalidArgumentError("config " + path + ": " + std::string(err.description()) +
                                " (line " + std::to_string(err.source().begin.line) + ")");
  }
  for (auto&& [key, node] : table) {
    std::string name(key.str());
    std::string value;
    if (const auto* s = node.as_string()) {
      value = s->get();
    } else if (const auto* i = node.as_integer()) {
      value = std::to_string(i->get());
    } else {
      return InvalidArgumentError("config " + path + ": " + name + " must be a string or an integer");
    }
    KW_RETURN_IF_ERROR(ApplySetting(config, name, value, "config " + path));
  }
  return OkStatus();
}

Status ApplyEnvironment(ServeConfig* config) {
  for (const auto& [name, help] : ServeSettingHelp()) {
    std::string var = "KEYWARD_";
    for (char ch : name) var += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (const char* v = std::getenv(var.c_str()); v && *v) {
      KW_RETURN_IF_ERROR(ApplySetting(config, name, v, var));
    }
  }
  return OkStatus();
}

Status SplitListen(const std::string& listen, std::string* host, int* port) {
  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgumentError("listen address '" + listen + "' must be HOST:PORT");
  }
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  std::int64_t p;
  if (!ParseInt(listen.substr(colon + 1), 0, 65535, &p)) {
    return InvalidArgumentError("listen address '" + listen + "' has an invalid port");
  }
  *port = static_cast<int>(p);
  return OkStatus();
}

}  // namespace keyward::cli

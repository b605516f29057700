// serve_config.cc: the settings table, and TOML/environment layering.
#include "cli/serve_config.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <toml++/toml.h>

#include "core/time_format.h"

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

Status Bad(const std::string& name, const std::string& value, const std::string& why) {
  return InvalidArgumentError("invalid " + name + " '" + value.substr(0, 100) + "': " + why);
}

// Builds the settings of one integer-typed field through a member pointer.
template <typename T>
Setting IntField(std::string name, std::string help, std::int64_t lo, std::int64_t hi,
                 std::function<T&(ServeConfig&)> field) {
  Setting s;
  s.name = name;
  s.help = std::move(help);
  s.apply = [=](ServeConfig& c, const std::string& v) {
    std::int64_t n;
    if (!ParseInt(v, lo, hi, &n)) {
      return Bad(name, v, "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    }
    field(c) = static_cast<T>(n);
    return OkStatus();
  };
  s.show = [=](const ServeConfig& c) { return std::to_string(field(const_cast<ServeConfig&>(c))); };
  return s;
}

// A duration ("30s", "500ms", "5m") in [lo_ms, hi_ms], kept in milliseconds;
// also settable as <name>_ms, a whole number of milliseconds.
template <typename T>
std::vector<Setting> DurationField(std::string name, std::string help, std::int64_t lo_ms,
                                   std::int64_t hi_ms, std::function<T&(ServeConfig&)> field) {
  Setting d;
  d.name = name;
  d.help = help + " (a duration: 500ms, 30s, 5m)";
  d.apply = [=](ServeConfig& c, const std::string& v) {
    std::optional<std::int64_t> ms = core::ParseDuration(v, hi_ms);
    if (!ms || *ms < lo_ms) {
      return Bad(name, v, "expected a duration from " + core::FormatDuration(lo_ms) + " to " +
                              core::FormatDuration(hi_ms));
    }
    field(c) = static_cast<T>(*ms);
    return OkStatus();
  };
  d.show = [=](const ServeConfig& c) { return core::FormatDuration(field(const_cast<ServeConfig&>(c))); };
  Setting ms = IntField<T>(name + "_ms", help + ", in milliseconds", lo_ms, hi_ms, field);
  return {d, ms};
}

// A rate in requests per second: a positive number up to 10^9.
Setting RateField(std::string name, std::string help, std::function<double&(ServeConfig&)> field) {
  Setting s;
  s.name = name;
  s.help = std::move(help);
  s.apply = [=](ServeConfig& c, const std::string& v) {
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(d) || d <= 0 || d > 1e9) {
      return Bad(name, v, "expected a positive number of requests per second");
    }
    field(c) = d;
    return OkStatus();
  };
  s.show = [=](const ServeConfig& c) {
    std::string t = std::to_string(field(const_cast<ServeConfig&>(c)));
    t.erase(t.find_last_not_of('0') + 1);
    if (!t.empty() && t.back() == '.') t.pop_back();
    return t;
  };
  return s;
}

Setting TextField(std::string name, std::string help, std::function<std::string&(ServeConfig&)> field,
                  std::function<Status(const std::string&)> check = nullptr) {
  Setting s;
  s.name = name;
  s.help = std::move(help);
  s.apply = [=](ServeConfig& c, const std::string& v) {
    if (check) KW_RETURN_IF_ERROR(check(v));
    field(c) = v;
    return OkStatus();
  };
  s.show = [=](const ServeConfig& c) { return field(const_cast<ServeConfig&>(c)); };
  return s;
}

Setting BoolField(std::string name, std::string help, std::function<bool&(ServeConfig&)> field) {
  Setting s;
  s.name = name;
  s.help = std::move(help);
  s.apply = [=](ServeConfig& c, const std::string& v) {
    if (v == "true" || v == "1" || v == "yes") field(c) = true;
    else if (v == "false" || v == "0" || v == "no") field(c) = false;
    else return Bad(name, v, "expected true or false");
    return OkStatus();
  };
  s.show = [=](const ServeConfig& c) { return field(const_cast<ServeConfig&>(c)) ? "true" : "false"; };
  return s;
}

// "HOST:PORT", an IPv6 host in brackets: what SplitListen reads.
std::string JoinListen(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::vector<Setting> BuildSettings() {
  constexpr std::int64_t kHour = 3'600'000;
  std::vector<Setting> out;
  auto add = [&](Setting s) { out.push_back(std::move(s)); };
  auto add_all = [&](std::vector<Setting> v) {
    for (Setting& s : v) out.push_back(std::move(s));
  };

  Setting listen;
  listen.name = "listen";
  listen.help = "HOST:PORT to listen on (port 0: any free port)";
  listen.apply = [](ServeConfig& c, const std::string& v) {
    return SplitListen(v, &c.server.host, &c.server.port);
  };
  listen.show = [](const ServeConfig& c) { return JoinListen(c.server.host, c.server.port); };
  add(listen);
  Setting plain;
  plain.name = "plain_listen";
  plain.help = "HOST:PORT of a second listener that speaks plain HTTP beside a TLS listen (empty: none)";
  plain.apply = [](ServeConfig& c, const std::string& v) {
    if (v.empty()) {
      c.server.plain_port = -1;
      return OkStatus();
    }
    return SplitListen(v, &c.server.plain_host, &c.server.plain_port);
  };
  plain.show = [](const ServeConfig& c) -> std::string {
    return c.server.plain_port < 0 ? "" : JoinListen(c.server.plain_host, c.server.plain_port);
  };
  add(plain);
  add(TextField("db", "the database: a SQLite file", [](ServeConfig& c) -> std::string& {
    return c.service.store.location;
  }, [](const std::string& v) { return v.empty() ? InvalidArgumentError("invalid db: must not be empty") : OkStatus(); }));
  add(IntField<int>("threads", "I/O threads (0 = number of cores)", 0, 256,
                    [](ServeConfig& c) -> int& { return c.server.threads; }));
  add_all(DurationField<int>("io_balance", "how often the server decides how many I/O threads take "
                             "connections (0: all of them, always)", 0, 60'000,
                             [](ServeConfig& c) -> int& { return c.server.io_balance_ms; }));
  add(IntField<int>("background_nice",
                    "how much lower the background threads (commits, compute jobs, checkpoints, the "
                    "log writer) run than those answering requests (niceness added; they also run as "
                    "SCHED_BATCH); 0: the same", 0, 19,
                    [](ServeConfig& c) -> int& { return c.background_nice; }));
  add(IntField<int>("job_threads", "threads running compute jobs", 1, 256,
                    [](ServeConfig& c) -> int& { return c.service.job_threads; }));
  add(IntField<int>("request_threads", "threads answering requests that use the database", 1, 256,
                    [](ServeConfig& c) -> int& { return c.service.request_threads; }));
  Setting token = TextField("admin_token", "operator token for the admin API (empty: admin API off)",
                            [](ServeConfig& c) -> std::string& { return c.admin_token; },
                            [](const std::string& v) {
                              return !v.empty() && v.size() < 16
                                         ? InvalidArgumentError("admin_token must be at least 16 characters")
                                         : OkStatus();
                            });
  token.secret = true;
  add(token);
  add(TextField("access_log", "'-' for stdout, 'off', or a file path",
                [](ServeConfig& c) -> std::string& { return c.access_log; },
                [](const std::string& v) { return v.empty() ? InvalidArgumentError("invalid access_log: must not be empty") : OkStatus(); }));
  add(TextField("tls_cert", "PEM certificate chain: serve HTTPS (with tls_key)",
                [](ServeConfig& c) -> std::string& { return c.server.tls.cert_file; },
                [](const std::string&) { return OkStatus(); }));
  add(TextField("tls_key", "PEM private key of tls_cert (not readable by others)",
                [](ServeConfig& c) -> std::string& { return c.server.tls.key_file; },
                [](const std::string&) { return OkStatus(); }));
  add(TextField("tls_client_ca", "PEM CA certificates: clients must present a certificate they signed (mutual TLS)",
                [](ServeConfig& c) -> std::string& { return c.server.tls.client_ca_file; },
                [](const std::string&) { return OkStatus(); }));
  add(IntField<std::int64_t>("access_log_buffer_bytes", "log bytes buffered before lines are dropped",
                             64 * 1024, 1LL << 30,
                             [](ServeConfig& c) -> std::int64_t& { return c.access_log_buffer_bytes; }));
  add(IntField<std::size_t>("max_header_bytes", "largest request header block (431 above)", 1024, 1 << 20,
                            [](ServeConfig& c) -> std::size_t& { return c.server.max_header_bytes; }));
  add(IntField<std::size_t>("max_body_bytes", "largest request body (413 above)", 1024, 64 << 20,
                            [](ServeConfig& c) -> std::size_t& { return c.server.max_body_bytes; }));
  add(IntField<int>("max_connections", "open connections at most (more wait in the backlog)", 1, 1'000'000,
                    [](ServeConfig& c) -> int& { return c.server.max_connections; }));
  add_all(DurationField<int>("read_timeout", "time allowed to receive one request or send one response",
                             100, kHour, [](ServeConfig& c) -> int& { return c.server.read_timeout_ms; }));
  add_all(DurationField<int>("idle_timeout", "how long an idle keep-alive connection is kept", 100, kHour,
                             [](ServeConfig& c) -> int& { return c.server.idle_timeout_ms; }));
  add_all(DurationField<int>("shutdown_grace", "how long in-flight requests may finish after SIGTERM", 0,
                             kHour, [](ServeConfig& c) -> int& { return c.server.shutdown_grace_ms; }));
  add_all(DurationField<std::int64_t>("cache_ttl", "how long a cached key record is trusted", 0, kHour,
                                      [](ServeConfig& c) -> std::int64_t& { return c.service.verifier.cache_ttl_ms; }));
  add_all(DurationField<std::int64_t>("change_poll", "how often the change feed is checked for changes "
                                      "made by other processes (0: not followed)", 0, 60'000,
                                      [](ServeConfig& c) -> std::int64_t& { return c.service.changes.poll_ms; }));
  add_all(DurationField<std::int64_t>("change_retention", "how long change feed entries are kept", 60'000,
                                      7 * 24 * kHour,
                                      [](ServeConfig& c) -> std::int64_t& { return c.service.changes.retention_ms; }));
  add_all(DurationField<std::int64_t>("store_outage_grace", "how long cached key decisions are still served "
                                      "while the store cannot be reached (0: refused at once, fail-closed)",
                                      0, kHour,
                                      [](ServeConfig& c) -> std::int64_t& { return c.service.changes.outage_grace_ms; }));
  add(RateField("legacy_checks_per_second", "checks of imported (djangorestframework-api-key) key hashes "
                "per second, all keys together (PBKDF2: ~60 ms of CPU each)",
                [](ServeConfig& c) -> double& { return c.service.verifier.legacy_checks_per_second; }));
  add_all(DurationField<std::int64_t>("legacy_failure_backoff", "how long an imported key's prefix waits after "
                                      "a wrong secret before it is checked again", 0, kHour,
                                      [](ServeConfig& c) -> std::int64_t& {
                                        return c.service.verifier.legacy_failure_backoff_ms;
                                      }));
  add_all(DurationField<std::int64_t>("signature_window", "how far a signed request's created time may lie "
                                      "from now, either way (RFC 9421 signatures)", 1'000, kHour,
                                      [](ServeConfig& c) -> std::int64_t& {
                                        return c.service.verifier.signature_window_ms;
                                      }));
  add(IntField<std::size_t>("nonce_capacity", "signed-request nonces remembered at most (503 above, "
                            "never evicted): at least the peak signed rate times twice the window", 1,
                            1'000'000'000,
                            [](ServeConfig& c) -> std::size_t& { return c.service.verifier.nonce_capacity; }));
  add(IntField<std::size_t>("nonce_capacity_per_key", "signed-request nonces remembered at most per key", 1,
                            1'000'000'000, [](ServeConfig& c) -> std::size_t& {
                              return c.service.verifier.nonce_capacity_per_key;
                            }));
  add(IntField<std::size_t>("cache_capacity", "most key records cached", 0, 100'000'000,
                            [](ServeConfig& c) -> std::size_t& { return c.service.verifier.cache_capacity; }));
  add_all(DurationField<std::int64_t>("last_used_flush", "how often last_used_at is written", 100, kHour,
                                      [](ServeConfig& c) -> std::int64_t& { return c.service.last_used_flush_ms; }));
  add_all(DurationField<int>("busy_timeout", "how long a write waits for another process's database lock",
                             0, 10 * 60'000, [](ServeConfig& c) -> int& { return c.service.store.busy_timeout_ms; }));
  add(RateField("test_rate_limit", "requests per second of a user's test traffic when their plan sets none",
                [](ServeConfig& c) -> double& { return c.service.gate.default_test_rate_limit; }));
  add(IntField<int>("max_pending_jobs_per_user", "compute jobs of one user waiting to run (429 above)", 1,
                    1'000'000, [](ServeConfig& c) -> int& { return c.service.compute.max_pending_per_user; }));
  add(IntField<int>("max_pending_jobs", "compute jobs of all users waiting to run (503 above)", 1,
                    10'000'000, [](ServeConfig& c) -> int& { return c.service.compute.max_pending_total; }));
  add(IntField<std::size_t>("max_result_bytes", "largest job result; a larger one fails its job", 1024,
                            64 << 20, [](ServeConfig& c) -> std::size_t& { return c.service.compute.max_result_bytes; }));
  add(IntField<int>("max_queued_per_user", "unfinished queue entries of one user (429 above)", 1, 10'000'000,
                    [](ServeConfig& c) -> int& { return c.service.queue.max_unfinished_per_user; }));
  add(BoolField("allow_core_dumps", "let the process dump core (off: dumps would hold secrets)",
                [](ServeConfig& c) -> bool& { return c.allow_core_dumps; }));
  return out;
}

}  // namespace

const std::vector<Setting>& ServeSettings() {
  static const std::vector<Setting> kSettings = BuildSettings();
  return kSettings;
}

Status ApplySetting(ServeConfig* c, const std::string& name, const std::string& value,
                    const std::string& source) {
  for (const Setting& s : ServeSettings()) {
    if (s.name != name) continue;
    Status st = s.apply(*c, value);
    if (!st.ok()) return InvalidArgumentError(source + ": " + st.message());
    return OkStatus();
  }
  return InvalidArgumentError(source + ": unknown setting '" + name.substr(0, 100) + "'");
}

Status ApplyToml(ServeConfig* config, std::string_view text, const std::string& source) {
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& err) {
    return InvalidArgumentError(source + ": " + std::string(err.description()) + " (line " +
                                std::to_string(err.source().begin.line) + ")");
  }
  for (auto&& [key, node] : table) {
    std::string name(key.str());
    std::string value;
    if (const auto* s = node.as_string()) {
      value = s->get();
    } else if (const auto* i = node.as_integer()) {
      value = std::to_string(i->get());
    } else if (const auto* f = node.as_floating_point()) {
      value = std::to_string(f->get());
    } else if (const auto* b = node.as_boolean()) {
      value = b->get() ? "true" : "false";
    } else {
      return InvalidArgumentError(source + ": " + name.substr(0, 100) +
                                  " must be a string, a number or a boolean");
    }
    KW_RETURN_IF_ERROR(ApplySetting(config, name, value, source));
  }
  return OkStatus();
}

Status ApplyTomlFile(ServeConfig* config, const std::string& path) {
  std::string text;
  {
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) return InvalidArgumentError("config " + path + ": cannot be read");
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() < (1 << 20)) text.append(buf, n);
    std::fclose(f);
    if (text.size() >= (1 << 20)) return InvalidArgumentError("config " + path + ": larger than 1 MiB");
  }
  return ApplyToml(config, text, "config " + path);
}

Status ApplyEnvironment(ServeConfig* config) {
  for (const Setting& s : ServeSettings()) {
    std::string var = "KEYWARD_";
    for (char ch : s.name) var += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (const char* v = std::getenv(var.c_str()); v && *v) {
      KW_RETURN_IF_ERROR(ApplySetting(config, s.name, v, var));
    }
  }
  return OkStatus();
}

Status SplitListen(const std::string& listen, std::string* host, int* port) {
  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgumentError("listen address '" + listen.substr(0, 100) + "' must be HOST:PORT");
  }
  std::string h = listen.substr(0, colon);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  std::int64_t p;
  if (!ParseInt(listen.substr(colon + 1), 0, 65535, &p)) {
    return InvalidArgumentError("listen address '" + listen.substr(0, 100) + "' has an invalid port");
  }
  *host = h;
  *port = static_cast<int>(p);
  return OkStatus();
}

bool IsLoopbackHost(const std::string& host) {
  return host.rfind("127.", 0) == 0 || host == "::1" || host == "localhost";
}

}  // namespace keyward::cli

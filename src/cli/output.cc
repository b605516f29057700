// output.cc: the CLI's Cli context, exit-code mapping and text rendering.
#include "cli/output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "api/wire.h"
#include "cli/cli.h"
#include "core/process.h"
#include "core/time_format.h"

namespace keyward::cli {

int ExitCodeFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return kExitOk;
    case StatusCode::kNotFound: return kExitNotFound;
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
    case StatusCode::kResourceExhausted:
      return kExitUsage;
    case StatusCode::kUnavailable:
    case StatusCode::kInternal:
      return kExitStorage;
  }
  return kExitStorage;
}

store::Backend* Cli::store() {
  if (store_) return store_.get();
  StoreOptions options{.location = db_path};
  if (const char* t = std::getenv("KEYWARD_BUSY_TIMEOUT_MS"); t && *t) {
    options.busy_timeout_ms = std::atoi(t);
  }
  StatusOr<store::BackendPtr> s = store::OpenBackend(options);
  if (!s.ok()) {
    std::cerr << "keyward: " << s.status().message() << "\n";
    return nullptr;
  }
  store_ = std::move(s).value();
  return store_.get();
}

const service::SealKeySource& Cli::seal_key_source() {
  if (!seal_source_) {
    // The key file: KEYWARD_SEAL_KEY_FILE, else beside a SQLite database;
    // a PostgreSQL store has no folder, so it needs one of the two settings.
    std::string file;
    if (const char* f = std::getenv("KEYWARD_SEAL_KEY_FILE"); f && *f) {
      file = f;
    } else if (!store::IsPostgresLocation(db_path)) {
      file = db_path + ".sealkey";
    }
    seal_source_ = service::SealKeySource{core::TakeSecretFromEnvironment("KEYWARD_SEAL_KEY"), file};
  }
  return *seal_source_;
}

Status Cli::LoadSealer(store::Backend& st) {
  if (sealer_) return OkStatus();
  StatusOr<core::Sealer> s = service::LoadSealKey(seal_key_source());
  KW_RETURN_IF_ERROR(s.status());
  KW_RETURN_IF_ERROR(service::CheckSealKey(st.queue(), *s, seal_key_source()));
  sealer_ = std::make_unique<core::Sealer>(std::move(s).value());
  return OkStatus();
}

const core::Sealer* Cli::sealer() {
  store::Backend* st = store();
  if (!st) return nullptr;
  if (Status loaded = LoadSealer(*st); !loaded.ok()) {
    std::cerr << "keyward: " << loaded.message() << "\n";
    return nullptr;
  }
  return sealer_.get();
}

auth::Accounts* Cli::accounts() {
  if (!accounts_) {
    store::Backend* st = store();
    if (!st) return nullptr;
    accounts_ = std::make_unique<auth::Accounts>(st->keys(), clock());
    // Keys issued here get their signing secret sealed at once when this
    // process has the database's seal key; without it (say a PostgreSQL
    // store and no KEYWARD_SEAL_KEY) the server learns the secret at the
    // key's first bearer use instead, so a failure here is not an error.
    LoadSealer(*st).IgnoreError();
    accounts_->set_sealer(sealer_.get());
  }
  return accounts_.get();
}

int Cli::Fail(const Status& s) const {
  std::cerr << "keyward: " << s.message() << "\n";
  return ExitCodeFor(s);
}

void Cli::PrintJson(const nlohmann::json& j) const {
  std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  auto measure = [](const std::string& s) {
    // Count UTF-8 code points, not bytes, so "…" occupies one column.
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
  };
  for (std::size_t i = 0; i < header.size(); ++i) width[i] = measure(header[i]);
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], measure(r[i]));
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t i = 0; i < cells.size(); ++i) {
      out += cells[i];
      if (i + 1 < cells.size()) out.append(width[i] - measure(cells[i]) + 2, ' ');
    }
    out += '\n';
  };
  line(header);
  for (const auto& r : rows) line(r);
  return out;
}

std::string TimeOrDash(const std::optional<UnixMillis>& t) {
  return t ? core::FormatRfc3339(*t) : "-";
}

std::string NextPageHint(const std::optional<std::string>& next) {
  return next ? "More: add --after " + *next + "\n" : "";
}

namespace {

std::string Scopes(const std::vector<std::string>& scopes) {
  return scopes.empty() ? "-" : fmt::format("{}", fmt::join(scopes, ","));
}

std::string Credits(const Plan& p) {
  return p.monthly_credits ? std::to_string(*p.monthly_credits) : "unlimited";
}

std::string Rate(const Plan& p) {
  return p.rate_limit ? fmt::format("{:g}/s", *p.rate_limit) : "unlimited";
}

}  // namespace

std::string DescribeUser(const User& u) {
  return fmt::format(
      "user {}\n  name:            {}\n  external id:     {}\n  email:           {}\n"
      "  status:          {}\n  created:         {}\n  monthly credits: {}\n"
      "  rate limit:      {}\n  allowed scopes:  {}\n",
      u.id, u.name, u.external_id.value_or("-"), u.email.value_or("-"),
      u.disabled ? "disabled" : "enabled", core::FormatRfc3339(u.created_at), Credits(u.plan),
      Rate(u.plan), Scopes(u.plan.allowed_scopes));
}

std::string DescribeKey(const ApiKey& k, UnixMillis now) {
  return fmt::format(
      "key {}\n  user:         {}\n  name:         {}\n  environment:  {}\n  display:      {}\n"
      "  state:        {}\n  scopes:       {}\n  created:      {}\n  expires:      {}\n"
      "  revoked:      {}\n  last used:    {}\n  rotated from: {}\n",
      k.id, k.user_id, k.name, EnvironmentName(k.environment), k.display,
      api::KeyStateName(k, now), Scopes(k.scopes), core::FormatRfc3339(k.created_at),
      TimeOrDash(k.expires_at), TimeOrDash(k.revoked_at), TimeOrDash(k.last_used_at),
      k.rotated_from.value_or("-"));
}

std::string UserTable(const std::vector<User>& users) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& u : users) {
    rows.push_back({u.id, u.name, u.external_id.value_or("-"),
                    u.disabled ? "disabled" : "enabled", Credits(u.plan), Rate(u.plan),
                    core::FormatRfc3339(u.created_at)});
  }
  return RenderTable({"ID", "NAME", "EXTERNAL_ID", "STATUS", "CREDITS/MONTH", "RATE", "CREATED"},
                     rows);
}

std::string KeyTable(const std::vector<ApiKey>& keys, UnixMillis now) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : keys) {
    rows.push_back({k.id, k.name, std::string(EnvironmentName(k.environment)), k.display,
                    api::KeyStateName(k, now), Scopes(k.scopes), core::FormatRfc3339(k.created_at),
                    TimeOrDash(k.expires_at), TimeOrDash(k.last_used_at)});
  }
  return RenderTable(
      {"ID", "NAME", "ENV", "DISPLAY", "STATE", "SCOPES", "CREATED", "EXPIRES", "LAST_USED"}, rows);
}

}  // namespace keyward::cli

// scopes.cc: scope validation and grant checks.
#include "auth/scopes.h"

#include <algorithm>

#include "core/crypto.h"

namespace keyward::auth {
namespace {

bool Contains(const std::vector<std::string>& set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

bool Covers(const std::vector<std::string>& set, std::string_view s) {
  return Contains(set, kAnyScope) || Contains(set, s);
}

}  // namespace

bool IsValidScope(std::string_view scope) {
  if (scope == kAnyScope) return true;
  if (scope.empty() || scope.size() > kMaxScopeLength) return false;
  return std::all_of(scope.begin(), scope.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ':' || c == '.' ||
           c == '_' || c == '-';
  });
}

Status CheckScopesAllowed(const std::vector<std::string>& scopes,
                          const std::vector<std::string>& allowed) {
  for (const auto& s : scopes) {
    if (!IsValidScope(s)) {
      return InvalidArgumentError("invalid scope '" + s +
                                  "': use 1-128 characters of a-z 0-9 : . _ - (or *)");
    }
    const bool job_submit = IsJobSubmitScope(s);
    if (s == kAnyScope ? !Contains(allowed, kAnyScope)
                       : !Covers(allowed, job_submit ? std::string_view("jobs:write") : s)) {
      return InvalidArgumentError("scope '" + s + "' is not allowed by the user's plan");
    }
  }
  return OkStatus();
}

bool Grants(const std::vector<std::string>& key_scopes, const std::vector<std::string>& allowed,
            std::string_view required) {
  return Covers(key_scopes, required) && Covers(allowed, required);
}

std::string JobSubmitScope(std::string_view job_id) {
  core::Sha256Digest d = core::Sha256(job_id);
  return std::string(kJobSubmitPrefix) + core::HexEncode(d.data(), d.size());
}

bool IsJobSubmitScope(std::string_view scope) {
  return scope.size() > kJobSubmitPrefix.size() && scope.substr(0, kJobSubmitPrefix.size()) == kJobSubmitPrefix;
}

bool IsJobBound(const std::vector<std::string>& key_scopes) {
  return !key_scopes.empty() &&
         std::all_of(key_scopes.begin(), key_scopes.end(),
                     [](const std::string& s) { return IsJobSubmitScope(s); });
}

bool MayReadJob(const std::vector<std::string>& key_scopes,
                const std::vector<std::string>& allowed, std::string_view job_id) {
  if (Grants(key_scopes, allowed, "jobs:read")) return true;
  return Covers(allowed, "jobs:write") && Contains(key_scopes, JobSubmitScope(job_id));
}

bool MaySubmitJob(const std::vector<std::string>& key_scopes,
                  const std::vector<std::string>& allowed, std::string_view job_id) {
  if (!Covers(allowed, "jobs:write")) return false;
  return Covers(key_scopes, "jobs:write") || Contains(key_scopes, JobSubmitScope(job_id));
}

std::vector<std::string> NormalizeScopes(std::vector<std::string> scopes) {
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  return scopes;
}

}  // namespace keyward::auth

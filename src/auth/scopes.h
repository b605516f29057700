// scopes.h: scope names and the rules that relate key scopes to a user's plan.
// A scope is 1–128 characters of [a-z0-9:._-]; "*" in a user's allowed scopes
// (or a key's scopes) stands for every scope.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "keyward/status.h"

namespace keyward::auth {

inline constexpr std::string_view kAnyScope = "*";
inline constexpr std::size_t kMaxScopeLength = 128;
inline constexpr std::string_view kJobSubmitPrefix = "jobs:submit:";

bool IsValidScope(std::string_view scope);

// OK if every scope is valid and allowed by `allowed`; kInvalidArgument
// naming the first offender otherwise.
Status CheckScopesAllowed(const std::vector<std::string>& scopes,
                          const std::vector<std::string>& allowed);

// True if a key holding `key_scopes`, owned by a user allowed `allowed`, may
// act with `required`: the key holds it (or "*") and the plan still allows it.
bool Grants(const std::vector<std::string>& key_scopes, const std::vector<std::string>& allowed,
            std::string_view required);

// The scope that lets a key submit exactly one job: "jobs:submit:" + the
// 64 hex digits of SHA-256(job_id) (all 256 bits: a job id cannot be made to
// collide with another). Allowed wherever the plan allows "jobs:write", of
// which it is a narrower form.
std::string JobSubmitScope(std::string_view job_id);

bool IsJobSubmitScope(std::string_view scope);

// True if every scope of the key is a job-submit scope: such a key is bound
// to its job(s) and is worth nothing else — not even an identity check.
bool IsJobBound(const std::vector<std::string>& key_scopes);

// True if a key with `key_scopes` (owner allowed `allowed`) may read the job
// `job_id`: it holds jobs:read, or it is that job's own submit key.
bool MayReadJob(const std::vector<std::string>& key_scopes,
                const std::vector<std::string>& allowed, std::string_view job_id);

// True if a key with `key_scopes` (owner allowed `allowed`) may submit the job
// `job_id`: it holds jobs:write, or the job's own submit scope, and the plan
// allows jobs:write.
bool MaySubmitJob(const std::vector<std::string>& key_scopes,
                  const std::vector<std::string>& allowed, std::string_view job_id);

// Sorted, de-duplicated copy.
std::vector<std::string> NormalizeScopes(std::vector<std::string> scopes);

}  // namespace keyward::auth

// output.h: human-readable rendering of users and keys for the CLI.
#pragma once

#include <string>
#include <vector>

#include <optional>

#include "keyward/store.h"

namespace keyward::cli {

// A left-aligned text table with a header row, columns sized to fit.
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

std::string DescribeUser(const User& user);
std::string DescribeKey(const ApiKey& key, UnixMillis now);
std::string UserTable(const std::vector<User>& users);
std::string KeyTable(const std::vector<ApiKey>& keys, UnixMillis now);
// "2026-11-28T13:30:39Z" or "-" when absent.
std::string TimeOrDash(const std::optional<UnixMillis>& t);

// The line a text listing ends with when there is a next page.
std::string NextPageHint(const std::optional<std::string>& next);

}  // namespace keyward::cli

// migrations.h: versioned schema migrations, embedded at build time from
// src/store/migrations/<dialect>/NNNN_<what>.sql (see cmake/embed_sql.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace keyward::store {

struct Migration {
  int version;             // NNNN from the file name; strictly increasing
  std::string_view name;   // file name without .sql
  std::string_view sql;    // applied in one transaction
};

namespace sqlite {
// Ordered by version.
const std::vector<Migration>& Migrations();
}  // namespace sqlite

namespace postgres {
// Ordered by version.
const std::vector<Migration>& Migrations();
}  // namespace postgres

}  // namespace keyward::store

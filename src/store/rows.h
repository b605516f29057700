// rows.h: what the SQL backends share in turning rows into values: scope
// lists stored as space-separated text, and pages read with LIMIT + 1.
#pragma once

#include <string>
#include <vector>

#include "keyward/store.h"

namespace keyward::store {

// Space-separated scope lists, as stored.
std::string JoinScopes(const std::vector<std::string>& scopes);
std::vector<std::string> SplitScopes(const std::string& text);

// A page from rows fetched with LIMIT page.limit + 1: the extra row only says
// that there is a next page, whose cursor is made from the last item kept.
template <typename T, typename CursorOf>
Page<T> MakePage(std::vector<T> rows, int limit, CursorOf cursor_of) {
  Page<T> page;
  if (static_cast<int>(rows.size()) > limit) {
    rows.resize(static_cast<std::size_t>(limit));
    page.next = cursor_of(rows.back());
  }
  page.items = std::move(rows);
  return page;
}

}  // namespace keyward::store

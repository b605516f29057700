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

// ReplaceSealKey's check that no signing secret was written while the
// secrets were being re-sealed: the sealed count after the update must be
// the count of non-empty values given, else the rotation is refused.
std::int64_t CountSealed(const std::vector<std::pair<std::string, std::string>>& signing_secrets);
Status SecretsChangedMeanwhile();

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

// Runs `one(item)` for each item inside one transaction, each under its own
// savepoint, so that an item refused leaves the others in: one Status per
// item, in order. If the transaction itself fails, every item gets that
// failure. `tx` is the backend's scoped transaction (Begin(), Commit(),
// rollback when destroyed unless committed); `run(sql)` runs a statement.
template <typename Item, typename Tx, typename Run, typename One>
std::vector<Status> EachUnderSavepoint(Tx& tx, Run run, const std::vector<Item>& items, One one) {
  std::vector<Status> out;
  out.reserve(items.size());
  auto fail_all = [&](const Status& st) { return std::vector<Status>(items.size(), st); };
  if (Status st = tx.Begin(); !st.ok()) return fail_all(st);
  for (const Item& item : items) {
    Status st = run("SAVEPOINT kw_item");
    if (st.ok()) {
      st = one(item);
      Status end = st.ok() ? OkStatus() : run("ROLLBACK TO SAVEPOINT kw_item");
      if (end.ok()) end = run("RELEASE SAVEPOINT kw_item");
      if (!end.ok()) return fail_all(end);
    }
    out.push_back(std::move(st));
  }
  if (Status st = tx.Commit(); !st.ok()) return fail_all(st);
  return out;
}

}  // namespace keyward::store

// shared.h: what the SQLite backend's parts share — the connections (a
// writer, a reader, a watcher), the mutexes that serialise them and the
// writer's checkpointer — and small helpers for rows and pages.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "keyward/store.h"
#include "store/rows.h"
#include "store/sqlite/checkpointer.h"
#include "store/sqlite/connection.h"

namespace keyward::store::sqlite {

struct Shared {
  std::mutex mu;
  Db db;  // guarded by mu; every write goes through it
  std::string path;
  // A read-only connection for calls that only read; absent for an
  // in-memory database (reads use `db` then).
  std::mutex read_mu;
  Db reader;  // guarded by read_mu
  bool has_reader = false;
  // A second connection that watches for other connections' commits (the
  // change feed); absent for an in-memory database, which has no others.
  std::mutex watch_mu;
  Db watch;  // guarded by watch_mu
  bool has_watch = false;
  // Checkpoints the writer's WAL off its commit path; declared after `db`
  // so that it detaches before the writer closes.
  Checkpointer checkpointer;
};

inline std::string_view EnvText(Environment e) { return EnvironmentName(e); }
inline Environment ReadEnv(const Stmt& s, int col) {
  return ParseEnvironment(s.Text(col)).value_or(Environment::kLive);
}

// The first row of `s` read by `read`, or kNotFound with `not_found`.
template <typename Reader>
auto One(Stmt& s, Reader read, std::string not_found) -> StatusOr<decltype(read(s))> {
  Status st;
  if (!s.Step(&st)) {
    KW_RETURN_IF_ERROR(st);
    return NotFoundError(std::move(not_found));
  }
  return read(s);
}

// Every row of `s` read by `read`.
template <typename Reader>
auto All(Stmt& s, Reader read) -> StatusOr<std::vector<decltype(read(s))>> {
  std::vector<decltype(read(s))> out;
  Status st;
  while (s.Step(&st)) out.push_back(read(s));
  KW_RETURN_IF_ERROR(st);
  return out;
}

}  // namespace keyward::store::sqlite

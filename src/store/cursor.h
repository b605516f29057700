// cursor.h: page cursors — the sort position (time, id) of a page's last
// item, encoded so that clients treat it as opaque — and page-size checks,
// shared by every backend.
#pragma once

#include <string>
#include <string_view>

#include "keyward/store.h"

namespace keyward::store {

struct CursorPosition {
  UnixMillis at = 0;
  std::string id;
};

std::string EncodeCursor(UnixMillis at, std::string_view id);
// kInvalidArgument unless `cursor` is one EncodeCursor made.
StatusOr<CursorPosition> DecodeCursor(std::string_view cursor);

// kInvalidArgument unless 1 <= limit <= kMaxPageLimit and the cursor (when
// given) decodes. Returns the decoded position, or nullopt for a first page.
StatusOr<std::optional<CursorPosition>> CheckPage(const PageRequest& page);

}  // namespace keyward::store

// cursor.cc: "c1:<at>:<id>" in URL-safe Base64.
#include "store/cursor.h"

#include <charconv>

#include "core/base64.h"

namespace keyward::store {

std::string EncodeCursor(UnixMillis at, std::string_view id) {
  return core::Base64UrlEncode("c1:" + std::to_string(at) + ":" + std::string(id));
}

StatusOr<CursorPosition> DecodeCursor(std::string_view cursor) {
  Status bad = InvalidArgumentError("'after' is not a cursor from a previous page");
  if (cursor.size() > 200) return bad;
  std::optional<std::string> raw = core::Base64UrlDecode(cursor);
  if (!raw || raw->rfind("c1:", 0) != 0) return bad;
  std::string_view rest = std::string_view(*raw).substr(3);
  std::size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0) return bad;
  CursorPosition pos;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + colon, pos.at);
  if (ec != std::errc() || end != rest.data() + colon) return bad;
  pos.id = std::string(rest.substr(colon + 1));
  if (pos.id.empty() || pos.id.size() > 100) return bad;
  for (char c : pos.id) {
    if (c < 0x21 || c > 0x7e) return bad;
  }
  return pos;
}

StatusOr<std::optional<CursorPosition>> CheckPage(const PageRequest& page) {
  if (page.limit < 1 || page.limit > kMaxPageLimit) {
    return InvalidArgumentError("limit must be an integer from 1 to " + std::to_string(kMaxPageLimit));
  }
  if (page.after.empty()) return std::optional<CursorPosition>();
  KW_ASSIGN_OR_RETURN(CursorPosition pos, DecodeCursor(page.after));
  return std::optional<CursorPosition>(std::move(pos));
}

}  // namespace keyward::store

// ids.cc: random prefixed identifiers.
#include "core/ids.h"

#include <algorithm>

#include "core/base62.h"

namespace keyward::core {

StatusOr<std::string> NewId(std::string_view prefix) {
  KW_ASSIGN_OR_RETURN(std::string body, RandomBase62(kIdRandomChars, Randomness::kPooled));
  std::string id(prefix);
  id += '_';
  id += body;
  return id;
}

StatusOr<std::string> NewTimeOrderedId(std::string_view prefix, UnixMillis now) {
  constexpr std::uint64_t kLimit = [] {  // 62^kIdTimeChars
    std::uint64_t v = 1;
    for (std::size_t i = 0; i < kIdTimeChars; ++i) v *= 62;
    return v;
  }();
  const std::uint64_t t = now < 0 ? 0 : std::min<std::uint64_t>(static_cast<std::uint64_t>(now), kLimit - 1);
  KW_ASSIGN_OR_RETURN(std::string tail, RandomBase62(kIdRandomChars - kIdTimeChars, Randomness::kPooled));
  std::string id(prefix);
  id += '_';
  id += EncodeBase62Fixed(t, kIdTimeChars);
  id += tail;
  return id;
}

bool IsValidId(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 1 + kIdRandomChars) return false;
  if (id.substr(0, prefix.size()) != prefix || id[prefix.size()] != '_') return false;
  for (char c : id.substr(prefix.size() + 1)) {
    if (!IsBase62(c)) return false;
  }
  return true;
}

}  // namespace keyward::core

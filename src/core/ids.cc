// ids.cc: random prefixed identifiers.
#include "core/ids.h"

#include "core/base62.h"

namespace keyward::core {

StatusOr<std::string> NewId(std::string_view prefix) {
  KW_ASSIGN_OR_RETURN(std::string body, RandomBase62(kIdRandomChars));
  std::string id(prefix);
  id += '_';
  id += body;
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

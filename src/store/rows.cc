// rows.cc: see rows.h.
#include "store/rows.h"

#include <sstream>

namespace keyward::store {

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

std::vector<std::string> SplitScopes(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::int64_t CountSealed(const std::vector<std::pair<std::string, std::string>>& signing_secrets) {
  std::int64_t n = 0;
  for (const auto& [id, sealed] : signing_secrets) n += sealed.empty() ? 0 : 1;
  return n;
}

Status SecretsChangedMeanwhile() {
  return FailedPreconditionError(
      "a key's signing secret was stored while the seal key was being rotated (a server issued or "
      "first used a key): nothing was changed; run the rotation again");
}

}  // namespace keyward::store

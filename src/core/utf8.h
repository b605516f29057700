// utf8.h: strict UTF-8 validation (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF).
#pragma once

#include <string_view>

namespace keyward::core {

bool IsValidUtf8(std::string_view s);

}  // namespace keyward::core

// parse.h: turns untrusted JSON text into a value with bounds enforced while
// parsing — nesting depth, size, duplicate keys — so nothing later (copying,
// dump(), the recursive destructor of a deep value) can be driven into a
// stack overflow by input.
//
// The parser is nlohmann's SAX parser, which is iterative; the value is built
// by our own handler, which refuses to open level max_depth + 1 and stops the
// parse at once. Thread-safe (no shared state).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace keyward::jsonio {

struct JsonLimits {
  // Objects and arrays nested deeper than this are refused. A scalar at the
  // top is depth 0; {"a":[1]} is depth 2.
  std::size_t max_depth = 64;
  // Longer text is refused before parsing.
  std::size_t max_bytes = 1024 * 1024;
};

inline constexpr JsonLimits kDefaultJsonLimits{};

enum class JsonProblem {
  kNone,
  kSyntax,        // not JSON, or not UTF-8, or trailing bytes
  kTooDeep,       // nesting beyond max_depth
  kTooLarge,      // more than max_bytes
  kDuplicateKey,  // the same key twice in one object
};

struct ParsedJson {
  nlohmann::json value;  // discarded unless problem == kNone
  JsonProblem problem = JsonProblem::kNone;
  // For the caller's error message; never contains the input.
  std::string message;
  bool ok() const { return problem == JsonProblem::kNone; }
};

// Parses one JSON value from `text` under `limits`.
ParsedJson ParseJson(std::string_view text, const JsonLimits& limits = kDefaultJsonLimits);

// Parses JSON text that keyward wrote itself (a stored payload or result);
// a value that does not parse within the default limits comes back as null.
nlohmann::json ParseStoredJson(std::string_view text);

// The deepest nesting of `value` (0 for a scalar), found without recursion.
std::size_t JsonDepth(const nlohmann::json& value);

}  // namespace keyward::jsonio

// parse.cc: a depth-bounded SAX handler that builds an nlohmann value.
#include "json/parse.h"

#include <vector>

namespace keyward::jsonio {
namespace {

using nlohmann::json;

class BoundedBuilder {
 public:
  BoundedBuilder(json& root, std::size_t max_depth) : root_(root), max_depth_(max_depth) {}

  bool null() { return Put(nullptr); }
  bool boolean(bool v) { return Put(v); }
  bool number_integer(json::number_integer_t v) { return Put(v); }
  bool number_unsigned(json::number_unsigned_t v) { return Put(v); }
  bool number_float(json::number_float_t v, const json::string_t&) { return Put(v); }
  bool string(json::string_t& v) { return Put(std::move(v)); }
  bool binary(json::binary_t&) { return Fail(JsonProblem::kSyntax, "binary values are not JSON"); }

  bool start_object(std::size_t) { return Open(json::value_t::object); }
  bool start_array(std::size_t) { return Open(json::value_t::array); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }

  bool key(json::string_t& k) {
    json& obj = *stack_.back();
    if (obj.contains(k)) {
      return Fail(JsonProblem::kDuplicateKey, "duplicate key \"" + Printable(k) + "\"");
    }
    pending_ = &obj[std::move(k)];
    return true;
  }

  template <class Exception>
  bool parse_error(std::size_t position, const std::string&, const Exception&) {
    return Fail(JsonProblem::kSyntax,
                "not valid JSON (UTF-8) at byte " + std::to_string(position));
  }

  JsonProblem problem() const { return problem_; }
  const std::string& message() const { return message_; }

 private:
  // A key shown in an error: at most 40 printable ASCII characters.
  static std::string Printable(const std::string& k) {
    std::string out;
    for (char c : k.substr(0, 40)) out += (c >= 0x20 && c < 0x7f && c != '"') ? c : '?';
    return out;
  }

  bool Fail(JsonProblem p, std::string message) {
    if (problem_ == JsonProblem::kNone) {
      problem_ = p;
      message_ = std::move(message);
    }
    return false;
  }

  template <typename V>
  json* Place(V&& v) {
    if (stack_.empty()) {
      root_ = json(std::forward<V>(v));
      return &root_;
    }
    json& top = *stack_.back();
    if (top.is_array()) {
      top.get_ref<json::array_t&>().emplace_back(std::forward<V>(v));
      return &top.get_ref<json::array_t&>().back();
    }
    *pending_ = json(std::forward<V>(v));
    return pending_;
  }

  template <typename V>
  bool Put(V&& v) {
    Place(std::forward<V>(v));
    return true;
  }

  bool Open(json::value_t type) {
    if (stack_.size() >= max_depth_) {
      return Fail(JsonProblem::kTooDeep,
                  "JSON nests deeper than " + std::to_string(max_depth_) + " levels");
    }
    stack_.push_back(Place(type));
    return true;
  }

  bool Close() {
    stack_.pop_back();
    return true;
  }

  json& root_;
  const std::size_t max_depth_;
  std::vector<json*> stack_;
  json* pending_ = nullptr;
  JsonProblem problem_ = JsonProblem::kNone;
  std::string message_;
};

}  // namespace

ParsedJson ParseJson(std::string_view text, const JsonLimits& limits) {
  ParsedJson out;
  if (text.size() > limits.max_bytes) {
    out.problem = JsonProblem::kTooLarge;
    out.message = "JSON text is larger than " + std::to_string(limits.max_bytes) + " bytes";
    return out;
  }
  BoundedBuilder builder(out.value, limits.max_depth);
  bool ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json,
                            /*strict=*/true);
  if (!ok || builder.problem() != JsonProblem::kNone) {
    out.problem = builder.problem() == JsonProblem::kNone ? JsonProblem::kSyntax : builder.problem();
    out.message = builder.message().empty() ? "not valid JSON" : builder.message();
    // Release what was built without recursing deeply: it is at most
    // max_depth levels deep, so the ordinary destructor is safe.
    out.value = json(json::value_t::discarded);
  }
  return out;
}

json ParseStoredJson(std::string_view text) {
  ParsedJson p = ParseJson(text);
  return p.ok() ? std::move(p.value) : json(nullptr);
}

std::size_t JsonDepth(const json& value) {
  std::size_t deepest = 0;
  std::vector<std::pair<const json*, std::size_t>> todo{{&value, 0}};
  while (!todo.empty()) {
    auto [v, depth] = todo.back();
    todo.pop_back();
    if (!v->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    for (const json& child : *v) todo.emplace_back(&child, depth + 1);
  }
  return deepest;
}

}  // namespace keyward::jsonio

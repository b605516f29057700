// structured_fields.cc: RFC 8941 §4.2 parsing and §4.1 serialization, one
// function per algorithm of the RFC, named as there.
#include "core/structured_fields.h"

#include <charconv>

#include "core/base64.h"
#include "core/utf8.h"

namespace keyward::core::sf {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLcAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlpha(char c) { return IsLcAlpha(c) || (c >= 'A' && c <= 'Z'); }
bool IsTchar(char c) {
  if (IsAlpha(c) || IsDigit(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}
bool IsKeyChar(char c) { return IsLcAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '.' || c == '*'; }
bool IsBase64Char(char c) { return IsAlpha(c) || IsDigit(c) || c == '+' || c == '/' || c == '='; }

template <typename V>
void SetOrdered(std::vector<std::pair<std::string, V>>& map, std::string key, V value) {
  for (auto& [k, v] : map) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  map.emplace_back(std::move(key), std::move(value));
}

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  Status Fail(std::string what) const {
    return InvalidArgumentError("structured field: " + what + " at offset " + std::to_string(pos_));
  }
  bool AtEnd() const { return pos_ >= in_.size(); }
  char Peek() const { return AtEnd() ? '\0' : in_[pos_]; }
  void SkipSp() {
    while (!AtEnd() && in_[pos_] == ' ') ++pos_;
  }
  void SkipOws() {
    while (!AtEnd() && (in_[pos_] == ' ' || in_[pos_] == '\t')) ++pos_;
  }

  StatusOr<Dictionary> Dictionary_() {
    Dictionary dict;
    while (!AtEnd()) {
      KW_ASSIGN_OR_RETURN(std::string key, Key());
      Member member;
      if (Peek() == '=') {
        ++pos_;
        KW_RETURN_IF_ERROR(ItemOrInnerList(&member));
      } else {
        member.item.value = BareItem::Boolean(true);
        KW_ASSIGN_OR_RETURN(member.item.params, Params());
      }
      SetOrdered(dict, std::move(key), std::move(member));
      SkipOws();
      if (AtEnd()) return dict;
      if (Peek() != ',') return Fail("expected ',' between dictionary members");
      ++pos_;
      SkipOws();
      if (AtEnd()) return Fail("trailing ',' in a dictionary");
    }
    return dict;
  }

  Status ItemOrInnerList(Member* m) {
    if (Peek() == '(') {
      m->is_inner_list = true;
      KW_ASSIGN_OR_RETURN(m->list, InnerList_());
      return OkStatus();
    }
    KW_ASSIGN_OR_RETURN(m->item, Item_());
    return OkStatus();
  }

  StatusOr<InnerList> InnerList_() {
    ++pos_;  // '('
    InnerList list;
    while (!AtEnd()) {
      SkipSp();
      if (Peek() == ')') {
        ++pos_;
        KW_ASSIGN_OR_RETURN(list.params, Params());
        return list;
      }
      KW_ASSIGN_OR_RETURN(Item item, Item_());
      list.items.push_back(std::move(item));
      if (Peek() != ' ' && Peek() != ')') return Fail("expected ' ' or ')' in an inner list");
    }
    return Fail("unterminated inner list");
  }

  StatusOr<Item> Item_() {
    Item item;
    KW_ASSIGN_OR_RETURN(item.value, Bare());
    KW_ASSIGN_OR_RETURN(item.params, Params());
    return item;
  }

  StatusOr<BareItem> Bare() {
    char c = Peek();
    if (c == '-' || IsDigit(c)) return Number();
    if (c == '"') return String();
    if (c == '*' || IsAlpha(c)) return Token();
    if (c == ':') return ByteSequence();
    if (c == '?') return Boolean();
    if (c == '@') return Date();
    if (c == '%') return DisplayString();
    return Fail(AtEnd() ? "missing value" : "unexpected character");
  }

  StatusOr<Parameters> Params() {
    Parameters params;
    while (Peek() == ';') {
      ++pos_;
      SkipSp();
      KW_ASSIGN_OR_RETURN(std::string key, Key());
      BareItem value = BareItem::Boolean(true);
      if (Peek() == '=') {
        ++pos_;
        KW_ASSIGN_OR_RETURN(value, Bare());
      }
      SetOrdered(params, std::move(key), std::move(value));
    }
    return params;
  }

  StatusOr<std::string> Key() {
    char c = Peek();
    if (!(IsLcAlpha(c) || c == '*')) return Fail("a key must start with a-z or '*'");
    std::size_t start = pos_;
    while (!AtEnd() && IsKeyChar(in_[pos_])) ++pos_;
    return std::string(in_.substr(start, pos_ - start));
  }

  StatusOr<BareItem> Number() {
    bool negative = false;
    if (Peek() == '-') {
      negative = true;
      ++pos_;
    }
    if (!IsDigit(Peek())) return Fail("a number needs a digit");
    std::size_t start = pos_;
    std::size_t dot = std::string_view::npos;
    while (!AtEnd()) {
      char c = in_[pos_];
      if (IsDigit(c)) {
        ++pos_;
      } else if (c == '.' && dot == std::string_view::npos) {
        if (pos_ - start > 12) return Fail("a decimal's integer part has more than 12 digits");
        dot = pos_++;
      } else {
        break;
      }
      std::size_t len = pos_ - start;
      if (dot == std::string_view::npos && len > 15) return Fail("an integer has more than 15 digits");
      if (dot != std::string_view::npos && len > 16) return Fail("a decimal has more than 16 characters");
    }
    std::string_view digits = in_.substr(start, pos_ - start);
    std::int64_t value = 0;
    if (dot == std::string_view::npos) {
      std::from_chars(digits.data(), digits.data() + digits.size(), value);
      return BareItem{BareItem::Type::kInteger, negative ? -value : value, {}, true};
    }
    std::string_view whole = digits.substr(0, dot - start), frac = digits.substr(dot - start + 1);
    if (frac.empty()) return Fail("a decimal ends with '.'");
    if (frac.size() > 3) return Fail("a decimal has more than 3 fractional digits");
    std::from_chars(whole.data(), whole.data() + whole.size(), value);
    std::int64_t thousandths = 0;
    std::from_chars(frac.data(), frac.data() + frac.size(), thousandths);
    for (std::size_t i = frac.size(); i < 3; ++i) thousandths *= 10;
    value = value * 1000 + thousandths;
    return BareItem{BareItem::Type::kDecimal, negative ? -value : value, {}, true};
  }

  StatusOr<BareItem> String() {
    ++pos_;  // '"'
    std::string out;
    while (!AtEnd()) {
      // A run of plain characters at once; the escapes and the end one by one.
      std::size_t run = pos_;
      while (run < in_.size() && in_[run] >= 0x20 && in_[run] <= 0x7e && in_[run] != '"' && in_[run] != '\\') ++run;
      out.append(in_.substr(pos_, run - pos_));
      pos_ = run;
      if (AtEnd()) break;
      char c = in_[pos_++];
      if (c == '\\') {
        if (AtEnd()) return Fail("a string ends in '\\'");
        char n = in_[pos_++];
        if (n != '"' && n != '\\') return Fail("a string escapes a character other than '\"' or '\\'");
        out += n;
      } else if (c == '"') {
        return BareItem::String(std::move(out));
      } else if (c < 0x20 || c > 0x7e) {
        return Fail("a string holds a character outside printable ASCII");
      } else {
        out += c;
      }
    }
    return Fail("unterminated string");
  }

  StatusOr<BareItem> Token() {
    std::size_t start = pos_++;
    while (!AtEnd() && (IsTchar(in_[pos_]) || in_[pos_] == ':' || in_[pos_] == '/')) ++pos_;
    return BareItem::Token(std::string(in_.substr(start, pos_ - start)));
  }

  StatusOr<BareItem> ByteSequence() {
    ++pos_;  // ':'
    std::size_t end = in_.find(':', pos_);
    if (end == std::string_view::npos) return Fail("unterminated byte sequence");
    std::string b64(in_.substr(pos_, end - pos_));
    for (char c : b64) {
      if (!IsBase64Char(c)) return Fail("a byte sequence holds a character outside base64");
    }
    // The RFC asks parsers not to fail on missing '=' padding.
    while (b64.size() % 4 != 0) b64 += '=';
    std::optional<std::string> bytes = Base64Decode(b64);
    if (!bytes) return Fail("a byte sequence is not valid base64");
    pos_ = end + 1;
    return BareItem::Bytes(std::move(*bytes));
  }

  StatusOr<BareItem> Boolean() {
    ++pos_;  // '?'
    char c = Peek();
    if (c != '0' && c != '1') return Fail("a boolean must be ?0 or ?1");
    ++pos_;
    return BareItem::Boolean(c == '1');
  }

  StatusOr<BareItem> Date() {
    ++pos_;  // '@'
    KW_ASSIGN_OR_RETURN(BareItem n, Number());
    if (n.type != BareItem::Type::kInteger) return Fail("a date must be an integer");
    n.type = BareItem::Type::kDate;
    return n;
  }

  StatusOr<BareItem> DisplayString() {
    ++pos_;  // '%'
    if (Peek() != '"') return Fail("a display string must start with %\"");
    ++pos_;
    std::string out;
    while (!AtEnd()) {
      char c = in_[pos_++];
      if (c < 0x20 || c > 0x7e) return Fail("a display string holds a character outside printable ASCII");
      if (c == '%') {
        if (pos_ + 2 > in_.size()) return Fail("a display string ends inside a %-escape");
        auto hex = [](char h) { return IsDigit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : -1; };
        int hi = hex(in_[pos_]), lo = hex(in_[pos_ + 1]);
        if (hi < 0 || lo < 0) return Fail("a display string's %-escape is not two lower-case hex digits");
        out += static_cast<char>(hi * 16 + lo);
        pos_ += 2;
      } else if (c == '"') {
        if (!IsValidUtf8(out)) return Fail("a display string is not valid UTF-8");
        return BareItem{BareItem::Type::kDisplayString, 0, std::move(out), true};
      } else {
        out += c;
      }
    }
    return Fail("unterminated display string");
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

template <typename T, typename F>
StatusOr<T> ParseWhole(std::string_view text, F parse) {
  Parser p(text);
  p.SkipSp();
  StatusOr<T> out = parse(p);
  if (!out.ok()) return out.status();
  p.SkipSp();
  if (!p.AtEnd()) return p.Fail("unexpected characters after the value");
  return out;
}

void AppendDecimal(std::string& out, std::int64_t thousandths) {
  if (thousandths < 0) {
    out += '-';
    thousandths = -thousandths;
  }
  out += std::to_string(thousandths / 1000);
  out += '.';
  std::int64_t frac = thousandths % 1000;
  std::string f = std::to_string(1000 + frac).substr(1);
  while (f.size() > 1 && f.back() == '0') f.pop_back();
  out += f;
}

}  // namespace

StatusOr<Dictionary> ParseDictionary(std::string_view text) {
  return ParseWhole<Dictionary>(text, [](Parser& p) { return p.Dictionary_(); });
}

StatusOr<Item> ParseItem(std::string_view text) {
  return ParseWhole<Item>(text, [](Parser& p) { return p.Item_(); });
}

const BareItem* FindParam(const Parameters& params, std::string_view key) {
  for (const auto& [k, v] : params) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string SerializeBareItem(const BareItem& item) {
  std::string out;
  switch (item.type) {
    case BareItem::Type::kInteger:
      return std::to_string(item.integer);
    case BareItem::Type::kDecimal:
      AppendDecimal(out, item.integer);
      return out;
    case BareItem::Type::kString:
      out += '"';
      for (char c : item.text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
      return out;
    case BareItem::Type::kToken:
      return item.text;
    case BareItem::Type::kByteSequence:
      return ":" + Base64Encode(item.text) + ":";
    case BareItem::Type::kBoolean:
      return item.boolean ? "?1" : "?0";
    case BareItem::Type::kDate:
      return "@" + std::to_string(item.integer);
    case BareItem::Type::kDisplayString: {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "%\"";
      for (char ch : item.text) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '%' || c == '"' || c < 0x20 || c > 0x7e) {
          out += '%';
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += ch;
        }
      }
      out += '"';
      return out;
    }
  }
  return out;
}

std::string SerializeParams(const Parameters& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    out += ';';
    out += k;
    if (v.type == BareItem::Type::kBoolean && v.boolean) continue;
    out += '=';
    out += SerializeBareItem(v);
  }
  return out;
}

std::string SerializeItem(const Item& item) { return SerializeBareItem(item.value) + SerializeParams(item.params); }

std::string SerializeInnerList(const InnerList& list) {
  std::string out = "(";
  for (std::size_t i = 0; i < list.items.size(); ++i) {
    if (i) out += ' ';
    out += SerializeItem(list.items[i]);
  }
  out += ')';
  out += SerializeParams(list.params);
  return out;
}

std::string SerializeDictionary(const Dictionary& dict) {
  std::string out;
  for (const auto& [k, m] : dict) {
    if (!out.empty()) out += ", ";
    out += k;
    if (m.is_inner_list) {
      out += '=';
      out += SerializeInnerList(m.list);
    } else if (m.item.value.type == BareItem::Type::kBoolean && m.item.value.boolean) {
      out += SerializeParams(m.item.params);
    } else {
      out += '=';
      out += SerializeItem(m.item);
    }
  }
  return out;
}

}  // namespace keyward::core::sf

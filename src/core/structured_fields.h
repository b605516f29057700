// structured_fields.h: Structured Field Values for HTTP (RFC 8941, with the
// Date and Display String types of RFC 9651): the parser and serializer that
// signed requests need — Dictionaries of Items and Inner Lists with
// Parameters (Signature-Input, Signature, Content-Digest).
//
// The parser follows the RFC's algorithms step by step and is strict where
// they are: any deviation fails the whole field, nothing is guessed. It
// works on untrusted header values of any size without recursion.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "keyward/status.h"

namespace keyward::core::sf {

struct BareItem {
  enum class Type { kInteger, kDecimal, kString, kToken, kByteSequence, kBoolean, kDate, kDisplayString };
  Type type = Type::kBoolean;
  // kInteger, kDate: the value; kDecimal: the value in thousandths (the
  // RFC allows three fractional digits, so this is exact).
  std::int64_t integer = 0;
  // kString, kToken, kDisplayString (UTF-8): the text; kByteSequence: the bytes.
  std::string text;
  bool boolean = true;

  static BareItem Integer(std::int64_t v) { return {Type::kInteger, v, {}, true}; }
  static BareItem String(std::string v) { return {Type::kString, 0, std::move(v), true}; }
  static BareItem Token(std::string v) { return {Type::kToken, 0, std::move(v), true}; }
  static BareItem Bytes(std::string v) { return {Type::kByteSequence, 0, std::move(v), true}; }
  static BareItem Boolean(bool v) { return {Type::kBoolean, 0, {}, v}; }
};

// Ordered; a key given twice keeps its first position and its last value,
// as the RFC's parsing algorithm says.
using Parameters = std::vector<std::pair<std::string, BareItem>>;

struct Item {
  BareItem value;
  Parameters params;
};

struct InnerList {
  std::vector<Item> items;
  Parameters params;
};

struct Member {
  bool is_inner_list = false;
  Item item;        // when !is_inner_list
  InnerList list;   // when is_inner_list
};

using Dictionary = std::vector<std::pair<std::string, Member>>;

// Parses a Dictionary field value (several field lines joined with ","
// first). kInvalidArgument naming what is wrong.
StatusOr<Dictionary> ParseDictionary(std::string_view text);
// Parses an Item field value.
StatusOr<Item> ParseItem(std::string_view text);

// The parameter `key` of `params`, or null.
const BareItem* FindParam(const Parameters& params, std::string_view key);

// Serializations (RFC 8941 §4.1). They assume well-formed values (keys,
// tokens and strings as the RFC allows them) — values that came from the
// parser or from code.
std::string SerializeBareItem(const BareItem& item);
std::string SerializeParams(const Parameters& params);
std::string SerializeItem(const Item& item);
std::string SerializeInnerList(const InnerList& list);
std::string SerializeDictionary(const Dictionary& dict);

}  // namespace keyward::core::sf

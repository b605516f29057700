// Structured field values (RFC 8941/9651): parsing exactly as the RFC's
// algorithms say, and serialization back to the canonical form.
#include "core/structured_fields.h"

#include <gtest/gtest.h>

namespace keyward::core::sf {
namespace {

using T = BareItem::Type;

TEST(StructuredFields, ParsesSignatureInputShape) {
  auto d = ParseDictionary(
      R"(sig1=("@method" "@target-uri" "content-digest");created=1618884473;keyid="key_x";nonce="n-1")");
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_EQ(d->size(), 1u);
  const Member& m = d->front().second;
  ASSERT_TRUE(m.is_inner_list);
  ASSERT_EQ(m.list.items.size(), 3u);
  EXPECT_EQ(m.list.items[1].value.text, "@target-uri");
  const BareItem* created = FindParam(m.list.params, "created");
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->type, T::kInteger);
  EXPECT_EQ(created->integer, 1618884473);
  EXPECT_EQ(SerializeInnerList(m.list),
            R"(("@method" "@target-uri" "content-digest");created=1618884473;keyid="key_x";nonce="n-1")");
}

TEST(StructuredFields, EveryBareItemType) {
  auto d = ParseDictionary(
      R"(a=1, b=-4.5, c="q\"s\\", d=tok/en:x, e=:aGVsbG8=:, f=?0, g, h=@1659578233, i=%"f%c3%bc%c3%bc")");
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_EQ(d->size(), 9u);
  EXPECT_EQ((*d)[0].second.item.value.integer, 1);
  EXPECT_EQ((*d)[1].second.item.value.type, T::kDecimal);
  EXPECT_EQ((*d)[1].second.item.value.integer, -4500);
  EXPECT_EQ((*d)[2].second.item.value.text, "q\"s\\");
  EXPECT_EQ((*d)[3].second.item.value.type, T::kToken);
  EXPECT_EQ((*d)[3].second.item.value.text, "tok/en:x");
  EXPECT_EQ((*d)[4].second.item.value.text, "hello");
  EXPECT_FALSE((*d)[5].second.item.value.boolean);
  EXPECT_TRUE((*d)[6].second.item.value.boolean);
  EXPECT_EQ((*d)[7].second.item.value.type, T::kDate);
  EXPECT_EQ((*d)[8].second.item.value.text, "f\xc3\xbc\xc3\xbc");
  EXPECT_EQ(SerializeDictionary(*d),
            R"(a=1, b=-4.5, c="q\"s\\", d=tok/en:x, e=:aGVsbG8=:, f=?0, g, h=@1659578233, i=%"f%c3%bc%c3%bc")");
}

TEST(StructuredFields, DuplicateKeysKeepFirstPositionAndLastValue) {
  auto d = ParseDictionary("a=1, b=2, a=3");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 2u);
  EXPECT_EQ(d->front().first, "a");
  EXPECT_EQ(d->front().second.item.value.integer, 3);
  auto p = ParseItem("1;x=1;y;x=2");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(SerializeItem(*p), "1;x=2;y");
}

TEST(StructuredFields, WhitespaceAsTheRfcAllows) {
  EXPECT_TRUE(ParseDictionary("  a=1 ,\tb=2  ").ok());
  EXPECT_TRUE(ParseDictionary("a=(  1   2  )").ok());
  auto p = ParseDictionary("a=1; b=2");  // SP after ';' is allowed: b is a parameter of a
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->size(), 1u);
  EXPECT_TRUE(ParseItem("1; b=2").ok());
  EXPECT_FALSE(ParseDictionary("\ta=1").ok());  // leading HTAB is not SP
}

TEST(StructuredFields, PaddingOptionalInByteSequences) {
  auto i = ParseItem(":aGVsbG8:");
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(i->value.text, "hello");
}

TEST(StructuredFields, RefusesWhatTheRfcRefuses) {
  for (const char* bad : {
           "a=1,", "a=1,,b=2", "A=1", "a=(1 2", "a=(1,2)", "a=\"unterminated", "a=\"bad\\n\"",
           "a=1234567890123456", "a=1234567890123.5", "a=1.2345", "a=1.", "a=-", "a=:not base64!:",
           "a=:aGVsbG8=", "a=?2", "a=@1.5", "a=%\"%C3\"", "a=%\"%c3\"", "a=%\"x", "a=\"\x01\"",
           "a=1 b=2", "a=1;", "a=1;K=2", "a=é", "a=1)",
       }) {
    EXPECT_FALSE(ParseDictionary(bad).ok()) << bad;
  }
  EXPECT_TRUE(ParseDictionary("").ok());
  EXPECT_TRUE(ParseDictionary("a=123456789012345").ok());
  EXPECT_TRUE(ParseDictionary("a=123456789012.123").ok());
}

TEST(StructuredFields, DecimalSerializationIsCanonical) {
  auto i = ParseItem("1.500");
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(SerializeItem(*i), "1.5");
  i = ParseItem("-0.05");
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(SerializeItem(*i), "-0.05");
  i = ParseItem("7.0");
  ASSERT_TRUE(i.ok());
  EXPECT_EQ(SerializeItem(*i), "7.0");
}

}  // namespace
}  // namespace keyward::core::sf

// Tests for bounded JSON parsing (src/json/parse.h).
#include "json/parse.h"

#include <gtest/gtest.h>

namespace keyward::jsonio {
namespace {

std::string Nested(std::size_t depth, const std::string& open = "[", const std::string& close = "]") {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += open;
  s += "1";
  for (std::size_t i = 0; i < depth; ++i) s += close;
  return s;
}

TEST(ParseJson, ParsesOrdinaryDocuments) {
  ParsedJson p = ParseJson(R"({"a":[1,2,{"b":null}],"c":"é","d":1.5,"e":true,"f":-3})");
  ASSERT_TRUE(p.ok()) << p.message;
  EXPECT_EQ(p.value["a"][2]["b"], nullptr);
  EXPECT_EQ(p.value["c"], "é");
  EXPECT_EQ(p.value["f"], -3);
  EXPECT_EQ(JsonDepth(p.value), 3u);
  EXPECT_TRUE(ParseJson("7").ok());
  EXPECT_EQ(ParseJson("7").value, 7);
}

TEST(ParseJson, AcceptsNestingUpToTheLimitAndNoFurther) {
  ParsedJson at = ParseJson(Nested(64));
  ASSERT_TRUE(at.ok()) << at.message;
  EXPECT_EQ(JsonDepth(at.value), 64u);
  ParsedJson over = ParseJson(Nested(65));
  EXPECT_EQ(over.problem, JsonProblem::kTooDeep);
  EXPECT_NE(over.message.find("64"), std::string::npos);
  ParsedJson objects = ParseJson(Nested(65, "{\"a\":", "}"));
  EXPECT_EQ(objects.problem, JsonProblem::kTooDeep);
  EXPECT_EQ(ParseJson(Nested(3), JsonLimits{.max_depth = 2}).problem, JsonProblem::kTooDeep);
}

// Issue 7, finding 1: 100,000 nested arrays used to overflow the stack when
// the parsed value was copied or dumped. They are refused while parsing.
TEST(ParseJson, RefusesAHundredThousandNestedArraysWithoutRecursing) {
  std::string body = R"({"job_id":"d","task":"echo","payload":{"a":)" + Nested(100'000) + "}}";
  ParsedJson p = ParseJson(body);
  EXPECT_EQ(p.problem, JsonProblem::kTooDeep);
  EXPECT_TRUE(p.value.is_discarded());
  // Unclosed nesting is refused the same way, not as a syntax error at the end.
  EXPECT_EQ(ParseJson(std::string(100'000, '[')).problem, JsonProblem::kTooDeep);
}

TEST(ParseJson, RefusesDuplicateKeys) {
  ParsedJson p = ParseJson(R"({"job_id":"a","job_id":"b"})");
  EXPECT_EQ(p.problem, JsonProblem::kDuplicateKey);
  EXPECT_NE(p.message.find("job_id"), std::string::npos);
  EXPECT_EQ(ParseJson(R"({"a":{"x":1},"b":{"x":1}})").problem, JsonProblem::kNone);
  EXPECT_EQ(ParseJson(R"([{"x":1},{"x":2}])").problem, JsonProblem::kNone);
}

TEST(ParseJson, RefusesBrokenTextTrailingBytesAndBadUtf8) {
  for (const char* bad : {"", "{", "{\"a\":}", "[1,]", "{} x", "\"\xff\"", "nul", "{'a':1}", "[1] [2]"}) {
    ParsedJson p = ParseJson(bad);
    EXPECT_EQ(p.problem, JsonProblem::kSyntax) << bad;
    EXPECT_EQ(p.message.find(bad[0] ? bad : "\x01"), std::string::npos) << "echoes input";
  }
}

TEST(ParseJson, RefusesTextOverTheSizeLimitBeforeParsing) {
  EXPECT_EQ(ParseJson("[1,2,3]", JsonLimits{.max_bytes = 6}).problem, JsonProblem::kTooLarge);
  EXPECT_TRUE(ParseJson("[1,2,3]", JsonLimits{.max_bytes = 7}).ok());
}

TEST(ParseJson, StoredTextThatDoesNotParseBecomesNull) {
  EXPECT_EQ(ParseStoredJson(R"({"a":1})")["a"], 1);
  EXPECT_TRUE(ParseStoredJson(Nested(1000)).is_null());
  EXPECT_TRUE(ParseStoredJson("{").is_null());
}

}  // namespace
}  // namespace keyward::jsonio

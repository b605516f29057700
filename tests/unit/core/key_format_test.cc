// Tests for the public key format (include/keyward/key_format.h).
#include "keyward/key_format.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "core/base62.h"
#include "core/crypto.h"

namespace keyward {
namespace {

std::string MustGenerate(Environment env) {
  StatusOr<std::string> key = GenerateKey(env);
  EXPECT_TRUE(key.ok());
  return key.ok() ? *key : std::string();
}

TEST(KeyFormat, TenThousandGeneratedKeysParseAndRoundTrip) {
  const std::regex shape("^kw_(live|test)_[0-9A-Za-z]{36}$");
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    Environment env = i % 2 ? Environment::kTest : Environment::kLive;
    std::string key = MustGenerate(env);
    ASSERT_EQ(key.size(), kKeyLength);
    ASSERT_TRUE(std::regex_match(key, shape)) << key;
    std::optional<Environment> parsed = ParseKey(key);
    ASSERT_TRUE(parsed.has_value()) << key;
    ASSERT_EQ(*parsed, env);
    ASSERT_EQ(key.substr(38), KeyChecksum(key.substr(0, 38)));
    ASSERT_TRUE(seen.insert(key).second) << "duplicate key generated";
  }
}

TEST(KeyFormat, EverySingleCharacterSubstitutionIsRejected) {
  for (int round = 0; round < 5; ++round) {
    std::string key = MustGenerate(round % 2 ? Environment::kTest : Environment::kLive);
    for (std::size_t pos = 0; pos < key.size(); ++pos) {
      for (char c : core::kBase62Alphabet) {
        if (c == key[pos]) continue;
        std::string bad = key;
        bad[pos] = c;
        // The one legal prefix substitution: live <-> test is a different
        // prefix, and its checksum then no longer matches.
        EXPECT_FALSE(ParseKey(bad).has_value()) << "position " << pos << " char " << c;
      }
      for (char c : std::string("_-+/ \0\x7f\xff", 8)) {
        std::string bad = key;
        bad[pos] = c;
        if (bad != key) {
          EXPECT_FALSE(ParseKey(bad).has_value());
        }
      }
    }
  }
}

TEST(KeyFormat, EnvironmentSwapBreaksChecksum) {
  std::string key = MustGenerate(Environment::kLive);
  std::string swapped = "kw_test_" + key.substr(8);
  EXPECT_FALSE(ParseKey(swapped).has_value());
}

TEST(KeyFormat, WrongShapesAreRejected) {
  std::string key = MustGenerate(Environment::kLive);
  EXPECT_FALSE(ParseKey("").has_value());
  EXPECT_FALSE(ParseKey(key.substr(1)).has_value());
  EXPECT_FALSE(ParseKey(key + "0").has_value());
  EXPECT_FALSE(ParseKey(key.substr(0, 43)).has_value());
  EXPECT_FALSE(ParseKey("KW_LIVE_" + key.substr(8)).has_value());
  EXPECT_FALSE(ParseKey("kw_prod_" + key.substr(8)).has_value());
  EXPECT_FALSE(ParseKey(" " + key.substr(1)).has_value());
}

TEST(KeyFormat, ChecksumIsCrc32InSixBase62Digits) {
  // The CRC-32 check value: CRC32("123456789") = 0xCBF43926.
  EXPECT_EQ(KeyChecksum("123456789"), core::EncodeBase62Fixed(0xCBF43926u, 6));
  EXPECT_EQ(KeyChecksum(""), "000000");
  EXPECT_EQ(core::EncodeBase62Fixed(61, 6), "00000z");
  EXPECT_EQ(core::EncodeBase62Fixed(62, 6), "000010");
  EXPECT_EQ(core::EncodeBase62Fixed(0xFFFFFFFFu, 6), "4gfFC3");
}

TEST(KeyFormat, DisplayShowsPrefixAndFourBodyCharacters) {
  std::string key = MustGenerate(Environment::kTest);
  std::string display = KeyDisplay(key);
  EXPECT_EQ(display, key.substr(0, 12) + "\u2026");
  EXPECT_EQ(display.find(key.substr(12, 8)), std::string::npos);
}

TEST(KeyFormat, HashIsSha256OfTheFullKey) {
  // FIPS 180-2 test vectors.
  KeyHash abc = HashKey("abc");
  EXPECT_EQ(core::HexEncode(abc.data(), abc.size()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  KeyHash empty = HashKey("");
  EXPECT_EQ(core::HexEncode(empty.data(), empty.size()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  KeyHash two = HashKey("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  EXPECT_EQ(core::HexEncode(two.data(), two.size()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(KeyFormat, HashEqualityComparesAllBytes) {
  KeyHash a = HashKey("x");
  KeyHash b = a;
  EXPECT_TRUE(KeyHashEqual(a, b));
  b[31] ^= 1;
  EXPECT_FALSE(KeyHashEqual(a, b));
}

TEST(KeyFormat, EnvironmentNamesRoundTrip) {
  EXPECT_EQ(ParseEnvironment("live"), Environment::kLive);
  EXPECT_EQ(ParseEnvironment("test"), Environment::kTest);
  EXPECT_FALSE(ParseEnvironment("LIVE").has_value());
  EXPECT_EQ(EnvironmentName(Environment::kTest), "test");
}

TEST(Base62, RandomCharactersAreRoughlyUniform) {
  // Fresh draws (key bodies) and the per-thread pool (identifiers) alike.
  for (core::Randomness from : {core::Randomness::kFresh, core::Randomness::kPooled}) {
    StatusOr<std::string> s = core::RandomBase62(62 * 1000, from);
    ASSERT_TRUE(s.ok());
    std::array<int, 256> counts{};
    for (unsigned char c : *s) counts[c]++;
    for (char c : core::kBase62Alphabet) {
      // Expected 1000 each; a 6-sigma band is far from flaky.
      EXPECT_GT(counts[static_cast<unsigned char>(c)], 800) << c;
      EXPECT_LT(counts[static_cast<unsigned char>(c)], 1200) << c;
    }
  }
}

}  // namespace
}  // namespace keyward

// Tests for the hand-written CRC-32 against zlib's, the reference.
#include "core/crc32.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

namespace keyward::core {
namespace {

TEST(Crc32, MatchesZlibOnEveryLengthAndRandomData) {
  std::mt19937 rng(42);
  for (std::size_t len = 0; len < 300; ++len) {
    for (int round = 0; round < 20; ++round) {
      std::string s(len, '\0');
      for (char& c : s) c = static_cast<char>(rng());
      uLong want = crc32_z(0L, reinterpret_cast<const Bytef*>(s.data()), s.size());
      ASSERT_EQ(Crc32(s), static_cast<std::uint32_t>(want)) << "length " << len;
    }
  }
}

TEST(Crc32, CheckValue) { EXPECT_EQ(Crc32("123456789"), 0xCBF43926u); }

}  // namespace
}  // namespace keyward::core

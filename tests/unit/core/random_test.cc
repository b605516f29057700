// Tests for the pooled CSPRNG draws identifiers and nonces use
// (src/core/crypto.h); base62 uniformity through the pool is in
// key_format_test.cc.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "core/crypto.h"

namespace keyward::core {
namespace {

std::string Draw(std::size_t n) {
  std::string out(n, '\0');
  EXPECT_TRUE(PooledRandomBytes(reinterpret_cast<unsigned char*>(out.data()), n).ok());
  return out;
}

TEST(PooledRandom, DrawsNeverRepeatAcrossRefills) {
  // 2,000 draws of 16 bytes cross the 4 KiB buffer's refill several times.
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) EXPECT_TRUE(seen.insert(Draw(16)).second) << i;
}

TEST(PooledRandom, DrawsLargerThanTheBufferAreServed) {
  std::string big = Draw(10'000);
  EXPECT_NE(big.substr(0, 5000), big.substr(5000));
  EXPECT_NE(big, std::string(big.size(), '\0'));
}

TEST(PooledRandom, AForkedChildDrawsOtherBytesThanItsParent) {
  Draw(16);  // the buffer is filled before the fork
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string mine = Draw(16);
    ssize_t written = write(fds[1], mine.data(), mine.size());
    _exit(written == 16 ? 0 : 1);
  }
  close(fds[1]);
  std::string theirs(16, '\0');
  ssize_t got = read(fds[0], theirs.data(), theirs.size());
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, 16);
  EXPECT_NE(Draw(16), theirs);
}

}  // namespace
}  // namespace keyward::core

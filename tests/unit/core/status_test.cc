// Tests for Status and StatusOr (include/keyward/status.h).
#include "keyward/status.h"

#include <gtest/gtest.h>

#include <memory>

namespace keyward {
namespace {

StatusOr<int> Half(int n) {
  if (n % 2) return InvalidArgumentError("odd");
  return n / 2;
}

StatusOr<int> Quarter(int n) {
  KW_ASSIGN_OR_RETURN(int h, Half(n));
  KW_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status Check(int n) {
  KW_RETURN_IF_ERROR(Half(n).status());
  return OkStatus();
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = NotFoundError("user usr_x does not exist");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: user usr_x does not exist");
  EXPECT_TRUE(OkStatus().ok());
  EXPECT_EQ(StatusCodeName(StatusCode::kResourceExhausted), "RESOURCE_EXHAUSTED");
}

TEST(StatusOr, HoldsAValueOrAnError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Quarter(3).status().message(), "odd");
  EXPECT_TRUE(Check(4).ok());
  EXPECT_FALSE(Check(5).ok());
  StatusOr<std::unique_ptr<int>> owned = std::make_unique<int>(7);
  std::unique_ptr<int> taken = std::move(owned).value();
  EXPECT_EQ(*taken, 7);
}

TEST(StatusOr, NeverHoldsAnOkStatusWithoutAValue) {
#ifdef NDEBUG
  StatusOr<int> bad = OkStatus();
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
#else
  GTEST_SKIP() << "asserts in debug builds";
#endif
}

}  // namespace
}  // namespace keyward

// The one parser for whole numbers in configuration and command-line text (src/whole_number.hpp).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "whole_number.hpp"

using convt1d::detail::parse_whole_number;

namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

}  // namespace

TEST(WholeNumber, ReadsDigitsWithAnOptionalMinus) {
  int64_t v = 7;
  ASSERT_TRUE(parse_whole_number("0", 0, 10, &v));
  EXPECT_EQ(v, 0);
  ASSERT_TRUE(parse_whole_number("0042", 0, 100, &v));
  EXPECT_EQ(v, 42);
  ASSERT_TRUE(parse_whole_number("-17", kMin, kMax, &v));
  EXPECT_EQ(v, -17);
  ASSERT_TRUE(parse_whole_number("9223372036854775807", kMin, kMax, &v));
  EXPECT_EQ(v, kMax);
  ASSERT_TRUE(parse_whole_number("-9223372036854775808", kMin, kMax, &v));
  EXPECT_EQ(v, kMin);
}

TEST(WholeNumber, RefusesAnythingElseAndLeavesTheOutputAlone) {
  for (const char* bad : {"", "-", " 5", "5 ", "+5", "5x", "x5", "1.5", "1e3", "0x10", "--5", "5-", "\t5", "٣"}) {
    int64_t v = 7;
    EXPECT_FALSE(parse_whole_number(bad, kMin, kMax, &v)) << "'" << bad << "'";
    EXPECT_EQ(v, 7) << "'" << bad << "'";
  }
}

TEST(WholeNumber, RefusesValuesPastInt64InsteadOfClamping) {
  int64_t v = 7;
  EXPECT_FALSE(parse_whole_number("9223372036854775808", kMin, kMax, &v));
  EXPECT_FALSE(parse_whole_number("-9223372036854775809", kMin, kMax, &v));
  EXPECT_FALSE(parse_whole_number("99999999999999999999999", kMin, kMax, &v));
  EXPECT_EQ(v, 7);
}

TEST(WholeNumber, HoldsTheRange) {
  int64_t v = 7;
  EXPECT_FALSE(parse_whole_number("-1", 0, 10, &v));
  EXPECT_FALSE(parse_whole_number("11", 0, 10, &v));
  ASSERT_TRUE(parse_whole_number("10", 0, 10, &v));
  EXPECT_EQ(v, 10);
  ASSERT_TRUE(parse_whole_number("-3", -3, -1, &v));
  EXPECT_EQ(v, -3);
  EXPECT_FALSE(parse_whole_number("0", -3, -1, &v));
}

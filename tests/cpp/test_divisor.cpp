// Division by multiply-high (src/divisor.hpp) on the CPU: Divisor<int32_t> matches `/` and `%` for
// every divisor up to 4096 and for divisors near powers of two up to 2^31 - 1, on dividends that
// include 0, the multiples of the divisor and their neighbours, random values and 2^31 - 1.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

#include "divisor.hpp"

namespace {

using convt1d::detail::Divisor;

constexpr int64_t kMaxDividend = INT32_MAX;

void check_divisor(int64_t d, std::mt19937_64& rng) {
  const Divisor<int32_t> div = Divisor<int32_t>::of(d);
  ASSERT_EQ(div.value, d);
  std::vector<int64_t> ns = {0, 1, d - 1, d, d + 1, kMaxDividend, kMaxDividend - 1, kMaxDividend / d * d,
                             kMaxDividend / d * d - 1};
  std::uniform_int_distribution<int64_t> any(0, kMaxDividend);
  for (int i = 0; i < 64; ++i) {
    const int64_t q = any(rng) / d;  // a multiple of d and its neighbours
    ns.push_back(q * d);
    ns.push_back(q * d - 1);
    ns.push_back(q * d + d - 1);
    ns.push_back(any(rng));
  }
  for (int64_t n : ns) {
    if (n < 0 || n > kMaxDividend) continue;
    const auto n32 = static_cast<int32_t>(n);
    ASSERT_EQ(div.div(n32), n / d) << n << " / " << d;
    ASSERT_EQ(div.mod(n32), n % d) << n << " % " << d;
  }
}

TEST(Divisor, SmallDivisors) {
  std::mt19937_64 rng(31);
  for (int64_t d = 1; d <= 4096; ++d) {
    check_divisor(d, rng);
    if (HasFatalFailure()) return;
  }
}

TEST(Divisor, DivisorsNearPowersOfTwo) {
  std::mt19937_64 rng(32);
  for (int l = 12; l <= 31; ++l) {
    const int64_t p = int64_t{1} << l;
    for (int64_t d : {p - 3, p - 1, p, p + 1, p + 3, p / 2 * 3}) {
      if (d > kMaxDividend) continue;
      check_divisor(d, rng);
      if (HasFatalFailure()) return;
    }
  }
  check_divisor(kMaxDividend, rng);
}

TEST(Divisor, EveryDividendOfAFewDivisors) {
  // Exhaustive over a dividend range for divisors whose magic number rounds the most.
  for (int64_t d : {3, 7, 641, 6700417, 46341}) {
    const Divisor<int32_t> div = Divisor<int32_t>::of(d);
    for (int64_t n = kMaxDividend - (int64_t{1} << 22); n <= kMaxDividend; ++n) {
      const auto n32 = static_cast<int32_t>(n);
      if (div.div(n32) != n / d) FAIL() << n << " / " << d << " gave " << div.div(n32);
    }
  }
}

TEST(Divisor, RejectsDivisorsOutOfRange) {
  EXPECT_THROW(Divisor<int32_t>::of(0), std::invalid_argument);
  EXPECT_THROW(Divisor<int32_t>::of(-5), std::invalid_argument);
  EXPECT_THROW(Divisor<int32_t>::of(kMaxDividend + 1), std::invalid_argument);
}

TEST(Divisor, SixtyFourBitDividesPlainly) {
  const auto d = Divisor<int64_t>::of(int64_t{3} << 33);
  EXPECT_EQ(d.div(int64_t{10} << 33), 3);
  EXPECT_EQ(d.mod(int64_t{10} << 33), int64_t{1} << 33);
}

}  // namespace

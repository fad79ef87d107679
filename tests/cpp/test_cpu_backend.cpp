// CPU backend (device CPU through the C ABI) against the independent fp64 scatter reference in
// test_util.hpp, over seeded random problems in every dtype; and that scatter reference against the
// library's own gather reference (convt1d::detail::reference_forward / reference_point).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "convt1d/convt1d.h"
#include "cpu/reference.hpp"
#include "test_util.hpp"

namespace {

using t1d::describe;
using t1d::Inputs;
using t1d::TypedBuffer;

struct CpuRun {
  convt1d_status status = CONVT1D_INTERNAL_ERROR;
  std::string error;
  std::vector<double> y;
  bool y_buffer_untouched = false;  // every byte still the 0xFF poison (only meaningful when y is empty)
};

// Runs convt1d_forward on the CPU with inputs stored in p.dtype; y is poisoned (NaN) first.
CpuRun run_cpu(const convt1d_problem& p, const Inputs& in) {
  const TypedBuffer x = TypedBuffer::from_double(p.dtype, in.x);
  const TypedBuffer w = TypedBuffer::from_double(p.dtype, in.w);
  const TypedBuffer b = TypedBuffer::from_double(p.dtype, in.bias);
  TypedBuffer y(p.dtype, t1d::y_count(p));
  y.poison();
  CpuRun r;
  r.status = convt1d_forward(&p, x.data(), w.data(), p.has_bias ? b.data() : nullptr, y.data(), nullptr);
  r.error = convt1d_last_error();
  r.y = y.to_double();
  const auto* bytes = static_cast<const unsigned char*>(y.data());
  r.y_buffer_untouched = std::all_of(bytes, bytes + t1d::dtype_bytes(p.dtype), [](unsigned char c) { return c == 0xFF; });
  // The inputs must come back as they went in.
  EXPECT_EQ(x.to_double(), in.x) << "x modified";
  EXPECT_EQ(w.to_double(), in.w) << "weight modified";
  return r;
}

t1d::ProblemRanges cpu_ranges() {
  t1d::ProblemRanges r;
  r.min_batch = 0;
  r.max_batch = 3;
  r.max_in_length = 41;
  r.max_work = 600'000;
  r.device = CONVT1D_DEVICE_CPU;
  return r;
}

// What the random problems exercised, so a generator change cannot silently drop a feature.
struct Coverage {
  int groups = 0, depthwise = 0, dilation = 0, big_stride = 0, stride16 = 0, padding = 0, output_padding = 0,
      big_kernel = 0, bias = 0, empty_batch = 0, odd_length = 0;
  void add(const convt1d_problem& p) {
    groups += p.groups > 1 && p.groups != p.in_channels;
    depthwise += p.groups > 1 && p.groups == p.in_channels;
    dilation += p.dilation > 1;
    big_stride += p.stride >= 9;
    stride16 += p.stride == 16;
    padding += p.padding > 0;
    output_padding += p.output_padding > 0;
    big_kernel += p.kernel_size >= 17;
    bias += p.has_bias;
    empty_batch += p.batch == 0;
    odd_length += p.in_length % 2;
  }
  void expect_all(int at_least) const {
    EXPECT_GE(groups, at_least);
    EXPECT_GE(depthwise, at_least);
    EXPECT_GE(dilation, at_least);
    EXPECT_GE(big_stride, at_least);
    EXPECT_GE(stride16, 1);
    EXPECT_GE(padding, at_least);
    EXPECT_GE(output_padding, at_least);
    EXPECT_GE(big_kernel, at_least);
    EXPECT_GE(bias, at_least);
    EXPECT_GE(empty_batch, 1);
    EXPECT_GE(odd_length, at_least);
  }
};

// ---------------------------------------------------------------------------------------------
// The references agree with each other
// ---------------------------------------------------------------------------------------------

TEST(Reference, ScatterAgreesWithLibraryGather) {
  t1d::Rng rng(1001);
  t1d::ProblemRanges r = cpu_ranges();
  std::vector<convt1d_problem> problems = t1d::corner_problems();
  for (int i = 0; i < 300; ++i) problems.push_back(t1d::random_problem(rng, r, CONVT1D_FLOAT64));
  for (convt1d_problem p : problems) {
    p.dtype = CONVT1D_FLOAT64;
    p.device = CONVT1D_DEVICE_CPU;
    SCOPED_TRACE(describe(p));
    const Inputs in = t1d::random_inputs(rng, p, CONVT1D_FLOAT64);
    const std::vector<double> scatter = t1d::reference_of(p, in);
    std::vector<double> gather(scatter.size(), std::nan(""));
    convt1d::detail::reference_forward(p, in.x.data(), in.w.data(), in.bias_ptr(), gather.data());
    const t1d::Comparison c = t1d::compare(gather, scatter);
    ASSERT_EQ(c.non_finite, 0) << c.str();
    // Same products, different summation order: only rounding differs.
    EXPECT_LE(c.rel_error, 1e-14) << c.str();
    EXPECT_LE(c.scaled_max(), 1e-14) << c.str();

    // reference_point is the same function, element by element.
    const int64_t L_out = t1d::formula_out_length(p);
    for (int s = 0; s < 8 && p.batch > 0; ++s) {
      const int64_t b = t1d::rand_int(rng, 0, p.batch - 1), co = t1d::rand_int(rng, 0, p.out_channels - 1);
      const int64_t t = s == 0 ? L_out - 1 : t1d::rand_int(rng, 0, L_out - 1);
      const double v = convt1d::detail::reference_point(p, in.x.data(), in.w.data(), in.bias_ptr(), b, co, t);
      EXPECT_EQ(v, gather[static_cast<size_t>((b * p.out_channels + co) * L_out + t)]) << b << "," << co << "," << t;
    }
  }
}

TEST(Reference, HandComputedExample) {
  // C_in 2, C_out 1, K 3, stride 2, padding 1, dilation 1, output_padding 1, bias -1.
  // L_out = 2*2 - 2 + 2 + 1 + 1 = 6. Full (unpadded) output index u = l*2 + k; y[t] = full[t + 1].
  convt1d_problem p = convt1d_problem_init(1, 2, 1, 3, 3);
  p.stride = 2; p.padding = 1; p.output_padding = 1; p.has_bias = 1;
  p.dtype = CONVT1D_FLOAT64; p.device = CONVT1D_DEVICE_CPU;
  const std::vector<double> x = {1, 2, 3, 10, 20, 30};  // ci 0: 1 2 3, ci 1: 10 20 30
  const std::vector<double> w = {1, 2, 4, 0.5, 0.25, 0.125};
  const double bias = -1;
  // full[u], u = 0..6, per input channel:
  //   ci0: u0 1, u1 2, u2 4+2=6, u3 4, u4 8+3=11, u5 6, u6 12
  //   ci1: u0 5, u1 2.5, u2 1.25+10=11.25, u3 5, u4 2.5+15=17.5, u5 7.5, u6 3.75
  // y[t] = full[t+1] + bias for t = 0..5; output_padding is what keeps u = 6 (t = 5) in the output.
  const std::vector<double> expected = {2 + 2.5 - 1, 6 + 11.25 - 1, 4 + 5 - 1, 11 + 17.5 - 1, 6 + 7.5 - 1,
                                        12 + 3.75 - 1};
  EXPECT_EQ(t1d::scatter_reference(p, x, w, &bias), expected);
  std::vector<double> gather(6);
  convt1d::detail::reference_forward(p, x.data(), w.data(), &bias, gather.data());
  EXPECT_EQ(gather, expected);

  Inputs in;
  in.x = x; in.w = w; in.bias = {bias};
  const CpuRun run = run_cpu(p, in);
  ASSERT_EQ(run.status, CONVT1D_OK) << run.error;
  EXPECT_EQ(run.y, expected);
}

// ---------------------------------------------------------------------------------------------
// The CPU backend against the scatter reference, per dtype
// ---------------------------------------------------------------------------------------------

class CpuBackend : public ::testing::TestWithParam<int32_t> {};

// The CPU backend accumulates in double and rounds once to the dtype, so every element is within one
// rounding (u * |ref|, plus the smallest subnormal step for 16-bit formats) of the fp64 reference.
double element_slack(int32_t dtype) {
  switch (dtype) {
    case CONVT1D_FLOAT16: return std::ldexp(1.0, -24);
    case CONVT1D_BFLOAT16: return std::ldexp(1.0, -133);
    case CONVT1D_FLOAT32: return std::ldexp(1.0, -149);
    default: return 0;
  }
}

double rel_tolerance(int32_t dtype) {
  switch (dtype) {
    case CONVT1D_FLOAT64: return 1e-12;
    case CONVT1D_FLOAT32: return 1e-6;
    default: return t1d::unit_roundoff(dtype);  // one rounding per element bounds the L2 error by u
  }
}

void check_problem(const convt1d_problem& p, const Inputs& in) {
  SCOPED_TRACE(describe(p));
  const CpuRun run = run_cpu(p, in);
  ASSERT_EQ(run.status, CONVT1D_OK) << run.error;
  EXPECT_STREQ(convt1d_last_error(), "");
  if (p.batch == 0) {
    EXPECT_TRUE(run.y.empty());
    EXPECT_TRUE(run.y_buffer_untouched) << "batch 0 wrote into y";
    return;
  }
  const std::vector<double> ref = t1d::reference_of(p, in);
  const t1d::Comparison c = t1d::compare(run.y, ref);
  ASSERT_EQ(c.non_finite, 0) << "unwritten (NaN) or non-finite outputs: " << c.str();
  EXPECT_LE(c.rel_error, rel_tolerance(p.dtype)) << c.str();
  // One rounding of the backend's double sum; that sum and the reference differ only in summation
  // order, which the 1e-13 * max|ref| term absorbs (it matters where terms cancel).
  const double u = p.dtype == CONVT1D_FLOAT64 ? 0.0 : t1d::unit_roundoff(p.dtype) * (1 + 1e-6);
  const double slack = element_slack(p.dtype) + 1e-13 * c.ref_max;
  int64_t bad = 0, first_bad = -1;
  for (size_t i = 0; i < ref.size(); ++i)
    if (std::fabs(run.y[i] - ref[i]) > u * std::fabs(ref[i]) + slack && bad++ == 0) first_bad = static_cast<int64_t>(i);
  if (bad > 0) {
    const size_t i = static_cast<size_t>(first_bad);
    ADD_FAILURE() << bad << " elements beyond one rounding; first at flat index " << i << ": got " << run.y[i]
                  << ", reference " << ref[i];
  }
}

TEST_P(CpuBackend, RandomProblemsMatchReference) {
  const int32_t dtype = GetParam();
  t1d::Rng rng(2024 + static_cast<uint64_t>(dtype));
  const t1d::ProblemRanges r = cpu_ranges();
  Coverage cov;
  for (int i = 0; i < 220; ++i) {
    convt1d_problem p = t1d::random_problem(rng, r, dtype);
    p.math = static_cast<int32_t>(t1d::rand_int(rng, 0, 1));  // ignored on the CPU, but must be accepted
    p.algorithm = static_cast<int32_t>(t1d::rand_int(rng, 0, 1));  // AUTO or DIRECT
    cov.add(p);
    check_problem(p, t1d::random_inputs(rng, p, dtype));
    if (HasFatalFailure()) return;
  }
  cov.expect_all(5);
}

TEST_P(CpuBackend, CornerProblemsMatchReference) {
  const int32_t dtype = GetParam();
  t1d::Rng rng(77);
  for (convt1d_problem p : t1d::corner_problems()) {
    p.dtype = dtype;
    p.device = CONVT1D_DEVICE_CPU;
    check_problem(p, t1d::random_inputs(rng, p, dtype));
  }
}

TEST_P(CpuBackend, MathAndAlgorithmDoNotChangeTheCpuResult) {
  const int32_t dtype = GetParam();
  t1d::Rng rng(9);
  t1d::ProblemRanges r = cpu_ranges();
  r.min_batch = 1;
  for (int i = 0; i < 10; ++i) {
    convt1d_problem p = t1d::random_problem(rng, r, dtype);
    const Inputs in = t1d::random_inputs(rng, p, dtype);
    const CpuRun base = run_cpu(p, in);
    ASSERT_EQ(base.status, CONVT1D_OK) << base.error;
    p.math = CONVT1D_MATH_IEEE;
    p.algorithm = CONVT1D_ALGO_DIRECT;
    const CpuRun other = run_cpu(p, in);
    ASSERT_EQ(other.status, CONVT1D_OK) << other.error;
    // Bitwise: the same backend ran; compare as bytes would be stricter but NaNs must not appear anyway.
    EXPECT_EQ(base.y, other.y) << describe(p);
  }
}

TEST_P(CpuBackend, LargerProblemUsesEveryThread) {
  // Enough rows for OpenMP to split the work; a race on the per-thread accumulators would show here.
  const int32_t dtype = GetParam();
  convt1d_problem p = convt1d_problem_init(3, 16, 24, 301, 5);
  p.stride = 3; p.padding = 2; p.dilation = 2; p.output_padding = 1; p.groups = 2; p.has_bias = 1;
  p.dtype = dtype; p.device = CONVT1D_DEVICE_CPU;
  t1d::Rng rng(5);
  check_problem(p, t1d::random_inputs(rng, p, dtype));
}

INSTANTIATE_TEST_SUITE_P(AllDtypes, CpuBackend,
                         ::testing::Values(CONVT1D_FLOAT64, CONVT1D_FLOAT32, CONVT1D_FLOAT16, CONVT1D_BFLOAT16),
                         [](const ::testing::TestParamInfo<int32_t>& info) { return std::string(t1d::dtype_str(info.param)); });

}  // namespace

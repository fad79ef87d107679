// Validation and shape inference through the C ABI: convt1d_validate, convt1d_output_length, and the
// validation that convt1d_forward must do before touching any pointer.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "convt1d/convt1d.h"
#include "problem.hpp"
#include "test_util.hpp"

namespace {

using t1d::contains;
using t1d::contains_ci;
using t1d::describe;
using t1d::formula_out_length;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

convt1d_problem base_problem() {
  convt1d_problem p = convt1d_problem_init(2, 8, 12, 33, 5);
  p.device = CONVT1D_DEVICE_CPU;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Shape inference
// ---------------------------------------------------------------------------------------------

int64_t lib_out_length(const convt1d_problem& p, convt1d_status* status) {
  int64_t n = -12345;
  *status = convt1d_output_length(&p, &n);
  return n;
}

TEST(ShapeInference, HandComputedValues) {
  struct Case { int64_t L_in, K, stride, padding, output_padding, dilation, expected; };
  const Case cases[] = {
      {131072, 5, 1, 0, 0, 3, 131084},  // KernelBench level-1 #74
      {1, 1, 1, 0, 0, 1, 1},
      {10, 3, 2, 1, 1, 1, 20},          // 18 - 2 + 2 + 1 + 1
      {50, 4, 2, 1, 0, 1, 100},         // the usual x2 upsampler
      {16, 16, 8, 4, 0, 1, 128},        // a x8 vocoder stage
      {7, 3, 1, 0, 2, 3, 15},           // output_padding < dilation with stride 1: 6 + 6 + 2 + 1
      {5, 32, 16, 0, 15, 1, 111},       // 4*16 + 31 + 15 + 1
      {4, 6, 1, 12, 0, 5, 5},           // 3 - 24 + 25 + 1
      {1, 7, 3, 5, 2, 2, 5},            // 0 - 10 + 12 + 2 + 1
  };
  for (const Case& c : cases) {
    convt1d_problem p = convt1d_problem_init(1, 1, 1, c.L_in, c.K);
    p.stride = c.stride; p.padding = c.padding; p.output_padding = c.output_padding; p.dilation = c.dilation;
    p.device = CONVT1D_DEVICE_CPU;
    convt1d_status st;
    const int64_t got = lib_out_length(p, &st);
    ASSERT_EQ(st, CONVT1D_OK) << describe(p) << ": " << convt1d_last_error();
    EXPECT_EQ(got, c.expected) << describe(p);
    EXPECT_EQ(got, formula_out_length(p)) << describe(p);
  }
}

// Sweeps a grid of parameters: every set with L_out >= 1 (and output_padding < max(stride, dilation))
// must validate with exactly the formula's length; every set with L_out < 1 must be rejected.
TEST(ShapeInference, GridMatchesFormulaAndBoundary) {
  const int64_t lengths[] = {1, 2, 3, 7, 100, 4099, 131072};
  const int64_t kernels[] = {1, 2, 3, 5, 32};
  const int64_t strides[] = {1, 2, 3, 16};
  const int64_t dilations[] = {1, 2, 3, 5};
  const int64_t paddings[] = {0, 1, 2, 7, 40};
  int valid = 0, invalid = 0;
  for (int64_t L : lengths)
    for (int64_t K : kernels)
      for (int64_t s : strides)
        for (int64_t d : dilations)
          for (int64_t pad : paddings)
            for (int64_t op = 0; op < std::max(s, d); op += std::max<int64_t>(1, std::max(s, d) / 3)) {
              convt1d_problem p = convt1d_problem_init(1, 2, 2, L, K);
              p.stride = s; p.dilation = d; p.padding = pad; p.output_padding = op;
              p.device = CONVT1D_DEVICE_CPU;
              const int64_t expected = (L - 1) * s - 2 * pad + d * (K - 1) + op + 1;
              convt1d_status st;
              const int64_t got = lib_out_length(p, &st);
              if (expected >= 1) {
                ++valid;
                ASSERT_EQ(st, CONVT1D_OK) << describe(p) << ": " << convt1d_last_error();
                ASSERT_EQ(got, expected) << describe(p);
                ASSERT_EQ(convt1d_validate(&p), CONVT1D_OK) << describe(p);
                ASSERT_STREQ(convt1d_last_error(), "");
              } else {
                ++invalid;
                ASSERT_EQ(st, CONVT1D_INVALID_ARGUMENT) << describe(p) << " (formula gives " << expected << ")";
                ASSERT_EQ(convt1d_validate(&p), CONVT1D_INVALID_ARGUMENT) << describe(p);
              }
            }
  EXPECT_GT(valid, 1000);
  EXPECT_GT(invalid, 50);
}

TEST(ShapeInference, OutputPaddingBelowDilationIsValidWithStrideOne) {
  convt1d_problem p = base_problem();
  p.stride = 1; p.dilation = 4; p.output_padding = 3;
  convt1d_status st;
  EXPECT_EQ(lib_out_length(p, &st), formula_out_length(p));
  EXPECT_EQ(st, CONVT1D_OK) << convt1d_last_error();
}

TEST(ShapeInference, OutputPaddingBelowStrideIsValid) {
  convt1d_problem p = base_problem();
  p.stride = 7; p.dilation = 1; p.output_padding = 6;
  convt1d_status st;
  EXPECT_EQ(lib_out_length(p, &st), formula_out_length(p));
  EXPECT_EQ(st, CONVT1D_OK) << convt1d_last_error();
}

TEST(ShapeInference, EmptyBatchAndDepthwiseAreValid) {
  convt1d_problem p = base_problem();
  p.batch = 0;
  EXPECT_EQ(convt1d_validate(&p), CONVT1D_OK) << convt1d_last_error();
  p = base_problem();
  p.in_channels = p.out_channels = p.groups = 12;
  EXPECT_EQ(convt1d_validate(&p), CONVT1D_OK) << convt1d_last_error();
  p.out_channels = 24;  // depthwise with a channel multiplier
  EXPECT_EQ(convt1d_validate(&p), CONVT1D_OK) << convt1d_last_error();
}

TEST(ShapeInference, InternalShapeOfAgreesWithCApi) {
  t1d::Rng rng(7);
  t1d::ProblemRanges r;
  r.max_work = std::numeric_limits<int64_t>::max();
  for (int i = 0; i < 200; ++i) {
    const convt1d_problem p = t1d::random_problem(rng, r, CONVT1D_FLOAT32);
    const auto s = convt1d::detail::shape_of(p);
    EXPECT_EQ(s.out_length, formula_out_length(p)) << describe(p);
    EXPECT_EQ(s.in_per_group * s.groups, p.in_channels);
    EXPECT_EQ(s.out_per_group * s.groups, p.out_channels);
    EXPECT_EQ(s.x_elements(), t1d::x_count(p));
    EXPECT_EQ(s.w_elements(), t1d::w_count(p));
    EXPECT_EQ(s.y_elements(), t1d::y_count(p));
    EXPECT_EQ(convt1d::detail::output_length_unchecked(p), formula_out_length(p));
  }
}

TEST(ShapeInference, InternalValidateThrowsApiError) {
  convt1d_problem p = base_problem();
  p.stride = 0;
  try {
    convt1d::detail::validate(p);
    FAIL() << "detail::validate accepted stride 0";
  } catch (const convt1d::detail::ApiError& e) {
    EXPECT_EQ(e.status, CONVT1D_INVALID_ARGUMENT);
    EXPECT_TRUE(contains(e.what(), "stride")) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Bad problems: every entry point rejects them with INVALID_ARGUMENT and a message that names the
// field and the value given.
// ---------------------------------------------------------------------------------------------

struct BadCase {
  const char* name;
  std::function<void(convt1d_problem&)> mutate;
  std::vector<std::string> must_contain;  // each must appear in the message (field names, values)
};

// A small output buffer filled with NaN bytes; a rejected call must leave every byte as it was.
class PoisonedOutput {
 public:
  PoisonedOutput() { std::memset(bytes_, 0xFF, sizeof bytes_); }
  void* data() { return bytes_; }
  bool untouched() const {
    for (unsigned char c : bytes_)
      if (c != 0xFF) return false;
    return true;
  }

 private:
  unsigned char bytes_[256];
};

// Any of these spellings names the output length.
bool names_output_length(const std::string& m) {
  return contains_ci(m, "out_length") || contains_ci(m, "output length") || contains_ci(m, "output_length") ||
         contains_ci(m, "L_out");
}

std::vector<BadCase> bad_cases() {
  std::vector<BadCase> v;
  auto add = [&](const char* name, std::function<void(convt1d_problem&)> f, std::vector<std::string> words) {
    v.push_back({name, std::move(f), std::move(words)});
  };
  add("stride 0", [](auto& p) { p.stride = 0; }, {"stride", "0"});
  add("stride -3", [](auto& p) { p.stride = -3; }, {"stride", "-3"});
  add("dilation 0", [](auto& p) { p.dilation = 0; }, {"dilation", "0"});
  add("dilation -2", [](auto& p) { p.dilation = -2; }, {"dilation", "-2"});
  add("kernel_size 0", [](auto& p) { p.kernel_size = 0; }, {"kernel_size", "0"});
  add("kernel_size -4", [](auto& p) { p.kernel_size = -4; }, {"kernel_size", "-4"});
  add("in_channels 0", [](auto& p) { p.in_channels = 0; }, {"in_channels", "0"});
  add("in_channels -8", [](auto& p) { p.in_channels = -8; }, {"in_channels", "-8"});
  add("out_channels 0", [](auto& p) { p.out_channels = 0; }, {"out_channels", "0"});
  add("out_channels -12", [](auto& p) { p.out_channels = -12; }, {"out_channels", "-12"});
  add("in_length 0", [](auto& p) { p.in_length = 0; }, {"in_length", "0"});
  add("in_length -5", [](auto& p) { p.in_length = -5; }, {"in_length", "-5"});
  add("groups 0", [](auto& p) { p.groups = 0; }, {"groups", "0"});
  add("groups -2", [](auto& p) { p.groups = -2; }, {"groups", "-2"});
  add("batch -1", [](auto& p) { p.batch = -1; }, {"batch", "-1"});
  add("batch -77", [](auto& p) { p.batch = -77; }, {"batch", "-77"});
  add("padding -1", [](auto& p) { p.padding = -1; }, {"padding", "-1"});
  add("padding -9", [](auto& p) { p.padding = -9; }, {"padding", "-9"});
  add("output_padding -1", [](auto& p) { p.output_padding = -1; }, {"output_padding", "-1"});
  add("output_padding == stride", [](auto& p) { p.stride = 3; p.output_padding = 3; }, {"output_padding", "3"});
  add("output_padding > stride", [](auto& p) { p.stride = 2; p.output_padding = 5; }, {"output_padding", "5"});
  add("output_padding == dilation, stride 1", [](auto& p) { p.dilation = 6; p.output_padding = 6; },
      {"output_padding", "6"});
  add("output_padding > dilation > stride", [](auto& p) { p.stride = 2; p.dilation = 4; p.output_padding = 9; },
      {"output_padding", "9"});
  add("output_padding 1 with stride 1, dilation 1", [](auto& p) { p.output_padding = 1; }, {"output_padding", "1"});
  add("in_channels % groups", [](auto& p) { p.in_channels = 10; p.out_channels = 12; p.groups = 4; },
      {"in_channels", "10", "groups"});
  add("out_channels % groups", [](auto& p) { p.in_channels = 8; p.out_channels = 10; p.groups = 4; },
      {"out_channels", "10", "groups"});
  add("groups > in_channels", [](auto& p) { p.in_channels = 8; p.out_channels = 16; p.groups = 16; },
      {"in_channels", "groups", "16"});
  add("dtype 4", [](auto& p) { p.dtype = 4; }, {"dtype", "4"});
  add("dtype -1", [](auto& p) { p.dtype = -1; }, {"dtype", "-1"});
  add("math 2", [](auto& p) { p.math = 2; }, {"math", "2"});
  add("math -3", [](auto& p) { p.math = -3; }, {"math", "-3"});
  add("device 2", [](auto& p) { p.device = 2; }, {"device", "2"});
  add("device -1", [](auto& p) { p.device = -1; }, {"device", "-1"});
  add("algorithm 6", [](auto& p) { p.algorithm = 6; }, {"algorithm", "6"});
  add("algorithm -1", [](auto& p) { p.algorithm = -1; }, {"algorithm", "-1"});
  add("has_bias 2", [](auto& p) { p.has_bias = 2; }, {"has_bias", "2"});
  add("has_bias -1", [](auto& p) { p.has_bias = -1; }, {"has_bias", "-1"});
  // Output length below 1: the message must name the output length and give the computed value.
  add("L_out -1", [](auto& p) { p.in_length = 1; p.kernel_size = 1; p.padding = 1; }, {"-1"});
  add("L_out 0", [](auto& p) { p.in_length = 1; p.kernel_size = 2; p.padding = 1; }, {"0"});
  add("L_out -163 (big padding)", [](auto& p) { p.padding = 100; }, {"-163"});  // 32 - 200 + 4 + 1
  return v;
}

void expect_rejected(const convt1d_problem& p, const BadCase& c) {
  SCOPED_TRACE(std::string(c.name) + " " + describe(p));
  const bool is_length_case = std::string(c.name).rfind("L_out", 0) == 0;
  auto check_message = [&](const char* entry) {
    const std::string m = convt1d_last_error();
    EXPECT_FALSE(m.empty()) << entry;
    for (const auto& w : c.must_contain) EXPECT_TRUE(contains(m, w)) << entry << ": '" << w << "' missing in: " << m;
    if (is_length_case) {
      EXPECT_TRUE(names_output_length(m)) << entry << ": output length not named in: " << m;
    }
  };

  EXPECT_EQ(convt1d_validate(&p), CONVT1D_INVALID_ARGUMENT);
  check_message("convt1d_validate");

  int64_t n = -12345;
  EXPECT_EQ(convt1d_output_length(&p, &n), CONVT1D_INVALID_ARGUMENT);
  check_message("convt1d_output_length");
  EXPECT_EQ(n, -12345) << "out_length written for an invalid problem";

  // forward must validate before it reads or writes anything: give it tiny buffers and a poisoned y.
  std::vector<double> x(4, 1.0), w(4, 1.0), b(4, 1.0);
  PoisonedOutput y;
  EXPECT_EQ(convt1d_forward(&p, x.data(), w.data(), b.data(), y.data(), nullptr), CONVT1D_INVALID_ARGUMENT);
  check_message("convt1d_forward");
  EXPECT_TRUE(y.untouched()) << "y written for an invalid problem";
}

TEST(Validation, RejectsEveryBadField) {
  const auto cases = bad_cases();
  ASSERT_GE(cases.size(), 30u);
  for (const BadCase& c : cases) {
    convt1d_problem p = base_problem();
    c.mutate(p);
    expect_rejected(p, c);
  }
}

// The same bad fields must be caught for the CUDA device and every dtype, and before the device is
// looked at (so the status is INVALID_ARGUMENT even where no GPU exists, not UNSUPPORTED).
TEST(Validation, RejectsBadFieldsOnEveryDeviceAndDtype) {
  for (int32_t device : {CONVT1D_DEVICE_CPU, CONVT1D_DEVICE_CUDA})
    for (int32_t dtype : t1d::kAllDtypes)
      for (const BadCase& c : bad_cases()) {
        convt1d_problem p = base_problem();
        p.device = device;
        p.dtype = dtype;
        c.mutate(p);
        SCOPED_TRACE(std::string(c.name) + " " + describe(p));
        EXPECT_EQ(convt1d_validate(&p), CONVT1D_INVALID_ARGUMENT);
        const std::string m = convt1d_last_error();
        for (const auto& w : c.must_contain) EXPECT_TRUE(contains(m, w)) << "'" << w << "' missing in: " << m;
      }
}

TEST(Validation, ValidBaseProblemIsAccepted) {
  // Guards the table above: without the mutation the problem is fine, so each rejection is caused by
  // the one field it changes.
  convt1d_problem p = base_problem();
  EXPECT_EQ(convt1d_validate(&p), CONVT1D_OK) << convt1d_last_error();
  EXPECT_STREQ(convt1d_last_error(), "");
  for (int32_t dtype : t1d::kAllDtypes)
    for (int32_t math : {CONVT1D_MATH_TF32, CONVT1D_MATH_IEEE})
      for (int32_t algo : {CONVT1D_ALGO_AUTO, CONVT1D_ALGO_DIRECT, CONVT1D_ALGO_IMPLICIT_GEMM, CONVT1D_ALGO_WGMMA,
                           CONVT1D_ALGO_WGMMA_STREAM, CONVT1D_ALGO_NARROW})
        for (int32_t bias : {0, 1}) {
          p.dtype = dtype; p.math = math; p.algorithm = algo; p.has_bias = bias;
          p.device = CONVT1D_DEVICE_CUDA;
          // Validation is about the fields only; whether a backend can run it is forward's business.
          EXPECT_EQ(convt1d_validate(&p), CONVT1D_OK) << describe(p) << ": " << convt1d_last_error();
        }
}

TEST(Validation, NullProblemPointer) {
  EXPECT_EQ(convt1d_validate(nullptr), CONVT1D_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(convt1d_last_error(), "problem")) << convt1d_last_error();

  int64_t n = -1;
  EXPECT_EQ(convt1d_output_length(nullptr, &n), CONVT1D_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(convt1d_last_error(), "problem")) << convt1d_last_error();
  EXPECT_EQ(n, -1);

  double buf[4] = {0, 0, 0, 0};
  EXPECT_EQ(convt1d_forward(nullptr, buf, buf, buf, buf, nullptr), CONVT1D_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(convt1d_last_error(), "problem")) << convt1d_last_error();
}

TEST(Validation, NullOutLengthPointer) {
  const convt1d_problem p = base_problem();
  EXPECT_EQ(convt1d_output_length(&p, nullptr), CONVT1D_INVALID_ARGUMENT);
  const std::string m = convt1d_last_error();
  EXPECT_TRUE(contains(m, "out_length")) << m;
}

// ---------------------------------------------------------------------------------------------
// Sizes whose products leave int64: rejected cleanly, never wrapped around into a "valid" problem.
// ---------------------------------------------------------------------------------------------

struct OverflowCase {
  const char* name;
  std::function<void(convt1d_problem&)> mutate;
};

void expect_overflow_rejected(const convt1d_problem& p, const char* name) {
  SCOPED_TRACE(name);
  const convt1d_status st = convt1d_validate(&p);
  EXPECT_EQ(st, CONVT1D_INVALID_ARGUMENT);
  EXPECT_STRNE(convt1d_last_error(), "");
  int64_t n = -12345;
  EXPECT_EQ(convt1d_output_length(&p, &n), CONVT1D_INVALID_ARGUMENT);
  EXPECT_EQ(n, -12345);
  // Only when validation caught it: otherwise forward would really run on these 4-element buffers.
  if (st == CONVT1D_INVALID_ARGUMENT) {
    double buf[4] = {1, 1, 1, 1};
    PoisonedOutput y;
    EXPECT_EQ(convt1d_forward(&p, buf, buf, buf, y.data(), nullptr), CONVT1D_INVALID_ARGUMENT);
    EXPECT_TRUE(y.untouched());
  }
}

TEST(Validation, OverflowingSizesAreRejected) {
  const OverflowCase cases[] = {
      {"x elements 2^93", [](auto& p) { p.batch = 1LL << 31; p.in_channels = 1LL << 31; p.in_length = 1LL << 31;
                                         p.out_channels = 1; p.kernel_size = 1; }},
      {"y elements", [](auto& p) { p.batch = 1LL << 20; p.in_channels = 1; p.out_channels = 1LL << 40;
                                   p.in_length = 1LL << 10; p.kernel_size = 1; }},
      {"weight elements", [](auto& p) { p.batch = 1; p.in_channels = 1LL << 32; p.out_channels = 1LL << 32;
                                        p.in_length = 1; p.kernel_size = 1024; }},
      {"(L_in-1)*stride", [](auto& p) { p.in_length = kMax / 2; p.stride = 4; p.kernel_size = 1; p.batch = 1;
                                        p.in_channels = 1; p.out_channels = 1; }},
      {"stride max", [](auto& p) { p.in_length = 3; p.stride = kMax; }},
      {"stride max, output_padding max-1", [](auto& p) { p.in_length = 2; p.stride = kMax; p.output_padding = kMax - 1; }},
      {"dilation*(K-1)", [](auto& p) { p.dilation = kMax; p.kernel_size = 3; }},
      {"kernel_size max, dilation 2", [](auto& p) { p.kernel_size = kMax; p.dilation = 2; }},
      {"kernel_size max (weight)", [](auto& p) { p.kernel_size = kMax; }},
      // 2*padding wraps to -2 in two's complement, which would make L_out look positive.
      {"padding max", [](auto& p) { p.padding = kMax; }},
      {"padding max/2+1", [](auto& p) { p.padding = kMax / 2 + 1; }},
      {"in_length max", [](auto& p) { p.in_length = kMax; p.stride = 2; }},
      {"batch max", [](auto& p) { p.batch = kMax; }},
      {"channels max", [](auto& p) { p.in_channels = kMax; p.out_channels = kMax; p.groups = kMax; }},
  };
  for (const auto& c : cases) {
    convt1d_problem p = base_problem();
    c.mutate(p);
    expect_overflow_rejected(p, c.name);
  }
}

// Element counts fit in int64 but the byte counts do not: 2^62 elements of 8 (or 2, 4) bytes. Anything
// that sizes a buffer (the CLI, the Python layer, a caller) would compute a wrapped byte count.
TEST(Validation, OverflowingByteCountsAreRejected) {
  const OverflowCase cases[] = {
      {"x bytes 2^65 (fp64)", [](auto& p) { p.batch = 1; p.in_channels = 1LL << 31; p.in_length = 1LL << 31;
                                            p.out_channels = 1; p.kernel_size = 1; p.dtype = CONVT1D_FLOAT64; }},
      {"y bytes 2^63 (fp16)", [](auto& p) { p.batch = 1LL << 31; p.in_channels = 1; p.out_channels = 1LL << 31;
                                            p.in_length = 1; p.kernel_size = 1; p.dtype = CONVT1D_FLOAT16; }},
  };
  for (const auto& c : cases) {
    convt1d_problem p = base_problem();
    c.mutate(p);
    expect_overflow_rejected(p, c.name);
  }
}

TEST(Validation, LargeButRepresentableSizesAreAccepted) {
  // B*C*L beyond 2^31 must be fine (64-bit indexing), e.g. KB74 at batch 32: y = 32*64*131084.
  convt1d_problem p = convt1d_problem_init(32, 32, 64, 131072, 5);
  p.dilation = 3;
  EXPECT_EQ(convt1d_validate(&p), CONVT1D_OK) << convt1d_last_error();
  p.batch = 1024;  // 8.6e9 output elements
  int64_t n = 0;
  EXPECT_EQ(convt1d_output_length(&p, &n), CONVT1D_OK) << convt1d_last_error();
  EXPECT_EQ(n, 131084);
}

// ---------------------------------------------------------------------------------------------
// Pointers: checked after the problem, before any work, and only when there is work (batch > 0).
// ---------------------------------------------------------------------------------------------

struct Buffers {
  std::vector<double> x, w, b;
  explicit Buffers(const convt1d_problem& p)
      : x(static_cast<size_t>(t1d::x_count(p)), 0.5), w(static_cast<size_t>(t1d::w_count(p)), 0.25),
        b(static_cast<size_t>(p.out_channels), 1.0) {}
};

convt1d_problem small_fp64_problem(int32_t device) {
  convt1d_problem p = convt1d_problem_init(1, 2, 2, 3, 2);  // L_out 4: y is 8 doubles, within PoisonedOutput
  p.dtype = CONVT1D_FLOAT64;
  p.has_bias = 1;
  p.device = device;
  return p;
}

TEST(Validation, NullDataPointersWithWorkAreRejected) {
  for (int32_t device : {CONVT1D_DEVICE_CPU, CONVT1D_DEVICE_CUDA}) {
    const convt1d_problem p = small_fp64_problem(device);
    Buffers buf(p);
    PoisonedOutput y;
    struct Case { const char* name; const void* x; const void* w; const void* b; void* y; };
    const Case cases[] = {
        {"x", nullptr, buf.w.data(), buf.b.data(), y.data()},
        {"weight", buf.x.data(), nullptr, buf.b.data(), y.data()},
        {"y", buf.x.data(), buf.w.data(), buf.b.data(), nullptr},
        {"bias", buf.x.data(), buf.w.data(), nullptr, y.data()},  // has_bias is 1
    };
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string("null ") + c.name + " " + describe(p));
      EXPECT_EQ(convt1d_forward(&p, c.x, c.w, c.b, c.y, nullptr), CONVT1D_INVALID_ARGUMENT);
      const std::string m = convt1d_last_error();
      EXPECT_TRUE(t1d::contains_word(m, c.name)) << "pointer not named in: " << m;
      EXPECT_TRUE(contains_ci(m, "null")) << "the given value (NULL) not named in: " << m;
      EXPECT_TRUE(y.untouched());
    }
  }
}

TEST(Validation, BadProblemIsReportedBeforeNullPointers) {
  convt1d_problem p = small_fp64_problem(CONVT1D_DEVICE_CPU);
  p.stride = 0;
  EXPECT_EQ(convt1d_forward(&p, nullptr, nullptr, nullptr, nullptr, nullptr), CONVT1D_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(convt1d_last_error(), "stride")) << convt1d_last_error();
}

TEST(Validation, NullBiasIsFineWithoutBias) {
  convt1d_problem p = small_fp64_problem(CONVT1D_DEVICE_CPU);
  p.has_bias = 0;
  Buffers buf(p);
  std::vector<double> y(8, std::nan(""));
  EXPECT_EQ(convt1d_forward(&p, buf.x.data(), buf.w.data(), nullptr, y.data(), nullptr), CONVT1D_OK)
      << convt1d_last_error();
  // x = 0.5, w = 0.25, 2 input channels: interior outputs get 2 taps * 2 channels * 0.125 = 0.5.
  const double expected[4] = {0.25, 0.5, 0.5, 0.25};
  for (int co = 0; co < 2; ++co)
    for (int t = 0; t < 4; ++t) EXPECT_DOUBLE_EQ(y[static_cast<size_t>(co * 4 + t)], expected[t]) << co << "," << t;
}

TEST(Validation, EmptyBatchAcceptsNullPointers) {
  for (int32_t device : {CONVT1D_DEVICE_CPU, CONVT1D_DEVICE_CUDA})
    for (int32_t dtype : t1d::kAllDtypes) {
      convt1d_problem p = small_fp64_problem(device);
      p.batch = 0;
      p.dtype = dtype;
      EXPECT_EQ(convt1d_forward(&p, nullptr, nullptr, nullptr, nullptr, nullptr), CONVT1D_OK)
          << describe(p) << ": " << convt1d_last_error();
      EXPECT_STREQ(convt1d_last_error(), "");
    }
}

// ---------------------------------------------------------------------------------------------
// Valid problems that no backend here can run: UNSUPPORTED with a message, nothing written.
// ---------------------------------------------------------------------------------------------

TEST(Validation, CudaWithoutDeviceIsUnsupported) {
  if (convt1d_cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is present; this checks the no-device path";
  for (int32_t algo : {CONVT1D_ALGO_AUTO, CONVT1D_ALGO_DIRECT, CONVT1D_ALGO_IMPLICIT_GEMM, CONVT1D_ALGO_WGMMA,
                           CONVT1D_ALGO_WGMMA_STREAM, CONVT1D_ALGO_NARROW}) {
    convt1d_problem p = small_fp64_problem(CONVT1D_DEVICE_CUDA);
    p.algorithm = algo;
    Buffers buf(p);
    PoisonedOutput y;
    SCOPED_TRACE(describe(p));
    EXPECT_EQ(convt1d_validate(&p), CONVT1D_OK) << "validation is about fields, not devices";
    EXPECT_EQ(convt1d_forward(&p, buf.x.data(), buf.w.data(), buf.b.data(), y.data(), nullptr), CONVT1D_UNSUPPORTED);
    const std::string m = convt1d_last_error();
    EXPECT_TRUE(contains_ci(m, "cuda")) << m;
    EXPECT_TRUE(y.untouched());
  }
}

TEST(Validation, ImplicitGemmOnCpuIsUnsupported) {
  for (int32_t dtype : t1d::kAllDtypes) {
    convt1d_problem p = small_fp64_problem(CONVT1D_DEVICE_CPU);
    p.dtype = dtype;
    p.algorithm = CONVT1D_ALGO_IMPLICIT_GEMM;
    std::vector<unsigned char> x(64, 0x3c), w(64, 0x3c), b(64, 0x3c);  // small positive numbers in any format
    PoisonedOutput y;
    SCOPED_TRACE(describe(p));
    EXPECT_EQ(convt1d_forward(&p, x.data(), w.data(), b.data(), y.data(), nullptr), CONVT1D_UNSUPPORTED);
    const std::string m = convt1d_last_error();
    EXPECT_TRUE(contains(m, "implicit_gemm")) << m;
    EXPECT_TRUE(contains_ci(m, "cpu")) << m;
    EXPECT_TRUE(y.untouched());

    p.algorithm = CONVT1D_ALGO_WGMMA;
    EXPECT_EQ(convt1d_forward(&p, x.data(), w.data(), b.data(), y.data(), nullptr), CONVT1D_UNSUPPORTED);
    EXPECT_TRUE(contains(convt1d_last_error(), "wgmma")) << convt1d_last_error();
    EXPECT_TRUE(y.untouched());

    p.algorithm = CONVT1D_ALGO_WGMMA_STREAM;
    EXPECT_EQ(convt1d_forward(&p, x.data(), w.data(), b.data(), y.data(), nullptr), CONVT1D_UNSUPPORTED);
    EXPECT_TRUE(contains(convt1d_last_error(), "wgmma_stream")) << convt1d_last_error();
    EXPECT_TRUE(y.untouched());

    p.algorithm = CONVT1D_ALGO_NARROW;
    EXPECT_EQ(convt1d_forward(&p, x.data(), w.data(), b.data(), y.data(), nullptr), CONVT1D_UNSUPPORTED);
    EXPECT_TRUE(contains(convt1d_last_error(), "narrow")) << convt1d_last_error();
    EXPECT_TRUE(y.untouched());

    p.algorithm = CONVT1D_ALGO_DIRECT;  // the CPU backend stands in for "direct"
    EXPECT_EQ(convt1d_forward(&p, x.data(), w.data(), b.data(), y.data(), nullptr), CONVT1D_OK) << convt1d_last_error();
    EXPECT_FALSE(y.untouched());
  }
}

}  // namespace

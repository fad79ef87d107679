// The C ABI's bookkeeping (status codes and strings, the per-thread last-error message, version,
// problem defaults) and the header-only C++ wrapper over it.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "convt1d/convt1d.h"
#include "convt1d/convt1d.hpp"
#include "test_util.hpp"

namespace {

using t1d::contains;

constexpr convt1d_status kAllStatuses[] = {CONVT1D_OK, CONVT1D_INVALID_ARGUMENT, CONVT1D_UNSUPPORTED,
                                           CONVT1D_CUDA_ERROR, CONVT1D_INTERNAL_ERROR};

convt1d_problem cpu_problem() {
  convt1d_problem p = convt1d_problem_init(1, 2, 3, 5, 3);
  p.device = CONVT1D_DEVICE_CPU;
  p.dtype = CONVT1D_FLOAT64;
  return p;
}

// Makes the calling thread's last error non-empty with a stride failure.
void fail_on_stride() {
  convt1d_problem p = cpu_problem();
  p.stride = -7;
  ASSERT_EQ(convt1d_validate(&p), CONVT1D_INVALID_ARGUMENT);
  ASSERT_TRUE(contains(convt1d_last_error(), "stride")) << convt1d_last_error();
}

TEST(CApi, StatusValuesAreStable) {
  // Part of the ABI: bindings (the Python layer) hard-code these numbers.
  EXPECT_EQ(CONVT1D_OK, 0);
  EXPECT_EQ(CONVT1D_INVALID_ARGUMENT, 1);
  EXPECT_EQ(CONVT1D_UNSUPPORTED, 2);
  EXPECT_EQ(CONVT1D_CUDA_ERROR, 3);
  EXPECT_EQ(CONVT1D_INTERNAL_ERROR, 4);
  EXPECT_EQ(CONVT1D_FLOAT32, 0);
  EXPECT_EQ(CONVT1D_FLOAT16, 1);
  EXPECT_EQ(CONVT1D_BFLOAT16, 2);
  EXPECT_EQ(CONVT1D_FLOAT64, 3);
  EXPECT_EQ(CONVT1D_MATH_TF32, 0);
  EXPECT_EQ(CONVT1D_MATH_IEEE, 1);
  EXPECT_EQ(CONVT1D_DEVICE_CPU, 0);
  EXPECT_EQ(CONVT1D_DEVICE_CUDA, 1);
  EXPECT_EQ(CONVT1D_ALGO_AUTO, 0);
  EXPECT_EQ(CONVT1D_ALGO_DIRECT, 1);
  EXPECT_EQ(CONVT1D_ALGO_IMPLICIT_GEMM, 2);
  EXPECT_EQ(CONVT1D_ALGO_WGMMA, 3);
}

TEST(CApi, ProblemStructLayoutIsStable) {
  // ctypes/cffi bindings mirror this struct: ten int64 fields, then five int32 fields, no padding.
  EXPECT_EQ(sizeof(convt1d_problem), 10 * 8 + 5 * 4 + 4);  // trailing pad to 8-byte alignment
  EXPECT_EQ(offsetof(convt1d_problem, batch), 0u);
  EXPECT_EQ(offsetof(convt1d_problem, groups), 72u);
  EXPECT_EQ(offsetof(convt1d_problem, has_bias), 80u);
  EXPECT_EQ(offsetof(convt1d_problem, algorithm), 96u);
}

TEST(CApi, StatusStringForEveryStatus) {
  std::set<std::string> seen;
  for (convt1d_status s : kAllStatuses) {
    const char* text = convt1d_status_string(s);
    ASSERT_NE(text, nullptr) << s;
    EXPECT_GT(std::strlen(text), 1u) << s;
    EXPECT_TRUE(seen.insert(text).second) << "status " << s << " shares its string '" << text << "'";
  }
  EXPECT_TRUE(t1d::contains_ci(convt1d_status_string(CONVT1D_INVALID_ARGUMENT), "invalid"));
  EXPECT_TRUE(t1d::contains_ci(convt1d_status_string(CONVT1D_UNSUPPORTED), "unsupported"));
  EXPECT_TRUE(t1d::contains_ci(convt1d_status_string(CONVT1D_CUDA_ERROR), "cuda"));
  EXPECT_TRUE(t1d::contains_ci(convt1d_status_string(CONVT1D_INTERNAL_ERROR), "internal"));
  // A value outside the enum (a newer library, a corrupt code) still gets a string, not NULL.
  const char* unknown = convt1d_status_string(static_cast<convt1d_status>(99));
  ASSERT_NE(unknown, nullptr);
  EXPECT_GT(std::strlen(unknown), 0u);
  EXPECT_EQ(seen.count(unknown), 0u) << "99 reported as a known status: " << unknown;
}

TEST(CApi, VersionIsNonEmpty) {
  const char* v = convt1d_version();
  ASSERT_NE(v, nullptr);
  const std::string s = v;
  EXPECT_FALSE(s.empty());
  EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(s[0]))) << s;
  EXPECT_TRUE(contains(s, ".")) << "expected MAJOR.MINOR..., got " << s;
}

TEST(CApi, CudaDeviceCountNeverFails) {
  const int n = convt1d_cuda_device_count();
  EXPECT_GE(n, 0);
  EXPECT_EQ(convt1d_cuda_device_count(), n);
  EXPECT_EQ(convt1d::cuda_device_count(), n);
}

TEST(CApi, ProblemInitHasPyTorchDefaults) {
  const convt1d_problem p = convt1d_problem_init(4, 6, 9, 100, 7);
  EXPECT_EQ(p.batch, 4);
  EXPECT_EQ(p.in_channels, 6);
  EXPECT_EQ(p.out_channels, 9);
  EXPECT_EQ(p.in_length, 100);
  EXPECT_EQ(p.kernel_size, 7);
  EXPECT_EQ(p.stride, 1);
  EXPECT_EQ(p.padding, 0);
  EXPECT_EQ(p.output_padding, 0);
  EXPECT_EQ(p.dilation, 1);
  EXPECT_EQ(p.groups, 1);
  EXPECT_EQ(p.has_bias, 0);
  EXPECT_EQ(p.dtype, CONVT1D_FLOAT32);
  EXPECT_EQ(p.math, CONVT1D_MATH_TF32);
  EXPECT_EQ(p.device, CONVT1D_DEVICE_CUDA);
  EXPECT_EQ(p.algorithm, CONVT1D_ALGO_AUTO);
  EXPECT_EQ(convt1d_validate(&p), CONVT1D_OK) << convt1d_last_error();
}

TEST(CApi, LastErrorIsClearedBySuccess) {
  fail_on_stride();
  const convt1d_problem p = cpu_problem();
  EXPECT_EQ(convt1d_validate(&p), CONVT1D_OK);
  EXPECT_STREQ(convt1d_last_error(), "");

  fail_on_stride();
  int64_t n = 0;
  EXPECT_EQ(convt1d_output_length(&p, &n), CONVT1D_OK);
  EXPECT_EQ(n, 7);
  EXPECT_STREQ(convt1d_last_error(), "");

  fail_on_stride();
  std::vector<double> x(10, 1.0), w(18, 1.0), y(21, 0.0);
  EXPECT_EQ(convt1d_forward(&p, x.data(), w.data(), nullptr, y.data(), nullptr), CONVT1D_OK);
  EXPECT_STREQ(convt1d_last_error(), "");
}

TEST(CApi, LastErrorIsReplacedByTheNextFailure) {
  fail_on_stride();
  convt1d_problem p = cpu_problem();
  p.dilation = 0;
  EXPECT_EQ(convt1d_validate(&p), CONVT1D_INVALID_ARGUMENT);
  const std::string m = convt1d_last_error();
  EXPECT_TRUE(contains(m, "dilation")) << m;
  EXPECT_FALSE(contains(m, "stride must")) << "stale message kept: " << m;
}

TEST(CApi, LastErrorIsPerThread) {
  fail_on_stride();
  const std::string mine = convt1d_last_error();

  // Another thread starts clean, and its own failure does not leak into this thread's message.
  std::string other_before, other_after;
  std::thread t([&] {
    other_before = convt1d_last_error();
    convt1d_problem p = cpu_problem();
    p.kernel_size = 0;
    (void)convt1d_validate(&p);
    other_after = convt1d_last_error();
  });
  t.join();
  EXPECT_EQ(other_before, "");
  EXPECT_TRUE(contains(other_after, "kernel_size")) << other_after;
  EXPECT_EQ(std::string(convt1d_last_error()), mine);

  // And a success on another thread does not clear this thread's message.
  std::thread ok([] {
    const convt1d_problem p = cpu_problem();
    (void)convt1d_validate(&p);
  });
  ok.join();
  EXPECT_EQ(std::string(convt1d_last_error()), mine);
}

TEST(CApi, ConcurrentCallsKeepTheirOwnMessages) {
  // Many threads alternating failures on distinct fields: each must always read its own message.
  const char* fields[] = {"stride", "dilation", "kernel_size", "in_length"};
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      for (int it = 0; it < 500; ++it) {
        convt1d_problem p = cpu_problem();
        if (i == 0) p.stride = 0;
        if (i == 1) p.dilation = 0;
        if (i == 2) p.kernel_size = 0;
        if (i == 3) p.in_length = 0;
        (void)convt1d_validate(&p);
        if (!contains(convt1d_last_error(), fields[i])) ++wrong[static_cast<size_t>(i)];
      }
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(wrong[static_cast<size_t>(i)], 0) << fields[i];
}

// ---------------------------------------------------------------------------------------------
// C++ wrapper
// ---------------------------------------------------------------------------------------------

TEST(CppApi, ProblemSettersFillTheStruct) {
  const convt1d::Problem p = convt1d::Problem(2, 6, 9, 10, 4)
                                 .stride(3)
                                 .padding(2)
                                 .output_padding(1)
                                 .dilation(2)
                                 .groups(3)
                                 .bias(true)
                                 .dtype(convt1d::DType::BFloat16)
                                 .math(convt1d::Math::IEEE)
                                 .device(convt1d::Device::CPU)
                                 .algorithm(convt1d::Algorithm::Direct);
  EXPECT_EQ(p.p.stride, 3);
  EXPECT_EQ(p.p.padding, 2);
  EXPECT_EQ(p.p.output_padding, 1);
  EXPECT_EQ(p.p.dilation, 2);
  EXPECT_EQ(p.p.groups, 3);
  EXPECT_EQ(p.p.has_bias, 1);
  EXPECT_EQ(p.p.dtype, CONVT1D_BFLOAT16);
  EXPECT_EQ(p.p.math, CONVT1D_MATH_IEEE);
  EXPECT_EQ(p.p.device, CONVT1D_DEVICE_CPU);
  EXPECT_EQ(p.p.algorithm, CONVT1D_ALGO_DIRECT);
  // 9*3 - 4 + 2*3 + 1 + 1 = 31
  EXPECT_EQ(p.out_length(), 31);
  EXPECT_EQ(p.x_elements(), 2 * 6 * 10);
  EXPECT_EQ(p.w_elements(), 6 * 3 * 4);
  EXPECT_EQ(p.y_elements(), 2 * 9 * 31);
  EXPECT_NO_THROW(p.validate());
}

TEST(CppApi, ErrorsThrowWithStatusAndMessage) {
  convt1d::Problem p(1, 4, 4, 8, 3);
  p.device(convt1d::Device::CPU).groups(3);
  try {
    p.validate();
    FAIL() << "groups 3 with 4 channels accepted";
  } catch (const convt1d::Error& e) {
    EXPECT_EQ(e.status(), CONVT1D_INVALID_ARGUMENT);
    EXPECT_TRUE(contains(e.what(), "groups")) << e.what();
    EXPECT_TRUE(contains(e.what(), "3")) << e.what();
  }
  try {
    (void)p.out_length();
    FAIL() << "out_length of an invalid problem";
  } catch (const convt1d::Error& e) {
    EXPECT_EQ(e.status(), CONVT1D_INVALID_ARGUMENT);
  }

  // Error is a std::runtime_error, so generic handlers see the message too.
  convt1d::Problem q(1, 2, 2, 4, 2);
  q.device(convt1d::Device::CPU).algorithm(convt1d::Algorithm::ImplicitGemm);
  std::vector<float> x(8, 1.f), w(8, 1.f), y(10, 0.f);
  try {
    convt1d::forward(q, x.data(), w.data(), nullptr, y.data());
    FAIL() << "implicit_gemm on the CPU accepted";
  } catch (const convt1d::Error& e) {
    EXPECT_EQ(e.status(), CONVT1D_UNSUPPORTED);
    EXPECT_TRUE(contains(e.what(), "implicit_gemm")) << e.what();
  }
  EXPECT_THROW(convt1d::forward(q, nullptr, w.data(), nullptr, y.data()), std::runtime_error);
}

TEST(CppApi, CheckFallsBackToStatusStringWithoutMessage) {
  // A success clears the message; check() on a failing status must still say something.
  const convt1d_problem ok = cpu_problem();
  ASSERT_EQ(convt1d_validate(&ok), CONVT1D_OK);
  try {
    convt1d::check(CONVT1D_CUDA_ERROR);
    FAIL();
  } catch (const convt1d::Error& e) {
    EXPECT_EQ(e.status(), CONVT1D_CUDA_ERROR);
    EXPECT_STREQ(e.what(), convt1d_status_string(CONVT1D_CUDA_ERROR));
  }
  EXPECT_NO_THROW(convt1d::check(CONVT1D_OK));
}

TEST(CppApi, ForwardOnCpuComputesTheConvolution) {
  // C_in 1, C_out 1, K 2, stride 2, bias 0.5: y = [x0*w0, x0*w1, x1*w0, x1*w1, ...] + 0.5
  const convt1d::Problem p = convt1d::Problem(1, 1, 1, 3, 2)
                                 .stride(2)
                                 .bias(true)
                                 .dtype(convt1d::DType::Float64)
                                 .device(convt1d::Device::CPU);
  ASSERT_EQ(p.out_length(), 6);
  const double x[3] = {1.0, -2.0, 3.0}, w[2] = {0.25, 4.0}, b[1] = {0.5};
  double y[6];
  for (double& v : y) v = std::nan("");
  convt1d::forward(p, x, w, b, y);
  const double expected[6] = {0.75, 4.5, 0.0, -7.5, 1.25, 12.5};
  for (int i = 0; i < 6; ++i) EXPECT_DOUBLE_EQ(y[i], expected[i]) << i;
}

// On the CPU no plan packs weights: the layout is {0, 0}, packing does nothing, and forward_packed is
// forward.
TEST(CApi, PackedWeightsOnTheCpuAreNone) {
  convt1d_problem p = cpu_problem();
  convt1d_packed_layout layout{77, 78};
  ASSERT_EQ(convt1d_packed_weight_layout(&p, &layout), CONVT1D_OK) << convt1d_last_error();
  EXPECT_EQ(layout.bytes, 0u);
  EXPECT_EQ(layout.id, 0u);
  const double w[2 * 3 * 3] = {0.5, -1, 2, 0.25, 3, -0.5, 1, 1, -2, 0.75, -3, 4, 2, -1, 0.5, 1.5, 0, -0.25};
  const double x[2 * 5] = {1, -2, 3, 0.5, -1, 2, 0, -1.5, 4, 1};
  ASSERT_EQ(convt1d_pack_weight(&p, w, nullptr, &layout, nullptr), CONVT1D_OK) << convt1d_last_error();
  double y_plain[3 * 7], y_packed[3 * 7];
  for (double& v : y_packed) v = std::nan("");
  ASSERT_EQ(convt1d_forward(&p, x, w, nullptr, y_plain, nullptr), CONVT1D_OK) << convt1d_last_error();
  ASSERT_EQ(convt1d_forward_packed(&p, x, w, nullptr, &layout, nullptr, y_packed, nullptr), CONVT1D_OK)
      << convt1d_last_error();
  for (int i = 0; i < 3 * 7; ++i) EXPECT_EQ(y_packed[i], y_plain[i]) << i;
  EXPECT_NE(y_plain[0], 0.0);
}

TEST(CApi, PackedWeightsRejectBadArguments) {
  convt1d_problem p = cpu_problem();
  double w[18] = {}, x[10] = {}, y[21] = {};
  EXPECT_EQ(convt1d_packed_weight_layout(&p, nullptr), CONVT1D_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(convt1d_last_error(), "layout must be a non-null pointer")) << convt1d_last_error();
  convt1d_packed_layout layout{};
  EXPECT_EQ(convt1d_packed_weight_layout(nullptr, &layout), CONVT1D_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(convt1d_last_error(), "problem")) << convt1d_last_error();
  EXPECT_EQ(convt1d_pack_weight(&p, w, y, nullptr, nullptr), CONVT1D_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(convt1d_last_error(), "layout must be a non-null pointer")) << convt1d_last_error();
  EXPECT_EQ(convt1d_forward_packed(&p, x, w, y, nullptr, nullptr, y, nullptr), CONVT1D_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(convt1d_last_error(), "layout must be a non-null pointer")) << convt1d_last_error();
  // Another problem's layout is refused by both calls, naming both layouts.
  const convt1d_packed_layout other{8, 12345};
  EXPECT_EQ(convt1d_pack_weight(&p, w, y, &other, nullptr), CONVT1D_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(convt1d_last_error(), "packed weights of layout {bytes 8, id 12345} do not fit this problem, "
                                             "whose plan reads layout {bytes 0, id 0}"))
      << convt1d_last_error();
  EXPECT_EQ(convt1d_forward_packed(&p, x, w, y, &other, nullptr, y, nullptr), CONVT1D_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(convt1d_last_error(), "id 12345")) << convt1d_last_error();
  // The problem is validated first.
  p.stride = 0;
  EXPECT_EQ(convt1d_packed_weight_layout(&p, &layout), CONVT1D_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(convt1d_last_error(), "stride")) << convt1d_last_error();
  EXPECT_EQ(convt1d_forward_packed(&p, x, w, nullptr, &layout, nullptr, y, nullptr), CONVT1D_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(convt1d_last_error(), "stride")) << convt1d_last_error();
  // The C++ wrapper throws what the C call reports.
  const convt1d::Problem q(cpu_problem());
  EXPECT_EQ(convt1d::packed_weight_layout(q).bytes, 0u);
  EXPECT_THROW(convt1d::pack_weight(q, w, y, other), convt1d::Error);
  EXPECT_THROW(convt1d::forward_packed(q, x, w, y, other, nullptr, y), convt1d::Error);
}

}  // namespace

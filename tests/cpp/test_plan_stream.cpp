// The streaming TF32 kernel's planning (src/plan_stream.cpp), on the CPU: which problems it takes and
// why it refuses the others, its tiling on KernelBench #74, the window invariants on random layers,
// and an fp64 emulation of exactly what the kernel computes per tile (one x window, each tap a column
// offset into it, channels padded with zeros) against the scatter reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "convt1d/convt1d.h"
#include "plan.hpp"
#include "problem.hpp"
#include "test_hopper.hpp"
#include "test_util.hpp"

namespace {

using convt1d::detail::KernelKind;
using convt1d::detail::Plan;
using convt1d::detail::StreamTiling;

convt1d_problem kb74() {
  convt1d_problem p = convt1d_problem_init(32, 32, 64, 131072, 5);
  p.dilation = 3;
  p.device = CONVT1D_DEVICE_CUDA;
  return p;
}

std::string refusal(convt1d_problem p, bool wgmma = true) {
  p.algorithm = CONVT1D_ALGO_WGMMA_STREAM;
  try {
    (void)convt1d::detail::make_plan(p, t1d::hopper_info(wgmma));
  } catch (const convt1d::detail::ApiError& e) {
    EXPECT_EQ(e.status, CONVT1D_UNSUPPORTED);
    return e.what();
  }
  return "";
}

TEST(StreamPlan, RefusesWithAReason) {
  const convt1d_problem ok = kb74();
  EXPECT_EQ(refusal(ok), "");
  EXPECT_TRUE(t1d::contains(refusal(ok, false), "sm_90")) << refusal(ok, false);
  struct Case {
    void (*change)(convt1d_problem&);
    const char* says;
  };
  const Case cases[] = {
      {[](convt1d_problem& p) { p.dtype = CONVT1D_FLOAT64; }, "TF32"},
      {[](convt1d_problem& p) { p.groups = 2; }, "groups"},
      {[](convt1d_problem& p) { p.stride = 2; }, "stride"},
      {[](convt1d_problem& p) { p.out_channels = 65; }, "out_channels <= 64"},
      {[](convt1d_problem& p) { p.in_length = 131070; }, "multiple of 4"},
      {[](convt1d_problem& p) { p.in_length = 131068; p.dtype = CONVT1D_BFLOAT16; }, "multiple of 8"},
      {[](convt1d_problem& p) { p.dilation = 40; }, "dilation"},             // reach 160
      {[](convt1d_problem& p) { p.in_channels = 257; }, "in_channels <= 256"},
  };
  for (const Case& c : cases) {
    convt1d_problem p = ok;
    c.change(p);
    const std::string why = refusal(p);
    EXPECT_TRUE(t1d::contains(why, c.says)) << "expected '" << c.says << "' in: " << why;
    EXPECT_TRUE(t1d::contains(why, "wgmma_stream")) << why;
  }
  convt1d_problem p = ok;
  p.device = CONVT1D_DEVICE_CPU;
  EXPECT_TRUE(t1d::contains(refusal(p), "CUDA only")) << refusal(p);
}

TEST(StreamPlan, Kb74Tiling) {
  const Plan plan = convt1d::detail::make_plan(kb74(), t1d::hopper_info());
  EXPECT_EQ(plan.kernel, KernelKind::WgmmaStream) << plan.reason;
  const StreamTiling& t = plan.stream;
  EXPECT_EQ(t.n, 64);
  EXPECT_EQ(t.ci_pad, 32);
  EXPECT_EQ(t.steps, 20);       // 5 taps x 32 channels / 8
  EXPECT_EQ(t.chunks, 5);
  EXPECT_EQ(t.x_base, -12);     // the taps reach 12 positions left
  EXPECT_EQ(t.x_cols, 152);     // 128 + 12, padded to 8 (mod 16)
  EXPECT_EQ(t.stages, 4);
  EXPECT_EQ(t.tiles_per_row, 1025);  // L_out 131084
  EXPECT_EQ(t.tiles, 32 * 1025);
  EXPECT_EQ(t.grid, 132);
  EXPECT_EQ(t.weight_bytes, 5 * 64 * 128);
  EXPECT_LE(t.smem_bytes, t1d::hopper_info().smem_per_block_optin);
  // bf16: 16 channels per k-step, windows start 16-byte (8-element) aligned.
  convt1d_problem bf16 = kb74();
  bf16.dtype = CONVT1D_BFLOAT16;
  const StreamTiling& b = convt1d::detail::make_plan(bf16, t1d::hopper_info()).stream;
  EXPECT_EQ(b.k_step, 16);
  EXPECT_EQ(b.steps, 10);
  EXPECT_EQ(b.chunks, 3);
  EXPECT_EQ(b.x_base, -16);
  EXPECT_EQ(b.x_cols, 152);
  EXPECT_EQ(b.staging_bytes, 64 * 128 * 2);
  // IEEE fp32 (3xTF32): W^T as big and small parts, twice the resident bytes, still 4 stages.
  convt1d_problem ieee = kb74();
  ieee.math = CONVT1D_MATH_IEEE;
  const Plan ieee_plan = convt1d::detail::make_plan(ieee, t1d::hopper_info());
  EXPECT_EQ(ieee_plan.kernel, KernelKind::WgmmaStream);
  EXPECT_TRUE(ieee_plan.stream.ieee);
  EXPECT_EQ(ieee_plan.stream.weight_bytes, 2 * 5 * 64 * 128);
  EXPECT_EQ(ieee_plan.stream.stages, 4);
  EXPECT_FALSE(t.ieee);
  // Without sm_90a code, AUTO keeps the mma.sync kernel.
  EXPECT_EQ(convt1d::detail::make_plan(kb74(), t1d::hopper_info(false)).kernel, KernelKind::ImplicitGemm);
  // A short row is not worth a persistent stream: AUTO leaves it to the other kernels.
  convt1d_problem shorter = kb74();
  shorter.batch = 1;
  shorter.in_length = 4096;
  EXPECT_NE(convt1d::detail::make_plan(shorter, t1d::hopper_info()).kernel, KernelKind::WgmmaStream);
}

// Random stride-1 layers the kernel takes: the window holds every column any tap of any output of
// the tile reads, starts 16-byte aligned, and spreads a fragment's 4 channel rows over distinct banks.
TEST(StreamPlan, WindowCoversEveryTapOfTheTile) {
  t1d::Rng rng(2024);
  int planned = 0;
  for (int i = 0; i < 8000 && planned < 150; ++i) {  // about 1 in 4 has L_out a multiple of 4
    convt1d_problem p = convt1d_problem_init(t1d::rand_int(rng, 1, 4), t1d::rand_int(rng, 1, 128),
                                             t1d::rand_int(rng, 1, 64), 4 * t1d::rand_int(rng, 1, 3000),
                                             t1d::rand_int(rng, 1, 12));
    p.dilation = t1d::rand_int(rng, 1, 10);
    p.padding = t1d::rand_int(rng, 0, 2 * (p.kernel_size - 1) * p.dilation + 3);
    p.output_padding = t1d::rand_int(rng, 0, p.dilation - 1);
    p.device = CONVT1D_DEVICE_CUDA;
    if (convt1d_validate(&p) != CONVT1D_OK) continue;
    const convt1d::detail::Shape s = convt1d::detail::shape_of(p);
    StreamTiling t;
    std::string why;
    if (!convt1d::detail::plan_wgmma_stream(s, p.dtype, p.math, t1d::hopper_info(), t, why)) continue;
    ++planned;
    SCOPED_TRACE(t1d::describe(p));
    EXPECT_EQ(t.x_base % 4, 0);
    EXPECT_EQ(t.x_cols % 16, 8);
    EXPECT_LE(t.x_cols, convt1d::detail::kStreamMaxBox);
    const int64_t lowest = s.padding - s.dilation * (s.kernel_size - 1) - t.x_base;  // output 0, last tap
    const int64_t highest = convt1d::detail::kStreamPositions - 1 + s.padding - t.x_base;  // output 127, tap 0
    EXPECT_GE(lowest, 0);
    EXPECT_LT(highest, t.x_cols);
    EXPECT_EQ(t.steps * t.k_step, s.kernel_size * t.ci_pad);
    EXPECT_GE(t.ci_pad, s.in_channels);
    EXPECT_GE(t.n, s.out_channels);
    EXPECT_GE(t.stages, 2);
    EXPECT_LE(t.smem_bytes, t1d::hopper_info().smem_per_block_optin);
    EXPECT_EQ(t.tiles, s.batch * ((s.out_length + 127) / 128));
  }
  EXPECT_EQ(planned, 150);
}

// What the kernel computes, in fp64: per tile of 128 outputs, one window of x (zero outside the row
// and past C_in) starting at t0 + x_base, and D[m][co] = sum over steps (tap k, k_step channels) of
// window[ci][m + padding - k*dilation - x_base] * W[ci][co][k]. Positions past L_out are not stored.
std::vector<double> emulate(const convt1d_problem& p, const StreamTiling& t, const t1d::Inputs& in) {
  const convt1d::detail::Shape s = convt1d::detail::shape_of(p);
  std::vector<double> y(static_cast<size_t>(s.y_elements()), std::nan(""));
  for (int64_t tile = 0; tile < t.tiles; ++tile) {
    const int64_t b = tile / t.tiles_per_row, t0 = tile % t.tiles_per_row * convt1d::detail::kStreamPositions;
    auto window = [&](int64_t ci, int64_t col) {
      EXPECT_TRUE(col >= 0 && col < t.x_cols) << "column " << col;
      const int64_t l = t0 + t.x_base + col;
      if (ci >= s.in_channels || l < 0 || l >= s.in_length) return 0.0;
      return in.x[static_cast<size_t>((b * s.in_channels + ci) * s.in_length + l)];
    };
    for (int64_t m = 0; m < convt1d::detail::kStreamPositions && t0 + m < s.out_length; ++m)
      for (int64_t co = 0; co < s.out_channels; ++co) {
        double acc = p.has_bias ? in.bias[static_cast<size_t>(co)] : 0.0;
        for (int64_t step = 0; step < t.steps; ++step) {
          const int64_t r0 = step * t.k_step, k = r0 / t.ci_pad;
          for (int64_t ci = r0 % t.ci_pad; ci < r0 % t.ci_pad + t.k_step; ++ci) {
            const double w = ci < s.in_channels ? in.w[static_cast<size_t>((ci * s.out_channels + co) * s.kernel_size + k)] : 0.0;
            acc += window(ci, m + s.padding - k * s.dilation - t.x_base) * w;
          }
        }
        y[static_cast<size_t>((b * s.out_channels + co) * s.out_length + t0 + m)] = acc;
      }
  }
  return y;
}

TEST(StreamPlan, EmulationMatchesTheReference) {
  t1d::Rng rng(74);
  const convt1d_problem fixed[] = {
      [] { convt1d_problem p = convt1d_problem_init(2, 32, 64, 304, 5); p.dilation = 3; return p; }(),
      [] { convt1d_problem p = convt1d_problem_init(1, 13, 20, 264, 4); p.padding = 9; p.dilation = 2; p.has_bias = 1; return p; }(),
      [] { convt1d_problem p = convt1d_problem_init(3, 5, 7, 136, 1); p.padding = 40; return p; }(),  // window right of the tile
  };
  int ran = 0;
  for (int i = 0; i < 6; ++i) {
    convt1d_problem p = fixed[i % 3];
    p.dtype = i < 3 ? CONVT1D_FLOAT32 : CONVT1D_BFLOAT16;  // 8 or 16 channels per k-step
    p.device = CONVT1D_DEVICE_CUDA;
    ASSERT_EQ(convt1d_validate(&p), CONVT1D_OK) << convt1d_last_error();
    const Plan plan = [&] { convt1d_problem f = p; f.algorithm = CONVT1D_ALGO_WGMMA_STREAM; return convt1d::detail::make_plan(f, t1d::hopper_info()); }();
    const t1d::Inputs in = t1d::random_inputs(rng, p, CONVT1D_FLOAT64);
    const std::vector<double> ref = t1d::reference_of(p, in), got = emulate(p, plan.stream, in);
    ASSERT_EQ(got.size(), ref.size());
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(got[i], ref[i], 1e-9 * (1 + std::fabs(ref[i]))) << t1d::describe(p) << " at " << i;
    ++ran;
  }
  EXPECT_EQ(ran, 6);
}

}  // namespace

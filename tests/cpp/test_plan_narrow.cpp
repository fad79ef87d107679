// The narrow kernels' planning (src/plan_narrow.cpp), on the CPU: which problems they take and why they
// refuse the others, AUTO's choice on the suite's few-channel layers, the tiling invariants on random
// layers, and an fp64 emulation of exactly what the kernels compute per window (the FMA kernel's
// columns per thread and channels per slice, the mma kernel's whole columns; the shift-add's phase
// walk) against the scatter reference.
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
using convt1d::detail::NarrowTiling;
using convt1d::detail::Plan;

// Conv-TasNet's decoder (suite L7): 512 -> 1, K 16, stride 8, rows of 4001.
convt1d_problem conv_tasnet() {
  convt1d_problem p = convt1d_problem_init(4, 512, 1, 4001, 16);
  p.stride = 8;
  p.padding = 8;
  p.device = CONVT1D_DEVICE_CUDA;
  return p;
}

std::string refusal(convt1d_problem p) {
  p.algorithm = CONVT1D_ALGO_NARROW;
  try {
    (void)convt1d::detail::make_plan(p, t1d::hopper_info());
  } catch (const convt1d::detail::ApiError& e) {
    EXPECT_EQ(e.status, CONVT1D_UNSUPPORTED);
    return e.what();
  }
  return "";
}

TEST(NarrowPlan, RefusesWithAReason) {
  const convt1d_problem ok = conv_tasnet();
  EXPECT_EQ(refusal(ok), "");
  struct Case {
    void (*change)(convt1d_problem&);
    const char* says;
  };
  const Case cases[] = {
      {[](convt1d_problem& p) { p.dtype = CONVT1D_FLOAT64; }, "float64 runs on the direct kernel"},
      {[](convt1d_problem& p) { p.groups = 2; p.out_channels = 2; }, "groups == 1"},
      {[](convt1d_problem& p) { p.stride = 33; }, "stride <= 32"},
      {[](convt1d_problem& p) { p.out_channels = 5; }, "out_channels*kernel_size <= "},
      {[](convt1d_problem& p) { p.kernel_size = 2; p.dilation = 2000; p.stride = 1; }, "reach"},
      {[](convt1d_problem& p) { p.in_channels = 20000; }, "shared memory"},
      {[](convt1d_problem& p) { p.batch = 1; p.in_length = int64_t{1} << 31; }, "32-bit"},
  };
  for (int32_t math : {CONVT1D_MATH_TF32, CONVT1D_MATH_IEEE})  // the mma and the FMA reductions
    for (const Case& c : cases) {
      convt1d_problem p = ok;
      p.math = math;
      c.change(p);
      ASSERT_EQ(convt1d_validate(&p), CONVT1D_OK) << convt1d_last_error();
      const std::string why = refusal(p);
      EXPECT_TRUE(t1d::contains(why, c.says)) << "expected '" << c.says << "' in: " << why;
      EXPECT_TRUE(t1d::contains(why, "narrow")) << why;
    }
  // 64 rows: the mma reduction takes them, the FMA one (32 at most) does not.
  convt1d_problem rows64 = ok;
  rows64.out_channels = 4;
  EXPECT_EQ(refusal(rows64), "");
  rows64.math = CONVT1D_MATH_IEEE;
  EXPECT_TRUE(t1d::contains(refusal(rows64), "out_channels*kernel_size <= 32, got 64")) << refusal(rows64);
  convt1d_problem p = ok;
  p.device = CONVT1D_DEVICE_CPU;
  EXPECT_TRUE(t1d::contains(refusal(p), "CUDA only")) << refusal(p);
}

TEST(NarrowPlan, ConvTasNetTiling) {
  // TF32 and 16-bit: the mma reduction, every channel in each warp, 8 warps x 8 columns.
  for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_BFLOAT16}) {
    convt1d_problem p = conv_tasnet();
    p.dtype = dtype;
    const Plan plan = convt1d::detail::make_plan(p, t1d::hopper_info());
    EXPECT_EQ(plan.kernel, KernelKind::Narrow) << plan.reason;
    const NarrowTiling& t = plan.narrow;
    EXPECT_TRUE(t.mma);
    EXPECT_EQ(t.rows, 16);
    EXPECT_EQ(t.slices, 1);
    EXPECT_EQ(t.cols, 64);
    EXPECT_EQ(t.owned, 63);
    EXPECT_EQ(t.tiles, 4 * 64);
    EXPECT_EQ(t.k_steps, dtype == CONVT1D_FLOAT32 ? 64 : 32);
    EXPECT_EQ(t.grid, 4 * 64);
  }
  // IEEE: the FMA reduction.
  {
    convt1d_problem p = conv_tasnet();
    p.math = CONVT1D_MATH_IEEE;
    const Plan plan = convt1d::detail::make_plan(p, t1d::hopper_info());
    EXPECT_EQ(plan.kernel, KernelKind::Narrow) << plan.reason;
    const NarrowTiling& t = plan.narrow;
    EXPECT_FALSE(t.mma);
    EXPECT_EQ(t.rows, 16);
    EXPECT_EQ(t.positions, 4);
    EXPECT_EQ(t.halo, 1);
    // 16k positions in all: the reduction is shared out until every block slot has a window.
    EXPECT_EQ(t.slices, 16);
    EXPECT_EQ(t.ci_per_slice, 32);
    EXPECT_EQ(t.cols, 64);
    EXPECT_EQ(t.owned, 63);
    EXPECT_EQ(t.tiles, 4 * 64);
    EXPECT_EQ(t.grid, 4 * 64);
    EXPECT_EQ(t.slice_pitch % 32, 16);  // two slices per warp: their stores in different banks
  }
}

// AUTO on the suite's layers: Conv-TasNet's decoder (16 rows) runs narrow; HTDemucs' tdec0 (8 output
// channels, 64 rows) runs narrow in TF32 only (the mma reduction; 16-bit is faster on wgmma, IEEE's
// FMA reduction takes 32 rows at most); the wider layers keep their kernels.
TEST(NarrowPlan, AutoTakesFewOutputChannelsAndTaps) {
  convt1d_problem l5 = convt1d_problem_init(1, 48, 8, 85995, 8);
  l5.stride = 4;
  l5.device = CONVT1D_DEVICE_CUDA;
  l5.has_bias = 1;
  convt1d_problem kb74 = convt1d_problem_init(32, 32, 64, 131072, 5);
  kb74.dilation = 3;
  kb74.device = CONVT1D_DEVICE_CUDA;
  convt1d_problem t4 = convt1d_problem_init(16, 48, 24, 32768, 4);
  t4.stride = 2;
  t4.padding = 1;
  t4.device = CONVT1D_DEVICE_CUDA;
  for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_FLOAT16, CONVT1D_BFLOAT16}) {
    convt1d_problem p = conv_tasnet();
    p.dtype = dtype;
    EXPECT_EQ(convt1d::detail::make_plan(p, t1d::hopper_info()).kernel, KernelKind::Narrow) << t1d::describe(p);
    p.math = CONVT1D_MATH_IEEE;
    EXPECT_EQ(convt1d::detail::make_plan(p, t1d::hopper_info()).kernel, KernelKind::Narrow) << t1d::describe(p);
    for (convt1d_problem q : {kb74, t4}) {
      q.dtype = dtype;
      EXPECT_NE(convt1d::detail::make_plan(q, t1d::hopper_info()).kernel, KernelKind::Narrow) << t1d::describe(q);
    }
    convt1d_problem q = l5;
    q.dtype = dtype;
    EXPECT_EQ(convt1d::detail::make_plan(q, t1d::hopper_info()).kernel == KernelKind::Narrow, dtype == CONVT1D_FLOAT32)
        << t1d::describe(q);
    q.math = CONVT1D_MATH_IEEE;
    EXPECT_NE(convt1d::detail::make_plan(q, t1d::hopper_info()).kernel, KernelKind::Narrow) << t1d::describe(q);
  }
  convt1d_problem fp64 = conv_tasnet();
  fp64.dtype = CONVT1D_FLOAT64;
  EXPECT_EQ(convt1d::detail::make_plan(fp64, t1d::hopper_info()).kernel, KernelKind::Direct);
}

convt1d_problem random_narrow_problem(t1d::Rng& rng) {
  convt1d_problem p = convt1d_problem_init(t1d::rand_int(rng, 1, 4), t1d::rand_int(rng, 1, 300),
                                           t1d::rand_int(rng, 1, 16), t1d::rand_int(rng, 1, 5000),
                                           t1d::rand_int(rng, 1, 16));
  p.stride = t1d::rand_int(rng, 1, 12);
  p.dilation = t1d::rand_int(rng, 1, 8);
  p.padding = t1d::rand_int(rng, 0, (p.kernel_size - 1) * p.dilation + 3);
  p.output_padding = t1d::rand_int(rng, 0, std::max(p.stride, p.dilation) - 1);
  p.device = CONVT1D_DEVICE_CUDA;
  return p;
}

// Random layers it takes: windows are as wide as the threads' columns, own at least their halo, fit
// in shared memory, and together own every output exactly once.
TEST(NarrowPlan, WindowsOwnEveryOutputOnce) {
  t1d::Rng rng(4001);
  int planned = 0, sliced = 0, mma = 0, wide = 0;
  for (int i = 0; i < 20000 && planned < 300; ++i) {
    convt1d_problem p = random_narrow_problem(rng);
    p.dtype = i % 3 == 0 ? CONVT1D_FLOAT32 : i % 3 == 1 ? CONVT1D_FLOAT16 : CONVT1D_BFLOAT16;
    p.math = i % 2 ? CONVT1D_MATH_IEEE : CONVT1D_MATH_TF32;
    if (convt1d_validate(&p) != CONVT1D_OK) continue;
    const convt1d::detail::Shape s = convt1d::detail::shape_of(p);
    const convt1d::detail::Polyphase poly =
        convt1d::detail::make_polyphase(s.stride, s.dilation, s.padding, s.kernel_size);
    NarrowTiling t;
    std::string why;
    if (!convt1d::detail::plan_narrow(s, p.dtype, p.math, poly, t1d::hopper_info(), t, why)) continue;
    ++planned;
    sliced += t.slices > 1;
    mma += t.mma;
    SCOPED_TRACE(t1d::describe(p));
    EXPECT_EQ(t.mma, p.dtype != CONVT1D_FLOAT32 || p.math != CONVT1D_MATH_IEEE);
    EXPECT_GE(t.rows, s.out_channels * s.kernel_size);
    if (t.mma) {  // whole columns per warp, m-tiles of 16 rows, channel steps covering C_in
      const int64_t step = p.dtype == CONVT1D_FLOAT32 ? 8 : 16;
      EXPECT_EQ(t.rows % 16, 0);
      EXPECT_LT(t.rows - 16, s.out_channels * s.kernel_size);
      EXPECT_EQ(t.slices, 1);
      // passes of 64 columns, the fewest (a power of two) whose window owns at least its halo
      const int64_t passes = t.cols / convt1d::detail::kNarrowMmaCols;
      EXPECT_EQ(t.cols % convt1d::detail::kNarrowMmaCols, 0);
      EXPECT_EQ(passes & (passes - 1), 0);
      // (or wider, while every block slot still gets two windows)
      const int64_t slots = int64_t{convt1d::detail::narrow_blocks_per_sm(t.rows)} * t1d::hopper_info().sm_count;
      EXPECT_TRUE(passes == 1 || t.cols / 2 < 2 * t.halo ||
                  (t.tiles >= 2 * slots && s.in_channels <= convt1d::detail::kNarrowMmaBatchChannels))
          << t.cols << " columns for halo " << t.halo << ", " << t.tiles << " windows";
      wide += passes > 1;
      EXPECT_GE(t.k_steps * step, s.in_channels);
      EXPECT_LT((t.k_steps - 1) * step, s.in_channels);
    } else {
      EXPECT_EQ(t.positions, convt1d::detail::narrow_positions(t.rows));
      EXPECT_GE(t.rows * t.positions, convt1d::detail::kNarrowAccumulators);
      EXPECT_EQ(t.cols, convt1d::detail::kNarrowThreads / t.slices * t.positions);
    }
    EXPECT_GE(int64_t{t.slices} * t.ci_per_slice, s.in_channels);
    EXPECT_GE(t.owned, t.halo);
    EXPECT_EQ(t.owned + t.halo, t.cols);
    EXPECT_LT(t.tiles, int64_t{1} << 31);  // the kernels' window walk divides in 32 bits
    EXPECT_GE(t.slice_pitch, t.rows * t.cols);
    EXPECT_LE(t.smem_bytes, t1d::hopper_info().smem_per_block_optin);
    EXPECT_LE(t.grid, t.tiles);
    // Window j owns t in [max(q*stride - padding, 0), min((q + owned)*stride - padding, L_out)),
    // q = q_first + j*owned: consecutive, starting at 0 and ending at L_out.
    int64_t next = 0;
    for (int64_t j = 0; j < t.tiles_per_row; ++j) {
      const int64_t q = t.q_first + j * t.owned;
      const int64_t lo = std::max<int64_t>(q * s.stride - s.padding, 0);
      const int64_t hi = std::min<int64_t>((q + t.owned) * s.stride - s.padding, s.out_length);
      EXPECT_EQ(lo, next) << "window " << j;
      EXPECT_GT(hi, lo) << "window " << j << " owns nothing";
      next = hi;
    }
    EXPECT_EQ(next, s.out_length);
  }
  EXPECT_EQ(planned, 300);
  EXPECT_GE(sliced, 30);
  EXPECT_GE(mma, 100);
  EXPECT_GE(wide, 5);
}

// What the kernel computes, in fp64, following its loops: per window, each thread (slice, j) sums
// Z[m][c] over its slice's channels for its columns c = j + i * (threads / slices); the shift-add's
// thread `tid` takes outputs t_lo + tid + n * active of one phase and sums its taps over the slices.
std::vector<double> emulate(const convt1d_problem& p, const Plan& plan, const t1d::Inputs& in) {
  using convt1d::detail::kNarrowThreads;
  const convt1d::detail::Shape s = convt1d::detail::shape_of(p);
  const NarrowTiling& t = plan.narrow;
  const convt1d::detail::Polyphase& poly = plan.poly;
  const int64_t m_all = s.out_channels * s.kernel_size;
  std::vector<double> y(static_cast<size_t>(s.y_elements()), std::nan(""));
  std::vector<double> z(static_cast<size_t>(t.slices) * t.slice_pitch);
  const int per_slice = kNarrowThreads / t.slices;
  for (int64_t tile = 0; tile < t.tiles; ++tile) {
    const int64_t b = tile / t.tiles_per_row;
    const int64_t q_lo = t.q_first + tile % t.tiles_per_row * t.owned;
    const int64_t start = q_lo - t.halo;
    std::fill(z.begin(), z.end(), std::nan(""));
    if (t.mma) {  // every row of every column, over all channels
      for (int64_t c = 0; c < t.cols; ++c)
        for (int64_t m = 0; m < t.rows; ++m) {
          double acc = 0.0;
          const int64_t l = start + c;
          for (int64_t ci = 0; ci < s.in_channels && m < m_all; ++ci)
            if (l >= 0 && l < s.in_length)
              acc += in.w[static_cast<size_t>(ci * m_all + m)] *
                     in.x[static_cast<size_t>((b * s.in_channels + ci) * s.in_length + l)];
          z[static_cast<size_t>(m * t.cols + c)] = acc;
        }
    }
    for (int tid = 0; tid < kNarrowThreads && !t.mma; ++tid) {
      const int slice = tid / per_slice, j = tid % per_slice;
      const int64_t ci0 = std::min<int64_t>(int64_t{slice} * t.ci_per_slice, s.in_channels);
      const int64_t ci1 = std::min<int64_t>(ci0 + t.ci_per_slice, s.in_channels);
      for (int i = 0; i < t.positions; ++i) {
        const int64_t c = j + int64_t{i} * per_slice, l = start + c;
        for (int64_t m = 0; m < t.rows; ++m) {
          double acc = 0.0;
          for (int64_t ci = ci0; ci < ci1 && m < m_all; ++ci)
            if (l >= 0 && l < s.in_length)
              acc += in.w[static_cast<size_t>(ci * m_all + m)] *
                     in.x[static_cast<size_t>((b * s.in_channels + ci) * s.in_length + l)];
          z[static_cast<size_t>(slice * t.slice_pitch + m * t.cols + c)] = acc;
        }
      }
    }
    const int64_t t_lo = std::max<int64_t>(q_lo * s.stride - s.padding, 0);
    const int64_t t_hi = std::min<int64_t>((q_lo + t.owned) * s.stride - s.padding, s.out_length);
    const int64_t active = kNarrowThreads - kNarrowThreads % s.stride;
    for (int64_t tid = 0; tid < active; ++tid) {
      for (int64_t out = t_lo + tid; out < t_hi; out += active) {
        const int64_t u = out + s.padding, q = u / s.stride, r = u % s.stride;
        const convt1d::detail::PhaseTaps& ph = poly.taps[static_cast<size_t>(r)];
        for (int64_t co = 0; co < s.out_channels; ++co) {
          double v = p.has_bias ? in.bias[static_cast<size_t>(co)] : 0.0;
          for (int64_t n = 0; n < ph.count; ++n) {
            const int64_t row = co * s.kernel_size + ph.first_tap + n * poly.tap_step;
            const int64_t col = q - ph.first_shift - n * poly.shift_step - start;
            EXPECT_TRUE(col >= 0 && col < t.cols) << "column " << col;
            for (int sl = 0; sl < t.slices; ++sl) v += z[static_cast<size_t>(sl * t.slice_pitch + row * t.cols + col)];
          }
          y[static_cast<size_t>((b * s.out_channels + co) * s.out_length + out)] = v;
        }
      }
    }
  }
  return y;
}

TEST(NarrowPlan, EmulationMatchesTheReference) {
  t1d::Rng rng(8);
  int ran = 0, sliced = 0, mma = 0;
  for (int i = 0; i < 4000 && ran < 40; ++i) {
    convt1d_problem p = random_narrow_problem(rng);
    p.in_channels = t1d::rand_int(rng, 1, 40);
    p.in_length = t1d::rand_int(rng, 1, 700);
    p.has_bias = i % 2;
    p.math = i % 4 < 2 ? CONVT1D_MATH_IEEE : CONVT1D_MATH_TF32;  // the FMA and the mma reductions
    if (convt1d_validate(&p) != CONVT1D_OK || !refusal(p).empty()) continue;
    const Plan plan = [&] {
      convt1d_problem f = p;
      f.algorithm = CONVT1D_ALGO_NARROW;
      return convt1d::detail::make_plan(f, t1d::hopper_info());
    }();
    const t1d::Inputs in = t1d::random_inputs(rng, p, CONVT1D_FLOAT64);
    const std::vector<double> ref = t1d::reference_of(p, in), got = emulate(p, plan, in);
    ASSERT_EQ(got.size(), ref.size());
    for (size_t k = 0; k < ref.size(); ++k)
      ASSERT_NEAR(got[k], ref[k], 1e-9 * (1 + std::fabs(ref[k]))) << t1d::describe(p) << " at " << k;
    ++ran;
    sliced += plan.narrow.slices > 1;
    mma += plan.narrow.mma;
  }
  EXPECT_EQ(ran, 40);
  EXPECT_GE(sliced, 5);
  EXPECT_GE(mma, 10);
}

}  // namespace

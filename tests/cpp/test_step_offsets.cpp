// The streaming kernel's table of k-step offsets (src/step_offsets.hpp): the closed form against the walk the
// kernel used to make per chunk (channel rows advancing by k_step, a tap further left after ci_pad rows), and for
// the streaming plans of a few layers, every step's fragment reads inside its x window.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "plan.hpp"
#include "step_offsets.hpp"
#include "test_stream_layer.hpp"

namespace {

using convt1d::detail::step_offset;

TEST(StepOffsets, ClosedFormMatchesTheWalk) {
  std::mt19937 rng(210);
  for (int trial = 0; trial < 2000; ++trial) {
    const int32_t k_step = trial % 2 ? 16 : 8;
    const int32_t ci_pad = k_step * static_cast<int32_t>(1 + rng() % 8);
    const int32_t x_cols = 136 + 16 * static_cast<int32_t>(rng() % 8);
    const int32_t first = static_cast<int32_t>(rng() % 100), shift = static_cast<int32_t>(1 + rng() % 9);
    const int32_t steps = static_cast<int32_t>(1 + rng() % 64);
    int32_t ci0 = 0, col = first;
    for (int32_t j = 0; j < steps; ++j) {
      ASSERT_EQ(step_offset(j, k_step, ci_pad, x_cols, first, shift), ci0 * x_cols + col)
          << "step " << j << " k_step " << k_step << " ci_pad " << ci_pad;
      ci0 += k_step;
      if (ci0 == ci_pad) {
        ci0 = 0;
        col -= shift;
      }
    }
  }
}

// Each step's reads, over the columns of both m64 blocks (a thread's fragment rows reach 64 positions past the
// block's first, the second block starts 64 on), stay inside the window's ci_pad rows and x_cols columns.
TEST(StepOffsets, EveryStepOfAStreamPlanReadsInsideItsWindow) {
  constexpr int32_t kReadColumns = 2 * 64;
  const t1d::StreamLayer layers[] = {
      {32, 32, 64, 131072, 5, 1, 0, 3},  // KernelBench #74
      {16, 48, 24, 32768, 4, 2, 1, 1},   // BigVGAN up5 (rotated phases)
      {16, 64, 32, 4096, 4, 2, 1, 1},    // HiFi-GAN up3
      {4, 64, 32, 1000, 5, 2, 4, 3},     // dilation and padding
      {2, 16, 8, 5000, 7, 3, 2, 2},      // stride 3, one 16-bit step per tap
  };
  int checked = 0;
  for (const auto& l : layers)
    for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_BFLOAT16}) {
      const convt1d::detail::Plan plan = t1d::forced_stream_plan(l, dtype);
      if (plan.kernel != convt1d::detail::KernelKind::WgmmaStream || plan.stream.phase_blocks) continue;
      const auto& t = plan.stream;
      const auto& poly = plan.poly;
      for (int32_t r = 0; r < poly.phases; ++r) {
        const int32_t shift = poly.taps[static_cast<size_t>(r)].first_shift + (t.rotation != 0 && r >= t.rotation);
        const int32_t first = -shift - t.x_base;
        for (int32_t j = 0; j < t.phase_steps[r]; ++j) {
          const int32_t per_tap = t.ci_pad / t.k_step;
          const int32_t row = j % per_tap * t.k_step, col = first - j / per_tap * poly.shift_step;
          EXPECT_EQ(step_offset(j, t.k_step, t.ci_pad, t.x_cols, first, poly.shift_step), row * t.x_cols + col);
          EXPECT_LE(row + t.k_step, t.ci_pad);
          EXPECT_GE(col, 0) << "phase " << r << " step " << j;
          EXPECT_LE(col + kReadColumns, t.x_cols) << "phase " << r << " step " << j;
          ++checked;
        }
      }
    }
  EXPECT_GT(checked, 100);
}

}  // namespace

// The streaming kernel's planning (src/plan_stream.cpp), on the CPU: which problems it takes and why
// it refuses the others, its tiling on KernelBench #74, the window invariants on random layers, and
// an fp64 emulation of exactly what the kernel computes per tile (one x window; per phase, each tap a
// column offset into it; channels padded with zeros) against the scatter reference.
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

// The streaming kernel's tiling of a layer with bias, forced (CONVT1D_ALGO_WGMMA_STREAM), on an H100.
StreamTiling forced_stream_plan(int64_t batch, int64_t c_in, int64_t c_out, int64_t length, int64_t k, int64_t stride,
                                int64_t padding, int32_t dtype, int32_t math = CONVT1D_MATH_TF32) {
  convt1d_problem p = convt1d_problem_init(batch, c_in, c_out, length, k);
  p.stride = stride;
  p.padding = padding;
  p.has_bias = 1;
  p.device = CONVT1D_DEVICE_CUDA;
  p.dtype = dtype;
  p.math = math;
  p.algorithm = CONVT1D_ALGO_WGMMA_STREAM;
  return convt1d::detail::make_plan(p, t1d::hopper_info()).stream;
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
      {[](convt1d_problem& p) { p.stride = 9; }, "stride <= 8"},
      {[](convt1d_problem& p) { p.out_channels = 129; }, "out_channels <= 128"},
      // rows that are not 16-byte multiples, on a layer that needs phase blocks (C_out past 64)
      {[](convt1d_problem& p) { p.in_length = 131070; p.out_channels = 96; }, "multiple of 4"},
      {[](convt1d_problem& p) { p.in_length = 131068; p.out_channels = 96; p.dtype = CONVT1D_BFLOAT16; }, "multiple of 8"},
      // row copies address x flat in 32 bits, and need x as a whole in 16-byte pieces
      {[](convt1d_problem& p) { p.in_length = 2100001; }, "32-bit"},
      {[](convt1d_problem& p) { p.in_length = 1001; p.batch = 1; p.in_channels = 13; }, "16-byte x"},
      {[](convt1d_problem& p) { p.dilation = 50; }, "dilation"},             // reach 200
      {[](convt1d_problem& p) { p.in_channels = 257; }, "in_channels <= 256"},
      {[](convt1d_problem& p) { p.in_channels = 80; p.math = CONVT1D_MATH_IEEE; }, "IEEE mode needs"},  // 400 terms
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

// Rows of any length: where they are not 16-byte multiples the every-phase tiling reads them, in 16-bit with
// C_in 32 or 64, through one map per residue of the rows' starts (StreamTiling::row_residues; KB74's 32
// channels), else as one box per channel row (StreamTiling::row_boxes: fp32, and C_in 30 or 48), with the same
// windows and tiles, and AUTO still streams them.
TEST(StreamPlan, RowsThatAreNotSixteenByteMultiplesComeAsResiduesOrRowBoxes) {
  for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_BFLOAT16})
    for (int64_t c_in : {32, 30, 48})
      for (int64_t length : {131071, 131073, 131070, 131076}) {
        convt1d_problem p = kb74();
        p.dtype = dtype;
        p.in_channels = c_in;
        const Plan aligned = convt1d::detail::make_plan(p, t1d::hopper_info());
        ASSERT_EQ(aligned.kernel, KernelKind::WgmmaStream);
        EXPECT_FALSE(aligned.stream.odd_rows());
        p.in_length = length;
        const Plan plan = convt1d::detail::make_plan(p, t1d::hopper_info());
        const int64_t align = 16 / (dtype == CONVT1D_FLOAT32 ? 4 : 2), k_step = 2 * align;
        const bool unaligned = length % align != 0;
        const bool residues = unaligned && dtype != CONVT1D_FLOAT32 && (c_in == 32 || c_in == 64);
        EXPECT_EQ(plan.kernel, KernelKind::WgmmaStream) << length << " " << plan.reason;
        EXPECT_EQ(plan.stream.row_boxes, unaligned && !residues) << c_in << " " << length;
        EXPECT_EQ(plan.stream.row_residues, residues) << c_in << " " << length;
        EXPECT_EQ(plan.stream.odd_rows(), unaligned) << length;
        EXPECT_FALSE(plan.stream.phase_blocks);
        EXPECT_EQ(plan.stream.x_parts, 1);
        // (TF32's 16-byte rows start their windows on 64 bytes, its odd rows on 16)
        if (dtype != CONVT1D_FLOAT32) EXPECT_EQ(plan.stream.x_base, aligned.stream.x_base) << length;
        // a row or residue box starts up to 16 bytes left of its window: the window keeps that much room
        if (unaligned) EXPECT_GE(plan.stream.x_cols, plan.stream.positions - plan.stream.x_base + align) << length;
        EXPECT_LE(plan.stream.x_cols, convt1d::detail::kStreamMaxBox);  // one TMA box per row
        if (unaligned) EXPECT_EQ(plan.stream.tile_run, 1);                 // (compiled without runs)
      }
  // AUTO leaves short layers on such rows to the kernels it took before (P1 on rows of 39999: 2.4 tiles
  // per SM), forced they stream
  convt1d_problem p1 = convt1d_problem_init(1, 64, 32, 39999, 4);
  p1.stride = 2;
  p1.padding = 1;
  p1.device = CONVT1D_DEVICE_CUDA;
  EXPECT_NE(convt1d::detail::make_plan(p1, t1d::hopper_info()).kernel, KernelKind::WgmmaStream);
  EXPECT_TRUE(forced_stream_plan(1, 64, 32, 39999, 4, 2, 1, CONVT1D_FLOAT32).row_boxes);
  EXPECT_TRUE(forced_stream_plan(1, 64, 32, 39999, 4, 2, 1, CONVT1D_BFLOAT16).row_residues);
  // residue maps address x per map, not flat: KB74's channels past 2^31 elements of x
  EXPECT_TRUE(forced_stream_plan(32, 32, 64, 2100001, 5, 1, 0, CONVT1D_BFLOAT16).row_residues);
}

TEST(StreamPlan, Kb74Tiling) {
  const Plan plan = convt1d::detail::make_plan(kb74(), t1d::hopper_info());
  EXPECT_EQ(plan.kernel, KernelKind::WgmmaStream) << plan.reason;
  const StreamTiling& t = plan.stream;
  EXPECT_EQ(t.n, 64);
  EXPECT_EQ(t.ci_pad, 32);
  EXPECT_EQ(t.phase_steps[0], 20);  // 5 taps x 32 channels / 8
  EXPECT_EQ(t.phase_chunk[1], 5);
  EXPECT_EQ(t.q_first, 0);
  EXPECT_EQ(t.chunks, 5);
  EXPECT_EQ(t.x_base, -16);     // the taps reach 12 positions left; TF32 at stride 1 starts on 64 bytes
  EXPECT_EQ(t.x_cols, 152);     // 128 + 16, padded to 8 (mod 16): as wide as from -12
  EXPECT_EQ(t.stages, convt1d::detail::kStreamMaxStagesFp32);  // 6: the weights and stagings leave room
  EXPECT_EQ(t.tiles_per_row, 1025);  // L_out 131084
  EXPECT_EQ(t.tiles, 32 * 1025);
  EXPECT_EQ(t.grid, 132);
  EXPECT_EQ(t.weight_bytes, 5 * 64 * 128);
  EXPECT_LE(t.smem_bytes, t1d::hopper_info().smem_per_block_optin);
  EXPECT_FALSE(t.overlap_packing) << "KB74's blocks walk 248 tiles: launched after the packing (perf-log step 91)";
  // bf16: 16 channels per k-step, windows start 16-byte (8-element) aligned.
  convt1d_problem bf16 = kb74();
  bf16.dtype = CONVT1D_BFLOAT16;
  const StreamTiling& b = convt1d::detail::make_plan(bf16, t1d::hopper_info()).stream;
  EXPECT_EQ(b.k_step, 16);
  EXPECT_EQ(b.phase_steps[0], 10);
  EXPECT_EQ(b.chunks, 3);
  EXPECT_EQ(b.x_base, -16);
  EXPECT_EQ(b.x_cols, 152);
  EXPECT_EQ(b.staging_bytes, 64 * 128 * 2);
  EXPECT_EQ(b.consumers, convt1d::detail::kStreamConsumers16);  // (16-bit on 16-byte rows)
  EXPECT_EQ(b.stages, convt1d::detail::kStreamMaxStages16);
  // IEEE fp32 (3xTF32): W^T as big and small parts, twice the resident bytes: 4 stages fit.
  convt1d_problem ieee = kb74();
  ieee.math = CONVT1D_MATH_IEEE;
  const Plan ieee_plan = convt1d::detail::make_plan(ieee, t1d::hopper_info());
  EXPECT_EQ(ieee_plan.kernel, KernelKind::WgmmaStream);
  EXPECT_TRUE(ieee_plan.stream.ieee);
  EXPECT_EQ(ieee_plan.stream.weight_bytes, 2 * 5 * 64 * 128);
  EXPECT_EQ(ieee_plan.stream.stages, 4);
  EXPECT_EQ(ieee_plan.stream.x_base, -12);  // (16 bytes: IEEE lost with 64, perf-log step 204)
  EXPECT_FALSE(t.ieee);
  // TF32 at stride 2 keeps 16-byte window starts (T4 TF32 +0.5 % with 64, step 204), and so does a window
  // that 64 bytes would widen: reach 5 takes 136 columns from -8, 152 from -16; reach 17 152 from -20, 168
  // from -32. (KB74's reach 12 takes 152 either way.)
  EXPECT_EQ(forced_stream_plan(8, 48, 24, 32768, 4, 2, 1, CONVT1D_FLOAT32).x_base, -4);
  EXPECT_EQ(forced_stream_plan(8, 32, 32, 32768, 6, 1, 0, CONVT1D_FLOAT32).x_base, -8);
  EXPECT_EQ(forced_stream_plan(8, 32, 32, 32768, 18, 1, 0, CONVT1D_FLOAT32).x_base, -20);
  // Without sm_90a code, AUTO keeps the mma.sync kernel.
  EXPECT_EQ(convt1d::detail::make_plan(kb74(), t1d::hopper_info(false)).kernel, KernelKind::ImplicitGemm);
  // Short rows at stride 1: fp32 streams from 32 tiles, 16-bit where the rows leave as vectors (KB74's
  // do) from 64; 16-bit rows stored element by element only from 4 tiles per SM.
  convt1d_problem shorter = kb74();
  shorter.batch = 1;
  for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_BFLOAT16}) {
    shorter.dtype = dtype;
    const bool fp32 = dtype == CONVT1D_FLOAT32;
    shorter.in_length = fp32 ? 4096 : 8192;  // 33 / 65 tiles
    const Plan short_plan = convt1d::detail::make_plan(shorter, t1d::hopper_info());
    EXPECT_EQ(short_plan.kernel, KernelKind::WgmmaStream);
    EXPECT_TRUE(short_plan.stream.overlap_packing) << "one tile per block: set up during the packing";
    shorter.in_length = fp32 ? 2048 : 4096;  // 17 / 33 tiles
    EXPECT_NE(convt1d::detail::make_plan(shorter, t1d::hopper_info()).kernel, KernelKind::WgmmaStream);
  }
  shorter.in_length = 32768;
  shorter.output_padding = 1;  // rows of 32781: stored element by element
  shorter.batch = 2;           // 514 tiles: 3.9 per SM
  EXPECT_NE(convt1d::detail::make_plan(shorter, t1d::hopper_info()).kernel, KernelKind::WgmmaStream);
  shorter.batch = 4;
  EXPECT_EQ(convt1d::detail::make_plan(shorter, t1d::hopper_info()).kernel, KernelKind::WgmmaStream);
}

// Phase blocks under AUTO (perf-log steps 79, 177): never one phase per block (16-bit S11 and T6 run
// faster on the tap-major kernel); channel groups of 64 channels or more: in TF32 from a few tiles per
// block (T8, X1, H2, B4; not T6's groups of 32, nor S11's), in IEEE also groups of 32 (T8, X1, H2),
// in 16-bit where blocks walk many tiles, with y up to 1 GiB or beyond with rotated phases (T8, X1 at
// stride 2 and padding 1, step 97; not L2's groups of 32).
TEST(StreamPlan, AutoTakesPhaseBlocksWhereMeasuredFaster) {
  struct Case {
    const char* id;
    int64_t b, c_in, c_out, k, stride, padding, l_in;
    int block_phases16, block_phases32;  // 0: not phase blocks under AUTO
  };
  const Case cases[] = {
      {"S11", 1, 192, 96, 4, 2, 1, 22272, 0, 0},   {"T6", 16, 192, 96, 4, 2, 1, 8448, 0, 0},
      {"T8", 16, 128, 128, 4, 2, 1, 32768, 2, 2},  {"L2", 1, 256, 128, 8, 4, 2, 262144, 0, 0},
      {"X1", 16, 128, 128, 4, 2, 1, 1048576, 2, 2}, {"S11/8", 1, 192, 96, 4, 2, 1, 2784, 0, 0},
      // HiFi-GAN's up2 and BigVGAN's up4 in training: fp32 groups of 64 at 4 and 31 tiles per block
      // (16-bit: every-phase tiles, or the tap-major kernel), step 180
      {"H2", 16, 128, 64, 4, 2, 1, 2048, 0, 2},     {"B4", 16, 96, 48, 4, 2, 1, 16384, 0, 2},
  };
  for (const Case& c : cases)
    for (const int32_t dtype : {CONVT1D_BFLOAT16, CONVT1D_FLOAT16, CONVT1D_FLOAT32}) {
      SCOPED_TRACE(std::string(c.id) + " dtype " + std::to_string(dtype));
      convt1d_problem p = convt1d_problem_init(c.b, c.c_in, c.c_out, c.l_in, c.k);
      p.stride = c.stride;
      p.padding = c.padding;
      p.has_bias = 1;
      p.dtype = dtype;
      p.device = CONVT1D_DEVICE_CUDA;
      ASSERT_EQ(convt1d_validate(&p), CONVT1D_OK);
      const Plan plan = convt1d::detail::make_plan(p, t1d::hopper_info());
      const int expected = dtype == CONVT1D_FLOAT32 ? c.block_phases32 : c.block_phases16;
      const bool phase_blocks = plan.kernel == KernelKind::WgmmaStream && plan.stream.phase_blocks;
      EXPECT_EQ(phase_blocks, expected > 0) << convt1d::detail::kernel_name(plan.kernel);
      if (phase_blocks) {
        EXPECT_EQ(plan.stream.block_phases, expected);
        EXPECT_EQ(plan.stream.cluster, 1);  // (clusters pace one-phase blocks only)
        if (expected > 1) EXPECT_EQ(plan.stream.groups * plan.stream.n >= c.c_out, true);
        EXPECT_EQ(plan.stream.x_parts, 1);  // (IEEE only)
      }
      if (dtype == CONVT1D_FLOAT32) {  // IEEE (two W^T images): channel groups where TF32 has them and
        p.math = CONVT1D_MATH_IEEE;    // their narrower groups fit (T8, X1: groups of 32; perf-log step 80)
        const Plan ieee = convt1d::detail::make_plan(p, t1d::hopper_info());
        const bool grouped = ieee.kernel == KernelKind::WgmmaStream && ieee.stream.phase_blocks;
        EXPECT_EQ(grouped, c.block_phases32 > 0) << "IEEE";
        if (grouped) EXPECT_EQ(ieee.stream.block_phases, c.block_phases32);
        if (grouped) EXPECT_EQ(ieee.stream.n, 32);
        // 128 input channels: 2 chunks per tap and part (B4's 96: one box)
        if (grouped) EXPECT_EQ(ieee.stream.x_parts, c.c_in % 64 == 0 ? 2 : 1);
        continue;  // (L2's fp32 weights fit neither way)
      }
      p.algorithm = CONVT1D_ALGO_WGMMA_STREAM;  // forced: phase blocks past 64 output channels
      EXPECT_EQ(convt1d::detail::make_plan(p, t1d::hopper_info()).stream.phase_blocks, c.c_out > 64);
    }
}

// 16-bit every-phase tilings whose rows leave as vectors stream from 3 tiles per SM (perf-log step 177):
// HiFi-GAN's last upsampler in training (T2, 528 tiles) streams, the PyTorch issue's row of 40000
// (P1, 313) and T4's channels on one row of 24000 (188) run on the tap-major kernel. TF32 streams all
// three (from one tile per SM).
TEST(StreamPlan, AutoStreams16BitTilingsFromThreeWaves) {
  struct Case {
    const char* id;
    int64_t b, c_in, c_out, l_in;
    bool streams16;
  };
  const Case cases[] = {
      {"T2", 16, 64, 32, 4096, true}, {"P1", 1, 64, 32, 40000, false}, {"T4/1", 1, 48, 24, 24000, false}};
  for (const Case& c : cases)
    for (const int32_t dtype : {CONVT1D_BFLOAT16, CONVT1D_FLOAT16, CONVT1D_FLOAT32}) {
      SCOPED_TRACE(std::string(c.id) + " dtype " + std::to_string(dtype));
      convt1d_problem p = convt1d_problem_init(c.b, c.c_in, c.c_out, c.l_in, 4);
      p.stride = 2;
      p.padding = 1;
      p.has_bias = 1;
      p.dtype = dtype;
      p.device = CONVT1D_DEVICE_CUDA;
      ASSERT_EQ(convt1d_validate(&p), CONVT1D_OK);
      const Plan plan = convt1d::detail::make_plan(p, t1d::hopper_info());
      const bool streams = plan.kernel == KernelKind::WgmmaStream;
      EXPECT_EQ(streams, dtype == CONVT1D_FLOAT32 || c.streams16) << convt1d::detail::kernel_name(plan.kernel);
      if (streams) EXPECT_FALSE(plan.stream.phase_blocks);
      if (!streams) EXPECT_EQ(plan.kernel, KernelKind::Wgmma);
    }
}

// IEEE channel-group phase blocks at stride 2 take x in two channel parts where every chunk of W^T (4
// k-steps) lies in one tap and one part and each phase's chunks of a part pair up; TF32 and 16-bit
// (faster in one box on the H100), one-phase blocks and every-phase tilings never do.
TEST(StreamPlan, XWindowsInPartsWhereChunksSplit) {
  struct Case {
    int64_t c_in, c_out, k, stride;
    int32_t dtype, math;
    int parts;
  };
  constexpr int32_t kF32 = CONVT1D_FLOAT32, kIeee = CONVT1D_MATH_IEEE, kTf32 = CONVT1D_MATH_TF32;
  const Case cases[] = {
      {128, 128, 4, 2, kF32, kIeee, 2},                  // T8: 16 k-steps per tap, 2 chunks per tap and part
      {60, 72, 4, 2, kF32, kIeee, 2},                    // C_in padded to 64: 1 chunk per tap and part, 2 taps
      {120, 72, 4, 2, kF32, kIeee, 1},                   // 15 k-steps per tap: chunks straddle taps
      {64, 72, 2, 2, kF32, kIeee, 1},                    // one tap per phase: its part is one chunk, no pair
      {64, 96, 6, 3, kF32, kIeee, 1},                    // channel groups of 3 phases: not compiled in parts
      {128, 128, 4, 2, kF32, kTf32, 1},                  // TF32
      {128, 128, 4, 2, CONVT1D_BFLOAT16, kTf32, 1},      // 16-bit (y past L2: channel groups)
      {128, 128, 4, 2, CONVT1D_FLOAT16, kTf32, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::to_string(c.c_in) + " -> " + std::to_string(c.c_out) + " K " + std::to_string(c.k) +
                 " dtype " + std::to_string(c.dtype) + " math " + std::to_string(c.math));
    const StreamTiling t = forced_stream_plan(16, c.c_in, c.c_out, 65536, c.k, c.stride, 1, c.dtype, c.math);
    ASSERT_TRUE(t.phase_blocks);
    EXPECT_EQ(t.block_phases, c.stride);  // channel groups, in parts or not
    EXPECT_EQ(t.x_parts, c.parts);
  }
  const StreamTiling t4 = forced_stream_plan(16, 64, 32, 32768, 4, 2, 0, kF32, kIeee);  // every-phase tiles
  EXPECT_FALSE(t4.phase_blocks);
  EXPECT_EQ(t4.x_parts, 1);
}

// The streaming kernels start as programmatic dependents of the packing kernel where their blocks walk
// few tiles (perf-log steps 91, 110): every-phase tilings up to 32 tiles per block (T4's 31 gained,
// KB74's 248 lost), phase blocks outside clusters up to 8 (S11's 5.3 in 16-bit gained).
TEST(StreamPlan, OverlapsThePackingWhereMeasuredFaster) {
  for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_BFLOAT16}) {
    const StreamTiling t4 = forced_stream_plan(16, 48, 24, 32768, 4, 2, 1, dtype);  // 31 tiles per block
    EXPECT_FALSE(t4.phase_blocks);
    EXPECT_TRUE(t4.overlap_packing);
    convt1d_problem kb = kb74();
    kb.dtype = dtype;
    EXPECT_FALSE(convt1d::detail::make_plan(kb, t1d::hopper_info()).stream.overlap_packing);  // 248
  }
  const StreamTiling s11 = forced_stream_plan(1, 192, 96, 22272, 4, 2, 1, CONVT1D_BFLOAT16);  // 5.3 tiles per block
  EXPECT_TRUE(s11.phase_blocks);
  EXPECT_EQ(s11.cluster, 1);
  EXPECT_TRUE(s11.overlap_packing);
  const StreamTiling t6 = forced_stream_plan(16, 192, 96, 8448, 4, 2, 1, CONVT1D_BFLOAT16);  // paced clusters
  EXPECT_TRUE(t6.phase_blocks);
  EXPECT_GT(t6.cluster, 1);
  EXPECT_FALSE(t6.overlap_packing);
  const StreamTiling t8 = forced_stream_plan(16, 128, 128, 32768, 4, 2, 1, CONVT1D_BFLOAT16);  // 124 tiles per block
  EXPECT_TRUE(t8.phase_blocks);
  EXPECT_FALSE(t8.overlap_packing);
}

// x's windows come through L2 in 256-byte promotions in every-phase tilings (perf-log step 114: KB74
// 16-bit faster), 128-byte ones in phase blocks (T8 16-bit was 15 % slower with 256).
TEST(StreamPlan, WideXFetchesForEveryPhaseTilingsOnly) {
  for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_BFLOAT16, CONVT1D_FLOAT16}) {
    SCOPED_TRACE("dtype " + std::to_string(dtype));
    convt1d_problem kb = kb74();
    kb.dtype = dtype;
    kb.algorithm = CONVT1D_ALGO_WGMMA_STREAM;
    const StreamTiling k = convt1d::detail::make_plan(kb, t1d::hopper_info()).stream;
    EXPECT_FALSE(k.phase_blocks);
    EXPECT_TRUE(k.wide_x_fetch());
    const StreamTiling b = forced_stream_plan(16, 128, 128, 32768, 4, 2, 1, dtype);
    EXPECT_TRUE(b.phase_blocks);
    EXPECT_FALSE(b.wide_x_fetch());
  }
}

// Tiles in runs of 4 (perf-log step 92): TF32 all-phase tilings and channel-group phase blocks whose
// blocks walk enough tiles; the kernels compile runs for exactly those (launch_runs, launch_groups).
TEST(StreamPlan, TileRunsWhereMeasuredFaster) {
  auto run_of = [](convt1d_problem p, int32_t dtype, int32_t math) {
    p.dtype = dtype;
    p.math = math;
    const Plan plan = convt1d::detail::make_plan(p, t1d::hopper_info());
    EXPECT_EQ(plan.kernel, KernelKind::WgmmaStream);
    return plan.stream.tile_run;
  };
  const int32_t tf32 = CONVT1D_MATH_TF32, ieee = CONVT1D_MATH_IEEE;
  EXPECT_EQ(run_of(kb74(), CONVT1D_FLOAT32, tf32), convt1d::detail::kStreamTileRun);  // 248 tiles per block
  EXPECT_EQ(run_of(kb74(), CONVT1D_FLOAT32, ieee), 1);
  EXPECT_EQ(run_of(kb74(), CONVT1D_BFLOAT16, tf32), 1);
  EXPECT_EQ(run_of(kb74(), CONVT1D_FLOAT16, tf32), 1);
  convt1d_problem t8 = convt1d_problem_init(16, 128, 128, 32768, 4);  // Oobleck's up4 in training
  t8.stride = 2;
  t8.padding = 1;
  t8.has_bias = 1;
  t8.device = CONVT1D_DEVICE_CUDA;
  EXPECT_EQ(run_of(t8, CONVT1D_FLOAT32, tf32), 1) << "124 tiles per channel-group block: 5 % slower in runs";
  EXPECT_EQ(run_of(t8, CONVT1D_FLOAT32, ieee), 1) << "IEEE: 13 % slower in runs";
  EXPECT_EQ(run_of(t8, CONVT1D_BFLOAT16, tf32), convt1d::detail::kStreamTileRun);
  EXPECT_EQ(run_of(t8, CONVT1D_FLOAT16, tf32), convt1d::detail::kStreamTileRun);
  convt1d_problem x1 = t8;
  x1.in_length = 1048576;
  EXPECT_EQ(run_of(x1, CONVT1D_FLOAT32, tf32), convt1d::detail::kStreamTileRun);
  convt1d_problem t4 = convt1d_problem_init(16, 48, 24, 32768, 4);  // 31 tiles per block
  t4.stride = 2;
  t4.padding = 1;
  t4.device = CONVT1D_DEVICE_CUDA;
  EXPECT_EQ(run_of(t4, CONVT1D_FLOAT32, tf32), 1);
  // Over many lengths and batches: runs only where the kernels have them compiled, and only where
  // every block gets at least a few runs.
  t1d::Rng rng(92);
  int in_runs = 0, phase_blocks_in_runs = 0;
  for (int i = 0; i < 300; ++i) {
    convt1d_problem p = i % 2 ? kb74() : t8;
    p.batch = t1d::rand_int(rng, 1, 64);
    p.in_length = t1d::rand_int(rng, 1000, 1 << 20);
    p.dtype = std::vector<int32_t>{CONVT1D_FLOAT32, CONVT1D_BFLOAT16, CONVT1D_FLOAT16}[t1d::rand_int(rng, 0, 2)];
    p.math = t1d::rand_int(rng, 0, 1) ? tf32 : ieee;
    SCOPED_TRACE("B " + std::to_string(p.batch) + " L " + std::to_string(p.in_length) + " dtype " +
                 std::to_string(p.dtype) + " math " + std::to_string(p.math));
    const Plan plan = convt1d::detail::make_plan(p, t1d::hopper_info());
    if (plan.kernel != KernelKind::WgmmaStream || plan.stream.tile_run == 1) continue;
    const StreamTiling& t = plan.stream;
    EXPECT_EQ(t.tile_run, convt1d::detail::kStreamTileRun);
    EXPECT_FALSE(t.ieee);
    ++in_runs;
    phase_blocks_in_runs += t.phase_blocks;
    if (t.phase_blocks) {
      EXPECT_GT(t.block_phases, 1);
      EXPECT_GE(t.tiles, 2 * t.tile_run * (t.grid / t.groups));
    } else {
      EXPECT_TRUE(p.dtype == CONVT1D_FLOAT32 && p.math == tf32);
      EXPECT_GE(t.tiles, 2 * t.tile_run * t.grid);
    }
  }
  EXPECT_GT(phase_blocks_in_runs, 4);
  EXPECT_GT(in_runs - phase_blocks_in_runs, 2);
}

// Random layers the kernel takes: the window holds every column any tap of any phase of the tile
// reads, starts 16-byte aligned in x, and spreads a fragment's 4 channel rows over distinct banks.
TEST(StreamPlan, WindowCoversEveryTapOfTheTile) {
  t1d::Rng rng(2024);
  int planned = 0, strided = 0, phase_blocks = 0, paced = 0, grouped_blocks = 0, rotated_tiles = 0;
  for (int i = 0; i < 8000 && planned < 200; ++i) {
    convt1d_problem p = convt1d_problem_init(t1d::rand_int(rng, 1, 4), t1d::rand_int(rng, 1, 256),
                                             t1d::rand_int(rng, 1, 128), 4 * t1d::rand_int(rng, 1, 3000),
                                             t1d::rand_int(rng, 1, 12));
    if (i % 3 == 0) p.dtype = CONVT1D_BFLOAT16, p.in_length *= 2;
    p.stride = t1d::rand_int(rng, 1, 8);
    p.dilation = t1d::rand_int(rng, 1, 10);
    p.padding = t1d::rand_int(rng, 0, 2 * (p.kernel_size - 1) * p.dilation + 3);
    p.output_padding = t1d::rand_int(rng, 0, std::max(p.stride, p.dilation) - 1);
    p.device = CONVT1D_DEVICE_CUDA;
    if (convt1d_validate(&p) != CONVT1D_OK) continue;
    const convt1d::detail::Shape s = convt1d::detail::shape_of(p);
    const convt1d::detail::Polyphase poly =
        convt1d::detail::make_polyphase(s.stride, s.dilation, s.padding, s.kernel_size);
    StreamTiling t;
    std::string why;
    if (!convt1d::detail::plan_wgmma_stream(s, p.dtype, p.math, poly, t1d::hopper_info(), t, why)) continue;
    ++planned;
    strided += s.stride > 1;
    SCOPED_TRACE(t1d::describe(p));
    EXPECT_EQ((t.q_first + t.x_base) % 4, 0);  // the window's first x position
    if (t.row_residues && t.x_cols + 16 <= convt1d::detail::kStreamMaxBox)
      EXPECT_EQ(t.x_cols % 32, 16);  // (16-bit residue maps, where that fits)
    else
      EXPECT_EQ(t.x_cols % 16, 8);
    EXPECT_LE(t.x_cols, convt1d::detail::kStreamMaxBox);
    const int64_t left = t.rotation ? 1 : 0;                           // rotated slots read q - 1
    EXPECT_GE(-poly.max_shift - t.x_base - left, 0);                   // q0, the farthest tap
    EXPECT_LT(t.positions - 1 - t.x_base, t.x_cols);                   // the tile's last q, shift 0
    EXPECT_EQ(t.positions, t.phase_blocks ? convt1d::detail::kPhaseBlockPositions : convt1d::detail::kStreamPositions);
    int64_t steps = 0;
    for (int64_t r = 0; r < s.stride; ++r) {
      steps += t.phase_steps[r];
      EXPECT_LE(t.phase_chunk[r] + (t.phase_steps[r] + 3) / 4, t.phase_chunk[r + 1]);
    }
    EXPECT_EQ(steps * t.k_step, s.kernel_size * t.ci_pad);  // every tap in exactly one phase
    EXPECT_GE(t.ci_pad, s.in_channels);
    EXPECT_GE(int64_t{t.n} * t.groups, s.out_channels);
    EXPECT_LT(int64_t{t.n} * (t.groups - 1), s.out_channels) << "no group without channels";
    EXPECT_GE(t.stages, t.consumers);
    EXPECT_EQ(t.stages % t.consumers, 0) << "each consumer warpgroup must own its stages";
    const bool three = p.dtype != CONVT1D_FLOAT32 && !t.phase_blocks;
    EXPECT_TRUE(t.consumers == 2 || (three && t.consumers == convt1d::detail::kStreamConsumers16));
    // The deeper ring only for fp32 layers whose blocks walk many tiles, or three consumers.
    const bool deep = p.dtype == CONVT1D_FLOAT32 && t.tiles >= convt1d::detail::kStreamDeepRingTilesPerBlock * t.grid;
    EXPECT_LE(t.stages, t.consumers == 3                 ? convt1d::detail::kStreamMaxStages16
                        : deep && !t.phase_blocks ? convt1d::detail::kStreamMaxStagesFp32
                                                  : convt1d::detail::kStreamMaxStages);
    EXPECT_LE(t.smem_bytes, t1d::hopper_info().smem_per_block_optin);
    // The tiles' outputs, q * stride - padding for q in [q_first, q_first + positions * tiles) (rotated: stride -
    // rotation further left), cover [0, L_out).
    const int64_t rotated_left = t.rotation ? s.stride - t.rotation : 0;
    EXPECT_LE(t.q_first * s.stride - s.padding - rotated_left, 0);
    EXPECT_GE((t.q_first + t.positions * t.tiles_per_row) * s.stride - s.padding - rotated_left, s.out_length);
    const bool wide = p.dtype == CONVT1D_FLOAT32;
    if (t.rotation != 0) {  // every tile's outputs start on a lane vector, the first one at or before 0
      const int64_t offset = convt1d::detail::stream_out_offset(s, t);
      EXPECT_EQ(offset % convt1d::detail::kStreamLaneOutputs, 0);
      EXPECT_GT(offset, -int64_t{t.positions} * s.stride) << "a tile entirely before the row";
    }
    if (!t.phase_blocks) {  // every-phase tiles: rotated wherever that lets every tile start at 128 * stride * j
      const bool aligned_rows = s.out_length % convt1d::detail::kStreamLaneOutputs == 0;
      const bool tf32 = wide && !t.ieee;
      const int64_t tiles_per_block = t.tiles / t.grid;
      const bool wanted = aligned_rows && (!tf32 || tiles_per_block >= convt1d::detail::kStreamRotateMinTilesPerBlockTf32);
      EXPECT_EQ(t.rotation, wanted ? s.padding % s.stride : 0);
      EXPECT_EQ(convt1d::detail::stream_out_offset(s, t), t.q_first * s.stride - s.padding - rotated_left);
      rotated_tiles += t.rotation != 0;
    } else if (t.rotation != 0) {  // 16-bit channel groups at stride 2 with an odd padding
      EXPECT_TRUE(t.block_phases == s.stride);
      EXPECT_TRUE(s.stride == 2 && !wide);
      EXPECT_EQ(t.rotation, 1);
      EXPECT_EQ(s.padding % 2, 1);
    } else if (t.block_phases > 1 && s.stride == 2 && !wide) {
      EXPECT_EQ(s.padding % 2, 0) << "an unrotated 16-bit channel-group tiling whose slots are not aligned";
    }
    EXPECT_EQ(t.tiles, s.batch * t.tiles_per_row);
    const int64_t images = t.ieee ? 2 : 1;
    EXPECT_EQ(t.image_bytes, int64_t{t.chunks} * t.n * 128 * images * t.groups);
    if (t.phase_blocks) {  // every kind of block (a phase, or a channel group) has as many blocks
      phase_blocks++;
      const bool grouped = t.block_phases > 1;
      grouped_blocks += grouped;
      const int64_t kinds = grouped ? t.groups : s.stride;
      EXPECT_TRUE(t.block_phases == 1 || t.block_phases == s.stride);
      EXPECT_TRUE(grouped || t.groups == 1);
      EXPECT_LE(int64_t{t.n} * t.block_phases, convt1d::detail::kPhaseBlockMaxN) << "accumulators of one N 128 phase";
      EXPECT_EQ(t.grid % kinds, 0);
      EXPECT_GE(t.grid, kinds);
      EXPECT_LE(t.grid, t1d::hopper_info().sm_count);
      int64_t most = 0;
      for (int64_t r = 0; r < s.stride; ++r) {
        most = std::max<int64_t>(most, t.phase_chunk[r + 1] - t.phase_chunk[r]);
        EXPECT_EQ((t.phase_chunk[r + 1] - t.phase_chunk[r]) % 2, 0) << "the kernel runs chunks in pairs";
      }
      EXPECT_EQ(t.weight_bytes, (grouped ? t.chunks : most) * t.n * 128 * images) << "the rows a block keeps";
      EXPECT_EQ(t.staging_bytes, 0);
      const int64_t tiles_per_block = (t.tiles + t.grid / kinds - 1) / (t.grid / kinds);
      const bool want_paced = !grouped && s.stride > 1 && tiles_per_block >= convt1d::detail::kPhaseBlockPaceMinTiles;
      EXPECT_EQ(t.cluster, want_paced ? s.stride : 1) << "clusters of the stride's one-phase blocks where paced";
      paced += want_paced;
    } else {
      EXPECT_EQ(t.weight_bytes, t.image_bytes);
      EXPECT_LE(s.out_channels, convt1d::detail::kStreamMaxN);
    }
  }
  EXPECT_EQ(planned, 200);
  EXPECT_GE(strided, 50);
  EXPECT_GE(phase_blocks, 30);
  EXPECT_GE(paced, 5);
  EXPECT_GE(grouped_blocks, 10);
  EXPECT_GE(phase_blocks - grouped_blocks, 10);
  EXPECT_GE(rotated_tiles, 2);
}

// Clustered launches keep only the clusters the device holds at once, and at least one.
TEST(StreamPlan, ClusterGridKeepsResidentClusters) {
  using convt1d::detail::resident_cluster_grid;
  EXPECT_EQ(resident_cluster_grid(132, 2, 66), 132);
  EXPECT_EQ(resident_cluster_grid(132, 4, 32), 128);  // 33 clusters planned, 32 resident
  EXPECT_EQ(resident_cluster_grid(12, 2, 100), 12);   // fewer planned than resident
  EXPECT_EQ(resident_cluster_grid(128, 8, 15), 120);
  EXPECT_EQ(resident_cluster_grid(16, 8, 0), 8);      // never an empty grid
}

// What the kernel computes, in fp64: per tile of `positions` q (q0 = q_first + positions * j), one window of x (zero
// outside the row and past C_in) starting at q0 + x_base; for each output slot k, its phase r = (k + rotation) %
// stride, one position left (`left`) for rotated slots k < stride - rotation, D_k[m][co] = sum over the phase's steps
// (its tap n, k_step channels) of window[ci][m - left - shift_n - x_base] * W[ci][co][k_n], stored at output
// t = (q0 + m) * stride + k - padding (rotated: - (padding - rotation + stride)) when that lies in [0, L_out).
std::vector<double> emulate(const convt1d_problem& p, const Plan& plan, const t1d::Inputs& in) {
  const convt1d::detail::Shape s = convt1d::detail::shape_of(p);
  const StreamTiling& t = plan.stream;
  const convt1d::detail::Polyphase& poly = plan.poly;
  std::vector<double> y(static_cast<size_t>(s.y_elements()), std::nan(""));
  for (int64_t tile = 0; tile < t.tiles; ++tile) {
    const int64_t b = tile / t.tiles_per_row;
    const int64_t q0 = t.q_first + tile % t.tiles_per_row * t.positions;
    auto window = [&](int64_t ci, int64_t col) {
      EXPECT_TRUE(col >= 0 && col < t.x_cols) << "column " << col;
      const int64_t l = q0 + t.x_base + col;
      if (ci >= s.in_channels || l < 0 || l >= s.in_length) return 0.0;
      return in.x[static_cast<size_t>((b * s.in_channels + ci) * s.in_length + l)];
    };
    const int64_t rot = t.rotation;
    for (int64_t k_slot = 0; k_slot < s.stride; ++k_slot) {
      const int64_t r = (k_slot + rot) % s.stride, left = rot != 0 && k_slot < s.stride - rot;
      const convt1d::detail::PhaseTaps& ph = poly.taps[static_cast<size_t>(r)];
      for (int64_t m = 0; m < t.positions; ++m) {
        const int64_t out = (q0 + m) * s.stride + k_slot - (rot ? s.padding - rot + s.stride : s.padding);
        if (out < 0 || out >= s.out_length) continue;
        for (int64_t co = 0; co < s.out_channels; ++co) {
          double acc = p.has_bias ? in.bias[static_cast<size_t>(co)] : 0.0;
          for (int64_t step = 0; step < t.phase_steps[r]; ++step) {
            const int64_t v0 = step * t.k_step, n = v0 / t.ci_pad;
            const int64_t k = ph.first_tap + n * poly.tap_step, shift = ph.first_shift + n * poly.shift_step;
            for (int64_t ci = v0 % t.ci_pad; ci < v0 % t.ci_pad + t.k_step; ++ci) {
              const double w =
                  ci < s.in_channels ? in.w[static_cast<size_t>((ci * s.out_channels + co) * s.kernel_size + k)] : 0.0;
              acc += window(ci, m - left - shift - t.x_base) * w;
            }
          }
          y[static_cast<size_t>((b * s.out_channels + co) * s.out_length + out)] = acc;
        }
      }
    }
  }
  return y;
}

// The emulation of p's plan against the scatter reference, on random inputs.
void expect_emulation_matches(const convt1d_problem& p, const Plan& plan, t1d::Rng& rng) {
  const t1d::Inputs in = t1d::random_inputs(rng, p, CONVT1D_FLOAT64);
  const std::vector<double> ref = t1d::reference_of(p, in), got = emulate(p, plan, in);
  ASSERT_EQ(got.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i)
    ASSERT_NEAR(got[i], ref[i], 1e-9 * (1 + std::fabs(ref[i]))) << t1d::describe(p) << " at " << i;
}

TEST(StreamPlan, EmulationMatchesTheReference) {
  t1d::Rng rng(74);
  const convt1d_problem fixed[] = {
      [] { convt1d_problem p = convt1d_problem_init(2, 32, 64, 304, 5); p.dilation = 3; return p; }(),
      [] { convt1d_problem p = convt1d_problem_init(1, 13, 20, 264, 4); p.padding = 9; p.dilation = 2; p.has_bias = 1; return p; }(),
      [] { convt1d_problem p = convt1d_problem_init(3, 5, 7, 136, 1); p.padding = 40; return p; }(),  // window right of the tile
      [] { convt1d_problem p = convt1d_problem_init(2, 48, 24, 264, 4); p.stride = 2; p.padding = 1; return p; }(),  // T4
      [] { convt1d_problem p = convt1d_problem_init(1, 20, 9, 200, 5); p.stride = 3; p.padding = 4; p.dilation = 2; p.output_padding = 1; p.has_bias = 1; return p; }(),
      [] { convt1d_problem p = convt1d_problem_init(1, 8, 8, 136, 2); p.stride = 5; p.padding = 7; return p; }(),  // phases without taps
      // Phase blocks: C_out past 64 (T8-like), and W^T too large to keep whole (L2-like, odd taps per phase).
      [] { convt1d_problem p = convt1d_problem_init(2, 40, 100, 200, 4); p.stride = 2; p.padding = 1; p.has_bias = 1; return p; }(),
      [] { convt1d_problem p = convt1d_problem_init(1, 96, 40, 96, 7); p.stride = 3; p.padding = 2; p.output_padding = 2; return p; }(),
  };
  constexpr int kFixed = sizeof(fixed) / sizeof(fixed[0]);
  int ran = 0;
  for (int i = 0; i < 2 * kFixed; ++i) {
    convt1d_problem p = fixed[i % kFixed];
    p.dtype = i < kFixed ? CONVT1D_FLOAT32 : CONVT1D_BFLOAT16;  // 8 or 16 channels per k-step
    p.device = CONVT1D_DEVICE_CUDA;
    ASSERT_EQ(convt1d_validate(&p), CONVT1D_OK) << convt1d_last_error();
    const Plan plan = [&] { convt1d_problem f = p; f.algorithm = CONVT1D_ALGO_WGMMA_STREAM; return convt1d::detail::make_plan(f, t1d::hopper_info()); }();
    EXPECT_EQ(plan.stream.phase_blocks, i % kFixed >= kFixed - 2) << t1d::describe(p);
    expect_emulation_matches(p, plan, rng);
    if (HasFatalFailure()) return;
    ++ran;
  }
  EXPECT_EQ(ran, 2 * kFixed);
  // 16-bit channel groups (one phase's W^T for every channel does not fit) with rotated phases
  // (StreamTiling::rotation): padding 1 (B 1, 128 channels), and padding 3 with an odd L_out (B 3,
  // 100 channels: a partial group).
  for (const int64_t padding : {1, 3}) {
    convt1d_problem p = convt1d_problem_init(padding, 192, 128 - 28 * (padding / 3), 136, 8);
    p.stride = 2;
    p.padding = padding;
    p.output_padding = padding / 3;
    p.has_bias = 1;
    p.dtype = CONVT1D_BFLOAT16;
    p.device = CONVT1D_DEVICE_CUDA;
    p.algorithm = CONVT1D_ALGO_WGMMA_STREAM;
    ASSERT_EQ(convt1d_validate(&p), CONVT1D_OK) << convt1d_last_error();
    const Plan plan = convt1d::detail::make_plan(p, t1d::hopper_info());
    EXPECT_TRUE(plan.stream.phase_blocks && plan.stream.block_phases == 2) << t1d::describe(p);
    EXPECT_EQ(plan.stream.rotation, 1) << t1d::describe(p);
    expect_emulation_matches(p, plan, rng);
    if (HasFatalFailure()) return;
  }
}

}  // namespace

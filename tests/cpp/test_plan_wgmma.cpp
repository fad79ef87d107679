// The Hopper tap-major GEMM's planning (src/plan_wgmma.cpp), on the CPU: which problems it takes,
// its tiling's invariants on real layers, and an fp64 emulation of exactly what the kernel computes
// (windows, the outputs each window owns, the shift-add over Z) against the scatter reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "convt1d/convt1d.h"
#include "window_ownership.hpp"
#include "plan.hpp"
#include "tap_pairs.hpp"
#include "problem.hpp"
#include "test_hopper.hpp"
#include "test_util.hpp"

namespace {

using convt1d::detail::DeviceInfo;
using convt1d::detail::KernelKind;
using convt1d::detail::Plan;
using convt1d::detail::WgmmaTiling;

DeviceInfo hopper(bool wgmma) { return t1d::hopper_info(wgmma); }

convt1d_problem layer(int64_t B, int64_t ci, int64_t co, int64_t L, int64_t K, int64_t s, int64_t pad) {
  convt1d_problem p = convt1d_problem_init(B, ci, co, L, K);
  p.stride = s;
  p.padding = pad;
  p.dtype = CONVT1D_BFLOAT16;
  p.device = CONVT1D_DEVICE_CUDA;
  return p;
}

std::string refusal(convt1d_problem p, const DeviceInfo& dev) {
  p.algorithm = CONVT1D_ALGO_WGMMA;
  try {
    (void)convt1d::detail::make_plan(p, dev);
  } catch (const convt1d::detail::ApiError& e) {
    EXPECT_EQ(e.status, CONVT1D_UNSUPPORTED);
    return e.what();
  }
  return "";
}

TEST(WgmmaPlan, RefusesWithAReason) {
  const convt1d_problem ok = layer(16, 1536, 768, 256, 8, 4, 2);
  EXPECT_EQ(refusal(ok, hopper(true)), "");
  EXPECT_TRUE(t1d::contains(refusal(ok, hopper(false)), "sm_90")) << refusal(ok, hopper(false));
  convt1d_problem p = ok;
  p.dtype = CONVT1D_FLOAT32;
  EXPECT_EQ(refusal(p, hopper(true)), "") << "fp32 in TF32 mode runs the tf32 variant";
  p.math = CONVT1D_MATH_IEEE;
  EXPECT_EQ(refusal(p, hopper(true)), "") << "IEEE fp32 runs the tf32 variant as 3xTF32";
  p.dtype = CONVT1D_FLOAT64;
  EXPECT_TRUE(t1d::contains(refusal(p, hopper(true)), "float16")) << refusal(p, hopper(true));
  p = ok;
  p.groups = 2;
  EXPECT_TRUE(t1d::contains(refusal(p, hopper(true)), "groups"));
  p = ok;
  p.out_channels = 767;
  p.kernel_size = 5;
  EXPECT_TRUE(t1d::contains(refusal(p, hopper(true)), "out_channels*kernel_size"));
  p = ok;
  p.kernel_size = 9;  // no 64-row tile of whole channels starts 16-byte aligned
  EXPECT_TRUE(t1d::contains(refusal(p, hopper(true)), "kernel_size")) << refusal(p, hopper(true));
  p = ok;
  p.device = CONVT1D_DEVICE_CPU;
  EXPECT_TRUE(t1d::contains(refusal(p, hopper(true)), "CUDA only"));
}

TEST(WgmmaPlan, AutoTakesLargeReductionsOnHopperOnly) {
  convt1d_problem p = layer(16, 1536, 768, 256, 8, 4, 2);
  EXPECT_EQ(convt1d::detail::make_plan(p, hopper(true)).kernel, KernelKind::Wgmma);
  EXPECT_EQ(convt1d::detail::make_plan(p, hopper(false)).kernel, KernelKind::ImplicitGemm);
  p.dtype = CONVT1D_FLOAT32;  // TF32 mode: the tf32 variant
  EXPECT_EQ(convt1d::detail::make_plan(p, hopper(true)).kernel, KernelKind::Wgmma);
  EXPECT_TRUE(convt1d::detail::make_plan(p, hopper(true)).wgmma.tf32);
  p.math = CONVT1D_MATH_IEEE;  // IEEE fp32: the same kernels, three TF32 passes per chunk
  const convt1d::detail::Plan ieee = convt1d::detail::make_plan(p, hopper(true));
  EXPECT_EQ(ieee.kernel, KernelKind::Wgmma);
  EXPECT_TRUE(ieee.wgmma.tf32 && ieee.wgmma.ieee && ieee.wgmma.x_transposed);
  EXPECT_EQ(convt1d::detail::make_plan(p, hopper(false)).kernel, KernelKind::ImplicitGemm);
  convt1d_problem t8 = layer(16, 128, 128, 32768, 4, 2, 1);  // long rows, 128 channels: channel-group phase blocks
  EXPECT_EQ(convt1d::detail::make_plan(t8, hopper(true)).kernel, KernelKind::WgmmaStream);  // (16-bit)
  EXPECT_EQ(convt1d::detail::make_plan(t8, hopper(false)).kernel, KernelKind::ImplicitGemm);
  t8.in_length = 2048;
  EXPECT_EQ(convt1d::detail::make_plan(t8, hopper(true)).kernel, KernelKind::Wgmma);
  convt1d_problem kb74 = layer(32, 32, 64, 131072, 5, 1, 0);
  kb74.dilation = 3;  // stride 1, few channels, long rows: the streaming kernel (test_plan_stream.cpp)
  EXPECT_EQ(convt1d::detail::make_plan(kb74, hopper(true)).kernel, KernelKind::WgmmaStream);
}

// The suite sweep's routing (docs/perf-log.md step 24): shallow reductions on short rows or with few
// output channels go to wgmma; TF32 keeps the mma.sync kernel when wgmma's coarse tiles would leave
// the GPU mostly idle, and takes medium reductions on long rows, where mma.sync tf32 is slow.
TEST(WgmmaPlan, AutoFollowsTheSuiteSweep) {
  const DeviceInfo dev = hopper(true);
  auto kernel = [&](convt1d_problem p, int32_t dtype) {
    p.dtype = dtype;
    return convt1d::detail::make_plan(p, dev).kernel;
  };
  const convt1d_problem s4 = layer(1, 64, 32, 11136, 4, 2, 1);    // shallow, short row
  const convt1d_problem t4 = layer(16, 48, 24, 32768, 4, 2, 1);   // shallow, long rows: streamed
  const convt1d_problem p1 = layer(1, 64, 32, 40000, 4, 2, 1);    // shallow, one 40k row
  const convt1d_problem l5 = layer(1, 48, 8, 85995, 8, 4, 0);     // shallow, 8 output channels
  const convt1d_problem s1 = layer(1, 512, 256, 87, 16, 8, 4);    // deep, one short row: 22 tiles
  const convt1d_problem s5 = layer(1, 1536, 768, 94, 8, 4, 2);    // deep, one short row: 32 tiles
  const convt1d_problem t8 = layer(16, 128, 128, 32768, 4, 2, 1); // medium, long rows
  for (int32_t dtype : {CONVT1D_BFLOAT16, CONVT1D_FLOAT32}) {
    SCOPED_TRACE(dtype);
    // (the streaming kernel's share: test_plan_stream.cpp; one row of 88 tiles runs faster tap-major in
    // every dtype, perf-log step 140)
    EXPECT_EQ(kernel(s4, dtype), KernelKind::Wgmma);
    EXPECT_EQ(kernel(t4, dtype), KernelKind::WgmmaStream);
    // 313 tiles: TF32 streams from one per SM, 16-bit (rows as vectors) from three (steps 100, 177)
    EXPECT_EQ(kernel(p1, dtype), dtype == CONVT1D_FLOAT32 ? KernelKind::WgmmaStream : KernelKind::Wgmma);
    // 64 rows: TF32 on the narrow kernel's mma reduction (perf-log step 107), 16-bit on wgmma
    EXPECT_EQ(kernel(l5, dtype), dtype == CONVT1D_FLOAT32 ? KernelKind::Narrow : KernelKind::Wgmma);
    EXPECT_EQ(kernel(s5, dtype), KernelKind::Wgmma);
  }
  EXPECT_EQ(kernel(s1, CONVT1D_BFLOAT16), KernelKind::Wgmma);
  EXPECT_EQ(kernel(s1, CONVT1D_FLOAT32), KernelKind::Wgmma);  // x^T tiles of 32 positions (perf-log step 48)
  // Mimi's streaming up0 (two positions): the TF32 wgmma kernel, no longer mma.sync (perf-log step 80)
  const convt1d_problem s22 = layer(1, 1024, 512, 2, 16, 8, 0);
  EXPECT_EQ(kernel(s22, CONVT1D_FLOAT32), KernelKind::Wgmma);
  convt1d_problem s22_ieee = s22;
  s22_ieee.math = CONVT1D_MATH_IEEE;
  EXPECT_EQ(kernel(s22_ieee, CONVT1D_FLOAT32), KernelKind::Wgmma);
  EXPECT_EQ(kernel(t8, CONVT1D_BFLOAT16), KernelKind::WgmmaStream);  // phase blocks of channel groups (step 79)
  EXPECT_EQ(kernel(t8, CONVT1D_FLOAT32), KernelKind::WgmmaStream);
}

// fp32 on the suite's deep layers (perf-log steps 67-70): W read as stored where few row tiles share
// it (TF32 up to 4, IEEE up to 8, IEEE beyond 1024 input channels up to 64), else packed W^T; IEEE
// beyond 1024 input channels always sums its reduction in segments.
TEST(WgmmaPlan, Fp32FollowsTheSuiteSweep) {
  struct Case {
    const char* name;
    convt1d_problem p;
    bool raw_tf32, raw_ieee, segmented_ieee;
  };
  const Case cases[] = {
      {"S5", layer(1, 1536, 768, 94, 8, 4, 2), true, true, true},
      {"S8", layer(1, 1536, 768, 87, 16, 8, 4), true, true, true},
      {"S9", layer(1, 768, 384, 696, 16, 8, 4), false, false, false},
      {"T1", layer(16, 512, 256, 32, 16, 8, 4), true, true, true},
      {"T7", layer(16, 2048, 1024, 32, 16, 8, 4), true, true, true},
      {"T3", layer(16, 1536, 768, 256, 8, 4, 2), false, false, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    convt1d_problem p = c.p;
    p.dtype = CONVT1D_FLOAT32;
    const convt1d::detail::Plan tf32 = convt1d::detail::make_plan(p, hopper(true));
    ASSERT_EQ(tf32.kernel, KernelKind::Wgmma);
    EXPECT_EQ(tf32.wgmma.raw_weights, c.raw_tf32);
    EXPECT_FALSE(tf32.wgmma.ieee || tf32.wgmma.segment_sums);
    p.math = CONVT1D_MATH_IEEE;
    const convt1d::detail::Plan ieee = convt1d::detail::make_plan(p, hopper(true));
    ASSERT_EQ(ieee.kernel, KernelKind::Wgmma);
    EXPECT_TRUE(ieee.wgmma.ieee);
    EXPECT_EQ(ieee.wgmma.raw_weights, c.raw_ieee);
    EXPECT_EQ(ieee.wgmma.segment_sums, c.segmented_ieee);
  }
}

// What convt1d_pack_weight writes: W^T of C_out*K rows at the plan's pitch (twice the chunks in IEEE),
// nothing where the tiles read W as stored, where the kernel is not the fp32 tap-major one, or on 16-bit
// inputs (whose kernel reads W as stored). Layout ids tell the arrangements apart: TF32 from IEEE, and
// regrouped rows (tap_pairs, which depend on the tile rounds, so on batch and length) from rows in order.
TEST(WgmmaPlan, PackedWeightLayoutFollowsThePlan) {
  using convt1d::detail::packed_weight_layout;
  const DeviceInfo dev = hopper(true);
  auto fp32 = [](convt1d_problem p) {
    p.dtype = CONVT1D_FLOAT32;
    return p;
  };
  convt1d_problem t3 = fp32(layer(16, 1536, 768, 256, 8, 4, 2));
  const convt1d::detail::Plan tf32 = convt1d::detail::make_plan(t3, dev);
  ASSERT_EQ(tf32.kernel, KernelKind::Wgmma);
  ASSERT_FALSE(tf32.wgmma.raw_weights);
  EXPECT_EQ(tf32.wgmma.ci_pitch, 1536);
  const auto tf32_layout = packed_weight_layout(tf32);
  EXPECT_EQ(tf32_layout.bytes, int64_t{768} * 8 * 1536 * 4);
  EXPECT_NE(tf32_layout.id, 0u);
  // The same layer at another length and batch reads the same arrangement.
  EXPECT_EQ(packed_weight_layout(convt1d::detail::make_plan(fp32(layer(4, 1536, 768, 300, 8, 4, 2)), dev)).id,
            tf32_layout.id);
  t3.math = CONVT1D_MATH_IEEE;
  const auto ieee_layout = packed_weight_layout(convt1d::detail::make_plan(t3, dev));
  EXPECT_EQ(ieee_layout.bytes, int64_t{768} * 8 * 1536 * 2 * 4);
  EXPECT_NE(ieee_layout.id, tf32_layout.id);
  t3.dtype = CONVT1D_BFLOAT16;
  EXPECT_EQ(packed_weight_layout(convt1d::detail::make_plan(t3, dev)).bytes, 0);
  const convt1d::detail::Plan s8 = convt1d::detail::make_plan(fp32(layer(1, 1536, 768, 87, 16, 8, 4)), dev);
  ASSERT_TRUE(s8.wgmma.raw_weights);
  EXPECT_EQ(packed_weight_layout(s8).bytes, 0);
  EXPECT_EQ(packed_weight_layout(s8).id, 0u);
  convt1d_problem kb74 = fp32(layer(32, 32, 64, 131072, 5, 1, 0));
  kb74.dilation = 3;
  const convt1d::detail::Plan streamed = convt1d::detail::make_plan(kb74, dev);
  ASSERT_EQ(streamed.kernel, KernelKind::WgmmaStream);
  EXPECT_EQ(packed_weight_layout(streamed).bytes, 0);
  const convt1d::detail::Plan sm80 = convt1d::detail::make_plan(fp32(layer(16, 1536, 768, 256, 8, 4, 2)), hopper(false));
  ASSERT_NE(sm80.kernel, KernelKind::Wgmma);
  EXPECT_EQ(packed_weight_layout(sm80).bytes, 0);
  // L2: W^T rows regrouped at the suite's length, in order on a short row: equal bytes, other ids.
  const convt1d::detail::Plan long_row = convt1d::detail::make_plan(fp32(layer(1, 256, 128, 262144, 8, 4, 2)), dev);
  const convt1d::detail::Plan short_row = convt1d::detail::make_plan(fp32(layer(1, 256, 128, 4096, 8, 4, 2)), dev);
  ASSERT_EQ(long_row.kernel, KernelKind::Wgmma);
  ASSERT_EQ(short_row.kernel, KernelKind::Wgmma);
  ASSERT_TRUE(long_row.wgmma.tap_pairs);
  ASSERT_FALSE(short_row.wgmma.tap_pairs);
  EXPECT_EQ(packed_weight_layout(long_row).bytes, packed_weight_layout(short_row).bytes);
  EXPECT_NE(packed_weight_layout(long_row).id, packed_weight_layout(short_row).id);
}

// The TF32 / IEEE packing runs by TMA on one block per SM (WgmmaTiling::pack_blocks) where it packs W^T,
// moves tens of MB and TMA can read its rows; the plain packing kernel elsewhere (perf-log step 152).
TEST(WgmmaPlan, PackingByTmaForPackingsOfTensOfMegabytes) {
  struct Case {
    const char* name;
    convt1d_problem p;
    bool tf32, ieee;  // TMA packing in TF32, in IEEE
  };
  const Case cases[] = {
      {"T3", layer(16, 1536, 768, 256, 8, 4, 2), true, false},    // 126 MB; IEEE's split parts 189 MB
      {"S9", layer(1, 768, 384, 696, 16, 8, 4), true, true},      // 42 MB, 63 MB
      {"S12", layer(1, 768, 384, 600, 10, 5, 3), true, true},     // 27 MB, 41 MB
      {"T3, odd rows", layer(16, 1536, 768, 255, 8, 4, 2), false, false},  // rows TMA cannot read
      {"T7", layer(16, 2048, 1024, 32, 16, 8, 4), false, false},  // raw weights: x^T only, 8 MB
      {"L1", layer(1, 2048, 1024, 1024, 16, 8, 4), false, false}, // 285 MB; IEEE: raw W, x^T alone (25 MB)
      {"S13", layer(1, 256, 128, 600, 10, 5, 0), false, false},   // 4 MB
  };
  const auto dev = hopper(true);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    convt1d_problem p = c.p;
    p.dtype = CONVT1D_FLOAT32;
    for (const auto math : {CONVT1D_MATH_TF32, CONVT1D_MATH_IEEE}) {
      p.math = math;
      const convt1d::detail::Plan plan = convt1d::detail::make_plan(p, dev);
      ASSERT_EQ(plan.kernel, KernelKind::Wgmma);
      const bool tma = math == CONVT1D_MATH_IEEE ? c.ieee : c.tf32;
      EXPECT_EQ(plan.wgmma.pack_blocks, tma ? dev.sm_count : 0) << (math == CONVT1D_MATH_IEEE ? "IEEE" : "TF32");
    }
  }
}

// Kernels longer than a TF32 tile's rows (the suite's P3: K 10000, stride 1000) go to GEMM + col2im
// in TF32 mode on Hopper, through a 1x1 problem of C_out*K channels; nowhere else.
TEST(WgmmaPlan, LongKernelsRunAsGemmThenCol2im) {
  convt1d_problem p = layer(16, 1000, 1, 100, 10000, 1000, 0);
  p.dtype = CONVT1D_FLOAT32;
  p.has_bias = 1;
  EXPECT_EQ(convt1d::detail::make_plan(p, hopper(true)).kernel, KernelKind::GemmCol2im);
  EXPECT_EQ(convt1d::detail::make_plan(p, hopper(false)).kernel, KernelKind::Direct);
  const convt1d_problem g = convt1d::detail::col2im_gemm_problem(p);
  EXPECT_EQ(g.batch, 16);
  EXPECT_EQ(g.in_channels, 1000);
  EXPECT_EQ(g.out_channels, 10000);
  EXPECT_EQ(g.in_length, 100);
  EXPECT_EQ(g.kernel_size, 1);
  EXPECT_EQ(g.stride, 1);
  EXPECT_EQ(g.padding, 0);
  EXPECT_EQ(g.has_bias, 0);
  EXPECT_EQ(g.algorithm, CONVT1D_ALGO_WGMMA);
  EXPECT_EQ(convt1d::detail::make_plan(g, hopper(true)).kernel, KernelKind::Wgmma);
  convt1d_problem q = p;
  q.math = CONVT1D_MATH_IEEE;  // IEEE too, its GEMM as 3xTF32
  EXPECT_EQ(convt1d::detail::make_plan(q, hopper(true)).kernel, KernelKind::GemmCol2im);
  EXPECT_EQ(convt1d::detail::col2im_gemm_problem(q).math, CONVT1D_MATH_IEEE);
  EXPECT_TRUE(convt1d::detail::make_plan(convt1d::detail::col2im_gemm_problem(q), hopper(true)).wgmma.ieee);
  for (const int32_t dtype : {CONVT1D_FLOAT16, CONVT1D_BFLOAT16}) {  // on fp32 copies, TF32 (exact for them)
    q = p;
    q.dtype = dtype;
    q.math = CONVT1D_MATH_IEEE;
    EXPECT_EQ(convt1d::detail::make_plan(q, hopper(true)).kernel, KernelKind::GemmCol2im);
    EXPECT_EQ(convt1d::detail::col2im_gemm_problem(q).dtype, CONVT1D_FLOAT32);
    EXPECT_EQ(convt1d::detail::col2im_gemm_problem(q).math, CONVT1D_MATH_TF32);
    // The fp32 copies count against the workspace bound: C_in 2^15 makes W's alone 2^32 bytes.
    q.in_channels = int64_t{1} << 15;
    q.out_channels = 2;
    q.kernel_size = int64_t{1} << 14;
    q.stride = 1 << 13;
    q.batch = 1;
    q.in_length = 2;
    EXPECT_NE(convt1d::detail::make_plan(q, hopper(true)).kernel, KernelKind::GemmCol2im);
    q.dtype = CONVT1D_FLOAT32;  // Z alone: 2 * 2^14 * 2 floats
    EXPECT_EQ(convt1d::detail::make_plan(q, hopper(true)).kernel, KernelKind::GemmCol2im);
  }
  q = p;
  q.kernel_size = 192;  // fits a tile's rows: the wgmma kernel itself
  EXPECT_NE(convt1d::detail::make_plan(q, hopper(true)).kernel, KernelKind::GemmCol2im);
  q = p;
  q.batch = 1024;  // a 4 GiB workspace: refused, the direct kernel runs it
  EXPECT_EQ(convt1d::detail::make_plan(q, hopper(true)).kernel, KernelKind::Direct);
}

// Real layers (suite T3, T5, T7, L1, S9-like): the tiling fits and wastes little.
TEST(WgmmaPlan, RealLayersTileWell) {
  struct Case { const char* name; convt1d_problem p; };
  const Case cases[] = {
      {"T3", layer(16, 1536, 768, 256, 8, 4, 2)},  {"T5", layer(16, 768, 384, 264, 16, 8, 4)},
      {"T7", layer(16, 2048, 1024, 32, 16, 8, 4)}, {"L1", layer(1, 2048, 1024, 1024, 16, 8, 4)},
      {"B1", layer(1, 512, 256, 96, 16, 8, 4)},
  };
  const DeviceInfo dev = hopper(true);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const convt1d::detail::Shape s = convt1d::detail::shape_of(c.p);
    WgmmaTiling t;
    std::string why;
    ASSERT_TRUE(convt1d::detail::plan_wgmma(s, c.p.dtype, dev, t, why)) << why;
    EXPECT_EQ(t.co_per_half, 64 / s.kernel_size);  // K 8 and 16 fill the 64 rows exactly
    EXPECT_EQ(t.co_per_half * s.kernel_size % 8, 0) << "a warpgroup's weight box must start 16-byte aligned";
    EXPECT_EQ(t.n() % 32, 0);
    EXPECT_LE(t.n(), convt1d::detail::kWgmmaMaxN);
    EXPECT_EQ(t.window % t.n_atom, 0);
    EXPECT_TRUE(t.n_atom == 32 || t.n_atom == 64);
    EXPECT_LE(t.segments, s.batch) << "a tile's segments are windows of different batch rows";
    // (joined rows: one row of B * joined_pitch positions)
    EXPECT_EQ(t.row_tiles, t.joined_pitch > 0 ? t.windows : (s.batch + t.segments - 1) / t.segments * t.windows);
    EXPECT_GE(t.stages, 2);
    EXPECT_LE(t.smem_bytes, dev.smem_per_block_optin);
    if (t.blocks_per_sm == 2) {
      EXPECT_LE(t.n(), convt1d::detail::kWgmmaMaxSharedN);
      EXPECT_LE(2 * (t.smem_bytes + 1024), dev.smem_per_sm) << "two blocks must fit on an SM";
    }
    if (!t.persistent)
      EXPECT_LE(t.consumers * 64 * t.z_pitch * 4, t.stages * (t.consumers * 64 * 64 * 2 + 64 * t.n() * 2))
          << "Z must fit the stages";
    EXPECT_EQ(t.z_pitch % 32, 8);
    EXPECT_EQ(t.halo % 8, 0) << "window starts must be 16-byte aligned for TMA";
    EXPECT_EQ(t.k_chunks, (s.in_channels + 63) / 64);
    // Columns computed per useful input position: at most 1.5 (halo, partial windows, batch rounding).
    const double computed = double(t.row_tiles) * t.n();
    EXPECT_LE(computed, 1.5 * double(s.batch * s.in_length)) << t.window << " x " << t.segments;
    EXPECT_EQ(t.tiles, t.co_tiles * t.row_tiles);
    if (t.joined_pitch > 0)
      EXPECT_EQ(t.x_pitch, s.batch * t.joined_pitch);
    else
      EXPECT_EQ(t.x_pitch, s.in_length) << "these rows are 16-byte multiples: no padded copy";
  }
  // Rows of other lengths (HiFi-GAN's 87 frames) are read through a padded copy.
  WgmmaTiling s1;
  std::string s1_why;
  ASSERT_TRUE(convt1d::detail::plan_wgmma(convt1d::detail::shape_of(layer(1, 512, 256, 87, 16, 8, 4)),
                                          CONVT1D_BFLOAT16, dev, s1, s1_why)) << s1_why;
  EXPECT_EQ(s1.x_pitch, 88);
  // A row that fits a window goes whole; T7's 32-position rows share tiles.
  const convt1d::detail::Shape t7 = convt1d::detail::shape_of(cases[2].p);
  WgmmaTiling t;
  std::string why;
  ASSERT_TRUE(convt1d::detail::plan_wgmma(t7, CONVT1D_BFLOAT16, dev, t, why));
  EXPECT_GT(t.segments, 1);
  // T5's rows of 264 positions are cut into windows, and a tile takes one window of several rows: tiles
  // of ~100-column windows, one row each, ran 12-25 % slower (perf-log step 139).
  const convt1d::detail::Shape t5 = convt1d::detail::shape_of(cases[1].p);
  for (const bool tf32 : {false, true}) {
    SCOPED_TRACE(tf32 ? "T5 tf32" : "T5 bf16");
    ASSERT_TRUE(tf32 ? convt1d::detail::plan_wgmma_tf32(t5, dev, t, why, false)
                     : convt1d::detail::plan_wgmma(t5, CONVT1D_BFLOAT16, dev, t, why))
        << why;
    EXPECT_GT(t.windows, 1);
    EXPECT_GT(t.segments, 1);
    EXPECT_GE(t.n(), 192);
  }
}

// Wide tiles (WgmmaTiling::consumers 3) where they measured faster (perf-log step 142: T3, T5 and L1 in
// 16-bit, T3 in TF32, S9, S10 and S12, T5 and T6 in IEEE; T5 TF32's persistent ones, step 161), not where
// they lost (T7 bf16 and L1 TF32: persistent tiles narrower than the two-consumer ones, and in L1's case
// more MMA work per SM; L2 IEEE: 144 channels for 128) or where
// fewer tiles leave SMs idle (T1, small B = 1 layers); and what the kernel needs of them.
TEST(WgmmaPlan, WideTilesWhereTheyPay) {
  struct Case {
    const char* name;
    convt1d_problem p;
    bool half, tf32, ieee;  // wide in 16-bit, TF32, IEEE
  };
  const Case cases[] = {
      {"T3", layer(16, 1536, 768, 256, 8, 4, 2), true, true, false},
      {"T5", layer(16, 768, 384, 264, 16, 8, 4), true, true, true},
      {"T7", layer(16, 2048, 1024, 32, 16, 8, 4), false, false, false},
      {"L1", layer(1, 2048, 1024, 1024, 16, 8, 4), true, false, false},
      {"S9", layer(1, 768, 384, 696, 16, 8, 4), true, true, true},
      {"S12", layer(1, 768, 384, 600, 10, 5, 3), true, false, false},
      {"L2", layer(1, 256, 128, 262144, 8, 4, 2), false, false, false},
      {"T6", layer(16, 192, 96, 8448, 4, 2, 1), true, false, true},  // (16-bit: AUTO's since step 177)
      {"T1", layer(16, 512, 256, 32, 16, 8, 4), false, false, false},
      {"S1", layer(1, 512, 256, 87, 16, 8, 4), false, false, false},
  };
  using convt1d::detail::kWgmmaWideConsumers;
  const DeviceInfo dev = hopper(true);
  for (const Case& c : cases)
    for (const char* mode : {"bf16", "tf32", "ieee"}) {
      SCOPED_TRACE(std::string(c.name) + " " + mode);
      convt1d_problem p = c.p;
      const bool half = mode[0] == 'b', ieee = mode[0] == 'i';
      p.dtype = half ? CONVT1D_BFLOAT16 : CONVT1D_FLOAT32;
      p.math = ieee ? CONVT1D_MATH_IEEE : CONVT1D_MATH_TF32;
      const Plan plan = convt1d::detail::make_plan(p, dev);
      const bool wide = half ? c.half : ieee ? c.ieee : c.tf32;
      ASSERT_EQ(plan.kernel, KernelKind::Wgmma);
      const WgmmaTiling& t = plan.wgmma;
      if (t.tf32 && !t.tf32_columns) {  // x^T as A (T6 TF32): tiles of 128 positions, never wide
        EXPECT_FALSE(wide);
        EXPECT_EQ(t.consumers, 2);
        continue;
      }
      const convt1d::detail::Shape& s = plan.shape;
      EXPECT_EQ(t.consumers, wide ? kWgmmaWideConsumers : 2);
      EXPECT_EQ(t.block_threads(), 128 * (1 + t.consumers));
      EXPECT_EQ(t.tile_channels(), t.consumers * t.co_per_half);
      if (!wide) continue;
      EXPECT_TRUE(half || t.tf32_columns);
      EXPECT_FALSE(t.raw_weights || t.segment_sums);
      EXPECT_GE(t.n(), convt1d::detail::kWgmmaWideMinN);
      EXPECT_EQ(t.n() % convt1d::detail::kWgmmaWideColumnStep, 0);
      EXPECT_EQ(t.blocks_per_sm, 1);
      EXPECT_LE(t.smem_bytes, dev.smem_per_block_optin);
      EXPECT_GE(t.co_tiles * t.tile_channels(), s.out_channels);
      EXPECT_LE(double(t.co_tiles * t.tile_channels()), convt1d::detail::kWgmmaWideMaxChannels * s.out_channels);
      EXPECT_EQ(t.tiles, t.co_tiles * t.row_tiles);
      if (t.persistent) EXPECT_TRUE(t.register_epilogue) << "wide persistent tiles keep no Z";
      EXPECT_EQ(t.consumer_threads(), kWgmmaWideConsumers * 128);
      EXPECT_EQ(t.shift_add_lanes * t.shift_add_groups, t.consumer_threads()) << "the consumers' shift-add";
    }
}

// Tilings over several waves (WgmmaTiling::persistent): one block per SM walks the tiles, with Z after
// the stages or none (register epilogue, tiles up to 256 wide). 16-bit: tiles at least 0.75x as wide as
// the one-tile plan's on about as many column slots, whatever the reduction's length (perf-log steps
// 72, 122, 123, 126: L2, S10 persistent; L6's one-tile waves pack better); TF32: tiles without Z, at
// least as wide as the one-tile plan's (IEEE: 1.25x as wide; step 139).
TEST(WgmmaPlan, PersistentWhereTilesPackAsWell) {
  struct Case {
    const char* name;
    convt1d_problem p;
    bool half, tf32;  // persistent in 16-bit, in TF32
  };
  const Case cases[] = {
      {"L1", layer(1, 2048, 1024, 1024, 16, 8, 4), true, true},
      {"L1 at stride 4", layer(1, 2048, 1024, 1024, 8, 4, 2), false, false},  // (wide tiles, two waves)
      {"T3", layer(16, 1536, 768, 256, 8, 4, 2), false, false},
      {"T5", layer(16, 768, 384, 264, 16, 8, 4), true, true},  // windows of 2 (16-bit), 8 rows (step 139)
      {"T7", layer(16, 2048, 1024, 32, 16, 8, 4), true, false},
      {"S8", layer(1, 1536, 768, 87, 16, 8, 4), false, false},
      {"S9", layer(1, 768, 384, 696, 16, 8, 4), false, false},  // (one wave of wide tiles)
      {"S12", layer(1, 768, 384, 600, 10, 5, 3), false, false},  // (wide in 16-bit)
      {"L2", layer(1, 256, 128, 262144, 8, 4, 2), true, true},  // (TF32: W^T rows regrouped, tap_pairs)
      {"S10", layer(1, 384, 192, 5568, 8, 4, 2), false, false},  // (wide in 16-bit)
      {"L6", layer(1, 96, 48, 21498, 8, 4, 2), false, false},
      {"T6", layer(16, 192, 96, 8448, 4, 2, 1), false, false},  // (wide in 16-bit; AUTO streams it)
  };
  const DeviceInfo dev = hopper(true);
  for (const Case& c : cases)
    for (int32_t dtype : {CONVT1D_BFLOAT16, CONVT1D_FLOAT16, CONVT1D_FLOAT32}) {
      SCOPED_TRACE(std::string(c.name) + " dtype " + std::to_string(dtype));
      const convt1d::detail::Shape s = convt1d::detail::shape_of(c.p);
      const bool tf32 = dtype == CONVT1D_FLOAT32;
      WgmmaTiling t;
      std::string why;
      ASSERT_TRUE(tf32 ? convt1d::detail::plan_wgmma_tf32(s, dev, t, why)
                       : convt1d::detail::plan_wgmma(s, dtype, dev, t, why))
          << why;
      EXPECT_EQ(t.persistent, tf32 ? c.tf32 : c.half);
      if (!t.persistent) {
        EXPECT_EQ(t.grid, t.tiles);
        continue;
      }
      EXPECT_GT(t.tiles, dev.sm_count);
      EXPECT_EQ(t.grid, dev.sm_count);
      EXPECT_EQ(t.blocks_per_sm, 1);
      EXPECT_EQ(t.register_epilogue, c.p.stride == 8 || t.tap_pairs);
      if (tf32) {
        EXPECT_TRUE(t.tf32_columns && t.register_epilogue && !t.raw_weights && !t.segment_sums);
        EXPECT_EQ(t.n() % convt1d::detail::kWgmmaTf32PersistentColumnStep, 0);
        EXPECT_GE(t.n(), convt1d::detail::kWgmmaTf32PersistentMinN);
      } else {  // (wide tiles over joined rows: any compiled width)
        EXPECT_EQ(t.n() % (t.joined_pitch > 0 ? convt1d::detail::kWgmmaWideColumnStep
                                              : convt1d::detail::kWgmmaPersistentColumnStep),
                  0);
      }
      EXPECT_LE(t.n(), t.register_epilogue ? convt1d::detail::kWgmmaPersistentRegisterMaxN
                                           : convt1d::detail::kWgmmaPersistentMaxN);
      EXPECT_GE(t.stages, 2);
      // Stages (two warpgroups' 64 weight rows and N columns of 128 bytes each) and Z, side by side.
      const int64_t stage = 2 * 64 * 128 + int64_t{t.n()} * 128;
      const int64_t z = t.register_epilogue ? 0 : 2 * 64 * int64_t{t.z_pitch} * 4;
      EXPECT_GE(t.smem_bytes, t.stages * stage + z);
      EXPECT_LE(t.smem_bytes, dev.smem_per_block_optin);
      // Without Z the stages take its room: more than would fit beside it.
      if (t.register_epilogue)
        EXPECT_GT((t.stages + 1) * stage + 2 * 64 * int64_t{t.z_pitch} * 4, dev.smem_per_block_optin);
    }
}

// Z[m = co*K + k][position l] of batch row b in fp64: sum over ci of W[ci][m] x[b][ci][l] (zero outside
// the row).
double z_of(const convt1d::detail::Shape& s, const t1d::Inputs& in, int64_t b, int64_t m, int64_t l) {
  double acc = 0.0;
  if (l >= 0 && l < s.in_length)
    for (int64_t ci = 0; ci < s.in_channels; ++ci)
      acc += in.w[static_cast<size_t>(ci * s.out_channels * s.kernel_size + m)] *
             in.x[static_cast<size_t>((b * s.in_channels + ci) * s.in_length + l)];
  return acc;
}

// An emulation's outputs must each have been written by exactly one window (or lane).
void expect_each_written_once(const std::vector<int>& writes) {
  for (size_t i = 0; i < writes.size(); ++i)
    if (writes[i] != 1) {
      ADD_FAILURE() << "output " << i << " written " << writes[i] << " times";
      break;
    }
}

// The kernel's arithmetic in fp64: per (row block, window), Z over the window's positions (zero outside
// the row), then every owned output summed from its taps' rows of Z. Each output must be owned by
// exactly one window, and the result must match the scatter reference.
std::vector<double> emulate(const convt1d_problem& p, const Plan& plan, const t1d::Inputs& in) {
  const convt1d::detail::Shape& s = plan.shape;
  const WgmmaTiling& t = plan.wgmma;
  const int64_t K = s.kernel_size, C_out = s.out_channels;
  std::vector<double> y(static_cast<size_t>(s.y_elements()), 0.0);
  std::vector<int> owners(y.size(), 0);
  std::vector<double> z(static_cast<size_t>(C_out * K * t.window));
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t j = 0; j < t.windows; ++j) {
      const int64_t start = j * (t.window - t.halo);
      for (int64_t m = 0; m < C_out * K; ++m)
        for (int64_t c = 0; c < t.window; ++c) z[static_cast<size_t>(m * t.window + c)] = z_of(s, in, b, m, start + c);
      int64_t first = 0, last = 0;
      convt1d::detail::wgmma_owned_outputs(s, t, j, first, last);
      for (int64_t co = 0; co < C_out; ++co)
        for (int64_t o = first; o < last; ++o) {
          const int64_t u = o + s.padding, r = u % s.stride, q = u / s.stride;
          const auto& ph = plan.poly.taps[static_cast<size_t>(r)];
          double sum = p.has_bias ? in.bias[static_cast<size_t>(co)] : 0.0;
          for (int n = 0; n < ph.count; ++n) {
            const int64_t k = ph.first_tap + n * plan.poly.tap_step;
            const int64_t col = q - (ph.first_shift + n * plan.poly.shift_step) - start;
            if (col >= 0 && col < t.window) sum += z[static_cast<size_t>((co * K + k) * t.window + col)];
          }
          const size_t idx = static_cast<size_t>((b * C_out + co) * s.out_length + o);
          y[idx] = sum;
          ++owners[idx];
        }
    }
  expect_each_written_once(owners);
  return y;
}

// The shift-add's thread groups (shift_add_groups), mapped as the kernel maps them (shift_add in
// wgmma_common.cuh): every (row, output) of a window taken by exactly one thread, each thread's outputs
// in one phase; short rows spread over many groups, a few long rows over few.
TEST(WgmmaPlan, ShiftAddThreadsTakeEveryOutputOnce) {
  using convt1d::detail::shift_add_groups;
  for (int64_t rows : {1, 5, 8, 32, 192})
    for (int64_t outputs : {1, 7, 176, 1024, 4100})
      for (int64_t stride : {1, 2, 3, 5, 8, 12, 32})
        for (int32_t threads : {convt1d::detail::kWgmmaConsumerThreads, convt1d::detail::kWgmmaBlockThreads}) {
          SCOPED_TRACE(std::to_string(rows) + " rows x " + std::to_string(outputs) + " outputs, stride " +
                       std::to_string(stride) + ", " + std::to_string(threads) + " threads");
          const int32_t groups = shift_add_groups(rows, outputs, stride, threads);
          ASSERT_GE(groups, 1);
          const int64_t lanes = threads / groups, active = lanes - lanes % stride;
          ASSERT_EQ(threads % groups, 0);
          ASSERT_EQ(lanes % 32, 0) << "a group is whole warps";
          ASSERT_GT(active, 0);
          std::vector<int> taken(static_cast<size_t>(rows * outputs), 0);
          for (int64_t tid = 0; tid < threads; ++tid) {
            const int64_t lane = tid % lanes, group = tid / lanes;
            if (lane >= active || group >= groups) continue;
            for (int64_t row = group; row < rows; row += groups)
              for (int64_t t = lane; t < outputs; t += active) {
                ASSERT_EQ((t - lane) % stride, 0) << "a thread's outputs share a phase";
                ++taken[static_cast<size_t>(row * outputs + t)];
              }
          }
          for (size_t i = 0; i < taken.size(); ++i) ASSERT_EQ(taken[i], 1) << "output " << i;
        }
  EXPECT_EQ(shift_add_groups(32, 176, 2, convt1d::detail::kWgmmaBlockThreads), 12);  // S3: 32 channels, 96-wide windows
  EXPECT_LE(shift_add_groups(2, 4096, 4, convt1d::detail::kWgmmaBlockThreads), 2);
  // The planner sets it on both tap-major tilings.
  const DeviceInfo dev = hopper(true);
  const convt1d_problem s3 = layer(1, 128, 64, 5568, 4, 2, 1);
  const Plan bf16 = convt1d::detail::make_plan(s3, dev);
  ASSERT_EQ(bf16.kernel, KernelKind::Wgmma);
  EXPECT_GT(bf16.wgmma.shift_add_groups, 3);
  convt1d_problem s13 = layer(1, 256, 128, 600, 10, 5, 0);
  s13.dtype = CONVT1D_FLOAT32;
  const Plan tf32 = convt1d::detail::make_plan(s13, dev);
  ASSERT_EQ(tf32.kernel, KernelKind::Wgmma);
  EXPECT_GT(tf32.wgmma.shift_add_groups, 3);
  // The groups' lanes, which the kernels take from the plan: all of a block's threads, or the
  // persistent kernel's consumers (L2 in bf16), or a wide tile's three consumers (S10 in bf16).
  using convt1d::detail::kWgmmaBlockThreads;
  using convt1d::detail::kWgmmaConsumerThreads;
  EXPECT_EQ(bf16.wgmma.shift_add_lanes * bf16.wgmma.shift_add_groups, kWgmmaBlockThreads);
  EXPECT_EQ(tf32.wgmma.shift_add_lanes * tf32.wgmma.shift_add_groups, kWgmmaBlockThreads);
  const Plan l2 = convt1d::detail::make_plan(layer(1, 256, 128, 262144, 8, 4, 2), dev);
  ASSERT_EQ(l2.kernel, KernelKind::Wgmma);
  ASSERT_TRUE(l2.wgmma.persistent);
  ASSERT_EQ(l2.wgmma.consumers, 2);
  EXPECT_EQ(l2.wgmma.shift_add_lanes * l2.wgmma.shift_add_groups, kWgmmaConsumerThreads);
  const Plan s10 = convt1d::detail::make_plan(layer(1, 384, 192, 5568, 8, 4, 2), dev);
  ASSERT_EQ(s10.kernel, KernelKind::Wgmma);
  ASSERT_EQ(s10.wgmma.consumers, convt1d::detail::kWgmmaWideConsumers);
  ASSERT_FALSE(s10.wgmma.persistent);
  EXPECT_EQ(s10.wgmma.shift_add_lanes * s10.wgmma.shift_add_groups,
            convt1d::detail::kWgmmaWideConsumers * convt1d::detail::kWgmmaRows * 2);
}

// The tf32 variant on the same real layers: with x transposed, the 16-bit kernel's tiles (x^T as B);
// else 128-position tiles with W^T rows in whole wgmma widths.
TEST(WgmmaPlan, Tf32RealLayersTileWell) {
  const DeviceInfo dev = hopper(true);
  for (const convt1d_problem& base : {layer(16, 1536, 768, 256, 8, 4, 2), layer(16, 768, 384, 264, 16, 8, 4),
                                      layer(16, 2048, 1024, 32, 16, 8, 4), layer(1, 2048, 1024, 1024, 16, 8, 4),
                                      layer(1, 512, 256, 87, 16, 8, 4), layer(4, 512, 1, 4001, 16, 8, 8),
                                      layer(1, 48, 8, 85995, 8, 4, 0), layer(1, 256, 100, 600, 10, 5, 0)}) {
    convt1d_problem p = base;
    p.dtype = CONVT1D_FLOAT32;
    SCOPED_TRACE(t1d::describe(p));
    const convt1d::detail::Shape s = convt1d::detail::shape_of(p);
    WgmmaTiling t;
    std::string why;
    ASSERT_TRUE(convt1d::detail::plan_wgmma_tf32(s, dev, t, why)) << why;
    EXPECT_TRUE(t.tf32);
    EXPECT_EQ(t.ci_pitch % convt1d::detail::kWgmmaTf32Chunk, 0);
    EXPECT_GE(t.ci_pitch, s.in_channels);
    EXPECT_LE(t.smem_bytes, dev.smem_per_block_optin);
    EXPECT_EQ(t.tiles, t.co_tiles * t.row_tiles);
    EXPECT_EQ(t.row_tiles, (s.batch + t.segments - 1) / t.segments * t.windows);
    // x is read transposed (no padded copy) where rows are not 16-byte multiples or C_out*K is large,
    // else in place from rows padded to 16 bytes
    const bool odd_rows = s.in_length % 4 != 0, wide = s.out_channels * s.kernel_size >= 512;
    EXPECT_EQ(t.x_transposed, odd_rows || wide);
    if (t.x_transposed) EXPECT_EQ(t.x_pitch, s.in_length);
    if (t.tf32_columns) {  // x^T as B: the 16-bit kernel's tiles, windows in steps of 16, exact halo
      EXPECT_TRUE(t.x_transposed);
      if (t.raw_weights) {  // W read as stored: warpgroup rows start 16-byte aligned, one block per SM
        EXPECT_EQ(t.co_per_half * s.kernel_size % 4, 0);
        EXPECT_GT((t.co_per_half + 1) * s.kernel_size, 64) << "or the widest such rows";
        EXPECT_LE(t.row_tiles, convt1d::detail::kRawWeightsMaxRowTiles);
        EXPECT_LE(t.n(), convt1d::detail::kRawWeightsMaxN);
        EXPECT_EQ(t.blocks_per_sm, 1);
      } else {
        EXPECT_EQ(t.co_per_half, convt1d::detail::kWgmmaRows / s.kernel_size);
      }
      EXPECT_GE(t.co_tiles * t.tile_channels(), s.out_channels);
      EXPECT_EQ(t.window % convt1d::detail::kWgmmaTf32ColumnStep, 0);
      EXPECT_LE(t.n(), convt1d::detail::kWgmmaMaxN);
      EXPECT_EQ(t.halo, ((s.kernel_size - 1) * s.dilation + s.stride - 1) / s.stride);
      EXPECT_EQ(t.z_pitch % 32, 8);
      EXPECT_LE(2 * 64 * t.z_pitch * 4, t.stages * (2 * 64 * 128 + t.n() * 128)) << "Z must fit the stages";
    } else {
      EXPECT_EQ(t.window * t.segments, convt1d::detail::kWgmmaTf32Positions);
      EXPECT_EQ(t.rows % convt1d::detail::kWgmmaTf32RowStep, 0);
      EXPECT_LE(t.rows, convt1d::detail::kWgmmaTf32MaxRows);
      EXPECT_GE(t.rows, t.co_per_half * s.kernel_size);
      EXPECT_LT(t.rows - t.co_per_half * s.kernel_size, convt1d::detail::kWgmmaTf32RowStep) << "rows wider than needed";
      EXPECT_GE(t.co_tiles * t.co_per_half, s.out_channels);
      EXPECT_LT((t.co_tiles - 1) * t.co_per_half, s.out_channels) << "a channel tile with no channels";
      EXPECT_EQ(t.halo % 4, 0) << "window starts must be 16-byte aligned for TMA";
      EXPECT_EQ(t.z_pitch % 32, 4);
      EXPECT_LE(t.rows * t.z_pitch * 4, t.stages * (32 * 128 * 4 + t.rows * 32 * 4)) << "Z must fit the stages";
    }
    // IEEE (3xTF32): x always transposed, big and small parts side by side, three passes per chunk;
    // where TF32 transposes x too, the same tiles
    WgmmaTiling e;
    ASSERT_TRUE(convt1d::detail::plan_wgmma_tf32(s, dev, e, why, true)) << why;
    EXPECT_TRUE(e.tf32 && e.ieee && e.x_transposed);
    EXPECT_EQ(e.ci_pitch, 2 * t.ci_pitch);
    const int32_t chunks = t.ci_pitch / convt1d::detail::kWgmmaTf32Chunk;
    // three passes per chunk, but for raw weights, whose stages hold x^T's big and small parts
    EXPECT_EQ(e.k_chunks, e.raw_weights ? chunks : convt1d::detail::kIeeePasses * chunks);
    EXPECT_EQ(e.x_pitch, s.in_length);
    if (e.raw_weights) {
      EXPECT_LE(e.n(), convt1d::detail::kRawWeightsIeeeMaxN);
      EXPECT_LE(e.row_tiles, s.in_channels > convt1d::detail::kRawWeightsDeepIeeeChannels
                                 ? convt1d::detail::kRawWeightsDeepIeeeMaxRowTiles
                                 : convt1d::detail::kRawWeightsIeeeMaxRowTiles);
    }
    // beyond kIeeeOneChainChannels, and with raw weights, sums in segments of kIeeeSegmentChannels:
    // narrower x^T tiles, one block per SM; else one pass-ordered segment
    EXPECT_EQ(e.segment_sums, e.raw_weights || s.in_channels > convt1d::detail::kIeeeOneChainChannels);
    EXPECT_EQ(e.segment_chunks,
              e.segment_sums ? convt1d::detail::kIeeeSegmentChannels / convt1d::detail::kWgmmaTf32Chunk : chunks);
    if (e.segment_sums) {
      EXPECT_TRUE(e.tf32_columns);
      EXPECT_LE(e.n(), convt1d::detail::kWgmmaSegmentSumsMaxN);
      EXPECT_EQ(e.blocks_per_sm, 1);
    } else if (t.x_transposed && !t.raw_weights && e.consumers == 2 && t.consumers == 2) {
      // (wide tiles' cost counts operand bytes, which weigh the three passes' chunks differently)
      EXPECT_EQ(e.tf32_columns, t.tf32_columns);
      EXPECT_EQ(e.tiles, t.tiles);
      EXPECT_EQ(e.smem_bytes, t.smem_bytes);
    }
    EXPECT_FALSE(t.ieee);
    convt1d::detail::Shape huge = s;  // an x^T beyond the workspace bound
    huge.batch = convt1d::detail::kWgmmaTf32MaxTransposeBytes / (4 * s.in_length * t.ci_pitch) + 1;
    ASSERT_TRUE(convt1d::detail::plan_wgmma_tf32(huge, dev, t, why)) << why;
    EXPECT_FALSE(t.x_transposed);
    EXPECT_FALSE(t.tf32_columns);
    EXPECT_EQ(t.x_pitch % 4, 0);
    EXPECT_GE(t.x_pitch, s.in_length);
    EXPECT_FALSE(convt1d::detail::plan_wgmma_tf32(huge, dev, e, why, true)) << "IEEE reads x's small parts from x^T";
    EXPECT_TRUE(t1d::contains(why, "IEEE")) << why;
  }
}

// What register_shift_add (src/cuda/register_shift_add.cuh) writes, lane by lane: every tile's consumer
// warpgroups' accumulators (two, or three in wide tiles) as wgmma lays them out (lane l of warp w: rows 16w + l/4 and + 8,
// columns 8j + 2(l%4) and + 1), the kernel's shuffle as a lane-array lookup, and its stores, each
// output counted once.
std::vector<double> emulate_register_epilogue(const convt1d_problem& p, const Plan& plan, const t1d::Inputs& in) {
  const convt1d::detail::Shape& s = plan.shape;
  const WgmmaTiling& t = plan.wgmma;
  const int64_t K = s.kernel_size, C_out = s.out_channels, st = s.stride, n = t.n();
  std::vector<double> y(static_cast<size_t>(s.y_elements()), 0.0);
  std::vector<int> owners(y.size(), 0);
  std::vector<double> z(static_cast<size_t>(64 * n));
  // (strides below 8: W^T's rows regrouped so that a lane holds both taps of its phase, tap_pairs.hpp)
  const bool regrouped = t.tap_pairs;
  const int shift = convt1d::detail::tap_pair_shift_of(st);
  EXPECT_EQ(int64_t{1} << shift, st);
  for (int64_t tile = 0; tile < t.tiles; ++tile) {
    const int64_t co_tile = t.rows_fastest ? tile / t.row_tiles : tile % t.co_tiles;
    const int64_t row_tile = t.rows_fastest ? tile % t.row_tiles : tile / t.co_tiles;
    const int64_t b0 = row_tile / t.windows * t.segments, j = row_tile % t.windows;
    const int64_t start = j * (t.window - t.halo), co0 = co_tile * t.tile_channels();
    // Joined rows: the joined q that window j owns, and where a joined column lies (batch row, position).
    const int64_t pitch = t.joined_pitch, own_first = j > 0 ? start + t.halo : 0;
    const int64_t own_last = j < t.windows - 1 ? start + t.window : start + t.window + 1;
    const auto place = [&](int64_t b, int64_t column) {
      return pitch > 0 ? std::pair<int64_t, int64_t>{column / pitch, column % pitch}
                       : std::pair<int64_t, int64_t>{b, column};
    };
    for (int64_t h = 0; h < t.consumers; ++h) {
      for (int64_t m = 0; m < 64; ++m) {  // this warpgroup's 64 rows of Z, where the W^T packing put them
        const int64_t row = regrouped ? convt1d::detail::tap_pair_row(m, shift) : m;
        for (int64_t col = 0; col < n; ++col) {
          const int64_t co = co0 + h * t.co_per_half + m / K;
          const auto [b, l] = place(b0 + col / t.window, start + col % t.window);
          z[static_cast<size_t>(row * n + col)] =
              co < C_out && b < s.batch ? z_of(s, in, b, co * K + m % K, l) : 0.0;
        }
      }
      for (int64_t w = 0; w < 4; ++w) {
        // (the lanes of warp w: channel and phase of lane row l / 4, tap_pair_lane)
        const auto lane_co = [&](int l) {
          return co0 + h * t.co_per_half + convt1d::detail::tap_pair_lane(static_cast<int32_t>(w), l / 4, shift).channel;
        };
        const auto phase = [&](int l) { return convt1d::detail::tap_pair_lane(static_cast<int32_t>(w), l / 4, shift).phase; };
        // (rows apart: the columns that owned_columns gives phase r)
        const auto owned = [&](int64_t r) {
          return convt1d::detail::owned_columns(static_cast<int32_t>(r), static_cast<int32_t>(st),
                                                static_cast<int32_t>(j), t.windows, static_cast<int32_t>(start),
                                                t.halo, t.window, static_cast<int32_t>(s.padding), s.out_length);
        };
        const auto store = [&](int64_t co, int64_t b, int64_t o, double v) {
          const size_t idx = static_cast<size_t>((b * C_out + co) * s.out_length + o);
          y[idx] = v + (p.has_bias ? in.bias[static_cast<size_t>(co)] : 0.0);
          ++owners[idx];
        };
        // 16-bit persistent tiles of rows apart (register_shift_add_apart, RIGHT_FROM_CARRY): the output
        // right of a window's last column comes from a quad-0 lane's carry at the segment's end, not
        // from the quad-3 lane that held it.
        const bool right_from_carry = pitch == 0 && !t.tf32 && t.persistent;
        double carry[32] = {}, a[32][4];
        const auto right_of_window = [&](int64_t column) {  // `column`: the end of segment column / window - 1
          const int64_t b = b0 + column / t.window - 1;
          for (int l = 0; l < 32; l += 4) {
            const int64_t r = phase(l), co = lane_co(l);
            if (co >= C_out || b >= s.batch) continue;
            const convt1d::detail::OwnedColumns own = owned(r);
            if (t.window >= own.lo && t.window < own.hi) store(co, b, (start + t.window) * st + r - s.padding, carry[l]);
          }
        };
        for (int64_t c8 = 0; c8 < n / 8; ++c8) {
          if (right_from_carry && c8 > 0 && 8 * c8 % t.window == 0) right_of_window(8 * c8);
          for (int l = 0; l < 32; ++l)
            for (int i = 0; i < 4; ++i)
              a[l][i] = z[static_cast<size_t>((16 * w + l / 4 + (i >= 2 ? 8 : 0)) * n + 8 * c8 + 2 * (l % 4) + i % 2)];
          for (int l = 0; l < 32; ++l) {
            const double from_left = a[l % 4 == 0 ? l + 3 : l - 1][3];
            const double left_raw = l % 4 == 0 ? carry[l] : from_left;
            carry[l] = from_left;
            const int64_t column = 8 * c8 + 2 * (l % 4), sg = column / t.window, col = column % t.window;
            const double left = col == 0 ? 0.0 : left_raw;
            const int64_t r = phase(l), co = lane_co(l);
            const auto [b, q] = place(b0 + sg, start + col);
            if (co >= C_out || b >= s.batch) continue;
            const double v[3] = {a[l][0] + left, a[l][1] + a[l][2], a[l][3]};
            const convt1d::detail::OwnedColumns own = owned(r);
            for (int e = 0; e < 3; ++e) {
              if (e == 2 && (right_from_carry || col + 2 != t.window)) break;
              const int64_t o = q * st + r - s.padding + e * st;
              if (pitch > 0 ? start + col + e < own_first || start + col + e >= own_last || o < 0 || o >= s.out_length
                            : col + e < own.lo || col + e >= own.hi)
                continue;
              store(co, b, o, v[e]);
            }
          }
        }
        if (right_from_carry && n % t.window == 0) right_of_window(n);
      }
    }
  }
  expect_each_written_once(owners);
  return y;
}

// owned_columns (the register epilogue's columns of phase r) is wgmma_owned_outputs in columns: column
// c in [0, window] (c = window: the output right of the last column) of window j owns t = (start + c) *
// stride + r - padding exactly where t lies in the window's owned outputs.
TEST(WgmmaPlan, OwnedColumnsAreTheOwnedOutputs) {
  t1d::Rng rng(4545);
  int empty = 0, clipped_left = 0, clipped_right = 0;
  for (int i = 0; i < 3000; ++i) {
    convt1d::detail::Shape s{};
    s.stride = t1d::rand_int(rng, 1, 16);
    s.padding = t1d::rand_int(rng, 0, 3 * s.stride);
    s.out_length = t1d::rand_int(rng, 1, i % 2 ? 60 : 900);
    WgmmaTiling t;
    t.window = 8 * t1d::rand_int(rng, 1, 8);
    t.halo = 8 * t1d::rand_int(rng, 0, t.window / 8 - 1);
    const int64_t q_end = (s.out_length - 1 + s.padding) / s.stride + 1;  // input positions the outputs reach
    t.windows = static_cast<int32_t>(convt1d::detail::wgmma_windows(q_end, t.window, t.halo));
    for (int32_t j = 0; j < t.windows; ++j) {
      const int32_t start = j * (t.window - t.halo);
      int64_t first = 0, last = 0;
      convt1d::detail::wgmma_owned_outputs(s, t, j, first, last);
      for (int32_t r = 0; r < s.stride; ++r) {
        const convt1d::detail::OwnedColumns own = convt1d::detail::owned_columns(
            r, static_cast<int32_t>(s.stride), j, t.windows, start, t.halo, t.window,
            static_cast<int32_t>(s.padding), s.out_length);
        empty += own.lo >= own.hi;
        clipped_left += own.lo > (j > 0 ? t.halo : 0);
        clipped_right += own.hi < (j < t.windows - 1 ? t.window : t.window + 1);
        for (int32_t c = 0; c <= t.window; ++c) {
          const int64_t o = int64_t{start + c} * s.stride + r - s.padding;
          ASSERT_EQ(own.lo <= c && c < own.hi, o >= first && o < last)
              << "stride " << s.stride << " padding " << s.padding << " L_out " << s.out_length << " window "
              << t.window << " halo " << t.halo << " j " << j << " r " << r << " c " << c;
        }
      }
    }
  }
  EXPECT_GT(empty, 100);
  EXPECT_GT(clipped_left, 100);
  EXPECT_GT(clipped_right, 100);
}

// Stride-8 upsamplers of kernel_size 16 (any padding and output_padding, short and long rows,
// fp16/bf16 and TF32 tiles) take the register epilogue, and what it writes is the reference.
TEST(WgmmaPlan, RegisterEpilogueMatchesTheReference) {
  t1d::Rng rng(2626);
  const DeviceInfo dev = hopper(true);
  int emulated = 0, multi_window = 0, multi_segment = 0, tf32 = 0, raw_weights = 0, past_last_column = 0;
  int wide = 0, wide_persistent = 0;
  // Training batches of short rows, more tiles than SMs: several rows per tile (segments); the last
  // three in wide tiles (three consumers: two rows' windows, persistent, four rows' windows).
  const convt1d_problem batches[] = {layer(160, 3, 16, 24, 16, 8, 4), layer(200, 2, 8, 30, 16, 8, 2),
                                     layer(140, 4, 32, 13, 16, 8, 0),  layer(32, 3, 96, 100, 16, 8, 4),
                                     layer(32, 2, 96, 200, 16, 8, 4),  layer(32, 3, 36, 264, 16, 8, 4)};
  constexpr int kBatches = sizeof(batches) / sizeof(batches[0]);
  for (int i = 0; i < 800 && emulated < 110; ++i) {
    // Short rows share tiles; rows of whole 32-position atoms often end on a window's last column.
    const int64_t length = i % 4 == 1 ? 32 * t1d::rand_int(rng, 1, 20) : t1d::rand_int(rng, 1, i % 2 ? 700 : 64);
    convt1d_problem p = layer(t1d::rand_int(rng, 1, 6), t1d::rand_int(rng, 1, 5), 8 * t1d::rand_int(rng, 1, 5),
                              length, 16, 8, t1d::rand_int(rng, 0, 8));
    p.output_padding = t1d::rand_int(rng, 0, 7);
    if (i < 2 * kBatches) p = batches[i % kBatches];
    p.has_bias = i % 2;
    p.algorithm = CONVT1D_ALGO_WGMMA;
    if (i % 3 == 0) p.dtype = CONVT1D_FLOAT32;
    if (convt1d_validate(&p) != CONVT1D_OK) continue;
    SCOPED_TRACE(t1d::describe(p));
    const Plan plan = convt1d::detail::make_plan(p, dev);
    ASSERT_EQ(plan.kernel, KernelKind::Wgmma);
    const WgmmaTiling& t = plan.wgmma;
    const int64_t q_last = (plan.shape.out_length - 1 + p.padding) / p.stride;
    const int64_t reach = int64_t{t.windows - 1} * (t.window - t.halo) + t.window;
    if (t.joined_pitch > 0)  // (windows over the joined row: register_epilogue_fits on joined_shape)
      EXPECT_TRUE(t.register_epilogue);
    else
      EXPECT_EQ(t.register_epilogue,
                (!t.tf32 || t.tf32_columns) && (p.stride == 8 || !t.raw_weights) && q_last <= reach);
    if (!t.register_epilogue) continue;
    const t1d::Inputs in = t1d::random_inputs(rng, p, CONVT1D_FLOAT64);
    const t1d::Comparison c = t1d::compare(emulate_register_epilogue(p, plan, in), t1d::reference_of(p, in));
    EXPECT_LE(c.rel_error, 1e-12) << c.str();
    ++emulated;
    multi_window += t.windows > 1;
    multi_segment += t.segments > 1;
    tf32 += t.tf32;
    raw_weights += t.raw_weights;
    past_last_column += t.joined_pitch == 0 && q_last == reach;
    wide += t.consumers == convt1d::detail::kWgmmaWideConsumers;
    wide_persistent += t.consumers == convt1d::detail::kWgmmaWideConsumers && t.persistent;
  }
  EXPECT_GE(emulated, 110);
  EXPECT_GE(wide, 4) << "too few problems took wide tiles";
  EXPECT_GE(wide_persistent, 1) << "no wide tiles ran persistent";
  EXPECT_GE(multi_window, 10) << "too few problems cut rows into windows";
  EXPECT_GE(multi_segment, 4) << "too few problems put several rows in one tile";
  EXPECT_GE(tf32, 10) << "too few problems took the TF32 tiles";
  EXPECT_GE(raw_weights, 5) << "too few TF32 problems read their weights as stored";
  EXPECT_GE(past_last_column, 5) << "too few problems had an output one column past the last window";
}

// W^T's rows regrouped for strides 4, 2 and 1 (WgmmaTiling::tap_pairs, tap_pairs.hpp): on any TF32 or
// IEEE tiling on packed W^T (forced here; AUTO takes it for long persistent tilings only, see
// TapPairsWhereTheyPay), what the register epilogue writes is the reference.
TEST(WgmmaPlan, RegroupedTapPairsMatchTheReference) {
  t1d::Rng rng(4848);
  const DeviceInfo dev = hopper(true);
  int emulated = 0, persistent = 0, wide = 0, multi_window = 0, ieee = 0;
  int by_stride[convt1d::detail::kRegisterEpilogueStride + 1] = {};
  // (persistent tiles of >= kTapPairsMinRounds rounds at strides 4, 2 and 1; wide one-tile blocks)
  const convt1d_problem fixed[] = {layer(16, 8, 64, 4096, 8, 4, 2), layer(16, 8, 128, 4096, 4, 2, 1),
                                   layer(32, 8, 256, 2048, 2, 1, 0), layer(2, 384, 192, 1400, 8, 4, 2)};
  for (int i = 0; i < 600 && emulated < 50; ++i) {
    const int64_t stride = int64_t{4} >> (i % 3);
    convt1d_problem p = layer(t1d::rand_int(rng, 1, 8), t1d::rand_int(rng, 1, 96), 8 * t1d::rand_int(rng, 1, 24),
                              t1d::rand_int(rng, 1, i % 2 ? 600 : 64), 2 * stride, stride,
                              t1d::rand_int(rng, 0, stride));
    p.output_padding = t1d::rand_int(rng, 0, stride - 1);
    if (i < 4) p = fixed[i];
    p.has_bias = i % 2;
    p.dtype = CONVT1D_FLOAT32;
    p.math = i % 4 == 3 ? CONVT1D_MATH_IEEE : CONVT1D_MATH_TF32;
    p.algorithm = CONVT1D_ALGO_WGMMA;
    if (convt1d_validate(&p) != CONVT1D_OK) continue;
    SCOPED_TRACE(t1d::describe(p));
    Plan plan = convt1d::detail::make_plan(p, dev);
    if (plan.kernel != KernelKind::Wgmma) continue;
    WgmmaTiling& t = plan.wgmma;
    if (t.raw_weights) EXPECT_FALSE(t.tap_pairs) << "raw weights are read as stored";
    if (!t.tf32_columns || t.raw_weights) continue;
    t.tap_pairs = true;
    t.register_epilogue = convt1d::detail::register_epilogue_fits(plan.shape, t);
    if (i < 4) ASSERT_TRUE(t.register_epilogue);
    if (!t.register_epilogue) continue;
    const t1d::Inputs in = t1d::random_inputs(rng, p, CONVT1D_FLOAT64);
    const t1d::Comparison c = t1d::compare(emulate_register_epilogue(p, plan, in), t1d::reference_of(p, in));
    EXPECT_LE(c.rel_error, 1e-12) << c.str();
    ++emulated;
    ++by_stride[p.stride];
    persistent += t.persistent;
    wide += t.consumers == convt1d::detail::kWgmmaWideConsumers;
    multi_window += t.windows > 1;
    ieee += t.ieee;
  }
  EXPECT_GE(emulated, 50);
  for (const int stride : {1, 2, 4}) EXPECT_GE(by_stride[stride], 10) << "stride " << stride;
  EXPECT_GE(persistent, 3) << "too few persistent tiles";
  EXPECT_GE(wide, 1) << "no wide tiles";
  EXPECT_GE(multi_window, 10) << "too few rows cut into windows";
  EXPECT_GE(ieee, 10) << "too few IEEE problems";
}

// AUTO regroups W^T's rows (WgmmaTiling::tap_pairs) for TF32 persistent tilings of at least
// kTapPairsMinRounds rounds (L2: 63), not for shorter ones (T3: 4, S10 and L6: 2), one-tile blocks,
// IEEE, 16-bit, or stride 8 (whose rows need no regrouping).
TEST(WgmmaPlan, TapPairsWhereTheyPay) {
  const DeviceInfo dev = hopper(true);
  struct Case {
    const char* name;
    convt1d_problem p;
    bool tap_pairs;  // in TF32
  };
  const Case cases[] = {
      {"L2", layer(1, 256, 128, 262144, 8, 4, 2), true},  {"stride 2", layer(1, 256, 128, 262144, 4, 2, 1), true},
      {"T3", layer(16, 1536, 768, 256, 8, 4, 2), false},  {"S10", layer(1, 384, 192, 5568, 8, 4, 2), false},
      {"L6", layer(1, 96, 48, 21498, 8, 4, 0), false},    {"S23", layer(1, 128, 64, 480, 8, 4, 0), false},
      {"T5", layer(16, 768, 384, 264, 16, 8, 4), false},
  };
  for (const Case& c : cases) {
    for (const int32_t math : {CONVT1D_MATH_TF32, CONVT1D_MATH_IEEE}) {
      convt1d_problem p = c.p;
      p.dtype = CONVT1D_FLOAT32;
      p.math = math;
      SCOPED_TRACE(std::string(c.name) + (math == CONVT1D_MATH_IEEE ? " ieee" : " tf32"));
      const Plan plan = convt1d::detail::make_plan(p, dev);
      ASSERT_EQ(plan.kernel, KernelKind::Wgmma);
      const WgmmaTiling& t = plan.wgmma;
      EXPECT_EQ(t.tap_pairs, c.tap_pairs && math == CONVT1D_MATH_TF32);
      if (!t.tap_pairs) continue;
      EXPECT_TRUE(t.persistent && t.register_epilogue && t.tf32_columns && !t.raw_weights);
      EXPECT_GE((t.tiles + dev.sm_count - 1) / dev.sm_count, convt1d::detail::kTapPairsMinRounds);
    }
    convt1d_problem half = c.p;
    half.dtype = CONVT1D_BFLOAT16;
    EXPECT_FALSE(convt1d::detail::make_plan(half, dev).wgmma.tap_pairs) << c.name << " bf16";
  }
}

// The same over joined batch rows (WgmmaTiling::joined_pitch, 16-bit): wide persistent and one-tile
// tiles, two consumers, an odd batch and row length, output_padding.
TEST(WgmmaPlan, JoinedRowsRegisterEpilogueMatchesTheReference) {
  t1d::Rng rng(2727);
  const DeviceInfo dev = hopper(true);
  convt1d_problem batches[] = {layer(24, 3, 96, 300, 16, 8, 4), layer(48, 3, 192, 36, 16, 8, 4),
                               layer(13, 3, 56, 301, 16, 8, 0), layer(25, 3, 56, 301, 16, 8, 0),
                               layer(13, 4, 56, 301, 16, 8, 3)};
  batches[4].output_padding = 5;
  int wide = 0, persistent = 0;
  for (convt1d_problem p : batches)
    for (int32_t dtype : {CONVT1D_BFLOAT16, CONVT1D_FLOAT16}) {
      p.dtype = dtype;
      p.has_bias = dtype == CONVT1D_FLOAT16;
      p.algorithm = CONVT1D_ALGO_WGMMA;
      ASSERT_EQ(convt1d_validate(&p), CONVT1D_OK);
      SCOPED_TRACE(t1d::describe(p));
      const Plan plan = convt1d::detail::make_plan(p, dev);
      const WgmmaTiling& t = plan.wgmma;
      ASSERT_GT(t.joined_pitch, 0);
      ASSERT_TRUE(t.register_epilogue);
      const t1d::Inputs in = t1d::random_inputs(rng, p, CONVT1D_FLOAT64);
      const t1d::Comparison c = t1d::compare(emulate_register_epilogue(p, plan, in), t1d::reference_of(p, in));
      EXPECT_LE(c.rel_error, 1e-12) << c.str();
      wide += t.consumers == convt1d::detail::kWgmmaWideConsumers;
      persistent += t.persistent;
    }
  EXPECT_GE(wide, 4);
  EXPECT_GE(persistent, 4);
}

// Only stride-8 upsamplers of kernel_size 16, on the kernels that keep the accumulators in this
// layout, and only where the last window reaches the last output.
TEST(WgmmaPlan, RegisterEpilogueOnlyWhereItFits) {
  const DeviceInfo dev = hopper(true);
  const auto planned = [&](convt1d_problem p) { return convt1d::detail::make_plan(p, dev); };
  EXPECT_TRUE(planned(layer(1, 1024, 512, 2, 16, 8, 0)).wgmma.register_epilogue);  // Mimi up0 (S22)
  convt1d_problem tf32 = layer(16, 768, 384, 264, 16, 8, 4);                       // DAC44 up1 (T5)
  tf32.dtype = CONVT1D_FLOAT32;
  EXPECT_TRUE(planned(tf32).wgmma.register_epilogue);
  EXPECT_FALSE(planned(layer(16, 1536, 768, 256, 8, 4, 2)).wgmma.register_epilogue);  // stride 4 (T3)
  EXPECT_FALSE(planned(layer(1, 512, 256, 80, 12, 6, 3)).wgmma.register_epilogue);    // stride 6
  EXPECT_FALSE(planned(layer(1, 256, 128, 600, 8, 8, 0)).wgmma.register_epilogue);    // one tap per output
  convt1d_problem dilated = layer(2, 256, 64, 300, 16, 8, 4);
  dilated.dilation = 2;
  EXPECT_FALSE(planned(dilated).wgmma.register_epilogue);  // taps not one position apart
  convt1d_problem raw = layer(1, 512, 256, 87, 16, 8, 4);  // HiFi-GAN up0 in TF32 and IEEE: raw weights
  for (int32_t math : {CONVT1D_MATH_TF32, CONVT1D_MATH_IEEE}) {
    raw.dtype = CONVT1D_FLOAT32;
    raw.math = math;
    const Plan raw_plan = planned(raw);
    ASSERT_TRUE(raw_plan.wgmma.raw_weights);
    EXPECT_TRUE(raw_plan.wgmma.register_epilogue);
  }
  // L_in 64: the last output's position q is (63 * 8 + 16 - 1) / 8 = 64. A one-window tiling of 64
  // columns (0-63) reaches it (one column past its last); one of 32 columns would not.
  const convt1d_problem short_row = layer(1, 64, 64, 64, 16, 8, 0);
  const convt1d::detail::Shape shape = convt1d::detail::shape_of(short_row);
  WgmmaTiling t = planned(short_row).wgmma;
  t.windows = 1;
  t.window = 64;
  EXPECT_TRUE(convt1d::detail::register_epilogue_fits(shape, t));
  t.window = 32;
  EXPECT_FALSE(convt1d::detail::register_epilogue_fits(shape, t));
}

// Batch rows joined end to end (WgmmaTiling::joined_pitch), in 16-bit, where that takes fewer waves of
// tiles at least as wide: DAC's up1 on rows of 300 (six waves of 256 columns apart, five joined) and a
// batch of 8 rows of 264 at 1024 -> 512 channels (four waves of 192, three of 256); not T5 (five
// waves either way: joined windows of 224 lost 22 %, perf-log step 143), nor where rows fill their
// windows (Oobleck's rows of 32), nor in TF32, nor for one row.
TEST(WgmmaPlan, JoinedRowsWhereTheyPay) {
  const DeviceInfo dev = hopper(true);
  struct Case {
    convt1d_problem p;
    int64_t pitch;
  };
  for (const Case& c : {Case{layer(16, 768, 384, 300, 16, 8, 4), 302}, Case{layer(8, 1024, 512, 264, 16, 8, 4), 266}})
    for (int32_t dtype : {CONVT1D_BFLOAT16, CONVT1D_FLOAT16}) {
      convt1d_problem p = c.p;
      p.dtype = dtype;
      SCOPED_TRACE(t1d::describe(p));
      const Plan plan = convt1d::detail::make_plan(p, dev);
      const WgmmaTiling& t = plan.wgmma;
      ASSERT_EQ(plan.kernel, KernelKind::Wgmma);
      EXPECT_EQ(t.joined_pitch, c.pitch);  // the row, the reach of one tap to the left, even
      EXPECT_EQ(t.x_pitch, p.batch * c.pitch);
      EXPECT_TRUE(t.register_epilogue);
      EXPECT_EQ(t.segments, 1);
      EXPECT_EQ(t.windows, convt1d::detail::wgmma_windows(p.batch * c.pitch, t.window, t.halo));
      EXPECT_EQ(t.tiles, t.windows * t.co_tiles);
      convt1d_problem one_row = p;
      one_row.batch = 1;
      EXPECT_EQ(convt1d::detail::make_plan(one_row, dev).wgmma.joined_pitch, 0) << "one row: nothing to join";
      p.dtype = CONVT1D_FLOAT32;
      EXPECT_EQ(convt1d::detail::make_plan(p, dev).wgmma.joined_pitch, 0) << "TF32 has no joined rows";
    }
  for (const convt1d_problem& p : {layer(16, 768, 384, 264, 16, 8, 4), layer(16, 2048, 1024, 32, 16, 8, 4),
                                   layer(16, 512, 256, 32, 16, 8, 4), layer(16, 1536, 768, 256, 8, 4, 2)}) {
    SCOPED_TRACE(t1d::describe(p));  // T5, T7, T1, T3
    EXPECT_EQ(convt1d::detail::make_plan(p, dev).wgmma.joined_pitch, 0);
  }

  // The pitch: the taps' reach (and the outputs' last q) within each row's zeros; even, and B * pitch a
  // multiple of 8 (TMA's 16-byte row pitch).
  const auto pitch_of = [](int64_t batch, int64_t length, int64_t output_padding) {
    convt1d_problem p = layer(batch, 8, 8, length, 16, 8, 4);
    p.output_padding = output_padding;
    return convt1d::detail::joined_pitch_of(convt1d::detail::shape_of(p));
  };
  EXPECT_EQ(pitch_of(16, 264, 0), 266);
  EXPECT_EQ(pitch_of(9, 264, 0), 272);   // (9 * pitch a multiple of 8)
  EXPECT_EQ(pitch_of(4, 101, 0), 102);   // (even)
  EXPECT_EQ(pitch_of(16, 264, 7), 266);  // q_last = (8 * 264 + 7 - 1 + 4) / 8 = 265
  const convt1d::detail::Shape s = convt1d::detail::shape_of(layer(3, 8, 8, 100, 16, 8, 4));
  const convt1d::detail::Shape v = convt1d::detail::joined_shape(s, 102);
  EXPECT_EQ(v.batch, 1);
  EXPECT_EQ(v.in_length, 306);
  EXPECT_EQ(v.out_length, 2 * 102 * 8 + s.out_length);
  EXPECT_EQ((v.out_length - 1 + v.padding) / v.stride, 2 * 102 + (s.out_length - 1 + s.padding) / s.stride);
}

TEST(WgmmaPlan, EmulatedWindowsMatchTheReference) {
  t1d::Rng rng(4242);
  const DeviceInfo dev = hopper(true);
  int emulated = 0, multi_window = 0, tf32 = 0;
  for (int i = 0; i < 300 && emulated < 60; ++i) {
    convt1d_problem p = layer(t1d::rand_int(rng, 1, 2), t1d::rand_int(rng, 1, 6), 8 * t1d::rand_int(rng, 1, 2),
                              t1d::rand_int(rng, 1, 640), t1d::rand_int(rng, 1, 12), t1d::rand_int(rng, 1, 9), 0);
    if (p.kernel_size > 8 && p.kernel_size % 2 == 1) ++p.kernel_size;  // refused (no aligned weight tile)
    p.dilation = t1d::rand_int(rng, 1, 5);
    p.padding = t1d::rand_int(rng, 0, (p.kernel_size - 1) * p.dilation);
    p.output_padding = t1d::rand_int(rng, 0, std::max(p.stride, p.dilation) - 1);
    p.has_bias = i % 2;
    p.algorithm = CONVT1D_ALGO_WGMMA;
    if (i % 3 == 0) p.dtype = CONVT1D_FLOAT32;  // the tf32 variant's windows
    if (convt1d_validate(&p) != CONVT1D_OK) continue;
    SCOPED_TRACE(t1d::describe(p));
    const Plan plan = convt1d::detail::make_plan(p, dev);
    ASSERT_EQ(plan.kernel, KernelKind::Wgmma);
    const t1d::Inputs in = t1d::random_inputs(rng, p, CONVT1D_FLOAT64);
    const t1d::Comparison c = t1d::compare(emulate(p, plan, in), t1d::reference_of(p, in));
    EXPECT_LE(c.rel_error, 1e-12) << c.str();
    ++emulated;
    multi_window += plan.wgmma.windows > 1;
    tf32 += plan.wgmma.tf32;
  }
  EXPECT_GE(emulated, 60);
  EXPECT_GE(multi_window, 10) << "too few problems cut rows into windows";
  EXPECT_GE(tf32, 15) << "too few problems took the tf32 variant";
}

}  // namespace

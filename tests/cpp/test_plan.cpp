// The host-side planner (src/plan.hpp), tested on the CPU with fake devices: the polyphase tap lists
// by brute force, the implicit-GEMM tiling's invariants, and make_plan's kernel choice.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "convt1d/convt1d.h"
#include "cpu/reference.hpp"
#include "plan.hpp"
#include "problem.hpp"
#include "test_util.hpp"

namespace {

using convt1d::detail::ApiError;
using convt1d::detail::DeviceInfo;
using convt1d::detail::GemmTiling;
using convt1d::detail::KernelKind;
using convt1d::detail::Plan;
using convt1d::detail::Polyphase;
using t1d::describe;

DeviceInfo device(int major, int minor, int sms, int64_t optin, int64_t per_sm) {
  DeviceInfo d;
  d.cc_major = major;
  d.cc_minor = minor;
  d.sm_count = sms;
  d.smem_per_block_optin = optin;
  d.smem_per_sm = per_sm;
  return d;
}

const DeviceInfo kH100 = device(9, 0, 132, 232448, 233472);
const DeviceInfo kRtx4090 = device(8, 9, 128, 101376, 102400);
const DeviceInfo kA100 = device(8, 0, 108, 166912, 167936);
const DeviceInfo kV100 = device(7, 0, 80, 98304, 98304);  // no TF32/bf16 tensor cores

struct NamedDevice {
  const char* name;
  DeviceInfo info;
};
const NamedDevice kTensorCoreDevices[] = {{"H100", kH100}, {"RTX 4090", kRtx4090}, {"A100", kA100}};

// ---------------------------------------------------------------------------------------------
// make_polyphase
// ---------------------------------------------------------------------------------------------

// Checks every phase's tap list against the definition: the taps of phase r are exactly the k in
// [0, K) with k*dilation ≡ r (mod stride), each with shift (k*dilation - r) / stride.
void check_polyphase(int64_t stride, int64_t dilation, int64_t padding, int64_t K) {
  SCOPED_TRACE("stride " + std::to_string(stride) + ", dilation " + std::to_string(dilation) + ", padding " +
               std::to_string(padding) + ", K " + std::to_string(K));
  const Polyphase pp = convt1d::detail::make_polyphase(stride, dilation, padding, K);
  ASSERT_EQ(pp.phases, stride);
  ASSERT_EQ(pp.taps.size(), static_cast<size_t>(stride));
  int64_t max_shift = 0, total = 0;
  for (int64_t r = 0; r < stride; ++r) {
    std::vector<int64_t> want_taps, want_shifts;
    for (int64_t k = 0; k < K; ++k)
      if ((k * dilation) % stride == r) {
        want_taps.push_back(k);
        want_shifts.push_back((k * dilation - r) / stride);
      }
    const auto& t = pp.taps[static_cast<size_t>(r)];
    ASSERT_EQ(t.count, static_cast<int64_t>(want_taps.size())) << "phase " << r;
    std::vector<int64_t> got_taps, got_shifts;
    for (int64_t i = 0; i < t.count; ++i) {
      got_taps.push_back(t.first_tap + i * pp.tap_step);
      got_shifts.push_back(t.first_shift + i * pp.shift_step);
    }
    EXPECT_EQ(got_taps, want_taps) << "phase " << r;
    EXPECT_EQ(got_shifts, want_shifts) << "phase " << r;
    for (int64_t s : want_shifts) max_shift = std::max(max_shift, s);
    total += t.count;
  }
  EXPECT_EQ(total, K) << "every tap belongs to exactly one phase";
  EXPECT_EQ(pp.max_shift, max_shift);
}

TEST(Polyphase, TapListsMatchBruteForce) {
  for (int64_t stride = 1; stride <= 20; ++stride)
    for (int64_t dilation = 1; dilation <= 12; ++dilation)
      for (int64_t K = 1; K <= 33; K += (K < 12 ? 1 : 5))
        for (int64_t padding : {0, 1, 7}) {
          check_polyphase(stride, dilation, padding, K);
          if (HasFatalFailure()) return;
        }
}

TEST(Polyphase, LargeAndCoprimeStrides) {
  for (int64_t stride : {24, 31, 32, 33, 64})
    for (int64_t dilation : {1, 2, 3, 8, 31, 32, 48})
      for (int64_t K : {1, 2, 5, 32, 64, 100}) check_polyphase(stride, dilation, 0, K);
}

TEST(Polyphase, KnownExamples) {
  // Stride 1: a single phase holding every tap, shift = k*dilation.
  Polyphase pp = convt1d::detail::make_polyphase(1, 3, 0, 5);
  ASSERT_EQ(pp.taps.size(), 1u);
  EXPECT_EQ(pp.taps[0].count, 5);
  EXPECT_EQ(pp.taps[0].first_tap, 0);
  EXPECT_EQ(pp.shift_step, 3);
  EXPECT_EQ(pp.max_shift, 12);
  // Stride 4, dilation 2, K 3: taps 0, 1, 2 at 0, 2, 4 -> phases 0 {0, 2} and 2 {1}; 1 and 3 are empty.
  pp = convt1d::detail::make_polyphase(4, 2, 0, 3);
  EXPECT_EQ(pp.tap_step, 2);
  EXPECT_EQ(pp.shift_step, 1);
  EXPECT_EQ(pp.taps[0].count, 2);
  EXPECT_EQ(pp.taps[1].count, 0);
  EXPECT_EQ(pp.taps[2].count, 1);
  EXPECT_EQ(pp.taps[2].first_tap, 1);
  EXPECT_EQ(pp.taps[3].count, 0);
  EXPECT_EQ(pp.max_shift, 1);
  // K < stride: phases beyond the kernel's reach are empty (bias-only outputs).
  pp = convt1d::detail::make_polyphase(8, 1, 0, 3);
  for (int r = 0; r < 8; ++r) EXPECT_EQ(pp.taps[static_cast<size_t>(r)].count, r < 3 ? 1 : 0) << r;
  EXPECT_EQ(pp.max_shift, 0);
}

// The decomposition reproduces the convolution: evaluating every output through its phase's tap list
// (u = t + padding = q*stride + r, input l = q - shift) gives the reference.
TEST(Polyphase, EvaluationMatchesReference) {
  t1d::Rng rng(31);
  t1d::ProblemRanges r;
  r.min_batch = 1;
  r.max_batch = 2;
  r.max_in_length = 30;
  r.max_work = 200'000;
  for (int it = 0; it < 150; ++it) {
    convt1d_problem p = t1d::random_problem(rng, r, CONVT1D_FLOAT64);
    const t1d::Inputs in = t1d::random_inputs(rng, p, CONVT1D_FLOAT64);
    const auto s = convt1d::detail::shape_of(p);
    const Polyphase pp = convt1d::detail::make_polyphase(s.stride, s.dilation, s.padding, s.kernel_size);
    std::vector<double> y(static_cast<size_t>(s.y_elements()));
    for (int64_t b = 0; b < s.batch; ++b)
      for (int64_t co = 0; co < s.out_channels; ++co) {
        const int64_t g = co / s.out_per_group, cog = co % s.out_per_group;
        for (int64_t t = 0; t < s.out_length; ++t) {
          const int64_t u = t + s.padding, q = u / s.stride, phase = u % s.stride;
          const auto& taps = pp.taps[static_cast<size_t>(phase)];
          double acc = p.has_bias ? in.bias[static_cast<size_t>(co)] : 0.0;
          for (int64_t i = 0; i < taps.count; ++i) {
            const int64_t k = taps.first_tap + i * pp.tap_step;
            const int64_t l = q - (taps.first_shift + i * pp.shift_step);
            if (l < 0 || l >= s.in_length) continue;
            for (int64_t ci = g * s.in_per_group; ci < (g + 1) * s.in_per_group; ++ci)
              acc += in.w[static_cast<size_t>((ci * s.out_per_group + cog) * s.kernel_size + k)] *
                     in.x[static_cast<size_t>((b * s.in_channels + ci) * s.in_length + l)];
          }
          y[static_cast<size_t>((b * s.out_channels + co) * s.out_length + t)] = acc;
        }
      }
    const t1d::Comparison c = t1d::compare(y, t1d::reference_of(p, in));
    EXPECT_LE(c.scaled_max(), 1e-13) << describe(p) << ": " << c.str();
  }
}

// ---------------------------------------------------------------------------------------------
// plan_implicit_gemm
// ---------------------------------------------------------------------------------------------

convt1d_problem cuda_problem(int64_t B, int64_t ci, int64_t co, int64_t L, int64_t K, int64_t stride = 1,
                             int64_t padding = 0, int64_t dilation = 1, int64_t groups = 1) {
  convt1d_problem p = convt1d_problem_init(B, ci, co, L, K);
  p.stride = stride;
  p.padding = padding;
  p.dilation = dilation;
  p.groups = groups;
  return p;
}

convt1d_problem kb74() { return cuda_problem(32, 32, 64, 131072, 5, 1, 0, 3); }

struct GemmResult {
  bool ok = false;
  GemmTiling tiling;
  std::string why;
};

GemmResult try_gemm(const convt1d_problem& p, int32_t dtype, const DeviceInfo& dev) {
  const auto s = convt1d::detail::shape_of(p);
  const Polyphase pp = convt1d::detail::make_polyphase(s.stride, s.dilation, s.padding, s.kernel_size);
  GemmResult r;
  r.ok = convt1d::detail::plan_implicit_gemm(s, dtype, pp, dev, r.tiling, r.why);
  return r;
}

void check_tiling(const convt1d_problem& p, int32_t dtype, const DeviceInfo& dev, const GemmTiling& t) {
  const auto s = convt1d::detail::shape_of(p);
  const Polyphase pp = convt1d::detail::make_polyphase(s.stride, s.dilation, s.padding, s.kernel_size);
  EXPECT_GT(t.smem_bytes, 0);
  EXPECT_LE(t.smem_bytes, dev.smem_per_block_optin);
  // Tiles cover u = t + padding over [0, padding + out_length), with no tile entirely past the end.
  EXPECT_GT(t.q_tile, 0);
  EXPECT_GE(t.q_tiles * t.q_tile * s.stride, s.padding + s.out_length);
  EXPECT_LT((t.q_tiles - 1) * t.q_tile * s.stride, s.padding + s.out_length);
  EXPECT_GE(static_cast<int64_t>(t.co_tiles) * t.block_co, s.out_per_group);
  EXPECT_LT((t.co_tiles - 1) * t.block_co, s.out_per_group);
  EXPECT_EQ(t.tiles, s.groups * t.co_tiles * s.batch * t.q_tiles);
  EXPECT_GE(t.grid, 1);
  EXPECT_LE(t.grid, t.tiles * t.splits);
  // Persistent blocks must all be resident at once.
  EXPECT_LE(t.grid, dev.sm_count * convt1d::detail::blocks_per_sm(dev, t.smem_bytes));
  // The reduction: chunks of ci_chunk channels, a multiple of the MMA step, covering C_in/groups.
  EXPECT_EQ(t.k_step, dtype == CONVT1D_FLOAT32 ? 8 : 16);
  EXPECT_GT(t.ci_chunk, 0);
  EXPECT_EQ(t.ci_chunk % t.k_step, 0);
  EXPECT_EQ(t.chunks, (s.in_per_group + t.ci_chunk - 1) / t.ci_chunk);
  if (t.chunks == 1) {
    EXPECT_LT(t.ci_chunk, s.in_per_group + t.k_step) << "whole reduction padded too much";
  }
  EXPECT_EQ(t.w_rows, dtype == CONVT1D_FLOAT32 ? t.ci_chunk : t.ci_chunk / 2);
  // Warp work items: one phase x 32 positions each; with several chunks every warp keeps its
  // accumulators, so there can be at most one item per warp.
  EXPECT_EQ(static_cast<int64_t>(t.items) * convt1d::detail::kGemmWarpPositions, s.stride * t.q_tile);
  if (t.chunks > 1) {
    EXPECT_LE(t.items, convt1d::detail::kGemmWarps);
  }
  // Several chunks stream raw weight rows (64 channels x K taps, 16-byte pitch) through the stages.
  EXPECT_EQ(t.stream_w, t.chunks > 1);
  if (t.stream_w && !t.pack_w) {
    const int64_t elem = dtype == CONVT1D_FLOAT32 ? 4 : 2;
    EXPECT_GE(t.w_pitch, t.block_co * s.kernel_size);
    EXPECT_EQ(t.w_pitch * elem % 16, 0);
  }
  // Packed weights: one fragment-order chunk per (group, channel tile, chunk).
  EXPECT_TRUE(!t.pack_w || t.stream_w);
  EXPECT_EQ(t.packed_bytes, t.pack_w ? s.groups * t.co_tiles * t.chunks * s.kernel_size * t.w_rows * t.block_co * 4 : 0);
  EXPECT_LE(t.grid, dev.sm_count) << "one persistent block per SM";
  // Split-K shares a tile's chunks among work units: every unit has chunks, all chunks are covered.
  EXPECT_GE(t.splits, 1);
  EXPECT_GE(static_cast<int64_t>(t.splits) * t.chunks_per_split, t.chunks);
  EXPECT_LT(static_cast<int64_t>(t.splits - 1) * t.chunks_per_split, t.chunks);
  if (t.splits > 1) EXPECT_TRUE(t.stream_w);
  if (t.q_tile > convt1d::detail::kGemmWarpPositions) {
    EXPECT_LE(s.stride * t.q_tile, convt1d::detail::kGemmMaxTileOutputs);
  }
  // The smem x window holds the halo plus the tile; the staging row holds a whole tile of outputs.
  EXPECT_GE(t.x_cols, pp.max_shift + t.q_tile);
  // Staging holds the output type, or fp32 partial sums under split-K.
  const int64_t staged = dtype == CONVT1D_FLOAT32 || t.splits > 1 ? 4 : 2;
  EXPECT_GE(t.y_pitch, t.q_tile * s.stride + 16 / staged);  // + alignment shift
  EXPECT_EQ(t.y_pitch * staged % 16, 0) << "staging rows must stay 16-byte aligned";
  EXPECT_GE(t.stages, 2);
  EXPECT_LE(t.stages, 3);
}

// The raw weight pitch avoids the bank conflicts it can. Odd K admits a conflict-free pitch; with a
// 16-byte pitch, K ≡ 2 (mod 4) admits 2-way and K ≡ 0 (mod 4) 4-way at best (every lane then reads
// the same word of its 16-byte chunk: 8 banks for 32 lanes).
// A B=1 upsampler with few tiles splits its reduction so that every SM gets work, in every dtype.
TEST(ImplicitGemmPlan, FewTilesSplitTheReduction) {
  convt1d_problem p = cuda_problem(1, 512, 256, 87, 16, 8);
  p.padding = 4;
  for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_FLOAT16, CONVT1D_BFLOAT16}) {
    SCOPED_TRACE(t1d::dtype_str(dtype));
    const GemmResult r = try_gemm(p, dtype, kH100);
    ASSERT_TRUE(r.ok);
    check_tiling(p, dtype, kH100, r.tiling);
    EXPECT_GT(r.tiling.splits, 1);
    EXPECT_GE(r.tiling.tiles * r.tiling.splits, kH100.sm_count / 2);
  }
}

// IEEE mode keeps every tensor-core accumulation chain <= kIeeeMaxChainTerms terms (BigVGAN up0 train:
// 1536 channels x 2 taps per phase would be 3072) by splitting the reduction; TF32 does not need to.
TEST(MakePlan, IeeeSplitsLongStreamedReductions) {
  convt1d_problem p = cuda_problem(16, 1536, 768, 256, 8, 4);
  p.padding = 2;
  p.dtype = CONVT1D_FLOAT32;
  p.math = CONVT1D_MATH_IEEE;
  const auto ieee = convt1d::detail::make_plan(p, kH100);
  ASSERT_EQ(ieee.kernel, KernelKind::ImplicitGemm);
  ASSERT_TRUE(ieee.gemm.stream_w);
  EXPECT_LE(static_cast<int64_t>(ieee.gemm.chunks_per_split) * ieee.gemm.ci_chunk * 2,
            convt1d::detail::kIeeeMaxChainTerms);
  EXPECT_GT(ieee.gemm.splits, 1);
  check_tiling(p, CONVT1D_FLOAT32, kH100, ieee.gemm);
  p.math = CONVT1D_MATH_TF32;
  EXPECT_EQ(convt1d::detail::make_plan(p, kH100).gemm.splits, 1);
}

// Reductions that would fit in shared memory are streamed too in IEEE mode when one chain would exceed
// kIeeeMaxChainTerms (K 16 at stride 1 over 32 channels: 512 terms per output), and split.
TEST(MakePlan, IeeeBoundsResidentChainsToo) {
  convt1d_problem p = cuda_problem(1, 32, 8, 6000, 16, 1);
  p.dtype = CONVT1D_FLOAT32;
  p.algorithm = CONVT1D_ALGO_IMPLICIT_GEMM;
  const auto tf32 = convt1d::detail::make_plan(p, kH100);
  EXPECT_FALSE(tf32.gemm.stream_w) << "TF32 keeps the reduction resident";
  p.math = CONVT1D_MATH_IEEE;
  const auto ieee = convt1d::detail::make_plan(p, kH100);
  ASSERT_EQ(ieee.kernel, KernelKind::ImplicitGemm);
  EXPECT_TRUE(ieee.gemm.stream_w);
  EXPECT_LE(int64_t{ieee.gemm.chunks_per_split} * ieee.gemm.ci_chunk * 16, convt1d::detail::kIeeeMaxChainTerms);
  check_tiling(p, CONVT1D_FLOAT32, kH100, ieee.gemm);
}

// IEEE accuracy, on every plan: no tensor-core accumulation chain longer than the one-signed GPU test
// (CudaParity.OneSignedInputsDeepReductions) measured within 1e-5 (perf-log step 94). mma.sync: at
// most kIeeeMaxChainTerms terms per split unit (unless a chunk of the smallest size alone is longer);
// wgmma: one pass-ordered chain up to kIeeeOneChainChannels, else segments of kIeeeSegmentChannels;
// streaming kernels: phases of at most kStreamIeeeMaxTerms terms. AUTO and every forced kernel.
TEST(MakePlan, IeeeAccumulationChainsStayShort) {
  namespace d = convt1d::detail;
  DeviceInfo hopper = kH100;
  hopper.wgmma = true;
  const DeviceInfo devices[] = {hopper, kA100, kRtx4090};
  t1d::ProblemRanges r;
  r.device = CONVT1D_DEVICE_CUDA;
  r.min_batch = 1;
  r.max_in_per_group = 2100;
  r.max_out_per_group = 160;
  r.max_groups = 2;
  r.max_in_length = 4000;
  r.max_stride = 8;
  r.max_work = int64_t{1} << 50;  // (no reference is computed)
  t1d::Rng rng(94);
  int checked[3] = {};  // implicit_gemm, wgmma (and its GEMM for col2im), streaming
  auto check_wgmma = [&](const d::WgmmaTiling& w, int64_t in_channels, const std::string& what) {
    if (w.segment_sums)
      EXPECT_EQ(int64_t{w.segment_chunks} * d::kWgmmaTf32Chunk, d::kIeeeSegmentChannels) << what;
    else
      EXPECT_LE(in_channels, d::kIeeeOneChainChannels) << what;
    EXPECT_TRUE(w.segment_sums || !w.raw_weights) << what << ": raw weights interleave their passes";
    ++checked[1];
  };
  for (int i = 0; i < 800; ++i) {
    convt1d_problem p = t1d::random_problem(rng, r, CONVT1D_FLOAT32);
    p.math = CONVT1D_MATH_IEEE;
    if (i % 2 == 0) {  // where the streaming kernel runs: TMA rows, groups 1, at most 128 output channels
      p.in_length = (p.in_length + 7) / 8 * 8;
      p.groups = 1;
      p.in_channels = t1d::rand_int(rng, 1, 96);
      p.out_channels = t1d::rand_int(rng, 1, 128);
    }
    if (convt1d_validate(&p) != CONVT1D_OK) continue;
    for (const int32_t algo : {CONVT1D_ALGO_AUTO, CONVT1D_ALGO_IMPLICIT_GEMM, CONVT1D_ALGO_WGMMA,
                               CONVT1D_ALGO_WGMMA_STREAM})
      for (const DeviceInfo& dev : devices) {
        p.algorithm = algo;
        Plan plan;
        try {
          plan = d::make_plan(p, dev);
        } catch (const ApiError&) {
          continue;  // forced kernels refuse some problems
        }
        const std::string what = describe(p) + " on sm_" + std::to_string(dev.cc_major * 10 + dev.cc_minor);
        int64_t taps = 1;
        for (const d::PhaseTaps& ph : plan.poly.taps) taps = std::max<int64_t>(taps, ph.count);
        if (plan.kernel == KernelKind::ImplicitGemm) {
          const GemmTiling& g = plan.gemm;
          const int64_t chain = int64_t{g.chunks_per_split} * g.ci_chunk * taps;
          EXPECT_TRUE(chain <= d::kIeeeMaxChainTerms || (g.ci_chunk == g.k_step && g.chunks_per_split == 1))
              << what << ": chain of " << chain << " terms";
          ++checked[0];
        } else if (plan.kernel == KernelKind::Wgmma) {
          check_wgmma(plan.wgmma, p.in_channels, what);
        } else if (plan.kernel == KernelKind::GemmCol2im) {
          check_wgmma(d::make_plan(d::col2im_gemm_problem(p), dev).wgmma, p.in_channels, what + " (its GEMM)");
        } else if (plan.kernel == KernelKind::WgmmaStream) {
          for (int64_t ph = 0; ph < plan.poly.phases; ++ph)
            EXPECT_LE(int64_t{plan.stream.phase_steps[ph]} * plan.stream.k_step, d::kStreamIeeeMaxTerms) << what;
          ++checked[2];
        }
      }
  }
  EXPECT_GE(checked[0], 300);
  EXPECT_GE(checked[1], 100);
  EXPECT_GE(checked[2], 10);
}

// Streamed weights are packed when each chunk is streamed often (a training batch), and stream raw
// when it is read about once (a B=1 layer), where the extra pass would not pay.
TEST(ImplicitGemmPlan, PackedWeightsWhereChunksAreReused) {
  convt1d_problem train = cuda_problem(16, 1536, 768, 256, 8, 4);
  train.padding = 2;
  convt1d_problem once = cuda_problem(1, 512, 256, 87, 16, 8);
  once.padding = 4;
  for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_BFLOAT16}) {
    SCOPED_TRACE(t1d::dtype_str(dtype));
    const GemmResult a = try_gemm(train, dtype, kH100), b = try_gemm(once, dtype, kH100);
    ASSERT_TRUE(a.ok && b.ok);
    check_tiling(train, dtype, kH100, a.tiling);
    check_tiling(once, dtype, kH100, b.tiling);
    EXPECT_TRUE(a.tiling.pack_w);
    EXPECT_FALSE(b.tiling.pack_w);
  }
}

TEST(ImplicitGemmPlan, RawWeightPitchSpreadsBanks) {
  auto worst = [](int64_t K, int64_t pitch) {
    int64_t count[32] = {}, w = 0;
    for (int64_t tq = 0; tq < 4; ++tq)
      for (int64_t gq = 0; gq < 8; ++gq) w = std::max(w, ++count[(tq * pitch + gq * K) % 32]);
    return w;
  };
  for (int64_t K : {1, 3, 5, 7, 9}) EXPECT_EQ(worst(K, convt1d::detail::raw_weight_pitch(K, 64, 4)), 1) << K;
  for (int64_t K : {2, 6, 10}) EXPECT_EQ(worst(K, convt1d::detail::raw_weight_pitch(K, 64, 4)), 2) << K;
  for (int64_t K : {4, 8, 16}) EXPECT_EQ(worst(K, convt1d::detail::raw_weight_pitch(K, 64, 4)), 4) << K;
}

TEST(ImplicitGemmPlan, BlocksPerSmCountsTheReservedKilobyte) {
  for (const auto& d : kTensorCoreDevices) {
    SCOPED_TRACE(d.name);
    EXPECT_EQ(convt1d::detail::blocks_per_sm(d.info, d.info.smem_per_block_optin), 1);
    for (int64_t smem : {int64_t{1024}, int64_t{20000}, int64_t{48 * 1024}, int64_t{70000}, d.info.smem_per_sm / 2}) {
      const int64_t n = convt1d::detail::blocks_per_sm(d.info, smem);
      EXPECT_GE(n, 1);
      EXPECT_LE(n * (smem + 1024), d.info.smem_per_sm) << smem;
      EXPECT_GT((n + 1) * (smem + 1024), d.info.smem_per_sm) << smem;
    }
  }
}

TEST(ImplicitGemmPlan, Kb74FitsTensorCoreDevices) {
  for (const auto& d : kTensorCoreDevices)
    for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_FLOAT16, CONVT1D_BFLOAT16}) {
      SCOPED_TRACE(std::string(d.name) + " " + t1d::dtype_str(dtype));
      const GemmResult r = try_gemm(kb74(), dtype, d.info);
      ASSERT_TRUE(r.ok) << r.why;
      check_tiling(kb74(), dtype, d.info, r.tiling);
      // A big problem has enough tiles for one persistent block per SM at least.
      EXPECT_GE(r.tiling.grid, d.info.sm_count);
    }
  // On the H100, KB74 keeps its weights resident, with 256-position tiles and 3 x stages in flight
  // (fragment-ordered weights and output-type staging leave room for the third).
  for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_FLOAT16}) {
    const GemmResult r = try_gemm(kb74(), dtype, kH100);
    ASSERT_TRUE(r.ok);
    EXPECT_FALSE(r.tiling.stream_w);
    EXPECT_EQ(r.tiling.q_tile, 256);
    EXPECT_EQ(r.tiling.stages, 3);
  }
}

// Random shapes: every accepted plan keeps the invariants, every refusal says why, and modest shapes
// (KB74-like: <= 32 channels per group, K <= 5, stride <= 4) are always accepted.
TEST(ImplicitGemmPlan, RandomShapesKeepInvariants) {
  t1d::Rng rng(4242);
  int planned = 0, refused = 0, modest = 0;
  for (int it = 0; it < 600; ++it) {
    convt1d_problem p = cuda_problem(t1d::rand_int(rng, 1, 32), 1, 1, t1d::rand_int(rng, 1, 200000),
                                     t1d::rand_int(rng, 1, it % 2 ? 5 : 32));
    p.groups = t1d::rand_int(rng, 1, 4);
    p.in_channels = p.groups * t1d::rand_int(rng, 1, std::vector<int64_t>{512, 64, 32}[it % 3]);
    p.out_channels = p.groups * t1d::rand_int(rng, 1, 300);
    p.stride = t1d::rand_int(rng, 1, it % 4 < 2 ? 4 : 16);
    p.dilation = t1d::rand_int(rng, 1, 8);
    p.padding = t1d::rand_int(rng, 0, p.kernel_size * p.dilation / 2);
    p.output_padding = t1d::rand_int(rng, 0, std::max(p.stride, p.dilation) - 1);
    if (t1d::formula_out_length(p) < 1) continue;
    const auto& d = kTensorCoreDevices[it % 3];
    const int32_t dtype = std::vector<int32_t>{CONVT1D_FLOAT32, CONVT1D_FLOAT16, CONVT1D_BFLOAT16}[it % 7 % 3];
    SCOPED_TRACE(std::string(d.name) + " " + t1d::dtype_str(dtype) + " " + describe(p));
    const GemmResult r = try_gemm(p, dtype, d.info);
    const bool is_modest = p.in_channels / p.groups <= 32 && p.kernel_size <= 5 && p.stride <= 4;
    modest += is_modest;
    if (r.ok) {
      ++planned;
      check_tiling(p, dtype, d.info, r.tiling);
    } else {
      ++refused;
      EXPECT_FALSE(r.why.empty()) << "refused without a reason";
      EXPECT_FALSE(is_modest) << "a modest shape was refused: " << r.why;
    }
    if (HasFailure()) return;
  }
  EXPECT_GT(modest, 30);
  EXPECT_GT(planned, 100) << "refused " << refused;
}

TEST(ImplicitGemmPlan, RefusesWithAReason) {
  struct Case {
    const char* name;
    convt1d_problem p;
    int32_t dtype;
    DeviceInfo dev;
    const char* reason_word;  // something the reason must mention
  };
  const Case cases[] = {
      {"fp64", kb74(), CONVT1D_FLOAT64, kH100, "fp64"},
      {"cc 7.0", kb74(), CONVT1D_FLOAT32, kV100, "sm_80"},
      {"cc 7.5 fp16", kb74(), CONVT1D_FLOAT16, device(7, 5, 40, 65536, 65536), "sm_80"},
      {"stride 33", cuda_problem(1, 16, 16, 100, 33, 33), CONVT1D_FLOAT32, kH100, "stride"},
      // Even one k-step of channels times 160 (or 64) taps of weights exceeds shared memory.
      {"huge kernel", cuda_problem(1, 16, 64, 100, 160), CONVT1D_FLOAT32, kH100, "shared memory"},
      {"huge kernel 4090 bf16", cuda_problem(1, 16, 64, 100, 64), CONVT1D_BFLOAT16, kRtx4090, "shared memory"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const GemmResult r = try_gemm(c.p, c.dtype, c.dev);
    EXPECT_FALSE(r.ok);
    EXPECT_TRUE(t1d::contains_ci(r.why, c.reason_word)) << "reason: '" << r.why << "'";
  }
}

TEST(ImplicitGemmPlan, SmallerSharedMemoryNeverGetsABiggerTile) {
  // Same problem: a device with less opt-in shared memory must fit its tile within its own limit.
  const convt1d_problem p = cuda_problem(4, 32, 128, 4096, 4, 4, 2, 1);
  for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_BFLOAT16}) {
    const GemmResult big = try_gemm(p, dtype, kH100), small = try_gemm(p, dtype, kRtx4090);
    ASSERT_TRUE(big.ok) << big.why;
    if (!small.ok) continue;
    EXPECT_LE(small.tiling.smem_bytes, kRtx4090.smem_per_block_optin);
    EXPECT_LE(small.tiling.q_tile, big.tiling.q_tile);
  }
}

// ---------------------------------------------------------------------------------------------
// make_plan
// ---------------------------------------------------------------------------------------------

convt1d_status plan_error(const convt1d_problem& p, const DeviceInfo& dev, std::string* message) {
  try {
    (void)convt1d::detail::make_plan(p, dev);
  } catch (const ApiError& e) {
    *message = e.what();
    return e.status;
  }
  return CONVT1D_OK;
}

TEST(MakePlan, CpuDeviceGetsTheCpuBackend) {
  for (int32_t dtype : t1d::kAllDtypes)
    for (int32_t algo : {CONVT1D_ALGO_AUTO, CONVT1D_ALGO_DIRECT}) {
      convt1d_problem p = kb74();
      p.device = CONVT1D_DEVICE_CPU;
      p.dtype = dtype;
      p.algorithm = algo;
      const Plan plan = convt1d::detail::make_plan(p, DeviceInfo{});
      EXPECT_EQ(plan.kernel, KernelKind::Cpu) << describe(p);
      EXPECT_FALSE(plan.reason.empty());
      // The device's properties do not matter for the CPU.
      EXPECT_EQ(convt1d::detail::make_plan(p, kH100).kernel, KernelKind::Cpu);
    }
}

TEST(MakePlan, ImplicitGemmForcedOnCpuIsUnsupported) {
  convt1d_problem p = kb74();
  p.device = CONVT1D_DEVICE_CPU;
  p.algorithm = CONVT1D_ALGO_IMPLICIT_GEMM;
  std::string m;
  EXPECT_EQ(plan_error(p, kH100, &m), CONVT1D_UNSUPPORTED);
  EXPECT_TRUE(t1d::contains(m, "implicit_gemm")) << m;
  EXPECT_TRUE(t1d::contains_ci(m, "cpu")) << m;
}

TEST(MakePlan, ForcedAlgorithmsAreHonoured) {
  for (const auto& d : kTensorCoreDevices)
    for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_FLOAT16, CONVT1D_BFLOAT16}) {
      convt1d_problem p = kb74();
      p.dtype = dtype;
      SCOPED_TRACE(std::string(d.name) + " " + describe(p));
      p.algorithm = CONVT1D_ALGO_DIRECT;
      EXPECT_EQ(convt1d::detail::make_plan(p, d.info).kernel, KernelKind::Direct);
      p.algorithm = CONVT1D_ALGO_IMPLICIT_GEMM;
      const Plan plan = convt1d::detail::make_plan(p, d.info);
      EXPECT_EQ(plan.kernel, KernelKind::ImplicitGemm);
      check_tiling(p, dtype, d.info, plan.gemm);
      p.algorithm = CONVT1D_ALGO_AUTO;
      EXPECT_EQ(convt1d::detail::make_plan(p, d.info).kernel, KernelKind::ImplicitGemm)
          << "the headline shape must take the tensor-core path";
    }
  // Direct runs anything, including fp64 on an old GPU.
  convt1d_problem p = kb74();
  p.dtype = CONVT1D_FLOAT64;
  p.algorithm = CONVT1D_ALGO_DIRECT;
  EXPECT_EQ(convt1d::detail::make_plan(p, kV100).kernel, KernelKind::Direct);
}

TEST(MakePlan, ImpossibleForcedImplicitGemmIsUnsupported) {
  struct Case { const char* name; convt1d_problem p; DeviceInfo dev; };
  convt1d_problem fp64 = kb74();
  fp64.dtype = CONVT1D_FLOAT64;
  const Case cases[] = {
      {"fp64", fp64, kH100},
      {"cc 7.0", kb74(), kV100},
      {"huge kernel", cuda_problem(1, 16, 64, 100, 160), kRtx4090},
  };
  for (Case c : cases) {
    c.p.algorithm = CONVT1D_ALGO_IMPLICIT_GEMM;
    std::string m;
    EXPECT_EQ(plan_error(c.p, c.dev, &m), CONVT1D_UNSUPPORTED) << c.name;
    EXPECT_TRUE(t1d::contains(m, "implicit_gemm")) << c.name << ": " << m;
    // AUTO falls back to the direct kernel instead of failing.
    c.p.algorithm = CONVT1D_ALGO_AUTO;
    EXPECT_EQ(convt1d::detail::make_plan(c.p, c.dev).kernel, KernelKind::Direct) << c.name;
  }
}

TEST(MakePlan, AutoPrefersPlainKernelsWhereTensorCoresHaveNothingToDo) {
  // Depthwise: one input channel per group, one output channel per group.
  convt1d_problem p = cuda_problem(4, 64, 64, 4096, 3, 2, 1, 1, 64);
  EXPECT_EQ(convt1d::detail::make_plan(p, kH100).kernel, KernelKind::Direct);
  // One input and one output channel: the narrow kernel (FMA), and direct for fp64.
  p = cuda_problem(4, 1, 1, 4096, 4);
  EXPECT_EQ(convt1d::detail::make_plan(p, kH100).kernel, KernelKind::Narrow);
  p.dtype = CONVT1D_FLOAT64;
  EXPECT_EQ(convt1d::detail::make_plan(p, kH100).kernel, KernelKind::Direct);
}

TEST(MakePlan, PlanCarriesTheProblem) {
  t1d::Rng rng(8);
  t1d::ProblemRanges r;
  r.device = CONVT1D_DEVICE_CUDA;
  r.min_batch = 1;
  int gemm = 0;
  for (int it = 0; it < 200; ++it) {
    const int32_t dtype = t1d::kAllDtypes[it % 4];
    convt1d_problem p = t1d::random_problem(rng, r, dtype);
    p.has_bias = it % 2;
    p.math = (it / 2) % 2;
    const auto& d = kTensorCoreDevices[it % 3];
    SCOPED_TRACE(std::string(d.name) + " " + describe(p));
    const Plan plan = convt1d::detail::make_plan(p, d.info);
    const auto s = convt1d::detail::shape_of(p);
    EXPECT_EQ(plan.shape.out_length, s.out_length);
    EXPECT_EQ(plan.shape.in_per_group, s.in_per_group);
    EXPECT_EQ(plan.shape.out_per_group, s.out_per_group);
    EXPECT_EQ(plan.dtype, dtype);
    EXPECT_EQ(plan.math, p.math);
    EXPECT_EQ(plan.has_bias, p.has_bias != 0);
    EXPECT_EQ(plan.poly.phases, p.stride);
    EXPECT_FALSE(plan.reason.empty());
    EXPECT_NE(plan.kernel, KernelKind::Cpu);
    // AUTO picks the tensor-core kernel only where it can run, and then with a valid tiling.
    const GemmResult g = try_gemm(p, dtype, d.info);
    if (plan.kernel == KernelKind::ImplicitGemm) {
      ++gemm;
      ASSERT_TRUE(g.ok) << g.why;
      check_tiling(p, dtype, d.info, plan.gemm);
    }
    // Forcing the tensor-core kernel works exactly where plan_implicit_gemm says it can.
    p.algorithm = CONVT1D_ALGO_IMPLICIT_GEMM;
    std::string m;
    EXPECT_EQ(plan_error(p, d.info, &m), g.ok ? CONVT1D_OK : CONVT1D_UNSUPPORTED) << m;
  }
  EXPECT_GT(gemm, 20);
}

TEST(MakePlan, InvalidProblemIsRejectedFirst) {
  convt1d_problem p = kb74();
  p.groups = 5;
  std::string m;
  EXPECT_EQ(plan_error(p, kH100, &m), CONVT1D_INVALID_ARGUMENT);
  EXPECT_TRUE(t1d::contains(m, "groups")) << m;
}

TEST(MakePlan, KernelNamesAreDistinct) {
  std::set<std::string> names;
  for (KernelKind k : {KernelKind::Cpu, KernelKind::Direct, KernelKind::ImplicitGemm, KernelKind::Wgmma,
                       KernelKind::GemmCol2im})
    EXPECT_TRUE(names.insert(convt1d::detail::kernel_name(k)).second);
  EXPECT_EQ(std::string(convt1d::detail::kernel_name(KernelKind::ImplicitGemm)), "implicit_gemm");
  EXPECT_EQ(std::string(convt1d::detail::kernel_name(KernelKind::Direct)), "direct");
}

}  // namespace

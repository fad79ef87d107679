// CUDA backend against the fp64 reference: seeded random problems in every mode (fp64, fp32 IEEE,
// fp32 TF32, fp16, bf16) and algorithm (AUTO, DIRECT, IMPLICIT_GEMM), a KB74-like medium shape,
// host pointers, non-default streams and CUDA graph capture, and (with CONVT1D_BIG_TESTS=1) an output
// of more than 2^31 elements. Everything GPU-side skips with "no CUDA device" where there is none.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "convt1d/convt1d.h"
#include "cpu/reference.hpp"
#include "gpu_buffer.hpp"
#include "plan.hpp"
#include "row_boxes.hpp"
#include "test_hopper.hpp"
#include "test_util.hpp"

#ifdef CONVT1D_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace {

using convt1d::tools::GpuBuffer;
using t1d::describe;
using t1d::Inputs;
using t1d::TypedBuffer;

// A precision mode and its accuracy bar: relative L2 error against the fp64 reference computed on the
// dtype-rounded inputs, and max |error| / max |reference| (10x looser: one element may be unlucky).
struct Mode {
  const char* name;
  int32_t dtype;
  int32_t math;
  double rel_tol;
  double scaled_max_tol() const { return 10 * rel_tol; }
};
const Mode kModes[] = {
    {"fp64", CONVT1D_FLOAT64, CONVT1D_MATH_IEEE, 1e-12},
    {"fp32-ieee", CONVT1D_FLOAT32, CONVT1D_MATH_IEEE, 1e-5},
    {"fp32-tf32", CONVT1D_FLOAT32, CONVT1D_MATH_TF32, 5e-3},
    {"fp16", CONVT1D_FLOAT16, CONVT1D_MATH_TF32, 5e-3},
    {"bf16", CONVT1D_BFLOAT16, CONVT1D_MATH_TF32, 3e-2},
};
constexpr int32_t kAlgorithms[] = {CONVT1D_ALGO_AUTO, CONVT1D_ALGO_DIRECT, CONVT1D_ALGO_IMPLICIT_GEMM,
                                   CONVT1D_ALGO_WGMMA, CONVT1D_ALGO_WGMMA_STREAM, CONVT1D_ALGO_NARROW};

// The tensor-core families run only some problems (forcing one elsewhere is CONVT1D_UNSUPPORTED).
bool may_refuse(int32_t algo) { return algo != CONVT1D_ALGO_AUTO && algo != CONVT1D_ALGO_DIRECT; }

// Random problems for the GPU: a mix of tiny shapes (every parameter at its extremes), shapes with
// enough channels for several MMA k-steps and output-channel tiles, and long rows (many L tiles).
convt1d_problem random_gpu_problem(t1d::Rng& rng, int index) {
  t1d::ProblemRanges r;
  r.device = CONVT1D_DEVICE_CUDA;
  r.min_batch = index % 40 == 7 ? 0 : 1;  // a few empty batches
  r.max_batch = index % 40 == 7 ? 0 : 3;
  r.max_work = 3'000'000;
  switch (index % 3) {
    case 0:  // defaults: <= 8 channels per group, K <= 32, stride <= 16, dilation <= 5, L <= 64
      break;
    case 1:
      r.max_in_per_group = 40;
      r.max_out_per_group = 140;
      r.max_groups = 2;
      r.max_in_length = 200;
      r.max_kernel = 8;
      r.max_stride = 8;
      r.depthwise_probability = 0.05;
      break;
    default:
      r.max_in_per_group = 16;
      r.max_out_per_group = 40;
      r.max_groups = 1;
      r.min_in_length = 500;
      r.max_in_length = 3000;
      r.max_kernel = 5;
      r.max_stride = 4;
      r.max_dilation = 4;
      r.depthwise_probability = 0.0;
      break;
  }
  return t1d::random_problem(rng, r, CONVT1D_FLOAT32);
}

constexpr int kRandomProblems = 160;
constexpr int kRandomPackedProblems = 60;

convt1d::detail::DeviceInfo fake_h100() { return t1d::hopper_info(false); }

// Whether the planner lets the forced family `algo` run p on dev.
bool gemm_plannable(convt1d_problem p, const convt1d::detail::DeviceInfo& dev,
                    int32_t algo = CONVT1D_ALGO_IMPLICIT_GEMM) {
  p.algorithm = algo;
  p.device = CONVT1D_DEVICE_CUDA;
  try {
    (void)convt1d::detail::make_plan(p, dev);
    return true;
  } catch (const convt1d::detail::ApiError&) {
    return false;
  }
}

// Runs everywhere: the random set must be one where forcing IMPLICIT_GEMM mostly runs (on an H100),
// or the GPU test's "most ran" assertion would be vacuous.
TEST(CudaParityProblems, MostFitTheImplicitGemmKernel) {
  t1d::Rng rng(0xC0FFEE);
  int attempted = 0, plannable = 0;
  for (int i = 0; i < kRandomProblems; ++i) {
    convt1d_problem p = random_gpu_problem(rng, i);
    if (p.batch == 0) continue;
    for (int32_t dtype : {CONVT1D_FLOAT32, CONVT1D_FLOAT16, CONVT1D_BFLOAT16}) {
      p.dtype = dtype;
      ++attempted;
      plannable += gemm_plannable(p, fake_h100());
    }
  }
  EXPECT_GE(plannable, attempted * 7 / 10) << plannable << " of " << attempted;
}

#ifndef CONVT1D_WITH_CUDA

TEST(CudaParity, Skipped) { GTEST_SKIP() << "no CUDA device (this build has no CUDA support)"; }

#else

#define CUDA_ASSERT(expr)                                                                       \
  do {                                                                                          \
    const cudaError_t err_ = (expr);                                                            \
    ASSERT_EQ(err_, cudaSuccess) << #expr << ": " << cudaGetErrorString(err_);                  \
  } while (0)

convt1d::detail::DeviceInfo current_device_info() {
  int dev = 0, v = 0;
  convt1d::detail::DeviceInfo d;
  cudaGetDevice(&dev);
  cudaDeviceGetAttribute(&v, cudaDevAttrComputeCapabilityMajor, dev);
  d.cc_major = v;
  cudaDeviceGetAttribute(&v, cudaDevAttrComputeCapabilityMinor, dev);
  d.cc_minor = v;
  cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev);
  d.sm_count = v;
  cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
  d.smem_per_block_optin = v;
  cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerMultiprocessor, dev);
  d.smem_per_sm = v;
#ifdef CONVT1D_SM90A
  d.wgmma = d.cc_major == 9 && d.cc_minor == 0;  // as src/cuda/device.cu decides
#endif
  return d;
}

// Device copies of a problem's inputs in p.dtype, and a y buffer to poison and run into.
struct DeviceProblem {
  GpuBuffer x, w, b, y;
  int64_t y_count = 0;
  DeviceProblem(const convt1d_problem& p, const Inputs& in) {
    const TypedBuffer hx = TypedBuffer::from_double(p.dtype, in.x);
    const TypedBuffer hw = TypedBuffer::from_double(p.dtype, in.w);
    const TypedBuffer hb = TypedBuffer::from_double(p.dtype, in.bias);
    x = GpuBuffer(hx.size_bytes());
    w = GpuBuffer(hw.size_bytes());
    b = GpuBuffer(hb.size_bytes());
    x.upload(hx.data(), hx.size_bytes());
    w.upload(hw.data(), hw.size_bytes());
    b.upload(hb.data(), hb.size_bytes());
    y_count = t1d::y_count(p);
    y = GpuBuffer(static_cast<size_t>(y_count) * t1d::dtype_bytes(p.dtype));
  }
  convt1d_status forward(const convt1d_problem& p, cudaStream_t stream = nullptr) {
    return convt1d_forward(&p, x.get(), w.get(), p.has_bias ? b.get() : nullptr, y.get(), stream);
  }
  std::vector<double> download(int32_t dtype) const {
    TypedBuffer h(dtype, y_count);
    y.download(h.data(), h.size_bytes());
    return h.to_double();
  }
};

void expect_close(const Mode& m, const std::vector<double>& got, const std::vector<double>& ref,
                  const std::string& what) {
  const t1d::Comparison c = t1d::compare(got, ref);
  EXPECT_EQ(c.non_finite, 0) << what << ": unwritten (poison) or non-finite outputs; " << c.str();
  EXPECT_LE(c.rel_error, m.rel_tol) << what << ": " << c.str();
  EXPECT_LE(c.scaled_max(), m.scaled_max_tol()) << what << ": " << c.str();
}

class CudaParity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (convt1d_cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  }
};

// Runs p in every mode and algorithm against the reference; counts forced IMPLICIT_GEMM runs.
struct GemmCount {
  int attempted = 0, ran = 0;
};

void check_all_modes(convt1d_problem p, t1d::Rng& rng, const convt1d::detail::DeviceInfo& dev, GemmCount* gemm) {
  p.device = CONVT1D_DEVICE_CUDA;
  int32_t inputs_dtype = -1;
  Inputs in;
  std::vector<double> ref;
  for (const Mode& m : kModes) {
    p.dtype = m.dtype;
    p.math = m.math;
    if (m.dtype != inputs_dtype) {  // both fp32 modes share inputs and reference
      in = t1d::random_inputs(rng, p, m.dtype);
      ref = t1d::reference_of(p, in);
      inputs_dtype = m.dtype;
    }
    DeviceProblem d(p, in);
    for (int32_t algo : kAlgorithms) {
      p.algorithm = algo;
      const std::string what = std::string(m.name) + " " + t1d::algo_str(algo) + " " + describe(p);
      SCOPED_TRACE(what);
      d.y.fill_bytes(0xFF);
      const convt1d_status st = d.forward(p);
      const std::string error = convt1d_last_error();
      ASSERT_NO_THROW(convt1d::tools::gpu_synchronize());
      if (may_refuse(algo)) {
        const bool expected = p.batch == 0 || gemm_plannable(p, dev, algo);
        const bool counted = algo == CONVT1D_ALGO_IMPLICIT_GEMM && m.dtype != CONVT1D_FLOAT64 && p.batch > 0;
        if (counted) ++gemm->attempted;
        if (st == CONVT1D_UNSUPPORTED) {
          EXPECT_FALSE(expected) << "the planner accepts it, forward refused: " << error;
          EXPECT_FALSE(error.empty());
          continue;
        }
        EXPECT_TRUE(expected) << "forward ran a problem the planner refuses";
        if (counted) ++gemm->ran;
      }
      ASSERT_EQ(st, CONVT1D_OK) << error;
      EXPECT_STREQ(convt1d_last_error(), "");
      if (p.batch == 0) continue;
      expect_close(m, d.download(m.dtype), ref, what);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

TEST_F(CudaParity, RandomProblemsEveryModeAndAlgorithm) {
  const auto dev = current_device_info();
  t1d::Rng problem_rng(0xC0FFEE);  // the same problems MostFitTheImplicitGemmKernel looked at
  t1d::Rng input_rng(99);
  GemmCount gemm;
  for (int i = 0; i < kRandomProblems; ++i) {
    const convt1d_problem p = random_gpu_problem(problem_rng, i);
    check_all_modes(p, input_rng, dev, &gemm);
    if (HasFatalFailure()) return;
  }
  std::cout << "[ info ] forced implicit_gemm ran " << gemm.ran << " of " << gemm.attempted
            << " non-fp64 problems\n";
  EXPECT_GE(gemm.ran, gemm.attempted / 2) << "implicit_gemm refused most problems";
}

TEST_F(CudaParity, CornerProblems) {
  const auto dev = current_device_info();
  t1d::Rng rng(17);
  GemmCount gemm;
  for (const convt1d_problem& p : t1d::corner_problems()) {
    check_all_modes(p, rng, dev, &gemm);
    if (HasFatalFailure()) return;
  }
}

TEST_F(CudaParity, Kb74MediumShape) {
  // KernelBench level-1 #74 with a short row: B 2, C_in 32, C_out 64, K 5, dilation 3, L 5000.
  convt1d_problem p = convt1d_problem_init(2, 32, 64, 5000, 5);
  p.dilation = 3;
  const auto dev = current_device_info();
  t1d::Rng rng(74);
  GemmCount gemm;
  check_all_modes(p, rng, dev, &gemm);
  p.has_bias = 1;
  check_all_modes(p, rng, dev, &gemm);
  if (dev.cc_major >= 8) {
    EXPECT_EQ(gemm.ran, gemm.attempted) << "the headline shape must run on tensor cores in every 16/32-bit mode";
  }
}

// Layers whose reduction does not fit in shared memory stream raw weight rows chunk by chunk:
// HiFi-GAN-like upsamplers (even K, stride 8; few tiles, so fp32 splits the reduction), a partial
// channel tile, groups, and an odd K whose rows are not 16-byte aligned (element-wise copies).
TEST_F(CudaParity, StreamedWeightLayers) {
  const auto dev = current_device_info();
  t1d::Rng rng(51);
  GemmCount gemm;
  struct Layer { int64_t batch, c_in, c_out, length, k, stride, padding, groups; };
  const Layer layers[] = {
      {1, 512, 256, 23, 16, 8, 4, 1},   // HiFi-GAN up0, shortened
      {2, 384, 96, 70, 8, 4, 2, 1},     // C_out not a multiple of 64
      {1, 256, 160, 40, 7, 3, 1, 2},    // groups 2, odd K
      {3, 200, 64, 33, 5, 1, 0, 1},     // C_in not a multiple of a chunk
      {8, 1024, 128, 150, 8, 4, 2, 1},  // a training batch: chunks reused enough to be pre-packed
  };
  for (const Layer& l : layers) {
    convt1d_problem p = convt1d_problem_init(l.batch, l.c_in, l.c_out, l.length, l.k);
    p.stride = l.stride;
    p.padding = l.padding;
    p.groups = l.groups;
    p.has_bias = 1;
    if (dev.cc_major >= 8) {
      p.dtype = CONVT1D_FLOAT32;
      p.device = CONVT1D_DEVICE_CUDA;
      const auto plan = convt1d::detail::make_plan(p, dev);
      EXPECT_TRUE(plan.gemm.stream_w) << "expected streamed weights, C_in " << l.c_in;
      if (&l == &layers[0]) EXPECT_GT(plan.gemm.splits, 1) << "a 4-tile layer should split its reduction";
      if (&l == &layers[4]) EXPECT_TRUE(plan.gemm.pack_w) << "a training batch should pre-pack its weights";
    }
    check_all_modes(p, rng, dev, &gemm);
    if (HasFatalFailure()) return;
  }
  if (dev.cc_major >= 8) EXPECT_EQ(gemm.ran, gemm.attempted);
}

// The Hopper tap-major GEMM (forced), on layers that exercise its tiling: one window per row, several
// rows per tile, overlapping windows, a C_in that is not a multiple of 64 (zero-filled chunk), C_out*K
// that is not a multiple of 64 (rows past the tile), dilation, output_padding, stride > K (phases
// with no taps), rows that are not 16-byte multiples (padded copy), then random layers it accepts. Every one must run on an sm_90 device.
// A layer of the fixed lists below, as a CUDA problem (bias, dtype and algorithm left to the caller).
struct Layer {
  int64_t batch, c_in, c_out, length, k, stride, padding, dilation, output_padding;
  convt1d_problem problem() const {
    convt1d_problem p = convt1d_problem_init(batch, c_in, c_out, length, k);
    p.stride = stride;
    p.padding = padding;
    p.dilation = dilation;
    p.output_padding = output_padding;
    p.device = CONVT1D_DEVICE_CUDA;
    return p;
  }
};

// Runs p (dtype and math of mode m) on random inputs into a poisoned output and compares with the
// fp64 reference. Fatal failures stop here; callers check HasFatalFailure().
void expect_matches_reference(const convt1d_problem& p, const Mode& m, t1d::Rng& rng, const std::string& what) {
  const Inputs in = t1d::random_inputs(rng, p, m.dtype);
  const std::vector<double> ref = t1d::reference_of(p, in);
  DeviceProblem d(p, in);
  d.y.fill_bytes(0xFF);
  ASSERT_EQ(d.forward(p), CONVT1D_OK) << what << ": " << convt1d_last_error();
  ASSERT_NO_THROW(convt1d::tools::gpu_synchronize()) << what;
  expect_close(m, d.download(m.dtype), ref, what);
}

TEST_F(CudaParity, WgmmaLayers) {
  const auto dev = current_device_info();
  if (!dev.wgmma) GTEST_SKIP() << "needs an sm_90 device and an sm_90a build";
  const std::vector<Layer> fixed = {
      {2, 256, 96, 64, 8, 4, 2, 1, 0},      // BigVGAN-like, short: rows share tiles
      {1, 512, 64, 1000, 16, 8, 4, 1, 0},   // overlapping windows along a long row
      {3, 200, 40, 72, 5, 1, 0, 3, 0},      // KB74-like taps, partial reduction chunk
      {32, 64, 128, 16, 16, 8, 4, 1, 0},    // Oobleck-like short rows: several rows per tile
      {2, 320, 48, 520, 7, 3, 1, 2, 1},     // dilation, output_padding, windows
      {1, 64, 8, 2048, 4, 2, 1, 1, 0},      // one channel tile, many windows
      {2, 96, 130, 40, 12, 16, 2, 1, 3},    // stride > K: phases without taps
      {1, 512, 256, 87, 16, 8, 4, 1, 0},    // HiFi-GAN up0: rows of 87 read through a padded copy
      {1, 128, 16, 1000, 8, 4, 1100, 1, 0}, // padding wider than the first windows: they own nothing
      {2, 2048, 32, 40, 16, 8, 4, 1, 0},    // Oobleck-deep reduction: IEEE's longest accumulation chains
      {8, 1056, 8, 600, 8, 4, 2, 1, 0},     // deep, many row tiles: IEEE small-part sums on packed W^T
      {12, 600, 48, 900, 16, 8, 1, 1, 0},   // long reduction over > 1 wave: persistent blocks in 16-bit
                                            // (stride 8: the register epilogue, no Z)
      {6, 512, 64, 2000, 8, 4, 2, 1, 0},    // persistent blocks at stride 4: Z after the stages
      {64, 96, 64, 256, 16, 8, 4, 1, 0},    // K 16, stride 8, rows of whole 256-position windows:
                                            // the register epilogue's output one column past the window
      {3, 40, 24, 30000, 4, 2, 1, 1, 0},    // a one-chunk reduction over many waves: persistent 16-bit
                                            // tiles whose stage ring wraps every tile or two
      {24, 128, 64, 264, 16, 8, 4, 1, 0},   // DAC-like rows cut into windows, several batch rows per
                                            // tile (segments of one window each): register epilogue
                                            // (persistent in 16-bit and TF32)
      {48, 96, 64, 200, 8, 4, 2, 1, 0},     // the same at stride 4, through Z (persistent in 16-bit)
      {2, 384, 192, 1400, 8, 4, 2, 1, 0},   // wide tiles (three consumers) through Z, every mode
      {9, 384, 192, 264, 16, 8, 4, 1, 0},   // wide tiles of two rows' windows, register epilogue
                                            // (persistent in 16-bit and TF32)
      {24, 64, 96, 300, 16, 8, 4, 1, 0},    // 16-bit over joined rows: wide persistent tiles
      {13, 40, 56, 301, 16, 8, 0, 1, 5},    // joined rows of an odd length and batch, output_padding
      {16, 8, 64, 4096, 8, 4, 2, 1, 0},     // stride 4, TF32: persistent tiles over >= 8 rounds, the
                                            // register epilogue on W^T rows regrouped by the packing
      {16, 8, 128, 4096, 4, 2, 1, 1, 0},    // the same at stride 2
      {32, 8, 256, 2048, 2, 1, 0, 1, 0},    // and at stride 1, kernel_size 2
  };
  std::vector<Layer> layers = fixed;
  t1d::Rng shape_rng(905);
  for (int i = 0; i < 24; ++i) {  // random layers the kernel accepts
    Layer l;
    l.batch = t1d::rand_int(shape_rng, 1, 5);
    l.c_in = t1d::rand_int(shape_rng, 1, 400);
    l.k = t1d::rand_int(shape_rng, 1, 32);
    l.c_out = 8 * t1d::rand_int(shape_rng, 1, 20);
    l.length = t1d::rand_int(shape_rng, 1, 800);
    l.stride = t1d::rand_int(shape_rng, 1, 16);
    l.dilation = t1d::rand_int(shape_rng, 1, 4);
    l.padding = t1d::rand_int(shape_rng, 0, (l.k - 1) * l.dilation / 2);
    l.output_padding = t1d::rand_int(shape_rng, 0, std::max<int64_t>(l.stride, l.dilation) - 1);
    layers.push_back(l);
  }
  t1d::Rng rng(906);
  int ran = 0, multi_segment = 0, multi_window = 0, raw_weights = 0, packed_columns = 0, segment_sums = 0;
  int persistent = 0, register_epilogue = 0, register_persistent = 0, register_raw = 0, persistent_tf32 = 0;
  int short_persistent = 0, windowed_segments = 0, windowed_segments_z = 0;
  int wide = 0, wide_z = 0, wide_persistent = 0, joined = 0, regrouped = 0, fp32_persistent_stride8 = 0;
  for (const Layer& l : layers) {
    convt1d_problem p = l.problem();
    p.has_bias = ran % 2 == 0;
    p.algorithm = CONVT1D_ALGO_WGMMA;
    p.dtype = CONVT1D_BFLOAT16;
    if (convt1d_validate(&p) != CONVT1D_OK) continue;  // a random output_padding may be invalid
    // Random K may leave no 16-byte aligned weight tile (e.g. odd K > 8): refused, as the CPU tests check.
    const bool random = &l - layers.data() >= static_cast<ptrdiff_t>(fixed.size());
    if (random && !gemm_plannable(p, dev, CONVT1D_ALGO_WGMMA)) continue;
    for (const Mode& m : kModes) {
      if (m.dtype == CONVT1D_FLOAT64) continue;  // fp32 (TF32, IEEE as 3xTF32), fp16, bf16
      p.dtype = m.dtype;
      p.math = m.math;
      if (random && !gemm_plannable(p, dev, CONVT1D_ALGO_WGMMA)) continue;
      const auto plan = convt1d::detail::make_plan(p, dev);
      ASSERT_EQ(plan.kernel, convt1d::detail::KernelKind::Wgmma) << describe(p);
      multi_segment += plan.wgmma.segments > 1;
      multi_window += plan.wgmma.windows > 1;
      raw_weights += plan.wgmma.raw_weights;
      packed_columns += plan.wgmma.tf32_columns && !plan.wgmma.raw_weights;
      segment_sums += plan.wgmma.segment_sums && !plan.wgmma.raw_weights;
      persistent += plan.wgmma.persistent;
      register_epilogue += plan.wgmma.register_epilogue;
      register_persistent += plan.wgmma.register_epilogue && plan.wgmma.persistent;
      register_raw += plan.wgmma.register_epilogue && plan.wgmma.raw_weights;
      persistent_tf32 += plan.wgmma.persistent && plan.wgmma.tf32;
      short_persistent += plan.wgmma.persistent && plan.wgmma.k_chunks < plan.wgmma.stages;
      const bool windowed = plan.wgmma.segments > 1 && plan.wgmma.windows > 1;
      windowed_segments += windowed;
      windowed_segments_z += windowed && !plan.wgmma.register_epilogue;
      const bool wide_tile = plan.wgmma.consumers == convt1d::detail::kWgmmaWideConsumers;
      wide += wide_tile;
      wide_z += wide_tile && !plan.wgmma.register_epilogue;
      wide_persistent += wide_tile && plan.wgmma.persistent;
      joined += plan.wgmma.joined_pitch > 0;
      regrouped += plan.wgmma.tap_pairs;
      fp32_persistent_stride8 += plan.wgmma.tf32 && plan.wgmma.persistent && plan.wgmma.register_epilogue &&
                                 plan.shape.stride == convt1d::detail::kRegisterEpilogueStride;
      expect_matches_reference(p, m, rng, std::string(m.name) + " wgmma " + describe(p));
      if (HasFatalFailure()) return;
      ++ran;
    }
  }
  EXPECT_GE(ran, 30);
  EXPECT_GT(multi_segment, 0) << "no layer put several rows in one tile";
  EXPECT_GT(multi_window, 0) << "no layer cut a row into windows";
  EXPECT_GT(raw_weights, 0) << "no fp32 layer read its weights as stored";
  EXPECT_GT(packed_columns, 0) << "no fp32 layer ran on packed W^T tiles";
  EXPECT_GT(segment_sums, 0) << "no IEEE layer on packed W^T summed its reduction in segments";
  EXPECT_GE(persistent, 2) << "the persistent kernel did not run in fp16 and bf16";
  EXPECT_GE(register_epilogue, 12) << "too few layers summed their outputs from the accumulators";
  EXPECT_GE(register_persistent, 2) << "no persistent tiles summed their outputs from the accumulators";
  EXPECT_GE(persistent, register_persistent + 2) << "no persistent tiles in fp16 and bf16 went through Z";
  EXPECT_GE(register_raw, 2) << "no raw-weights tiles summed their outputs from the accumulators";
  EXPECT_GE(persistent_tf32, 1) << "no fp32 layer ran on persistent packed-W^T tiles";
  EXPECT_GE(short_persistent, 2) << "no persistent tiles in fp16 and bf16 had fewer chunks than stages";
  EXPECT_GE(windowed_segments, 8) << "too few layers put windows of several rows, not whole rows, in a tile";
  EXPECT_GE(windowed_segments_z, 4) << "too few such tiles went through Z";
  EXPECT_GE(wide, 6) << "too few layers ran wide tiles (three consumer warpgroups)";
  EXPECT_GE(wide_z, 3) << "too few wide tiles went through Z";
  EXPECT_GE(wide_persistent, 2) << "too few wide tiles ran persistent";
  EXPECT_GE(joined, 4) << "too few 16-bit layers joined their batch rows";
  EXPECT_GE(regrouped, 3) << "too few TF32 layers summed from W^T rows regrouped for strides below 8";
  EXPECT_GE(fp32_persistent_stride8, 2) << "too few fp32 persistent stride-8 tiles (register_shift_add_apart)";
}

// Layers whose TF32 / IEEE operand packing runs by TMA (WgmmaTiling::pack_blocks: tens of MB, too
// many MACs for the whole fp64 reference): every output written (poisoned first), and sampled outputs
// (random ones, the first and last channel rows of the first and last batch rows) against
// reference_point. Channels that are not whole 32-channel chunks, and positions and W^T rows that
// are not whole 128-position tiles, reach the tiles' edges.
TEST_F(CudaParity, TmaPackedOperands) {
  const auto dev = current_device_info();
  if (!dev.wgmma) GTEST_SKIP() << "needs an sm_90 device and an sm_90a build";
  const std::vector<Layer> layers = {
      {1, 768, 384, 600, 10, 5, 3, 1, 0},   // the suite's S12
      {4, 1000, 384, 300, 16, 8, 4, 1, 0},  // 1000 channels, rows of 300 positions
      {3, 1000, 300, 500, 16, 8, 4, 1, 0},  // W^T of 4800 rows, rows of 500
      {4, 512, 512, 4096, 8, 4, 2, 1, 0},   // stride 4: in TF32, W^T rows regrouped for the register
                                            // epilogue (persistent tiles over 17 rounds)
  };
  t1d::Rng rng(152);
  int ran = 0, regrouped = 0;
  for (const Layer& l : layers) {
    convt1d_problem p = l.problem();
    p.has_bias = 1;
    for (const Mode& m : {kModes[1], kModes[2]}) {  // fp32 IEEE and TF32
      p.dtype = m.dtype;
      p.math = m.math;
      const std::string what = std::string(m.name) + " " + describe(p);
      const auto plan = convt1d::detail::make_plan(p, dev);
      ASSERT_GT(plan.wgmma.pack_blocks, 0) << what << ": not packed by TMA";
      regrouped += plan.wgmma.tap_pairs;
      const Inputs in = t1d::random_inputs(rng, p, m.dtype);
      DeviceProblem d(p, in);
      d.y.fill_bytes(0xFF);
      ASSERT_EQ(d.forward(p), CONVT1D_OK) << what << ": " << convt1d_last_error();
      ASSERT_NO_THROW(convt1d::tools::gpu_synchronize()) << what;
      const std::vector<double> y = d.download(m.dtype);
      const int64_t l_out = t1d::formula_out_length(p);
      std::vector<int64_t> samples;
      for (int i = 0; i < 4000; ++i) samples.push_back(t1d::rand_int(rng, 0, d.y_count - 1));
      for (const int64_t b : {int64_t{0}, p.batch - 1})
        for (const int64_t co : {int64_t{0}, p.out_channels - 1})
          for (int64_t t = 0; t < l_out; ++t) samples.push_back((b * p.out_channels + co) * l_out + t);
      std::vector<double> got, ref;
      for (const int64_t i : samples) {
        const int64_t t = i % l_out, co = (i / l_out) % p.out_channels, b = i / (l_out * p.out_channels);
        got.push_back(y[static_cast<size_t>(i)]);
        ref.push_back(convt1d::detail::reference_point(p, in.x.data(), in.w.data(), in.bias_ptr(), b, co, t));
      }
      int64_t unwritten = 0;
      for (const double v : y) unwritten += !std::isfinite(v);
      EXPECT_EQ(unwritten, 0) << what << ": outputs left poisoned";
      expect_close(m, got, ref, what + " (sampled)");
      if (HasFailure()) return;
      ++ran;
    }
  }
  EXPECT_EQ(ran, 8);
  EXPECT_EQ(regrouped, 1) << "the TMA packing did not regroup W^T's rows";
}

// Weights packed ahead (convt1d_pack_weight) and read by convt1d_forward_packed: after packing, the
// weight buffer is zeroed, so only outputs computed from the packed bytes match the reference. Covers
// W^T regrouped for tap pairs, a plan that then packs nothing per call (x read in place), IEEE's split
// parts, and plans that pack no weights (size 0, no packed buffer).
TEST_F(CudaParity, PackedWeightsReplaceThePerCallPacking) {
  const auto dev = current_device_info();
  if (!dev.wgmma) GTEST_SKIP() << "needs an sm_90 device and an sm_90a build";
  const std::vector<Layer> layers = {
      {16, 8, 64, 4096, 8, 4, 2, 1, 0},  // TF32: persistent, W^T rows regrouped (tap_pairs)
      {2, 512, 256, 64, 8, 4, 2, 1, 0},  // TF32 packed W^T; IEEE raw weights (nothing packed)
      {1, 128, 64, 5568, 4, 2, 1, 1, 0},  // TF32: x read in place, so no packing kernel at all
      {2, 320, 48, 520, 7, 3, 1, 2, 1},  // dilation, output_padding
  };
  t1d::Rng rng(166);
  int packed_runs = 0, unpacked_runs = 0, regrouped = 0, no_packing_kernel = 0;
  for (const Layer& l : layers) {
    convt1d_problem p = l.problem();
    p.has_bias = 1;
    p.algorithm = CONVT1D_ALGO_WGMMA;
    for (const Mode& m : {kModes[1], kModes[2]}) {  // fp32 IEEE and TF32
      p.dtype = m.dtype;
      p.math = m.math;
      const std::string what = std::string(m.name) + " " + describe(p);
      convt1d_packed_layout layout{};
      ASSERT_EQ(convt1d_packed_weight_layout(&p, &layout), CONVT1D_OK) << what << ": " << convt1d_last_error();
      const auto plan = convt1d::detail::make_plan(p, dev);
      const uint64_t bytes = layout.bytes;
      ASSERT_EQ(bytes, static_cast<uint64_t>(convt1d::detail::packed_weight_layout(plan).bytes)) << what;
      ASSERT_EQ(layout.id, convt1d::detail::packed_weight_layout(plan).id) << what;
      const Inputs in = t1d::random_inputs(rng, p, m.dtype);
      const std::vector<double> ref = t1d::reference_of(p, in);
      DeviceProblem d(p, in);
      GpuBuffer packed(bytes);
      ASSERT_EQ(convt1d_pack_weight(&p, d.w.get(), packed.get(), &layout, nullptr), CONVT1D_OK)
          << what << ": " << convt1d_last_error();
      if (bytes > 0) {
        d.w.fill_bytes(0);
        ++packed_runs;
        regrouped += plan.wgmma.tap_pairs;
        no_packing_kernel += !plan.wgmma.x_transposed;
      } else {
        ++unpacked_runs;
      }
      d.y.fill_bytes(0xFF);
      ASSERT_EQ(convt1d_forward_packed(&p, d.x.get(), d.w.get(), packed.get(), &layout, d.b.get(), d.y.get(), nullptr),
                CONVT1D_OK)
          << what << ": " << convt1d_last_error();
      ASSERT_NO_THROW(convt1d::tools::gpu_synchronize()) << what;
      expect_close(m, d.download(m.dtype), ref, what);
      if (HasFailure()) return;
      // A layout that is not the problem's is refused before anything runs.
      const convt1d_packed_layout other{layout.bytes, layout.id + 1};
      EXPECT_EQ(convt1d_forward_packed(&p, d.x.get(), d.w.get(), packed.get(), &other, d.b.get(), d.y.get(), nullptr),
                CONVT1D_INVALID_ARGUMENT)
          << what;
      EXPECT_TRUE(t1d::contains(convt1d_last_error(), "do not fit this problem")) << convt1d_last_error();
    }
  }
  EXPECT_GE(packed_runs, 5);
  EXPECT_GE(unpacked_runs, 1);
  EXPECT_GE(regrouped, 1) << "no layer regrouped W^T's rows";
  EXPECT_GE(no_packing_kernel, 1) << "no layer ran without a packing kernel";
}

// Random problems (fp32, TF32 and IEEE, AUTO and the forced tap-major kernel) through
// convt1d_forward_packed, the weights zeroed after packing wherever their layout is not empty.
TEST_F(CudaParity, RandomProblemsWithPackedWeights) {
  const auto dev = current_device_info();
  if (!dev.wgmma) GTEST_SKIP() << "needs an sm_90 device and an sm_90a build";
  t1d::Rng problem_rng(0x9ACCED), input_rng(167);
  int packed_runs = 0, runs = 0;
  for (int i = 0; i < kRandomPackedProblems; ++i) {
    convt1d_problem p = random_gpu_problem(problem_rng, i);
    if (p.groups != 1) continue;  // (the tap-major kernel runs groups 1 only)
    const Inputs in = t1d::random_inputs(input_rng, p, CONVT1D_FLOAT32);
    const std::vector<double> ref = t1d::reference_of(p, in);
    for (const Mode& m : {kModes[1], kModes[2]})
      for (const int32_t algo : {CONVT1D_ALGO_AUTO, CONVT1D_ALGO_WGMMA}) {
        p.dtype = m.dtype;
        p.math = m.math;
        p.algorithm = algo;
        const std::string what = std::string(m.name) + " " + t1d::algo_str(algo) + " " + describe(p);
        convt1d_packed_layout layout{};
        const convt1d_status st = convt1d_packed_weight_layout(&p, &layout);
        if (st == CONVT1D_UNSUPPORTED && algo != CONVT1D_ALGO_AUTO) continue;  // the forced kernel refuses p
        ASSERT_EQ(st, CONVT1D_OK) << what << ": " << convt1d_last_error();
        DeviceProblem d(p, in);
        GpuBuffer packed(layout.bytes);
        ASSERT_EQ(convt1d_pack_weight(&p, d.w.get(), packed.get(), &layout, nullptr), CONVT1D_OK)
            << what << ": " << convt1d_last_error();
        if (layout.bytes > 0) d.w.fill_bytes(0);
        d.y.fill_bytes(0xFF);
        ASSERT_EQ(convt1d_forward_packed(&p, d.x.get(), d.w.get(), packed.get(), &layout,
                                         p.has_bias ? d.b.get() : nullptr, d.y.get(), nullptr),
                  CONVT1D_OK)
            << what << ": " << convt1d_last_error();
        ASSERT_NO_THROW(convt1d::tools::gpu_synchronize()) << what;
        ++runs;
        packed_runs += layout.bytes > 0;
        if (p.batch == 0) continue;
        expect_close(m, d.download(m.dtype), ref, what);
        if (HasFatalFailure()) return;
      }
  }
  std::cout << "[ info ] " << packed_runs << " of " << runs << " runs read packed weights\n";
  EXPECT_GE(packed_runs, runs / 4) << "few random problems packed their weights";
}

// Kernels longer than a wgmma tile holds taps of (K in the hundreds to thousands) run as a GEMM into a
// workspace, then col2im, in every mode but fp64 (fp16 and bf16 through fp32 copies of x and W): AUTO
// must pick it and be right, with every parameter in play.
TEST_F(CudaParity, GemmCol2imLayers) {
  const auto dev = current_device_info();
  if (!dev.wgmma) GTEST_SKIP() << "needs an sm_90 device and an sm_90a build";
  const Layer layers[] = {
      {2, 64, 1, 20, 1000, 100, 0, 1, 0},   // the suite's P3 (K 10000, stride 1000), scaled down
      {1, 40, 3, 33, 300, 7, 5, 2, 1},      // dilation, output_padding, rows of 33 (a padded copy)
      {3, 100, 2, 10, 256, 256, 0, 1, 0},   // stride == K: every output has exactly one tap
      {1, 17, 5, 50, 500, 3, 200, 1, 2},    // heavy padding, many taps per output
  };
  t1d::Rng rng(907);
  for (const Layer& l : layers)
    for (const Mode& m : {kModes[1], kModes[2], kModes[3], kModes[4]}) {  // fp32 IEEE and TF32, fp16, bf16
      ASSERT_NE(m.dtype, CONVT1D_FLOAT64);
      convt1d_problem p = l.problem();
      p.has_bias = l.c_out != 2;
      p.dtype = m.dtype;
      p.math = m.math;
      ASSERT_EQ(convt1d_validate(&p), CONVT1D_OK) << describe(p) << ": " << convt1d_last_error();
      ASSERT_EQ(convt1d::detail::make_plan(p, dev).kernel, convt1d::detail::KernelKind::GemmCol2im) << describe(p);
      expect_matches_reference(p, m, rng, std::string(m.name) + " gemm_col2im " + describe(p));
      if (HasFatalFailure()) return;
    }
}

// Layers on the streaming kernel, in every mode it runs (fp32 TF32 and IEEE, fp16, bf16): KB74's
// taps on rows long enough that every block takes many tiles (both consumer warpgroups, the stage
// ring wrapping), partial channel tiles (C_in not a multiple of 8, C_out not of 32), bias, padding
// wider than the taps' reach, output_padding, rows stored in vectors and element by element, strides
// 2-8 (phases with different taps, and without any); then random layers it accepts.
TEST_F(CudaParity, WgmmaStreamLayers) {
  const auto dev = current_device_info();
  if (!dev.wgmma) GTEST_SKIP() << "needs an sm_90 device and an sm_90a build";
  const std::vector<Layer> fixed = {
      {4, 32, 64, 70000, 5, 1, 0, 3, 0},    // KB74's channels and taps, 2188 tiles: fp32's 6-stage ring
      {3, 13, 20, 30000, 4, 1, 9, 2, 0},    // partial tiles, padding
      {2, 8, 64, 8192, 1, 1, 0, 1, 0},      // one tap: a 1x1 convolution
      {1, 40, 40, 2048, 3, 1, 69, 5, 0},    // padding beyond the reach: the window starts right of the tile
      {2, 24, 33, 12000, 16, 1, 7, 7, 5},   // reach 105 (the widest window class), output_padding
      {2, 48, 24, 8192, 4, 2, 1, 1, 0},     // BigVGAN's last upsampler (T4): 2 phases of 2 taps
      {1, 64, 32, 2000, 6, 3, 2, 1, 1},     // 3 phases, output_padding
      {4, 64, 32, 1000, 5, 2, 4, 3, 1},     // stride and dilation (X2)
      {1, 16, 8, 1024, 8, 4, 2, 1, 0},      // 4 phases of 2 taps (HiFi-GAN-like)
      {1, 16, 16, 512, 2, 4, 0, 1, 0},      // stride > K: phases without taps (bias only)
      {9, 48, 24, 32768, 4, 2, 1, 1, 0},    // T4's channels, 2304 tiles: phases rotated in TF32 as well
      // Phase blocks (one phase, or one channel group, per block): C_out past 64, or W^T too large to keep whole.
      {2, 128, 128, 4096, 4, 2, 1, 1, 0},   // Oobleck's last upsampler (T8), shortened
      {2, 96, 100, 3000, 4, 2, 1, 1, 0},    // partial channel tile (N 128)
      {1, 60, 72, 1000, 7, 3, 2, 1, 2},     // 3 and 2 taps per phase, output_padding (N 96)
      {1, 16, 65, 512, 2, 4, 0, 1, 0},      // phases without taps
      {3, 64, 96, 16384, 4, 2, 1, 1, 0},    // ~12 tiles per block: 16-bit in clusters of 2 paced blocks
      {2, 8, 96, 180000, 4, 2, 1, 1, 0},    // 16-bit y past 64 MiB: channel groups of 64 (the second half empty)
      {1, 16, 128, 131072, 4, 2, 1, 1, 1},  // 16-bit y past 64 MiB, phases rotated, odd L_out: element stores
      {2, 60, 72, 3000, 4, 2, 1, 1, 0},     // IEEE: x windows in parts of 32 rows, 4 of them TMA zero fill
      // Rows that are not 16-byte multiples (x as a whole a 16-byte multiple): one bulk copy per channel
      // row, the row ends zeroed by the consumer.
      {4, 30, 64, 40001, 5, 1, 0, 3, 0},    // KB74's taps (fp32: slots transposed)
      {8, 13, 20, 30003, 4, 1, 9, 2, 0},    // channel rows past C_in, padding
      {3, 48, 24, 32767, 4, 2, 1, 1, 0},    // T4's channels: two phases, rotated
      {2, 40, 40, 130, 3, 1, 69, 5, 0},     // two tiles a row, padding beyond the reach
      {2, 24, 33, 37, 16, 1, 7, 7, 5},      // one window wider than its row: both ends in one tile
      // In 16-bit such rows through one TMA map per residue of the rows' starts where C_in is 32 or 64, the left
      // row end zeroed by the consumer (fp32: row boxes).
      {2, 32, 64, 5004, 5, 1, 0, 3, 0},     // 16-byte rows in fp32
      {2, 32, 64, 40001, 5, 1, 0, 3, 0},    // KB74's taps
      {3, 64, 24, 32767, 4, 2, 1, 1, 0},    // two phases, rotated, four k-steps a tap
      {2, 64, 40, 130, 3, 1, 69, 5, 0},     // padding beyond the reach
      {2, 32, 20, 37, 16, 1, 7, 7, 5},      // one window wider than its row, the widest (no conflict-free pitch)
      {2, 32, 20, 30006, 4, 1, 9, 2, 0},    // rows of 6 (mod 8), padding
      // y rows that are not multiples of 4 from 16-byte x rows: 16-bit stages them skewed (skewed_rows.hpp).
      {2, 32, 64, 4096, 5, 1, 0, 3, 1},     // KB74's taps, rows of 4109
      {3, 48, 24, 8192, 4, 2, 1, 1, 1},     // two phases, rows of 16385
  };
  std::vector<Layer> layers = fixed;
  // A random layer's taps, stride, dilation, padding and output_padding, drawn in that order after its
  // batch, channels and length.
  auto with_random_taps = [](t1d::Rng& r, Layer l) {
    l.k = t1d::rand_int(r, 1, 9);
    l.stride = t1d::rand_int(r, 1, 4);
    l.dilation = t1d::rand_int(r, 1, 6);
    l.padding = t1d::rand_int(r, 0, (l.k - 1) * l.dilation + 2);
    l.output_padding = t1d::rand_int(r, 0, std::max(l.stride, l.dilation) - 1);
    return l;
  };
  t1d::Rng shape_rng(311);
  for (int i = 0; i < 24; ++i) {
    Layer l;
    l.batch = t1d::rand_int(shape_rng, 1, 3);
    l.c_in = t1d::rand_int(shape_rng, 1, i % 2 ? 96 : 192);
    l.c_out = t1d::rand_int(shape_rng, 1, i % 2 ? 64 : 128);
    l.length = 8 * t1d::rand_int(shape_rng, 1, 1500);
    layers.push_back(with_random_taps(shape_rng, l));
  }
  t1d::Rng odd_rng(313);  // random layers on rows of any length
  for (int i = 0; i < 8; ++i) {
    Layer l;
    l.batch = t1d::rand_int(odd_rng, 1, 3);
    l.c_in = i % 2 ? t1d::rand_int(odd_rng, 1, 96) : 8 * t1d::rand_int(odd_rng, 1, 12);  // (whole 16-byte x)
    l.c_out = t1d::rand_int(odd_rng, 1, 64);
    l.length = t1d::rand_int(odd_rng, 1, 9000);
    layers.push_back(with_random_taps(odd_rng, l));
  }
  t1d::Rng rng(312);
  int ran = 0, many_tiles = 0, odd_rows = 0, deep_rings = 0, phase_blocks = 0, paced = 0, grouped = 0, grouped16 = 0;
  int rotated = 0, rotated_tiles = 0, rotated_tf32 = 0, parts = 0, row_boxes = 0, row_boxes16 = 0;
  int row_boxes_transposed = 0, row_boxes_fp32_in_order = 0;  // fp32 stage slots (row_boxes.hpp, row_box_slot)
  int row_residues = 0;  // 16-bit only
  int skewed = 0;        // 16-bit stride-1 tiles whose y rows are staged skewed
  for (const Layer& l : layers) {
    convt1d_problem p = l.problem();
    p.has_bias = ran % 2 == 0;
    p.algorithm = CONVT1D_ALGO_WGMMA_STREAM;
    const bool random = &l - layers.data() >= static_cast<ptrdiff_t>(fixed.size());
    if (convt1d_validate(&p) != CONVT1D_OK) continue;  // a random output_padding may be invalid
    for (const Mode& m : kModes) {
      if (m.dtype == CONVT1D_FLOAT64) continue;  // fp32 (TF32 and IEEE), fp16, bf16
      p.dtype = m.dtype;
      p.math = m.math;
      const bool plannable = gemm_plannable(p, dev, CONVT1D_ALGO_WGMMA_STREAM);
      // (IEEE doubles the resident weights: the widest fixed layer does not fit then)
      if ((random || m.math == CONVT1D_MATH_IEEE) && !plannable) continue;
      ASSERT_TRUE(plannable) << "fixed layer refused: " << m.name << " " << describe(p);
      const auto plan = convt1d::detail::make_plan(p, dev);
      ASSERT_EQ(plan.kernel, convt1d::detail::KernelKind::WgmmaStream) << describe(p);
      many_tiles += plan.stream.tiles > 2 * plan.stream.stages * plan.stream.grid;
      deep_rings += plan.stream.stages > convt1d::detail::kStreamMaxStages;
      odd_rows += !plan.stream.phase_blocks && plan.shape.out_length % 4 != 0;
      phase_blocks += plan.stream.phase_blocks;
      paced += plan.stream.phase_blocks && plan.stream.cluster > 1;
      grouped += plan.stream.phase_blocks && plan.stream.block_phases > 1;
      grouped16 += plan.stream.phase_blocks && plan.stream.block_phases > 1 && m.dtype != CONVT1D_FLOAT32;
      rotated += plan.stream.phase_blocks && plan.stream.rotation != 0;
      parts += plan.stream.x_parts > 1;
      row_boxes += plan.stream.row_boxes;
      row_boxes16 += plan.stream.row_boxes && m.dtype != CONVT1D_FLOAT32;
      row_residues += plan.stream.row_residues;
      skewed += convt1d::detail::stream_stores(plan.shape, plan.stream, m.dtype, 256) ==
                convt1d::detail::StreamStores::Skewed;
      if (plan.stream.row_boxes && m.dtype == CONVT1D_FLOAT32) {
        const bool transposed = convt1d::detail::row_box_transposed<4>(plan.stream.ci_pad);
        row_boxes_transposed += transposed;
        row_boxes_fp32_in_order += !transposed;
      }
      rotated_tiles += !plan.stream.phase_blocks && plan.stream.rotation != 0;
      rotated_tf32 += !plan.stream.phase_blocks && plan.stream.rotation != 0 && m.dtype == CONVT1D_FLOAT32 &&
                      m.math == CONVT1D_MATH_TF32;
      expect_matches_reference(p, m, rng, std::string(m.name) + " wgmma_stream " + describe(p));
      if (HasFatalFailure()) return;
      ++ran;
    }
  }
  EXPECT_GE(ran, 60);
  EXPECT_GT(many_tiles, 0) << "no layer wrapped the stage ring";
  EXPECT_GT(deep_rings, 0) << "no layer ran the deeper fp32 ring";
  EXPECT_GE(odd_rows, 5) << "too few every-phase layers had y rows the store warps write element by element";
  EXPECT_GE(phase_blocks, 16) << "too few layers ran on phase blocks";
  EXPECT_GE(paced, 2) << "the paced layer did not run in clusters in 16-bit";
  EXPECT_GE(grouped, 8) << "too few layers ran on channel-group phase blocks";
  EXPECT_GE(grouped16, 2) << "the 16-bit channel-group layer did not run on them";
  EXPECT_GE(rotated, 4) << "too few 16-bit channel-group layers ran with rotated phases";
  EXPECT_GE(rotated_tiles, 8) << "too few every-phase tilings ran with rotated phases";
  EXPECT_GE(rotated_tf32, 1) << "no TF32 tiling ran with rotated phases";
  EXPECT_GE(parts, 2) << "too few IEEE layers ran with x windows in channel parts";
  EXPECT_GE(row_boxes, 15) << "too few layers ran with rows that are not 16-byte multiples";
  EXPECT_GE(row_boxes16, 10) << "too few 16-bit layers ran with rows that are not 16-byte multiples";
  EXPECT_GE(row_boxes_transposed, 4) << "too few fp32 row-box layers ran on transposed slots";
  EXPECT_GE(row_boxes_fp32_in_order, 2) << "too few fp32 row-box layers ran on slots in channel order";
  EXPECT_GE(row_residues, 8) << "too few 16-bit layers ran on residue maps";
  EXPECT_GE(skewed, 16) << "too few 16-bit layers ran with y rows staged skewed";
}

// 16-bit y rows that are not multiples of 4 elements at stride 1, in a y at every alignment (a view zero to three elements
// into its buffer): the streaming kernel stages the rows skewed (StreamStores::Skewed) and must write every
// output of y, and nothing on either side of it.
TEST_F(CudaParity, WgmmaStreamSkewedRowsOfY16Bit) {
  const auto dev = current_device_info();
  if (!dev.wgmma) GTEST_SKIP() << "needs an sm_90 device and an sm_90a build";
  t1d::Rng rng(207);
  int ran = 0;
  for (const Mode& m : kModes) {
    if (m.dtype != CONVT1D_FLOAT16 && m.dtype != CONVT1D_BFLOAT16) continue;
    for (const Layer& l : {Layer{2, 32, 64, 4096, 5, 1, 0, 3, 1},    // 16-byte x rows, y rows of 4109
                           Layer{3, 32, 64, 20001, 5, 1, 0, 3, 0},   // residue maps
                           Layer{2, 48, 24, 8190, 4, 1, 1, 1, 0},    // row boxes
                           Layer{2, 64, 40, 3001, 3, 1, 2, 2, 1}}) {
      convt1d_problem p = l.problem();
      p.has_bias = 1;
      p.dtype = m.dtype;
      p.algorithm = CONVT1D_ALGO_WGMMA_STREAM;
      ASSERT_EQ(convt1d_validate(&p), CONVT1D_OK) << describe(p) << ": " << convt1d_last_error();
      const auto plan = convt1d::detail::make_plan(p, dev);
      ASSERT_EQ(plan.kernel, convt1d::detail::KernelKind::WgmmaStream) << describe(p);
      const Inputs in = t1d::random_inputs(rng, p, p.dtype);
      const std::vector<double> ref = t1d::reference_of(p, in);
      DeviceProblem d(p, in);
      constexpr size_t kElem = 2, kGuard = 8;  // elements of poison on either side of y
      const size_t y_bytes = static_cast<size_t>(t1d::y_count(p)) * kElem;
      GpuBuffer buffer(y_bytes + 2 * kGuard * kElem);
      for (size_t shift = 0; shift <= 3; ++shift) {
        char* y = static_cast<char*>(buffer.get()) + (kGuard - 4 + shift) * kElem;  // buffers start on 256 bytes
        const std::string what = std::string(m.name) + " y " + std::to_string(shift) + " elements past 8 bytes, " +
                                 describe(p);
        ASSERT_EQ(convt1d::detail::stream_stores(plan.shape, plan.stream, p.dtype, reinterpret_cast<uintptr_t>(y)),
                  convt1d::detail::StreamStores::Skewed) << what;
        CUDA_ASSERT(cudaMemset(buffer.get(), 0xFF, y_bytes + 2 * kGuard * kElem));
        ASSERT_EQ(convt1d_forward(&p, d.x.get(), d.w.get(), d.b.get(), y, nullptr), CONVT1D_OK)
            << what << ": " << convt1d_last_error();
        ASSERT_NO_THROW(convt1d::tools::gpu_synchronize());
        TypedBuffer whole(p.dtype, static_cast<int64_t>(y_bytes / kElem + 2 * kGuard));
        buffer.download(whole.data(), whole.size_bytes());
        const int64_t first = static_cast<int64_t>(kGuard - 4 + shift);
        const std::vector<unsigned char> poison(kElem, 0xFF);
        for (int64_t i = 0; i < whole.count(); ++i) {
          if (i >= first && i < first + t1d::y_count(p)) continue;
          ASSERT_EQ(std::memcmp(static_cast<const unsigned char*>(whole.data()) + i * kElem, poison.data(), kElem), 0)
              << what << ": element " << i - first << " of y written";
        }
        const std::vector<double> all = whole.to_double();
        expect_close(m, std::vector<double>(all.begin() + first, all.begin() + first + t1d::y_count(p)), ref, what);
        if (HasFatalFailure()) return;
        ++ran;
      }
    }
  }
  EXPECT_EQ(ran, 32);
}

// The streaming kernel reads x by TMA. With y one element into its buffer the store warps write
// narrower pieces (still right); with x one element in, AUTO falls back to the kernel it would
// otherwise run, and forcing wgmma_stream fails naming x.
TEST_F(CudaParity, WgmmaStreamMisalignedOperands) {
  const auto dev = current_device_info();
  if (!dev.wgmma) GTEST_SKIP() << "needs an sm_90 device and an sm_90a build";
  convt1d_problem p = convt1d_problem_init(4, 32, 64, 40000, 5);  // 1252 tiles: AUTO streams it
  p.dilation = 3;
  p.has_bias = 1;
  p.device = CONVT1D_DEVICE_CUDA;
  ASSERT_EQ(convt1d::detail::make_plan(p, dev).kernel, convt1d::detail::KernelKind::WgmmaStream);
  t1d::Rng rng(78);
  const Inputs in = t1d::random_inputs(rng, p, p.dtype);
  const std::vector<double> ref = t1d::reference_of(p, in);
  DeviceProblem d(p, in);
  const size_t x_bytes = static_cast<size_t>(t1d::x_count(p)) * 4, y_bytes = static_cast<size_t>(t1d::y_count(p)) * 4;
  GpuBuffer shifted_y(y_bytes + 16), shifted_x(x_bytes + 16);
  void* y = static_cast<char*>(shifted_y.get()) + 4;
  const TypedBuffer hx = TypedBuffer::from_double(p.dtype, in.x);
  CUDA_ASSERT(cudaMemcpy(static_cast<char*>(shifted_x.get()) + 4, hx.data(), x_bytes, cudaMemcpyHostToDevice));
  const void* x = static_cast<const char*>(shifted_x.get()) + 4;
  auto run = [&](const void* xp, void* yp, int32_t algo, const char* what) {
    p.algorithm = algo;
    CUDA_ASSERT(cudaMemset(yp, 0xFF, y_bytes));
    ASSERT_EQ(convt1d_forward(&p, xp, d.w.get(), d.b.get(), yp, nullptr), CONVT1D_OK) << what << ": " << convt1d_last_error();
    ASSERT_NO_THROW(convt1d::tools::gpu_synchronize());
    std::vector<float> host(static_cast<size_t>(t1d::y_count(p)));
    CUDA_ASSERT(cudaMemcpy(host.data(), yp, y_bytes, cudaMemcpyDeviceToHost));
    expect_close(kModes[2], std::vector<double>(host.begin(), host.end()), ref, what);
  };
  run(d.x.get(), y, CONVT1D_ALGO_WGMMA_STREAM, "wgmma_stream with y misaligned for 16-byte stores");
  run(x, d.y.get(), CONVT1D_ALGO_AUTO, "AUTO with x misaligned for TMA");
  if (HasFatalFailure()) return;
  p.algorithm = CONVT1D_ALGO_WGMMA_STREAM;
  EXPECT_EQ(convt1d_forward(&p, x, d.w.get(), d.b.get(), d.y.get(), nullptr), CONVT1D_UNSUPPORTED);
  const std::string m = convt1d_last_error();
  EXPECT_TRUE(t1d::contains(m, "aligned")) << m;
  EXPECT_TRUE(t1d::contains_word(m, "x")) << m;
}

// Deep reductions on inputs of one sign (x and W in (0, 1)), every tensor-core family that takes each
// layer. Tensor cores round their fp32 accumulation toward zero: on zero-mean data those errors
// cancel, on one-signed data they all point one way and grow with the accumulation chain, so IEEE's
// 1e-5 bar is tested where it is tightest (reductions of 768-2048 channels, as in T3, T5, T7, L1).
TEST_F(CudaParity, OneSignedInputsDeepReductions) {
  const auto dev = current_device_info();
  if (dev.cc_major < 8) GTEST_SKIP() << "tensor-core kernels need sm_80 or newer";
  const Layer layers[] = {
      {1, 2048, 32, 40, 16, 8, 4, 1, 0},   // Oobleck's depth (T7, L1): raw weights, segment sums
      {1, 1536, 64, 64, 8, 4, 2, 1, 0},    // BigVGAN up0's depth (T3)
      {2, 768, 96, 64, 16, 8, 4, 1, 0},    // DAC up1's depth (T5): packed W^T, one pass-ordered chain
      {1, 1000, 48, 60, 16, 8, 1, 1, 0},   // a channel count that is no power of two
      {2, 1056, 8, 200, 8, 4, 2, 1, 0},    // raw weights over 33 chunks: segment sums
      {4, 1056, 8, 600, 8, 4, 2, 1, 0},    // many row tiles: packed W^T, segment sums
      {1, 32, 64, 10000, 5, 1, 0, 3, 0},   // KB74's taps on the streaming kernel
      {1, 128, 128, 2048, 4, 2, 1, 1, 0},  // T8's channels: phase blocks
      {1, 32, 8, 6000, 16, 1, 0, 1, 0},    // the streaming kernel's deepest reductions (16 taps)
      {1, 48, 8, 4000, 12, 1, 0, 2, 0},
      {1, 1000, 1, 20, 1000, 100, 0, 1, 0},  // P3's channels: GEMM then col2im
  };
  constexpr int32_t kFamilies[] = {CONVT1D_ALGO_AUTO, CONVT1D_ALGO_IMPLICIT_GEMM, CONVT1D_ALGO_WGMMA,
                                   CONVT1D_ALGO_WGMMA_STREAM};
  t1d::Rng rng(2026);
  int ran = 0, ieee_deep = 0, packed_segments = 0, raw_segments = 0, one_chain = 0;
  double worst_ieee = 0;
  std::string worst_what;
  for (const Layer& l : layers)
    for (const Mode& m : kModes) {
      if (m.dtype == CONVT1D_FLOAT64) continue;
      convt1d_problem p = l.problem();
      p.has_bias = 1;
      p.dtype = m.dtype;
      p.math = m.math;
      const Inputs in = t1d::random_inputs(rng, p, m.dtype, /*positive=*/true);
      const std::vector<double> ref = t1d::reference_of(p, in);
      DeviceProblem d(p, in);
      for (int32_t algo : kFamilies) {
        p.algorithm = algo;
        if (algo != CONVT1D_ALGO_AUTO && !gemm_plannable(p, dev, algo)) continue;
        const std::string what = std::string(m.name) + " " + t1d::algo_str(algo) + " " + describe(p);
        d.y.fill_bytes(0xFF);
        ASSERT_EQ(d.forward(p), CONVT1D_OK) << what << ": " << convt1d_last_error();
        ASSERT_NO_THROW(convt1d::tools::gpu_synchronize()) << what;
        const std::vector<double> got = d.download(m.dtype);
        expect_close(m, got, ref, what);
        if (HasFatalFailure()) return;
        ++ran;
        if (m.math == CONVT1D_MATH_IEEE && m.dtype == CONVT1D_FLOAT32) {
          const double e = t1d::compare(got, ref).rel_error;
          if (e > worst_ieee) worst_ieee = e, worst_what = what;
          ieee_deep += l.c_in >= 768;
          if (algo == CONVT1D_ALGO_WGMMA) {
            const auto plan = convt1d::detail::make_plan(p, dev);
            packed_segments += plan.wgmma.segment_sums && !plan.wgmma.raw_weights;
            raw_segments += plan.wgmma.segment_sums && plan.wgmma.raw_weights;
            one_chain += !plan.wgmma.segment_sums && l.c_in > convt1d::detail::kIeeeSegmentChannels;
          }
        }
      }
    }
  std::cout << "[ info ] worst IEEE relative error " << worst_ieee << " (" << worst_what << "), " << ran
            << " runs\n";
  EXPECT_GE(ran, 40);
  EXPECT_GE(ieee_deep, 8) << "too few deep IEEE runs";
  if (dev.wgmma) {
    EXPECT_GT(packed_segments, 0) << "no IEEE wgmma run summed packed W^T tiles in segments";
    EXPECT_GT(raw_segments, 0) << "no IEEE wgmma run summed raw-weight tiles in segments";
    EXPECT_GT(one_chain, 0) << "no deep IEEE wgmma run took one pass-ordered chain";
  }
}

// TMA reads x and the weights in place only from 16-byte aligned addresses. A layer AUTO sends to the
// wgmma kernel, given an x that starts one element into its buffer, must still be right (AUTO falls
// back to the kernel it would otherwise run); forcing wgmma then fails with a message naming x.
// The narrow kernel forced on fixed layers (Conv-TasNet's decoder and HTDemucs' last layer, shortened;
// odd rows, so x and y at every alignment; padding, dilation, output_padding, strides beyond K with
// phases without taps; C_in not a multiple of the slices nor of the mma channel steps; one row of one
// position; 64 rows, which only the mma reduction takes) and random layers it accepts, in fp32 (IEEE:
// the exact FMA reduction; TF32: mma.sync), fp16 and bf16 (mma.sync).
TEST_F(CudaParity, NarrowLayers) {
  const auto dev = current_device_info();
  const std::vector<Layer> fixed = {
      {2, 512, 1, 1001, 16, 8, 8, 1, 0},    // Conv-TasNet decoder: 16 slices
      {1, 48, 4, 5001, 8, 4, 0, 1, 0},      // HTDemucs-like: 32 rows
      {3, 37, 3, 777, 5, 2, 3, 3, 1},       // dilation, output_padding, C_in prime
      {1, 20, 2, 300, 3, 7, 0, 1, 0},       // stride > K: phases without taps
      {2, 9, 4, 2500, 4, 1, 40, 2, 0},      // padding beyond the reach
      {1, 6, 4, 1, 7, 3, 0, 1, 2},          // a single position
      {2, 200, 8, 3000, 2, 2, 1, 1, 0},     // 16 rows: AUTO's widest
      {1, 48, 8, 3001, 8, 4, 0, 1, 0},      // HTDemucs tdec0 (L5), shortened: 64 rows, mma only
      {2, 21, 3, 999, 5, 3, 4, 2, 1},       // 15 rows, C_in 21: partial channel steps
      {1, 30, 2, 2000, 8, 1, 3, 6, 0},      // reach 42: mma windows of two passes
  };
  std::vector<Layer> layers = fixed;
  t1d::Rng shape_rng(4242);
  for (int i = 0; i < 16; ++i) {
    Layer l;
    l.batch = t1d::rand_int(shape_rng, 1, 3);
    l.c_in = t1d::rand_int(shape_rng, 1, 300);
    l.c_out = t1d::rand_int(shape_rng, 1, 4);
    l.length = t1d::rand_int(shape_rng, 1, 4000);
    l.k = t1d::rand_int(shape_rng, 1, 8);  // C_out*K <= 32: every one plannable
    l.stride = t1d::rand_int(shape_rng, 1, 12);
    l.dilation = t1d::rand_int(shape_rng, 1, 6);
    l.padding = t1d::rand_int(shape_rng, 0, (l.k - 1) * l.dilation + 2);
    l.output_padding = t1d::rand_int(shape_rng, 0, std::max(l.stride, l.dilation) - 1);
    layers.push_back(l);
  }
  t1d::Rng rng(4243);
  int ran = 0, sliced = 0, random_ran = 0, mma = 0;
  for (const Layer& l : layers) {
    convt1d_problem p = l.problem();
    p.has_bias = ran % 2 == 0;
    p.algorithm = CONVT1D_ALGO_NARROW;
    const bool random = &l - layers.data() >= static_cast<ptrdiff_t>(fixed.size());
    if (convt1d_validate(&p) != CONVT1D_OK) continue;  // a random output_padding may be invalid
    for (const Mode& m : kModes) {
      if (m.dtype == CONVT1D_FLOAT64) continue;
      p.dtype = m.dtype;
      p.math = m.math;
      const bool plannable = gemm_plannable(p, dev, CONVT1D_ALGO_NARROW);
      const bool fma = m.dtype == CONVT1D_FLOAT32 && m.math == CONVT1D_MATH_IEEE;
      if (fma && l.c_out * l.k > convt1d::detail::kNarrowMaxRows) {
        EXPECT_FALSE(plannable) << describe(p);
        continue;
      }
      ASSERT_TRUE(plannable) << "refused: " << m.name << " " << describe(p);
      const auto plan = convt1d::detail::make_plan(p, dev);
      ASSERT_EQ(plan.kernel, convt1d::detail::KernelKind::Narrow) << describe(p);
      EXPECT_EQ(plan.narrow.mma, !fma);
      sliced += plan.narrow.slices > 1;
      mma += plan.narrow.mma;
      random_ran += random;
      expect_matches_reference(p, m, rng, std::string(m.name) + " narrow " + describe(p));
      if (HasFatalFailure()) return;
      ++ran;
    }
  }
  EXPECT_GE(ran, 40);
  EXPECT_GE(random_ran, 12);
  EXPECT_GT(sliced, 0);
  EXPECT_GE(mma, 20);
}

TEST_F(CudaParity, WgmmaMisalignedOperandsFallBack) {
  const auto dev = current_device_info();
  if (!dev.wgmma) GTEST_SKIP() << "needs an sm_90 device and an sm_90a build";
  convt1d_problem p = convt1d_problem_init(2, 512, 64, 40, 8);
  p.stride = 4;
  p.padding = 2;
  p.has_bias = 1;
  p.dtype = CONVT1D_BFLOAT16;
  p.device = CONVT1D_DEVICE_CUDA;
  ASSERT_EQ(convt1d::detail::make_plan(p, dev).kernel, convt1d::detail::KernelKind::Wgmma);
  t1d::Rng rng(77);
  const Inputs in = t1d::random_inputs(rng, p, p.dtype);
  const std::vector<double> ref = t1d::reference_of(p, in);
  DeviceProblem d(p, in);
  // x again, one bf16 element into a larger buffer
  const TypedBuffer hx = TypedBuffer::from_double(p.dtype, in.x);
  GpuBuffer shifted(hx.size_bytes() + 16);
  CUDA_ASSERT(cudaMemcpy(static_cast<char*>(shifted.get()) + 2, hx.data(), hx.size_bytes(), cudaMemcpyHostToDevice));
  const void* x = static_cast<const char*>(shifted.get()) + 2;
  const Mode& bf16 = kModes[4];
  ASSERT_EQ(bf16.dtype, CONVT1D_BFLOAT16);
  d.y.fill_bytes(0xFF);
  ASSERT_EQ(convt1d_forward(&p, x, d.w.get(), d.b.get(), d.y.get(), nullptr), CONVT1D_OK) << convt1d_last_error();
  ASSERT_NO_THROW(convt1d::tools::gpu_synchronize());
  expect_close(bf16, d.download(p.dtype), ref, "AUTO with x misaligned for TMA");
  p.algorithm = CONVT1D_ALGO_WGMMA;
  EXPECT_EQ(convt1d_forward(&p, x, d.w.get(), d.b.get(), d.y.get(), nullptr), CONVT1D_UNSUPPORTED);
  const std::string m = convt1d_last_error();
  EXPECT_TRUE(t1d::contains(m, "aligned")) << m;
  EXPECT_TRUE(t1d::contains_word(m, "x")) << m;
}

TEST_F(CudaParity, HostPointersAreRejected) {
  convt1d_problem p = convt1d_problem_init(2, 4, 6, 33, 3);
  p.has_bias = 1;
  t1d::Rng rng(3);
  const Inputs in = t1d::random_inputs(rng, p, CONVT1D_FLOAT32);
  DeviceProblem d(p, in);
  std::vector<float> host_x(static_cast<size_t>(t1d::x_count(p)), 1.f), host_w(static_cast<size_t>(t1d::w_count(p)), 1.f),
      host_b(6, 1.f), host_y(static_cast<size_t>(t1d::y_count(p)), 1.f);
  struct Case { const char* name; const void* x; const void* w; const void* b; void* y; };
  const Case cases[] = {
      {"x", host_x.data(), d.w.get(), d.b.get(), d.y.get()},
      {"weight", d.x.get(), host_w.data(), d.b.get(), d.y.get()},
      {"bias", d.x.get(), d.w.get(), host_b.data(), d.y.get()},
      {"y", d.x.get(), d.w.get(), d.b.get(), host_y.data()},
  };
  const auto dev = current_device_info();
  for (int32_t algo : kAlgorithms)
    for (const Case& c : cases) {
      p.algorithm = algo;
      if (may_refuse(algo) && !gemm_plannable(p, dev, algo)) continue;  // refused before any pointer is read
      SCOPED_TRACE(std::string("host ") + c.name + ", " + t1d::algo_str(algo));
      d.y.fill_bytes(0xFF);
      EXPECT_EQ(convt1d_forward(&p, c.x, c.w, c.b, c.y, nullptr), CONVT1D_INVALID_ARGUMENT);
      const std::string m = convt1d_last_error();
      EXPECT_TRUE(t1d::contains_word(m, c.name)) << m;
      EXPECT_TRUE(t1d::contains_ci(m, "host")) << "what was given is not said: " << m;
      ASSERT_NO_THROW(convt1d::tools::gpu_synchronize());
      for (double v : d.download(p.dtype)) ASSERT_TRUE(std::isnan(v)) << "y written by a rejected call";
      for (float v : host_y) ASSERT_EQ(v, 1.f) << "host y written by a rejected call";
    }
}

// Runs body(mode, problem, device buffers, reference) for every mode and algorithm, with fresh inputs
// per mode; stops at the first fatal failure.
template <class Body>
void for_each_mode_and_algorithm(convt1d_problem p, t1d::Rng& rng, Body body) {
  for (const Mode& m : kModes) {
    p.dtype = m.dtype;
    p.math = m.math;
    const Inputs in = t1d::random_inputs(rng, p, m.dtype);
    const std::vector<double> ref = t1d::reference_of(p, in);
    DeviceProblem d(p, in);
    for (int32_t algo : kAlgorithms) {
      p.algorithm = algo;
      SCOPED_TRACE(std::string(m.name) + " " + t1d::algo_str(algo));
      body(m, p, d, ref);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

TEST_F(CudaParity, NonDefaultStream) {
  convt1d_problem p = convt1d_problem_init(3, 24, 40, 777, 7);
  p.stride = 3; p.padding = 2; p.dilation = 2; p.output_padding = 1; p.has_bias = 1;
  cudaStream_t stream = nullptr;
  CUDA_ASSERT(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  t1d::Rng rng(11);
  for_each_mode_and_algorithm(p, rng, [&](const Mode& m, const convt1d_problem& q, DeviceProblem& d,
                                          const std::vector<double>& ref) {
    d.y.fill_bytes(0xFF);
    convt1d::tools::gpu_synchronize();
    const convt1d_status st = d.forward(q, stream);
    if (st == CONVT1D_UNSUPPORTED && may_refuse(q.algorithm)) return;
    ASSERT_EQ(st, CONVT1D_OK) << convt1d_last_error();
    CUDA_ASSERT(cudaStreamSynchronize(stream));
    expect_close(m, d.download(m.dtype), ref, describe(q));
  });
  CUDA_ASSERT(cudaStreamDestroy(stream));
}

// The work must go to the given stream and nowhere else: captured into a CUDA graph, nothing runs
// until the graph is launched, and then the graph alone produces the whole result.
TEST_F(CudaParity, CapturedIntoACudaGraph) {
  // KB74-like (resident weights), a B=1 upsampler whose split-K needs y zeroed and, in 16-bit, a
  // stream-ordered workspace, and 96 output channels on long rows (phase blocks: paced clusters in
  // 16-bit, channel groups in fp32): all must land in the graph.
  convt1d_problem kb = convt1d_problem_init(2, 32, 64, 1000, 5);
  kb.dilation = 3; kb.has_bias = 1;
  convt1d_problem up = convt1d_problem_init(1, 512, 256, 23, 16);
  up.stride = 8; up.padding = 4; up.has_bias = 1;
  convt1d_problem phased = convt1d_problem_init(3, 16, 96, 16384, 4);
  phased.stride = 2; phased.padding = 1; phased.has_bias = 1;
  cudaStream_t stream = nullptr;
  CUDA_ASSERT(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  t1d::Rng rng(12);
  for (const convt1d_problem& problem : {kb, up, phased}) {
    for_each_mode_and_algorithm(problem, rng, [&](const Mode& m, const convt1d_problem& p, DeviceProblem& d,
                                                  const std::vector<double>& ref) {
      // A first, uncaptured call does any one-time setup (device query, kernel attributes).
      const convt1d_status warm = d.forward(p, stream);
      if (warm == CONVT1D_UNSUPPORTED && may_refuse(p.algorithm)) return;
      ASSERT_EQ(warm, CONVT1D_OK) << convt1d_last_error();
      CUDA_ASSERT(cudaStreamSynchronize(stream));
      d.y.fill_bytes(0xFF);
      convt1d::tools::gpu_synchronize();

      cudaGraph_t graph = nullptr;
      CUDA_ASSERT(cudaStreamBeginCapture(stream, cudaStreamCaptureModeRelaxed));
      const convt1d_status st = d.forward(p, stream);
      const std::string error = convt1d_last_error();
      CUDA_ASSERT(cudaStreamEndCapture(stream, &graph));
      ASSERT_EQ(st, CONVT1D_OK) << error;
      size_t nodes = 0;
      CUDA_ASSERT(cudaGraphGetNodes(graph, nullptr, &nodes));
      EXPECT_GE(nodes, 1u) << "nothing was captured on the given stream";
      convt1d::tools::gpu_synchronize();
      for (double v : d.download(m.dtype)) ASSERT_TRUE(std::isnan(v)) << "work ran outside the captured stream";

      cudaGraphExec_t exec = nullptr;
      CUDA_ASSERT(cudaGraphInstantiate(&exec, graph, 0));
      CUDA_ASSERT(cudaGraphLaunch(exec, stream));
      CUDA_ASSERT(cudaStreamSynchronize(stream));
      expect_close(m, d.download(m.dtype), ref, describe(p));
      CUDA_ASSERT(cudaGraphExecDestroy(exec));
      CUDA_ASSERT(cudaGraphDestroy(graph));
    });
    if (HasFatalFailure()) break;
  }
  CUDA_ASSERT(cudaStreamDestroy(stream));
}

// ---------------------------------------------------------------------------------------------
// More than 2^31 output elements (64-bit indexing end to end). Opt-in: ~4.6 GB of device memory.
// ---------------------------------------------------------------------------------------------

TEST_F(CudaParity, OutputBeyondTwoToThe31Elements) {
  const char* env = std::getenv("CONVT1D_BIG_TESTS");
  if (env == nullptr || std::string(env) != "1") GTEST_SKIP() << "set CONVT1D_BIG_TESTS=1 to run (needs ~5 GB)";
  // A x4 upsampler layer: L_out = 4*(L_in - 1) - 12 + 15 + 1 = 4 * L_in = 4.4M; y = 4*128*4.4M > 2^31.
  convt1d_problem p = convt1d_problem_init(4, 16, 128, 1'100'000, 16);
  p.stride = 4;
  p.padding = 6;
  p.has_bias = 1;
  p.dtype = CONVT1D_BFLOAT16;
  const int64_t L_out = t1d::formula_out_length(p);
  const int64_t y_count = t1d::y_count(p);
  ASSERT_EQ(L_out, 4'400'000);
  ASSERT_GT(y_count, int64_t{1} << 31);
  const size_t y_bytes = static_cast<size_t>(y_count) * 2, x_bytes = static_cast<size_t>(t1d::x_count(p)) * 2;
  size_t free_bytes = 0, total_bytes = 0;
  CUDA_ASSERT(cudaMemGetInfo(&free_bytes, &total_bytes));
  if (free_bytes < y_bytes + x_bytes + (size_t{1} << 29))
    GTEST_SKIP() << "needs " << (y_bytes + x_bytes) / 1e9 << " GB of device memory, " << free_bytes / 1e9 << " free";

  // Inputs: bf16-exact values from a fast generator (70M elements), kept as double for reference_point.
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next_value = [&state] {
    state ^= state << 13; state ^= state >> 7; state ^= state << 17;
    double v = t1d::round_to(CONVT1D_BFLOAT16, static_cast<double>(state >> 11) * 0x1.0p-53 * 2.0 - 1.0);
    return (v == 0.0 || std::fabs(v) >= 1.0) ? 0.5 : v;
  };
  std::vector<double> x(static_cast<size_t>(t1d::x_count(p))), w(static_cast<size_t>(t1d::w_count(p))),
      bias(static_cast<size_t>(p.out_channels));
  for (auto& v : x) v = next_value();
  for (auto& v : w) v = next_value();
  for (auto& v : bias) v = next_value();
  GpuBuffer dx, dw, db, dy(y_bytes);
  {
    const TypedBuffer hx = TypedBuffer::from_double(p.dtype, x), hw = TypedBuffer::from_double(p.dtype, w),
                      hb = TypedBuffer::from_double(p.dtype, bias);
    dx = GpuBuffer(hx.size_bytes());
    dw = GpuBuffer(hw.size_bytes());
    db = GpuBuffer(hb.size_bytes());
    dx.upload(hx.data(), hx.size_bytes());
    dw.upload(hw.data(), hw.size_bytes());
    db.upload(hb.data(), hb.size_bytes());
  }

  // Sampled positions: random ones, the last ones, and both sides of flat index 2^31 (and 2^31 / 2,
  // where a 32-bit byte offset of a 2-byte element wraps).
  t1d::Rng rng(2031);
  std::vector<int64_t> samples;
  for (int i = 0; i < 300; ++i) samples.push_back(t1d::rand_int(rng, 0, y_count - 1));
  for (int64_t i = 1; i <= 64; ++i) samples.push_back(y_count - i);
  for (int64_t base : {int64_t{1} << 31, int64_t{1} << 30})
    for (int64_t d = -3; d <= 3; ++d) samples.push_back(base + d);
  for (int64_t row : {int64_t{0}, p.out_channels - 1, 2 * p.out_channels + 5, 4 * p.out_channels - 1}) {
    samples.push_back(row * L_out);
    samples.push_back(row * L_out + L_out - 1);
  }

  for (int32_t algo : kAlgorithms) {
    p.algorithm = algo;
    SCOPED_TRACE(t1d::algo_str(algo));
    dy.fill_bytes(0xFF);
    const convt1d_status st = convt1d_forward(&p, dx.get(), dw.get(), db.get(), dy.get(), nullptr);
    if (st == CONVT1D_UNSUPPORTED && may_refuse(algo)) continue;
    ASSERT_EQ(st, CONVT1D_OK) << convt1d_last_error();
    ASSERT_NO_THROW(convt1d::tools::gpu_synchronize());
    int bad = 0;
    for (int64_t idx : samples) {
      uint16_t bits = 0xFFFF;
      CUDA_ASSERT(cudaMemcpy(&bits, static_cast<const char*>(dy.get()) + idx * 2, 2, cudaMemcpyDeviceToHost));
      const double got = convt1d::detail::bf16_to_float(bits);
      const int64_t t = idx % L_out, co = (idx / L_out) % p.out_channels, b = idx / (L_out * p.out_channels);
      const double ref = convt1d::detail::reference_point(p, x.data(), w.data(), bias.data(), b, co, t);
      // bf16 output rounding (2^-9 relative) plus fp32 accumulation of <= 64 products of |v| < 1.
      const double tol = std::ldexp(std::fabs(ref), -8) + 1e-4;
      if (!(std::fabs(got - ref) <= tol) && bad++ < 10)
        ADD_FAILURE() << "y[" << b << ", " << co << ", " << t << "] (flat " << idx << ") = " << got << ", reference "
                      << ref;
    }
    EXPECT_EQ(bad, 0);
  }
}

#endif  // CONVT1D_WITH_CUDA

}  // namespace

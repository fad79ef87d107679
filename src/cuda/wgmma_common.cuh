// What the two wgmma kernels (16-bit: wgmma_gemm.cu, TF32: wgmma_tf32.cu) share: their parameters,
// the shift-add epilogue over Z, and the host side of TMA (tensor maps, the padded copy of x).
#pragma once

#include <cuda.h>
#include <cudaTypedefs.h>

#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "backend.hpp"
#include "divisor.hpp"
#include "cuda/cuda_check.cuh"
#include "cuda/dependent_launch.cuh"
#include "cuda/hopper.cuh"
#include "cuda/opt_in_smem.cuh"
#include "cuda/pad_rows.cuh"
#include "cuda/stream_buffer.cuh"
#include "cuda/gemm_params.cuh"
#include "window_ownership.hpp"

namespace convt1d::detail::wgmma {

using gemm::from_float;
using gemm::to_float;

constexpr int kThreads = 3 * 128;  // producer warpgroup + 2 consumer warpgroups
static_assert(kThreads == kWgmmaBlockThreads);
constexpr int kConsumerWarps = 8;
constexpr int kWarpgroupThreads = WgmmaTiling::kWarpgroupThreads;
constexpr uint32_t kSwizzlePeriod = 1024;

// The counts that the kernels divide by are Divisors (src/divisor.hpp): a small layer's tile runs
// only a few pipeline steps, so the divisions of its set-up and epilogue are a visible share of it.
struct WgmmaParams {
  int64_t out_length;
  int32_t batch, in_channels, out_channels, in_length, kernel_size, dilation, padding;
  Divisor<int32_t> stride;
  int32_t co_per_half, tile_channels, window, n_atom, halo, k_chunks, z_pitch, stages;
  Divisor<int32_t> segments, windows, co_tiles, row_tiles;
  int32_t rows_fastest, ieee;
  int32_t tiles;  // a persistent kernel's tiles (blockIdx.x, + gridDim.x, ...)
  int32_t tap_step, shift_step;
  int32_t shift_add_groups;  // WgmmaTiling::shift_add_groups
  // WgmmaTiling::shift_add_lanes, and of them the lanes that take outputs (a multiple of the stride)
  Divisor<int32_t> shift_add_lanes, shift_add_active;
  int32_t segment_chunks;    // WgmmaTiling::segment_chunks
  int32_t register_epilogue;  // WgmmaTiling::register_epilogue (register_shift_add.cuh)
  int32_t joined;             // WgmmaTiling::joined_pitch > 0: windows over the one joined row,
  Divisor<int32_t> joined_pitch;  // whose batch rows start every joined_pitch positions
  int32_t first_tap[kMaxPhases], first_shift[kMaxPhases], tap_count[kMaxPhases];
};


// The packed W^T and x^T columns that TF32 pipeline step kc reads (32 channels each). IEEE
// (WgmmaTiling::ieee): chunk c's big parts sit at columns 64c, its small parts at 64c + 32. ORDERED
// (one accumulation chain, no segment_sums): the n chunks take 3n steps, W small x x big and W big x
// x small for each chunk, then W big x x big for each, so the big products' chain starts from the
// small sums (WgmmaTiling::segment_sums says why); else each chunk's three passes in turn, W big x
// x big, W small x x big, W big x x small (segments are short enough without the order).
struct PackedColumns {
  int32_t w, x;
};
template <bool ORDERED>
__device__ __forceinline__ PackedColumns packed_columns(const WgmmaParams& p, int kc) {
  if (!p.ieee) return {kc * kWgmmaTf32Chunk, kc * kWgmmaTf32Chunk};
  const int32_t n = p.k_chunks / kIeeePasses;
  const bool small_pass = ORDERED ? kc < 2 * n : kc % kIeeePasses != 0;
  const int32_t chunk = ORDERED ? (small_pass ? kc / 2 : kc - 2 * n) : kc / kIeeePasses;
  const bool w_small = small_pass && (ORDERED ? kc % 2 == 0 : kc % kIeeePasses == 1);
  const bool x_small = small_pass && !w_small;
  return {(2 * chunk + w_small) * kWgmmaTf32Chunk, (2 * chunk + x_small) * kWgmmaTf32Chunk};
}

// Pipeline step i's stage, i % stages, and how often the ring has wrapped before it, i / stages: both
// stepped from step 0 instead of divided. The producer's two run-time divisions per step (~20
// dependent instructions each) held back the large layers' loads (perf-log step 135).
struct StageCursor {
  int stage = 0;
  uint32_t wraps = 0;
  __device__ __forceinline__ void next(int stages) {
    if (++stage == stages) {
      stage = 0;
      ++wraps;
    }
  }
  // The stage of step i - 1.
  __device__ __forceinline__ int previous(int stages) const { return (stage == 0 ? stages : stage) - 1; }
};

// A wgmma kernel's stage ring: `stages` buffers of stage_bytes from the 1024-byte aligned base of the
// dynamic shared memory (the 128B-swizzle period), then a "full" and an "empty" mbarrier per stage, then
// the tile's bias (kWgmmaMaxTileChannels floats). Every consumer warp releases a stage ("empty").
// Returns once the barriers are initialised and the kernel before (the TF32 operand packing, when
// launched as its dependent) has finished.
struct StageRing {
  unsigned char* smem;
  uint64_t* full;
  uint64_t* empty;
  float* bias;
};
__device__ __forceinline__ StageRing open_stage_ring(unsigned char* smem_raw, int32_t stages, uint32_t stage_bytes,
                                                     int consumer_warps = kConsumerWarps) {
  StageRing r;
  r.smem = smem_raw + ((kSwizzlePeriod - (hopper::smem_addr(smem_raw) % kSwizzlePeriod)) % kSwizzlePeriod);
  r.full = reinterpret_cast<uint64_t*>(r.smem + size_t(stages) * stage_bytes);
  r.empty = r.full + stages;
  r.bias = reinterpret_cast<float*>(r.empty + stages);
  if (threadIdx.x == 0) {
    for (int s = 0; s < stages; ++s) {
      ptx::mbar_init(&r.full[s], 1);
      ptx::mbar_init(&r.empty[s], consumer_warps);
    }
    hopper::fence_barrier_init();
  }
  __syncthreads();
  wait_prior_grid();
  return r;
}

// Fences a consumer's accumulators (and with TOTAL the IEEE segment sums) around the asynchronous wgmmas.
template <int N, bool TOTAL>
__device__ __forceinline__ void fence_accumulators(float* acc, float* total) {
#pragma unroll
  for (int i = 0; i < N / 2; ++i) hopper::fence_operand(acc[i]);
  if constexpr (TOTAL) {
#pragma unroll
    for (int i = 0; i < N / 2; ++i) hopper::fence_operand(total[i]);
  }
}

// The end of an IEEE segment (WgmmaTiling::segment_sums): its chain retired, added into `total` by FADD
// (rounded to nearest), and acc zeroed so that the next wgmma starts a fresh chain.
template <int N>
__device__ __forceinline__ void fold_segment(float* acc, float* total) {
  hopper::wgmma_wait<0>();
  fence_accumulators<N, true>(acc, total);
#pragma unroll
  for (int i = 0; i < N / 2; ++i) {
    total[i] += acc[i];
    acc[i] = 0.0f;
  }
  fence_accumulators<N, true>(acc, total);
}

// The end of a consumer's main loop: its last wgmma group retired, the earlier segments' sums (TOTAL)
// added into acc, and the wgmma operand reads (async proxy) ordered before the generic Z stores that
// overlay the stage buffers (after the block barrier that follows).
template <int N, bool TOTAL>
__device__ __forceinline__ void retire_accumulators(float* acc, float* total) {
  hopper::wgmma_wait<0>();
  fence_accumulators<N, TOTAL>(acc, total);
  if constexpr (TOTAL) {
#pragma unroll
    for (int i = 0; i < N / 2; ++i) acc[i] += total[i];
  }
  hopper::fence_proxy_async();
}

// A tile's x atoms in order over its `segments` windows: fn(a, in_window, sg) for atom a, the in_window-th
// of segment sg's window (counters: the producer thread issues these between MMA steps, perf-log step 135).
template <class F>
__device__ __forceinline__ void for_each_atom(int atoms, int atoms_per_window, F&& fn) {
  for (int a = 0, in_window = 0, sg = 0; a < atoms; ++a) {
    fn(a, in_window, sg);
    if (++in_window == atoms_per_window) {
      in_window = 0;
      ++sg;
    }
  }
}

// Where a tap-major tile starts: its first batch row b0, its window j (first input position `start`)
// and its first output channel co0, for tiles of `tile_channels` channels.
struct TileOrigin {
  int32_t b0, j, start, co0;
};
__device__ __forceinline__ TileOrigin tile_origin(const WgmmaParams& p, int32_t tile, int32_t tile_channels) {
  int32_t co_tile, row_tile;
  if (p.rows_fastest) {
    co_tile = p.row_tiles.div(tile);
    row_tile = tile - co_tile * p.row_tiles.value;
  } else {
    row_tile = p.co_tiles.div(tile);
    co_tile = tile - row_tile * p.co_tiles.value;
  }
  TileOrigin o;
  const int32_t row_block = p.windows.div(row_tile);
  o.b0 = row_block * p.segments.value;
  o.j = row_tile - row_block * p.windows.value;
  o.start = o.j * (p.window - p.halo);
  o.co0 = co_tile * tile_channels;
  return o;
}

// Consumer warpgroup h's accumulators (wgmma D fragments: 64 rows x N columns) into its 64 rows of
// Z [2][64][z_pitch].
template <int N>
__device__ __forceinline__ void accumulators_to_z(const float* acc, float* z_all, int h, int32_t z_pitch) {
  float* z = z_all + size_t(h) * 64 * z_pitch;
  const int lane = threadIdx.x % 32;
  const int row = (threadIdx.x % 128) / 32 * 16 + lane / 4;
#pragma unroll
  for (int c8 = 0; c8 < N / 8; ++c8) {
    const int col = c8 * 8 + (lane % 4) * 2;
    *reinterpret_cast<float2*>(&z[row * z_pitch + col]) = make_float2(acc[c8 * 4], acc[c8 * 4 + 1]);
    *reinterpret_cast<float2*>(&z[(row + 8) * z_pitch + col]) = make_float2(acc[c8 * 4 + 2], acc[c8 * 4 + 3]);
  }
}

constexpr int kTmaThreads = 32;       // warp 0 of the producer warpgroup issues the TMA loads
constexpr int kProducerThreads = 128;  // its other warps are free until the epilogue

// The bias of the tile's channels from co0 into shared memory (zero past C_out), by `lanes` threads of
// which this is `lane`.
template <class T>
__device__ __forceinline__ void copy_bias(const WgmmaParams& p, int32_t co0, const T* __restrict__ bias, float* bias_s,
                                          int lane, int lanes) {
  for (int i = lane; i < p.tile_channels; i += lanes)
    bias_s[i] = co0 + i < p.out_channels ? to_float(bias[co0 + i]) : 0.0f;
}

// The tile's bias in shared memory, staged by the producer warpgroup's idle warps while the main loop
// runs, so that the shift-add reads it next to Z. Returns nullptr without bias, or with the register
// epilogue (which reads its channel's bias itself). Visible to the shift-add after the block barrier
// that precedes the Z stores.
template <class T>
__device__ __forceinline__ const float* stage_bias(const WgmmaParams& p, int32_t co0, const T* __restrict__ bias,
                                                   float* bias_s) {
  if (bias == nullptr || p.register_epilogue) return nullptr;
  if (threadIdx.x >= kTmaThreads && threadIdx.x < kProducerThreads)
    copy_bias(p, co0, bias, bias_s, threadIdx.x - kTmaThreads, kProducerThreads - kTmaThreads);
  return bias_s;
}

// `count` outputs of one thread in an interior window: output i sums the TAPS (0: `taps`, a runtime
// count) Z elements from zq + i * col_step, one tap_delta apart, onto the bias. kInteriorUnroll
// outputs per iteration (then 2, then 1), so that their loads overlap (4 instead of 2: L2 TF32 4 %,
// S3 TF32 6 %, T6 and S11 IEEE 4-5 % faster, perf-log step 126).
constexpr int kInteriorUnroll = 4;
template <int U, int TAPS, class T>
__device__ __forceinline__ void interior_group(const float* zq, T* yp, int32_t active, int32_t col_step,
                                               int32_t tap_delta, int n_taps, float bias_v) {
  float a[U];
#pragma unroll
  for (int k = 0; k < U; ++k) a[k] = bias_v;
#pragma unroll
  for (int n = 0; n < (TAPS > 0 ? TAPS : n_taps); ++n)
#pragma unroll
    for (int k = 0; k < U; ++k) a[k] += zq[k * col_step + n * tap_delta];
#pragma unroll
  for (int k = 0; k < U; ++k) yp[k * active] = from_float<T>(a[k]);
}
template <int TAPS, class T>
__device__ __forceinline__ void interior_outputs(const float* zq, T* yp, int32_t count, int32_t active,
                                                 int32_t col_step, int32_t tap_delta, int taps, float bias_v) {
  int32_t i = 0;
  for (; i + kInteriorUnroll <= count;
       i += kInteriorUnroll, zq += kInteriorUnroll * col_step, yp += kInteriorUnroll * active)
    interior_group<kInteriorUnroll, TAPS>(zq, yp, active, col_step, tap_delta, taps, bias_v);
  if (i + 2 <= count) {
    interior_group<2, TAPS>(zq, yp, active, col_step, tap_delta, taps, bias_v);
    i += 2, zq += 2 * col_step, yp += 2 * active;
  }
  if (i < count) interior_group<1, TAPS>(zq, yp, active, col_step, tap_delta, taps, bias_v);
}

// The same in a window at a row's end, where a tap's column may fall outside the window (its input
// position is outside the row: a zero): column `col` - n * shift_step of tap n's row, taken only
// inside [0, window). Each tap is a predicated load, so the taps still issue back to back.
template <int TAPS, class T>
__device__ __forceinline__ void edge_outputs(const float* zrow, T* yp, int32_t count, int32_t col, int32_t active,
                                             int32_t col_step, int32_t tap_rows, int32_t shift_step, int32_t window,
                                             int taps, float bias_v) {
  const int n_taps = TAPS > 0 ? TAPS : taps;
  for (int32_t i = 0; i < count; ++i, col += col_step, yp += active) {
    float sum = bias_v;
#pragma unroll
    for (int n = 0; n < n_taps; ++n) {
      const int32_t cl = col - n * shift_step;
      if (static_cast<uint32_t>(cl) < static_cast<uint32_t>(window)) sum += zrow[n * tap_rows + cl];
    }
    *yp = from_float<T>(sum);
  }
}

// Calls f with the tap count as a compile-time constant (std::integral_constant) for the usual counts
// 1-4, so that the tap loops unroll and their loads issue back to back; else with 0 (a run-time loop
// over `taps`).
template <class F>
__device__ __forceinline__ void with_tap_count(int taps, F&& f) {
  switch (taps) {
    case 1: return f(std::integral_constant<int, 1>{});
    case 2: return f(std::integral_constant<int, 2>{});
    case 3: return f(std::integral_constant<int, 3>{});
    case 4: return f(std::integral_constant<int, 4>{});
    default: return f(std::integral_constant<int, 0>{});
  }
}

// The outputs [first, last) that window j (first input position `start`) owns (window_ownership.hpp).
__device__ __forceinline__ OwnedOutputs<int32_t> owned_outputs(const WgmmaParams& p, int32_t j, int32_t start,
                                                               int32_t stride) {
  return window_owned_outputs<int32_t>(j, p.windows.value, start, p.halo, p.window, stride, p.padding,
                                       static_cast<int32_t>(p.out_length));
}

// Who runs a shift-add: `groups` groups of `lanes` threads; this thread is `lane` of group `group`
// (group >= groups: none).
struct EpilogueThreads {
  int lane, lanes, group, groups;
};
// The block's threads that run the shift-add (all of them, or the persistent kernel's consumers: the
// plan's count, WgmmaTiling::shift_add_lanes) in the plan's groups; `tid` counts from the first.
__device__ __forceinline__ EpilogueThreads epilogue_threads(const WgmmaParams& p, int tid) {
  const int group = p.shift_add_lanes.div(tid);
  return {tid - group * p.shift_add_lanes.value, p.shift_add_lanes.value, group, p.shift_add_groups};
}

// The shift-add: y[b, co, t] = bias + sum over the taps k of the phase r of u = t + padding of
// Z[co*K + k][u/stride - shift_k - start]. Thread `lane` of a group takes the outputs t = first + lane
// + i*active, with `active` a multiple of the stride: its phase, taps and column step stay fixed, so
// the loop is loads and adds. Group g takes the tile's rows (channel cc, segment sg) g, g + groups, ...
// (row = cc * segments + sg); the Z rows of channel cc start at h * kWgmmaRows + c * K for
// cc = h * co_per_half + c (h: its consumer warpgroup, 0 to 2). The plan sizes the groups so that a
// thread's rows and outputs per row balance (shift_add_groups, plan.hpp): with few outputs per row,
// each row's set-up would otherwise cost more than its outputs (perf-log step 85).
// In a window with neighbours on both sides every owned output's taps lie inside the window (the halo
// covers the taps' reach), so that loop runs without bounds checks: it is most of the epilogue's
// instructions, and the epilogue is most of a tile's time when the reduction is short (T8, L2).
// `bias_s`: the tile's bias in shared memory (stage_bias), or nullptr.
template <class T>
__device__ __forceinline__ void shift_add(const WgmmaParams& p, const float* z, int32_t b0, int32_t j, int32_t start,
                                          int32_t co0, const float* bias_s, T* __restrict__ y,
                                          EpilogueThreads th) {
  const int32_t stride = p.stride.value;
  const auto [first, last] = owned_outputs(p, j, start, stride);
  // (and not moved left by a padding wider than the windows before it)
  const bool interior = j > 0 && j < p.windows.value - 1 && (start + p.halo) * stride - p.padding >= 0;
  const int lane = th.lane;
  const int32_t active = p.shift_add_active.value;
  if (lane >= active || th.group >= th.groups) return;
  const int32_t t0 = first + lane;
  if (t0 >= last) return;
  const int32_t u0 = t0 + p.padding;  // 32-bit: the plan bounds L_out + padding
  const int32_t q0 = p.stride.div(u0), r = u0 - q0 * stride;
  const int taps = p.tap_count[r], k0 = p.first_tap[r];
  const int32_t col0 = q0 - p.first_shift[r] - start;
  const int32_t col_step = p.stride.div(active);
  const int32_t tap_rows = p.tap_step * p.z_pitch;                // from one tap's Z row to the next
  const int32_t tap_delta = tap_rows - p.shift_step;              // from one tap's Z element to the next
  const int32_t count = p.shift_add_active.div(last - 1 - t0) + 1;  // outputs per row
  const int32_t segments = p.segments.value;
  const int32_t rows = p.tile_channels * segments;
  for (int32_t row = th.group; row < rows; row += th.groups) {
    const int32_t cc = p.segments.div(row), sg = row - cc * segments;
    const int32_t co = co0 + cc, b = b0 + sg;
    if (co >= p.out_channels) break;  // (rows are channel-major: every later row is past C_out too)
    if (b >= p.batch) continue;
    const float bias_v = bias_s ? bias_s[cc] : 0.0f;
    static_assert(kWgmmaWideConsumers <= 3, "the consumer of channel cc: two compares");
    const int h = (cc >= p.co_per_half) + (cc >= 2 * p.co_per_half);
    const float* zrow =
        z + (h * kWgmmaRows + (cc - h * p.co_per_half) * p.kernel_size + k0) * p.z_pitch + sg * p.window;
    T* yp = y + (int64_t(b) * p.out_channels + co) * p.out_length + t0;
    if (interior) {
      with_tap_count(taps, [&](auto n) {
        interior_outputs<decltype(n)::value>(zrow + col0, yp, count, active, col_step, tap_delta, taps, bias_v);
      });
    } else {
      with_tap_count(taps, [&](auto n) {
        edge_outputs<decltype(n)::value>(zrow, yp, count, col0, active, col_step, tap_rows, p.shift_step, p.window,
                                         taps, bias_v);
      });
    }
  }
}


// The tap-major GEMM kernel (wgmma_gemm.cu) in TF32 on packed W^T [C_out*K][ci_pitch] (boxes of 32
// channels x 64 rows) and x^T [B][L][ci_pitch] (boxes of 32 channels x `window` positions): the
// WgmmaTiling::tf32_columns plans, launched by launch_wgmma_tf32 once it has packed both.
void launch_wgmma_gemm_tf32(const Plan& plan, const ForwardArgs& a, const CUtensorMap& wt_map, const CUtensorMap& xt_map);
// The WgmmaTiling::raw_weights plans (wgmma_raw_weights.cu): W read as stored, x^T packed by
// launch_wgmma_tf32.
void launch_wgmma_raw_weights(const Plan& plan, const ForwardArgs& a, const CUtensorMap& xt_map);

inline PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encoder() {
  static std::once_flag once;
  static void* fn = nullptr;
  static cudaDriverEntryPointQueryResult found = cudaDriverEntryPointSymbolNotFound;
  std::call_once(once, [] {
#if CUDART_VERSION >= 12050
    const cudaError_t err = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &fn, 12000, cudaEnableDefault, &found);
#else  // toolkits before 12.5 have only the unversioned query
    const cudaError_t err = cudaGetDriverEntryPoint("cuTensorMapEncodeTiled", &fn, cudaEnableDefault, &found);
#endif
    if (err != cudaSuccess) (void)cudaGetLastError();
  });
  if (fn == nullptr || found != cudaDriverEntryPointSuccess)
    fail(CONVT1D_CUDA_ERROR, "convt1d: the CUDA driver has no cuTensorMapEncodeTiled (TMA needs driver >= 12.0)");
  return reinterpret_cast<PFN_cuTensorMapEncodeTiled_v12000>(fn);
}

// A TMA map of a row-major tensor: dims[0] innermost; pitches[i] = bytes between steps of dims[i+1];
// `promotion`: how much L2 fetches around each line a box touches.
template <int kRank>
inline CUtensorMap tensor_map(CUtensorMapDataType type, const void* base, const cuuint64_t (&dims)[kRank],
                       const cuuint64_t (&pitches)[kRank - 1], const cuuint32_t (&box)[kRank],
                       CUtensorMapSwizzle swizzle, const char* what,
                       CUtensorMapL2promotion promotion = CU_TENSOR_MAP_L2_PROMOTION_L2_128B) {
  CUtensorMap map;
  cuuint32_t unit[kRank];
  for (int i = 0; i < kRank; ++i) unit[i] = 1;
  const CUresult r = tensor_map_encoder()(&map, type, kRank, const_cast<void*>(base), dims, pitches, box, unit,
                                          CU_TENSOR_MAP_INTERLEAVE_NONE, swizzle, promotion,
                                          CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS)
    fail(CONVT1D_CUDA_ERROR, std::string("convt1d: cuTensorMapEncodeTiled(") + what + ") failed with CUresult " +
                                 std::to_string(static_cast<int>(r)));
  return map;
}


inline WgmmaParams make_wgmma_params(const Plan& plan) {
  const Shape& s = plan.shape;
  const WgmmaTiling& t = plan.wgmma;
  WgmmaParams p{};
  p.out_length = s.out_length;
  p.batch = static_cast<int32_t>(s.batch);
  p.in_channels = static_cast<int32_t>(s.in_channels);
  p.out_channels = static_cast<int32_t>(s.out_channels);
  p.in_length = static_cast<int32_t>(s.in_length);
  p.kernel_size = static_cast<int32_t>(s.kernel_size);
  p.stride = Divisor<int32_t>::of(s.stride);
  p.dilation = static_cast<int32_t>(s.dilation);
  p.padding = static_cast<int32_t>(s.padding);
  p.co_per_half = t.co_per_half;
  p.tile_channels = t.tile_channels();
  p.window = t.window;
  p.segments = Divisor<int32_t>::of(t.segments);
  p.n_atom = t.n_atom;
  p.halo = t.halo;
  p.windows = Divisor<int32_t>::of(t.windows);
  p.k_chunks = t.k_chunks;
  p.z_pitch = t.z_pitch;
  p.stages = t.stages;
  p.co_tiles = Divisor<int32_t>::of(t.co_tiles);
  p.row_tiles = Divisor<int32_t>::of(t.row_tiles);
  p.rows_fastest = t.rows_fastest ? 1 : 0;
  p.ieee = t.ieee ? 1 : 0;
  p.tiles = static_cast<int32_t>(t.tiles);
  p.shift_add_groups = t.shift_add_groups;
  p.shift_add_lanes = Divisor<int32_t>::of(t.shift_add_lanes);
  p.shift_add_active = Divisor<int32_t>::of(t.shift_add_lanes - t.shift_add_lanes % s.stride);
  p.segment_chunks = t.segment_chunks;
  p.register_epilogue = t.register_epilogue ? 1 : 0;
  p.joined = t.joined_pitch > 0 ? 1 : 0;
  p.joined_pitch = Divisor<int32_t>::of(t.joined_pitch > 0 ? static_cast<int32_t>(t.joined_pitch) : 1);
  gemm::fill_phase_taps(plan.poly, p);
  return p;
}

// Launches one of the tap-major kernels over the plan's tiles, its dynamic shared memory opted in, as a
// dependent of the kernel before it (the TF32 packing) when `dependent`.
template <auto kKernel, class T>
void launch_tiles(const Plan& plan, const ForwardArgs& a, const CUtensorMap& w_map, const CUtensorMap& x_map,
                  bool dependent, const char* opt_in_what, const char* launch_what) {
  const int64_t smem = plan.wgmma.smem_bytes;
  opt_in_smem<kKernel>(smem, a.device, opt_in_what);
  const int64_t grid = plan.wgmma.persistent ? plan.wgmma.grid : plan.wgmma.tiles;
  launch_dependent(dependent, kKernel, grid, plan.wgmma.block_threads(), smem, static_cast<cudaStream_t>(a.stream),
                   launch_what, w_map, x_map, make_wgmma_params(plan), static_cast<const T*>(a.bias),
                   static_cast<T*>(a.y));
}

// x as TMA reads it: in place when its rows are 16-byte multiples, else copied by pad_rows into a
// stream-ordered workspace (pool-cached, graph-capturable) with rows of plan.wgmma.x_pitch elements,
// or by join_rows into one row per channel of x_pitch = B * joined_pitch (WgmmaTiling::joined_pitch);
// the kernel after it then launches as the copy's programmatic dependent (padded()). pad_rows' pad is
// never read: the map's row length stays L_in, so TMA zero-fills past it (join_rows writes its zeros).
class TmaInput {
 public:
  TmaInput(const Plan& plan, const ForwardArgs& a, size_t elem) {
    const Shape& s = plan.shape;
    const WgmmaTiling& t = plan.wgmma;
    ptr_ = a.x;
    if (!padded(plan)) return;
    const auto stream = static_cast<cudaStream_t>(a.stream);
    const int64_t rows = t.joined_pitch > 0 ? s.in_channels : s.batch * s.in_channels;
    padded_.emplace(static_cast<size_t>(rows * t.x_pitch) * elem, stream, t.joined_pitch > 0 ? "joined x" : "padded x");
    if (t.joined_pitch > 0)
      join_rows(a.x, padded_->as<void>(), s.batch, s.in_channels, s.in_length, t.joined_pitch, elem, stream);
    else
      pad_rows(a.x, padded_->as<void>(), rows, s.in_length, t.x_pitch, elem, stream);
    ptr_ = padded_->as<void>();
  }
  // The x map's (row length, batch rows): the joined row, or L_in in each of B.
  static std::pair<int64_t, int64_t> rows(const Plan& plan) {
    if (plan.wgmma.joined_pitch > 0) return {plan.wgmma.x_pitch, 1};
    return {plan.shape.in_length, plan.shape.batch};
  }
  static bool padded(const Plan& plan) { return plan.wgmma.x_pitch != plan.shape.in_length; }
  void finish() {  // after the kernel launch: the copy goes back to the pool in stream order
    if (padded_) padded_->release();
  }
  const void* get() const { return ptr_; }

 private:
  const void* ptr_ = nullptr;
  std::optional<StreamBuffer> padded_;
};

}  // namespace convt1d::detail::wgmma

// TF32 tap-major GEMM on Hopper tensor cores (wgmma with A from registers, fed by TMA), fp32 in and out.
//
// Tile: 128 positions (`segments` windows of `window`, as in the 16-bit kernel) x `rows` (co_per_half*K
// rounded up to 32) rows m = co*K + k. wgmma reads tf32 operands from shared memory K-major only, so
// the 16-bit kernel's roles swap: D[position, m] = sum_ci x[ci, position] * W^T[m, ci], with
//   A = x^T, K-major. XT (WgmmaTiling::x_transposed): transpose_to_tf32 writes x^T [B][L][ci_pitch]
//       rounded to tf32 once per call, TMA copies it unchanged and wgmma reads it from shared memory.
//       Otherwise from registers: consumer warpgroup h loads the m64k8 fragments of positions h*64.. by
//       LDS from the x tile TMA wrote as [ci][position], rounding each to tf32;
//   B = W^T from shared memory, K-major: transpose_to_tf32 writes W^T [C_out*K][ci_pitch] rounded to tf32
//       once per call, and TMA copies it unchanged.
// The accumulators go transposed into Z[m][position], so the shift-add is the 16-bit kernel's.
//
// Shared memory (base rounded up to 1024 B, the 128B-swizzle period):
//   stage[stages]: X[4][32 ci][32 positions]   128B swizzle, one TMA box per 32 positions
//                  (XT: X[128 positions][32 ci], one TMA box per window)
//                  B[rows][32 ci]             128B swizzle, one TMA box
//   full[stages], empty[stages]                mbarriers
//   Z[rows][z_pitch] fp32                       epilogue staging, over the stage buffers once spent
//
// IEEE (WgmmaTiling::ieee, XT only): the packing writes big and small parts, and each chunk's three
// passes are three pipeline steps whose TMA boxes read other columns (packed_columns).
//
// Pipeline as in the 16-bit kernel (one producer thread, two consumer warpgroups, one stage of MMAs in
// flight). Without XT a stage's A fragments stay in registers until its wgmma group retires, so two
// register sets alternate between stages.
#include <type_traits>

#include "cuda/dependent_launch.cuh"
#include "cuda/hopper.cuh"
#include "cuda/tf32_pack_tma.cuh"
#include "cuda/tf32_transpose.cuh"
#include "cuda/wgmma_common.cuh"
#include "cuda/wgmma_ops.cuh"

namespace convt1d::detail {

namespace {

using namespace wgmma;

constexpr int kK8 = 8;                                       // reduction per tf32 wgmma
constexpr int kKSteps = kWgmmaTf32Chunk / kK8;                // wgmma steps per stage
constexpr uint32_t kRowBytes = kWgmmaTf32Chunk * 4;           // one 32-channel row of fp32: 128 B
constexpr uint32_t kXBoxBytes = kRowBytes * kWgmmaTf32Atom;   // [32 ci][32 positions]
constexpr uint32_t kXBytes = kXBoxBytes * (kWgmmaTf32Positions / kWgmmaTf32Atom);
constexpr int kCoreRows = 8;                                  // rows of a core matrix (descriptor SBO unit)
constexpr int kPositionsPerWarpgroup = kWgmmaTf32Positions / 2;

using AFragments = uint32_t[kKSteps][4];

// `ROWS` columns of D as wgmma widths 128/64/32, widest first. A row of B is 128 bytes, so the
// descriptor offset of row C0 is C0 * 128 bytes (C0 * 8 in 16-byte units). A: this thread's
// fragment, or (XT) the descriptor of the warpgroup's 64 x^T rows.
template <int ROWS, int C0 = 0, class A>
__device__ __forceinline__ void mma_rows(float* acc, const A& a, uint64_t b) {
  if constexpr (C0 < ROWS) {
    constexpr int kRest = ROWS - C0;
    constexpr int kW = kRest >= 128 ? 128 : kRest >= 64 ? 64 : 32;
    if constexpr (std::is_same_v<A, uint64_t>)
      MmaTf32Smem<kW>::run(acc + C0 / 2, a, b + uint64_t(C0) * 8);
    else
      MmaTf32<kW>::run(acc + C0 / 2, a, b + uint64_t(C0) * 8);
    mma_rows<ROWS, C0 + kW>(acc, a, b);
  }
}

// Element (ci, position) of a stage's x tile: box position/32, row ci, its 16-byte chunk XORed with
// ci mod 8 by the 128B swizzle.
__device__ __forceinline__ float x_at(const unsigned char* xs, int ci, int pos) {
  const int box = pos / kWgmmaTf32Atom, p = pos % kWgmmaTf32Atom;
  return *reinterpret_cast<const float*>(xs + box * kXBoxBytes + hopper::swizzled_128b(ci, p));
}

__device__ __forceinline__ void fence_fragments(AFragments& a) {
#pragma unroll
  for (int kk = 0; kk < kKSteps; ++kk)
#pragma unroll
    for (int i = 0; i < 4; ++i) asm volatile("" : "+r"(a[kk][i])::"memory");
}

// One stage of a consumer warpgroup: its A fragments into `a`, the wgmmas, and the release of the
// previous stage (whose fragments, `a_prev`, are free again once its group has retired).
// XT: one stage of a consumer warpgroup, both operands from shared memory, and the release of the
// previous stage once its group has retired.
template <int ROWS>
__device__ __forceinline__ void consume_stage_smem(const WgmmaParams& p, unsigned char* smem, uint64_t* full,
                                                   uint64_t* empty, uint32_t stage_bytes, int kc, StageCursor& step,
                                                   int h, float* acc) {
  const int s = step.stage;
  ptx::mbar_wait(&full[s], step.wraps & 1);
  const uint32_t a_addr = hopper::smem_addr(smem + size_t(s) * stage_bytes) + h * kPositionsPerWarpgroup * kRowBytes;
  const uint32_t b_addr = hopper::smem_addr(smem + size_t(s) * stage_bytes + kXBytes);
#pragma unroll
  for (int i = 0; i < ROWS / 2; ++i) hopper::fence_operand(acc[i]);
  hopper::wgmma_fence();
#pragma unroll
  for (int kk = 0; kk < kKSteps; ++kk) {
    const uint64_t a = hopper::matrix_desc(a_addr + kk * kK8 * 4, 16, kCoreRows * kRowBytes, hopper::Swizzle::B128);
    const uint64_t b = hopper::matrix_desc(b_addr + kk * kK8 * 4, 16, kCoreRows * kRowBytes, hopper::Swizzle::B128);
    mma_rows<ROWS>(acc, a, b);
  }
  hopper::wgmma_commit();
  hopper::wgmma_wait<1>();
#pragma unroll
  for (int i = 0; i < ROWS / 2; ++i) hopper::fence_operand(acc[i]);
  if (kc > 0 && threadIdx.x % 32 == 0) ptx::mbar_arrive(&empty[step.previous(p.stages)]);
  __syncwarp();
  step.next(p.stages);
}

template <int ROWS>
__device__ __forceinline__ void consume_stage(const WgmmaParams& p, unsigned char* smem, uint64_t* full, uint64_t* empty,
                                              uint32_t stage_bytes, int kc, StageCursor& step, int h, float* acc,
                                              AFragments& a, AFragments& a_prev) {
  const int s = step.stage;
  ptx::mbar_wait(&full[s], step.wraps & 1);
  const unsigned char* xs = smem + size_t(s) * stage_bytes;
  const int lane = threadIdx.x % 32;
  const int pos0 = h * kPositionsPerWarpgroup + (threadIdx.x % 128) / 32 * 16 + lane / 4;
#pragma unroll
  for (int kk = 0; kk < kKSteps; ++kk) {
    const int ci0 = kk * kK8 + lane % 4;
    a[kk][0] = ptx::to_tf32(x_at(xs, ci0, pos0));
    a[kk][1] = ptx::to_tf32(x_at(xs, ci0, pos0 + 8));
    a[kk][2] = ptx::to_tf32(x_at(xs, ci0 + 4, pos0));
    a[kk][3] = ptx::to_tf32(x_at(xs, ci0 + 4, pos0 + 8));
  }
  const uint32_t b_addr = hopper::smem_addr(xs + kXBytes);
#pragma unroll
  for (int i = 0; i < ROWS / 2; ++i) hopper::fence_operand(acc[i]);
  fence_fragments(a);
  hopper::wgmma_fence();
#pragma unroll
  for (int kk = 0; kk < kKSteps; ++kk) {
    const uint64_t b = hopper::matrix_desc(b_addr + kk * kK8 * 4, 16, kCoreRows * kRowBytes, hopper::Swizzle::B128);
    mma_rows<ROWS>(acc, a[kk], b);
  }
  hopper::wgmma_commit();
  hopper::wgmma_wait<1>();
#pragma unroll
  for (int i = 0; i < ROWS / 2; ++i) hopper::fence_operand(acc[i]);
  fence_fragments(a_prev);  // the previous stage's group has retired: its registers may be reused
  if (kc > 0 && threadIdx.x % 32 == 0) ptx::mbar_arrive(&empty[step.previous(p.stages)]);
  __syncwarp();
  step.next(p.stages);
}

template <int ROWS, bool XT>
__global__ void __launch_bounds__(kThreads, 1)
    wgmma_tf32_kernel(const __grid_constant__ CUtensorMap wt_map, const __grid_constant__ CUtensorMap x_map,
                      const __grid_constant__ WgmmaParams p, const float* __restrict__ bias, float* __restrict__ y) {
#ifdef CONVT1D_SM90A_DEVICE
  extern __shared__ unsigned char smem_raw[];
  const uint32_t stage_bytes = kXBytes + uint32_t(ROWS) * kRowBytes;
  // (W^T and x^T are packed by the kernel before)
  const auto [smem, full, empty, bias_smem] = open_stage_ring(smem_raw, p.stages, stage_bytes);
  const int tid = threadIdx.x;
  const int wg = tid / 128;

  const auto [b0, j, start, co0] = tile_origin(p, blockIdx.x, p.co_per_half);
  const float* bias_s = stage_bias(p, co0, bias, bias_smem);

  float acc[ROWS / 2];
  if (wg == 0) {  // producer
    if (tid == 0) {
      const int atoms_per_window = p.window / kWgmmaTf32Atom;
      StageCursor step;
      for (int kc = 0; kc < p.k_chunks; ++kc, step.next(p.stages)) {
        const int s = step.stage;
        if (step.wraps > 0) ptx::mbar_wait(&empty[s], (step.wraps - 1) & 1);
        hopper::mbar_arrive_expect_tx(&full[s], stage_bytes);
        unsigned char* xs = smem + size_t(s) * stage_bytes;
        const PackedColumns col = packed_columns<true>(p, kc);  // (IEEE runs with XT only, in one chain)
        if constexpr (XT) {
          for (int sg = 0; sg < p.segments.value; ++sg)
            hopper::tma_load_3d(xs + sg * p.window * kRowBytes, &x_map, col.x, start, b0 + sg, &full[s]);
        } else {
          // (structured bindings are captured by copy: C++17 lambdas cannot name them)
          const auto atom = [&, x0 = start, row0 = b0, bar = &full[s]](int a, int in_window, int sg) {
            hopper::tma_load_3d(xs + a * kXBoxBytes, &x_map, x0 + in_window * kWgmmaTf32Atom, col.x, row0 + sg, bar);
          };
          for_each_atom(kWgmmaTf32Positions / kWgmmaTf32Atom, atoms_per_window, atom);
        }
        hopper::tma_load_2d(xs + kXBytes, &wt_map, col.w, co0 * p.kernel_size, &full[s]);
      }
    }
    __syncwarp();
  } else {  // consumers
    const int h = wg - 1;
#pragma unroll
    for (int i = 0; i < ROWS / 2; ++i) acc[i] = 0.0f;
    StageCursor step;
    if constexpr (XT) {
      for (int kc = 0; kc < p.k_chunks; ++kc)
        consume_stage_smem<ROWS>(p, smem, full, empty, stage_bytes, kc, step, h, acc);
    } else {
      AFragments a_even, a_odd;
      for (int kc = 0; kc < p.k_chunks; ++kc) {
        if (kc % 2 == 0)
          consume_stage<ROWS>(p, smem, full, empty, stage_bytes, kc, step, h, acc, a_even, a_odd);
        else
          consume_stage<ROWS>(p, smem, full, empty, stage_bytes, kc, step, h, acc, a_odd, a_even);
      }
    }
    hopper::wgmma_wait<0>();
#pragma unroll
    for (int i = 0; i < ROWS / 2; ++i) hopper::fence_operand(acc[i]);
    hopper::fence_proxy_async();  // the wgmma operand reads before the generic Z stores over them
  }
  __syncthreads();
  if (wg > 0) {  // D[position][m] into Z[m][position]
    const int h = wg - 1;
    float* z = reinterpret_cast<float*>(smem);
    const int lane = tid % 32;
    const int pos = h * kPositionsPerWarpgroup + (tid % 128) / 32 * 16 + lane / 4;
#pragma unroll
    for (int c8 = 0; c8 < ROWS / 8; ++c8) {
      const int m = c8 * 8 + (lane % 4) * 2;
      z[m * p.z_pitch + pos] = acc[c8 * 4];
      z[(m + 1) * p.z_pitch + pos] = acc[c8 * 4 + 1];
      z[m * p.z_pitch + pos + 8] = acc[c8 * 4 + 2];
      z[(m + 1) * p.z_pitch + pos + 8] = acc[c8 * 4 + 3];
    }
  }
  __syncthreads();  // Z written (all three warpgroups run the shift-add)
  shift_add(p, reinterpret_cast<const float*>(smem), b0, j, start, co0, bias_s, y, epilogue_threads(p, threadIdx.x));
#else
  __trap();  // never planned without sm_90a code (DeviceInfo::wgmma)
#endif
}

template <int ROWS, bool XT>
void launch_rows(const Plan& plan, const ForwardArgs& a, const CUtensorMap& wt_map, const CUtensorMap& x_map) {
  launch_tiles<wgmma_tf32_kernel<ROWS, XT>, float>(plan, a, wt_map, x_map, /*dependent=*/true,
                                                   "cudaFuncSetAttribute(wgmma_tf32_kernel)", "wgmma_tf32_kernel launch");
}

template <int ROWS = kWgmmaTf32MaxRows>
void launch_rows_of(const Plan& plan, const ForwardArgs& a, const CUtensorMap& wt_map, const CUtensorMap& x_map) {
  if constexpr (ROWS >= kWgmmaTf32RowStep) {
    if (plan.wgmma.rows == ROWS)
      return plan.wgmma.x_transposed ? launch_rows<ROWS, true>(plan, a, wt_map, x_map)
                                     : launch_rows<ROWS, false>(plan, a, wt_map, x_map);
    return launch_rows_of<ROWS - kWgmmaTf32RowStep>(plan, a, wt_map, x_map);
  }
  fail(CONVT1D_INTERNAL_ERROR, "convt1d: wgmma tf32 tile rows " + std::to_string(plan.wgmma.rows) + " not planned");
}

// W [C_in][C_out*K] into W^T [C_out*K][ci_pitch] as the plan's kernel reads it.
TransposeJob weight_job(const Plan& plan, const void* w, float* packed) {
  const Shape& s = plan.shape;
  const WgmmaTiling& t = plan.wgmma;
  if (t.tap_pairs && (t.raw_weights || !t.tf32_columns || !t.register_epilogue || !t.persistent))
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: W^T rows regrouped for a tiling whose epilogue does not read them so");
  return TransposeJob{static_cast<const float*>(w), packed, 1, s.in_channels, s.out_channels * s.kernel_size,
                      t.ci_pitch, t.ieee, t.tap_pairs ? static_cast<int32_t>(s.stride) : 0};
}

}  // namespace

void pack_wgmma_weights(const Plan& plan, const void* w, void* packed, void* stream) {
  if (packed_weight_layout(plan).bytes == 0)
    fail(CONVT1D_INTERNAL_ERROR, "convt1d: pack_wgmma_weights called for a plan that packs no weights");
  const TransposeJob job = weight_job(plan, w, static_cast<float*>(packed));
  transpose_to_tf32(&job, 1, static_cast<cudaStream_t>(stream), "transpose_tf32_kernel launch (W^T ahead)");
}

void launch_wgmma_tf32(const Plan& plan, const ForwardArgs& a) {
  const Shape& s = plan.shape;
  const WgmmaTiling& t = plan.wgmma;
  const auto stream = static_cast<cudaStream_t>(a.stream);
  const int64_t m_total = s.out_channels * s.kernel_size;
  const cuuint64_t ci_pitch = static_cast<cuuint64_t>(t.ci_pitch);
  const cuuint64_t l = static_cast<cuuint64_t>(s.in_length);
  const cuuint64_t batch = static_cast<cuuint64_t>(s.batch);
  // W^T (unless read raw, or packed ahead by the caller) and x^T packed once per call into
  // stream-ordered workspaces, in one launch. The kernel launches as the packing's programmatic
  // dependent either way: where nothing is packed, its wait for the kernel before is a plain stream order.
  const bool pack_w = !t.raw_weights && a.packed_w == nullptr;
  StreamBuffer wt(pack_w ? static_cast<size_t>(packed_weight_layout(plan).bytes) : 0, stream, "packed W^T");
  StreamBuffer xt(t.x_transposed ? static_cast<size_t>(s.batch * s.in_length * t.ci_pitch) * 4 : 0, stream, "x^T");
  const float* w_packed = pack_w ? wt.as<float>() : static_cast<const float*>(a.packed_w);
  const TransposeJob x_job{static_cast<const float*>(a.x), xt.as<float>(), s.batch, s.in_channels, s.in_length,
                           t.ci_pitch, t.ieee};
  const TransposeJob jobs[] = {pack_w ? weight_job(plan, a.w, wt.as<float>()) : x_job, x_job};
  const int job_count = (pack_w ? 1 : 0) + (t.x_transposed ? 1 : 0);
  if (job_count > 0 && t.pack_blocks > 0)
    tf32_pack_tma(jobs, job_count, t.pack_blocks, a.device, stream);
  else if (job_count > 0)
    transpose_to_tf32(jobs, job_count, stream, "transpose_tf32_kernel launch (W^T, x^T)");
  // Boxes of the tile's rows, or (tf32_columns) of one warpgroup's 64.
  const cuuint32_t box_rows = static_cast<cuuint32_t>(t.tf32_columns ? kWgmmaRows : t.rows);
  const auto wt_map = [&] {
    return tensor_map<2>(CU_TENSOR_MAP_DATA_TYPE_FLOAT32, w_packed, {ci_pitch, static_cast<cuuint64_t>(m_total)},
                         {ci_pitch * 4}, {kWgmmaTf32Chunk, box_rows}, CU_TENSOR_MAP_SWIZZLE_128B, "packed weight");
  };
  if (t.x_transposed) {
    const CUtensorMap x_map = tensor_map<3>(CU_TENSOR_MAP_DATA_TYPE_FLOAT32, xt.as<float>(), {ci_pitch, l, batch},
                                            {ci_pitch * 4, ci_pitch * l * 4},
                                            {kWgmmaTf32Chunk, static_cast<cuuint32_t>(t.window), 1},
                                            CU_TENSOR_MAP_SWIZZLE_128B, "x^T");
    if (t.raw_weights)
      launch_wgmma_raw_weights(plan, a, x_map);
    else if (t.tf32_columns)
      launch_wgmma_gemm_tf32(plan, a, wt_map(), x_map);
    else
      launch_rows_of(plan, a, wt_map(), x_map);
  } else {
    TmaInput x(plan, a, 4);
    const cuuint64_t pitch = static_cast<cuuint64_t>(t.x_pitch);
    const cuuint64_t ci = static_cast<cuuint64_t>(s.in_channels);
    const CUtensorMap x_map =
        tensor_map<3>(CU_TENSOR_MAP_DATA_TYPE_FLOAT32, x.get(), {l, ci, batch}, {pitch * 4, pitch * ci * 4},
                      {kWgmmaTf32Atom, kWgmmaTf32Chunk, 1}, CU_TENSOR_MAP_SWIZZLE_128B, "x");
    launch_rows_of(plan, a, wt_map(), x_map);
    x.finish();
  }
  xt.release();
  wt.release();
}

}  // namespace convt1d::detail

// GEMM + col2im (KernelKind::GemmCol2im), for kernels longer than a wgmma tile holds taps of (K in
// the thousands, e.g. stride 1000, K 10000): the TF32 wgmma kernel first computes the 1x1 problem
// Z[b, co*K + k, l] = sum_ci W[ci, co, k] x[b, ci, l] into a stream-ordered workspace, then
// col2im_kernel sums each output's taps of Z.
// fp16 and bf16 run the same fp32 GEMM on fp32 copies of x and W (widen_kernel): their values are
// exact in TF32 (11 and 8 significant bits; TF32 holds 11), so its products are the ones a 16-bit
// tensor core forms, and Z stays fp32 until col2im rounds each output once.
//
// col2im tile: one output y[b, co, t] per thread, grid-stride over B*C_out*L_out in 64-bit; it reads
// the Z entries of its own taps (TapWalk), so the pass costs one read of Z and one write of y.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "backend.hpp"
#include "cuda/cuda_check.cuh"
#include "cuda/dtype_traits.cuh"
#include "cuda/stream_buffer.cuh"
#include "cuda/tap_walk.cuh"

namespace convt1d::detail {

namespace {

constexpr int kCol2imThreads = 256;
constexpr int64_t kCol2imMaxBlocks = int64_t{1} << 20;  // grid-stride beyond this

struct Col2imParams {
  int64_t total, out_length, out_channels;
  TapWalk taps;
};

template <class T>
__global__ void __launch_bounds__(kCol2imThreads)
    col2im_kernel(Col2imParams p, const float* __restrict__ z, const T* __restrict__ bias, T* __restrict__ y) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < p.total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t t = i % p.out_length;
    const int64_t bc = i / p.out_length;  // b * C_out + co
    const int64_t co = bc % p.out_channels;
    // Z rows of (b, co): [b][co*K .. co*K + K) of L_in positions each.
    const float* zc = z + bc * p.taps.kernel_size * p.taps.in_length;
    float acc = bias ? Elem<T>::load(bias[co]) : 0.0f;
    p.taps.each(t, [&](int64_t k, int64_t l) { acc += zc[k * p.taps.in_length + l]; });
    y[i] = Elem<T>::store(acc);
  }
}

// fp32 copy of a 16-bit tensor (x or W), grid-stride in 64-bit.
template <class T>
__global__ void __launch_bounds__(kCol2imThreads) widen_kernel(const T* __restrict__ src, float* __restrict__ dst, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    dst[i] = Elem<T>::load(src[i]);
}

unsigned grid_for(int64_t n) {
  return static_cast<unsigned>(std::min<int64_t>((n + kCol2imThreads - 1) / kCol2imThreads, kCol2imMaxBlocks));
}

template <class T>
void run(const Plan& plan, const Plan& gemm, const ForwardArgs& a) {
  const Shape& s = plan.shape;
  const auto stream = static_cast<cudaStream_t>(a.stream);
  // Sizes the plan bounded (col2im_workspace); the copies of x and W are empty for fp32.
  const Col2imWorkspace ws = col2im_workspace(s, plan.dtype);
  StreamBuffer z(static_cast<size_t>(ws.z) * sizeof(float), stream, "col2im workspace");
  StreamBuffer x32(static_cast<size_t>(ws.x) * sizeof(float), stream, "fp32 copy of x");
  StreamBuffer w32(static_cast<size_t>(ws.w) * sizeof(float), stream, "fp32 copy of the weights");
  const void* x = a.x;
  const void* w = a.w;
  if constexpr (!std::is_same_v<T, float>) {
    auto widen = [&](const void* src, const StreamBuffer& dst, double count, const char* what) {
      const auto n = static_cast<int64_t>(count);
      widen_kernel<T><<<grid_for(n), kCol2imThreads, 0, stream>>>(static_cast<const T*>(src), dst.as<float>(), n);
      cuda_check_launch(what);
      return dst.as<const float>();
    };
    x = widen(a.x, x32, ws.x, "widen_kernel launch (x)");
    w = widen(a.w, w32, ws.w, "widen_kernel launch (weight)");
  }
  launch_wgmma(gemm, ForwardArgs{x, w, nullptr, z.as<float>(), a.stream, a.device});
  const Col2imParams p{s.y_elements(), s.out_length, s.out_channels, TapWalk::of(s)};
  col2im_kernel<T><<<grid_for(p.total), kCol2imThreads, 0, stream>>>(p, z.as<const float>(), static_cast<const T*>(a.bias),
                                                                     static_cast<T*>(a.y));
  cuda_check_launch("col2im_kernel launch");
  z.release();
  x32.release();
  w32.release();
}

}  // namespace

void launch_gemm_col2im(const Plan& plan, const Plan& gemm, const ForwardArgs& a) {
  if (plan.dtype == CONVT1D_FLOAT16)
    run<__half>(plan, gemm, a);
  else if (plan.dtype == CONVT1D_BFLOAT16)
    run<__nv_bfloat16>(plan, gemm, a);
  else
    run<float>(plan, gemm, a);
}

}  // namespace convt1d::detail

// GEMM + col2im (KernelKind::GemmCol2im), for kernels longer than a wgmma tile holds taps of (K in
// the thousands, e.g. stride 1000, K 10000): the TF32 wgmma kernel first computes the 1x1 problem
// Z[b, co*K + k, l] = sum_ci W[ci, co, k] x[b, ci, l] into a stream-ordered workspace, then
// col2im_kernel sums each output's taps of Z.
//
// col2im tile: one output y[b, co, t] per thread, grid-stride over B*C_out*L_out in 64-bit; it reads
// the Z entries of its own taps (TapWalk), so the pass costs one read of Z and one write of y.
#include <algorithm>
#include <cstdint>

#include "backend.hpp"
#include "cuda/cuda_check.cuh"
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

__global__ void __launch_bounds__(kCol2imThreads)
    col2im_kernel(Col2imParams p, const float* __restrict__ z, const float* __restrict__ bias, float* __restrict__ y) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < p.total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t t = i % p.out_length;
    const int64_t bc = i / p.out_length;  // b * C_out + co
    const int64_t co = bc % p.out_channels;
    // Z rows of (b, co): [b][co*K .. co*K + K) of L_in positions each.
    const float* zc = z + bc * p.taps.kernel_size * p.taps.in_length;
    float acc = bias ? bias[co] : 0.0f;
    p.taps.each(t, [&](int64_t k, int64_t l) { acc += zc[k * p.taps.in_length + l]; });
    y[i] = acc;
  }
}

}  // namespace

void launch_gemm_col2im(const Plan& plan, const Plan& gemm, const ForwardArgs& a) {
  const Shape& s = plan.shape;
  const auto stream = static_cast<cudaStream_t>(a.stream);
  const size_t z_bytes = static_cast<size_t>(s.batch * s.out_channels * s.kernel_size * s.in_length) * sizeof(float);
  StreamBuffer z(z_bytes, stream, "col2im workspace");
  launch_wgmma(gemm, ForwardArgs{a.x, a.w, nullptr, z.as<float>(), a.stream, a.device});
  const Col2imParams p{s.y_elements(), s.out_length, s.out_channels, TapWalk::of(s)};
  const int64_t blocks = std::min<int64_t>((p.total + kCol2imThreads - 1) / kCol2imThreads, kCol2imMaxBlocks);
  col2im_kernel<<<static_cast<unsigned>(blocks), kCol2imThreads, 0, stream>>>(
      p, z.as<const float>(), static_cast<const float*>(a.bias), static_cast<float*>(a.y));
  cuda_check_launch("col2im_kernel launch");
  z.release();
}

}  // namespace convt1d::detail

// Direct kernel: correct for every problem and dtype, used where the tensor-core kernel does not apply
// (depthwise, tiny channel counts, fp64, stride beyond the planner's phase limit).
//
// Tile: one output element y[b, co, t] per thread, grid-stride over all B*C_out*L_out elements in
// 64-bit; each thread visits only its own taps (TapWalk) and the group's input channels. No shared
// memory, no pipeline: speed is the tensor-core kernels' job.
#include <algorithm>
#include <cstdint>

#include "backend.hpp"
#include "cuda/cuda_check.cuh"
#include "cuda/dtype_traits.cuh"
#include "cuda/tap_walk.cuh"

namespace convt1d::detail {

namespace {

constexpr int kDirectThreads = 256;
constexpr int64_t kDirectMaxBlocks = int64_t{1} << 20;  // grid-stride beyond this

struct DirectParams {
  int64_t total, out_length, in_channels, out_channels, in_per_group, out_per_group;
  TapWalk taps;
};

template <class T>
__global__ void __launch_bounds__(kDirectThreads)
    direct_kernel(DirectParams p, const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias,
                  T* __restrict__ y) {
  using Acc = typename Elem<T>::Acc;
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < p.total;
       i += int64_t{gridDim.x} * blockDim.x) {
    const int64_t t = i % p.out_length;
    const int64_t co = (i / p.out_length) % p.out_channels;
    const int64_t b = i / (p.out_length * p.out_channels);
    const int64_t g = co / p.out_per_group, co_g = co % p.out_per_group;
    Acc acc = bias ? Elem<T>::load(bias[co]) : Acc(0);
    p.taps.each(t, [&](int64_t k, int64_t l) {
      const T* xp = x + (b * p.in_channels + g * p.in_per_group) * p.taps.in_length + l;
      const T* wp = w + ((g * p.in_per_group) * p.out_per_group + co_g) * p.taps.kernel_size + k;
      for (int64_t ci = 0; ci < p.in_per_group; ++ci)
        acc += Elem<T>::load(wp[ci * p.out_per_group * p.taps.kernel_size]) *
               Elem<T>::load(xp[ci * p.taps.in_length]);
    });
    y[i] = Elem<T>::store(acc);
  }
}

template <class T>
void launch_typed(const Plan& plan, const ForwardArgs& a) {
  const Shape& s = plan.shape;
  const DirectParams p{s.y_elements(), s.out_length, s.in_channels, s.out_channels, s.in_per_group,
                       s.out_per_group, TapWalk::of(s)};
  const int64_t blocks = std::min<int64_t>((p.total + kDirectThreads - 1) / kDirectThreads, kDirectMaxBlocks);
  direct_kernel<T><<<static_cast<unsigned>(blocks), kDirectThreads, 0, static_cast<cudaStream_t>(a.stream)>>>(
      p, static_cast<const T*>(a.x), static_cast<const T*>(a.w), static_cast<const T*>(a.bias),
      static_cast<T*>(a.y));
  cuda_check_launch("direct_kernel launch");
}

}  // namespace

void launch_direct(const Plan& plan, const ForwardArgs& args) {
  switch (plan.dtype) {
    case CONVT1D_FLOAT32: launch_typed<float>(plan, args); break;
    case CONVT1D_FLOAT16: launch_typed<__half>(plan, args); break;
    case CONVT1D_BFLOAT16: launch_typed<__nv_bfloat16>(plan, args); break;
    default: launch_typed<double>(plan, args); break;
  }
}

}  // namespace convt1d::detail

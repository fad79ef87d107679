// Direct kernel: correct for every problem and dtype, used where no other kernel applies (depthwise,
// fp64, stride beyond the planner's phase limit).
//
// Tile: one output element y[b, co, t] per thread, grid-stride over all B*C_out*L_out elements (32-bit
// indices where they fit, else 64-bit); each thread visits only its own taps (TapWalk) and the group's
// input channels. No shared memory, no pipeline: speed is the tensor-core kernels' job.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "backend.hpp"
#include "cuda/cuda_check.cuh"
#include "cuda/dtype_traits.cuh"
#include "cuda/tap_walk.cuh"

namespace convt1d::detail {

namespace {

constexpr int kDirectThreads = 256;
constexpr int64_t kDirectMaxBlocks = int64_t{1} << 20;  // grid-stride beyond this
constexpr int64_t kStride32Max = 46340;                  // floor(sqrt(2^31 - 1))

// I: int32_t where every index of the problem fits (most problems; 32-bit divisions, by multiply-high,
// are far cheaper, which matters for the tiny launch-bound layers this kernel runs, e.g. Mimi's
// depthwise upsampler), else int64_t.
template <class I>
struct DirectParams {
  I total, in_channels, in_per_group;
  Divisor<I> out_length, out_channels, out_per_group;
  TapWalkOf<I> taps;
};

template <class T, class I>
__global__ void __launch_bounds__(kDirectThreads)
    direct_kernel(DirectParams<I> p, const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ bias,
                  T* __restrict__ y) {
  using Acc = typename Elem<T>::Acc;
  const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x); i < p.total;
       i += step) {
    const I row = p.out_length.div(i);  // b * C_out + co
    const I t = i - row * p.out_length.value;
    const I b = p.out_channels.div(row), co = row - b * p.out_channels.value;
    const I g = p.out_per_group.div(co), co_g = co - g * p.out_per_group.value;
    Acc acc = bias ? Elem<T>::load(bias[co]) : Acc(0);
    p.taps.each(t, [&](I k, I l) {
      const T* xp = x + (b * p.in_channels + g * p.in_per_group) * p.taps.in_length + l;
      const T* wp = w + ((g * p.in_per_group) * p.out_per_group.value + co_g) * p.taps.kernel_size + k;
      for (I ci = 0; ci < p.in_per_group; ++ci)
        acc += Elem<T>::load(wp[ci * p.out_per_group.value * p.taps.kernel_size]) *
               Elem<T>::load(xp[ci * p.taps.in_length]);
    });
    y[i] = Elem<T>::store(acc);
  }
}

template <class T, class I>
void launch_indexed(const Plan& plan, const ForwardArgs& a) {
  const Shape& s = plan.shape;
  const DirectParams<I> p{static_cast<I>(s.y_elements()), static_cast<I>(s.in_channels),
                          static_cast<I>(s.in_per_group),       Divisor<I>::of(s.out_length),
                          Divisor<I>::of(s.out_channels),       Divisor<I>::of(s.out_per_group),
                          TapWalkOf<I>::of(s)};
  const int64_t blocks = std::min<int64_t>((s.y_elements() + kDirectThreads - 1) / kDirectThreads, kDirectMaxBlocks);
  direct_kernel<T, I><<<static_cast<unsigned>(blocks), kDirectThreads, 0, static_cast<cudaStream_t>(a.stream)>>>(
      p, static_cast<const T*>(a.x), static_cast<const T*>(a.w), static_cast<const T*>(a.bias),
      static_cast<T*>(a.y));
  cuda_check_launch("direct_kernel launch");
}

template <class T>
void launch_typed(const Plan& plan, const ForwardArgs& a) {
  const Shape& s = plan.shape;
  // 32-bit when every element index, the grid-stride step past the last output, u = t + padding and
  // the tap walk's product of two residues mod stride/gcd (below stride^2) fit.
  constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
  const bool fits32 = s.x_elements() <= kInt32Max && s.w_elements() <= kInt32Max &&
                      s.y_elements() + kDirectMaxBlocks * kDirectThreads <= kInt32Max &&
                      s.out_length + s.padding <= kInt32Max && s.dilation * (s.kernel_size - 1) <= kInt32Max &&
                      s.stride <= kStride32Max;
  if (fits32)
    launch_indexed<T, int32_t>(plan, a);
  else
    launch_indexed<T, int64_t>(plan, a);
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

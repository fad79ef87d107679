// Programmatic dependent launch (sm_90): a kernel launched by launch_dependent(true, ...) may start while
// the kernel before it in the stream (here the TF32 operand packing) is still finishing, and does
// its set-up (barriers, shared memory) meanwhile; it must call wait_prior_grid() before it reads
// what that kernel wrote. The packing kernel calls allow_dependent_launch() once its blocks have
// started. On older GPUs, or launched the usual way, both device calls are no-ops.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <utility>

#include "cuda/cuda_check.cuh"

namespace convt1d::detail {

__device__ __forceinline__ void wait_prior_grid() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

__device__ __forceinline__ void allow_dependent_launch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

// kernel<<<blocks, threads, smem, stream>>>(args...), allowed to overlap the previous kernel's tail
// when `dependent`.
template <class... Params, class... Args>
void launch_dependent(bool dependent, void (*kernel)(Params...), int64_t blocks, int threads, int64_t smem,
                      cudaStream_t stream, const char* what, Args&&... args) {
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(static_cast<unsigned>(blocks));
  config.blockDim = dim3(static_cast<unsigned>(threads));
  config.dynamicSmemBytes = static_cast<size_t>(smem);
  config.stream = stream;
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  config.attrs = &attribute;
  config.numAttrs = dependent ? 1 : 0;
  cuda_check(cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...), what);
}

}  // namespace convt1d::detail

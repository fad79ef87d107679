// The CUDA backend as seen from plain C++: no CUDA types cross this header, so dispatch.cpp and the
// tests compile without nvcc. Implemented in src/cuda/*.cu, or by src/cuda/no_cuda.cpp in CPU-only builds.
#pragma once

#include <cstdint>
#include <string>

#include "plan.hpp"

namespace convt1d::detail {

struct ForwardArgs {
  const void* x;
  const void* w;
  const void* bias;  // nullptr when the problem has none
  void* y;
  void* stream;      // cudaStream_t
  int device;        // current CUDA device ordinal
  // The weights already packed as the plan's kernel reads them (packed_weight_layout(plan), by
  // pack_wgmma_weights), or nullptr: the launch packs them itself.
  const void* packed_w = nullptr;
};

// 0 when there is no driver, no device, or no CUDA in this build.
int cuda_device_count();

// The current device's properties (cached per device: after the first call, one cudaGetDevice).
// Throws ApiError(UNSUPPORTED) without a device.
DeviceInfo cuda_current_device();

// The device's name (cudaGetDeviceProperties, once per device): the tune table's device key.
std::string cuda_device_name(int ordinal);

// Throws ApiError(INVALID_ARGUMENT) when `ptr` is not memory device `device` (the current one) can
// read (a host pointer, or another device's memory), naming `what`.
void cuda_check_pointer(const void* ptr, const char* what, int device);

void launch_direct(const Plan& plan, const ForwardArgs& args);
void launch_implicit_gemm(const Plan& plan, const ForwardArgs& args);   // cuda/implicit_gemm.cu
void launch_wgmma(const Plan& plan, const ForwardArgs& args);           // cuda/wgmma_gemm.cu
void launch_wgmma_tf32(const Plan& plan, const ForwardArgs& args);      // cuda/wgmma_tf32.cu
// Writes packed_weight_layout(plan) at `packed` from the weights `w` (cuda/wgmma_tf32.cu).
void pack_wgmma_weights(const Plan& plan, const void* w, void* packed, void* stream);
void launch_wgmma_stream(const Plan& plan, const ForwardArgs& args);    // cuda/wgmma_stream.cu
void launch_narrow(const Plan& plan, const ForwardArgs& args);          // cuda/narrow.cu
void launch_narrow_mma(const Plan& plan, const ForwardArgs& args);      // cuda/narrow_mma.cu
// GemmCol2im: `gemm` is the plan of col2im_gemm_problem(problem), run into a workspace first.
void launch_gemm_col2im(const Plan& plan, const Plan& gemm, const ForwardArgs& args);  // cuda/col2im.cu

}  // namespace convt1d::detail

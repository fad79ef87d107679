// The dynamic shared-memory opt-in every large-tile kernel needs before its first launch on a device.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <mutex>

#include "cuda/cuda_check.cuh"

namespace convt1d::detail {

// Raises kKernel's dynamic shared-memory limit to `smem` bytes on `device` (once per device and size:
// the attribute call costs microseconds, and launches are per call). Under a lock, so that the
// recorded value is never above the one set.
template <auto kKernel>
void opt_in_smem(int64_t smem, int device, const char* what) {
  constexpr int kMaxDevices = 64;
  static std::mutex mutex;
  static int64_t opted_in[kMaxDevices] = {};  // per device: the dynamic smem the kernel may use
  std::lock_guard<std::mutex> lock(mutex);
  const bool tracked = device >= 0 && device < kMaxDevices;
  if (tracked && opted_in[device] >= smem) return;
  cuda_check(cudaFuncSetAttribute(kKernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)), what);
  if (tracked) opted_in[device] = smem;
}

}  // namespace convt1d::detail

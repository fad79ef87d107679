// Device queries for the planner and pointer checks for the C ABI.
#include <mutex>
#include <string>
#include <vector>

#include "backend.hpp"
#include "cuda/cuda_check.cuh"

namespace convt1d::detail {

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();  // no driver or no device: not an error for a query
    return 0;
  }
  return n;
}

DeviceInfo cuda_current_device() {
  static std::mutex mutex;
  static std::vector<DeviceInfo> cache;  // by device ordinal; sm_count == 0 means not yet queried
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) {
    (void)cudaGetLastError();
    fail(CONVT1D_UNSUPPORTED, "convt1d: device cuda requested, but no CUDA device is available");
  }
  std::lock_guard<std::mutex> lock(mutex);
  if (static_cast<size_t>(dev) < cache.size() && cache[static_cast<size_t>(dev)].sm_count > 0)
    return cache[static_cast<size_t>(dev)];  // the per-call path: one cudaGetDevice
  if (cuda_device_count() == 0)
    fail(CONVT1D_UNSUPPORTED, "convt1d: device cuda requested, but no CUDA device is available");
  if (static_cast<size_t>(dev) >= cache.size()) cache.resize(static_cast<size_t>(dev) + 1);
  DeviceInfo& info = cache[static_cast<size_t>(dev)];
  int v = 0;
  info.ordinal = dev;
  cuda_check(cudaDeviceGetAttribute(&v, cudaDevAttrComputeCapabilityMajor, dev), "cudaDeviceGetAttribute");
  info.cc_major = v;
  cuda_check(cudaDeviceGetAttribute(&v, cudaDevAttrComputeCapabilityMinor, dev), "cudaDeviceGetAttribute");
  info.cc_minor = v;
  cuda_check(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev), "cudaDeviceGetAttribute");
  info.smem_per_block_optin = v;
  cuda_check(cudaDeviceGetAttribute(&v, cudaDevAttrMaxSharedMemoryPerMultiprocessor, dev), "cudaDeviceGetAttribute");
  info.smem_per_sm = v;
  cuda_check(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, dev), "cudaDeviceGetAttribute");
  info.sm_count = v;
#ifdef CONVT1D_SM90A
  info.wgmma = info.cc_major == 9 && info.cc_minor == 0;
#endif
  return info;
}

std::string cuda_device_name(int ordinal) {
  static std::mutex mutex;
  static std::vector<std::string> names;  // by ordinal; empty: not yet queried
  std::lock_guard<std::mutex> lock(mutex);
  if (static_cast<size_t>(ordinal) >= names.size()) names.resize(static_cast<size_t>(ordinal) + 1);
  std::string& name = names[static_cast<size_t>(ordinal)];
  if (name.empty()) {
    cudaDeviceProp prop{};
    cuda_check(cudaGetDeviceProperties(&prop, ordinal), "cudaGetDeviceProperties");
    name = prop.name;
  }
  return name;
}

void cuda_check_pointer(const void* ptr, const char* what, int dev) {
  cudaPointerAttributes attr{};
  const cudaError_t err = cudaPointerGetAttributes(&attr, ptr);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    fail(CONVT1D_INVALID_ARGUMENT,
         std::string("convt1d: ") + what + " must point to CUDA device memory, got a pointer CUDA does not know");
  }
  const bool readable = attr.type == cudaMemoryTypeManaged ||
                        (attr.type == cudaMemoryTypeDevice && attr.device == dev) ||
                        (attr.type == cudaMemoryTypeHost && attr.devicePointer == ptr);
  if (!readable) {
    std::string got = attr.type == cudaMemoryTypeDevice ? "memory of CUDA device " + std::to_string(attr.device)
                                                        : std::string("host memory");
    fail(CONVT1D_INVALID_ARGUMENT, std::string("convt1d: ") + what + " must be memory of the current CUDA device " +
                                       std::to_string(dev) + ", got " + got);
  }
}

}  // namespace convt1d::detail

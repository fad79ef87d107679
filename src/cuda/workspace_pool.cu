#include "cuda/workspace_pool.cuh"

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "cuda/cuda_check.cuh"
#include "workspace_keep.hpp"

namespace convt1d::detail {

cudaMemPool_t workspace_pool(int device) {
  static std::mutex mutex;
  static std::vector<cudaMemPool_t> pools;  // by device ordinal; never destroyed (the process owns them)
  std::lock_guard<std::mutex> lock(mutex);
  if (device < 0) fail(CONVT1D_INTERNAL_ERROR, "convt1d: workspace_pool of device " + std::to_string(device));
  if (static_cast<size_t>(device) >= pools.size()) pools.resize(static_cast<size_t>(device) + 1, nullptr);
  if (pools[device] != nullptr) return pools[device];
  // (read before anything is created, so that a bad value leaves no pool behind and fails every call alike)
  const uint64_t keep = static_cast<uint64_t>(workspace_keep_bytes(std::getenv(kWorkspaceKeepEnv)));
  cudaMemPoolProps props{};
  props.allocType = cudaMemAllocationTypePinned;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = device;
  cudaMemPool_t pool = nullptr;
  cuda_check(cudaMemPoolCreate(&pool, &props), "cudaMemPoolCreate (workspace pool)");
  uint64_t threshold = keep;
  const cudaError_t err = cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold);
  if (err != cudaSuccess) {
    (void)cudaMemPoolDestroy(pool);
    cuda_check(err, "cudaMemPoolSetAttribute(workspace pool, release threshold)");
  }
  pools[device] = pool;
  return pool;
}

}  // namespace convt1d::detail

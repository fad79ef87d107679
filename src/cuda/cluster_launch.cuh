// Launching persistent kernels as thread-block clusters (sm_90): the grid cut to the clusters the
// device holds at once, so that every cluster is resident and none waits for another to finish.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <tuple>
#include <utility>

#include "cuda/cuda_check.cuh"
#include "plan.hpp"

namespace convt1d::detail {

// A launch of `grid` blocks in clusters of `cluster` along x; `attribute` (the cluster shape) must
// outlive the returned configuration.
inline cudaLaunchConfig_t cluster_config(int64_t grid, int cluster, int threads, int64_t smem, cudaStream_t stream,
                                         cudaLaunchAttribute& attribute) {
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(static_cast<unsigned>(grid));
  config.blockDim = dim3(static_cast<unsigned>(threads));
  config.dynamicSmemBytes = static_cast<size_t>(smem);
  config.stream = stream;
  attribute = cudaLaunchAttribute{};
  attribute.id = cudaLaunchAttributeClusterDimension;
  attribute.val.clusterDim.x = static_cast<unsigned>(cluster);
  attribute.val.clusterDim.y = 1;
  attribute.val.clusterDim.z = 1;
  config.attrs = &attribute;
  config.numAttrs = 1;
  return config;
}

// How many clusters of `cluster` CTAs of kKernel (`threads` threads, `smem` dynamic shared memory, its
// opt-in already made) `device` holds at once. Remembered per (device, smem, cluster): the occupancy
// query costs microseconds, and launches are per call.
template <auto kKernel>
int64_t resident_clusters(int device, int cluster, int threads, int64_t smem, const char* what) {
  static std::mutex mutex;
  static std::map<std::tuple<int, int64_t, int>, int64_t> known;
  std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_tuple(device, smem, cluster);
  if (auto it = known.find(key); it != known.end()) return it->second;
  cudaLaunchAttribute attribute{};
  const cudaLaunchConfig_t config = cluster_config(cluster, cluster, threads, smem, nullptr, attribute);
  int count = 0;
  cuda_check(cudaOccupancyMaxActiveClusters(&count, kKernel, &config), what);
  if (count < 1) fail(CONVT1D_UNSUPPORTED, std::string(what) + ": not one cluster of " + std::to_string(cluster) +
                                              " blocks fits on the device");
  known.emplace(key, count);
  return count;
}

// kKernel<<<grid, threads, smem, stream>>>(args...) in clusters of `cluster` CTAs along x, the grid cut
// to resident clusters (resident_cluster_grid). The kernel must step through its work by gridDim.
template <auto kKernel, class... Args>
void launch_clusters(int64_t grid, int cluster, int threads, int64_t smem, cudaStream_t stream, int device,
                     const char* what, Args&&... args) {
  const int64_t resident = resident_clusters<kKernel>(device, cluster, threads, smem, what);
  cudaLaunchAttribute attribute{};
  const cudaLaunchConfig_t config =
      cluster_config(resident_cluster_grid(grid, cluster, resident), cluster, threads, smem, stream, attribute);
  cuda_check(cudaLaunchKernelEx(&config, kKernel, std::forward<Args>(args)...), what);
}

}  // namespace convt1d::detail

// GPU timing with CUDA events. Each repeat first overwrites a buffer twice the L2 size (outside the
// timed interval) so no run finds the previous run's data in L2; that write also keeps the GPU busy
// while the host enqueues the timed launch, so host-side overhead below ~30 us does not leak into the
// measurement. Built only with CUDA.
#pragma once

#include <cstddef>
#include <functional>

#include "bench/metrics.hpp"
#include "gpu_buffer.hpp"

namespace convt1d::bench {

class L2Flusher {
 public:
  explicit L2Flusher(std::size_t l2_bytes);
  void enqueue();  // on the legacy default stream, like every launch the benchmark times

 private:
  tools::GpuBuffer buffer_;
  unsigned char next_ = 0;
};

// Runs `launch` warmup times, then `repeats` timed times (each after a flush); throws
// std::runtime_error on any CUDA error. Returns milliseconds per run.
Stats time_on_gpu(const std::function<void()>& launch, int warmup, int repeats, L2Flusher* flusher);

// Throws std::runtime_error("<what>: <CUDA error>") unless err is cudaSuccess (int to keep CUDA
// types out of this header).
void cuda_ok(int err, const char* what);

}  // namespace convt1d::bench

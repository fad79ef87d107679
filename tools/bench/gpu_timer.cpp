#include "bench/gpu_timer.hpp"

#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace convt1d::bench {

void cuda_ok(int err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(static_cast<cudaError_t>(err)));
  }
}

L2Flusher::L2Flusher(std::size_t l2_bytes) : buffer_(std::max<std::size_t>(2 * l2_bytes, 8u << 20)) {}

void L2Flusher::enqueue() {
  // A different byte each time, so no layer can skip the write as a no-op.
  cuda_ok(cudaMemsetAsync(buffer_.get(), ++next_, buffer_.bytes(), nullptr), "L2 flush (cudaMemsetAsync)");
}

Stats time_on_gpu(const std::function<void()>& launch, int warmup, int repeats, L2Flusher* flusher) {
  for (int i = 0; i < warmup; ++i) launch();
  cuda_ok(cudaDeviceSynchronize(), "warm-up");

  std::vector<cudaEvent_t> events(2 * static_cast<std::size_t>(repeats));
  for (cudaEvent_t& e : events) cuda_ok(cudaEventCreate(&e), "cudaEventCreate");
  std::vector<double> ms(static_cast<std::size_t>(repeats));
  std::string error;
  try {
    for (int i = 0; i < repeats; ++i) {
      if (flusher) flusher->enqueue();
      cuda_ok(cudaEventRecord(events[2 * i], nullptr), "cudaEventRecord");
      launch();
      cuda_ok(cudaEventRecord(events[2 * i + 1], nullptr), "cudaEventRecord");
    }
    cuda_ok(cudaDeviceSynchronize(), "timed runs");
    for (int i = 0; i < repeats; ++i) {
      float t = 0;
      cuda_ok(cudaEventElapsedTime(&t, events[2 * i], events[2 * i + 1]), "cudaEventElapsedTime");
      ms[i] = t;
    }
  } catch (const std::exception& e) {
    error = e.what();
  }
  for (cudaEvent_t e : events) cudaEventDestroy(e);
  if (!error.empty()) throw std::runtime_error(error);
  return summarize(ms);
}

}  // namespace convt1d::bench

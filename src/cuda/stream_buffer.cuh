// A stream-ordered workspace (cudaMallocAsync: pool-cached, CUDA-graph capturable) that goes back to
// the pool in stream order after the launches that use it.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "cuda/cuda_check.cuh"

namespace convt1d::detail {

class StreamBuffer {
 public:
  StreamBuffer(size_t bytes, cudaStream_t stream, const char* what) : stream_(stream), what_(what) {
    cuda_check(cudaMallocAsync(&ptr_, bytes, stream_), what_);
  }
  ~StreamBuffer() {  // on the error path only (release() has freed it otherwise): nothing to report to
    if (ptr_) (void)cudaFreeAsync(ptr_, stream_);
  }
  // After the last launch that reads it.
  void release() {
    void* p = ptr_;
    ptr_ = nullptr;
    if (p) cuda_check(cudaFreeAsync(p, stream_), what_);
  }
  StreamBuffer(const StreamBuffer&) = delete;
  StreamBuffer& operator=(const StreamBuffer&) = delete;
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }

 private:
  cudaStream_t stream_;
  const char* what_;
  void* ptr_ = nullptr;
};

}  // namespace convt1d::detail

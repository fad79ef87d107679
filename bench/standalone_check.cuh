// CHECK(call) for the standalone measurement programs in bench/ (built by one nvcc command each, outside
// the library): a failing CUDA call prints itself and its error, and the program exits.
#pragma once

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#define CHECK(call)                                                                   \
  do {                                                                                \
    cudaError_t e_ = (call);                                                          \
    if (e_ != cudaSuccess) {                                                          \
      std::printf("%s failed: %s\n", #call, cudaGetErrorString(e_));                  \
      std::exit(1);                                                                   \
    }                                                                                 \
  } while (0)
